"""The contract register downloads as CSV: every contract the list's filters
select (all its pages), in the list's order, with a preamble, formula-safe."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from procure.linking import link_spend
from procure.models import Contract
from socialvalue.models import Commitment, Measure

FAR = date(2040, 3, 31)  # still running whenever the tests run
HEADER = [
    "Reference",
    "Title",
    "Supplier",
    "LocalSpend supplier number",
    "Department",
    "Status",
    "Procurement route",
    "Start date",
    "End date",
    "Whole-life value (£)",
    "Annual value (£)",
    "Spend to date (£)",
    "Spend to date as a share of the value (%)",
    "Social value commitments",
]


@pytest.fixture
def register(council, other_council, make_supplier, make_line):
    care = make_supplier(name="Wardown Care Ltd")
    waste = make_supplier(name="Marsh Farm Waste Ltd")
    make_line(council, supplier=care, payment_date=date(2025, 5, 1))  # £1,000
    make_line(council, supplier=care, payment_date=date(2025, 6, 1))
    home_care = Contract.objects.create(
        council=council,
        reference="LBC-1",
        title="Home care",
        supplier=care,
        department="People",
        route="open",
        value=Decimal("8000.00"),
        start_date=date(2025, 4, 1),
        end_date=FAR,
    )
    Contract.objects.create(
        council=council,
        reference="LBC-2",
        title="Waste collection",
        supplier=waste,
        department="Place",
        route="open",
        value=Decimal("900000.00"),
        start_date=date(2020, 1, 1),
        end_date=date(2024, 12, 31),
        status="ended",
    )
    Contract.objects.create(
        council=council,
        reference="LBC-3",
        title="Street lighting",
        supplier=waste,
        department="Place",
        route="direct_award",
        value=Decimal("45000.50"),
        start_date=date(2025, 1, 1),
        end_date=date(2039, 1, 1),
    )
    Contract.objects.create(
        council=other_council,
        reference="KN-1",
        title="Home care",
        supplier=care,
        department="People",
        start_date=date(2025, 1, 1),
        end_date=FAR,
    )
    for code in ("LS-JOBS-01", "LS-JOBS-04"):
        Commitment.objects.create(
            contract=home_care,
            measure=Measure.objects.get(code=code),
            quantity=Decimal("2"),
            period_start=date(2025, 4, 1),
            period_end=date(2026, 3, 31),
        )
    link_spend(council)
    return {"care": care, "waste": waste}


def _url(council) -> str:
    return reverse("procure:contracts", args=[council.slug])


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _references(rows) -> list[str]:
    return [row[0] for row in rows[7:]]


def test_the_whole_register_downloads_with_a_preamble_and_its_money_to_the_penny(
    client, viewer, council, register
):
    client.force_login(viewer)
    response = client.get(_url(council), {"format": "csv"})
    today = timezone.localdate()
    assert (
        f'filename="luton-contracts-{today:%Y-%m-%d}.csv"'
        in response["Content-Disposition"]
    )
    rows = _csv(response)
    assert rows[:7] == [
        ["Council", "Luton Borough Council"],
        ["Filters", "none"],
        [
            "Sorted by",
            "contracts still running first, ending soonest at the top; then "
            "pipeline notices, by end date; then contracts that have ended, most "
            "recent first",
        ],
        ["Contracts", "3"],
        ["Exported on", today.strftime("%d/%m/%Y")],
        [],
        HEADER,
    ]
    # Running contracts ending soonest first, as the page lists them; Knowsley's
    # contract never.
    assert _references(rows) == ["LBC-3", "LBC-1", "LBC-2"]
    care = register["care"]
    assert rows[8] == [
        "LBC-1",
        "Home care",
        "Wardown Care Ltd",
        str(care.pk),
        "People",
        "Active",
        "Open procedure",
        "01/04/2025",
        "31/03/2040",
        "8000.00",
        "",
        "2000.00",
        "25.0",
        "2",
    ]
    assert rows[9][5] == "Ended" and rows[9][9] == "900000.00"
    assert rows[7][9:14] == ["45000.50", "", "0.00", "0.0", "0"]


def test_the_download_keeps_the_filters_and_the_order_across_every_page(
    client, viewer, council, register
):
    client.force_login(viewer)
    page = client.get(
        _url(council), {"department": "Place", "sort": "value", "per_page": "1"}
    )
    # One contract a page, but the link offers both, and carries no page number.
    assertContains(page, "Download these 2 contracts (CSV)")
    assertContains(
        page, "?department=Place&amp;sort=value&amp;per_page=1&amp;format=csv"
    )
    rows = _csv(
        client.get(
            _url(council),
            {
                "department": "Place",
                "sort": "value",
                "per_page": "1",
                "page": "2",
                "format": "csv",
            },
        )
    )
    assert rows[1] == ["Filters", "department Place"]
    assert rows[2] == ["Sorted by", "value, lowest first"]
    assert rows[3] == ["Contracts", "2"]
    assert _references(rows) == ["LBC-3", "LBC-2"]
    rows = _csv(client.get(_url(council), {"sort": "-value", "format": "csv"}))
    assert rows[2] == ["Sorted by", "value, highest first"]
    assert _references(rows) == ["LBC-2", "LBC-3", "LBC-1"]
    rows = _csv(client.get(_url(council), {"sort": "reference", "format": "csv"}))
    assert _references(rows) == ["LBC-1", "LBC-2", "LBC-3"]


@pytest.mark.parametrize(
    ("query", "said", "references"),
    [
        ({"q": "care"}, "search “care”", ["LBC-1"]),
        ({"status": "ended"}, "status ended", ["LBC-2"]),
        ({"route": "direct_award"}, "procurement route direct award", ["LBC-3"]),
        (
            {"ending_after": "2030-01-01", "ending_before": "2039-12-31"},
            "ending from 1 January 2030 to 31 December 2039",
            ["LBC-3"],
        ),
        ({"ending_before": "2025-01-01"}, "ending on or before 1 January 2025", None),
        (
            {"value_min": "10000", "value_max": "50000"},
            "whole-life value from £10,000.00 to £50,000.00",
            ["LBC-3"],
        ),
        ({"value_min": "100000"}, "whole-life value of £100,000.00 or more", None),
    ],
)
def test_each_filter_is_applied_and_stated(
    client, viewer, council, register, query, said, references
):
    client.force_login(viewer)
    rows = _csv(client.get(_url(council), {**query, "format": "csv"}))
    assert rows[1] == ["Filters", said]
    assert _references(rows) == (references or ["LBC-2"])
    assert rows[3] == ["Contracts", str(len(_references(rows)))]


def test_a_supplier_filter_is_named_and_another_councils_contracts_never_come(
    client, viewer, council, register
):
    client.force_login(viewer)
    care = register["care"]  # Knowsley contracts with it too
    rows = _csv(client.get(_url(council), {"supplier": care.pk, "format": "csv"}))
    assert rows[1] == ["Filters", "supplier Wardown Care Ltd"]
    assert _references(rows) == ["LBC-1"]
    rows = _csv(client.get(_url(council), {"q": "KN-1", "format": "csv"}))
    assert rows[3] == ["Contracts", "0"] and _references(rows) == []


def test_a_filter_that_is_not_valid_gives_the_page_saying_why_not_a_file(
    client, viewer, council, register
):
    client.force_login(viewer)
    response = client.get(_url(council), {"value_min": "lots", "format": "csv"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assertContains(response, "Enter an amount in pounds", status_code=400)
    # Nor does the page offer a download that would ignore the filter.
    page = client.get(_url(council), {"value_min": "lots"})
    assertNotContains(page, "format=csv")


def test_no_link_when_nothing_matches_and_one_contract_reads_as_one(
    client, viewer, council, register
):
    client.force_login(viewer)
    assertNotContains(client.get(_url(council), {"q": "nothing-like-it"}), "(CSV)")
    assertContains(
        client.get(_url(council), {"q": "lighting"}), "Download this contract (CSV)"
    )


def test_the_download_is_formula_safe(client, viewer, council, make_supplier, register):
    Contract.objects.create(
        council=council,
        reference="=1+1",
        title='=HYPERLINK("http://evil.example","click")',
        supplier=make_supplier(name="+cmd|' /C calc'!A0"),
        department="@SUM(A1)",
        value=Decimal("5000"),
        start_date=date(2025, 4, 1),
        end_date=date(2041, 1, 1),
    )
    client.force_login(viewer)
    rows = _csv(client.get(_url(council), {"format": "csv", "q": "=1+1"}))
    assert rows[1] == ["Filters", "search “=1+1”"]
    row = rows[7]
    assert row[0] == "'=1+1"
    assert row[1].startswith("'=HYPERLINK")
    assert row[2] == "'+cmd|' /C calc'!A0"
    assert row[4] == "'@SUM(A1)"
    assert row[9] == "5000.00"


def test_the_download_needs_what_the_list_needs(
    client, council, other_council_officer, register
):
    url = _url(council) + "?format=csv"
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(other_council_officer)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"sort": "nonsense"}, 200),
        ({"sort": "-title"}, 200),  # not a column that sorts
        ({"per_page": "0", "page": "abc"}, 200),
        ({"status": "nonsense"}, 400),
        ({"supplier": "999999"}, 400),
        ({"ending_after": "2025-02-30"}, 400),
        ({"value_max": "1e400"}, 400),
    ],
)
def test_odd_addresses_give_a_file_or_the_page_never_an_error(
    client, viewer, council, register, query, status
):
    client.force_login(viewer)
    response = client.get(_url(council), {**query, "format": "csv"})
    assert response.status_code == status
    if status == 200:
        assert sorted(_references(_csv(response))) == ["LBC-1", "LBC-2", "LBC-3"]
    else:
        assertContains(response, "There is a problem", status_code=400)


def test_a_contract_valued_only_by_the_year_shows_its_annual_value(
    client, viewer, council
):
    Contract.objects.create(
        council=council,
        reference="LBC-9",
        title="Meals",
        start_date=date(2025, 4, 1),
        end_date=FAR,
        annual_value=Decimal("12000.5"),
    )
    client.force_login(viewer)
    rows = _csv(client.get(_url(council), {"format": "csv"}))
    row = rows[7]
    assert row[0] == "LBC-9"
    # No whole-life value: its annual value, and no share of a value.
    assert row[9:13] == ["", "12000.50", "0.00", ""]


def test_sorting_by_status_sorts_by_the_status_shown(client, viewer, council):
    """An active contract whose end date has passed shows as ended, and sorts
    with the ended ones, on the page and in the file."""
    for reference, status, end in [
        ("S-1", "active", FAR),
        ("S-2", "ended", date(2024, 3, 31)),
        ("S-3", "active", date(2024, 3, 31)),  # shown "Ended"
        ("S-4", "pipeline", FAR),
    ]:
        Contract.objects.create(
            council=council,
            reference=reference,
            title="Work",
            start_date=date(2023, 4, 1),
            end_date=end,
            status=status,
        )
    client.force_login(viewer)
    page = client.get(_url(council), {"sort": "status"}).content.decode()
    assert re.findall(r">(S-\d)</a>", page) == ["S-1", "S-2", "S-3", "S-4"]
    rows = _csv(client.get(_url(council), {"sort": "-status", "format": "csv"}))
    # Pipeline, then ended (by reference), then active.
    assert _references(rows) == ["S-4", "S-2", "S-3", "S-1"]


@pytest.mark.parametrize(
    "query, field_message",
    [
        (
            {"ending_after": "2028-01-01", "ending_before": "2025-01-01"},
            "must be on or after the “ending on or after” date",
        ),
        (
            {"value_min": "5000", "value_max": "100"},
            "must be at least the “whole-life value from”",
        ),
    ],
)
def test_a_range_the_wrong_way_round_is_explained_not_an_empty_list(
    client, viewer, council, register, query, field_message
):
    client.force_login(viewer)
    page = client.get(_url(council), query)
    assertContains(page, field_message)
    assertNotContains(page, "No contracts match")
    # The file is refused too, with the same page.
    refused = client.get(_url(council), {**query, "format": "csv"})
    assert refused.status_code == 400


def test_a_sort_by_no_such_column_keeps_the_lists_own_order(
    client, viewer, council, register
):
    """Not rows in no order, and a file "not sorted": the list's default stands."""
    client.force_login(viewer)
    rows = _csv(client.get(_url(council), {"sort": "nonsense", "format": "csv"}))
    assert rows[2][1].startswith("contracts still running first")
    assert _references(rows) == ["LBC-3", "LBC-1", "LBC-2"]
    page = client.get(_url(council), {"sort": "-title,nonsense"}).content.decode()
    assert re.findall(r">(LBC-\d)</a>", page) == ["LBC-3", "LBC-1", "LBC-2"]


def test_the_page_and_the_download_word_the_order_alike(
    client, viewer, council, register
):
    """Review: the page worded its order with its own copy of the download's
    words (and the download through a wrapper): one set of words, "due"'s too."""
    from django_tables2.utils import OrderByTuple

    from procure.exports import sorted_by
    from procure.tables import DUE_ORDER_WORDS

    assert sorted_by(OrderByTuple(["-due", "value"])) == (
        f"the reverse of: {DUE_ORDER_WORDS}; value, lowest first"
    )
    client.force_login(viewer)
    for sort, words in (
        ("", DUE_ORDER_WORDS),
        ("-due", f"the reverse of: {DUE_ORDER_WORDS}"),
        ("-end_date", "end date, latest first"),
    ):
        query = {"sort": sort} if sort else {}
        rows = _csv(client.get(_url(council), {**query, "format": "csv"}))
        assert rows[2] == ["Sorted by", words]
        assertContains(client.get(_url(council), query), f"In this order: {words}.")
