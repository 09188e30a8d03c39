"""Hostile files against every upload the service takes: each admin upload screen (found in
the admin's URL patterns, its form read from its own page) and `manage.py import_stock_count`.

A file that expands past the limits, one cell of 100 MB, a million rows, a declared dimension
of 16,384 columns, a NUL in a cell: a clear refusal (a form error, a message and a non-zero
exit), a page no larger than a page, nothing written, and, in the live part, a gunicorn worker
and a command process whose peak memory stays under `RSS_LIMIT_MB`.
"""

import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog.models import SKU
from inventory_site.jobs import runner
from inventory_site.jobs.models import AdminJob
from inventory_site.jobs.queue import send
from stock.services.counts import CountLine, StockCountInvalid, stock_count_apply
from tests.admin.test_background_jobs import media_root, small_threshold  # noqa: F401 - fixtures
from tests.admin.test_job_attempt_cap import prefork_worker  # noqa: F401 - a fixture
from tests.factories import UserFactory
from tests.reliability import hostile_files
from tests.reliability.server import BASE_DIR, AppServer, admin_session, database_url, production_env
from tests.reliability.world import fingerprint

RSS_LIMIT_MB = 300
SECONDS_LIMIT = 20
PAGE_LIMIT = 512 * 1024  # a refusal or a preview is a page, never the file sent back
REFUSAL = re.compile(r"errornote|errorlist", re.I)


@pytest.fixture(scope="session")
def files(tmp_path_factory) -> dict[str, Path]:
    """The hostile files, built once (a few seconds) into a folder of the session."""
    folder = tmp_path_factory.mktemp("hostile-files")
    built = {
        "expands_300mb.xlsx": hostile_files.expanding_sheet(300),
        "cell_100mb.xlsx": hostile_files.huge_cell(100),
        "million_rows.xlsx": hostile_files.million_rows(),
        "million_rows.csv": hostile_files.million_rows_csv(),
        "wide_dimension.xlsx": hostile_files.wide_dimension(),
        "nul.csv": hostile_files.nul_cell_csv(),
        "cell_100mb.csv": b"sku_code,counted,change\n" + b"x" * (100 * 1024 * 1024) + b",1,1\n",
    }
    for name, content in built.items():
        (folder / name).write_bytes(content)
    return {name: folder / name for name in built}


# Files that must be refused wherever they are sent (the wide sheet is two lines and may pass).
REFUSED = ("expands_300mb.xlsx", "cell_100mb.xlsx", "million_rows.xlsx", "million_rows.csv", "nul.csv")
SENT = (*REFUSED, "wide_dimension.xlsx")


def upload_screens() -> list[str]:
    """Every admin screen that takes a file: django-import-export's imports, the stock sheets."""
    names = []
    for pattern in admin.site.get_urls():
        for sub in getattr(pattern, "url_patterns", []):
            name = getattr(sub, "name", None) or ""
            if name.endswith(("_import", "_upload")) and not name.endswith("_process_import"):
                names.append(name)  # (process_import is the confirm step: it takes no file)
    return names


SCREENS = upload_screens()


class _FormReader(HTMLParser):
    """The fields of a page's multipart form, with their initial values (first option, checked radio)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self.file_field: str | None = None
        self.options: dict[str, list[tuple[str, str]]] = {}
        self._select = None
        self._option = None
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "multipart" in (a.get("enctype") or ""):
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "file":
                self.file_field = a["name"]
            elif kind in ("radio", "checkbox"):
                if "checked" in a or a["name"] not in self.fields:
                    self.fields[a["name"]] = a.get("value", "on")
            elif kind != "submit":
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
            self.options[self._select] = []
        elif tag == "option" and self._select:
            self._option = a.get("value", "")
            if "selected" in a or self._select not in self.fields:
                self.fields[self._select] = self._option

    def handle_data(self, data):
        if self._select and self._option is not None:
            self.options[self._select].append((self._option, data.strip()))
            self._option = None

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "form":
            self._in_form = False


def form_of(page: str, file_name: str) -> tuple[dict, str]:
    """The screen's form filled with its defaults, the format matching the file, and its file field."""
    reader = _FormReader()
    reader.feed(page)
    assert reader.file_field, f"the upload screen has no file input: {page[:3000]}"
    fields = dict(reader.fields)
    extension = file_name.rsplit(".", 1)[-1].lower()
    for name, options in reader.options.items():
        if name == "format":
            fields[name] = next(value for value, label in options if label.lower() == extension)
    return fields, reader.file_field


def test_the_admin_has_upload_screens():
    assert "stock_stocklevel_upload" in SCREENS and "catalog_sku_import" in SCREENS


@pytest.mark.django_db
@pytest.mark.parametrize("screen", SCREENS)
def test_every_upload_screen_refuses_hostile_files(admin_client, files, screen):
    """Through the test client: a form error naming the limit, a page-sized page, nothing written.
    A file too large to read in the request goes to the worker unread: its job (run here) must
    fail with the refusal before any row is imported."""
    url = reverse(f"admin:{screen}")
    page = admin_client.get(url).content.decode()
    before = fingerprint()
    failures = []
    for name in SENT:
        fields, file_field = form_of(page, name)
        started = time.monotonic()
        response = admin_client.post(url, {**fields, file_field: SimpleUploadedFile(name, files[name].read_bytes())})
        took = time.monotonic() - started
        body = response.content.decode(errors="replace")
        job = AdminJob.objects.order_by("-pk").first()
        if (
            response.status_code == 302
            and job
            and response.url == reverse("admin:inventory_site_adminjob_change", args=[job.pk])
        ):
            runner.run(job.pk)
            job.refresh_from_db()
            if job.status != AdminJob.Status.FAILED or not job.summary.startswith("Nothing was imported: The file"):
                failures.append(f"{name}: the job ended {job.status}: {job.summary}")
            job.file.delete()
            job.delete()
            body = "errornote"  # the job's page says it
        elif response.status_code != 200:
            failures.append(f"{name}: {response.status_code}")
        if len(response.content) > PAGE_LIMIT:
            failures.append(f"{name}: a page of {len(response.content):,} bytes")
        if took > SECONDS_LIMIT:
            failures.append(f"{name}: {took:.1f}s")
        if name in REFUSED and not REFUSAL.search(body):
            failures.append(f"{name}: no refusal on the page")
        if fingerprint() != before:
            failures.append(f"{name}: rows changed")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("nul.csv", "NUL"),
        ("million_rows.csv", "more than 200,000 rows"),
        ("cell_100mb.csv", "larger than 64 MB"),
    ],
)
def test_the_count_command_refuses_hostile_files(files, name, says):
    before = fingerprint()
    with pytest.raises(CommandError) as refused:
        call_command("import_stock_count", str(files[name]), stdout=open(os.devnull, "w"))
    assert says in str(refused.value)
    assert fingerprint() == before


@pytest.mark.django_db
def test_the_count_service_names_a_line_with_a_nul():
    with pytest.raises(StockCountInvalid) as refused:
        stock_count_apply(lines=[CountLine(line=2, sku_code="A\x00B", counted="1")])
    assert refused.value.errors == {"line 2": "holds a NUL character"}


# --- the real processes: a gunicorn worker and the command, their peak memory --------------


def _peak_rss_mb(pid: int) -> float:
    """VmHWM: the most memory the process ever had resident."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for {pid}")


def _children(pid: int) -> list[int]:
    return [
        int(child) for task in Path(f"/proc/{pid}/task").iterdir() for child in (task / "children").read_text().split()
    ]


@pytest.fixture(scope="module")
def upload_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn with the production settings (static files collected), one worker, and a
    logged-in superuser's session."""
    static_root = tmp_path_factory.mktemp("static")
    with django_db_blocker.unblock():
        url = database_url()
        user = UserFactory(username="hostile-root", is_superuser=True, is_staff=True)
        # The server checks passwords with the production hashers, not the tests' fast one.
        user.password = PBKDF2PasswordHasher().encode("pw-hostile-123", "hostilesalt")
        user.save()
    env = production_env(STATIC_ROOT=str(static_root), DATABASE_URL=url)
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    # Plain HTTP here: the cookies may not be marked secure or the client would not send them.
    with AppServer(
        database_url=url,
        workers=1,
        STATIC_ROOT=str(static_root),
        RATE_LIMIT_REQUESTS_PER_MINUTE="0",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
    ) as server:
        server.browser = admin_session(server, username="hostile-root", password="pw-hostile-123")
        yield server
        server.browser.close()
    with django_db_blocker.unblock():
        user.delete()


MEASURED: dict[str, tuple[float, float]] = {}


@pytest.mark.slow
@pytest.mark.parametrize("screen", ["stock_stocklevel_upload", "catalog_sku_import"])
def test_a_gunicorn_worker_stays_small_and_quick_on_hostile_files(upload_server, files, screen):
    [worker] = _children(upload_server.process.pid)
    browser = upload_server.browser
    path = reverse(f"admin:{screen}")
    page = browser.get(path)
    assert page.status_code == 200, (page.status_code, page.headers.get("location"), upload_server.output()[-3000:])
    page = page.text
    for name in SENT:
        fields, file_field = form_of(page, name)
        fields["csrfmiddlewaretoken"] = browser.cookies["csrftoken"]
        started = time.monotonic()
        with files[name].open("rb") as handle:
            response = browser.post(
                path, data=fields, files={file_field: (name, handle)}, headers={"Referer": upload_server.url + path}
            )
        took = time.monotonic() - started
        peak = _peak_rss_mb(worker)
        MEASURED[f"{screen} {name}"] = (peak, took)
        print(
            f"{screen} {name}: {response.status_code}, {len(response.content):,} bytes, {took:.2f}s, "
            f"worker peak RSS {peak:.0f} MB"
        )
        assert len(response.content) <= PAGE_LIMIT
        assert took < SECONDS_LIMIT
        assert peak < RSS_LIMIT_MB, f"{name}: worker peak RSS {peak:.0f} MB"
        if response.status_code == 302:  # too large to read in a request: a job, the file unread
            assert "/admin/inventory_site/adminjob/" in response.headers["location"]
            continue
        assert response.status_code == 200
        if name in REFUSED:
            assert REFUSAL.search(response.text), f"{name}: no refusal on the page"
    assert _children(upload_server.process.pid) == [worker]  # the same worker took them all


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["million_rows.csv", "cell_100mb.csv", "nul.csv"])
def test_the_count_command_process_stays_small_and_quick(files, name):
    env = production_env(DATABASE_URL=database_url())
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", REPORTS_ITS_PEAK, "import_stock_count", str(files[name])],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.monotonic() - started
    peak = int(re.search(r"VmHWM:\s+(\d+) kB", result.stderr)[1]) / 1024
    MEASURED[f"import_stock_count {name}"] = (peak, took)
    print(f"import_stock_count {name}: exit {result.returncode}, {took:.2f}s, peak RSS {peak:.0f} MB")
    assert result.returncode == 1 and "CommandError" in result.stderr and "Traceback" not in result.stderr
    assert peak < RSS_LIMIT_MB and took < SECONDS_LIMIT


# `manage.py` run in a process that writes its own peak RSS last: the kernel's high-water mark of
# this memory map (VmHWM), not the rusage figure, which keeps the forking test process's.
REPORTS_ITS_PEAK = (
    "import atexit, runpy, sys; atexit.register(lambda: sys.stderr.write(next("
    "line for line in open('/proc/self/status') if line.startswith('VmHWM')))); "
    "sys.argv = ['manage.py', *sys.argv[1:]]; runpy.run_path('manage.py', run_name='__main__')"
)


# --- the Celery worker: the same files handed to it as import jobs ----------------------------

JOB_FORMATS = {"csv": "0", "xlsx": "1"}  # the catalog admins list CSV, then XLSX


@pytest.mark.slow
def test_a_celery_pool_child_stays_small_and_quick_on_hostile_import_jobs(prefork_worker, files, superuser):  # noqa: F811
    """Each file as a job of the SKU import, sent to a real prefork worker as the admin sends one
    (a job need not come through the form's checks): refused before any row, in words, by a pool
    child whose peak RSS stays under the bound."""
    for name in REFUSED:
        job = AdminJob(
            kind=AdminJob.Kind.IMPORT,
            model_label="catalog.sku",
            file_format=name.rsplit(".", 1)[1],
            params={"format": JOB_FORMATS[name.rsplit(".", 1)[1]], "resource": "0"},
            file_name=name,
            user=superuser,
        )
        with files[name].open("rb") as handle:
            job.file.save(name, File(handle))
        started = time.monotonic()
        assert send(job.pk)
        while (job := AdminJob.objects.get(pk=job.pk)).status in ("queued", "running"):
            assert time.monotonic() - started < 120, prefork_worker.log.read_text()[-3000:]
            time.sleep(0.1)
        took = time.monotonic() - started
        [child] = _children(prefork_worker.pid)
        peak = _peak_rss_mb(child)
        MEASURED[f"celery import job {name}"] = (peak, took)
        print(
            f"celery import job {name}: {job.status} after {took:.2f}s, pool child peak RSS {peak:.0f} MB: "
            f"{job.summary[:120]}"
        )
        assert job.status == "failed" and job.summary.startswith("Nothing was imported: "), job.summary
        assert peak < RSS_LIMIT_MB and took < SECONDS_LIMIT
    assert not SKU.objects.filter(sku_code="S").exists()
