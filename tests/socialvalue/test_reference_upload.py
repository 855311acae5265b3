"""The admin's "Load reference data" page, and reclassification after every load."""

from __future__ import annotations

import html
import io
import zipfile
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.move import file_move_safe
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from procure.models import Supplier
from socialvalue import tasks
from socialvalue.models import (
    LivingWageSnapshot,
    Postcode,
    ReferenceKind,
    ReferenceLoad,
    SupplierTag,
)
from socialvalue.reference import keep_reference_file, kept_path, load_and_classify
from socialvalue.tagging import classify_suppliers
from socialvalue.tasks import run_load

SAMPLES = Path(settings.BASE_DIR) / "fixtures" / "reference"
COMPANIES = SAMPLES / "companies_house_basic_company_data_sample.csv"
CHARITIES = SAMPLES / "charity_commission_publicextract_charity_sample.txt"
LIVING_WAGE = SAMPLES / "living_wage_employers_sample.csv"
ONSPD = SAMPLES / "onspd_sample.csv"
NSPL = SAMPLES / "nspl_sample.csv"

LOAD_URL = "admin:socialvalue_referenceload_load"


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(
        "root", "root@example.org", "a-long-password-1"
    )


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def suppliers(council, make_supplier, make_line):
    """Suppliers the samples name, classified before any reference data is loaded;
    each is paid by Luton, so it has a locality tag too."""
    made = {
        "wardown": make_supplier(name="Wardown Plumbing Ltd", postcode="LU2 7AB"),
        "acme": make_supplier(name="Acme Office Supplies Limited"),
        "hightown": make_supplier(name="Hightown Youth Trust"),
        "foodbank": make_supplier(name="Luton Foodbank", postcode="LU1 2EY"),
        "chiltern": make_supplier(name="Chiltern Cleaning Services"),
        "elsewhere": make_supplier(name="Nobody Listed Ltd"),
    }
    for supplier in made.values():
        make_line(council, supplier=supplier)
    classify_suppliers()
    return made


def _tag(supplier: Supplier, kind: str, council=None) -> SupplierTag:
    return SupplierTag.objects.get(supplier=supplier, kind=kind, council=council)


def _upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def _post(client, kind: str, file, **extra):
    return client.post(
        reverse(LOAD_URL), {"kind": kind, "file": file, **extra}, follow=True
    )


def _kept_files() -> list[Path]:
    folder = Path(settings.UPLOAD_ROOT) / "reference"
    return list(folder.iterdir()) if folder.exists() else []


# ==================================================================== who may


def test_anonymous_users_are_sent_to_sign_in(client, db):
    response = client.get(reverse(LOAD_URL))

    assert response.status_code == 302
    assert "login" in response.url


def test_a_council_administrator_who_is_not_staff_is_sent_to_the_admin_login(
    client, council_admin
):
    client.force_login(council_admin)

    response = client.get(reverse(LOAD_URL))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_staff_who_are_not_superusers_are_refused(client, db):
    staff = get_user_model().objects.create_user(
        "staff", password="a-long-password-1", is_staff=True
    )
    client.force_login(staff)
    login = reverse("admin:login")

    # The admin is for superusers only (tests/test_security.py): sent to sign in.
    assert client.get(reverse(LOAD_URL)).url.startswith(login)
    response = client.post(
        reverse(LOAD_URL),
        {"kind": "postcodes", "file": _upload(ONSPD)},
    )
    assert response.status_code == 302
    assert response.url.startswith(login)
    assert not ReferenceLoad.objects.exists()
    assert not Postcode.objects.exists()
    changelist = reverse("admin:socialvalue_referenceload_changelist")
    assert client.get(changelist).url.startswith(login)
    assert client.get(reverse("admin:index")).url.startswith(login)


def test_the_admin_index_and_the_load_log_link_to_the_page(superuser_client):
    index = superuser_client.get(reverse("admin:index"))
    changelist = superuser_client.get(
        reverse("admin:socialvalue_referenceload_changelist")
    )

    for response in (index, changelist):
        assert response.status_code == 200
        assert reverse(LOAD_URL) in response.text
        assert "Load reference data" in response.text


def test_the_page_offers_each_kind_of_file(superuser_client):
    response = superuser_client.get(reverse(LOAD_URL))

    assert response.status_code == 200
    assert "<title>Load reference data" in response.text
    for kind in ReferenceKind:
        assert f'value="{kind.value}"' in response.text
    assert 'type="date"' in response.text
    assert 'enctype="multipart/form-data"' in response.text


# ========================================================== each sample file


def test_the_living_wage_list_loads_and_its_suppliers_become_living_wage(
    superuser_client, superuser, suppliers
):
    assert _tag(suppliers["wardown"], "living_wage").value == "unknown"

    response = _post(
        superuser_client, "living_wage", _upload(LIVING_WAGE), taken_on="2025-04-01"
    )

    assert response.status_code == 200
    load = ReferenceLoad.objects.get()
    assert (load.status, load.kind, load.file_name) == (
        "done",
        "living_wage",
        "living_wage_employers_sample.csv",
    )
    assert (load.taken_on, load.uploaded_by) == (date(2025, 4, 1), superuser)
    assert load.size == LIVING_WAGE.stat().st_size
    assert load.started_at and load.finished_at
    snapshot = LivingWageSnapshot.objects.get()
    assert snapshot.taken_on == date(2025, 4, 1)
    assert snapshot.file_name == "living_wage_employers_sample.csv"  # not the kept name
    assert snapshot.employers.count() == 7
    # Every supplier was classified again: the listed ones are now Living Wage.
    for name in ("wardown", "foodbank"):
        tag = _tag(suppliers[name], "living_wage")
        assert (tag.value, tag.source) == ("yes", "accredited_list")
        assert tag.decided_by == superuser
    assert _tag(suppliers["elsewhere"], "living_wage").value == "unknown"
    assert load.report["classified"]["scope"] == "all"
    assert load.report["classified"]["suppliers"] == len(suppliers)
    # The page shows the report: what matched, near matches, rows skipped and why.
    page = response.text
    assert "Suppliers named exactly" in page
    assert "Wardown Plumbing Ltd" in page
    assert "Chiltern Cleaning Services" in page  # a near match to confirm
    assert "Listed twice: 1" in page
    assert "No employer name: 1" in page
    assert "Reclassified all 6 suppliers (the Living Wage list changed)" in page
    assert "living_wage_employers_sample.csv" in page
    assert "loaded." in page  # the message
    assert _kept_files() == []


def test_companies_house_loads_and_the_matched_suppliers_are_reclassified(
    superuser_client, suppliers
):
    assert _tag(suppliers["acme"], "size").value == "unknown"

    response = _post(superuser_client, "companies_house", _upload(COMPANIES))

    load = ReferenceLoad.objects.get()
    assert load.status == "done"
    acme = Supplier.objects.get(pk=suppliers["acme"].pk)
    assert (acme.company_number, acme.accounts_category) == ("07654321", "SMALL")
    wardown = Supplier.objects.get(pk=suppliers["wardown"].pk)
    assert (wardown.company_number, wardown.accounts_category) == (
        "01234567",
        "MICRO ENTITY",
    )
    assert _tag(suppliers["acme"], "size").value == "small"
    assert _tag(suppliers["wardown"], "size").value == "micro"
    # Only the suppliers whose facts changed were classified.
    classified = load.report["classified"]
    assert classified["scope"] == "changed"
    assert classified["suppliers"] == load.report["changes"] < len(suppliers)
    # History says where the change came from, under the name uploaded.
    assert (
        acme.history.first().history_change_reason
        == "Companies House data (companies_house_basic_company_data_sample.csv)"
    )
    page = response.text
    assert "Matched by name" in page
    assert "Acme Office Supplies Limited" in page
    assert "Near matches for an officer to confirm" in page
    assert "Chiltern Cleaning Services" in page
    assert "whose facts changed" in page


def test_the_charity_register_loads_and_the_charity_becomes_vcse(
    superuser_client, suppliers
):
    before = _tag(suppliers["hightown"], "vcse").value

    response = _post(superuser_client, "charities", _upload(CHARITIES))

    load = ReferenceLoad.objects.get()
    assert load.status == "done"
    hightown = Supplier.objects.get(pk=suppliers["hightown"].pk)
    assert (hightown.charity_register, hightown.charity_number) == (
        "GB-CHC",
        "1100001",
    )
    tag = _tag(suppliers["hightown"], "vcse")
    assert tag.value != before
    assert "1100001" in tag.evidence
    assert load.report["classified"]["scope"] == "changed"
    assert "Linked charity (part of a main charity)" in response.text
    assert "Charity Commission register" in response.text


@pytest.mark.parametrize("sample", [ONSPD, NSPL], ids=["onspd", "nspl"])
def test_the_postcode_directory_loads_and_locality_uses_it(
    superuser_client, council, suppliers, sample
):
    before = _tag(suppliers["foodbank"], "locality", council)
    assert "directory" not in before.evidence.lower()

    response = _post(superuser_client, "postcodes", _upload(sample))

    load = ReferenceLoad.objects.get()
    assert load.status == "done"
    assert Postcode.objects.get(postcode="LU1 2EY").authority == "E06000032"
    assert load.rows_read == load.report["counts"][0][1] > 0
    after = _tag(suppliers["foodbank"], "locality", council)
    assert after.value == "local"
    assert "E06000032" in after.evidence
    assert after.evidence != before.evidence
    assert load.report["classified"]["scope"] == "all"
    assert "postcodes added" in response.text.lower()
    assert "the postcode directory changed" in response.text


def test_a_zip_as_downloaded_loads_too(superuser_client, suppliers):
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.write(COMPANIES, "BasicCompanyDataAsOneFile-2025-05-01.csv")
    upload = SimpleUploadedFile("BasicCompanyDataAsOneFile.zip", data.getvalue())

    _post(superuser_client, "companies_house", upload)

    assert ReferenceLoad.objects.get().status == "done"
    assert Supplier.objects.get(pk=suppliers["acme"].pk).company_number == "07654321"


def test_loading_the_same_file_again_changes_and_reclassifies_nothing(
    superuser_client, suppliers
):
    _post(superuser_client, "living_wage", _upload(LIVING_WAGE), taken_on="2025-04-01")
    tags = list(SupplierTag.objects.order_by("pk").values_list())

    response = _post(
        superuser_client, "living_wage", _upload(LIVING_WAGE), taken_on="2025-04-01"
    )

    second = ReferenceLoad.objects.first()
    assert second.status == "done"
    assert second.report["changes"] == 0
    assert second.report["classified"] is None
    assert list(SupplierTag.objects.order_by("pk").values_list()) == tags
    assert "Nothing changed, so no supplier was reclassified." in response.text


def test_a_large_upload_kept_on_disk_by_django_loads_too(
    superuser_client, suppliers, settings, monkeypatch
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # every upload goes to a temporary file
    moved = []

    def move(old, new):
        moved.append(old)
        file_move_safe(old, new)

    monkeypatch.setattr("socialvalue.reference.file_move_safe", move)

    _post(superuser_client, "postcodes", _upload(ONSPD))

    assert len(moved) == 1  # moved into place, not copied

    assert ReferenceLoad.objects.get().status == "done"
    assert Postcode.objects.count() == 14
    assert _kept_files() == []


# ================================================================ bad files


@pytest.mark.parametrize(
    ("kind", "sample", "said"),
    [
        ("companies_house", ONSPD, "the columns CompanyName"),
        ("charities", COMPANIES, "registered_charity_number"),
        ("postcodes", LIVING_WAGE, "pcds"),
    ],
)
def test_a_file_of_the_wrong_kind_fails_with_the_missing_columns(
    superuser_client, suppliers, kind, sample, said
):
    tags = list(SupplierTag.objects.order_by("pk").values_list())

    response = _post(superuser_client, kind, _upload(sample))

    assert response.status_code == 200
    load = ReferenceLoad.objects.get()
    assert load.status == "failed"
    assert load.message.startswith(f'"{sample.name}" was not loaded. This is not ')
    assert said in load.message
    assert load.finished_at is not None
    assert said in response.text
    assert sample.name in response.text
    assert list(SupplierTag.objects.order_by("pk").values_list()) == tags
    assert _kept_files() == []


@pytest.mark.parametrize(
    ("name", "data", "said"),
    [
        (
            "logo.csv",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "binary",
        ),
        ("onspd.zip", b"PK\x03\x04\x14\x00broken", "cannot be read"),
        ("empty.zip", b"PK\x05\x06" + bytes(18), "holds no CSV"),
    ],
)
def test_a_binary_or_broken_file_fails_with_a_clear_message(
    superuser_client, db, name, data, said
):
    response = _post(superuser_client, "postcodes", SimpleUploadedFile(name, data))

    assert response.status_code == 200
    load = ReferenceLoad.objects.get()
    assert load.status == "failed"
    assert load.message.startswith(f'"{name}" was not loaded.')
    assert said in load.message
    assert said in response.text
    assert not Postcode.objects.exists()


def test_an_excel_workbook_is_refused_with_advice(superuser_client, db):
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")

    _post(
        superuser_client,
        "living_wage",
        SimpleUploadedFile("lw.csv", data.getvalue()),
        taken_on="2025-04-01",
    )

    load = ReferenceLoad.objects.get()
    assert load.status == "failed"
    assert "Excel" in load.message
    assert "save the sheet as CSV" in load.message


@pytest.mark.parametrize(
    ("name", "data", "extra", "said"),
    [
        ("nothing.csv", b"", {}, '"nothing.csv" is empty.'),
        ("register.pdf", b"%PDF-1.4", {}, '"register.pdf" is not a CSV, text or ZIP'),
    ],
)
def test_files_refused_by_the_form_say_why_and_start_nothing(
    superuser_client, db, name, data, extra, said
):
    response = superuser_client.post(
        reverse(LOAD_URL),
        {"kind": "postcodes", "file": SimpleUploadedFile(name, data), **extra},
    )

    assert response.status_code == 200
    assert html.escape(said) in response.text
    assert not ReferenceLoad.objects.exists()


def test_the_living_wage_list_needs_its_date(superuser_client, db):
    response = superuser_client.post(
        reverse(LOAD_URL), {"kind": "living_wage", "file": _upload(LIVING_WAGE)}
    )

    assert response.status_code == 200
    assert "Give the date the Living Wage list was taken." in response.text
    assert not ReferenceLoad.objects.exists()


def test_a_file_too_large_is_refused_before_it_is_kept(superuser_client, db, settings):
    settings.REFERENCE_MAX_UPLOAD_MB = 0

    response = superuser_client.post(
        reverse(LOAD_URL), {"kind": "postcodes", "file": _upload(ONSPD)}
    )

    assert "more than the 0 MB limit" in response.text
    assert not ReferenceLoad.objects.exists()
    assert _kept_files() == []


def test_an_unexpected_error_fails_the_load_without_a_500(
    superuser_client, db, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("socialvalue.tasks.load_and_classify", broken)

    response = _post(superuser_client, "postcodes", _upload(ONSPD))

    assert response.status_code == 200
    load = ReferenceLoad.objects.get()
    assert load.status == "failed"
    assert "unexpected error (RuntimeError)" in load.message
    assert "the database went away" not in response.text
    assert _kept_files() == []


REFRESH_SCRIPT = "localspend/reference-load-refresh.js"  # location.reload()


def test_a_queued_load_waits_and_a_finished_one_is_never_run_again(
    superuser_client, db, monkeypatch
):
    monkeypatch.setattr(  # no worker yet
        "socialvalue.admin.load_reference_file", SimpleNamespace(enqueue=print)
    )

    response = _post(superuser_client, "postcodes", _upload(ONSPD))

    load = ReferenceLoad.objects.get()
    assert load.status == "queued"
    assert "is queued" in response.text
    assert "Waiting for the background worker" in response.text
    # The page looks again: its refresh script (a file, for the Content Security
    # Policy) is included while a load waits.
    assert REFRESH_SCRIPT in response.text
    assert len(_kept_files()) == 1

    run_load(load.pk)  # the worker
    load.refresh_from_db()
    assert load.status == "done"
    assert Postcode.objects.count() == 14
    finished = load.finished_at

    run_load(load.pk)
    load.refresh_from_db()
    assert load.finished_at == finished
    assert REFRESH_SCRIPT not in superuser_client.get(reverse(LOAD_URL)).text


def test_a_load_is_kept_read_only_in_the_admin(superuser_client, suppliers):
    _post(superuser_client, "living_wage", _upload(LIVING_WAGE), taken_on="2025-04-01")
    load = ReferenceLoad.objects.get()

    page = superuser_client.get(
        reverse("admin:socialvalue_referenceload_change", args=[load.pk])
    )

    assert page.status_code == 200
    assert "Suppliers named exactly" in page.text
    assert '<table class="reference-counts">' in page.text  # rendered, not escaped
    assert 'name="_save"' not in page.text
    add = superuser_client.get(reverse("admin:socialvalue_referenceload_add"))
    assert add.status_code == 403


# ============================================================ the commands


def test_the_living_wage_command_reclassifies_every_supplier(suppliers, capsys):
    call_command("load_living_wage", str(LIVING_WAGE), date="2025-04-01")

    out = capsys.readouterr().out
    assert "Reclassified all 6 suppliers (the Living Wage list changed)" in out
    assert _tag(suppliers["wardown"], "living_wage").value == "yes"


def test_the_companies_house_command_reclassifies_the_changed_suppliers(
    suppliers, capsys
):
    call_command("load_companies_house", str(COMPANIES))

    out = capsys.readouterr().out
    assert "suppliers whose facts changed" in out
    assert _tag(suppliers["acme"], "size").value == "small"


def test_the_charities_command_reclassifies_the_changed_suppliers(suppliers, capsys):
    before = _tag(suppliers["hightown"], "vcse").value

    call_command("load_charities", str(CHARITIES))

    assert "whose facts changed" in capsys.readouterr().out
    assert _tag(suppliers["hightown"], "vcse").value != before


def test_the_postcodes_command_reclassifies_every_supplier(council, suppliers, capsys):
    call_command("load_postcodes", str(ONSPD))

    out = capsys.readouterr().out
    assert "Reclassified all 6 suppliers (the postcode directory changed)" in out
    assert "E06000032" in _tag(suppliers["foodbank"], "locality", council).evidence


@pytest.mark.parametrize(
    ("command", "sample", "options"),
    [
        ("load_living_wage", LIVING_WAGE, {"date": "2025-04-01"}),
        ("load_companies_house", COMPANIES, {}),
        ("load_charities", CHARITIES, {}),
        ("load_postcodes", ONSPD, {}),
    ],
)
def test_no_classify_leaves_the_tags_alone(suppliers, capsys, command, sample, options):
    tags = list(SupplierTag.objects.order_by("pk").values_list())

    call_command(command, str(sample), no_classify=True, **options)

    assert "Not reclassified (--no-classify)" in capsys.readouterr().out
    assert list(SupplierTag.objects.order_by("pk").values_list()) == tags


def test_a_dry_run_classifies_nothing(suppliers, capsys):
    call_command("load_companies_house", str(COMPANIES), dry_run=True)

    assert "Dry run: no supplier was reclassified." in capsys.readouterr().out
    assert _tag(suppliers["acme"], "size").value == "unknown"


def test_load_and_classify_returns_the_report_and_the_classification(suppliers):
    loaded = load_and_classify(
        ReferenceKind.LIVING_WAGE, LIVING_WAGE, taken_on=date(2025, 4, 1)
    )

    assert loaded.report.created == 7
    assert loaded.classified.suppliers == 6
    assert loaded.classified.changed >= 2  # Wardown and Luton Foodbank
    assert loaded.lines()[-1].startswith("Reclassified all 6 suppliers")


def test_a_running_load_keeps_a_heartbeat_with_the_rows_it_reads(
    superuser_client, suppliers, monkeypatch
):
    """Every loader's rows read are told to the task, which keeps them, with the
    time, on the load: the page's progress and the sign that the worker lives."""
    monkeypatch.setattr(  # no worker yet
        "socialvalue.admin.load_reference_file", SimpleNamespace(enqueue=print)
    )
    monkeypatch.setattr("socialvalue.loaders.ROWS_READ_EVERY", 2)
    _post(superuser_client, "companies_house", _upload(COMPANIES))
    load = ReferenceLoad.objects.get()
    told = []
    real = tasks.load_and_classify

    def load_and_listen(*args, progress, **kwargs):
        def listen(rows: int) -> None:
            progress(rows)
            beat = ReferenceLoad.objects.values_list("rows_read", "heartbeat_at")
            told.append((rows, *beat.get(pk=load.pk)))

        return real(*args, progress=listen, **kwargs)

    monkeypatch.setattr(tasks, "load_and_classify", load_and_listen)
    run_load(load.pk)

    load.refresh_from_db()
    assert load.status == "done"
    assert [rows for rows, _, _ in told][:3] == [2, 4, 6]
    assert all(rows == kept for rows, kept, _ in told)  # kept as told
    beats = [beat for _, _, beat in told]
    assert beats == sorted(beats) and beats[0] > load.started_at


def test_a_load_whose_worker_died_is_given_up_with_a_reason(
    superuser_client, db, settings
):
    """A load left running by a worker that was killed is marked failed the next
    time the page is opened, its file removed, once it has been silent too long."""
    settings.IMPORT_STALLED_AFTER = 60  # seconds
    stored = keep_reference_file(_upload(ONSPD))
    started = timezone.now() - timedelta(minutes=5)
    dead = ReferenceLoad.objects.create(
        kind="postcodes",
        file_name="onspd.csv",
        size=1,
        stored_file=stored,
        status="running",
        started_at=started,
        heartbeat_at=started + timedelta(minutes=1),
        rows_read=150_000,
    )
    alive = ReferenceLoad.objects.create(
        kind="postcodes",
        file_name="nspl.csv",
        size=1,
        status="running",
        started_at=started,
        heartbeat_at=timezone.now(),
    )

    page = superuser_client.get(reverse(LOAD_URL)).text

    dead.refresh_from_db()
    assert dead.status == "failed" and dead.finished_at is not None
    assert "stopped giving signs of life after 150,000 rows" in dead.message
    assert "upload the file again" in dead.message
    assert dead.message in page.replace("&quot;", '"')
    assert not kept_path(stored).exists() and dead.stored_file == ""
    alive.refresh_from_db()
    assert alive.status == "running"
