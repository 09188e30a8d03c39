"""The examples of the documentation, as a test reads them (see docs/contributing.md).

Every ```bash block of the pages in `mkdocs.yml`'s nav is run, page after page, as one shell
script in a "second terminal" beside a server started like `make run`. In a block:

- a `curl` call carries its expected status as a trailing comment (`# 201, text`); comment
  lines right after it show what the answer holds: a JSON object (`# {"data": {...}}`, which
  may run over several comment lines) whose fields must be in the body, and headers
  (`# ETag: "1"`);
- any command may end with `# prints: text`: its output must contain `text`.

Fields shown are a subset of the answer: an object matches when each key shown matches, a
list when it has the items shown (a last item "..." allows more), a string ending in "..."
matches any string that starts the same way.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
STATUS = re.compile(r"\s#\s*(\d{3})\b")
PRINTS = re.compile(r"\s#\s*(?:\d{3}\b[^#]*?)?prints: (.+)$")
HEADER = re.compile(r"^#\s+([A-Z][A-Za-z0-9]*(?:-[A-Z][A-Za-z0-9]*)*): (.+)$")
HEREDOC = re.compile(r"<<-?\s*'?(\w+)'?")
ANY = "..."


def nav_pages(nav=None) -> list[str]:
    """The pages of the nav, in its order (paths relative to docs/)."""
    if nav is None:
        nav = yaml.safe_load(ROOT.joinpath("mkdocs.yml").read_text())["nav"]
    pages = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            pages.extend(nav_pages(value))
        elif value.endswith(".md"):
            pages.append(value)
    return pages


def bash_blocks(page: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", DOCS.joinpath(page).read_text(), re.S | re.M)


def logical_lines(block: str) -> list[str]:
    """Lines as the shell reads them: continuations joined, a here-document kept with its command."""
    lines, out, i = block.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        while line.endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line[:-1] + " " + lines[i].strip()
        heredoc = HEREDOC.search(line) if not line.lstrip().startswith("#") else None
        if heredoc:
            while i + 1 < len(lines):
                i += 1
                line += "\n" + lines[i]
                if lines[i].strip() == heredoc.group(1):
                    break
        out.append(line)
        i += 1
    return out


@dataclass
class Call:
    """One `curl` call of the docs and what the docs show of its answer."""

    where: str
    command: str
    status: int
    body: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def shown_body(self):
        try:
            return json.loads(" ".join(self.body)) if self.body else None
        except ValueError as exc:
            raise AssertionError(f"{self.where}: the answer shown after {self.command!r} is not JSON: {exc}") from exc

    def body_complete(self) -> bool:
        try:
            return bool(self.body) and self.shown_body() is not None
        except AssertionError:
            return False


def first_line(line: str) -> str:
    return line.split("\n", 1)[0]


def parse(pages: list[str]) -> tuple[str, list[Call]]:
    """The script to run (with `prints:` checks wired in) and the calls it makes, in order."""
    script, calls = [], []
    for page in pages:
        for number, block in enumerate(bash_blocks(page), 1):
            where = f"{page}, block {number}"
            script.append(f"# --- {where}")
            current = None
            for line in logical_lines(block):
                stripped = line.strip()
                if current is not None and stripped.startswith("#"):
                    if not current.body_complete() and (current.body or stripped.startswith(("# {", "# ["))):
                        current.body.append(stripped[1:].strip())
                        script.append(line)
                        continue
                    header = HEADER.match(stripped)
                    if header:
                        current.headers[header.group(1)] = header.group(2).strip()
                        script.append(line)
                        continue
                if not stripped.startswith("#"):
                    current = None
                if stripped.startswith("#") or not stripped:
                    script.append(line)
                    continue
                head = first_line(line)
                if re.search(r"(^|[\s$(|])curl\s", head):
                    status = STATUS.search(head)
                    assert status, f"{where}: a curl call without its expected status: {head.strip()}"
                    current = Call(where, head.strip(), int(status.group(1)))
                    calls.append(current)
                prints = PRINTS.search(head)
                if prints:
                    command = line.replace(head, head[: prints.start()], 1)
                    expected = prints.group(1).strip()
                    complaint = json.dumps(f"{where}: expected the output to contain {expected!r}, it was:")
                    script.append(
                        f"__out=$({command}\n)\nprintf '%s\\n' \"$__out\"\n"
                        f'[[ "$__out" == *{json.dumps(expected)}* ]] || '
                        f'{{ echo {complaint} "$__out" >&2; exit 3; }}'
                    )
                else:
                    script.append(line)
    return "\n".join(script) + "\n", calls


def matches(shown, actual) -> bool:
    """Whether what the docs show is in the answer (see the module docstring)."""
    if isinstance(shown, dict):
        return isinstance(actual, dict) and all(k in actual and matches(v, actual[k]) for k, v in shown.items())
    if isinstance(shown, list):
        if not isinstance(actual, list):
            return False
        if shown and shown[-1] == ANY:
            return len(actual) >= len(shown) - 1 and all(
                matches(s, a) for s, a in zip(shown[:-1], actual, strict=False)
            )
        return len(shown) == len(actual) and all(matches(s, a) for s, a in zip(shown, actual, strict=True))
    if isinstance(shown, str) and shown.endswith(ANY):
        return isinstance(actual, str) and actual.startswith(shown[: -len(ANY)])
    if isinstance(shown, bool) or isinstance(actual, bool):
        return shown is actual
    return shown == actual


def split_answer(raw: str) -> tuple[dict[str, str], str]:
    """Headers (when curl ran with -i) and body of a saved answer."""
    headers = {}
    while raw.startswith("HTTP/"):
        head, _, raw = raw.replace("\r\n", "\n").partition("\n\n")
        for header in head.splitlines()[1:]:
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
    return headers, raw


CURL_WRAPPER = r"""
# The docs' curl, with each answer kept for the test: status and body, in call order.
curl() {
  local n
  n=$(( $(cat "$DOCS_LOG/count") + 1 ))
  echo "$n" > "$DOCS_LOG/count"
  command curl -o "$DOCS_LOG/$n.out" -w '%{http_code}' "$@" > "$DOCS_LOG/$n.status" || return
  cat "$DOCS_LOG/$n.out"
}
trap 'echo "docs example failed (status $?): $BASH_COMMAND" >&2' ERR
set -eo pipefail
"""


def check_calls(calls: list[Call], log: Path) -> list[str]:
    """What differs between the answers the calls got and what the docs show."""
    problems = []
    for number, call in enumerate(calls, 1):
        status_file = log / f"{number}.status"
        if not status_file.exists():
            problems.append(f"{call.where}: not reached: {call.command}")
            break
        status = int(status_file.read_text() or 0)
        headers, body = split_answer((log / f"{number}.out").read_text())
        if status != call.status:
            problems.append(
                f"{call.where}: {call.command}\n  answered {status}, the docs say {call.status}: {body[:800]}"
            )
            continue
        shown = call.shown_body()
        if shown is not None and not matches(shown, json.loads(body)):
            problems.append(
                f"{call.where}: {call.command}\n  the docs show {json.dumps(shown)}\n  the answer: {body[:2000]}"
            )
        for name, value in call.headers.items():
            if headers.get(name.lower()) != value:
                problems.append(
                    f"{call.where}: {call.command}\n  header {name}: {headers.get(name.lower())!r}, "
                    f"the docs show {value!r}"
                )
    return problems
