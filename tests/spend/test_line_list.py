"""The spend line list: the filters dashboards link with, and its exports.

The data is small and hand-made; each expected answer is worked out from it.
Line amounts are distinct powers of two, so a total names the lines it sums.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs

import openpyxl
import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from socialvalue.models import TAG_VALUES, SupplierTag, TagOverride
from spend import rollup
from spend.filters import NOT_STATED
from spend.models import TagMonth


def tag(supplier, kind, value, council=None):
    return SupplierTag.objects.create(
        supplier=supplier,
        council=council,
        kind=kind,
        value=value,
        source="declaration",
        evidence="Set by the test.",
        confidence="high",
        decided_at=timezone.now(),
    )


@pytest.fixture
def data(council, other_council, make_supplier, make_line):
    """Luton's lines L1..L6 (amounts 1, 2, 4, 8, 16 and -32 hundred pounds) and
    one Knowsley line, from five kinds of supplier:

    bakery: local to Luton, elsewhere in the UK to Knowsley; small; not a VCSE;
        Living Wage accredited; verified in the register.
    police: wider area to Luton; public sector; unverified.
    mystery: no tags for Luton (local to Knowsley only); unverified.
    vague: every Luton tag says "unknown"; unverified.
    and a redacted payee (no supplier).
    """
    bakery = make_supplier(name="Luton Bakery Ltd", verified=True)
    tag(bakery, "locality", "local", council)
    tag(bakery, "locality", "uk", other_council)
    tag(bakery, "size", "small")
    tag(bakery, "vcse", "no")
    tag(bakery, "living_wage", "yes")
    police = make_supplier(name="Bedfordshire Police")
    tag(police, "locality", "wider", council)
    tag(police, "size", "public_sector")
    # "Not a Living Wage employer" is offered once an officer has said it of
    # someone (the rules never say it): here, of a supplier Luton never paid.
    TagOverride.objects.create(
        supplier=make_supplier(name="Unpaid Ltd"),
        kind="living_wage",
        value="no",
        reason="Told us so",
    )
    mystery = make_supplier(name="Mystery Ltd")
    tag(mystery, "locality", "local", other_council)
    vague = make_supplier(name="Vague Ltd")
    tag(vague, "locality", "unknown", council)
    for kind in ("size", "vcse", "living_wage"):
        tag(vague, kind, "unknown")

    def line(supplier, day, amount, department="", service_area="", **kw):
        return make_line(
            council,
            supplier=supplier,
            payment_date=day,
            amount=Decimal(amount),
            department=department,
            service_area=service_area,
            **kw,
        )

    lines = {
        "L1": line(bakery, date(2025, 4, 1), "100.00", "Place"),
        "L2": line(police, date(2025, 6, 15), "200.00", "", "Place"),
        "L3": line(mystery, date(2025, 9, 30), "400.00", "People", "Place"),
        "L4": line(vague, date(2026, 3, 31), "800.00", "Place Services"),
        "L5": line(
            None,
            date(2026, 4, 1),
            "1600.00",
            "People",
            redacted=True,
            supplier_name="Redacted: personal data",
        ),
        "L6": line(bakery, date(2025, 5, 1), "-3200.00"),
    }
    lines["K1"] = make_line(
        other_council, supplier=bakery, amount=Decimal("6400.00"), department="Place"
    )
    lines["suppliers"] = {
        "bakery": bakery,
        "police": police,
        "mystery": mystery,
        "vague": vague,
    }
    # The directorates the box knows (and names whole) come from the rollups,
    # as after any import.
    rollup.rebuild(council.pk)
    return lines


def _get(client, council, query=""):
    return client.get(reverse("spend:lines", args=[council.slug]) + query)


def shown(client, council, query, data) -> set[str]:
    """The names of the lines the list selects for `query`, checked against the
    total it states."""
    response = _get(client, council, "?" + query)
    assert response.status_code == 200
    pks = set(response.context["filter"].qs.values_list("pk", flat=True))
    names = {
        name for name, line in data.items() if name != "suppliers" and line.pk in pks
    }
    figures = response.context["figures"]
    assert figures["lines"] == len(names)
    assert figures["total"] == sum((data[n].amount for n in names), Decimal("0"))
    return names


@pytest.fixture
def luton(client, viewer, council, data):
    client.force_login(viewer)
    return lambda query: shown(client, council, query, data)


# --- Filters ---------------------------------------------------------------------


def test_no_filters_shows_all_the_councils_lines_and_no_other(luton):
    assert luton("") == {"L1", "L2", "L3", "L4", "L5", "L6"}


def test_dates_are_inclusive(luton):
    assert luton("date_from=2025-04-01&date_to=2026-03-31") == {
        "L1",
        "L2",
        "L3",
        "L4",
        "L6",
    }
    assert luton("date_from=2026-03-31") == {"L4", "L5"}
    assert luton("date_to=2025-04-01") == {"L1"}


def test_directorate_is_the_department_else_the_service_area(luton):
    # L2 has no department and service area Place; L3's department People wins
    # over its service area Place; L4's "Place Services" is another directorate.
    assert luton("directorate=Place") == {"L1", "L2"}
    assert luton("directorate=People") == {"L3", "L5"}
    assert luton("directorate=Place+Services") == {"L4"}
    assert luton("directorate=" + NOT_STATED) == {"L6"}
    # Typed in a box, so any case (review: "place" found nothing).
    assert luton("directorate=place") == {"L1", "L2"}
    assert luton("directorate=PEOPLE") == {"L3", "L5"}


def test_part_of_a_directorate_finds_the_directorates_containing_it(
    client, viewer, council, data, luton
):
    # QA: "pub" found nothing, without a word; part of a name, in any case,
    # finds every directorate containing it ("Place" and "Place Services").
    assert luton("directorate=lac") == {"L1", "L2", "L4"}
    assert luton("directorate=SERV") == {"L4"}
    assert luton("directorate=eopl") == {"L3", "L5"}
    assert luton("directorate=pub") == set()
    # The whole name, in any case, is that directorate alone.
    assert luton("directorate=place") == {"L1", "L2"}
    assert luton("directorate=" + NOT_STATED) == {"L6"}
    response = _get(client, council, "?directorate=lac")
    assertContains(response, "Showing payments in directorates containing “lac”.")
    # Named as the council writes it, typed in any case.
    response = _get(client, council, "?directorate=pLACE+services")
    assertContains(response, "Showing payments in directorate Place Services.")
    assert response.context["figures"]["lines"] == 1
    response = _get(client, council, "?directorate=" + NOT_STATED)
    assertContains(response, "Showing payments with no directorate stated.")
    rollup.rebuild(council.pk)  # its directorates offered in the box
    response = _get(client, council, "?directorate=PLACE")
    assertContains(response, "Showing payments in directorate Place.")
    assert response.context["figures"]["lines"] == 2


def test_the_department_contains_filter_still_works(luton):
    assert luton("department=place") == {"L1", "L4"}


def test_directorate_offers_the_councils_directorates_and_accepts_any(
    client, viewer, council, data
):
    rollup.rebuild(council.pk)
    client.force_login(viewer)
    response = _get(client, council)
    # Offered as one types, not in a dropdown (QA: a thousand cost centres).
    assertContains(response, 'list="directorate-options"')
    assertContains(response, '<option value="Place Services">')
    assertContains(response, f'<option value="{NOT_STATED}" label="Not stated">')
    assertNotContains(response, '<select name="directorate"')
    response = _get(client, council, "?directorate=Adult+Social+Care")
    assert response.status_code == 200
    assert response.context["figures"]["lines"] == 0
    assertContains(response, 'name="directorate" value="Adult Social Care"')


def test_location_is_per_council(client, viewer, other_council_officer, data):
    council, other = data["L1"].council, data["K1"].council
    client.force_login(viewer)
    assert shown(client, council, "locality=local", data) == {"L1", "L6"}
    client.force_login(other_council_officer)
    # The bakery is local to Luton but elsewhere in the UK to Knowsley.
    assert shown(client, other, "locality=local", data) == set()
    assert shown(client, other, "locality=uk", data) == {"K1"}


def test_unknown_location_takes_untagged_unknown_and_redacted(luton):
    # Mystery is local to Knowsley only, so unknown to Luton.
    assert luton("locality=unknown") == {"L3", "L4", "L5"}
    assert luton("locality=local&locality=unknown") == {"L1", "L3", "L4", "L5", "L6"}
    assert luton("locality=wider") == {"L2"}


def test_size_vcse_and_living_wage(luton):
    assert luton("size=micro&size=small") == {"L1", "L6"}
    assert luton("size=unknown") == {"L3", "L4", "L5"}
    assert luton("size=public_sector") == {"L2"}
    assert luton("vcse=no") == {"L1", "L6"}
    assert luton("vcse=unknown") == {"L2", "L3", "L4", "L5"}
    assert luton("vcse=yes") == set()
    assert luton("living_wage=yes") == {"L1", "L6"}
    assert luton("living_wage=unknown&living_wage=no") == {"L2", "L3", "L4", "L5"}


def test_not_a_living_wage_employer_is_offered_only_once_an_officer_said_it(
    client, viewer, council, data
):
    """QA: "Not a Living Wage employer" was offered on the spend and supplier
    lists, and always matched nothing: the accredited list says only yes."""
    client.force_login(viewer)

    def offered(name: str) -> list[str]:
        page = client.get(reverse(name, args=[council.slug]))
        form = page.context["filter"].form
        return [value for value, _ in form.fields["living_wage"].choices if value]

    for name in ("spend:lines", "procure:suppliers"):
        assert "no" in offered(name)
    TagOverride.objects.all().delete()
    for name in ("spend:lines", "procure:suppliers"):
        assert offered(name) == ["yes", "unknown"], name


def test_exclude_public_leaves_out_public_sector_bodies_only(luton):
    assert luton("exclude_public=1") == {"L1", "L3", "L4", "L5", "L6"}
    assert luton("exclude_public=1&size=unknown&size=public_sector") == {
        "L3",
        "L4",
        "L5",
    }


def test_verified_and_redacted(luton):
    assert luton("verified=true") == {"L1", "L6"}
    # Unmatched: named suppliers not verified; redacted payees are not named.
    assert luton("verified=false") == {"L2", "L3", "L4"}
    assert luton("redacted=true") == {"L5"}
    assert luton("redacted=false") == {"L1", "L2", "L3", "L4", "L6"}


def test_supplier_by_id_and_by_name(luton, data):
    bakery = data["suppliers"]["bakery"]
    assert luton(f"supplier_id={bakery.pk}") == {"L1", "L6"}
    assert luton("supplier=police") == {"L2"}


def test_amounts_are_inclusive(luton):
    assert luton("amount_min=100&amount_max=400") == {"L1", "L2", "L3"}
    assert luton("amount_max=0") == {"L6"}
    assert luton("amount_min=800.00") == {"L4", "L5"}


def test_filters_combine(luton):
    assert luton(
        "date_from=2025-04-01&date_to=2026-03-31&directorate=Place"
        "&locality=local&locality=wider&exclude_public=1"
    ) == {"L1"}


def test_a_value_outside_the_list_is_an_error_not_ignored_silently(
    client, viewer, council, data
):
    client.force_login(viewer)
    response = _get(client, council, "?locality=nowhere&export=csv")
    assert response.status_code == 200  # the page, with the error, not a file
    assertContains(response, "Select a valid choice")


@pytest.mark.parametrize("kind", ["locality", "size", "vcse", "living_wage"])
def test_each_tag_value_totals_what_the_dashboard_rollup_says(
    client, viewer, council, data, kind
):
    """The dashboard links each figure here: the totals must be equal."""
    rollup.rebuild(council.pk)
    client.force_login(viewer)
    for value in TAG_VALUES[kind]:
        expected = TagMonth.objects.filter(
            council=council, directorate__isnull=True, **{kind: value}
        ).aggregate(total=Sum("total"), lines=Sum("lines"))
        response = _get(client, council, f"?{kind}={value}")
        figures = response.context["figures"]
        assert figures["lines"] == (expected["lines"] or 0), value
        assert figures["total"] == (expected["total"] or Decimal("0")), value


def test_directorate_unmatched_and_public_totals_match_the_rollup(
    client, viewer, council, data
):
    rollup.rebuild(council.pk)
    client.force_login(viewer)
    months = TagMonth.objects.filter(council=council)
    together = months.filter(directorate__isnull=True)  # all directorates
    checks = {
        "directorate=Place": months.filter(directorate="Place"),
        "directorate=" + NOT_STATED: months.filter(directorate=""),
        "verified=false": together.filter(redacted=False, verified=False),
        "exclude_public=1": together.exclude(size="public_sector"),
        "redacted=true": together.filter(redacted=True),
    }
    for query, rows in checks.items():
        response = _get(client, council, "?" + query)
        assert (
            response.context["figures"]["total"]
            == rows.aggregate(total=Sum("total"))["total"]
        ), query


# --- The page --------------------------------------------------------------------


def test_the_page_states_the_filters_in_force_and_links_to_downloads(
    client, viewer, council, data
):
    client.force_login(viewer)
    query = (
        "?date_from=2025-04-01&date_to=2026-03-31&directorate=Place"
        "&locality=local&locality=unknown&exclude_public=1"
    )
    response = _get(client, council, query)
    assertContains(
        response,
        "Showing payments from 1 April 2025 to 31 March 2026, in directorate Place, "
        "with supplier location local or unknown, leaving out payments to public "
        "sector bodies.",
    )
    assertContains(response, "<strong>1</strong> payment totalling", html=False)
    assertContains(response, "Download this payment")
    content = response.content.decode()
    for file_type in ("csv", "xlsx"):
        start = content.index('href="?', content.index("Download this"))
        hrefs = [
            part.split('"', 1)[0].replace("&amp;", "&")
            for part in content[start:].split('href="?')[1:3]
        ]
        params = [parse_qs(href) for href in hrefs]
        chosen = next(p for p in params if p["export"] == [file_type])
        assert chosen["locality"] == ["local", "unknown"]
        assert chosen["directorate"] == ["Place"]
        assert chosen["exclude_public"] == ["1"]
        assert chosen["date_from"] == ["2025-04-01"]


@pytest.mark.parametrize(
    ("query", "what"), [("supplier_id=abc", "supplier"), ("upload=0", "upload")]
)
def test_a_mangled_drill_down_link_shows_no_payments_and_says_why(
    client, viewer, council, data, query, what
):
    """QA: ?supplier_id=abc showed every payment, as if it were the figure
    clicked, beside a bare "Enter a number."."""
    client.force_login(viewer)
    response = client.get(reverse("spend:lines", args=[council.slug]) + "?" + query)
    assertContains(
        response,
        f"The {what} in this page&#x27;s address is not one LocalSpend knows",
    )
    assertContains(response, "No payments are shown: the link that led here is broken")
    assertNotContains(response, "Showing all payments.")
    assertNotContains(response, data["suppliers"]["bakery"].name)


def test_with_no_filters_the_page_says_so(client, viewer, council, data):
    client.force_login(viewer)
    response = _get(client, council)
    assertContains(response, "Showing all payments.")
    # Supplier names link to the register; redacted payees do not.
    bakery = data["suppliers"]["bakery"]
    assertContains(
        response, reverse("procure:supplier-detail", args=[council.slug, bakery.pk])
    )


def test_a_supplier_drill_down_names_the_supplier(client, viewer, council, data):
    client.force_login(viewer)
    bakery = data["suppliers"]["bakery"]
    response = _get(client, council, f"?supplier_id={bakery.pk}")
    assertContains(response, f"supplier Luton Bakery Ltd (register number {bakery.pk})")


def test_a_supplier_another_council_pays_is_not_named(
    client, viewer, council, make_supplier, make_line, other_council, data
):
    secret = make_supplier(name="Knowsley Only Ltd")
    make_line(other_council, supplier=secret)
    client.force_login(viewer)
    response = _get(client, council, f"?supplier_id={secret.pk}")
    assertNotContains(response, "Knowsley Only Ltd")
    assert response.context["figures"]["lines"] == 0


# --- Access ----------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?export=csv", "?export=xlsx"])
def test_a_viewer_of_another_council_gets_404(
    client, viewer, other_council, data, query
):
    client.force_login(viewer)
    assert _get(client, other_council, query).status_code == 404


@pytest.mark.parametrize("query", ["?export=csv", "?export=xlsx"])
def test_exports_need_sign_in(client, council, data, query):
    response = _get(client, council, query)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- Exports ---------------------------------------------------------------------


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _workbook(response):
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return book.active


def test_csv_export_holds_exactly_the_filtered_lines_and_states_the_filters(
    client, viewer, council, data
):
    client.force_login(viewer)
    response = _get(client, council, "?directorate=Place&export=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    today = timezone.localdate()
    assert (
        f'filename="luton-spend-lines-{today:%Y-%m-%d}.csv"'
        in response["Content-Disposition"]
    )
    rows = _csv_rows(response)
    bakery = data["suppliers"]["bakery"]
    police = data["suppliers"]["police"]
    assert rows[:7] == [
        ["Council", "Luton Borough Council"],
        ["Filters", "in directorate Place"],
        ["Payments", "2"],
        ["Total (£)", "300.00"],
        ["Exported on", today.strftime("%d/%m/%Y")],
        [],
        [
            "Date",
            "Supplier (as published)",
            "Supplier number in the register",
            "Redacted",
            "Directorate",
            "Department",
            "Service area",
            "Expense type",
            "Description",
            "Transaction reference",
            "Amount (£)",
            "Source file",
            "Amounts net or gross of VAT",
        ],
    ]
    # Newest first, as on the page; UK dates.
    assert rows[7:] == [
        [
            "15/06/2025",
            "Bedfordshire Police",
            str(police.pk),
            "no",
            "Place",
            "",
            "Place",
            "",
            "",
            "",
            "200.00",
            "spend.csv",
            "Not stated",
        ],
        [
            "01/04/2025",
            "Luton Bakery Ltd",
            str(bakery.pk),
            "no",
            "Place",
            "Place",
            "",
            "",
            "",
            "",
            "100.00",
            "spend.csv",
            "Not stated",
        ],
    ]


def test_csv_export_of_everything_says_none_and_shows_redacted_lines(
    client, viewer, council, data
):
    client.force_login(viewer)
    rows = _csv_rows(_get(client, council, "?export=csv"))
    assert rows[1] == ["Filters", "none"]
    assert rows[2] == ["Payments", "6"]
    assert rows[3] == ["Total (£)", "-100.00"]
    redacted = [row for row in rows[7:] if row[3] == "yes"]
    assert redacted == [
        [
            "01/04/2026",
            "Redacted: personal data",
            "",
            "yes",
            "People",
            "People",
            "",
            "",
            "",
            "",
            "1600.00",
            "spend.csv",
            "Not stated",
        ]
    ]


def test_exports_hold_every_line_not_one_page_without_a_query_per_line(
    client, viewer, council, make_line, django_assert_max_num_queries
):
    for _ in range(120):
        make_line(council, amount=Decimal("1.50"), redacted=True)
    client.force_login(viewer)
    page = _get(client, council)
    assert len(page.context["table"].page.object_list) == 50
    assertContains(page, "Download these 120 payments")
    with django_assert_max_num_queries(10):
        rows = _csv_rows(_get(client, council, "?export=csv"))
    assert len(rows) == 7 + 120
    assert rows[3] == ["Total (£)", "180.00"]
    with django_assert_max_num_queries(10):
        sheet = _workbook(_get(client, council, "?export=xlsx"))
    assert sheet.max_row == 7 + 120


def test_xlsx_export_has_real_dates_and_numbers(client, viewer, council, data):
    client.force_login(viewer)
    response = _get(
        client, council, f"?supplier_id={data['L1'].supplier_id}&export=xlsx"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    today = timezone.localdate()
    assert (
        f'filename="luton-spend-lines-{today:%Y-%m-%d}.xlsx"'
        in response["Content-Disposition"]
    )
    sheet = _workbook(response)
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Council", "Luton Borough Council")
    assert rows[1][1].startswith("to supplier Luton Bakery Ltd")
    assert rows[2][:2] == ("Payments", 2)
    assert rows[3][:2] == ("Total (£)", -3100)
    assert not any(rows[5])
    assert rows[6][0] == "Date" and rows[6][10] == "Amount (£)"
    # L6 (1 May 2025) before L1 (1 April 2025).
    first, second = sheet[8], sheet[9]
    assert first[0].is_date and first[0].value.date() == date(2025, 5, 1)
    assert first[0].number_format == "dd/mm/yyyy"
    assert second[0].value.date() == date(2025, 4, 1)
    assert first[10].data_type == "n" and first[10].value == -3200
    assert first[10].number_format == "#,##0.00"
    assert second[10].value == 100
    assert first[2].data_type == "n" and first[2].value == data["L1"].supplier_id
    assert first[3].value == "no"


NASTY = {
    '=HYPERLINK("http://evil.example","Click")': (
        '\'=HYPERLINK("http://evil.example","Click")'
    ),
    "@SUM(A1)": "'@SUM(A1)",
    "-cmd": "'-cmd",
    "+44 1582 000000": "'+44 1582 000000",
}


@pytest.fixture
def nasty_lines(council, make_line):
    for name in NASTY:
        make_line(
            council,
            supplier_name=name,
            redacted=True,
            amount=Decimal("-120.00"),
            description="=1+1",
            expense_type="\x07Bell\tand tab",
        )


def test_csv_export_makes_formulas_inert_and_keeps_negative_amounts(
    client, viewer, council, nasty_lines
):
    client.force_login(viewer)
    rows = _csv_rows(_get(client, council, "?export=csv&supplier=%3D"))
    # The filter text itself is stated, and harmless where it stands.
    assert rows[1] == ["Filters", "to suppliers whose name contains “=”"]
    assert rows[3] == ["Total (£)", "-120.00"]
    body = rows[7:]
    assert [row[1] for row in body] == [NASTY[next(iter(NASTY))]]
    rows = _csv_rows(_get(client, council, "?export=csv"))
    assert {row[1] for row in rows[7:]} == set(NASTY.values())
    for row in rows[7:]:
        assert row[8] == "'=1+1"
        assert row[10] == "-120.00"
    assert rows[3] == ["Total (£)", "-480.00"]


def test_xlsx_export_writes_formulas_as_inert_text(
    client, viewer, council, nasty_lines
):
    client.force_login(viewer)
    sheet = _workbook(_get(client, council, "?export=xlsx"))
    body = list(sheet.iter_rows(min_row=8))
    # Shown as written (no apostrophe in the text, review), marked as Excel marks
    # a text typed with one: never a formula, even when edited.
    assert {row[1].value for row in body} == set(NASTY)
    for row in body:
        for cell in row:
            assert cell.data_type != "f"
        assert row[1].data_type == "s" and row[1].quotePrefix
        assert row[8].value == "=1+1" and row[8].data_type == "s"
        assert row[8].quotePrefix
        assert not row[0].quotePrefix and not row[7].quotePrefix
        assert row[7].value == "Bell\tand tab"  # a control character dropped
        assert row[10].data_type == "n" and row[10].value == -120
    assert sheet["B4"].value == -480


def test_pages_follow_the_headline_count_without_counting_again(
    client, viewer, council, make_supplier, make_line
):
    supplier = make_supplier(name="Paged Ltd")
    for day in range(1, 28):
        for _ in range(2):
            make_line(council, supplier=supplier, payment_date=date(2025, 6, day))
    make_line(council, supplier=supplier, payment_date=date(2025, 7, 1))  # 55 lines
    client.force_login(viewer)
    url = reverse("spend:lines", args=[council.slug])
    with CaptureQueriesContext(connection) as queries:
        first = client.get(url)
    assert first.context["figures"]["lines"] == 55
    assert first.context["table"].paginator.num_pages == 2
    counts = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert counts == []  # the headline's count serves the paginator
    second = client.get(url, {"page": 2})
    assert len(second.context["table"].page.object_list) == 5
    beyond = client.get(url, {"page": 3})  # past the end: the last page
    assert beyond.context["table"].page.number == 2


def test_a_directorate_named_exactly_selects_its_own_lines_only(
    client, viewer, council, make_line
):
    """Review: the dashboard's rows for "Adult Social Care" and "Adult social
    care" each linked to the lines of both."""
    make_line(council, amount=Decimal("100.00"), department="Adult Social Care")
    make_line(council, amount=Decimal("20.00"), department="Adult social care")
    make_line(council, amount=Decimal("3.00"), department="Adult Social Care Team")
    rollup.rebuild(council.pk)
    client.force_login(viewer)

    def total(query):
        return _get(client, council, "?" + query).context["figures"]["total"]

    assert total("directorate=Adult+Social+Care") == Decimal("100.00")
    assert total("directorate=Adult+social+care") == Decimal("20.00")
    # In capitals of its own: the directorates so named, not the longer one.
    assert total("directorate=ADULT+SOCIAL+CARE") == Decimal("120.00")
    # Part of a name: every directorate containing it.
    assert total("directorate=social") == Decimal("123.00")
