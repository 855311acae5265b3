"""The dashboard with a keyboard and a screen reader (QA).

QA found: the drill-down links of the trend, directorate and data quality
tables named by their number alone ("£2,033,510.58", "21.0%"), meaningless in
a screen reader's list of links; a backwards range of months answered with the
whole year, the months hidden and their error beside a hidden field; no
"Error: " in the title of a page showing an error; and the same title and
heading whatever the directorate and measure.
"""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from spend import rollup
from tests.conftest import new_tag as tag

D = Decimal
TODAY = date(2026, 5, 20)


@pytest.fixture
def spend(council, make_supplier, make_line, monkeypatch):
    """2025/26, seen in May 2026:

    Local Ltd (local, micro, Living Wage):  £100 on the 5th and the 20th of
                                             each month, in Place
    Far plc (elsewhere in the UK, large):    £300 in June 2025, in People;
                                             a −£40 credit in July 2025, in
                                             People
    Vague Ltd (no tags):                     £70 in June 2025, no directorate
    a redacted payee:                        £50 in June 2025, in People
    """
    monkeypatch.setattr(timezone, "localdate", lambda *args: TODAY)
    local = make_supplier(name="Local Ltd", verified=True)
    far = make_supplier(name="Far plc", verified=True)
    vague = make_supplier(name="Vague Ltd")
    for supplier, values in (
        (local, {"locality": "local", "size": "micro", "living_wage": "yes"}),
        (far, {"locality": "uk", "size": "large", "vcse": "no"}),
    ):
        for kind, value in values.items():
            tag(supplier, kind, value, council)
    for month in range(12):
        year, number = 2025 + (month + 3) // 12, (month + 3) % 12 + 1
        for day in (5, 20):
            make_line(
                council,
                supplier=local,
                amount=D("100"),
                payment_date=date(year, number, day),
                department="Place",
            )
    for supplier, amount, day, department in (
        (far, "300", date(2025, 6, 10), "People"),
        (far, "-40", date(2025, 7, 10), "People"),
        (vague, "70", date(2025, 6, 11), ""),
    ):
        make_line(
            council,
            supplier=supplier,
            amount=D(amount),
            payment_date=day,
            department=department,
        )
    make_line(
        council,
        supplier=None,
        supplier_name="REDACTED PERSONAL DATA",
        redacted=True,
        amount=D("50"),
        payment_date=date(2025, 6, 1),
        department="People",
    )
    rollup.rebuild(council.pk)


def get(client, viewer, **params):
    client.force_login(viewer)
    return client.get(reverse("spend:dashboard", args=["luton"]), params)


class Links(HTMLParser):
    """Every link on a page: (href, aria-label or None, visible text)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str | None, str]] = []
        self._open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open.append({**dict(attrs), "text": ""})

    def handle_data(self, data):
        for link in self._open:
            link["text"] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            link = self._open.pop()
            text = " ".join(link["text"].split())
            self.links.append((link.get("href", ""), link.get("aria-label"), text))


def links_of(page: str) -> list[tuple[str, str | None, str]]:
    parser = Links()
    parser.feed(page)
    return parser.links


# A link whose text is a figure alone: £1,234.56, −£40.00, £1.2m, 21.0%.
FIGURE = re.compile(r"^(−?£[\d,.]+[mkbn]*|−?[\d.]+%)$")


def listed_lines(client, url: str) -> int:
    """How many payments the spend line list shows at `url`."""
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.context["filter"].is_valid(), url
    return response.context["figures"]["lines"]


def count_in(label: str) -> int:
    """The payments a link's name says it opens: "the 412 payments", "no payments"."""
    if "no payments" in label:
        return 0
    found = re.search(r"\bthe ([\d,]+) payments?\b", label)
    assert found, label
    return int(found[1].replace(",", ""))


@pytest.mark.parametrize(
    "choices",
    [
        {"year": "2025"},
        {"year": "2025", "directorate": "People", "metric": "sme"},
        {"year": "2025", "period": "q1", "metric": "living_wage"},
        {"year": "2025", "public": "include", "redacted": "include"},
    ],
)
def test_every_figure_link_says_what_it_opens(client, viewer, spend, choices):
    page = get(client, viewer, **choices).text
    lines_url = reverse("spend:lines", args=["luton"])
    figures = [
        (href, label, text)
        for href, label, text in links_of(page)
        if urlsplit(html.unescape(href)).path == lines_url and FIGURE.match(text)
    ]
    assert len(figures) > 20  # the tiles, trend, directorates, quality
    for href, label, text in figures:
        # Named by the figure seen, then what it opens (WCAG 2.5.3: the
        # visible words begin the name).
        assert label and label.startswith(f"{text}: "), (text, label)
        # The payments it says it opens are those the list shows.
        assert count_in(label) == listed_lines(client, html.unescape(href)), label
    # A directorate's name keeps its own words: it is the row's header, read
    # out with each cell of the row.
    names = [label for _, label, text in links_of(page) if text == "People"]
    assert names and names == [None] * len(names)


def test_the_tables_links_read_as_sentences(client, viewer, spend):
    page = html.unescape(get(client, viewer, year="2025").text)
    labels = {label for _, label, _ in links_of(page) if label}
    for expected in (
        # The trend table: the month's local spend, what it is of, its share.
        "£200.00: the 2 payments to local suppliers, April 2025",
        "£200.00: the 2 payments to suppliers whose location is known, April 2025",
        "100.0%: Local share of spend, April 2025: the 2 payments to local suppliers",
        "£500.00: the 3 payments to suppliers whose location is known, June 2025",
        # The directorate table.
        "£260.00: the 2 payments in People, 2025/26",
        "£0.00: no payments to local suppliers in People, 2025/26",
        "£260.00: the 2 payments to suppliers elsewhere (in the UK or abroad) in "
        "People, 2025/26",
        "0.0%: Local share of spend in People, 2025/26: no payments to local suppliers",
        # The data quality table.
        "£50.00: the 1 payment to redacted payees, 2025/26",
        "£70.00: the 1 payment to named suppliers whose location is unknown, 2025/26",
        # The tiles.
        "£2,730: the 27 payments counted, 2025/26",
        "90.2%: Local share of spend, 2025/26: the 24 payments to local suppliers",
        "2.6% of the spend counted (£70): the 1 payment to suppliers whose "
        "location is unknown, 2025/26",
        # The supplier lists: one payment is not "payments".
        "£260.00: the 2 payments to Far plc",
    ):
        assert expected in labels, (expected, sorted(labels))


def test_a_directorate_chosen_is_named_in_the_links(client, viewer, spend):
    page = html.unescape(
        get(client, viewer, year="2025", directorate="-", metric="sme").text
    )
    labels = {label for _, label, _ in links_of(page) if label}
    assert (
        "£70.00: the 1 payment to named suppliers whose size is unknown with no "
        "directorate given, 2025/26" in labels
    )
    assert (
        "£0.00: no payments to small and medium-sized enterprises with no "
        "directorate given, June 2025" in labels
    )


def test_one_payment_to_a_supplier_is_not_payments(client, viewer, spend):
    page = html.unescape(get(client, viewer, year="2025", period="q1").text)
    labels = {label for _, label, _ in links_of(page) if label}
    assert "£300.00: the 1 payment to Far plc" in labels


# ------------------------------------------------- a backwards range of months


def chosen(page: str, name: str) -> str:
    select = re.search(rf'<select[^>]* name="{name}"[^>]*>(.*?)</select>', page, re.S)
    found = re.search(r'<option value="([^"]*)" selected>', select[1])
    return found[1] if found else ""


def group(page: str, name: str) -> str:
    """The form group of the field `name`: its label, error and select."""
    found = re.search(
        rf'<div class="govuk-form-group[^"]*" data-field="{name}">.*?</select>',
        page,
        re.S,
    )
    return found[0]


def words(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_a_backwards_range_keeps_the_months_to_correct(client, viewer, spend):
    response = get(
        client,
        viewer,
        year="2025",
        period="months",
        month_from="2026-03",
        month_to="2025-04",
    )
    page = response.text
    # The figures are the whole year's, and the page says so.
    assert response.context["scope"].whole_year
    assert "Where the money went: 2025/26" in page
    # The form keeps "Months chosen below" and the months as sent, so that
    # the user corrects one month rather than choosing all three again.
    assert chosen(page, "period") == "months"
    assert (chosen(page, "month_from"), chosen(page, "month_to")) == (
        "2026-03",
        "2025-04",
    )
    # The error is beside the to month, shown with it, and the summary links
    # to it (QA: to the period, the month's error on a hidden field).
    to = group(page, "month_to")
    assert "govuk-form-group--error" in to
    assert "April 2025 is before the from month, March 2026" in words(to)
    assert 'aria-describedby="id_month_to-error"' in to
    assert '<a href="#id_month_to">To month: April 2025 is before' in page
    assert 'href="#id_period"' not in page
    assert (
        "The page shows 2025/26 instead. The form below keeps the months you "
        "chose, for you to change." in words(page)
    )


def test_a_month_with_no_spend_is_kept_beside_its_error(client, viewer, spend):
    page = get(
        client,
        viewer,
        year="2025",
        period="months",
        month_from="2019-01",
        month_to="2025-09",
        directorate="Nowhere",
    ).text
    assert chosen(page, "period") == "months"
    # The month refused is no choice: shown at the period's; the other as sent.
    assert chosen(page, "month_to") == "2025-09"
    assert "govuk-form-group--error" in group(page, "month_from")
    assert '<a href="#id_month_from">From month: No spend is held' in page
    # The directorate refused is shown at what the page shows, and said so.
    assert chosen(page, "directorate") == ""
    assert "its other choices are those the page shows." in words(page)


def test_a_period_refused_still_links_to_the_period(client, viewer, spend):
    page = get(client, viewer, year="2025", period="fortnight").text
    assert chosen(page, "period") == "year"
    assert '<a href="#id_period">Period: There is no period called' in page
    assert "The form below shows what the page shows instead." in words(page)


# ------------------------------------------------------------ title and heading


def title(page: str) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", page, re.S)[1])


def heading(page: str) -> str:
    return words(re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)[1])


def test_a_page_showing_an_error_says_so_in_its_title(client, viewer, spend):
    refused = get(client, viewer, year="2025", period="months", month_to="2019-01")
    assert title(refused.text).startswith("Error: Dashboard 2025/26")
    assert not title(get(client, viewer, year="2025").text).startswith("Error")


def test_the_title_and_heading_name_the_directorate_and_measure(client, viewer, spend):
    page = get(client, viewer, year="2025").text
    assert title(page) == "Dashboard 2025/26 – Luton – LocalSpend"
    assert heading(page) == "Where the money went: 2025/26"
    page = get(client, viewer, year="2025", directorate="People", metric="sme").text
    assert (
        title(page) == "Dashboard 2025/26, People, SME share by month – Luton – "
        "LocalSpend"
    )
    assert heading(page) == "Where the money went: People, 2025/26"
    page = get(client, viewer, year="2025", period="q2", directorate="-").text
    assert title(page) == (
        "Dashboard Q2 2025/26 (July to September 2025), no directorate given – "
        "Luton – LocalSpend"
    )
    assert heading(page) == (
        "Where the money went: spend with no directorate given, Q2 2025/26 (July "
        "to September 2025)"
    )
    # The first measure, asked for by name, is the default: not named.
    page = get(client, viewer, year="2025", metric="local").text
    assert title(page) == "Dashboard 2025/26 – Luton – LocalSpend"
