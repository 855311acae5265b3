"""The spend line list heard through a screen reader (QA, keyboard only): errors
that name their field, a title that says what is shown, a way past the filters
to the results, and the sorted column marked."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse

from spend import filters, rollup
from spend.filters import SpendLineFilter
from spend.models import SpendLine


@pytest.fixture
def signed_in(client, viewer):
    client.force_login(viewer)
    return client


def _page(client, council, query="", name="spend:lines"):
    response = client.get(reverse(name, args=[council.slug]) + query)
    assert response.status_code == 200
    return response.content.decode()


def _title(content: str) -> str:
    found = re.search(r"<title>(.*?)</title>", content, re.S)
    return html.unescape(" ".join(found.group(1).split()))


def _text(fragment: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", fragment).split()))


def _summary(content: str) -> list[str]:
    """The error summary's items, as read out."""
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', content, re.S)
    if not found:
        return []
    return [_text(item) for item in re.findall(r"<li>(.*?)</li>", found.group(1))]


def _sorts(content: str) -> dict[str, str]:
    """Each column heading's aria-sort, by its heading."""
    return {
        _text(heading).removesuffix(" (sort)"): sort
        for sort, heading in re.findall(
            r'<th scope="col"[^>]*aria-sort="(\w+)"[^>]*>(.*?)</th>', content, re.S
        )
    }


# --- Errors ----------------------------------------------------------------------


def test_each_date_error_names_its_date(signed_in, council):
    """QA: "Enter a valid date." twice in the error summary."""
    content = _page(signed_in, council, "?date_from=2026-02-31&date_to=2026-13-01")
    assert _summary(content) == [
        "Enter a real date for “Paid on or after”, such as 31/03/2026.",
        "Enter a real date for “Paid on or before”, such as 31/03/2026.",
    ]


def test_each_amount_and_list_error_names_its_field(signed_in, council):
    content = _page(
        signed_in,
        council,
        "?amount_min=lots&amount_max=1.001&locality=nowhere&size=huge&redacted=maybe",
    )
    assert _summary(content) == [
        "Select a valid choice for “Where the supplier is”: “nowhere” is not one "
        "of the options.",
        "Select a valid choice for “Size of the supplier”: “huge” is not one of "
        "the options.",
        "Select a valid choice for “Payee”: “maybe” is not one of the options.",
        "Enter an amount in pounds for “Amount at least”, like 1234.56.",
        "“Amount at most” has fractions of a penny. Enter an amount in pounds and "
        "pence, like 1234.56.",
    ]


def test_the_title_starts_with_error_when_a_filter_is_wrong(signed_in, council):
    assert _title(_page(signed_in, council, "?date_from=2026-02-31")) == (
        "Error: Spend lines – Luton – LocalSpend"
    )
    assert _title(_page(signed_in, council, "?supplier_id=abc")).startswith("Error: ")
    assert _title(_page(signed_in, council)) == "Spend lines – Luton – LocalSpend"


# --- What is shown, said in the title and heading -----------------------------------


@pytest.fixture
def childrens(council, make_line, make_supplier):
    supplier = make_supplier(name="Small Firm Ltd")
    make_line(council, supplier=supplier, department="Children's Services")
    rollup.rebuild(council.pk)
    return supplier


def test_a_drill_down_is_named_in_the_title_and_heading(signed_in, council, childrens):
    """The dashboard's SME figure for a directorate and month (QA: it sounded
    the same as the whole list). What the words already say (an SME is not a
    public sector body, and is named) is not said again."""
    content = _page(
        signed_in,
        council,
        "?directorate=Children%27s+Services&date_from=2024-11-01&date_to=2024-11-30"
        "&size=micro&size=small&size=medium&exclude_public=1&redacted=false",
    )
    assert _title(content) == (
        "Spend lines: Children's Services, November 2024, SME suppliers – Luton – "
        "LocalSpend"
    )
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", content, re.S).group(1)
    assert _text(heading) == (
        "Spend lines : Children's Services, November 2024, SME suppliers"
    )


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("", ""),
        (
            "exclude_public=1&redacted=false",
            "excluding the public sector, named suppliers",
        ),
        ("date_from=2024-04-01&date_to=2025-03-31", "April 2024 to March 2025"),
        ("date_from=2025-01-01&date_to=2025-12-31", "2025"),
        ("date_from=2025-01-03&date_to=2025-01-03", "3 Jan 2025"),
        ("date_from=2025-01-03&date_to=2025-02-10", "3 Jan 2025 to 10 Feb 2025"),
        ("date_from=2025-01-03", "from 3 Jan 2025"),
        ("date_to=2025-01-03", "up to 3 Jan 2025"),
        ("locality=local&locality=wider", "local or wider area suppliers"),
        ("locality=unknown", "suppliers of unknown location"),
        ("size=micro&size=unknown", "micro or unknown size suppliers"),
        ("vcse=yes&living_wage=yes", "VCSE suppliers, real Living Wage suppliers"),
        ("amount_min=1000", "£1,000.00 or more"),
        ("amount_min=10&amount_max=20", "£10.00 to £20.00"),
        ("directorate=Child", "directorates containing “Child”"),
        ("supplier=firm&on_contract=false", "suppliers named “firm”, on no contract"),
        # Too many to say in a title: the page's sentence says them all.
        (
            "directorate=Child&supplier=firm&date_to=2025-01-03&vcse=yes"
            "&amount_min=5&redacted=true&verified=true",
            "suppliers named “firm”, directorates containing “Child”, up to 3 Jan "
            "2025, VCSE suppliers and 3 more filters",
        ),
    ],
)
def test_the_headline_says_the_filters_in_short(council, childrens, query, words):
    filterset = SpendLineFilter(
        QueryDict(query),
        queryset=SpendLine.objects.for_council(council),
        council=council,
    )
    assert filterset.headline == words


def test_a_supplier_followed_from_its_page_is_named(signed_in, council, childrens):
    content = _page(signed_in, council, f"?supplier_id={childrens.pk}")
    assert _title(content) == "Spend lines: Small Firm Ltd – Luton – LocalSpend"


def test_a_later_page_says_which(signed_in, council, make_line):
    for day in range(1, 28):
        for _ in range(2):
            make_line(council, payment_date=date(2025, 6, day))  # 54 lines
    assert _title(_page(signed_in, council, "?page=2")) == (
        "Spend lines (page 2 of 2) – Luton – LocalSpend"
    )
    assert _title(_page(signed_in, council, "?page=1")) == (
        "Spend lines – Luton – LocalSpend"
    )


def test_short_period_of_a_range_the_wrong_way_round_is_its_dates():
    assert filters._short_period(date(2025, 2, 1), date(2025, 1, 31)) == (
        "1 Feb 2025 to 31 Jan 2025"
    )


# --- The results: a heading, a caption, a way to them -------------------------------


def test_the_results_have_a_heading_a_caption_and_a_skip_link(
    signed_in, council, make_line
):
    make_line(council)
    content = _page(signed_in, council)
    skip = content.index('href="#results"')
    assert skip < content.index('<form method="get"')  # before the filters
    heading = re.search(r'<h2 [^>]*id="results"[^>]*>(.*?)</h2>', content, re.S)
    assert _text(heading.group(1)) == "Results"
    assert 'tabindex="-1"' in heading.group(0)  # it takes the focus
    assert heading.start() < content.index("payment totalling")
    caption = re.search(r"<caption[^>]*>(.*?)</caption>", content, re.S)
    assert _text(caption.group(1)) == "Payments by date, newest first"


# --- The sorted column -------------------------------------------------------------


def test_the_date_column_says_the_rows_are_newest_first(signed_in, council, make_line):
    """QA: every column said aria-sort="none" though the rows were by date."""
    make_line(council, payment_date=date(2025, 1, 1), amount=Decimal("5.00"))
    make_line(council, payment_date=date(2025, 3, 1), amount=Decimal("1.00"))
    content = _page(signed_in, council)
    assert _sorts(content) == {
        "Date": "descending",
        "Supplier (as published)": "none",
        "Directorate": "none",
        "Expense type": "none",
        "Amount": "none",
    }
    assert content.index("1 Mar 2025") < content.index("1 Jan 2025")
    # Its link sorts the other way; on a phone the sort list says so too.
    assert 'href="?sort=payment_date">Date' in content
    assert "Date</a> <strong>(descending)</strong>" in content


def test_a_chosen_order_is_the_one_marked_and_only_the_first(
    signed_in, council, make_line
):
    make_line(council, payment_date=date(2025, 1, 1), amount=Decimal("5.00"))
    make_line(council, payment_date=date(2025, 3, 1), amount=Decimal("1.00"))
    content = _page(signed_in, council, "?sort=amount")
    sorts = _sorts(content)
    assert (sorts["Amount"], sorts["Date"]) == ("ascending", "none")
    assert "Payments by amount, smallest first" in content
    assert content.index("1 Mar 2025") < content.index("1 Jan 2025")
    content = _page(signed_in, council, "?sort=-amount&sort=payment_date")
    sorts = _sorts(content)
    assert (sorts["Amount"], sorts["Date"]) == ("descending", "none")
    content = _page(signed_in, council, "?sort=payment_date")
    assert _sorts(content)["Date"] == "ascending"
    assert content.index("1 Jan 2025") < content.index("1 Mar 2025")
    assert "Payments by date, oldest first" in content


def test_lines_of_one_day_keep_the_files_order(
    signed_in, council, make_line, make_upload
):
    """Sorting by date (the default) keeps the lines' own order within a day:
    by upload, then row (pages do not shuffle)."""
    first, second = make_upload(council), make_upload(council)
    day = date(2025, 5, 1)
    make_line(council, upload=second, source_row=1, payment_date=day, expense_type="D")
    make_line(council, upload=first, source_row=9, payment_date=day, expense_type="B")
    make_line(council, upload=first, source_row=2, payment_date=day, expense_type="A")
    make_line(council, upload=second, source_row=5, payment_date=day, expense_type="E")
    response = signed_in.get(reverse("spend:lines", args=[council.slug]))
    shown = [
        row.record.expense_type for row in response.context["table"].page.object_list
    ]
    assert shown == ["A", "B", "D", "E"]


def test_the_upload_list_says_it_is_newest_first(signed_in, council, make_upload):
    make_upload(council, file_name="a.csv")
    content = _page(signed_in, council, name="spend:uploads")
    assert _sorts(content)["Uploaded"] == "descending"
    assert set(_sorts(content).values()) == {"descending", "none"}
