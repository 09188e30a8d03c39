"""Admin imports and exports over `ADMIN_SYNC_IMPORT_ROWS` rows: queued as an `AdminJob`, run by
a real Celery worker process (Redis, this checkout's key prefix) on the test database."""

import csv
import io
import time
from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections, transaction
from django.urls import reverse

from catalog import services
from catalog.models import SKU
from events.models import Event
from inventory_site.jobs.models import AdminJob
from inventory_site.jobs.progress import ProgressWriter
from tests.conftest import grant
from tests.events.receiver import wait_for
from tests.events.worker import Worker, purge_broker
from tests.factories import UserFactory
from tests.reliability.server import database_url
from tests.reliability.world import row_counts

THRESHOLD = 5  # both sides: this process's settings and the worker's environment
SKU_HEADER = "sku_code,category_path,product,price,attributes\n"


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture
def small_threshold(settings, media_root):
    settings.ADMIN_SYNC_IMPORT_ROWS = THRESHOLD
    settings.MEDIA_ROOT = str(media_root)


@pytest.fixture
def worker(transactional_db, small_threshold, media_root):
    """A worker process with the same threshold and file storage as the test; the tests that use
    it are transactional (it sees only committed rows). One per test: a transactional test's
    flush gives the content types new ids, which a worker kept from an earlier test has cached."""
    purge_broker()
    with Worker(
        database_url=database_url(), concurrency=2, ADMIN_SYNC_IMPORT_ROWS=str(THRESHOLD), MEDIA_ROOT=str(media_root)
    ) as w:
        yield w
    purge_broker()


def upload(client, model, text: str, name="big.csv"):
    return client.post(
        reverse(f"admin:catalog_{model}_import"),
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile(name, text.encode()),
        },
    )


def sku_rows(codes, price="10.00") -> str:
    return SKU_HEADER + "".join(f"{code},Electronics/Phones,Phone X,{price},\n" for code in codes)


def wait_finished(client, job: AdminJob, worker, timeout: float = 60) -> dict:
    url = reverse("admin:inventory_site_adminjob_status", args=[job.pk])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = client.get(url).json()
        if data["finished"]:
            return data
        time.sleep(0.2)
    raise AssertionError(f"job {job.pk} did not finish: {client.get(url).json()}\n{worker.output()}")


def queued_job(response) -> AdminJob:
    job = AdminJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:inventory_site_adminjob_change", args=[job.pk])
    return job


def page(client, job) -> str:
    return client.get(reverse("admin:inventory_site_adminjob_change", args=[job.pk])).content.decode()


# --- imports --------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_import_over_the_threshold_is_queued_and_the_worker_imports_it(worker, staff_client, staff, catalog):
    codes = [f"BG-{i}" for i in range(8)]
    response = upload(staff_client, "sku", sku_rows(codes))
    job = queued_job(response)
    assert (job.kind, job.model_label, job.rows_total, job.user) == ("import", "catalog.sku", 8, staff)
    queued_page = staff_client.get(response["Location"]).content.decode()
    assert "The import of big.csv (8 rows) is queued and runs in the background" in queued_page
    assert "this page updates by itself" in queued_page or "Import finished" in queued_page

    status = wait_finished(staff_client, job, worker)
    assert status == {
        "status": "succeeded",
        "finished": True,
        "rows_done": 8,
        "rows_total": 8,
        "percent": 100,
        "summary": "Import finished: 8 new, 0 updated, 0 deleted and 0 skipped SKUs.",
    }, worker.output()
    body = page(staff_client, job)
    assert "Import finished: 8 new, 0 updated, 0 deleted and 0 skipped SKUs." in body
    assert 'value="100"' in body and "8 of 8 rows (100%)" in body
    assert sorted(SKU.objects.filter(sku_code__startswith="BG-").values_list("sku_code", flat=True)) == codes
    assert all(
        price == Decimal("10.00") for price in SKU.objects.filter(sku_code__in=codes).values_list("price", flat=True)
    )


@pytest.mark.slow
def test_the_background_import_writes_the_same_history_events_and_log_as_the_request_one(
    worker, staff_client, staff, catalog
):
    # Below the threshold: preview and confirm in the request.
    preview = upload(
        staff_client, "sku", sku_rows(["SYNC-1", "SYNC-2"]) + "PHONE-X-RED,Electronics/Phones,Phone X,450.00,\n"
    )
    form = preview.context["confirm_form"]
    staff_client.post(reverse("admin:catalog_sku_process_import"), {**form.initial, "resource": "0"})
    # Over it: the worker. Two new SKUs and an update of an existing one, like the request's file.
    rows = sku_rows(["BG-1", "BG-2", "BG-3", "BG-4", "BG-5"]) + "PHONE-X-BLUE,Electronics/Phones,Phone X,450.00,\n"
    job = queued_job(upload(staff_client, "sku", rows))
    assert wait_finished(staff_client, job, worker)["status"] == "succeeded", worker.output()

    def trail(code: str) -> tuple:
        sku = SKU.objects.get(sku_code=code)
        history = [(h.history_type, h.history_user_id, str(h.price)) for h in sku.history.order_by("history_id")]
        events = list(Event.objects.filter(aggregate=f"sku:{sku.pk}").order_by("pk").values_list("type", flat=True))
        log = list(
            LogEntry.objects.filter(object_id=str(sku.pk), content_type__model="sku").values_list(
                "action_flag", "user_id"
            )
        )
        return history, events, log

    created = ([("+", staff.pk, "10.00")], ["catalog.sku.created"], [(ADDITION, staff.pk)])
    assert trail("SYNC-1") == trail("BG-1") == created
    red, blue = trail("PHONE-X-RED"), trail("PHONE-X-BLUE")
    assert red[0][-1] == blue[0][-1] == ("~", staff.pk, "450.00")
    assert red[1][-1] == blue[1][-1] == "catalog.sku.updated"
    assert red[2] == blue[2] == [(CHANGE, staff.pk)]


@pytest.mark.slow
def test_one_bad_row_imports_nothing_and_the_job_page_shows_its_error(worker, staff_client, catalog):
    text = (
        sku_rows([f"BG-{i}" for i in range(6)])
        + "PHONE-X-RED,Electronics/Phones,Phone X,1.00,\n"  # an update, rolled back with the rest
        + "BG-BAD,Electronics/Phones,Phone X,not-a-price,\n"
    )
    counts = {label: n for label, n in row_counts().items() if not label.startswith("inventory_site.")}
    job = queued_job(upload(staff_client, "sku", text))
    status = wait_finished(staff_client, job, worker)
    assert status["status"] == "failed", worker.output()
    assert status["summary"] == (
        "Nothing was imported: 1 of 8 rows have errors. Correct these rows in your file, then upload it again."
    )
    assert {label: n for label, n in row_counts().items() if not label.startswith("inventory_site.")} == counts
    assert SKU.objects.get(sku_code="PHONE-X-RED").price == Decimal("499.00")
    body = page(staff_client, job)
    rows = body.split('class="row-errors"')[1:]
    assert len(rows) == 1
    assert "<td>8</td>" in body.split('class="row-errors"')[0].rsplit("<tr>", 1)[1]
    assert "price &#x27;not-a-price&#x27; is not a price like 19.90.</li>" in rows[0]
    assert "<td>BG-BAD</td>" in rows[0]


@pytest.mark.slow
def test_a_file_without_the_key_column_fails_with_a_sentence(worker, staff_client, catalog):
    text = "code,price\n" + "".join(f"X-{i},1.00\n" for i in range(7))
    job = queued_job(upload(staff_client, "sku", text))
    status = wait_finished(staff_client, job, worker)
    assert status["status"] == "failed", worker.output()
    assert "Nothing was imported" in status["summary"]
    assert "sku_code" in page(staff_client, job)
    assert not SKU.objects.filter(sku_code__startswith="X-").exists()


# --- exports --------------------------------------------------------------------------------


def _more_skus(catalog, n: int) -> list[str]:
    codes = [f"EX-{i:02d}" for i in range(n)]
    for code in codes:
        services.sku_create(sku_code=code, product_id=catalog["product"].pk, price=Decimal("3.50"))
    return codes


@pytest.mark.slow
def test_an_export_over_the_threshold_is_written_by_the_worker_and_downloaded(worker, staff_client, catalog):
    codes = _more_skus(catalog, 6)
    services.sku_soft_delete(sku_id=SKU.objects.get(sku_code="EX-05").pk)  # the list's default hides it
    response = staff_client.post(
        reverse("admin:catalog_sku_export"),
        {
            "format": "0",
            "resource": "0",
            **{f"skuresource_{f}": "on" for f in ("sku_code", "category_path", "product", "price", "attributes")},
        },
    )
    job = queued_job(response)
    assert (job.kind, job.rows_total) == ("export", 7)
    status = wait_finished(staff_client, job, worker)
    assert status["status"] == "succeeded", worker.output()
    assert status["summary"] == "Export finished: 7 rows, ready to download."
    body = page(staff_client, job)
    assert status["download_url"] in body
    download = staff_client.get(status["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="SKU-')
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["sku_code", "category_path", "product", "price", "attributes"]
    assert sorted(r[0] for r in rows[1:]) == sorted(["PHONE-X-RED", "PHONE-X-BLUE", *codes[:5]])
    assert ["EX-00", "Electronics/Phones", "Phone X", "3.50", "{}"] in rows


@pytest.mark.slow
def test_the_product_export_with_skus_counts_its_rows_in_skus(worker, staff_client, catalog):
    _more_skus(catalog, 4)  # one product, six SKUs: six rows, over the threshold of five
    response = staff_client.post(
        reverse("admin:catalog_product_export"),
        {
            "resource": "1",
            "format": "0",
            **{
                f"productskuexportresource_{name}": "on"
                for name in ("category_path", "product_name", "sku_code", "price")
            },
        },
    )
    job = queued_job(response)
    status = wait_finished(staff_client, job, worker)
    assert status["status"] == "succeeded", worker.output()
    text = b"".join(staff_client.get(status["download_url"]).streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6 and {r["product_name"] for r in rows} == {"Phone X"}
    assert list(rows[0]) == ["category_path", "product_name", "sku_code", "price"]


# --- below the threshold, permissions, progress -----------------------------------------------


def test_below_the_threshold_the_import_and_export_stay_in_the_request(staff_client, catalog, small_threshold):
    preview = upload(staff_client, "sku", sku_rows(["SMALL-1", "SMALL-2", "SMALL-3"]))
    assert preview.status_code == 200 and preview.context["confirm_form"] is not None
    assert preview.context["result"].totals["new"] == 3
    export = staff_client.post(
        reverse("admin:catalog_sku_export"), {"format": "0", "resource": "0", "skuresource_sku_code": "on"}
    )
    assert export.status_code == 200 and export.content.decode().splitlines()[0] == "sku_code"
    assert not AdminJob.objects.exists()


def test_exactly_the_threshold_stays_in_the_request(staff_client, catalog, small_threshold):
    preview = upload(staff_client, "sku", sku_rows([f"EQ-{i}" for i in range(THRESHOLD)]))
    assert preview.status_code == 200 and preview.context["confirm_form"] is not None
    assert not AdminJob.objects.exists()


@pytest.fixture
def finished_export(staff, small_threshold):
    job = AdminJob.objects.create(
        kind="export",
        model_label="catalog.sku",
        file_format="csv",
        user=staff,
        status="succeeded",
        rows_total=1,
        rows_done=1,
        file_name="SKU.csv",
        summary="Export finished: 1 rows, ready to download.",
    )
    job.file.save("SKU.csv", ContentFile(b"sku_code\nA\n"))
    return job


def _urls(job):
    return [
        reverse(f"admin:inventory_site_adminjob_{name}", args=[job.pk]) for name in ("change", "status", "download")
    ]


def test_only_the_jobs_user_or_a_superuser_sees_it(client, finished_export, staff):
    other = grant(UserFactory(username="clerk", is_staff=True), "catalog.add_sku", "catalog.view_sku")
    client.force_login(other)
    assert [client.get(url).status_code for url in _urls(finished_export)] == [404, 404, 404]
    listed = client.get(reverse("admin:inventory_site_adminjob_changelist"))
    assert listed.status_code == 200 and f"Export #{finished_export.pk} of SKUs" not in listed.content.decode()
    client.force_login(staff)  # the superuser who made it
    assert [client.get(url).status_code for url in _urls(finished_export)] == [200, 200, 200]
    listed = client.get(reverse("admin:inventory_site_adminjob_changelist")).content.decode()
    assert f"Export #{finished_export.pk} of SKUs" in listed


def test_a_user_who_may_no_longer_export_cannot_download(client, finished_export):
    owner = grant(UserFactory(username="merch", is_staff=True), "catalog.view_sku")
    AdminJob.objects.filter(pk=finished_export.pk).update(user=owner)
    client.force_login(owner)
    assert [client.get(url).status_code for url in _urls(finished_export)] == [200, 200, 200]
    owner.user_permissions.clear()
    assert [client.get(url).status_code for url in _urls(finished_export)] == [403, 403, 403]


def test_an_import_needs_the_import_permission_whatever_its_size(client, catalog, small_threshold):
    viewer = grant(UserFactory(username="viewer", is_staff=True), "catalog.view_sku")
    client.force_login(viewer)
    assert upload(client, "sku", sku_rows([f"NO-{i}" for i in range(8)])).status_code == 403
    assert not AdminJob.objects.exists()


def test_jobs_cannot_be_added_changed_or_deleted_in_the_admin(staff_client, finished_export):
    assert staff_client.get(reverse("admin:inventory_site_adminjob_add")).status_code == 403
    assert (
        staff_client.post(reverse("admin:inventory_site_adminjob_delete", args=[finished_export.pk])).status_code == 403
    )


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_jobs_transaction_is_open(staff):
    job = AdminJob.objects.create(
        kind="import", model_label="catalog.sku", file_format="csv", user=staff, status="running", rows_total=100
    )
    reader = connections.create_connection("default")
    try:
        with ProgressWriter(job, interval=60, step=10) as progress, transaction.atomic():
            AdminJob.objects.filter(pk=job.pk).values_list("pk").first()  # the transaction has begun
            progress.advance(9)  # under the step: not written yet
            with reader.cursor() as cursor:
                cursor.execute("SELECT rows_done FROM inventory_site_adminjob WHERE id = %s", [job.pk])
                assert cursor.fetchone() == (0,)
            progress.advance(40)
            with reader.cursor() as cursor:
                cursor.execute("SELECT rows_done FROM inventory_site_adminjob WHERE id = %s", [job.pk])
                assert cursor.fetchone() == (40,)
            transaction.set_rollback(True)  # the import's rollback keeps the progress written
        assert AdminJob.objects.get(pk=job.pk).rows_done == 40
    finally:
        reader.close()


def test_the_job_list_is_for_those_who_may_import_or_export_something(client, db):
    listing = reverse("admin:inventory_site_adminjob_changelist")
    client.force_login(UserFactory(username="nobody", is_staff=True))
    assert client.get(listing).status_code == 403
    client.force_login(grant(UserFactory(username="merch", is_staff=True), "catalog.view_sku"))
    assert client.get(listing).status_code == 200


def _advisory_lock_held(namespace: int, key: int) -> bool:
    """Whether a session holds the two-key advisory lock (a closed connection's backend may
    still be ending, its locks with it)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s"
            " AND objid = %s AND objsubid = 2 AND granted AND database ="
            " (SELECT oid FROM pg_database WHERE datname = current_database()))",
            [namespace, key],
        )
        return cursor.fetchone()[0]


def test_a_job_running_elsewhere_is_not_run_again(staff, catalog, small_threshold):
    """A message delivered again while the first run goes on (the broker thought its worker
    lost) finds the job's lock taken and leaves the job alone."""
    from inventory_site.jobs import runner

    job = AdminJob.objects.create(
        kind="export",
        model_label="catalog.sku",
        file_format="csv",
        user=staff,
        params={"query": "", "post": {"format": ["0"], "resource": ["0"], "skuresource_sku_code": ["on"]}},
    )
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [runner.JOB_LOCK_NAMESPACE, job.pk])
        runner.run(job.pk)
        job.refresh_from_db()
        assert (job.status, job.started_at) == ("queued", None)
    finally:
        other.close()  # its lock goes with it, once the server has ended that session
    wait_for(lambda: not _advisory_lock_held(runner.JOB_LOCK_NAMESPACE, job.pk), timeout=10)
    runner.run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.summary) == ("succeeded", "Export finished: 2 rows, ready to download.")
    with job.file.open("rb") as written:
        lines = written.read().decode().split()
    assert lines[0] == "sku_code" and sorted(lines[1:]) == ["PHONE-X-BLUE", "PHONE-X-RED"]


def test_a_running_jobs_page_refreshes_itself_and_a_finished_one_does_not(staff_client, staff, small_threshold):
    job = AdminJob.objects.create(
        kind="import",
        model_label="catalog.sku",
        file_format="csv",
        user=staff,
        status="running",
        rows_total=200,
        rows_done=50,
        file_name="big.csv",
    )
    body = page(staff_client, job)
    assert 'data-status-url="{}"'.format(reverse("admin:inventory_site_adminjob_status", args=[job.pk])) in body
    assert "admin-ext/job-progress.js" in body and '<meta http-equiv="refresh" content="3">' in body
    assert 'value="25"' in body and "50 of 200 rows (25%)" in body and "Import of SKUs – big.csv" in body
    assert staff_client.get(reverse("admin:inventory_site_adminjob_status", args=[job.pk])).json() == {
        "status": "running",
        "finished": False,
        "rows_done": 50,
        "rows_total": 200,
        "percent": 25,
        "summary": "",
    }
    AdminJob.objects.filter(pk=job.pk).update(status="succeeded", rows_done=200, summary="Import finished: ...")
    body = page(staff_client, job)
    assert "job-progress.js" not in body and 'http-equiv="refresh"' not in body


def test_an_xlsx_upload_over_the_threshold_is_read_and_imported_as_the_request_would(
    staff_client, catalog, small_threshold
):
    """The job's runner in this process (the worker's part without the broker): XLSX cells,
    numbers included, reach the services as the request path gives them."""
    from openpyxl import Workbook

    from inventory_site.jobs import runner

    book = Workbook()
    book.active.append(["sku_code", "category_path", "product", "price", "attributes"])
    for i in range(6):
        book.active.append([f"XL-{i}", "Electronics/Phones", "Phone X", 12.5, '{"size": "M"}'])
    data = io.BytesIO()
    book.save(data)
    response = staff_client.post(
        reverse("admin:catalog_sku_import"),
        {"resource": "0", "format": "1", "import_file": SimpleUploadedFile("big.xlsx", data.getvalue())},
    )
    job = queued_job(response)
    assert (job.file_format, job.rows_total, job.file_name) == ("xlsx", 6, "big.xlsx")
    runner.run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_done) == ("succeeded", 6), job.summary
    assert {
        (s.sku_code, str(s.price), s.attributes["size"]) for s in SKU.objects.filter(sku_code__startswith="XL-")
    } == {(f"XL-{i}", "12.50", "M") for i in range(6)}
