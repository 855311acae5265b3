"""The contract register: validation, history, KPIs, the forward pipeline, access."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from procure.forms import ContractForm
from procure.models import Contract, ContractKPI, KPIRating
from procure.views import _months_ahead
from tests.procure.test_supplier_edit import (
    _as_shown,
    _errors,
    _opened,
    _refused_after_a_save_in_between,
    _refused_under_lock,
    _saved_in_two_tabs,
)


@pytest.fixture
def supplier(council, make_supplier, make_line):
    """A supplier Luton has paid, so it is one Luton deals with."""
    supplier = make_supplier(name="Wardown Care Ltd", company_number="01234567")
    make_line(council, supplier=supplier, payment_date=date(2025, 5, 1))
    return supplier


@pytest.fixture
def contract(council, supplier):
    return Contract.objects.create(
        council=council,
        reference="LBC-1",
        title="Home care",
        supplier=supplier,
        value=Decimal("10000.00"),
        start_date=date(2025, 4, 1),
        end_date=date(2026, 3, 31),
    )


def _data(supplier, /, **changes) -> dict:
    data = {
        "reference": "LBC-9",
        "title": "Grounds maintenance",
        "supplier": supplier.pk if supplier else "",
        "department": "Place",
        "status": "active",
        "value": "120000.00",
        "annual_value": "40000.00",
        "start_date": "2025-04-01",
        "end_date": "2028-03-31",
        "award_method": "tendered",
        "route": "open",
        "cpv_codes": "77310000-6",
        "social_value_weighting": "20",
        "contract_manager": "Priya Shah",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _form(council, supplier, /, **changes) -> ContractForm:
    return ContractForm(_data(supplier, **changes), council=council)


# --- Validation ---------------------------------------------------------------


def test_a_complete_contract_is_valid_and_cpv_codes_are_tidied(council, supplier):
    form = _form(council, supplier, cpv_codes=" 77310000-6;45000000-7  77310000-6")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["cpv_codes"] == "77310000-6, 45000000-7"


def test_it_rejects_an_end_date_before_the_start(council, supplier):
    form = _form(council, supplier, start_date="2025-04-01", end_date="2025-03-31")
    assert not form.is_valid()
    assert form.errors["end_date"] == [
        "The end date must be on or after the start date."
    ]


def test_a_contract_may_start_and_end_on_the_same_day(council, supplier):
    form = _form(council, supplier, start_date="2025-04-01", end_date="2025-04-01")
    assert form.is_valid(), form.errors


@pytest.mark.parametrize("value", ["0", "0.00", "-1"])
def test_it_rejects_a_value_of_zero_or_less(council, supplier, value):
    form = _form(council, supplier, value=value, annual_value=value)
    assert not form.is_valid()
    assert form.errors["value"] == ["The whole-life value must be more than £0."]
    assert form.errors["annual_value"] == ["The annual value must be more than £0."]


def test_it_rejects_a_supplier_that_does_not_exist(council, supplier):
    form = _form(council, supplier, supplier="999999")
    assert not form.is_valid()
    assert "not one Luton deals with" in form.errors["supplier"][0]


def test_it_rejects_another_councils_supplier(
    council, other_council, supplier, make_supplier, make_line
):
    theirs = make_supplier(name="Knowsley Only Ltd")
    make_line(other_council, supplier=theirs)
    form = _form(council, supplier, supplier=str(theirs.pk))
    assert not form.is_valid()
    assert "Choose a supplier from the list" in form.errors["supplier"][0]
    choices = {s.pk for s in form.fields["supplier"].queryset}
    assert supplier.pk in choices and theirs.pk not in choices


def _added(supplier, day: date) -> None:
    """Say `supplier` was added on `day` (at noon, London time)."""
    moment = timezone.make_aware(datetime(day.year, day.month, day.day, 12))
    type(supplier).objects.filter(pk=supplier.pk).update(created_at=moment)


def test_suppliers_of_one_name_are_told_apart_in_the_list(
    council, supplier, make_supplier, make_line
):
    """QA: a payee from a spend file and the same-named firm added by hand were two
    identical entries in the supplier search. Review: by the day each was added
    rather than an internal record number, kept for those added the same day."""
    payee = make_supplier(name="WARDOWN CARE LTD")  # no numbers: the day added
    by_postcode = make_supplier(name="Wardown Care Ltd", postcode="LU1 1AA")
    same_postcode = make_supplier(name="Wardown care ltd", postcode="LU1 1AA")
    same_day = make_supplier(name="Wardown Care Limited")  # as the payee, same day
    other = make_supplier(name="Stockwood Cleaning")
    for s in (payee, by_postcode, same_postcode, same_day, other):
        make_line(council, supplier=s)
    _added(payee, date(2025, 3, 3))
    _added(same_day, date(2025, 3, 3))
    _added(by_postcode, date(2025, 3, 4))
    _added(same_postcode, date(2025, 6, 30))

    labels = dict(_form(council, supplier).fields["supplier"].choices)
    labels = {value.value: label for value, label in labels.items() if value}
    assert labels[supplier.pk] == "Wardown Care Ltd (company 01234567)"
    assert (
        labels[payee.pk] == f"WARDOWN CARE LTD (added 3 March 2025, record {payee.pk})"
    )
    assert labels[same_day.pk] == (
        f"Wardown Care Limited (added 3 March 2025, record {same_day.pk})"
    )
    assert labels[by_postcode.pk] == "Wardown Care Ltd (LU1 1AA, added 4 March 2025)"
    assert labels[same_postcode.pk] == "Wardown care ltd (LU1 1AA, added 30 June 2025)"
    assert labels[other.pk] == "Stockwood Cleaning"  # a name of its own


def test_namesakes_are_found_as_the_register_matches_names(
    council, supplier, make_supplier, make_line
):
    """Review: namesakes were grouped on lower(name), which SQLite does for ASCII
    only ("ÉCOLE" and "école" were two names) and which keeps "&" and "and",
    "Ltd" and "Limited" apart."""
    shouting = make_supplier(name="ÉCOLE LTD", postcode="LU1 1AA")
    quiet = make_supplier(name="école Ltd", postcode="LU2 2BB")
    ampersand = make_supplier(name="Smith & Jones Ltd", postcode="LU3 3CC")
    spelt_out = make_supplier(name="Smith and Jones Limited", postcode="LU4 4DD")
    for s in (shouting, quiet, ampersand, spelt_out):
        make_line(council, supplier=s)

    labels = dict(_form(council, supplier).fields["supplier"].choices)
    labels = {value.value: label for value, label in labels.items() if value}
    assert labels[shouting.pk] == "ÉCOLE LTD (LU1 1AA)"
    assert labels[quiet.pk] == "école Ltd (LU2 2BB)"
    assert labels[ampersand.pk] == "Smith & Jones Ltd (LU3 3CC)"
    assert labels[spelt_out.pk] == "Smith and Jones Limited (LU4 4DD)"


def test_only_a_pipeline_contract_may_have_no_supplier(council, supplier):
    form = _form(council, None)
    assert not form.is_valid()
    assert "Only a contract still in the pipeline" in form.errors["supplier"][0]
    assert _form(council, None, status="pipeline").is_valid()


@pytest.mark.parametrize(
    "codes", ["45000000", "4500000-7", "45000000-77", "45000000–7", "CPV45000000-7"]
)
def test_it_rejects_cpv_codes_not_in_the_eight_digits_dash_check_digit_form(
    council, supplier, codes
):
    form = _form(council, supplier, cpv_codes=f"77310000-6, {codes}")
    assert not form.is_valid()
    assert form.errors["cpv_codes"][0].startswith("Enter CPV codes as eight digits")
    assert codes in form.errors["cpv_codes"][0]


@pytest.mark.parametrize("weighting", ["-1", "100.01"])
def test_the_social_value_weighting_is_a_percentage(council, supplier, weighting):
    form = _form(council, supplier, social_value_weighting=weighting)
    assert not form.is_valid()
    assert form.errors["social_value_weighting"] == [
        "Enter a percentage between 0 and 100."
    ]


def test_it_rejects_an_extension_before_the_end_or_without_one(council, supplier):
    early = _form(council, supplier, extension_end_date="2028-03-30")
    assert not early.is_valid()
    assert "on or after the end date" in early.errors["extension_end_date"][0]
    missing = _form(council, supplier, end_date="", extension_end_date="2029-03-31")
    assert not missing.is_valid()
    assert missing.errors["extension_end_date"] == [
        "Enter the end date before an extension."
    ]


def test_it_rejects_a_malformed_ocid_and_accepts_a_find_a_tender_one(council, supplier):
    assert not _form(council, supplier, ocid="12345").is_valid()
    good = _form(council, supplier, ocid="OCDS-h6vhtk-04a1b2")
    assert good.is_valid(), good.errors
    assert good.cleaned_data["ocid"] == "ocds-h6vhtk-04a1b2"


def test_a_reference_is_unique_within_a_council_only(
    council, other_council, supplier, contract
):
    form = _form(council, supplier, reference="LBC-1")
    assert not form.is_valid()
    assert form.errors["reference"] == [
        "This council already has a contract with reference LBC-1 (Home care). "
        "Enter a different reference, or edit that contract instead."
    ]
    Contract.objects.filter(pk=contract.pk).update(council=other_council)
    assert _form(council, supplier, reference="LBC-1").is_valid()


def test_editing_a_contract_keeps_its_own_reference(council, supplier, contract):
    data = _data(supplier, reference="LBC-1", title="Home care (varied)")
    form = ContractForm(data, instance=contract, council=council)
    assert form.is_valid(), form.errors


@pytest.mark.parametrize("reference", ["lbc-1", " Lbc-1 "])
def test_a_reference_differing_only_in_capitals_is_the_same_reference(
    council, supplier, contract, reference
):
    form = _form(council, supplier, reference=reference)
    assert not form.is_valid()
    assert form.errors["reference"] == [
        "This council already has a contract with reference LBC-1 (Home care). "
        "Enter a different reference, or edit that contract instead."
    ]


def test_a_contract_may_change_the_capitals_of_its_own_reference(
    council, supplier, contract
):
    data = _data(supplier, reference="lbc-1", title="Home care")
    form = ContractForm(data, instance=contract, council=council)
    assert form.is_valid(), form.errors
    form.save()
    contract.refresh_from_db()
    assert contract.reference == "lbc-1"


def test_the_database_refuses_a_reference_differing_only_in_capitals(
    council, other_council, contract
):
    def make(council):
        return Contract.objects.create(
            council=council, reference="Lbc-1", title="Again", start_date=date.today()
        )

    with pytest.raises(IntegrityError), transaction.atomic():
        make(council)
    assert make(other_council).pk  # another council may use it


def test_the_page_refuses_a_reference_differing_only_in_capitals(
    client, council_officer, council, supplier, contract
):
    client.force_login(council_officer)
    url = reverse("procure:contract-new", args=[council.slug])
    response = client.post(url, _data(supplier, reference="lbc-1"))
    assert response.status_code == 200
    assertContains(response, "already has a contract with reference LBC-1")
    assert Contract.objects.count() == 1


def test_the_supplier_is_not_labelled_optional(client, council_officer, council):
    """QA: "Supplier (optional)", though only a pipeline contract may have none."""
    client.force_login(council_officer)
    page = client.get(reverse("procure:contract-new", args=[council.slug]))
    assertContains(page, 'for="id_supplier">Supplier</label>')
    assertContains(page, "Leave empty only for a contract still in the pipeline.")
    assertContains(page, "Department (optional)")  # other fields as before


def test_every_contract_constraint_explains_itself_in_plain_english():
    for constraint in Contract._meta.constraints:
        message = constraint.get_violation_error_message()
        assert constraint.name not in message, message
        assert message != constraint.default_violation_error_message % {
            "name": constraint.name
        }


def test_the_page_explains_the_errors_and_saves_nothing(
    client, council_officer, council, supplier
):
    client.force_login(council_officer)
    url = reverse("procure:contract-new", args=[council.slug])
    response = client.post(
        url,
        _data(supplier, value="0", end_date="2020-01-01", cpv_codes="45000000"),
    )
    assert response.status_code == 200
    assertContains(response, "There is a problem")
    assertContains(response, "The end date must be on or after the start date.")
    assertContains(response, "The whole-life value must be more than £0.")
    assertContains(response, "Enter CPV codes as eight digits")
    assert not Contract.objects.exists()


# --- Create, edit and history -----------------------------------------------------


def test_an_officer_adds_a_contract_and_its_spend_is_linked(
    client, council_officer, council, supplier
):
    client.force_login(council_officer)
    response = client.post(
        reverse("procure:contract-new", args=[council.slug]), _data(supplier)
    )
    contract = Contract.objects.get(reference="LBC-9")
    assert response.status_code == 302
    assert response.url == contract.get_absolute_url()
    assert contract.council == council and contract.supplier == supplier
    assert contract.spend_lines.count() == 1  # the line of 1 May 2025
    assert contract.history.get().history_user == council_officer
    page = client.get(contract.get_absolute_url())
    assertContains(page, "1 payment linked to it.")
    assertContains(page, "GB-COH-01234567")


def test_history_records_who_changed_what(
    client, council_officer, council_admin, council, supplier, contract
):
    client.force_login(council_officer)
    url = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    data = _data(
        supplier,
        reference="LBC-1",
        title="Home care",
        value="12500.00",
        annual_value="4000.00",
    )
    assert client.post(url, data).status_code == 302
    latest = contract.history.first()
    assert latest.history_user == council_officer
    changed = {c.field for c in latest.diff_against(latest.prev_record).changes}
    assert "value" in changed and "route" in changed
    client.force_login(council_admin)
    page = client.get(contract.get_absolute_url())
    assertContains(page, "changed by bob-officer")
    assertContains(page, "Whole-life value: £10,000.00 → £12,500.00")
    assertContains(page, "Procurement route: — → Open procedure")
    # Social value changes have their own history, which the contract's links to.
    social_value = reverse("socialvalue:contract", args=[council.slug, contract.pk])
    assertContains(page, f'href="{social_value}#changes"')


def test_saving_an_unchanged_form_adds_no_history(
    client, council_officer, council, supplier, contract
):
    client.force_login(council_officer)
    url = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    form = ContractForm(instance=contract, council=council)
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields
    }
    data["supplier"] = supplier.pk
    client.post(url, data)
    assert contract.history.count() == 1


def test_a_browsers_line_ends_in_a_text_box_are_no_change(
    client, council_officer, council, supplier, contract
):
    """QA: a description held with "\n" (imported) came back from the browser
    with "\r\n", and every save of the contract recorded it as changed."""
    contract.description = "Home care visits.\nWeekends included."
    contract.save()
    client.force_login(council_officer)
    url = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    form = ContractForm(instance=contract, council=council)
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields
    }
    data["supplier"] = supplier.pk
    data["description"] = "Home care visits.\r\nWeekends included."
    history = contract.history.count()
    client.post(url, data)
    assert contract.history.count() == history
    data["description"] = "Home care visits.\r\nWeekends and holidays included."
    client.post(url, data)
    contract.refresh_from_db()
    assert contract.description == "Home care visits.\nWeekends and holidays included."


# --- KPIs ---------------------------------------------------------------------


@pytest.fixture
def big_contract(contract):
    contract.value = Decimal("6000000.00")
    contract.save()
    return contract


def _kpi(contract, name):
    return ContractKPI.objects.create(contract=contract, name=name, target="95%")


def test_a_contract_over_5m_with_fewer_than_three_kpis_is_flagged(
    client, viewer, big_contract
):
    _kpi(big_contract, "On time")
    _kpi(big_contract, "Complaints")
    client.force_login(viewer)
    page = client.get(big_contract.get_absolute_url())
    assertContains(page, "at least three key performance indicators")
    assertContains(page, "It has 2 KPIs: add 1 more.")
    _kpi(big_contract, "Local jobs")
    page = client.get(big_contract.get_absolute_url())
    assertNotContains(page, "at least three key performance indicators")


def test_exactly_5m_needs_no_kpis(client, viewer, contract):
    contract.value = Decimal("5000000.00")
    contract.save()
    client.force_login(viewer)
    page = client.get(contract.get_absolute_url())
    assertNotContains(page, "key performance indicators, published")


def test_a_big_contract_without_kpis_still_saves_with_a_warning(
    client, council_officer, council, supplier, contract
):
    client.force_login(council_officer)
    url = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    data = _data(supplier, reference="LBC-1", value="7500000.00")
    response = client.post(url, data, follow=True)
    contract.refresh_from_db()
    assert contract.value == Decimal("7500000.00")
    assertContains(response, "the Procurement Act 2023 asks for at least 3 KPIs")


def test_an_officer_adds_kpis_and_rates_them(
    client, council_officer, council, big_contract
):
    client.force_login(council_officer)
    url = reverse("procure:contract-kpis", args=[council.slug, big_contract.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "kpi-TOTAL_FORMS": "1",
            "kpi-INITIAL_FORMS": "0",
            "kpi-0-name": "Visits on time",
            "kpi-0-target": "95% within 15 minutes",
        },
    )
    assert response.status_code == 302
    kpi = big_contract.kpis.get()
    assert kpi.history.get().history_user == council_officer
    rate = reverse("procure:kpi-rate", args=[council.slug, big_contract.pk])
    rating = {"kpi": kpi.pk, "period_end": "2025-06-30", "rating": "approaching"}
    assert client.post(rate, rating).status_code == 302
    assert client.post(rate, rating | {"rating": "good"}).status_code == 302
    assert list(KPIRating.objects.values_list("period_end", "rating")) == [
        (date(2025, 6, 30), "good")
    ]
    assert KPIRating.history.count() == 2


def test_a_rating_needs_a_kpi_of_this_contract(
    client, council_officer, council, big_contract, make_supplier
):
    other = Contract.objects.create(
        council=council, reference="X", title="Other", start_date=date(2025, 1, 1)
    )
    foreign = _kpi(other, "Not yours")
    client.force_login(council_officer)
    rate = reverse("procure:kpi-rate", args=[council.slug, big_contract.pk])
    response = client.post(
        rate, {"kpi": foreign.pk, "period_end": "2025-06-30", "rating": "good"}
    )
    assertContains(response, "Choose one of this contract&#x27;s KPIs.")
    assert not KPIRating.objects.exists()


def test_viewers_cannot_rate_kpis(client, viewer, council, big_contract):
    kpi = _kpi(big_contract, "On time")
    client.force_login(viewer)
    rate = reverse("procure:kpi-rate", args=[council.slug, big_contract.pk])
    data = {"kpi": kpi.pk, "period_end": "2025-06-30", "rating": "good"}
    assert client.post(rate, data).status_code == 403
    assert not KPIRating.objects.exists()


# --- Forward pipeline -------------------------------------------------------------


def test_months_ahead_keeps_the_day_or_takes_the_months_last():
    assert _months_ahead(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert _months_ahead(date(2025, 11, 15), 18) == date(2027, 5, 15)


def test_the_pipeline_groups_active_contracts_by_end_date(
    client, viewer, council, supplier
):
    today = timezone.localdate()
    six, twelve, eighteen = (_months_ahead(today, m) for m in (6, 12, 18))
    ends = {
        "today": (today, "active"),
        "six": (six, "active"),
        "just-after-six": (six + timedelta(days=1), "active"),
        "twelve": (twelve, "active"),
        "eighteen": (eighteen, "active"),
        "too-late": (eighteen + timedelta(days=1), "active"),
        "yesterday": (today - timedelta(days=1), "active"),
        "ended-early": (six, "ended"),
        "not-awarded": (six, "pipeline"),
    }
    for reference, (end, status) in ends.items():
        Contract.objects.create(
            council=council,
            reference=reference,
            title=f"Ends {reference}",
            supplier=supplier,
            status=status,
            start_date=today - timedelta(days=400),
            end_date=end,
        )
    client.force_login(viewer)
    response = client.get(reverse("procure:contract-pipeline", args=[council.slug]))
    bands = {
        band["months"]: [c.reference for c in band["contracts"]]
        for band in response.context["bands"]
    }
    assert bands == {
        6: ["today", "six"],
        12: ["just-after-six", "twelve"],
        18: ["eighteen"],
    }
    assertContains(response, "Ending in 6 to 12 months")


def test_the_pipeline_shows_spend_to_date_and_the_suppliers_location(
    client, viewer, council, supplier, make_line
):
    from socialvalue.models import SupplierTag

    SupplierTag.objects.create(
        supplier=supplier,
        council=council,
        kind="locality",
        value="local",
        source="postcode_rule",
        evidence="LU1",
        confidence="high",
        decided_at=timezone.now(),
    )
    today = timezone.localdate()
    contract = Contract.objects.create(
        council=council,
        reference="P1",
        title="Parks",
        supplier=supplier,
        start_date=today - timedelta(days=30),
        end_date=today + timedelta(days=30),
    )
    make_line(council, supplier=supplier, payment_date=today, amount=Decimal("250"))
    from procure.linking import link_spend

    link_spend(council)
    client.force_login(viewer)
    response = client.get(reverse("procure:contract-pipeline", args=[council.slug]))
    row = response.context["bands"][0]["contracts"][0]
    assert row == contract
    assert (row.spend_to_date, row.locality) == (Decimal("250"), "local")
    assertContains(response, "£250.00")


def test_the_pipeline_csv_is_formula_safe(client, viewer, council, supplier):
    today = timezone.localdate()
    Contract.objects.create(
        council=council,
        reference="=1+1",
        title='=HYPERLINK("http://evil.example","click")',
        supplier=supplier,
        value=Decimal("1000"),
        start_date=today - timedelta(days=10),
        end_date=today + timedelta(days=10),
        contract_manager="@admin",
    )
    client.force_login(viewer)
    url = reverse("procure:contract-pipeline", args=[council.slug])
    response = client.get(url + "?export=csv")
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Ends within (months)", "Reference", "Title"]
    row = rows[1]
    assert row[1] == "'=1+1"
    assert row[2].startswith("'=HYPERLINK")
    assert row[12] == "'@admin"
    assert row[10] == "1000.00"


# --- Access ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "route", ["procure:contracts", "procure:contract-pipeline", "procure:off-contract"]
)
def test_a_viewer_can_read_the_contract_pages(client, viewer, council, route):
    client.force_login(viewer)
    assert client.get(reverse(route, args=[council.slug])).status_code == 200


def test_a_viewer_can_read_a_contract_but_not_change_it(
    client, viewer, council, supplier, contract
):
    client.force_login(viewer)
    page = client.get(contract.get_absolute_url())
    assert page.status_code == 200
    assertNotContains(page, "Edit contract")
    edit = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    new = reverse("procure:contract-new", args=[council.slug])
    assert client.get(edit).status_code == 403
    assert client.get(new).status_code == 403
    assert client.post(new, _data(supplier)).status_code == 403
    data = _data(supplier, reference="LBC-1", title="Hijacked")
    assert client.post(edit, data).status_code == 403
    contract.refresh_from_db()
    assert contract.title == "Home care"
    assert Contract.objects.count() == 1


@pytest.mark.parametrize("role", ["admin", "procurement"])
def test_officers_and_administrators_may_add_contracts(
    client, role_users, council, supplier, role
):
    client.force_login(role_users[role])
    url = reverse("procure:contract-new", args=[council.slug])
    assert client.post(url, _data(supplier)).status_code == 302


def test_another_councils_officer_gets_404(
    client, other_council_officer, council, other_council, supplier, contract
):
    client.force_login(other_council_officer)
    edit = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    assert client.get(contract.get_absolute_url()).status_code == 404
    assert client.post(edit, _data(supplier, reference="LBC-1")).status_code == 404
    through_own = reverse(
        "procure:contract-edit", args=[other_council.slug, contract.pk]
    )
    assert client.get(through_own).status_code == 404


def test_the_contract_list_filters_and_shows_spend_to_date(
    client, viewer, council, supplier, contract, other_council
):
    Contract.objects.create(
        council=council,
        reference="LBC-2",
        title="Waste",
        supplier=supplier,
        route="open",
        value=Decimal("900000"),
        start_date=date(2020, 1, 1),
        end_date=date(2024, 12, 31),
        status="ended",
    )
    Contract.objects.create(
        council=other_council,
        reference="KN-1",
        title="Waste",
        start_date=date(2025, 1, 1),
    )
    from procure.linking import link_spend

    link_spend(council)
    client.force_login(viewer)
    url = reverse("procure:contracts", args=[council.slug])
    everything = client.get(url)
    assertContains(everything, "LBC-1")
    assertNotContains(everything, "KN-1")
    assertContains(everything, "£1,000.00")  # the line of 1 May 2025 on LBC-1
    assertContains(everything, "10% of value")
    for query, shown, hidden in [
        ({"q": "waste"}, "LBC-2", "LBC-1"),
        # LBC-1 is recorded as active, but it ended on 31 March 2026.
        ({"status": "ended"}, "LBC-1", "KN-1"),
        ({"status": "active"}, "No contracts match", "LBC-1"),
        ({"route": "open"}, "LBC-2", "LBC-1"),
        ({"ending_before": "2025-01-01"}, "LBC-2", "LBC-1"),
        ({"ending_after": "2025-01-01"}, "LBC-1", "LBC-2"),
        ({"value_min": "100000"}, "LBC-2", "LBC-1"),
        ({"value_max": "100000"}, "LBC-1", "LBC-2"),
    ]:
        page = client.get(url, query)
        assertContains(page, shown)
        assertNotContains(page, hidden)


def test_posts_need_the_csrf_token(council_officer, council, supplier):
    client = Client(enforce_csrf_checks=True)
    client.force_login(council_officer)
    url = reverse("procure:contract-new", args=[council.slug])
    assert client.post(url, _data(supplier)).status_code == 403
    assert not Contract.objects.exists()


# --- CPV codes typed or pasted in other layouts ---------------------------------


_MANY_CODES = [f"{45000000 + n * 10000}-{n % 10}" for n in range(25)]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("45000000-7, 45210000-2", "45000000-7, 45210000-2"),
        ("45000000-7;45210000-2", "45000000-7, 45210000-2"),
        ("45000000-7 ; 45210000-2;", "45000000-7, 45210000-2"),
        ("45000000-7\r\n45210000-2\r\n", "45000000-7, 45210000-2"),
        ("  45000000 - 7 ,\n 45210000 -2 ", "45000000-7, 45210000-2"),
        # 25 codes fit in the 300 characters once tidied, though not as typed.
        (";\r\n  ".join(_MANY_CODES), ", ".join(_MANY_CODES)),
    ],
)
def test_cpv_codes_in_other_layouts_are_tidied_not_refused(
    council, supplier, typed, stored
):
    assert len(stored) <= 300
    form = _form(council, supplier, cpv_codes=typed)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["cpv_codes"] == stored
    contract = form.save()
    contract.full_clean()
    assert contract.cpv_list == stored.split(", ")


def test_too_many_cpv_codes_are_counted_once_tidied(council, supplier):
    codes = [f"{45000000 + n * 10000}-{n % 10}" for n in range(26)]
    form = _form(council, supplier, cpv_codes="\n".join(codes))
    assert not form.is_valid()
    (error,) = form.errors["cpv_codes"]
    assert "310 characters once tidied" in error  # 26 × 10 + 25 × 2
    assert "room for 300" in error


def test_a_wrong_cpv_code_is_named_with_the_form_expected(council, supplier):
    form = _form(council, supplier, cpv_codes="45000000-7;\n 4521000-2\n45210000-2")
    assert not form.is_valid()
    (error,) = form.errors["cpv_codes"]
    assert "a dash and a check digit, like 45000000-7" in error
    assert error.endswith("Not valid: “4521000-2”.")


def test_the_cpv_box_takes_a_pasted_list_whole(client, council_officer, council):
    client.force_login(council_officer)
    page = client.get(reverse("procure:contract-new", args=[council.slug]))
    html = page.content.decode()
    start = html.index('name="cpv_codes"')
    tag = html[html.rindex("<", 0, start) : html.index(">", start)]
    assert tag.startswith("<textarea")
    assert "maxlength" not in tag
    assertContains(page, "separated by commas, semicolons or new lines")


@pytest.mark.parametrize("typed", ["LBC\u20119", "LBC\u20139", "LBC\u22129", " LBC-9 "])
def test_a_reference_with_a_look_alike_dash_is_the_same_reference(
    council, supplier, typed
):
    form = _form(council, supplier, reference=typed)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["reference"] == "LBC-9"


@pytest.mark.parametrize("start", ["0001-01-01", "1899-04-01", "2225-04-01"])
def test_a_start_date_that_is_a_typing_slip_is_refused(council, supplier, start):
    form = _form(council, supplier, start_date=start, end_date="")
    assert not form.is_valid()
    assert "looks like a typing slip" in form.errors["start_date"][0]


@pytest.mark.parametrize(
    "typed, kept",
    [
        ("gb 123 4567 89", "GB123456789"),
        ("123456789", "GB123456789"),
        ("GBGD001", "GBGD001"),
        ("GB-123.4567.89", "GB123456789"),
        ("gb 123 456 789 012", "GB123456789012"),  # longer typed than kept
        ("IE6388047V", "IE6388047V"),
        ("", ""),
    ],
)
def test_a_vat_number_is_tidied(
    client, council_officer, council, supplier, typed, kept
):
    from procure.forms import SupplierForm

    form = SupplierForm(
        {
            "name": supplier.name,
            "organisation_type": "private_company",
            "vat_number": typed,
            "part_of_large_group": "unknown",
            "living_wage_accredited": "unknown",
        },
        instance=supplier,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["vat_number"] == kept


@pytest.mark.parametrize(
    "typed", ["GB123", "GB12345678X", "12", "NONE", "EXEMPT", "000 0000 00"]
)
def test_a_vat_number_that_is_not_one_is_refused(council, supplier, typed):
    from procure.forms import SupplierForm

    form = SupplierForm(
        {
            "name": supplier.name,
            "organisation_type": "private_company",
            "vat_number": typed,
            "part_of_large_group": "unknown",
            "living_wage_accredited": "unknown",
        },
        instance=supplier,
    )
    assert not form.is_valid()
    assert "Enter a UK VAT number" in form.errors["vat_number"][0]


def test_a_vat_number_from_a_spend_file_left_alone_does_not_stop_a_save(
    council, supplier
):
    from procure.forms import SupplierForm

    supplier.vat_number = "Not registered"
    supplier.save()
    form = SupplierForm(
        {
            "name": supplier.name,
            "organisation_type": "private_company",
            "vat_number": "Not registered",
            "postcode": "LU1 2AB",
            "part_of_large_group": "unknown",
            "living_wage_accredited": "unknown",
        },
        instance=supplier,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["vat_number"] == "Not registered"


def test_a_postcode_from_a_spend_file_left_alone_does_not_stop_a_save(
    council, supplier
):
    from procure.forms import SupplierForm

    supplier.postcode = "LUTON"  # as a ledger gave it
    supplier.save()
    data = {
        "name": "Renamed Ltd",
        "organisation_type": "private_company",
        "postcode": "LUTON",
        "part_of_large_group": "unknown",
        "living_wage_accredited": "unknown",
    }
    form = SupplierForm(data, instance=supplier)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["postcode"] == "LUTON"
    # Changed, it is checked.
    form = SupplierForm(data | {"postcode": "LUTON TOWN"}, instance=supplier)
    assert not form.is_valid()
    assert "Enter a UK postcode" in form.errors["postcode"][0]


# --- Spend to date: by each contract's own lines ---------------------------------


def _plan(queryset) -> str:
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def test_spend_to_date_reads_each_contracts_lines_by_the_contract_index(
    council, supplier, contract, make_line
):
    """A condition on the council as well made SQLite read every line of the
    council for each contract (75 s to sort 850 contracts by spend to date)."""
    from django.db import connection

    for day in range(1, 29):
        make_line(council, supplier=supplier, payment_date=date(2025, 6, day))
    contracts = Contract.objects.for_council(council).with_spend()
    subquery = str(contracts.query).split("SELECT", 2)[2]
    assert "council_id" not in subquery.split("GROUP BY")[0]
    if connection.vendor != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    plan = _plan(contracts.order_by("-spend_to_date"))
    assert "USING INDEX line_contract" in plan, plan
    assert "line_council_date" not in plan, plan


def test_lines_are_only_ever_linked_to_their_own_councils_contracts(
    council, other_council, supplier, contract, make_line
):
    """What lets spend to date sum a contract's lines without asking whose they
    are: the linking rule, linking by hand, handing back and relinking after a
    merge all keep a line to contracts of its own council."""
    from procure.linking import (
        link_lines,
        link_spend,
        release_lines,
        relink_suppliers,
    )
    from spend.models import SpendLine

    theirs = Contract.objects.create(
        council=other_council,
        reference="KN-1",
        title="Home care in Knowsley",
        supplier=supplier,
        value=Decimal("50000"),
        start_date=date(2025, 1, 1),
        end_date=date(2026, 12, 31),
    )
    ours = make_line(council, supplier=supplier, payment_date=date(2025, 6, 2))
    their_line = make_line(
        other_council,
        supplier=supplier,
        payment_date=date(2025, 6, 2),
        amount=Decimal("7.00"),
    )

    def linked() -> set[tuple[int, int | None]]:
        return set(SpendLine.objects.values_list("council_id", "contract__council_id"))

    def own_only() -> bool:
        return all(c is None or c == line for line, c in linked())

    link_spend(council)
    link_spend(other_council)
    assert own_only()
    assert link_lines(contract, [their_line.pk]) == 0
    assert link_lines(theirs, [ours.pk]) == 0
    assert release_lines(contract, [their_line.pk]) == 0
    relink_suppliers([supplier.pk])
    assert own_only()
    ours.refresh_from_db()
    their_line.refresh_from_db()
    assert (ours.contract, their_line.contract) == (contract, theirs)
    totals = dict(
        Contract.objects.with_spend().values_list("reference", "spend_to_date")
    )
    # The fixture's line of 1 May 2025 and this one on LBC-1; Knowsley's alone.
    assert totals == {"LBC-1": Decimal("2000.00"), "KN-1": Decimal("7.00")}


# --- New dates must still hold the social value commitments and returns ------


@pytest.fixture
def committed(contract):
    """LBC-1 (1 April 2025 to 31 March 2026) with a commitment over all of it
    and a return for its first quarter."""
    from socialvalue.models import Commitment, DeliveryReturn, Measure

    commitment = Commitment.objects.create(
        contract=contract,
        measure=Measure.objects.get(code="LS-JOBS-03"),
        quantity=Decimal("52"),
        period_start=date(2025, 4, 1),
        period_end=date(2026, 3, 31),
    )
    DeliveryReturn.objects.create(
        commitment=commitment,
        quantity=Decimal("13"),
        period_start=date(2025, 4, 1),
        period_end=date(2025, 6, 30),
        evidence_note="Timesheets",
        confirmed=True,
    )
    return commitment


def _edit(council, supplier, contract, **changes) -> ContractForm:
    data = _data(
        supplier,
        reference=contract.reference,
        title=contract.title,
        value="10000.00",
        annual_value="",
        start_date="2025-04-01",
        end_date="2026-03-31",
    )
    data.update(changes)
    return ContractForm(data, instance=contract, council=council)


def test_a_contract_cannot_end_before_its_commitments(
    council, supplier, contract, committed
):
    form = _edit(council, supplier, contract, end_date="2025-12-31")
    assert not form.is_valid()
    assert form.errors["end_date"] == [
        "The commitment to LS-JOBS-03 (1 April 2025 to 31 March 2026) would end "
        "after the contract. Change or remove that commitment on the contract's "
        "social value page first, or make the end date 31 March 2026 or later."
    ]
    contract.refresh_from_db()
    assert contract.end_date == date(2026, 3, 31)


def test_a_contract_cannot_start_after_its_commitments(
    council, supplier, contract, committed
):
    form = _edit(council, supplier, contract, start_date="2025-10-01")
    assert not form.is_valid()
    # The commitment and its first quarter's return, both to be moved.
    assert form.errors["start_date"] == [
        "The commitment to LS-JOBS-03 (1 April 2025 to 31 March 2026) and the "
        "delivery return for 1 April 2025 to 30 June 2025 (commitment to "
        "LS-JOBS-03) would start before the contract. Change or remove them on the "
        "contract's social value page first, or start the contract on 1 April 2025 "
        "or earlier."
    ]


def test_an_extension_that_holds_the_commitments_is_enough(
    council, supplier, contract, committed
):
    """The commitment form lets a commitment run to the end date if extended."""
    form = _edit(
        council,
        supplier,
        contract,
        end_date="2025-12-31",
        extension_end_date="2026-03-31",
    )
    assert form.is_valid(), form.errors
    shorter = _edit(
        council,
        supplier,
        contract,
        end_date="2025-12-31",
        extension_end_date="2026-02-28",
    )
    assert not shorter.is_valid()
    assert (
        "make the end date if extended 31 March 2026 or later"
        in (shorter.errors["extension_end_date"][0])
    )


def test_a_return_outside_the_new_dates_is_named(
    council, supplier, contract, committed
):
    """A return recorded before its commitment was shortened (or by hand) is
    held to the contract's dates too."""
    from socialvalue.models import Commitment

    Commitment.objects.filter(pk=committed.pk).update(period_start=date(2025, 7, 1))
    form = _edit(council, supplier, contract, start_date="2025-07-01")
    assert not form.is_valid()
    assert form.errors["start_date"] == [
        "The delivery return for 1 April 2025 to 30 June 2025 (commitment to "
        "LS-JOBS-03) would start before the contract. Change or remove that return "
        "on the contract's social value page first, or start the contract on "
        "1 April 2025 or earlier."
    ]


def test_every_commitment_outside_the_new_dates_is_named_with_the_date_for_all(
    council, supplier, contract, committed
):
    """QA: shortening a contract named one commitment and the date it needed;
    made so, the save failed on the next one."""
    from socialvalue.models import Commitment, Measure

    Commitment.objects.create(
        contract=contract,
        measure=Measure.objects.get(code="LS-COMM-01"),
        quantity=Decimal("300"),
        period_start=date(2025, 4, 1),
        period_end=date(2026, 2, 28),
    )
    form = _edit(council, supplier, contract, end_date="2025-12-31")
    assert not form.is_valid()
    (said,) = form.errors["end_date"]
    assert said.startswith("The commitment to LS-JOBS-03 (1 April 2025 to 31 March ")
    assert "and the commitment to LS-COMM-01 (1 April 2025 to 28 February 2026)" in said
    assert said.endswith(
        "would end after the contract. Change or remove those commitments on the "
        "contract's social value page first, or make the end date 31 March 2026 or "
        "later."
    )


def test_dates_that_still_hold_the_commitments_save(
    client, council_officer, council, supplier, contract, committed
):
    client.force_login(council_officer)
    url = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    later = _data(
        supplier,
        reference="LBC-1",
        title="Home care",
        value="10000.00",
        annual_value="",
        start_date="2025-01-01",
        end_date="2027-03-31",
    )
    assert client.post(url, later).status_code == 302
    early_end = {**later, "end_date": "2025-09-30"}
    page = client.post(url, early_end)
    assert page.status_code == 200
    assertContains(page, "The commitment to LS-JOBS-03")
    contract.refresh_from_db()
    assert contract.end_date == date(2027, 3, 31)


# --- Values that cannot be right ---------------------------------------------


def test_an_annual_value_above_the_whole_life_value_is_refused(council, supplier):
    form = _form(council, supplier, value="1000.00", annual_value="50000.00")
    assert not form.is_valid()
    assert form.errors["annual_value"] == [
        "The annual value (£50,000.00) is more than the whole-life value "
        "(£1,000.00) of a contract running a year or more. Check both: the "
        "whole-life value is the total over the contract's whole period."
    ]


@pytest.mark.parametrize(
    ("end", "ok"),
    [
        ("2025-09-30", True),  # six months: the annual value is a yearly rate
        ("2026-03-30", True),  # a day short of a year
        ("2026-03-31", False),  # a whole year
        ("", True),  # no end date: the whole life is not known
    ],
)
def test_a_contract_under_a_year_may_give_its_annual_rate(council, supplier, end, ok):
    form = _form(
        council, supplier, value="25000.00", annual_value="50000.00", end_date=end
    )
    assert form.is_valid() is ok, form.errors


def test_a_review_date_after_the_end_is_refused(council, supplier):
    form = _form(council, supplier, review_date="2030-04-01")
    assert not form.is_valid()
    assert form.errors["review_date"] == [
        "The review date must be on or before the end date (31 March 2028): a "
        "contract is reviewed while it runs."
    ]
    extended = _form(
        council,
        supplier,
        review_date="2029-04-01",
        extension_end_date="2030-03-31",
    )
    assert extended.is_valid(), extended.errors
    beyond = _form(
        council,
        supplier,
        review_date="2030-04-01",
        extension_end_date="2030-03-31",
    )
    assert (
        "before the end date if extended (31 March 2030)"
        in (beyond.errors["review_date"][0])
    )


# --- Plain messages, not Django's ------------------------------------------------


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        (
            "value",
            "10000000000000",
            "Enter a whole-life value under £1,000,000,000,000.",
        ),
        (
            "annual_value",
            "1000000000000.00",
            "Enter an annual value under £1,000,000,000,000.",
        ),
        (
            "value",
            "1000.005",
            "Enter a whole-life value in pounds and pence, with at most 2 decimal "
            "places.",
        ),
        (
            "value",
            "lots",
            "Enter a whole-life value in pounds, like 120000 or 120000.50.",
        ),
        ("social_value_weighting", "1000", "Enter a percentage between 0 and 100."),
        (
            "title",
            "T" * 657,
            "Enter a title of at most 300 characters: this one has 657.",
        ),
        (
            "reference",
            "R" * 101,
            "Enter a reference of at most 100 characters: this one has 101.",
        ),
        ("end_date", "2026-02-30", "Enter the end date as a real date."),
        ("status", "withdrawn", "Choose the contract's status from the list."),
    ],
)
def test_the_contract_form_speaks_plainly(council, supplier, field, typed, message):
    form = _form(council, supplier, **{field: typed})
    assert not form.is_valid()
    assert form.errors[field] == [message]


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        (
            "employees",
            "-1",
            "Enter 0 or more employees, or leave it blank if it is not known.",
        ),
        (
            "turnover",
            "1000000000000000000",
            "Enter the turnover of at most £1,000,000,000,000.",
        ),
        (
            "name",
            "N" * 301,
            "Enter a name of at most 300 characters: this one has 301.",
        ),
    ],
)
def test_the_supplier_form_speaks_plainly(field, typed, message, db):
    from procure.forms import SupplierForm

    form = SupplierForm(
        {"name": "Acme Ltd", "organisation_type": "unknown", field: typed}
    )
    assert not form.is_valid()
    assert form.errors[field] == [message]


def test_the_off_contract_amount_speaks_plainly():
    from councils.periods import FinancialYear
    from procure.forms import OffContractForm

    form = OffContractForm(
        {"year": "2025", "threshold": "custom", "amount": "1" * 15},
        years=[FinancialYear(2025)],
    )
    assert not form.is_valid()
    assert form.errors["amount"] == ["Enter an amount under £1,000,000,000,000."]


def test_the_admin_cannot_move_a_contract_to_another_council(
    admin_client, council, other_council, contract
):
    url = reverse("admin:procure_contract_change", args=[contract.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "council" not in page.context["adminform"].form.fields
    # Posting a council anyway changes nothing.
    form = page.context["adminform"].form
    data = {
        name: form[name].value() if form[name].value() is not None else ""
        for name in form.fields
    }
    data.update({"council": other_council.pk})
    for key in ("kpis-TOTAL_FORMS", "kpis-INITIAL_FORMS"):
        data[key] = "0"
    response = admin_client.post(url, data)
    assert response.status_code == 302  # saved, not refused
    contract.refresh_from_db()
    assert contract.council_id == council.pk
    # Adding a contract still asks for its council.
    add = admin_client.get(reverse("admin:procure_contract_add"))
    assert "council" in add.context["adminform"].form.fields


def test_an_off_contract_amount_in_error_says_the_list_is_the_usual_one(
    client, viewer, council
):
    """QA: with "Another amount" left empty the page listed spend from £5,000 as
    if nothing were wrong (the error was above, the list below said nothing)."""
    client.force_login(viewer)
    url = reverse("procure:off-contract", args=[council.slug])
    from councils.periods import FinancialYear

    year = FinancialYear.for_date(date.today()).start_year
    page = client.get(url, {"year": year, "threshold": "custom", "amount": ""})
    assertContains(page, "Enter the amount, in pounds.")
    assertContains(page, "Until the choices above are corrected, the list below uses")
    assertNotContains(client.get(url), "Until the choices above are corrected")


# --- A page opened before someone else's save --------------------------------
# (the steps, as for a supplier: tests/procure/test_supplier_edit.py)


def test_a_contract_save_from_a_page_opened_before_anothers_is_refused(
    client, council_officer, council_admin, council, supplier, contract
):
    """QA: with the contract open in two tabs, the contract manager set in one
    and the title in the other, the second save took the manager out again."""
    import re

    url = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    response, _ = _saved_in_two_tabs(
        client,
        url,
        (council_officer, {"contract_manager": "Priya Shah"}),
        (council_admin, {"title": "Home care and support"}),
    )
    said = _errors(response)
    assert re.search(
        r"Nothing was saved: bob-officer \(at \d\d:\d\d on \d{1,2} \w+ \d{4}\) "
        r"changed Contract manager after you opened this page\. Your change to "
        r"Title is kept in the form; the rest now shows the contract as it is\. "
        r"Check it, then save again\.",
        said,
    ), said
    contract.refresh_from_db()
    assert (contract.title, contract.contract_manager) == ("Home care", "Priya Shah")
    assert contract.history.count() == 2
    form = response.context["form"]
    assert form["title"].value() == "Home care and support"
    assert form["contract_manager"].value() == "Priya Shah"
    assert client.post(url, _as_shown(form)).status_code == 302
    contract.refresh_from_db()
    assert contract.title == "Home care and support"
    assert contract.contract_manager == "Priya Shah"


def test_a_contract_refusal_names_a_former_member_as_the_contract_history_does(
    client, council_officer, council, supplier, contract, django_user_model
):
    """A contract is the council's own: a former member is named for what
    they did to it (here=True), as its history names them."""
    from councils.models import Membership

    url = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    tab = _opened(client, council_officer, url)
    ann = django_user_model.objects.create_user("ann-former")
    held = Membership.objects.create(user=ann, council=council, role="procurement")
    contract._history_user = ann
    contract.department = "Adult social care"
    contract.save()
    held.delete()
    response = client.post(url, tab | {"title": "Home care and support"})
    said = _errors(response)
    assert "Nothing was saved: ann-former (at " in said
    assert "changed Department after you opened" in said
    contract.refresh_from_db()
    assert (contract.title, contract.department) == ("Home care", "Adult social care")


def test_a_contract_save_from_a_page_with_no_seen_is_not_checked(
    client, council_officer, council, supplier, contract
):
    """A page from before `seen` (or a script): saved as before."""
    url = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    tab = _opened(client, council_officer, url)
    contract.contract_manager = "Priya Shah"
    contract.save()
    del tab["seen"]
    assert client.post(url, tab | {"title": "Home care and support"}).status_code == 302
    contract.refresh_from_db()
    assert contract.title == "Home care and support"


def test_an_unchanged_contract_page_saves_nothing_with_its_seen(
    client, council_officer, council, supplier, contract
):
    """The hidden `seen` is not a change: sent back as it came, nothing is
    saved and no history written."""
    url = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    tab = _opened(client, council_officer, url)
    assert tab["seen"]
    assert client.post(url, tab).status_code == 302
    assert contract.history.count() == 1


def test_a_contract_save_that_comes_in_between_is_caught_under_the_lock(
    council, supplier, contract
):
    said = _refused_under_lock(
        ContractForm,
        contract,
        council,
        {"title": "Home care and support"},
        {"contract_manager": "Priya Shah"},
    )
    assert "changed Contract manager" in said


def test_the_contract_edit_page_checks_again_under_the_lock(
    client, council_officer, council, supplier, contract, monkeypatch
):
    """A save landing between this one's validation and its save is caught by
    the view's check on the locked row."""
    url = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    said = _refused_after_a_save_in_between(
        client,
        council_officer,
        url,
        {"title": "Home care and support"},
        form_class=ContractForm,
        meanwhile=lambda: Contract.objects.filter(pk=contract.pk).update(
            contract_manager="Priya Shah"
        ),
        monkeypatch=monkeypatch,
    )
    assert "changed Contract manager after you opened this page" in said
    contract.refresh_from_db()
    assert (contract.title, contract.contract_manager) == ("Home care", "Priya Shah")


def test_a_contract_with_no_description_says_it_is_not_recorded(
    client, viewer, contract
):
    """QA: an empty description read "None", where other empty details say
    "Not recorded"."""
    client.force_login(viewer)
    page = client.get(contract.get_absolute_url())
    assertContains(
        page,
        '<dt class="govuk-summary-list__key">Description</dt><dd '
        'class="govuk-summary-list__value">Not recorded</dd>',
    )


def test_tendered_or_quoted_and_the_route_offer_not_recorded_not_dashes(
    client, council_officer, council
):
    client.force_login(council_officer)
    page = client.get(reverse("procure:contract-new", args=[council.slug]))
    assertContains(page, '<option value="" selected>Not recorded</option>', html=True)
    assertNotContains(page, "---------")


@pytest.mark.parametrize(
    "field", ["end_date", "review_date", "extension_end_date"], ids=str
)
def test_other_dates_that_are_typing_slips_are_refused(council, supplier, field):
    dates = {"end_date": "2027-03-31"} | {field: "2199-06-01"}
    form = _form(council, supplier, **dates)
    assert not form.is_valid()
    assert "looks like a typing slip" in form.errors[field][0]


def test_a_payment_linked_by_hand_leaves_a_contract_given_another_supplier(
    client, council_officer, council, supplier, contract, make_supplier, make_line
):
    """Review: a contract whose supplier was changed kept the payments to its old
    supplier that an officer had linked to it by hand (which `link_lines` would
    never allow): they go back to the rule, and the move is recorded."""
    from procure.linking import link_lines

    early = make_line(
        council, supplier=supplier, payment_date=date(2024, 1, 5), amount=75
    )
    link_lines(contract, [early.pk], user=council_officer)
    other = make_supplier(name="Stopsley Care Ltd")
    make_line(council, supplier=other, payment_date=date(2025, 6, 1))
    client.force_login(council_officer)
    url = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    data = _data(other, reference="LBC-1", title="Home care")
    assert client.post(url, data).status_code == 302
    early.refresh_from_db()
    assert (early.contract, early.contract_link_manual) == (None, False)
    assert contract.spend_lines.exclude(supplier=other).count() == 0
