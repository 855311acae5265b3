"""Social value: the measures catalogue, proxy values, commitments and delivery
returns, counted honestly (no double counting, evidence with every return)."""

from __future__ import annotations

import csv
import importlib
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from procure.models import Contract
from socialvalue.demo import load_social_value_demo
from socialvalue.forms import CommitmentForm, DeliveryReturnForm
from socialvalue.models import (
    Commitment,
    DeliveryReturn,
    Measure,
    ProxyValue,
    ReturnQuarter,
    Theme,
    Unit,
    measure_totals,
    proxy_values_for,
)

# ------------------------------------------------------------------ helpers


def _return(commitment, start, end, quantity="13", **kwargs) -> DeliveryReturn:
    kwargs.setdefault("evidence_note", "Apprentice timesheets")
    return DeliveryReturn.objects.create(
        commitment=commitment,
        quantity=Decimal(quantity),
        period_start=start,
        period_end=end,
        confirmed=True,
        **kwargs,
    )


def _return_form(commitment, **data) -> DeliveryReturnForm:
    fields = {
        "quantity": "13",
        "period_start": "2025-04-01",
        "period_end": "2025-06-30",
        "evidence_note": "Apprentice timesheets for the quarter",
        "confirmed": "on",
    }
    fields.update(data)
    fields = {k: v for k, v in fields.items() if v is not None}
    return DeliveryReturnForm(fields, commitment=commitment)


def _commitment_form(contract, measure, **data) -> CommitmentForm:
    fields = {
        "measure": measure.pk,
        "quantity": "52",
        "period_start": "2025-04-01",
        "period_end": "2026-03-31",
        "note": "",
    }
    fields.update(data)
    return CommitmentForm(fields, contract=contract)


def _url(name: str, council, *args) -> str:
    return reverse(f"socialvalue:{name}", args=[council.slug, *args])


# ------------------------------------------------------------------ catalogue


def test_the_catalogue_migration_creates_about_thirty_measures_and_is_idempotent(db):
    """The migration has run for the test database; running it again changes
    nothing, and a measure changed since is put back as the catalogue says."""
    migration = importlib.import_module("socialvalue.migrations.0006_measure_catalogue")
    count = Measure.objects.count()
    assert 28 <= count <= 40
    assert {m.theme for m in Measure.objects.all()} == set(Theme.values)
    assert {m.unit for m in Measure.objects.all()} == set(Unit.values)
    assert all(m.code.startswith("LS-") and m.counting for m in Measure.objects.all())
    Measure.objects.filter(code="LS-JOBS-01").update(name="Changed by hand")
    migration.load_catalogue(apps, None)
    migration.load_catalogue(apps, None)
    assert Measure.objects.count() == count
    assert Measure.objects.get(code="LS-JOBS-01").name != "Changed by hand"


def test_the_catalogue_fixture_loads_with_loaddata_without_duplicates(db):
    count = Measure.objects.count()
    call_command("loaddata", "measures", verbosity=0)
    call_command("loaddata", "measures", verbosity=0)
    assert Measure.objects.count() == count


def test_the_catalogue_page_is_read_only_for_everyone(client, viewer, council):
    client.force_login(viewer)
    response = client.get(_url("measures", council))
    assertContains(response, "LS-ENV-01")
    assertContains(response, "tCO2e")
    assertNotContains(response, "Add a measure")


# ------------------------------------------------------------------ commitments


@pytest.mark.parametrize("quantity", ["0", "-1"])
def test_a_commitment_needs_a_quantity_above_zero(contract, measure, quantity):
    form = _commitment_form(contract, measure, quantity=quantity)
    assert not form.is_valid()
    assert form.errors["quantity"] == ["Enter a quantity more than 0."]


def test_a_commitment_cannot_end_before_it_starts(contract, measure):
    form = _commitment_form(
        contract, measure, period_start="2025-06-01", period_end="2025-05-31"
    )
    assert not form.is_valid()
    assert form.errors["period_end"] == ["The end must be on or after the start."]


def test_a_commitment_must_lie_within_the_contract(contract, measure):
    form = _commitment_form(
        contract, measure, period_start="2024-12-31", period_end="2028-01-01"
    )
    assert not form.is_valid()
    assert "The contract starts on 1 January 2025" in form.errors["period_start"][0]
    assert "The contract runs to 31 December 2027" in form.errors["period_end"][0]


@pytest.fixture
def count_measure(db) -> Measure:
    return Measure.objects.get(code="LS-JOBS-04")  # apprenticeships started


def test_a_count_takes_whole_numbers_only(contract, count_measure, measure):
    assert count_measure.unit == Unit.NUMBER
    form = _commitment_form(contract, count_measure, quantity="2.5")
    assert not form.is_valid()
    assert form.errors["quantity"] == [
        "LS-JOBS-04 (Apprenticeships started) is counted in whole numbers: enter "
        "a whole number, like 2."
    ]
    assert _commitment_form(contract, count_measure, quantity="3").is_valid()
    assert _commitment_form(contract, count_measure, quantity="3.00").is_valid()
    # Weeks (and FTE, hours, tonnes, pounds) may have fractions.
    assert _commitment_form(contract, measure, quantity="52.5").is_valid()


def test_a_return_for_a_count_takes_whole_numbers_only(contract, count_measure):
    counted = Commitment.objects.create(
        contract=contract,
        measure=count_measure,
        quantity=Decimal("4"),
        period_start=date(2025, 4, 1),
        period_end=date(2026, 3, 31),
    )
    form = _return_form(counted, quantity="0.5")
    assert not form.is_valid()
    assert form.errors["quantity"] == [
        "LS-JOBS-04 (Apprenticeships started) is counted in whole numbers: enter "
        "a whole number, like 1."
    ]
    assert _return_form(counted, quantity="1").is_valid()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1" * 15, "Enter a quantity under 1,000,000,000,000."),
        ("12.345", "Enter a quantity with at most 2 decimal places."),
        ("twelve", "Enter a quantity as a number, like 12 or 2.5."),
    ],
)
def test_quantities_are_refused_in_plain_words(
    contract, measure, commitment, typed, message
):
    form = _commitment_form(contract, measure, quantity=typed)
    assert not form.is_valid()
    assert form.errors["quantity"] == [message]
    delivered = _return_form(commitment, quantity=typed)
    assert not delivered.is_valid()
    assert delivered.errors["quantity"] == [message]


def test_targets_and_proxy_values_are_refused_in_plain_words(council, measure):
    from socialvalue.forms import ProxyValueForm, TargetForm

    target = TargetForm(
        {
            "metric": "local",
            "baseline_year": "2023/24",
            "baseline_share": "1000",
            "target_year": "2025/26",
            "target_share": "62.555",
        },
        council=council,
    )
    assert not target.is_valid()
    assert target.errors["baseline_share"] == ["Enter a percentage between 0 and 100."]
    assert target.errors["target_share"] == [
        "Enter a percentage with at most 2 decimal places."
    ]
    proxy = ProxyValueForm(
        {
            "measure": measure.pk,
            "year": "2025/26",
            "value": "1000000000",
            "source": "TOMs 2024",
        },
        council=council,
    )
    assert not proxy.is_valid()
    assert proxy.errors["value"] == ["Enter the value per unit under £100,000,000."]


def test_overlapping_commitments_to_one_measure_are_refused(commitment, contract):
    same = _commitment_form(
        contract, commitment.measure, period_start="2026-03-31", period_end="2027-03-31"
    )
    assert not same.is_valid()
    assert (
        "already commits to LS-JOBS-03 for 1 April 2025 to 31 March 2026"
        in (same.errors["period_start"][0])
    )
    next_year = _commitment_form(
        contract, commitment.measure, period_start="2026-04-01", period_end="2027-03-31"
    )
    assert next_year.is_valid(), next_year.errors
    other_measure = _commitment_form(contract, Measure.objects.get(code="LS-JOBS-01"))
    assert other_measure.is_valid(), other_measure.errors


def test_a_commitment_with_returns_keeps_its_measure_and_its_returns(commitment):
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30))
    form = CommitmentForm(
        {
            "measure": commitment.measure.pk,
            "quantity": "52",
            "period_start": "2025-07-01",
            "period_end": "2026-03-31",
        },
        instance=commitment,
        contract=commitment.contract,
    )
    assert not form.is_valid()
    assert "would fall outside" in form.errors["period_start"][0]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2025-04-01", "9999-12-31", "period_end"),
        ("0001-01-01", "2025-06-30", "period_start"),
    ],
)
def test_a_commitment_dated_in_no_contracts_years_is_refused(
    client, council_officer, council, contract, measure, start, end, field
):
    """Security review: a period ending 31/12/9999 was saved, and the contract's
    social value page, the totals and the overdue list then failed (a quarter
    after it is in year 10000)."""
    client.force_login(council_officer)
    response = client.post(
        _url("commitment-new", council, contract.pk),
        {
            "measure": measure.pk,
            "quantity": "5",
            "period_start": start,
            "period_end": end,
        },
    )
    assert response.status_code == 200
    assert "between 1990 and 2100" in response.context["form"].errors[field][0]
    assert not Commitment.objects.filter(contract=contract).exists()
    for name, args in (("contract", [contract.pk]), ("totals", []), ("overdue", [])):
        assert client.get(_url(name, council, *args)).status_code == 200


def test_an_officer_adds_and_changes_a_commitment_and_history_says_who(
    client, council_officer, council, contract, measure
):
    client.force_login(council_officer)
    response = client.post(
        _url("commitment-new", council, contract.pk),
        {
            "measure": measure.pk,
            "quantity": "104",
            "period_start": "2025-04-01",
            "period_end": "2026-03-31",
            "note": "Tender response, section 4",
        },
    )
    commitment = Commitment.objects.get(contract=contract)
    assertRedirects(
        response,
        _url("contract", council, contract.pk) + f"#commitment-{commitment.pk}",
        fetch_redirect_response=False,
    )
    client.post(
        _url("commitment-edit", council, commitment.pk),
        {
            "measure": measure.pk,
            "quantity": "110",
            "period_start": "2025-04-01",
            "period_end": "2026-03-31",
        },
    )
    commitment.refresh_from_db()
    assert commitment.quantity == Decimal("110")
    assert [h.history_user for h in commitment.history.all()] == [council_officer] * 2


def test_the_contracts_changes_say_what_changed(
    client, council_officer, viewer, council, contract, commitment
):
    """QA: the contract page's "Changes" said "Commitment to LS-JOBS-03: changed"
    and no more; now each change says what was added or removed, and each
    changed field its old and new value."""
    client.force_login(council_officer)
    client.post(
        _url("commitment-edit", council, commitment.pk),
        {
            "measure": commitment.measure_id,
            "quantity": "60",
            "period_start": "2025-04-01",
            "period_end": "2026-03-31",
            "note": "Raised at the contract review",
        },
    )
    delivery = _return(commitment, date(2025, 4, 1), date(2025, 6, 30))
    fields = {
        "quantity": "14",
        "period_start": "2025-04-01",
        "period_end": "2025-06-30",
        "evidence_note": "Apprentice timesheets",
        "confirmed": "on",
    }
    client.post(_url("return-edit", council, delivery.pk), fields)
    client.post(_url("return-remove", council, delivery.pk))
    client.force_login(viewer)
    rows = client.get(_url("contract", council, contract.pk)).context["history"]
    said = [
        (row["what"], [(c["field"], c["old"], c["new"]) for c in row["changes"]])
        for row in rows
    ]
    weeks = commitment.measure.quantity_text
    q1 = "1 April 2025 to 30 June 2025"
    assert said == [
        (f"Return for LS-JOBS-03, {q1} removed: {weeks(Decimal(14))}", []),
        (
            f"Return for LS-JOBS-03, {q1} changed",
            [("Quantity delivered", weeks(Decimal(13)), weeks(Decimal(14)))],
        ),
        (f"Return for LS-JOBS-03, {q1} added: {weeks(Decimal(13))}", []),
        (
            "Commitment to LS-JOBS-03 changed",
            [
                ("Quantity", weeks(Decimal(52)), weeks(Decimal(60))),
                ("Note", "—", "Raised at the contract review"),
            ],
        ),
        (
            f"Commitment to LS-JOBS-03 added: {weeks(Decimal(52))}, "
            "1 April 2025 to 31 March 2026",
            [],
        ),
    ]
    page = client.get(_url("contract", council, contract.pk)).content.decode()
    assert "Note: — → Raised at the contract review" in page


def test_a_commitments_changes_keep_the_measure_each_record_had(
    client, council_officer, council, contract, commitment
):
    """Review: after a commitment's measure changed, its "added" line took the
    new measure's code and unit, and so did the old quantity."""
    other = (
        Measure.objects.exclude(pk=commitment.measure_id)
        .exclude(unit=commitment.measure.unit)
        .first()
    )
    client.force_login(council_officer)
    client.post(
        _url("commitment-edit", council, commitment.pk),
        {
            "measure": other.pk,
            "quantity": "3",
            "period_start": "2025-04-01",
            "period_end": "2026-03-31",
        },
    )
    rows = client.get(_url("contract", council, contract.pk)).context["history"]
    changed, added = rows
    weeks = commitment.measure.quantity_text
    assert added["what"].startswith(
        f"Commitment to {commitment.measure.code} added: {weeks(Decimal(52))}"
    )
    assert changed["what"] == f"Commitment to {other.code} changed"
    assert ("Quantity", weeks(Decimal(52)), other.quantity_text(Decimal(3))) in [
        (c["field"], c["old"], c["new"]) for c in changed["changes"]
    ]


def test_a_commitment_with_returns_cannot_be_removed(
    client, council_officer, council, commitment
):
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30))
    client.force_login(council_officer)
    response = client.post(_url("commitment-remove", council, commitment.pk))
    assert response.status_code == 302
    assert Commitment.objects.filter(pk=commitment.pk).exists()
    DeliveryReturn.objects.all().delete()
    client.post(_url("commitment-remove", council, commitment.pk))
    assert not Commitment.objects.filter(pk=commitment.pk).exists()
    removal = Commitment.history.get(id=commitment.pk, history_type="-")
    assert removal.history_user == council_officer


# ------------------------------------------------------------------ returns


@pytest.mark.parametrize(
    ("field", "data", "message"),
    [
        ("quantity", {"quantity": "-1"}, "Enter a quantity of 0 or more."),
        (
            "period_end",
            {"period_start": "2025-06-30", "period_end": "2025-06-29"},
            "The end must be on or after the start.",
        ),
        (
            "evidence_note",
            {"evidence_note": None},
            "Describe the evidence for this delivery",
        ),
        (
            "evidence_note",
            {"evidence_note": "   "},
            "Describe the evidence for this delivery",
        ),
        (
            "confirmed",
            {"confirmed": None},
            "Confirm that this delivery belongs to this contract",
        ),
    ],
)
def test_a_return_is_refused_when_it_is_incomplete(commitment, field, data, message):
    form = _return_form(commitment, **data)
    assert not form.is_valid()
    assert form.errors[field] == [message]


def test_a_return_of_zero_is_allowed(commitment):
    form = _return_form(commitment, quantity="0")
    assert form.is_valid(), form.errors


def test_a_return_must_fall_within_the_commitment_and_not_in_the_future(commitment):
    early = _return_form(commitment, period_start="2025-03-01")
    assert not early.is_valid()
    assert "within the commitment's period" in early.errors["period_start"][0]
    commitment.period_end = date.today() + timedelta(days=400)
    commitment.save()
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    future = _return_form(commitment, period_end=tomorrow)
    assert not future.is_valid()
    assert "cannot end after today" in future.errors["period_end"][0]


def test_the_same_return_twice_is_refused(commitment, council_officer):
    first = _return(
        commitment, date(2025, 4, 1), date(2025, 6, 30), entered_by=council_officer
    )
    form = _return_form(commitment)
    assert not form.is_valid()
    [error] = form.non_field_errors()
    assert "already been recorded" in error
    assert first.described in error


def test_the_database_refuses_the_same_return_twice(commitment):
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30))
    with pytest.raises(IntegrityError), transaction.atomic():
        _return(commitment, date(2025, 4, 1), date(2025, 6, 30), evidence_note="x")


def test_an_overlapping_return_is_refused_naming_the_earlier_one(commitment):
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30), quantity="12")
    form = _return_form(
        commitment, period_start="2025-06-30", period_end="2025-09-30", quantity="14"
    )
    assert not form.is_valid()
    error = form.errors["period_start"][0]
    assert (
        "overlaps the return already recorded for 1 April 2025 to 30 June 2025 "
        "(12 weeks delivered, entered by someone on " in error
    )


def test_adjacent_returns_are_allowed(commitment):
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30))
    form = _return_form(commitment, period_start="2025-07-01", period_end="2025-09-30")
    assert form.is_valid(), form.errors


def test_returns_of_another_commitment_do_not_clash(commitment, contract):
    other = Commitment.objects.create(
        contract=contract,
        measure=Measure.objects.get(code="LS-JOBS-01"),
        quantity=Decimal("5"),
        period_start=date(2025, 4, 1),
        period_end=date(2026, 3, 31),
    )
    _return(other, date(2025, 4, 1), date(2025, 6, 30))
    assert _return_form(commitment).is_valid()


def test_an_officer_records_a_return_with_evidence_kept_privately(
    client, council_officer, council, commitment
):
    client.force_login(council_officer)
    upload = SimpleUploadedFile(
        "timesheets Q1.pdf", b"%PDF-1.4 timesheets", content_type="application/pdf"
    )
    response = client.post(
        _url("return-new", council, commitment.pk),
        {
            "quantity": "13",
            "period_start": "2025-04-01",
            "period_end": "2025-06-30",
            "evidence_note": "Timesheets signed by the site manager",
            "confirmed": "on",
            "evidence_upload": upload,
        },
    )
    assert response.status_code == 302
    delivery = DeliveryReturn.objects.get(commitment=commitment)
    assert delivery.entered_by == council_officer
    assert delivery.evidence_file_name == "timesheets Q1.pdf"
    kept = Path(settings.UPLOAD_ROOT) / delivery.evidence_file
    assert kept.read_bytes() == b"%PDF-1.4 timesheets"
    assert "timesheets" not in delivery.evidence_file  # named by content, not by user
    assert not str(kept).startswith(str(settings.STATIC_ROOT))
    assert delivery.history.get().history_user == council_officer


def test_an_evidence_file_of_the_wrong_kind_is_refused(
    client, council_officer, council, commitment
):
    client.force_login(council_officer)
    response = client.post(
        _url("return-new", council, commitment.pk),
        {
            "quantity": "13",
            "period_start": "2025-04-01",
            "period_end": "2025-06-30",
            "evidence_note": "Timesheets",
            "confirmed": "on",
            "evidence_upload": SimpleUploadedFile("page.html", b"<script></script>"),
        },
    )
    assertContains(response, "is not a kind of file kept as evidence")
    assert not DeliveryReturn.objects.exists()


def test_an_officer_corrects_a_return_keeping_its_evidence_and_who_entered_it(
    client, council_officer, council_admin, viewer, council, commitment
):
    client.force_login(council_officer)
    upload = SimpleUploadedFile(
        "q1.pdf", b"%PDF-1.4 timesheets", content_type="application/pdf"
    )
    fields = {
        "quantity": "13",
        "period_start": "2025-04-01",
        "period_end": "2025-06-30",
        "evidence_note": "Timesheets signed by the site manager",
        "confirmed": "on",
    }
    client.post(
        _url("return-new", council, commitment.pk), fields | {"evidence_upload": upload}
    )
    delivery = DeliveryReturn.objects.get(commitment=commitment)
    later = _return(commitment, date(2025, 7, 1), date(2025, 9, 30))
    edit = _url("return-edit", council, delivery.pk)
    # A viewer may not; the contract page offers the change to officers.
    client.force_login(viewer)
    assert client.get(edit).status_code == 403
    client.force_login(council_admin)
    page = client.get(edit)
    assertContains(page, "Change the return for")
    assertContains(page, "q1.pdf</strong>, stays with it")
    assert Decimal(str(page.context["form"]["quantity"].value())) == Decimal("13")
    # A period overlapping another return is refused, as for a new one.
    refused = client.post(edit, fields | {"period_end": "2025-07-31"})
    assertContains(refused, "overlaps the return already recorded")
    response = client.post(edit, fields | {"quantity": "12"})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.quantity == Decimal("12")
    assert delivery.entered_by == council_officer  # who entered it stays
    assert delivery.evidence_file_name == "q1.pdf"  # no new file: the old one stays
    changed = delivery.history.first()
    assert changed.history_type == "~" and changed.history_user == council_admin
    later.refresh_from_db()
    assert later.quantity == Decimal("13")
    contract_page = client.get(_url("contract", council, commitment.contract.pk))
    assertContains(contract_page, edit)


def test_a_removed_return_stays_in_history_with_who_removed_it(
    client, council_officer, council, commitment
):
    delivery = _return(commitment, date(2025, 4, 1), date(2025, 6, 30))
    client.force_login(council_officer)
    client.post(_url("return-remove", council, delivery.pk))
    assert not DeliveryReturn.objects.exists()
    removal = DeliveryReturn.history.get(id=delivery.pk, history_type="-")
    assert removal.history_user == council_officer
    assert removal.evidence_note == "Apprentice timesheets"


# ------------------------------------------------------------------ evidence access


def test_evidence_downloads_only_for_members_of_the_contracts_council(
    client, viewer, other_council_officer, council, other_council, commitment
):
    from socialvalue.models import keep_evidence

    delivery = _return(
        commitment,
        date(2025, 4, 1),
        date(2025, 6, 30),
        evidence_file=keep_evidence(council, "register.pdf", b"%PDF register"),
        evidence_file_name="register.pdf",
    )
    url = _url("return-evidence", council, delivery.pk)
    assert client.get(url).status_code == 302  # anonymous: sign in first
    client.force_login(viewer)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF register"
    assert 'attachment; filename="register.pdf"' in response["Content-Disposition"]
    client.force_login(other_council_officer)
    assert client.get(url).status_code == 404
    through_own = _url("return-evidence", other_council, delivery.pk)
    assert client.get(through_own).status_code == 404


def test_a_return_without_a_file_has_no_download(client, viewer, council, commitment):
    delivery = _return(commitment, date(2025, 4, 1), date(2025, 6, 30))
    client.force_login(viewer)
    assert client.get(_url("return-evidence", council, delivery.pk)).status_code == 404


# ------------------------------------------------------------------ sums and £


def test_committed_and_delivered_add_up_per_measure_with_the_councils_proxy_value(
    council, contract, commitment, council_admin
):
    """Two commitments to one measure; £ only for the year the council has a value."""
    later = Commitment.objects.create(
        contract=contract,
        measure=commitment.measure,
        quantity=Decimal("26"),
        period_start=date(2026, 4, 1),
        period_end=date(2027, 3, 31),
    )
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30), quantity="13")
    _return(commitment, date(2025, 7, 1), date(2025, 9, 30), quantity="12.5")
    _return(later, date(2026, 4, 1), date(2026, 6, 30), quantity="10")
    ProxyValue.objects.create(
        council=council,
        measure=commitment.measure,
        year=2025,
        value=Decimal("150.25"),
        source="Our 2025/26 values, cabinet report 12",
    )
    commitments = list(Commitment.objects.filter(contract=contract))
    [row] = measure_totals(commitments, proxy_values_for(council))
    assert (row.commitments, row.returns) == (2, 3)
    assert row.committed == Decimal("78")
    assert row.delivered == Decimal("35.5")
    assert row.share == Decimal("45.5")
    assert row.committed_proxy == Decimal("7813.00")  # 52 × £150.25
    assert row.delivered_proxy == Decimal("3831.38")  # £1,953.25 + £1,878.13
    assert row.missing_labels == ["2026/27"]
    assert [p.source for p in row.sources] == ["Our 2025/26 values, cabinet report 12"]


def test_without_a_proxy_value_there_is_no_pound_figure(council, commitment):
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30))
    ProxyValue.objects.create(
        council=council,
        measure=commitment.measure,
        year=2024,  # another year: not used
        value=Decimal("100"),
        source="Old value",
    )
    [row] = measure_totals([commitment], proxy_values_for(council))
    assert row.committed_proxy is None and row.delivered_proxy is None
    assert row.missing_labels == ["2025/26"]


def test_another_councils_proxy_value_is_never_used(other_council, council, commitment):
    ProxyValue.objects.create(
        council=other_council,
        measure=commitment.measure,
        year=2025,
        value=Decimal("100"),
        source="Knowsley's value",
    )
    [row] = measure_totals([commitment], proxy_values_for(council))
    assert row.committed_proxy is None


def test_the_contract_page_shows_committed_delivered_and_the_proxy_source(
    client, viewer, council, contract, commitment
):
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30), quantity="13")
    ProxyValue.objects.create(
        council=council,
        measure=commitment.measure,
        year=2025,
        value=Decimal("100"),
        source="Council's own calculation, 2025",
    )
    client.force_login(viewer)
    response = client.get(_url("contract", council, contract.pk))
    assertContains(response, "52 weeks")
    assertContains(response, "13 weeks")
    assertContains(response, "25.0%")
    assertContains(response, "£1,300.00")
    assertContains(response, "£100.00 per week in 2025/26. Source: Council&#x27;s own")
    assertContains(response, "Apprentice timesheets")
    assertNotContains(response, "Add a commitment")  # viewers read only
    assertNotContains(response, "Record a return")


def test_the_totals_page_is_readable_by_viewers(client, viewer, council, commitment):
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30))
    client.force_login(viewer)
    response = client.get(_url("totals", council))
    assertContains(response, "Jobs and skills")
    assertContains(response, "LS-JOBS-03")
    assertContains(response, "No proxy value held for 2025/26")


def test_the_totals_lead_to_the_contracts_behind_them(
    client, viewer, council, contract, commitment, other_contract, make_supplier
):
    """QA: no figure on the social value totals led anywhere: a cabinet member
    could not see which contracts made up "2 commitments" to a measure."""
    bare = Contract.objects.create(
        council=council,
        reference="LBC-2",
        title="Printing",
        supplier=make_supplier(name="Beacon Print Ltd"),
        start_date=date(2025, 4, 1),
    )
    client.force_login(viewer)
    page = client.get(_url("totals", council))
    contracts = reverse("procure:contracts", args=[council.slug])
    with_any = f"{contracts}?social_value=yes"
    to_measure = f"{contracts}?measure={commitment.measure_id}"
    assertContains(page, f'href="{with_any}"')
    assertContains(page, f'href="{to_measure}"')

    def listed(url):
        return {c.reference for c in client.get(url).context["table"].data.data}

    assert listed(with_any) == {"LBC-1"}
    assert listed(to_measure) == {"LBC-1"}
    assert listed(f"{contracts}?social_value=no") == {bare.reference}
    # A link naming a measure no longer committed to (an old bookmark): none of
    # the contracts, rather than all of them as if they were its, and why.
    other = Measure.objects.exclude(pk=commitment.measure_id).first()
    assert listed(f"{contracts}?measure={other.pk}") == set()
    stale = client.get(f"{contracts}?measure={other.pk}").content.decode()
    assert "No contracts are shown: the link that led here" in stale
    assert listed(f"{contracts}?social_value=maybe") == set()
    # A filter chosen on the page and typed wrong still filters nothing.
    assert listed(f"{contracts}?value_min=lots") == {"LBC-1", "LBC-2"}
    response = client.get(f"{to_measure}&format=csv")
    download = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "committed to LS-JOBS-03" in download


def test_the_totals_csv_is_formula_safe(client, viewer, council, commitment):
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30))
    ProxyValue.objects.create(
        council=council,
        measure=commitment.measure,
        year=2025,
        value=Decimal("100"),
        source='=HYPERLINK("http://example.com","click")',
    )
    client.force_login(viewer)
    response = client.get(_url("totals-csv", council))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, [row] = rows[0], rows[1:]
    record = dict(zip(header, row, strict=True))
    assert record["Measure code"] == "LS-JOBS-03"
    assert record["Committed"] == "52.00"
    assert record["Delivered"] == "13.00"
    assert record["Proxy value delivered (£)"] == "1300.00"
    assert "=HYPERLINK" in record["Proxy values used (the council's own)"]
    assert not any(cell.startswith(("=", "+", "@")) for cell in row)


# ------------------------------------------------------------------ overdue


def test_quarters_follow_the_financial_year():
    quarters = ReturnQuarter.spanning(date(2025, 5, 15), date(2026, 1, 10))
    assert [q.label for q in quarters] == [
        "2025/26 Q1",
        "2025/26 Q2",
        "2025/26 Q3",
        "2025/26 Q4",
    ]
    assert quarters[0].end == date(2025, 6, 30)
    assert quarters[0].due == date(2025, 7, 30)


def test_a_quarter_is_overdue_only_after_its_due_date(commitment):
    """Q1 2025/26 ends 30 June; its return is due 30 July."""
    assert commitment.missing_quarters(date(2025, 7, 30)) == []
    [quarter] = commitment.missing_quarters(date(2025, 7, 31))
    assert quarter.label == "2025/26 Q1"


def test_nothing_is_due_before_a_commitment_starts(commitment):
    assert commitment.missing_quarters(date(2025, 4, 1)) == []
    assert commitment.missing_quarters(date(2024, 12, 1)) == []


def test_a_return_covering_part_of_a_quarter_counts(commitment):
    _return(commitment, date(2025, 6, 1), date(2025, 6, 30))
    assert commitment.missing_quarters(date(2025, 10, 30)) == []
    [quarter] = commitment.missing_quarters(date(2025, 10, 31))
    assert quarter.label == "2025/26 Q2"


def test_a_commitment_delivered_in_full_is_never_overdue(commitment):
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30), quantity="52")
    assert commitment.missing_quarters(date(2026, 12, 1)) == []


def test_the_overdue_page_lists_commitments_with_missing_returns(
    client, council_officer, viewer, council, commitment
):
    _return(commitment, date(2025, 4, 1), date(2025, 6, 30))
    client.force_login(council_officer)
    response = client.get(_url("overdue", council))
    assertContains(response, "2025/26 Q2")
    assertContains(response, "due 30 days after the quarter ends")
    assertNotContains(response, "2025/26 Q1 (due")
    client.force_login(viewer)
    assert client.get(_url("overdue", council)).status_code == 403


# ------------------------------------------------------------------ permissions


def test_a_viewer_reads_but_cannot_write(client, viewer, council, contract, commitment):
    client.force_login(viewer)
    assert client.get(_url("contract", council, contract.pk)).status_code == 200
    posts = [
        (_url("commitment-new", council, contract.pk), {"quantity": "1"}),
        (_url("commitment-edit", council, commitment.pk), {"quantity": "1"}),
        (_url("commitment-remove", council, commitment.pk), {}),
        (_url("return-new", council, commitment.pk), {"quantity": "1"}),
        (_url("proxy-value-new", council), {"value": "1"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert Commitment.objects.get().quantity == Decimal("52")
    assert not DeliveryReturn.objects.exists()


def test_a_finance_officer_cannot_record_social_value(
    client, finance_officer, council, commitment
):
    client.force_login(finance_officer)
    response = client.post(_url("return-new", council, commitment.pk), {})
    assert response.status_code == 403


def test_another_councils_contract_is_404(
    client, council_officer, council, other_contract
):
    client.force_login(council_officer)
    for name in ("contract", "commitment-new"):
        assert client.get(_url(name, council, other_contract.pk)).status_code == 404


def test_gets_never_change_anything(client, council_officer, council, commitment):
    delivery = _return(commitment, date(2025, 4, 1), date(2025, 6, 30))
    client.force_login(council_officer)
    # Removing asks first, saying what would go.
    page = client.get(_url("return-remove", council, delivery.pk))
    assertContains(page, f"Remove the return for {delivery.period}?")
    assertContains(page, delivery.measure_text)
    # A commitment with returns is not offered for removal at all.
    page = client.get(_url("commitment-remove", council, commitment.pk), follow=True)
    assertContains(page, "remove it first")
    assert DeliveryReturn.objects.filter(pk=delivery.pk).exists()
    delivery.delete()
    page = client.get(_url("commitment-remove", council, commitment.pk))
    assertContains(page, f"Remove the commitment to {commitment.measure.code}?")
    assert Commitment.objects.filter(pk=commitment.pk).exists()
    # The contract page links to those questions; it posts nothing itself.
    contract = client.get(_url("contract", council, commitment.contract.pk))
    assertContains(contract, _url("commitment-remove", council, commitment.pk))
    assertNotContains(
        contract, f'action="{_url("commitment-remove", council, commitment.pk)}"'
    )


def test_writes_need_a_csrf_token(council_officer, council, commitment):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(council_officer)
    response = strict.post(_url("commitment-remove", council, commitment.pk))
    assert response.status_code == 403
    assert Commitment.objects.filter(pk=commitment.pk).exists()


# ------------------------------------------------------------------ proxy values


def test_an_administrator_enters_a_proxy_value_once_per_measure_and_year(
    client, council_admin, council_officer, council, measure
):
    data = {
        "measure": measure.pk,
        "year": "2025/26",
        "value": "120.50",
        "source": "Licensed framework 2025, our subscription",
    }
    client.force_login(council_admin)
    response = client.post(_url("proxy-value-new", council), data)
    assertRedirects(response, _url("proxy-values", council))
    value = ProxyValue.objects.get()
    assert (value.year, value.value, value.entered_by) == (
        2025,
        Decimal("120.50"),
        council_admin,
    )
    assert value.history.get().history_user == council_admin
    again = client.post(_url("proxy-value-new", council), data)
    assertContains(again, "There is already a value for LS-JOBS-03 in 2025/26")
    assert ProxyValue.objects.count() == 1
    client.force_login(council_officer)
    assert client.get(_url("proxy-values", council)).status_code == 403


@pytest.mark.parametrize("typed", ["1000/01", "9999/00", "1999/00"])
def test_a_proxy_value_for_a_year_far_off_is_refused(
    client, council_admin, council, measure, typed
):
    """Security review: 1000/01 and 9999/00 were saved (targets refuse them)."""
    client.force_login(council_admin)
    data = {"measure": measure.pk, "year": typed, "value": "1", "source": "Typed"}
    response = client.post(_url("proxy-value-new", council), data)
    assert response.status_code == 200
    assert (
        response.context["form"]
        .errors["year"][0]
        .startswith("Enter a financial year from 2000/01 to ")
    )
    assert not ProxyValue.objects.exists()


def test_a_proxy_value_needs_a_source_and_a_positive_value(
    client, council_admin, council, measure
):
    client.force_login(council_admin)
    response = client.post(
        _url("proxy-value-new", council),
        {"measure": measure.pk, "year": "2025/26", "value": "0", "source": ""},
    )
    assertContains(response, "Enter a value more than £0.")
    assertContains(response, "Say where the value comes from")
    assert not ProxyValue.objects.exists()


# ------------------------------------------------------------------ demo


def test_the_demo_is_idempotent_and_has_full_short_and_overdue_commitments(db):
    from councils.demo import load_demo

    call_command("loaddata", "councils", verbosity=0)
    today = date(2026, 11, 23)
    kwargs = {"council_slug": "luton", "today": today, "months": 2}
    load_demo(**kwargs, lines_per_month=100)

    def snapshot():
        return (
            sorted(
                Commitment.objects.values_list(
                    "contract__reference", "measure__code", "quantity", "period_start"
                )
            ),
            sorted(
                DeliveryReturn.objects.values_list(
                    "commitment__measure__code", "period_start", "quantity"
                )
            ),
            Commitment.history.count() + DeliveryReturn.history.count(),
        )

    first = snapshot()
    load_demo(**kwargs, lines_per_month=100)
    assert snapshot() == first
    commitments = list(Commitment.objects.all())
    shares = [c.share for c in commitments]
    assert any(s >= 100 for s in shares) and any(s < 100 for s in shares)
    overdue = [c for c in commitments if c.missing_quarters(today)]
    assert [c.measure.code for c in overdue] == ["LS-COMM-01"]
    assert ProxyValue.objects.filter(source__startswith="Made up").count() == 2


def test_the_demo_tolerates_a_council_without_the_demo_contracts(
    council, contract, other_council
):
    made = load_social_value_demo(council, date(2026, 11, 23))
    assert made["commitments"] >= 1  # the one contract stands in for the first
    assert set(Commitment.objects.values_list("contract", flat=True)) == {contract.pk}
    assert load_social_value_demo(other_council, date(2026, 11, 23)) == {
        "commitments": 0,
        "returns_added": 0,
    }


# ------------------------------------------------------------------ evidence kept


def _return_post(client, council, commitment, **data):
    fields = {
        "quantity": "13",
        "period_start": "2025-04-01",
        "period_end": "2025-06-30",
        "evidence_note": "Timesheets signed by the site manager",
        "confirmed": "on",
    }
    fields.update(data)
    fields = {k: v for k, v in fields.items() if v is not None}
    return client.post(_url("return-new", council, commitment.pk), fields)


def test_an_evidence_file_is_kept_when_the_form_has_an_error(
    client, council_officer, council, commitment
):
    client.force_login(council_officer)
    upload = SimpleUploadedFile("timesheets Q1.pdf", b"%PDF-1.4 timesheets")
    response = _return_post(
        client, council, commitment, confirmed=None, evidence_upload=upload
    )
    assertContains(response, "Confirm that this delivery belongs to this contract")
    assertContains(response, "timesheets Q1.pdf</strong>, has been kept")
    token = response.context["form"].data["evidence_held"]
    assert token
    assertContains(response, f'name="evidence_held" value="{token}"')
    assert not DeliveryReturn.objects.exists()

    # Sent again with the error put right, and no file chosen this time.
    response = _return_post(client, council, commitment, evidence_held=token)

    assert response.status_code == 302
    delivery = DeliveryReturn.objects.get()
    assert delivery.evidence_file_name == "timesheets Q1.pdf"
    kept = Path(settings.UPLOAD_ROOT) / delivery.evidence_file
    assert kept.read_bytes() == b"%PDF-1.4 timesheets"
    assert delivery.history.get().history_user == council_officer


def test_a_file_chosen_again_replaces_the_one_kept(
    client, council_officer, council, commitment
):
    client.force_login(council_officer)
    first = SimpleUploadedFile("first.pdf", b"%PDF-1.4 first")
    response = _return_post(
        client, council, commitment, confirmed=None, evidence_upload=first
    )
    token = response.context["form"].data["evidence_held"]
    second = SimpleUploadedFile("second.pdf", b"%PDF-1.4 second")
    _return_post(
        client, council, commitment, evidence_held=token, evidence_upload=second
    )
    delivery = DeliveryReturn.objects.get()
    assert delivery.evidence_file_name == "second.pdf"
    kept = Path(settings.UPLOAD_ROOT) / delivery.evidence_file
    assert kept.read_bytes() == b"%PDF-1.4 second"


def test_a_refused_evidence_file_is_not_kept(
    client, council_officer, council, commitment
):
    client.force_login(council_officer)
    response = _return_post(
        client,
        council,
        commitment,
        evidence_upload=SimpleUploadedFile("page.html", b"<script></script>"),
    )
    assertContains(response, "is not a kind of file kept as evidence")
    assert response.context["form"].data["evidence_held"] == ""
    assertNotContains(response, "has been kept")


@pytest.mark.parametrize("tampered", ["not-a-token", "other-council", "elsewhere"])
def test_a_kept_file_token_that_is_not_genuine_asks_for_the_file_again(
    client, council_officer, council, commitment, other_council, tampered
):
    from django.core import signing

    from socialvalue.forms import _HELD_SALT
    from socialvalue.models import keep_evidence

    theirs = keep_evidence(other_council, "theirs.pdf", b"%PDF-1.4 theirs")
    forged = {
        "not-a-token": "not-a-token",
        # Signed, but naming another council's file or leaving the folder.
        "other-council": signing.dumps(
            {"file": theirs, "name": "x.pdf", "commitment": commitment.pk},
            salt=_HELD_SALT,
        ),
        "elsewhere": signing.dumps(
            {"file": "../etc/passwd", "name": "x.pdf", "commitment": commitment.pk},
            salt=_HELD_SALT,
        ),
    }[tampered]
    client.force_login(council_officer)
    response = _return_post(client, council, commitment, evidence_held=forged)
    assertContains(response, "Choose the evidence file again")
    assert not DeliveryReturn.objects.exists()


def test_a_kept_file_token_belongs_to_its_commitment(
    client, council_officer, council, commitment, contract
):
    other = Commitment.objects.create(
        contract=contract,
        measure=Measure.objects.get(code="LS-JOBS-01"),
        quantity=Decimal("5"),
        period_start=date(2025, 4, 1),
        period_end=date(2026, 3, 31),
    )
    client.force_login(council_officer)
    upload = SimpleUploadedFile("timesheets.pdf", b"%PDF-1.4 timesheets")
    response = _return_post(
        client, council, commitment, confirmed=None, evidence_upload=upload
    )
    token = response.context["form"].data["evidence_held"]
    response = _return_post(client, council, other, evidence_held=token)
    assertContains(response, "Choose the evidence file again")
    assert not DeliveryReturn.objects.exists()


def test_removing_a_proxy_value_asks_first(client, council, council_admin, measure):
    """As targets, commitments and returns do: the list's Remove opens a question
    page; only its button removes the value, and the history keeps it."""
    from socialvalue.models import ProxyValue

    value = ProxyValue.objects.create(
        council=council, measure=measure, year=2025, value=14, source="TOMs 2024"
    )
    client.force_login(council_admin)
    listing = client.get(reverse("socialvalue:proxy-values", args=[council.slug]))
    url = reverse("socialvalue:proxy-value-remove", args=[council.slug, value.pk])
    assertContains(listing, f'href="{url}"')
    question = client.get(url)
    assertContains(question, f"Remove the proxy value for {measure.code} in 2025/26?")
    assert ProxyValue.objects.filter(pk=value.pk).exists()
    assertRedirects(
        client.post(url),
        reverse("socialvalue:proxy-values", args=[council.slug]),
        fetch_redirect_response=False,
    )
    assert not ProxyValue.objects.filter(pk=value.pk).exists()
    assert value.history.first().history_type == "-"


@pytest.mark.parametrize(
    ("quantity", "unit", "text"),
    [
        ("1", "weeks", "1 week"),  # QA: "1 weeks"
        ("1.00", "hours", "1 hour"),
        ("2", "weeks", "2 weeks"),
        ("0.5", "weeks", "0.5 weeks"),
        ("1", "tonnes", "1 tonne"),
        ("1", "fte", "1 FTE"),
        ("1040", "hours", "1,040 hours"),
        ("25000", "gbp", "£25,000.00"),
    ],
)
def test_a_quantity_is_written_in_its_unit_singular_for_one(quantity, unit, text):
    from socialvalue.models import quantity_text

    assert quantity_text(Decimal(quantity), unit) == text


def _opened(client, url) -> dict:
    """What the edit page would send back unchanged, its hidden `seen` included."""
    form = client.get(url).context["form"]
    data = {
        name: "" if form[name].value() is None else form[name].value()
        for name in form.fields
        if name != "evidence_upload"
    }
    assert data["seen"]
    return data


def _summary(response) -> str:
    from html import unescape

    page = response.content.decode()
    start = page.index("govuk-error-summary")
    return " ".join(unescape(page[start : page.index("</ul>", start)]).split())


def test_a_commitment_saved_from_a_page_opened_before_anothers_save_is_refused(
    client, council_officer, council, commitment
):
    """QA: with one commitment open in two tabs, A raised the quantity to 60 and
    B, changing only the note, put it back to 52 without a word."""
    client.force_login(council_officer)
    url = _url("commitment-edit", council, commitment.pk)
    tab_b = _opened(client, url)
    tab_a = _opened(client, url)
    assert client.post(url, tab_a | {"quantity": "60"}).status_code == 302
    response = client.post(url, tab_b | {"note": "Tender response, section 4"})
    assert response.status_code == 200
    said = _summary(response)
    assert f"Nothing was saved: {council_officer.username} (at " in said
    assert "changed Quantity committed after you opened this page" in said
    commitment.refresh_from_db()
    assert (commitment.quantity, commitment.note) == (Decimal("60"), "")
    # The form now shows A's quantity and keeps B's note: saving again keeps both.
    again = _opened_from(response)
    assert client.post(url, again).status_code == 302
    commitment.refresh_from_db()
    assert (commitment.quantity, commitment.note) == (
        Decimal("60"),
        "Tender response, section 4",
    )


def _opened_from(response) -> dict:
    form = response.context["form"]
    return {
        name: "" if form[name].value() is None else form[name].value()
        for name in form.fields
        if name != "evidence_upload"
    }


def test_a_return_saved_from_a_page_opened_before_anothers_save_is_refused(
    client, council_officer, council, commitment
):
    """QA: the same with a delivery return: B's evidence note put A's quantity
    (75) back to 70."""
    delivery = _return(commitment, date(2025, 4, 1), date(2025, 6, 30), "70")
    client.force_login(council_officer)
    url = _url("return-edit", council, delivery.pk)
    tab_b = _opened(client, url) | {"confirmed": "on"}
    tab_a = _opened(client, url) | {"confirmed": "on"}
    assert client.post(url, tab_a | {"quantity": "75"}).status_code == 302
    response = client.post(url, tab_b | {"evidence_note": "Timesheets and payslips"})
    assert response.status_code == 200
    assert "changed Quantity delivered after you opened" in _summary(response)
    delivery.refresh_from_db()
    assert (delivery.quantity, delivery.evidence_note) == (
        Decimal("75"),
        "Apprentice timesheets",
    )
    again = _opened_from(response) | {"confirmed": "on"}
    assert client.post(url, again).status_code == 302
    delivery.refresh_from_db()
    assert (delivery.quantity, delivery.evidence_note) == (
        Decimal("75"),
        "Timesheets and payslips",
    )
