"""QA (finance): a file refused while the officer waits is refused on the upload
form, naming it and why, and leaves no upload (nor a kept copy) behind."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from spend.importer import mark_failed
from spend.models import SpendUpload
from tests.spend.test_upload_views import GOOD


def _zip(**members: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


REFUSED = [
    pytest.param(
        "only-header.csv",
        b"Payment Date,Supplier Name,Amount\n",
        "has no rows of data under its header",
        id="only-header",
    ),
    pytest.param(
        "prose.csv",
        b"Dear colleague,\nPlease find attached our spending.\nKind regards\n",
        "does not look like a list of payments",
        id="prose",
    ),
    pytest.param(
        "page.csv",
        b"<!DOCTYPE html><html><head><title>Access denied</title></html>",
        "is a web page (HTML)",
        id="html",
    ),
    pytest.param(
        "two.zip",
        _zip(**{"a.csv": GOOD, "b.csv": GOOD}),
        "holding 2 spreadsheets",
        id="zip-of-two",
    ),
    pytest.param(
        "pdf.zip",
        _zip(**{"x.pdf": b"%PDF-1.4 not a spreadsheet"}),
        "with no CSV or XLSX file in it",
        id="zip-of-a-pdf",
    ),
    pytest.param(
        "totals.csv",
        b'Supplier Name,Total\nAcme Ltd,"3,228.86"\nBeacon Ltd,12.00\n',
        "looks like a summary of totals per supplier",
        id="summary",
    ),
]


@pytest.mark.parametrize(("name", "data", "why"), REFUSED)
def test_a_file_refused_on_reading_is_refused_on_the_form(
    client, finance_officer, council, settings, tmp_path, name, data, why
):
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    client.force_login(finance_officer)
    url = reverse("spend:upload", args=[council.slug])
    for _ in range(2):  # the same file again adds nothing either
        response = client.post(
            url, {"file": SimpleUploadedFile(name, data), "vat_basis": "net"}
        )
        assert response.status_code == 200
        errors = " ".join(response.context["form"].errors["file"])
        assert name in errors and why in errors
    assert not SpendUpload.objects.exists()
    assert not SpendUpload.history.exists()
    kept = settings.UPLOAD_ROOT
    assert not kept.exists() or not any(p.is_file() for p in kept.rglob("*"))


def test_a_failed_upload_of_a_file_never_read_does_not_state_its_amounts(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    client.post(
        reverse("spend:upload", args=[council.slug]),
        {"file": SimpleUploadedFile("april.csv", GOOD), "vat_basis": "unknown"},
    )
    upload = SpendUpload.objects.get()
    mark_failed(upload, '"april.csv" could not be read.')
    page = client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk]))
    assertContains(page, "could not be read")
    assertNotContains(page, "Amounts: Not stated")
