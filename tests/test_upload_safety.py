"""Upload safety on every page that takes a file (issue 7, Security: Uploads).

The four upload paths: the spend file upload, the contract register import, a
delivery return's evidence file and the admin's "Load reference data". For each:
a file over the limit is refused while it arrives, with its size and the limit,
and nothing is created; the type is decided by the content, not the name; ZIP and
XLSX bombs are refused from the archive's directory before anything is unzipped,
and an archive whose directory lies is stopped while unzipping; archive member
names are never used as paths; and every kept file is under UPLOAD_ROOT, outside
anything the web server serves, named by its hash or at random.
"""

from __future__ import annotations

import ast
import io
import re
import struct
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import (
    InMemoryUploadedFile,
    SimpleUploadedFile,
    TemporaryUploadedFile,
)
from django.test import Client, RequestFactory
from django.urls import reverse

from councils import uploads
from procure.models import Contract
from socialvalue.models import (
    Commitment,
    DeliveryReturn,
    Measure,
    Postcode,
    ReferenceLoad,
)
from spend.models import SpendLine, SpendUpload
from spend.reading import FileRefused, read_sheets

MB = 1024 * 1024
CSV = (
    b"Payment Date,Supplier Name,Net Amount\n"
    b"01/04/2025,Wardown Plumbing Ltd,1000.00\n"
    b"02/04/2025,Beacon Catering Ltd,250.00\n"
)
REGISTER = (
    b"Contract Reference,Contract Title,Supplier Name,Contract Value,Start Date\n"
    b"LBC-001,Grounds maintenance,Green Spaces Ltd,120000,01/04/2024\n"
)

# What each kind of file starts with, and what it is called when refused.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\n"
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(54) + b"This program cannot be run"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56)
HTML = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
BINARIES = [
    pytest.param(PNG, "a PNG image", id="png"),
    pytest.param(PDF, "a PDF document", id="pdf"),
    pytest.param(XLS, "old Excel 97-2003 .xls", id="xls"),
    pytest.param(EXE, "a Windows program", id="exe"),
    pytest.param(ELF, "a Linux program (ELF)", id="elf"),
]


# ------------------------------------------------------------------ helpers


def _zip(members: dict[str, bytes], level: int = 6) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _bomb(member: str, megabytes: int, others: dict[str, bytes] | None = None):
    """A ZIP whose ``member`` unzips to ``megabytes`` MB of zeros, written a MB at a
    time so the test never holds it: about 230 to 1 at compression level 1."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in (others or {}).items():
            z.writestr(name, data)
        with z.open(member, "w") as stream:
            zeros = bytes(MB)
            for _ in range(megabytes):
                stream.write(zeros)
    return out.getvalue()


def _lie_about_size(data: bytes, member: str, stated: int) -> bytes:
    """The ZIP with ``member``'s uncompressed size changed to ``stated`` in both
    its local header and the central directory: a directory that lies."""
    out = bytearray(data)
    name = member.encode()
    for signature, size_at, name_len_at, name_at in (
        (b"PK\x03\x04", 22, 26, 30),
        (b"PK\x01\x02", 24, 28, 46),
    ):
        start = 0
        while (start := out.find(signature, start)) >= 0:
            (length,) = struct.unpack_from("<H", out, start + name_len_at)
            if out[start + name_at : start + name_at + length] == name:
                struct.pack_into("<I", out, start + size_at, stated)
            start += 4
    return bytes(out)


def _xlsx_parts(sheet: bytes) -> dict[str, bytes]:
    return {
        "[Content_Types].xml": b"<Types/>",
        "xl/workbook.xml": b"<workbook/>",
        "xl/worksheets/sheet1.xml": sheet,
    }


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """200 MB of zeros in under 1 MB, built once for the module."""
    return _bomb("spend.csv", 200)


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """Names of the archive members anything unzips (ZipFile.open for reading)."""
    names: list[str] = []
    original = zipfile.ZipFile.open

    def spy(self, name, mode="r", *args, **kwargs):
        if mode == "r":
            names.append(getattr(name, "filename", name))
        return original(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    return names


@pytest.fixture
def upload_root(settings, tmp_path) -> Path:
    root = tmp_path / "uploads"
    settings.UPLOAD_ROOT = root
    return root


def _kept(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _spend_upload(client, council, data: bytes, name: str):
    return client.post(
        reverse("spend:upload", args=[council.slug]),
        {"file": SimpleUploadedFile(name, data), "vat_basis": "net"},
    )


def _register_upload(client, council, data: bytes, name: str):
    return client.post(
        reverse("procure:contract-import", args=[council.slug]),
        {"step": "upload", "register-file": SimpleUploadedFile(name, data)},
    )


def _file_errors(response, field: str = "file") -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(response.context["form"].errors.get(field, []))


@pytest.fixture
def commitment(council, make_supplier) -> Commitment:
    contract = Contract.objects.create(
        council=council,
        reference="LBC-1",
        title="Home care",
        supplier=make_supplier(name="Chiltern Care Ltd"),
        value=Decimal("100000"),
        start_date=date(2025, 1, 1),
        end_date=date(2027, 12, 31),
    )
    return Commitment.objects.create(
        contract=contract,
        measure=Measure.objects.get(code="LS-JOBS-03"),
        quantity=Decimal("52"),
        period_start=date(2025, 4, 1),
        period_end=date(2026, 3, 31),
    )


def _evidence_upload(client, council, commitment, data: bytes, name: str):
    return client.post(
        reverse("socialvalue:return-new", args=[council.slug, commitment.pk]),
        {
            "quantity": "13",
            "period_start": "2025-04-01",
            "period_end": "2025-06-30",
            "evidence_note": "Timesheets signed by the site manager",
            "confirmed": "on",
            "evidence_upload": SimpleUploadedFile(name, data),
        },
    )


@pytest.fixture
def superuser_client(client, db):
    root = get_user_model().objects.create_superuser(
        "root", "root@example.org", "a-long-password-1"
    )
    client.force_login(root)
    return client


def _reference_upload(client, data: bytes, name: str, kind: str = "postcodes"):
    return client.post(
        reverse("admin:socialvalue_referenceload_load"),
        {"kind": kind, "file": SimpleUploadedFile(name, data)},
        follow=True,
    )


# =================================================================== size


def test_the_handler_keeps_none_of_a_file_over_the_limit_but_reads_the_rest(
    settings, council, finance_officer
):
    settings.MAX_UPLOAD_MB = 1
    request = RequestFactory().post(
        reverse("spend:upload", args=[council.slug]),
        {"file": SimpleUploadedFile("big.csv", CSV * 12_000), "vat_basis": "gross"},
    )
    request.user = finance_officer

    upload = request.FILES["file"]

    assert isinstance(upload, uploads.TooBigUpload)
    assert upload.size == len(CSV) * 12_000  # counted to the end
    assert upload.read() == b""  # but nothing of it kept
    assert request.POST["vat_basis"] == "gross"  # fields after the file still read
    assert uploads.size_error(upload, 1) == (
        'The file "big.csv" is 1.3 MB, more than the 1 MB limit.'
    )


def test_a_file_under_the_limit_goes_to_disk_above_the_memory_size(
    settings, council, finance_officer
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    url = reverse("spend:upload", args=[council.slug])
    small = RequestFactory().post(url, {"file": SimpleUploadedFile("a.csv", CSV)})
    large = RequestFactory().post(
        url, {"file": SimpleUploadedFile("b.csv", CSV * 2000)}
    )
    small.user = large.user = finance_officer

    assert isinstance(small.FILES["file"], InMemoryUploadedFile)
    assert isinstance(large.FILES["file"], TemporaryUploadedFile)
    assert large.FILES["file"].read() == CSV * 2000


def _spooled(monkeypatch) -> list[int]:
    """The sizes of the files the temporary-file handler writes to disk."""
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    sizes = []
    complete = TemporaryFileUploadHandler.file_complete

    def spy(self, size):
        sizes.append(size)
        return complete(self, size)

    monkeypatch.setattr(TemporaryFileUploadHandler, "file_complete", spy)
    return sizes


def test_nobody_signed_in_can_send_a_file_to_any_page(
    settings, monkeypatch, council, upload_root
):
    """Security review: the CSRF check reads a form before any view asks for a
    login, so anyone could stream a file of up to the admin's 4 GB limit to the
    server's disk with a made-up CSRF cookie. Reading stops at the file now."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    spooled = _spooled(monkeypatch)
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32
    for url in (
        reverse("admin:socialvalue_referenceload_load"),
        reverse("spend:upload", args=[council.slug]),
    ):
        response = client.post(
            url,
            {
                "csrfmiddlewaretoken": "a" * 32,
                "file": SimpleUploadedFile("onspd.zip", bytes(2 * MB)),
            },
        )
        assert response.status_code == 302  # to sign in, with nothing kept
    assert spooled == []
    assert _kept(upload_root) == []


def test_the_admins_big_limit_is_for_its_staff_only(settings, finance_officer):
    settings.MAX_UPLOAD_MB = 1
    settings.REFERENCE_MAX_UPLOAD_MB = 900
    request = RequestFactory().post(
        reverse("admin:socialvalue_referenceload_load"),
        {"file": SimpleUploadedFile("onspd.csv", CSV * 12_000)},
    )
    request.user = finance_officer  # signed in, but not staff
    assert isinstance(request.FILES["file"], uploads.TooBigUpload)
    assert request.FILES["file"].limit_mb == 1


def test_memory_settings_are_sensible():
    assert django_settings.FILE_UPLOAD_HANDLERS[0] == (
        "councils.uploads.LimitedUploadHandler"
    )
    assert "django.core.files.uploadhandler.TemporaryFileUploadHandler" in (
        django_settings.FILE_UPLOAD_HANDLERS
    )
    assert django_settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 10 * MB
    assert django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 10 * MB


def test_each_upload_page_has_its_own_limit(settings, council, commitment):
    settings.MAX_UPLOAD_MB = 7
    settings.REFERENCE_MAX_UPLOAD_MB = 900
    pages = {
        reverse("spend:upload", args=[council.slug]): 7,
        reverse("procure:contract-import", args=[council.slug]): 7,
        reverse("socialvalue:return-new", args=[council.slug, commitment.pk]): 20,
        # The edit page takes a new evidence file too (security review).
        reverse("socialvalue:return-edit", args=[council.slug, 1]): 20,
        reverse("admin:socialvalue_referenceload_load"): 900,
        "/no/such/page/": 7,  # any other page: the spend limit
    }
    assert {url: uploads.limit_mb_for(url) for url in pages} == pages


def test_an_oversize_spend_file_is_refused_with_its_size_and_nothing_is_kept(
    client, finance_officer, council, settings, upload_root
):
    settings.MAX_UPLOAD_MB = 1
    client.force_login(finance_officer)

    response = _spend_upload(client, council, CSV * 30_000, "year.csv")

    assert 'The file "year.csv" is 3.3 MB, more than the 1 MB limit.' in (
        _file_errors(response)
    )
    assert not SpendUpload.objects.exists()
    assert _kept(upload_root) == []


def test_an_oversize_contract_register_is_refused_and_nothing_is_kept(
    client, council_officer, council, settings, upload_root
):
    settings.MAX_UPLOAD_MB = 1
    client.force_login(council_officer)

    response = _register_upload(client, council, REGISTER * 20_000, "register.csv")

    assert 'The file "register.csv" is 2.6 MB, more than the 1 MB limit.' in (
        _file_errors(response)
    )
    assert not Contract.objects.exists()
    assert _kept(upload_root) == []


def test_an_oversize_evidence_file_is_refused_and_no_return_is_recorded(
    client, council_officer, council, commitment, monkeypatch, upload_root
):
    monkeypatch.setattr("socialvalue.models.EVIDENCE_MAX_MB", 1)
    client.force_login(council_officer)

    response = _evidence_upload(
        client, council, commitment, PDF + bytes(2 * MB), "timesheets.pdf"
    )

    errors = _file_errors(response, "evidence_upload")
    assert 'The file "timesheets.pdf" is 2.0 MB, more than the 1 MB limit.' in errors
    assert not DeliveryReturn.objects.exists()
    assert _kept(upload_root) == []


def test_an_oversize_reference_file_is_refused_and_nothing_is_kept(
    superuser_client, settings, upload_root
):
    settings.REFERENCE_MAX_UPLOAD_MB = 1

    response = _reference_upload(superuser_client, b"pcds,oslaua\n" * 200_000, "p.csv")

    assert 'The file "p.csv" is 2.3 MB, more than the 1 MB limit.' in (
        _file_errors(response)
    )
    assert not ReferenceLoad.objects.exists()
    assert _kept(upload_root) == []


# =============================================================== sniffing


@pytest.mark.parametrize(("data", "said"), BINARIES)
def test_the_reader_names_what_a_file_is_whatever_it_is_called(data, said):
    with pytest.raises(FileRefused) as refused:
        read_sheets(data, "april.csv")
    assert str(refused.value).startswith('"april.csv" is ')
    assert said in str(refused.value)


@pytest.mark.parametrize(("data", "said"), BINARIES)
def test_a_spend_upload_that_is_not_a_spreadsheet_is_refused_before_it_is_kept(
    client, finance_officer, council, upload_root, data, said
):
    client.force_login(finance_officer)

    response = _spend_upload(client, council, data, "april.csv")

    errors = _file_errors(response)
    assert '"april.csv" is ' in errors and said in errors
    assert not SpendUpload.objects.exists()
    assert _kept(upload_root) == []


def test_a_web_page_saved_as_a_spend_file_is_refused_on_the_form(
    client, finance_officer, council, upload_root
):
    """Refused while the officer waits: named on the form, nothing kept (QA: it
    left a Failed upload, a second one for the same file)."""
    client.force_login(finance_officer)

    response = _spend_upload(client, council, HTML, "april.csv")

    assert '"april.csv" is a web page (HTML)' in _file_errors(response)
    assert not SpendUpload.objects.exists()
    assert _kept(upload_root) == []


@pytest.mark.parametrize(
    ("data", "said"), [*BINARIES, pytest.param(HTML, "a web page (HTML)", id="html")]
)
def test_a_contract_register_that_is_not_a_spreadsheet_is_refused(
    client, council_officer, council, upload_root, data, said
):
    client.force_login(council_officer)

    response = _register_upload(client, council, data, "register.csv")

    errors = _file_errors(response)
    assert '"register.csv" is ' in errors and said in errors
    assert not Contract.objects.exists()
    assert _kept(upload_root) == []


@pytest.mark.parametrize(
    ("name", "data", "said"),
    [
        ("timesheets.pdf", EXE, "is a Windows program (.exe or .dll), not a PDF"),
        ("photo.png", ELF, "is a Linux program (ELF), not a PNG image"),
        ("photo.png", SVG, "is an SVG image, not a PNG image"),
        ("photo.jpg", PNG, "is a PNG image, not a JPEG image"),
        ("register.txt", HTML, "is a web page (HTML), not a text file"),
        ("register.csv", b"Name,Hours\n<script>alert(1)</script>,3\n", "script"),
        ("report.docx", _zip({"notes.txt": b"hello"}), "is a ZIP archive, not a Word"),
        ("report.docx", PDF, "is a PDF document, not a Word document"),
        ("sheet.xlsx", XLS, "is an old Office 97-2003 file"),
    ],
)
def test_an_evidence_file_whose_content_is_not_what_its_name_says_is_refused(
    client, council_officer, council, commitment, upload_root, name, data, said
):
    client.force_login(council_officer)

    response = _evidence_upload(client, council, commitment, data, name)

    errors = _file_errors(response, "evidence_upload")
    assert f"“{name}”" in errors and said in errors
    assert not DeliveryReturn.objects.exists()
    assert _kept(upload_root) == []


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("timesheets.pdf", PDF),
        ("site.png", PNG),
        ("site.jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)),
        ("hours.csv", b"Name,Hours\nAmir,37.5\n"),
        ("notes.txt", "Attendance register: 12 apprentices, £0 cost".encode()),
        (
            "report.docx",
            _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
        ),
        ("hours.xlsx", _zip(_xlsx_parts(b"<worksheet/>"))),
        (
            "report.odt",
            _zip({"mimetype": b"application/vnd.oasis.opendocument.text"}),
        ),
    ],
)
def test_evidence_files_of_every_accepted_kind_are_kept(
    client, council_officer, council, commitment, upload_root, name, data
):
    client.force_login(council_officer)

    response = _evidence_upload(client, council, commitment, data, name)

    assert response.status_code == 302
    delivery = DeliveryReturn.objects.get()
    assert (upload_root / delivery.evidence_file).read_bytes() == data


def test_an_office_evidence_file_on_disk_is_checked_the_same_way(
    client, council_officer, council, commitment, upload_root, settings
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # the upload goes to a temp file
    filler = bytes(range(256)) * 40
    docx = _zip(
        {"word/document.xml": b"<w/>", "word/media/image1.png": PNG + filler},
        level=0,
    )
    bomb = _bomb("word/document.xml", 40)
    client.force_login(council_officer)

    refused = _evidence_upload(client, council, commitment, bomb, "report.docx")
    kept = _evidence_upload(client, council, commitment, docx, "report.docx")

    assert "looks like a ZIP bomb" in _file_errors(refused, "evidence_upload")
    assert kept.status_code == 302
    delivery = DeliveryReturn.objects.get()
    assert (upload_root / delivery.evidence_file).read_bytes() == docx


@pytest.mark.parametrize(
    ("data", "said"),
    [BINARIES[0], BINARIES[3], BINARIES[1]],
)
def test_a_reference_file_that_is_not_text_fails_naming_what_it_is(
    superuser_client, upload_root, data, said
):
    response = _reference_upload(superuser_client, data, "onspd.csv")

    load = ReferenceLoad.objects.get()
    assert load.status == "failed"
    assert load.message.startswith('"onspd.csv" was not loaded.')
    assert said in load.message and said in response.text
    assert not Postcode.objects.exists()
    assert _kept(upload_root) == []  # the refused file is removed


# ============================================================= ZIP bombs


def test_a_zip_bomb_is_refused_from_its_directory_without_unzipping(zip_bomb, opened):
    assert len(zip_bomb) < 1 * MB

    with pytest.raises(FileRefused) as refused:
        read_sheets(zip_bomb, "spend.zip")

    assert str(refused.value).startswith('"spend.zip" looks like a ZIP bomb')
    assert "200.0 MB" in str(refused.value)
    assert opened == []  # not a byte of it unzipped


def test_a_zip_bomb_uploaded_as_a_spend_file_is_refused_on_the_form(
    client, finance_officer, council, zip_bomb, upload_root
):
    client.force_login(finance_officer)

    response = _spend_upload(client, council, zip_bomb, "april.zip")

    assert "looks like a ZIP bomb" in _file_errors(response)
    assert not SpendUpload.objects.exists()
    assert not SpendLine.objects.exists()
    assert _kept(upload_root) == []


def test_a_zip_bomb_uploaded_as_a_contract_register_is_refused(
    client, council_officer, council, zip_bomb, upload_root
):
    client.force_login(council_officer)

    response = _register_upload(client, council, zip_bomb, "register.zip")

    assert '"register.zip" looks like a ZIP bomb' in _file_errors(response)
    assert _kept(upload_root) == []


def test_a_zip_bomb_uploaded_as_reference_data_fails_without_loading(
    superuser_client, zip_bomb, upload_root, opened
):
    _reference_upload(superuser_client, zip_bomb, "onspd.zip")

    load = ReferenceLoad.objects.get()
    assert load.status == "failed"
    assert '"onspd.zip" looks like a ZIP bomb' in load.message
    assert opened == []
    assert not Postcode.objects.exists()


def test_a_zip_bomb_renamed_docx_is_refused_as_evidence(
    client, council_officer, council, commitment, upload_root
):
    bomb = _bomb("word/document.xml", 40, {"[Content_Types].xml": b"<Types/>"})
    client.force_login(council_officer)

    response = _evidence_upload(client, council, commitment, bomb, "report.docx")

    assert "“report.docx” looks like a ZIP bomb" in _file_errors(
        response, "evidence_upload"
    )
    assert not DeliveryReturn.objects.exists()


def test_an_xlsx_bomb_is_refused_before_calamine_or_openpyxl_open_it(monkeypatch):
    def never(*args):
        raise AssertionError("the workbook reader was given a bomb")

    monkeypatch.setattr("spend.reading._read_with_calamine", never)
    monkeypatch.setattr("spend.reading._read_with_openpyxl", never)
    parts = _xlsx_parts(b"<worksheet/>")
    bomb = _bomb("xl/sharedStrings.xml", 40, parts)

    with pytest.raises(FileRefused, match='"april.xlsx" looks like a ZIP bomb'):
        read_sheets(bomb, "april.xlsx")


def test_too_much_in_all_once_unzipped_is_refused_from_the_directory(
    monkeypatch, opened
):
    monkeypatch.setattr(
        "spend.reading.SPREADSHEET_ZIP", uploads.ZipLimits(max_total=1 * MB)
    )
    # Not compressible, so no single member looks like a bomb: only the total does.
    noise = bytes(range(256)) * 3000
    data = _zip({"a.txt": noise, "b.txt": noise, "spend.csv": CSV})

    with pytest.raises(FileRefused, match="more than 1.0 MB once unzipped"):
        read_sheets(data, "spend.zip")
    assert opened == []


def test_a_zip_whose_directory_lies_about_a_size_is_stopped_while_unzipping():
    honest = _zip({"spend.csv": CSV + bytes(20 * MB)})
    liar = _lie_about_size(honest, "spend.csv", 1000)
    assert zipfile.ZipFile(io.BytesIO(liar)).getinfo("spend.csv").file_size == 1000

    with pytest.raises(FileRefused) as refused:
        read_sheets(liar, "spend.zip")

    assert str(refused.value).startswith('"spend.csv" (inside "spend.zip") cannot be')
    assert "unzipped" in str(refused.value)


def test_an_xlsx_whose_directory_lies_is_stopped_before_the_workbook_reader(
    monkeypatch,
):
    def never(*args):
        raise AssertionError("the workbook reader was given a lying archive")

    monkeypatch.setattr("spend.reading._read_with_calamine", never)
    monkeypatch.setattr("spend.reading._read_with_openpyxl", never)
    honest = _zip(_xlsx_parts(b"<worksheet>" + b" " * (20 * MB) + b"</worksheet>"))
    liar = _lie_about_size(honest, "xl/worksheets/sheet1.xml", 2000)

    with pytest.raises(FileRefused, match='"april.xlsx" cannot be unzipped'):
        read_sheets(liar, "april.xlsx")


def test_reading_a_member_stops_at_the_limit_whatever_the_directory_says():
    data = _zip({"big.csv": bytes(3 * MB)})
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo("big.csv")

    with pytest.raises(uploads.ArchiveRefused, match="more than 1.0 MB"):
        uploads.read_member(archive, info, '"big.csv"', 1 * MB)


def test_archives_inside_archives_are_refused(superuser_client, upload_root):
    inner = _zip({"spend.csv": CSV})
    with pytest.raises(FileRefused, match="another archive"):
        read_sheets(_zip({"inner.zip": inner}), "outer.zip")
    with pytest.raises(FileRefused, match="archive inside the ZIP"):
        read_sheets(_zip({"spend.csv": inner}), "outer.zip")

    _reference_upload(superuser_client, _zip({"onspd.zip": inner}), "onspd.zip")

    assert "holds another archive" in ReferenceLoad.objects.get().message


# ========================================================= path traversal

TRAVERSALS = ["../../etc/passwd", "/etc/passwd", "C:\\Windows\\evil.csv", "a/../../b"]


@pytest.mark.parametrize("member", TRAVERSALS)
def test_member_names_that_would_leave_their_folder_are_refused(member, tmp_path):
    data = _zip({member: CSV})

    with pytest.raises(FileRefused, match="unsafe path"):
        read_sheets(data, "spend.zip")
    with pytest.raises(FileRefused, match="unsafe path"):
        read_sheets(_zip({**_xlsx_parts(b"<worksheet/>"), member: CSV}), "a.xlsx")
    assert uploads.unsafe_member_name(member)


def test_a_traversal_name_in_a_reference_zip_fails_the_load(
    superuser_client, upload_root
):
    _reference_upload(superuser_client, _zip({"../../onspd.csv": CSV}), "onspd.zip")

    load = ReferenceLoad.objects.get()
    assert load.status == "failed" and "unsafe path" in load.message
    assert not (upload_root.parent / "onspd.csv").exists()


def test_a_traversal_name_in_an_evidence_docx_is_refused(
    client, council_officer, council, commitment, upload_root
):
    data = _zip({"word/document.xml": b"<w/>", "../../evil.sh": b"#!/bin/sh"})
    client.force_login(council_officer)

    response = _evidence_upload(client, council, commitment, data, "report.docx")

    assert "unsafe path" in _file_errors(response, "evidence_upload")
    assert not (upload_root.parent / "evil.sh").exists()


def test_nothing_in_the_project_extracts_archive_members_to_disk_by_name():
    """Members are only ever read into memory (or streamed): no ``extract`` or
    ``extractall`` call anywhere in the application's code."""
    base = Path(django_settings.BASE_DIR)
    calls = []
    for folder in ("councils", "spend", "procure", "socialvalue", "config"):
        for source in (base / folder).rglob("*.py"):
            text = source.read_text()
            if "extract" not in text:
                continue
            for node in ast.walk(ast.parse(text)):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"extract", "extractall"}
                ):
                    continue
                receiver = node.func.value
                if isinstance(receiver, ast.Name) and receiver.id == "process":
                    continue  # rapidfuzz.process.extract: fuzzy matching, not files
                calls.append(f"{source}:{node.lineno}")
    assert calls == []


def test_a_kept_file_path_can_never_leave_the_upload_root(upload_root):
    from spend.storage import kept_path

    for relative in ("../../etc/passwd", "/etc/passwd", "luton/../../x.csv", ""):
        with pytest.raises(FileNotFoundError):
            kept_path(relative)


# ================================================================ storage


def test_the_upload_root_is_outside_everything_the_web_server_serves():
    import config.settings as production

    for conf in (production, django_settings):
        root = Path(conf.UPLOAD_ROOT).resolve()
        served = [Path(conf.STATIC_ROOT), *map(Path, conf.STATICFILES_DIRS)]
        if getattr(conf, "MEDIA_ROOT", ""):
            served.append(Path(conf.MEDIA_ROOT))
        for folder in served:
            folder = folder.resolve()
            assert not root.is_relative_to(folder), (root, folder)
            assert not folder.is_relative_to(root), (root, folder)
    assert uploads.served_roots()  # the check has something to check against


HOSTILE = '..\\..\\static\\<b>"evil".csv'


def _assert_kept_safely(root: Path, relative: str, pattern: str) -> Path:
    path = root / relative
    assert path.is_file()
    assert uploads.under_upload_root(path)
    assert re.fullmatch(pattern, relative), relative
    assert "evil" not in relative and "static" not in relative
    return path


def test_a_spend_file_is_kept_under_the_upload_root_named_by_its_hash(
    client, finance_officer, council, upload_root
):
    client.force_login(finance_officer)
    _spend_upload(client, council, CSV, HOSTILE)

    upload = SpendUpload.objects.get()
    path = _assert_kept_safely(
        upload_root, upload.stored_file, r"luton/[0-9a-f]{64}\.csv"
    )
    assert path.read_bytes() == CSV


def test_a_contract_register_is_kept_under_the_upload_root_named_by_its_hash(
    client, council_officer, council, upload_root
):
    client.force_login(council_officer)

    response = _register_upload(client, council, REGISTER, HOSTILE)

    kept = response.context["kept"]
    _assert_kept_safely(upload_root, kept, r"luton/[0-9a-f]{64}\.csv")


def test_an_evidence_file_is_kept_under_the_upload_root_named_by_its_hash(
    client, council_officer, council, commitment, upload_root
):
    client.force_login(council_officer)
    _evidence_upload(client, council, commitment, PDF, HOSTILE.replace(".csv", ".pdf"))

    delivery = DeliveryReturn.objects.get()
    _assert_kept_safely(
        upload_root, delivery.evidence_file, r"luton/evidence/[0-9a-f]{64}\.pdf"
    )


def test_a_reference_file_waits_under_the_upload_root_under_a_random_name(
    superuser_client, upload_root, monkeypatch
):
    monkeypatch.setattr(  # no worker: the file waits
        "socialvalue.admin.load_reference_file", SimpleNamespace(enqueue=lambda pk: 0)
    )

    _reference_upload(superuser_client, b"pcds,oslaua\nLU1 1AA,E06000032\n", HOSTILE)

    load = ReferenceLoad.objects.get()
    _assert_kept_safely(upload_root, load.stored_file, r"reference/[0-9a-f]{32}\.csv")


def test_evidence_is_downloaded_only_as_an_attachment_by_the_councils_members(
    client, viewer, other_council_officer, council, commitment, upload_root
):
    from socialvalue.models import keep_evidence

    delivery = DeliveryReturn.objects.create(
        commitment=commitment,
        quantity=Decimal("13"),
        period_start=date(2025, 4, 1),
        period_end=date(2025, 6, 30),
        evidence_note="Register",
        evidence_file=keep_evidence(council, "register.pdf", PDF),
        evidence_file_name="register.pdf",
        confirmed=True,
    )
    url = reverse("socialvalue:return-evidence", args=[council.slug, delivery.pk])
    client.force_login(other_council_officer)
    assert client.get(url).status_code == 404
    client.force_login(viewer)

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert b"".join(response.streaming_content) == PDF


def test_a_kept_file_is_written_whole_then_renamed(council, tmp_path, settings):
    """Two requests keeping the same file: the second finds it whole; no
    temporary file is left beside it."""
    from spend.storage import keep_file, read_kept

    settings.UPLOAD_ROOT = tmp_path
    data = b"Date,Supplier,Amount\n01/04/2025,A Ltd,1.00\n" * 1000
    first = keep_file(council, data, "spend.csv")
    second = keep_file(council, data, "again.csv")
    assert first == second
    assert read_kept(first) == data
    assert [p.name for p in (tmp_path / council.slug).iterdir()] == [Path(first).name]
