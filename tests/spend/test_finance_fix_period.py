"""QA (finance): the period given is checked against the file's dates before
the import, and can be corrected on the preview."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from spend.forms import UploadForm
from spend.models import SpendUpload
from tests.spend.test_upload_views import GOOD, HEADER, _confirm, _file

JANUARY_2020 = {"period_start": "2020-01-01", "period_end": "2020-01-31"}


def _upload(client, council, data, name="april.csv", **fields):
    return client.post(
        reverse("spend:upload", args=[council.slug]),
        {"file": _file(data, name), "vat_basis": "net", **fields},
    )


def test_the_preview_warns_of_payments_outside_the_period(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    response = _upload(client, council, GOOD, **JANUARY_2020)
    preview = client.get(response.url)
    assertContains(
        preview,
        "All 2 of the file&#x27;s payments are dated outside the period you gave, "
        "1 January 2020 to 31 January 2020: its payments are dated 1 April 2025 "
        "to 2 April 2025.",
    )
    # The period is there to correct, as given.
    assert preview.context["form"]["period_start"].value() == date(2020, 1, 1)
    assertContains(preview, 'value="2020-01-31"')


def test_some_payments_outside_the_period_are_counted(client, finance_officer, council):
    client.force_login(finance_officer)
    response = _upload(
        client, council, GOOD, period_start="2025-04-01", period_end="2025-04-01"
    )
    preview = client.get(response.url)
    assertContains(
        preview, "1 of the file&#x27;s 2 payments is dated outside the period you gave"
    )


def test_no_warning_when_the_payments_are_in_the_period(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    response = _upload(
        client, council, GOOD, period_start="2025-04-01", period_end="2025-04-30"
    )
    assertNotContains(client.get(response.url), "outside the period")


def test_a_remembered_layout_outside_its_period_goes_to_the_preview(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    _confirm(client, council, SpendUpload.objects.get())
    may = (HEADER + "01/05/2025,Wardown Plumbing Ltd,10.00,12.00,Housing\n").encode()
    response = _upload(client, council, may, "may.csv", **JANUARY_2020)
    upload = SpendUpload.objects.get(file_name="may.csv")
    url = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    assertRedirects(response, url, fetch_redirect_response=False)
    assert upload.status == "pending"
    preview = client.get(url)
    assertContains(preview, "so it was not imported straight away")
    assertContains(
        preview,
        "The file&#x27;s one payment is dated 1 May 2025, outside the period you "
        "gave, 1 January 2020 to 31 January 2020.",
    )


def test_a_remembered_layout_in_its_period_imports_at_once(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    _confirm(client, council, SpendUpload.objects.get())
    may = (HEADER + "01/05/2025,Wardown Plumbing Ltd,10.00,12.00,Housing\n").encode()
    _upload(
        client,
        council,
        may,
        "may.csv",
        period_start="2025-05-01",
        period_end="2025-05-31",
    )
    assert SpendUpload.objects.get(file_name="may.csv").status == "imported"


def test_the_period_is_corrected_on_the_preview(client, finance_officer, council):
    client.force_login(finance_officer)
    _upload(client, council, GOOD, **JANUARY_2020)
    upload = SpendUpload.objects.get()
    _confirm(
        client, council, upload, period_start="2025-04-01", period_end="2025-04-30"
    )
    upload.refresh_from_db()
    assert (upload.period_start, upload.period_end) == (
        date(2025, 4, 1),
        date(2025, 4, 30),
    )
    assert upload.status == "imported"
    assert not any("outside the period" in note for note in upload.notes)
    # Recorded in the upload's history, old and new.
    record = upload.history.filter(period_start=date(2025, 4, 1)).earliest(
        "history_date"
    )
    assert record.history_user == finance_officer
    assert record.history_change_reason == (
        "Period corrected on the preview: 1 January 2020 to 31 January 2020 → "
        "1 April 2025 to 30 April 2025"
    )
    # Said on the upload's page, and the period in the uploads list (QA: only
    # the database held it).
    page = client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk]))
    assertContains(
        page,
        "The period was corrected on the preview by fay-finance on "
        f"{timezone.localtime(record.history_date):%-d %B %Y, %H:%M}: 1 January "
        "2020 to 31 January 2020 → 1 April 2025 to 30 April 2025.",
    )
    listed = client.get(reverse("spend:uploads", args=[council.slug]))
    assertContains(listed, "Period 1 Apr 2025 to 30 Apr 2025")


def test_a_preview_sent_without_the_period_keeps_the_one_given(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD, **JANUARY_2020)
    upload = SpendUpload.objects.get()
    url = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    form = client.get(url).context["form"]
    data = {
        name: form[name].initial or ""
        for name in form.fields
        if not name.startswith("period")
    }
    client.post(url, data)
    upload.refresh_from_db()
    assert upload.period_start == date(2020, 1, 1)
    assert any("outside the period" in note for note in upload.notes)


def test_a_period_ending_before_it_starts_is_refused_on_the_preview(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    response = _confirm(
        client, council, upload, period_start="2025-04-30", period_end="2025-04-01"
    )
    assertContains(response, "The period must end on or after the day it starts.")
    upload.refresh_from_db()
    assert upload.status == "pending"


def test_a_one_day_period_is_allowed():
    def form(start, end):
        return UploadForm(
            {"vat_basis": "net", "period_start": start, "period_end": end},
        )

    one_day = form("2025-04-01", "2025-04-01")
    one_day.is_valid()
    assert "period_end" not in one_day.errors
    backwards = form("2025-04-02", "2025-04-01")
    backwards.is_valid()
    assert backwards.errors["period_end"] == [
        "The period must end on or after the day it starts."
    ]


def test_a_period_needs_both_days_and_days_a_file_can_hold():
    """Review: "1 January 1 to 31 December 9999" was taken, and a start alone
    made "Covers 1 January 2020 to ."."""

    def errors(start, end):
        form = UploadForm(
            {"vat_basis": "net", "period_start": start, "period_end": end}
        )
        form.is_valid()
        return {k: v for k, v in form.errors.items() if k.startswith("period")}

    assert errors("2020-01-01", "") == {
        "period_end": ["Enter the period's last day too, or neither."]
    }
    assert errors("", "2020-01-31") == {
        "period_start": ["Enter the period's first day too, or neither."]
    }
    far = errors("0001-01-01", "9999-12-31")
    assert far["period_start"][0].startswith("Enter a day from 1 January 1990 to ")
    assert "period_end" in far
    assert errors("", "") == {}
    assert errors("2020-01-01", "2020-01-31") == {}


def test_a_column_sent_as_other_digits_is_not_a_crash(client, finance_officer, council):
    """Review: "²".isdigit() is true and int("²") fails: the preview sent back
    with such a column gave a 500."""
    client.force_login(finance_officer)
    _upload(client, council, GOOD)
    upload = SpendUpload.objects.get()
    url = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].initial or "" for name in form.fields}
    data["b0-payment_date"] = "²"
    assert client.post(url, data).status_code == 200


def test_a_period_corrected_to_another_that_misses_is_asked_about_again(
    client, finance_officer, council
):
    """QA: a period corrected on the preview to another wrong one imported
    without a second word; now it is asked about once, and kept if sent again."""
    client.force_login(finance_officer)
    _upload(client, council, GOOD, **JANUARY_2020)
    upload = SpendUpload.objects.get()
    march = {"period_start": "2025-03-01", "period_end": "2025-03-31"}
    response = _confirm(client, council, upload, **march)
    assertContains(
        response,
        "All 2 of the file&#x27;s payments are dated outside the period you have "
        "given, 1 March 2025 to 31 March 2025: they are dated 1 April 2025 to "
        "2 April 2025. Correct the period, or start the import again to keep it.",
    )
    assertContains(
        response,
        '<input type="hidden" name="period_checked" value="2025-03-01/2025-03-31">',
    )
    # Said once, under the period, not again above it in other words (review),
    # and the title says the page has an error.
    assertNotContains(response, "outside the period you gave")
    assert "<title>Error: Check the columns" in response.content.decode()
    upload.refresh_from_db()
    assert upload.status == "pending"
    assert upload.period_start == date(2020, 1, 1)  # nothing saved yet

    # Changed again to another that misses: asked again.
    url = reverse("spend:upload-preview", args=[council.slug, upload.pk])
    form = response.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(
        period_start="2025-05-01",
        period_end="2025-05-31",
        period_checked="2025-03-01/2025-03-31",
    )
    again = client.post(url, data)
    assertContains(again, "given, 1 May 2025 to 31 May 2025")
    upload.refresh_from_db()
    assert upload.status == "pending"

    # Sent again as it was asked about: kept, and the import starts.
    data.update(period_checked="2025-05-01/2025-05-31")
    assertRedirects(
        client.post(url, data),
        reverse("spend:upload-detail", args=[council.slug, upload.pk]),
        fetch_redirect_response=False,
    )
    upload.refresh_from_db()
    assert upload.period_start == date(2025, 5, 1)
    assert upload.status == "imported"


def test_a_period_corrected_to_fit_the_payments_is_not_asked_about(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, GOOD, **JANUARY_2020)
    upload = SpendUpload.objects.get()
    response = _confirm(
        client, council, upload, period_start="2025-04-01", period_end="2025-04-30"
    )
    assert response.status_code == 302
    upload.refresh_from_db()
    assert upload.status == "imported"
