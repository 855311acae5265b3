"""QA (finance): a corrected download of rejected rows says which upload it
corrects, gives its rows' rows in that file, and does not list the column the
download headed by its letter as a column not read."""

from __future__ import annotations

from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from spend.models import SpendUpload
from tests.spend.test_upload_polish import (
    _as_csv,
    _corrected_download,
    _imported_with_two_rejected,
    _upload,
)


def _detail(client, council, upload):
    return client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk]))


def test_a_corrected_download_names_the_upload_it_corrects(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    upload = _imported_with_two_rejected(client, council)
    rows = _corrected_download(client, council, upload)
    rows[1][5] = "34/01/2017"  # the bad date left as it was
    _upload(client, council, _as_csv(rows), "hyndburn-fixed.csv")
    again = SpendUpload.objects.get(file_name="hyndburn-fixed.csv")
    assert (again.rows_imported, again.rows_rejected) == (1, 1)
    page = _detail(client, council, again)
    link = reverse("spend:upload-detail", args=[council.slug, upload.pk])
    assertContains(
        page,
        f'Corrects rows of <a class="govuk-link" href="{link}">hyndburn.csv</a> '
        f"(upload #{upload.pk})",
    )
    # The row rejected again, by its row in this file and in the original.
    original_row = rows[1][8]
    assertContains(page, f"(row {original_row} of hyndburn.csv)")
    # The download's own column "H" is not a column of the file's not read.
    assertNotContains(page, 'H "H"')
    assertNotContains(page, "H &quot;H&quot;")


def test_an_upload_that_corrects_nothing_says_nothing_of_it(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    upload = _imported_with_two_rejected(client, council)
    assertNotContains(_detail(client, council, upload), "Corrects rows of")
