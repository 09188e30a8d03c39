"""The docs test's reading of the pages (tests/docs_examples.py): a wrong status, a field the
answer does not hold, a header or an output that differs is reported, not passed over."""

import json
import subprocess

import pytest

from tests.docs_examples import CURL_WRAPPER, Call, check_calls, logical_lines, matches, nav_pages, parse


@pytest.mark.parametrize(
    ("shown", "actual", "expected"),
    [
        ({"a": 1}, {"a": 1, "b": 2}, True),
        ({"a": 1}, {"a": 2}, False),
        ({"a": {"b": [1, 2]}}, {"a": {"b": [1, 2], "c": 0}}, True),
        ([{"x": 1}], [{"x": 1}, {"x": 2}], False),
        ([{"x": 1}, "..."], [{"x": 1}, {"x": 2}], True),
        ([{"x": 2}, "..."], [{"x": 1}, {"x": 2}], False),
        ({"secret": "whsec_..."}, {"secret": "whsec_abc"}, True),
        ({"secret": "whsec_..."}, {"secret": "sk_abc"}, False),
        ({"flag": False}, {"flag": 0}, False),
        ({"missing": None}, {}, False),
    ],
)
def test_shown_fields_are_a_subset_of_the_answer(shown, actual, expected):
    assert matches(shown, actual) is expected


def test_every_page_parses_and_every_curl_call_shows_its_status():
    script, calls = parse(nav_pages())
    assert len(calls) >= 80
    assert sum(1 for call in calls if call.body) >= 60
    for call in calls:
        call.shown_body()  # raises when a shown answer is not JSON
    assert "# --- api/stock.md, block 1" in script


def test_continuations_and_here_documents_are_one_line():
    lines = logical_lines("curl -s \\\n  -d '{}'   # 201\ncat <<'EOF'   # prints: x\nx\nEOF\necho done")
    assert lines == ["curl -s  -d '{}'   # 201", "cat <<'EOF'   # prints: x\nx\nEOF", "echo done"]


def test_a_wrong_status_field_or_header_is_reported(tmp_path):
    calls = [
        Call("a.md, block 1", "curl one", 201, ['{"data": {"on_hand": 40}}']),
        Call("a.md, block 1", "curl two", 200, [], {"ETag": '"1"'}),
        Call("a.md, block 1", "curl three", 409),
        Call("a.md, block 1", "curl four", 200),
    ]
    answers = [
        (201, json.dumps({"data": {"on_hand": 41}})),
        (200, 'HTTP/1.1 200 OK\r\nETag: "2"\r\n\r\n{}'),
        (400, "{}"),
    ]
    for number, (status, body) in enumerate(answers, 1):
        (tmp_path / f"{number}.status").write_text(str(status))
        (tmp_path / f"{number}.out").write_text(body)
    problems = check_calls(calls, tmp_path)
    assert len(problems) == 4, problems
    assert "the docs show" in problems[0] and "ETag" in problems[1] and "answered 400" in problems[2]
    assert problems[3].startswith("a.md, block 1: not reached: curl four")


def test_printed_output_is_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(
        "tests.docs_examples.bash_blocks",
        lambda page: ["echo hello   # prints: hello\n", "echo hello   # prints: bye\n"],
    )
    script, calls = parse(["x.md"])
    (tmp_path / "count").write_text("0")
    done = subprocess.run(
        ["bash", "-c", CURL_WRAPPER + script],
        capture_output=True,
        text=True,
        env={"DOCS_LOG": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 3 and calls == []
    assert "x.md, block 2: expected the output to contain 'bye', it was: hello" in done.stderr
