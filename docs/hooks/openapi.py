"""MkDocs hook: the API reference is rendered from the schema the code serves.

At build time it runs `manage.py spectacular` (the same generator as `/api/v1/schema/`), adds
the schema to the site as `api/openapi.json` with a ReDoc page (`api/redoc.html`, drf-spectacular-
sidecar's bundled ReDoc: no CDN), and writes the table of operations into `api/reference.md`
where it says `<!-- operations -->`. Nothing of the schema is committed.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
PAGE = "api/reference.md"
MARKER = "<!-- operations -->"
METHODS = ("get", "post", "put", "patch", "delete")
REDOC_JS = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Inventory Service API (ReDoc)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="openapi.json"></redoc><script src="redoc.standalone.js"></script></body></html>
"""
_schema: dict = {}


def _generate() -> dict:
    env = {**os.environ, "DEBUG": "true"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # The schema reads no row; settings only need a database URL to parse.
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/inventory")
    done = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--format", "openapi-json", "--validate", "--fail-on-warn"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise PluginError(f"manage.py spectacular failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def on_pre_build(config) -> None:
    _schema.clear()
    _schema.update(_generate())


def on_files(files, config):
    import drf_spectacular_sidecar

    static = Path(drf_spectacular_sidecar.__file__).parent / "static" / "drf_spectacular_sidecar"
    files.append(File.generated(config, "api/openapi.json", content=json.dumps(_schema, indent=1)))
    files.append(File.generated(config, "api/redoc.html", content=REDOC_PAGE))
    files.append(File.generated(config, "api/redoc.standalone.js", abs_src_path=str(static.parent / REDOC_JS)))
    return files


def _cell(text: str) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def operations_table() -> str:
    """One table per tag: method, path, operation id and what it does, in the schema's order."""
    by_tag: dict[str, list[str]] = {}
    for path, item in _schema["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            summary = operation.get("summary") or operation.get("description", "").split("\n")[0]
            row = f"| `{method.upper()}` | `{path}` | `{operation['operationId']}` | {_cell(summary)} |"
            by_tag.setdefault((operation.get("tags") or ["other"])[0], []).append(row)
    parts = [
        f"Generated from the schema of version {_schema['info']['version']}: "
        f"{sum(map(len, by_tag.values()))} operations, {len(_schema['components']['schemas'])} schemas."
    ]
    for tag, rows in by_tag.items():
        parts += [f"\n### {tag}\n", "| method | path | operation | what it does |", "| --- | --- | --- | --- |", *rows]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"{PAGE} lost its {MARKER} line")
    return markdown.replace(MARKER, operations_table())
