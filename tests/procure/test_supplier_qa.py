"""QA findings on the supplier list, the supplier page and the contract form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from councils.periods import FinancialYear
from spend import rollup


def _names(response) -> list[str]:
    return sorted(row.record.name for row in response.context["table"].paginated_rows)


@pytest.fixture
def named(council, other_council, make_supplier, make_line):
    fy = FinancialYear.for_date(timezone.localdate())
    for name in [
        "Café Crème Ltd",
        "Smith & Jones Ltd",
        "O'Brien Joinery Limited",
        "Tesco Stores",
        "Tesco Ltd",
        "Wardown Company",
        "Stockwood Company Limited",
    ]:
        make_line(council, supplier=make_supplier(name=name), payment_date=fy.start)
    rollup.rebuild(council.pk)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # QA: accents and "&"/"and" were not folded as the contract form's box does.
        ("cafe creme", ["Café Crème Ltd"]),
        ("CAFÉ", ["Café Crème Ltd"]),
        ("smith and jones", ["Smith & Jones Ltd"]),
        ("Smith & Jones", ["Smith & Jones Ltd"]),
        ("smith&jones", ["Smith & Jones Ltd"]),
        ("obrien joinery ltd", ["O'Brien Joinery Limited"]),
        ("o’brien", ["O'Brien Joinery Limited"]),
        # "company" is read as "co" only as a whole word: not "Tesco", even with
        # a legal form after it (review: "company ltd" found "Tesco Ltd").
        ("company", ["Stockwood Company Limited", "Wardown Company"]),
        ("company ltd", ["Stockwood Company Limited"]),
        ("Company Limited", ["Stockwood Company Limited"]),
        ("wardown co", ["Wardown Company"]),
        # A legal form typed makes no difference, as in the contract form's box
        # (QA: "Ashcroft Joinery Ltd" did not find "Ashcroft Joinery LLP").
        ("tesco ltd", ["Tesco Ltd", "Tesco Stores"]),
        ("Smith & Jones LLP", ["Smith & Jones Ltd"]),
        ("obrien joinery plc", ["O'Brien Joinery Limited"]),
        # Not down to a letter: "A Ltd" is not "a" found in every name (review).
        ("A Ltd", []),
        ("zzqx", []),
    ],
)
def test_the_supplier_search_folds_accents_and_ampersands(
    client, viewer, council, named, query, expected
):
    client.force_login(viewer)
    url = reverse("procure:suppliers", args=[council.slug])
    assert _names(client.get(url, {"q": query})) == expected


def test_a_spelling_in_the_councils_files_is_folded_too(client, viewer, council, named):
    from procure.models import Supplier, SupplierAlias

    supplier = Supplier.objects.get(name="Tesco Stores")
    SupplierAlias.objects.create(
        supplier=supplier, council=council, name="Tésco Hypermarché & Co"
    )
    client.force_login(viewer)
    url = reverse("procure:suppliers", args=[council.slug])
    assert _names(client.get(url, {"q": "hypermarche and"})) == ["Tesco Stores"]


# --- The contract form ----------------------------------------------------------


@pytest.fixture
def supplier(council, make_supplier, make_line):
    supplier = make_supplier(name="Wardown Care Ltd")
    make_line(council, supplier=supplier, payment_date=date(2025, 5, 1))
    return supplier


@pytest.fixture
def contract(council, supplier):
    from procure.models import Contract

    return Contract.objects.create(
        council=council,
        reference="LBC-1",
        title="Home care",
        supplier=supplier,
        value=Decimal("10000.00"),
        start_date=date(2025, 4, 1),
        end_date=date(2026, 3, 31),
    )


def _contract_data(supplier, /, **changes) -> dict:
    data = {
        "reference": "LBC-1",
        "title": "Home care",
        "supplier": supplier.pk if supplier else "",
        "status": "active",
        "value": "10000.00",
        "start_date": "2025-04-01",
        "end_date": "2026-03-31",
    }
    data.update(changes)
    return data


def test_a_typed_name_matching_no_supplier_is_quoted_and_kept(council, supplier):
    """QA: the error page came back with the box empty, and the message did not
    say which name was refused."""
    from procure.forms import ContractForm

    data = _contract_data(supplier, supplier="-1", supplier_typed=" Ashcrft 10% ")
    form = ContractForm(data, council=council)
    assert not form.is_valid()
    assert form.errors["supplier"] == [
        "“Ashcrft 10%” is not a supplier Luton deals with: choose one from the "
        "list, or leave it empty for a pipeline contract."
    ]
    # Given to the box (supplier-search.js) to show again.
    assert 'data-ls-typed="Ashcrft 10%"' in str(form["supplier"])
    # Without the box's text (no JavaScript), the list's own message.
    form = ContractForm(_contract_data(supplier, supplier="-1"), council=council)
    assert not form.is_valid()
    assert "Choose a supplier from the list" in form.errors["supplier"][0]
    assert "data-ls-typed" not in str(form["supplier"])


def _delivered(contract):
    from socialvalue.models import Commitment, DeliveryReturn, Measure

    commitment = Commitment.objects.create(
        contract=contract,
        measure=Measure.objects.get(code="LS-JOBS-03"),
        quantity=Decimal("52"),
        period_start=date(2025, 4, 1),
        period_end=date(2026, 3, 31),
    )
    return DeliveryReturn.objects.create(
        commitment=commitment,
        quantity=Decimal("13"),
        period_start=date(2025, 4, 1),
        period_end=date(2025, 6, 30),
        evidence_note="Timesheets seen",
        confirmed=True,
    )


def test_a_contract_with_social_value_delivered_cannot_go_back_to_the_pipeline(
    council, supplier, contract
):
    """QA: a contract with delivery returns was made "Pipeline (not yet
    awarded)", its supplier cleared, in one save."""
    from procure.forms import ContractForm

    def form(data):  # the contract as saved (a form's check changes its instance)
        return ContractForm(data, instance=_fresh(contract), council=council)

    pipeline = _contract_data(None, status="pipeline")
    assert form(pipeline).is_valid()
    _delivered(contract)
    refused = form(pipeline)
    assert not refused.is_valid()
    assert refused.errors["status"] == [
        "This contract has 1 social value delivery return, so it has been "
        "awarded: a pipeline contract is one not yet awarded. Keep its status, "
        "or, if it was never awarded, first remove the return on the contract's "
        "social value page."
    ]
    # Its supplier kept, still refused; any other status is saved.
    assert not form(_contract_data(supplier, status="pipeline")).is_valid()
    assert form(_contract_data(supplier, status="ended")).is_valid()


def _fresh(contract):
    from procure.models import Contract

    return Contract.objects.get(pk=contract.pk)


def test_a_contract_with_payments_linked_by_hand_cannot_go_back_to_the_pipeline(
    council, supplier, contract, make_line, council_officer
):
    from procure.forms import ContractForm
    from procure.linking import link_lines

    lines = [
        make_line(council, supplier=supplier, payment_date=date(2024, 5, 1))
        for _ in range(2)
    ]
    assert link_lines(contract, [line.pk for line in lines], user=council_officer)
    _delivered(contract)
    form = ContractForm(
        _contract_data(None, status="pipeline"), instance=contract, council=council
    )
    assert not form.is_valid()
    message = form.errors["status"][0]
    assert message.startswith(
        "This contract has 1 social value delivery return and 2 payments linked "
        "to it by hand, so it has been awarded"
    )
    assert message.endswith(
        "first remove the return on the contract's social value page and take the "
        "payments off it on the contract's page."
    )


def test_the_edit_page_refuses_the_pipeline_and_saves_nothing(
    client, council, supplier, contract, council_officer
):
    from procure.models import Contract
    from tests.procure.test_supplier_edit import _errors, _opened

    _delivered(contract)
    url = reverse("procure:contract-edit", args=[council.slug, contract.pk])
    data = _opened(client, council_officer, url)
    data.update(status="pipeline", supplier="")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "so it has been awarded" in _errors(response)
    contract.refresh_from_db()
    assert contract.status != "pipeline"
    assert contract.supplier == supplier
    assert Contract.objects.get(pk=contract.pk).status == "active"


# --- The supplier page --------------------------------------------------------


@pytest.fixture
def near_pair(council, make_supplier, make_line):
    """A supplier and the register's supplier of a name alike, both paid by
    Luton, the first suggested as perhaps the second."""
    from procure.models import MatchSuggestion

    new = make_supplier(name="Ashcroft Joinery Services")
    held = make_supplier(name="Ashcroft Joinery LLP")
    for supplier in (new, held):
        make_line(council, supplier=supplier)
    MatchSuggestion.objects.create(supplier=new, candidate=held, score=100)
    return new, held


def test_a_possible_duplicate_leads_to_review_and_the_merge_and_says_why(
    client, council, council_officer, viewer, near_pair
):
    """QA: "This may be the same organisation as Ashcroft Joinery LLP (words 100%
    alike)" led nowhere and did not say what "words alike" meant."""
    new, held = near_pair
    url = reverse("procure:supplier-detail", args=[council.slug, new.pk])
    review = reverse("procure:review", args=[council.slug])
    merge = reverse("procure:supplier-merge", args=[council.slug, new.pk, held.pk])
    client.force_login(council_officer)
    page = client.get(url).content.decode()
    assert (
        "(every word of one name is in the other, leaving out Ltd, LLP and the like)"
    ) in page
    assert f'<a class="govuk-link" href="{review}">Check it in Review</a>' in page
    assert (
        f'<a class="govuk-link" href="{merge}">merge Ashcroft Joinery Services into '
        "Ashcroft Joinery LLP</a>"
    ) in page
    assert client.get(merge).status_code == 200  # the merge is confirmed there
    # A cabinet member may not merge: led to Review only.
    client.force_login(viewer)
    page = client.get(url).content.decode()
    assert f'href="{review}"' in page and f'href="{merge}"' not in page


def test_a_possible_duplicate_below_100_gives_its_share_of_words(
    client, council, viewer, near_pair
):
    from procure.models import MatchSuggestion

    new, _ = near_pair
    MatchSuggestion.objects.update(score=88)
    client.force_login(viewer)
    page = client.get(reverse("procure:supplier-detail", args=[council.slug, new.pk]))
    assert "(their words 88% alike, leaving out Ltd, LLP and the like)" in (
        page.content.decode()
    )


def test_a_possible_duplicate_links_to_the_other_suppliers_page(
    client, council, viewer, near_pair
):
    new, held = near_pair
    client.force_login(viewer)
    page = client.get(reverse("procure:supplier-detail", args=[council.slug, new.pk]))
    other = reverse("procure:supplier-detail", args=[council.slug, held.pk])
    assert f'<a class="govuk-link" href="{other}">Ashcroft Joinery LLP</a>' in (
        page.content.decode()
    )


# What the Details panel calls each fact the tags are worked out from.
FACT_LABELS = {
    "organisation_type": "Type",
    "company_number": "Companies House number",
    "charity_number": "Charity number",
    "charity_register": "Charity number",  # shown with the number
    "postcode": "Postcode",
    "employees": "Staff",
    "turnover": "Turnover",
    "balance_sheet_total": "Balance sheet total",
    "part_of_large_group": "Part of a large group",
    "living_wage_accredited": "Accredited real Living Wage employer",
    "company_category": "Company category (Companies House)",
    "accounts_category": "Accounts category (Companies House)",
    "company_status": "Company status (Companies House)",
}


def _details(page) -> dict[str, str]:
    """The Details panel's rows: label to value, as read."""
    import re
    from html import unescape

    text = page.content.decode()
    start = text.index('<h2 class="govuk-heading-m">Details</h2>')
    panel = text[start : text.index("</dl>", start)]
    rows = re.findall(
        r'__key">(.*?)</dt><dd class="govuk-summary-list__value">(.*?)</dd>',
        panel,
        re.S,
    )
    return {unescape(k): unescape(re.sub(r"<br>", " / ", v)) for k, v in rows}


def test_the_details_show_every_fact_the_tags_are_worked_out_from(
    client, council, viewer, make_supplier, make_line
):
    """QA: the Living Wage tag cited an accreditation the Details did not show,
    nor a large group, the balance sheet or the address."""
    from socialvalue.tagging import FACT_FIELDS

    assert set(FACT_FIELDS) - {"name"} == set(FACT_LABELS)
    supplier = make_supplier(
        name="Ashcroft Joinery LLP",
        organisation_type="charity",
        company_number="01234567",
        charity_register="GB-CHC",
        charity_number="1100001",
        address="1 High Street\nLuton",
        postcode="LU1 2AA",
        employees=1200,
        turnover=Decimal("5000000.00"),
        balance_sheet_total=Decimal("2500000.50"),
        part_of_large_group=False,
        living_wage_accredited=True,
        company_category="Private Limited Company",
        accounts_category="FULL",
        company_status="Active",
    )
    make_line(council, supplier=supplier)
    client.force_login(viewer)
    url = reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    shown = _details(client.get(url))
    assert shown == {
        "Type": "Registered charity (incl. CIO)",
        "Companies House number": "01234567",
        "Charity number": "1100001 (Charity Commission (England and Wales))",
        "VAT number": "Not recorded",
        "Address": "1 High Street / Luton",
        "Postcode": "LU1 2AA",
        "Staff": "1,200",
        "Turnover": "£5,000,000.00",
        "Balance sheet total": "£2,500,000.50",
        "Part of a large group": "No",
        "Accredited real Living Wage employer": "Yes",
        "Company category (Companies House)": "Private Limited Company",
        "Accounts category (Companies House)": "FULL",
        "Company status (Companies House)": "Active",
    }


def test_facts_not_recorded_say_so(client, council, viewer, make_supplier, make_line):
    supplier = make_supplier(name="Mystery Trading")
    make_line(council, supplier=supplier)
    client.force_login(viewer)
    url = reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    shown = _details(client.get(url))
    assert set(FACT_LABELS.values()) | {"VAT number", "Address"} == set(shown)
    assert set(shown.values()) == {"Not recorded"}


def test_a_name_typed_that_two_suppliers_have_asks_to_choose_one(
    council, supplier, make_supplier, make_line
):
    """Review: two "Wardown Care Ltd" are listed with what tells them apart, so
    the bare name typed matches neither: the form said it "is not a supplier
    Luton deals with", which is false."""
    from procure.forms import ContractForm

    namesake = make_supplier(name="WARDOWN CARE LIMITED", postcode="LU1 1AA")
    make_line(council, supplier=namesake, payment_date=date(2025, 5, 1))
    for typed in ("Wardown Care Ltd", "wardown care limited"):
        data = _contract_data(supplier, supplier="-1", supplier_typed=typed)
        form = ContractForm(data, council=council)
        assert not form.is_valid()
        assert form.errors["supplier"] == [
            f"More than one supplier is called “{typed}”: choose one from the list."
        ]
    # A name only one supplier has is still not one Luton deals with.
    data = _contract_data(supplier, supplier="-1", supplier_typed="Wardown Cars Ltd")
    form = ContractForm(data, council=council)
    assert not form.is_valid()
    assert "is not a supplier Luton deals with" in form.errors["supplier"][0]


def test_the_contract_page_asks_to_choose_between_namesakes(
    client, council_officer, council, supplier, make_supplier, make_line
):
    namesake = make_supplier(name="Wardown Care Ltd", postcode="LU1 1AA")
    make_line(council, supplier=namesake, payment_date=date(2025, 5, 1))
    client.force_login(council_officer)
    response = client.post(
        reverse("procure:contract-new", args=[council.slug]),
        _contract_data(supplier, supplier="-1", supplier_typed="Wardown Care Ltd"),
    )
    assert response.status_code == 200
    assert "More than one supplier is called “Wardown Care Ltd”" in (
        response.content.decode()
    )
