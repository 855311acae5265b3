"""The cabinet dashboard: shares, denominators, unknowns, targets, trend, drill-down.

The data is small and made by hand; every expected figure is worked out in the
comments beside it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import plotly.graph_objects as go
import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from councils.periods import FinancialYear, add_months
from socialvalue.models import Target
from spend import charts, rollup
from spend import dashboard as figures
from spend.models import year_figures
from tests.conftest import new_tag as tag

D = Decimal


@pytest.fixture
def spend(council, make_supplier, make_line):
    """FY 2025/26 for Luton, by hand:

    A local, micro, not VCSE, Living Wage:        £600 on 1 Apr 2025 (first day)
    B elsewhere in UK, large, not VCSE:           £300 on 31 Mar 2026 (last day),
                                                  −£100 credit on 9 Sep 2025
    C no tags at all (unknown everything):        £100 on 10 Jun 2025
    D wider area, medium, VCSE:                   £200 on 10 Oct 2025
    P public body in the wider area:              £1,000 on 5 May 2025
    a redacted payee:                             £50 on 1 Jul 2025
    and A again either side of the year: £999 on 31 Mar 2025, £777 on 1 Apr 2026.
    """
    a = make_supplier(name="Alpha Local Ltd", verified=True)
    b = make_supplier(name="Bravo National plc", verified=True)
    c = make_supplier(name="Charlie Unknown")
    d = make_supplier(name="Delta Trust", verified=True)
    p = make_supplier(name="Bedford Borough Council", verified=True)
    for supplier, values in (
        (a, {"locality": "local", "size": "micro", "vcse": "no", "living_wage": "yes"}),
        (b, {"locality": "uk", "size": "large", "vcse": "no"}),
        (d, {"locality": "wider", "size": "medium", "vcse": "yes"}),
        (p, {"locality": "wider", "size": "public_sector", "vcse": "no"}),
    ):
        for kind, value in values.items():
            tag(supplier, kind, value, council)
    for supplier, amount, day, department in (
        (a, "600", date(2025, 4, 1), "Place"),
        (b, "300", date(2026, 3, 31), "Place"),
        (b, "-100", date(2025, 9, 9), "People"),
        (c, "100", date(2025, 6, 10), "People"),
        (d, "200", date(2025, 10, 10), "People"),
        (p, "1000", date(2025, 5, 5), "Place"),
        (a, "999", date(2025, 3, 31), "Place"),
        (a, "777", date(2026, 4, 1), "Place"),
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
        payment_date=date(2025, 7, 1),
        department="People",
    )
    Target.objects.create(
        council=council,
        metric="local",
        baseline_year=2023,
        baseline_share=D("25"),
        target_year=2027,
        target_share=D("65"),
    )
    Target.objects.create(
        council=council,
        metric="sme",
        baseline_year=2023,
        baseline_share=D("50"),
        target_year=2025,
        target_share=D("90"),
    )
    Target.objects.create(
        council=council,
        metric="vcse",
        baseline_year=2024,
        baseline_share=D("10"),
        target_year=2025,
        target_share=D("22"),
    )
    rollup.rebuild(council.pk)
    return {"a": a, "b": b, "c": c, "d": d, "p": p}


def scope(council, **kwargs):
    fy = FinancialYear(2025)
    values = {"council": council, "fy": fy, "first": fy.start, "last": date(2026, 3, 1)}
    return figures.Scope(**{**values, **kwargs})


def by_key(headline):
    return {tile.metric.key: tile for tile in headline["tiles"]}


def test_shares_are_of_spend_whose_tag_is_known_with_the_unknown_beside(council, spend):
    headline = figures.tiles(scope(council), figures.Targets(council))
    tiles = by_key(headline)
    # Public body and redacted payee left out: 600 + 300 − 100 + 100 + 200.
    assert headline["total"] == D("1100.00")
    assert headline["public"] == D("1000.00")
    assert headline["redacted"] == D("50.00")
    local = tiles["local"]
    # Location unknown: C's £100. Known: 1,100 − 100 = 1,000; local: A's 600.
    assert (local.amount, local.denominator, local.unknown) == (
        D("600.00"),
        D("1000.00"),
        D("100.00"),
    )
    assert local.share == D("60.0")
    assert local.unknown_share == D("9.1")  # 100 / 1,100
    assert tiles["wider"].share == D("80.0")  # (600 + 200) / 1,000
    assert tiles["sme"].share == D("80.0")  # A micro + D medium = 800 / 1,000
    assert tiles["vcse"].share == D("20.0")  # D 200 / 1,000
    # Living Wage: of all spend, as accreditation is never ruled out: 600 / 1,100.
    assert tiles["living_wage"].share == D("54.5")
    assert tiles["living_wage"].denominator == D("1100.00")
    assert tiles["living_wage"].unknown_share == D("45.5")  # 500 / 1,100


def test_including_public_bodies_and_redacted_payees_changes_the_denominators(
    council, spend
):
    tiles = by_key(
        figures.tiles(scope(council, include_public=True), figures.Targets(council))
    )
    assert tiles["local"].share == D("30.0")  # 600 / (2,100 − 100)
    assert tiles["sme"].share == D("40.0")  # public sector is a known size: 800 / 2,000
    tiles = by_key(
        figures.tiles(scope(council, include_redacted=True), figures.Targets(council))
    )
    # The redacted £50 joins the unknowns: 150 of 1,150; the share stays 600 / 1,000.
    assert tiles["local"].share == D("60.0")
    assert tiles["local"].unknown == D("150.00")
    assert tiles["local"].unknown_share == D("13.0")


def test_targets_come_from_the_trajectory_with_a_status_and_last_years_change(
    council, spend
):
    tiles = by_key(figures.tiles(scope(council), figures.Targets(council)))
    # Local: 25% in 2023/24 to 65% in 2027/28; 2025/26 is half way: 45%.
    assert tiles["local"].target == D("45.0")
    assert tiles["local"].status == "green"
    # Shown in brackets on the tile, so none of its own.
    assert tiles["local"].target_label == "65.0% by 2027/28, from 25.0% in 2023/24"
    # SME: 90% for 2025/26; 80% is more than 5 points short.
    assert (tiles["sme"].target, tiles["sme"].status) == (D("90.0"), "red")
    # VCSE: 22% for 2025/26; 20% is within 5 points.
    assert (tiles["vcse"].target, tiles["vcse"].status) == (D("22.0"), "amber")
    assert tiles["wider"].target is None and tiles["wider"].status is None
    # 2024/25 has spend in March alone (A's £999, local: 100%), so March 2026
    # alone is compared with it (B's £300, elsewhere in the UK: 0%), not the
    # whole of 2025/26 (60%).
    assert tiles["local"].previous_share == D("100.0")
    assert tiles["local"].compared_share == D("0.0")
    assert tiles["local"].change == D("-100.0")


def test_status_edges():
    assert figures.status_for(D("45.0"), D("45.0")) == "green"
    assert figures.status_for(D("40.0"), D("45.0")) == "amber"
    assert figures.status_for(D("39.9"), D("45.0")) == "red"
    assert figures.status_for(None, D("45.0")) is None
    assert figures.status_for(D("10"), None) is None


def test_the_amber_band_comes_from_a_setting_and_the_page_states_it(
    client, viewer, spend
):
    url = reverse("spend:dashboard", args=["luton"])
    client.force_login(viewer)

    def legend(response) -> str:
        """The status legend beside the tiles, as it reads."""
        found = re.search(
            r'<div class="ls-status-legend">(.*?)</div>', response.text, re.S
        )
        assert found, "no status legend"
        return re.sub(r"<[^>]+>", "", found[1])

    # By default, 5 points: VCSE's 20% against 22% is close to target.
    response = client.get(url, {"year": "2025"})
    assert by_key(response.context["headline"])["vcse"].status == "amber"
    assert "Close to target: within 5 points below it" in legend(response)
    with override_settings(LOCALSPEND_AMBER_POINTS=1.5):
        assert figures.status_for(D("43.5"), D("45.0")) == "amber"
        assert figures.status_for(D("43.4"), D("45.0")) == "red"
        response = client.get(url, {"year": "2025"})
        # 20% is 2 points below 22%: below target now.
        assert by_key(response.context["headline"])["vcse"].status == "red"
        assert "Close to target: within 1.5 points below it" in legend(response)
        tiles_csv = client.get(url, {"year": "2025", "download": "tiles"})
        assert "Close to target: within 1.5 points below it." in (
            tiles_csv.content.decode("utf-8-sig")
        )
    with override_settings(LOCALSPEND_AMBER_POINTS=1):
        response = client.get(url, {"year": "2025"})
        assert "Close to target: within 1 point below it" in legend(response)


def test_financial_year_boundaries(council, spend):
    targets = figures.Targets(council)
    # 1 April 2026 belongs to 2026/27 alone.
    next_year = FinancialYear(2026)
    later = figures.tiles(
        scope(council, fy=next_year, first=next_year.start, last=date(2027, 3, 1)),
        targets,
    )
    assert later["total"] == D("777.00")
    # 2026/27 has spend in April only so far: compared with April 2025 (A's 600),
    # not with the whole of 2025/26.
    assert later["previous_total"] == D("600.00")
    assert (later["compared"], later["compared_before"]) == ("April 2026", "April 2025")
    # Quarter 1 of 2025/26 (April to June): A's 600 on 1 April and C's 100.
    q1 = figures.tiles(scope(council, last=date(2025, 6, 1)), targets)
    assert q1["total"] == D("700.00")
    # Quarter 4 (January to March 2026): B's 300 on 31 March.
    q4 = figures.tiles(scope(council, first=date(2026, 1, 1)), targets)
    assert q4["total"] == D("300.00")


def test_a_year_earlier_is_compared_over_the_months_held_in_both_years(
    council, spend, make_line, client, viewer
):
    # 2024/25 also has A's £100 in October 2024: its spend files are in for
    # October 2024 and March 2025 only. 2025/26 has no spend in November to
    # February, so the months held in both are October and March.
    make_line(
        council, supplier=spend["a"], amount=D("100"), payment_date=date(2024, 10, 1)
    )
    rollup.rebuild(council.pk)
    headline = figures.tiles(scope(council), figures.Targets(council))
    assert headline["compared"] == "October 2025 and March 2026"
    assert headline["compared_before"] == "October 2024 and March 2025"
    # October 2025: D's £200 (wider area); March 2026: B's £300 (UK).
    assert headline["compared_total"] == D("500.00")
    assert headline["previous_total"] == D("1099.00")  # A's 100 + 999, both local
    local = by_key(headline)["local"]
    assert local.share == D("60.0")  # the whole year, as before
    assert (local.compared_share, local.previous_share, local.change) == (
        D("0.0"),
        D("100.0"),
        D("-100.0"),
    )
    client.force_login(viewer)
    page = client.get(reverse("spend:dashboard", args=["luton"]), {"year": "2025"}).text
    # April to July and September 2025 have spend but are not compared: said
    # first, so that 0.0% is not read against the tile's 60.0%.
    assert headline["compared_only"] == (
        "April to July 2024 and September 2024 were not imported"
    )
    assert (
        "Compared over October 2025 and March 2026 only (April to July 2024 and "
        "September 2024 were not imported): 0.0% against 100.0% in October 2024 "
        "and March 2025, down 100.0 points." in page
    )
    assert "on a year earlier" not in page


def test_a_month_not_over_yet_is_not_compared_with_a_whole_month(
    council, spend, make_line
):
    make_line(
        council, supplier=spend["a"], amount=D("100"), payment_date=date(2024, 10, 1)
    )
    rollup.rebuild(council.pk)
    # On 10 March 2026 March's file is only ten days in: October alone compares.
    headline = figures.tiles(
        scope(council), figures.Targets(council), today=date(2026, 3, 10)
    )
    assert headline["compared"] == "October 2025"
    assert headline["compared_before"] == "October 2024"
    assert headline["compared_total"] == D("200.00")


def test_a_month_not_over_yet_is_left_out_of_the_projection():
    from spend.dashboard import TrendPoint, _project

    months = [add_months(date(2025, 4, 1), i) for i in range(8)]
    points = [
        TrendPoint(m, D("30"), D("100"), D("30.0"), None) for m in months[:-1]
    ] + [TrendPoint(months[-1], D("5"), D("5"), D("100.0"), None)]
    _, _, _, used = _project(points, None, today=date(2025, 11, 9))
    assert used == 7  # November 2025, nine days in, is not fitted
    _, _, _, used = _project(points, None, today=date(2025, 12, 1))
    assert used == 8


def test_months_are_described_as_runs():
    months = [date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1)]
    assert figures.describe_months(months) == "April to June 2025"
    months += [add_months(date(2025, 10, 1), i) for i in range(6)]
    assert figures.describe_months(months) == (
        "April to June 2025 and October 2025 to March 2026"
    )
    assert figures.describe_months([date(2025, 4, 1)]) == "April 2025"
    assert figures.describe_months([]) == ""


def test_the_form_turns_choices_into_a_scope(council, spend):
    def scope_for(data):
        years, default = figures.years_with_data(council, date(2026, 5, 1))
        form = figures.DashboardForm(
            data,
            years=years,
            directorates=figures.directorates_of(council),
            default=default,
        )
        assert form.is_valid(), form.errors
        return figures.scope_from(council, form)

    default = scope_for({})
    assert default.fy == FinancialYear(2026)  # the latest month with spend
    assert not default.include_public and not default.include_redacted
    q2 = scope_for({"year": "2025", "period": "q2"})
    assert (q2.first, q2.end) == (date(2025, 7, 1), date(2025, 9, 30))
    assert q2.label == "Q2 2025/26 (July to September 2025)"
    months = scope_for(
        {"year": "2025", "period": "months", "month_from": "10", "month_to": "12"}
    )
    assert (months.first, months.end) == (date(2026, 1, 1), date(2026, 3, 31))
    assert scope_for({"directorate": "People"}).directorate == "People"
    assert scope_for({}).directorate is None


def test_a_backwards_month_range_is_refused_with_a_message(client, viewer, spend):
    client.force_login(viewer)
    response = client.get(
        reverse("spend:dashboard", args=["luton"]),
        # An old link's places in 2026/27: September 2026 to May 2026.
        {"period": "months", "month_from": "6", "month_to": "2"},
    )
    assert response.status_code == 200
    page = response.text
    # The error names the field by its label, says what is wrong and what is
    # shown instead, and links to the month field, kept on show with the months
    # as chosen, to correct (keyboard QA: they were hidden, the choice lost).
    assert (
        '<a href="#id_month_to">To month: May 2026 is before the from month, '
        "September 2026: choose a later month. The whole year is shown "
        "instead.</a>" in page
    )
    assert "Month_to" not in page
    assert (
        "The page shows 2026/27 instead. The form below keeps the months you "
        "chose, for you to change." in page
    )
    # The figures are the whole year's, and the note says so.
    assert response.context["scope"].whole_year
    for name, value in (
        ("year", "2026"),
        ("period", "months"),
        ("month_from", "2026-09"),
        ("month_to", "2026-05"),
    ):
        assert re.search(
            rf'<select[^>]* name="{name}"[^>]*>.*?<option value="{value}" selected>',
            page,
            re.S,
        ), name


def test_breakdown_by_directorate(council, spend):
    rows = {row.directorate: row for row in figures.directorates(scope(council))}
    # Place: A 600 local, B 300 elsewhere (P left out).
    assert (rows["Place"].total, rows["Place"].local, rows["Place"].elsewhere) == (
        D("900.00"),
        D("600.00"),
        D("300.00"),
    )
    # People: B −100 elsewhere, C 100 unknown, D 200 wider.
    people = rows["People"]
    assert (people.total, people.wider, people.elsewhere, people.unknown) == (
        D("200.00"),
        D("200.00"),
        D("-100.00"),
        D("100.00"),
    )
    place_only = figures.tiles(
        scope(council, directorate="Place"), figures.Targets(council)
    )
    assert by_key(place_only)["local"].share == D("66.7")  # 600 / 900


def test_largest_suppliers_outside_and_inside_the_area(council, spend):
    non_local = figures.largest_suppliers(scope(council))["non_local"]
    # B: 300 − 100 = 200; D: 200; the public body is left out, C's location unknown.
    assert [(r["supplier__name"], r["amount"]) for r in non_local] == [
        ("Bravo National plc", D("200.00")),
        ("Delta Trust", D("200.00")),
    ]
    with_public = figures.largest_suppliers(scope(council, include_public=True))[
        "non_local"
    ]
    assert with_public[0]["supplier__name"] == "Bedford Borough Council"
    local = figures.largest_suppliers(scope(council))["local"]
    assert [(r["supplier__name"], r["amount"]) for r in local] == [
        ("Alpha Local Ltd", D("600.00"))
    ]


def test_data_quality_names_what_is_missing(council, spend):
    quality = figures.quality(scope(council), date(2026, 11, 23))
    rows = {row["label"]: row for row in quality["rows"]}
    # Everything counted here: 1,100 + 1,000 public + 50 redacted = 2,150.
    assert quality["all"] == D("2150.00")
    assert rows["Redacted payees"]["amount"] == D("50.00")
    assert rows["Redacted payees"]["share"] == D("2.3")
    # C is the one supplier not verified in the register.
    assert rows[figures.UNCHECKED]["amount"] == D("100.00")
    # Months of 2025/26 with no lines: August, November, December 2025, January
    # and February 2026.
    assert quality["missing_months"] == [
        date(2025, 8, 1),
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_a_download_of_a_view_the_form_refuses_is_refused_with_the_page(
    client, viewer, spend
):
    """A year with no spend: not the default year's figures under another name,
    but the page (400) with its error summary."""
    client.force_login(viewer)
    url = reverse("spend:dashboard", args=["luton"])
    response = client.get(url, {"year": "2019", "download": "trend"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "govuk-error-summary" in response.content.decode()
    assert client.get(url, {"year": "2025", "download": "trend"}).status_code == 200
    # A measure with no such name: not the Local file under another name either.
    unknown = client.get(url, {"year": "2025", "metric": "x", "download": "trend"})
    assert unknown.status_code == 400
    assert "There is no measure of that name" in unknown.content.decode()
    shown = client.get(url, {"year": "2025", "metric": "x"})
    assert shown.status_code == 200
    assert "so the chart shows the local share" in shown.content.decode()


def test_data_quality_download_says_what_each_column_holds(client, viewer, spend):
    client.force_login(viewer)
    response = client.get(
        reverse("spend:dashboard", args=["luton"]),
        {"year": "2025", "download": "quality"},
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = rows.index(["What", "Spend (£)", SHARE_OF_ALL])
    body = {row[0]: row[1:] for row in rows[header + 1 :]}
    assert body[figures.UNCHECKED] == ["100.00", "4.7%"]  # C's 100 of 2,150
    # A month missing is named in the first column; the spend column holds money.
    assert body["No spend imported for August 2025"] == ["", ""]
    assert all(re.fullmatch(r"-?\d+\.\d\d|", spend_) for spend_, _ in body.values()), (
        body
    )
    page = client.get(reverse("spend:dashboard", args=["luton"]), {"year": "2025"})
    assert figures.UNCHECKED in page.text
    assert "not yet matched" not in page.text


SHARE_OF_ALL = "Share of all spend (public sector bodies and redacted payees included)"


def test_the_total_tile_says_what_it_leaves_out_of_the_total_spend(
    client, viewer, council, spend
):
    # The overview's "Total spend" for 2025/26 counts everything: 2,150.
    assert year_figures(council, FinancialYear(2025))["total"] == D("2150.00")
    client.force_login(viewer)
    url = reverse("spend:dashboard", args=["luton"])
    response = client.get(url, {"year": "2025"})
    page = response.text
    assert response.context["headline"]["all"] == D("2150.00")
    tile = page[page.index('class="ls-tile ls-tile--total"') :]
    tile = tile[: tile.index("</div>")]
    assert "Spend counted towards the targets" in tile
    assert "Total spend" not in tile
    assert (
        "Of £2,150.00 total spend, this leaves out £1,000.00 paid to public sector "
        "bodies and £50.00 paid to redacted payees." in tile
    )
    assert f'href="{response.context["total_url"]}"' in tile.replace("&amp;", "&")
    # With both included, nothing is left out: the figure is the total spend.
    response = client.get(
        url, {"year": "2025", "public": "include", "redacted": "include"}
    )
    assert response.context["headline"]["total"] == D("2150.00")
    assert "this leaves out" not in response.text


def test_page_links_are_named_as_they_read():
    """axe's label-content-name-mismatch: each page link's name holds its text."""
    import django_tables2 as tables
    from django.template import Context, Template
    from django.test import RequestFactory

    class Numbers(tables.Table):
        n = tables.Column()

    request = RequestFactory().get("/", {"page": "1440"})
    table = Numbers([{"n": i} for i in range(1441)])
    tables.RequestConfig(request, paginate={"per_page": 1}).configure(table)
    html = Template("{% load django_tables2 %}{% render_table table %}").render(
        Context({"table": table, "request": request})
    )
    links = re.findall(r'aria-label="([^"]+)"[^>]*>([^<]+)</a>', html)
    assert ("Page 1,440", "1,440") in links
    assert all(text in label for label, text in links), links


@pytest.fixture
def rising(council, make_supplier, make_line):
    """April 2024 to March 2025: local share 10%, 12%, … 32% of £1,000 a month."""
    here = make_supplier(name="Here Ltd")
    there = make_supplier(name="There Ltd")
    tag(here, "locality", "local", council)
    tag(there, "locality", "uk", council)
    for i in range(12):
        month = add_months(date(2024, 4, 1), i)
        local = D(10 + 2 * i) * 10
        make_line(council, supplier=here, amount=local, payment_date=month)
        make_line(council, supplier=there, amount=D(1000) - local, payment_date=month)
    Target.objects.create(
        council=council,
        metric="local",
        baseline_year=2023,
        baseline_share=D("10"),
        target_year=2026,
        target_share=D("70"),
    )
    rollup.rebuild(council.pk)


def test_trend_projects_the_last_twelve_months_to_the_target(council, rising):
    fy = FinancialYear(2024)
    trend = figures.trend(
        figures.Scope(council, fy, fy.start, date(2025, 3, 1)),
        figures.Targets(council),
        figures.METRIC_BY_KEY["local"],
        today=date(2025, 4, 15),
    )
    shares = [p.share for p in trend.points if p.share is not None]
    assert shares == [D(10 + 2 * i) for i in range(12)]
    # Trajectory: 10% in 2023/24 to 70% in 2026/27, 20 points a year.
    assert trend.points[-1].target == D("30.0")  # 2024/25
    # The fit is exact: 10 + 2 per month from April 2024 reaches 70 after 30
    # months, October 2026, before 31 March 2027.
    assert trend.fit_months == 12
    assert trend.crossing == date(2026, 10, 1)
    assert "October 2026, before the deadline of 31 March 2027" in trend.crossing_note
    # The projection runs from the last month to the end of the target year:
    # March 2027 is 35 months after April 2024, 10 + 70 = 80%.
    assert trend.projection[0] == (date(2025, 3, 1), D("32.0"))
    assert trend.projection[-1] == (date(2027, 3, 1), D("80.0"))


def test_a_falling_trend_never_reaches_the_target(council, make_supplier, make_line):
    here, there = make_supplier(name="Here Ltd"), make_supplier(name="There Ltd")
    tag(here, "locality", "local", council)
    tag(there, "locality", "uk", council)
    for i in range(6):
        month = add_months(date(2024, 4, 1), i)
        make_line(council, supplier=here, amount=D(50 - 5 * i), payment_date=month)
        make_line(council, supplier=there, amount=D(50 + 5 * i), payment_date=month)
    Target.objects.create(
        council=council,
        metric="local",
        baseline_year=2023,
        baseline_share=D("40"),
        target_year=2026,
        target_share=D("70"),
    )
    rollup.rebuild(council.pk)
    fy = FinancialYear(2024)
    trend = figures.trend(
        figures.Scope(council, fy, fy.start, date(2025, 3, 1)),
        figures.Targets(council),
        figures.METRIC_BY_KEY["local"],
        today=date(2025, 4, 15),
    )
    assert trend.crossing is None
    assert "does not reach the 70.0% target" in trend.crossing_note


def test_charts_are_valid_plotly_figures_with_a_table_and_summary(council, rising):
    fy = FinancialYear(2024)
    scope_ = figures.Scope(council, fy, fy.start, date(2025, 3, 1))
    trend = figures.trend(
        scope_,
        figures.Targets(council),
        figures.METRIC_BY_KEY["local"],
        date(2025, 4, 15),
    )
    chart = charts.trend_chart(trend, scope_.label)
    go.Figure(chart.figure)  # raises on anything plotly.js would not understand
    assert [trace["name"] for trace in chart.figure["data"]] == [
        "Local share",
        "Target trajectory",
        "Projection (straight line fitted to the last 12 months)",
    ]
    assert "32.0% in March 2025 against a target trajectory of 30.0%" in chart.summary
    assert ["March 2025", D("320.00"), D("1000.00"), "32.0%", "30.0%", "32.0%"] in (
        chart.rows
    )
    bars = charts.directorate_chart(figures.directorates(scope_), scope_.label)
    go.Figure(bars.figure)
    assert bars.header[0] == "Directorate"
    # The spend axis is labelled as the page writes money, reaching the longest bar.
    axis = bars.figure["layout"]["xaxis"]
    longest = max(sum(row[2:6]) for row in bars.rows)  # no credits here
    assert axis["ticktext"][0] == "£0"
    assert D(axis["tickvals"][-1]) >= longest > D(axis["tickvals"][-2])


@pytest.mark.parametrize(
    ("low", "high", "labels"),
    [
        ("0", "61700000", ["£0", "£20m", "£40m", "£60m"]),
        ("0", "2300000000", ["£0", "£500m", "£1bn", "£1.5bn", "£2bn", "£2.5bn"]),
        ("-12000", "90000", ["−£20k", "£0", "£20k", "£40k", "£60k", "£80k", "£100k"]),
        ("0", "950", ["£0", "£200", "£400", "£600", "£800", "£1k"]),
    ],
)
def test_money_axis_ticks_are_round_and_written_as_the_page_writes_money(
    low, high, labels
):
    ticks = charts.money_ticks(D(low), D(high))
    assert ticks["ticktext"] == labels
    step = D(ticks["tickvals"][1]) - D(ticks["tickvals"][0])
    assert all(D(value) % step == 0 for value in ticks["tickvals"])


def test_a_money_axis_with_nothing_on_it_keeps_plotlys_own_ticks():
    assert "tickvals" not in charts.money_ticks(D(0), D(0))


def test_the_page_shows_the_figures_and_states_the_denominators(client, viewer, spend):
    client.force_login(viewer)
    response = client.get(reverse("spend:dashboard", args=["luton"]), {"year": "2025"})
    assert response.status_code == 200
    page = response.text
    assert "Where the money went: 2025/26" in page
    assert "60.0%" in page
    assert "spend with suppliers whose location is known" in page
    assert "Unknown:" in page and "9.1% of the spend counted" in page
    assert "£1,000.00 paid to public sector bodies is left out" in page
    # The tiles' statuses (the legend above them names all three).
    assert 'govuk-tag--red">Below target</strong> Target for' in page
    assert 'govuk-tag--green">On target</strong> Target for' in page
    assert 'id="trend-figure" type="application/json"' in page
    assert "View as a table" in page
    assert "vendor/plotly/plotly.min.js" in page


def test_each_download_is_a_csv_stating_its_filters(client, viewer, spend):
    client.force_login(viewer)
    url = reverse("spend:dashboard", args=["luton"])
    for which in figures_downloads():
        response = client.get(url, {"year": "2025", "download": which})
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0][0].startswith("Luton Borough Council: ")
        assert rows[1] == ["Period: 2025/26 (1 April 2025 to 31 March 2026)"]
        # The data quality figures count all spend, whatever the page leaves
        # out, and say so (test_dashboard_qa).
        left_out = "included" if which == "quality" else "left out"
        assert rows[3] == [f"Payments to public sector bodies: {left_out}"]


def figures_downloads():
    from spend.dashboard_views import DOWNLOADS

    return DOWNLOADS


def test_downloads_are_formula_safe(client, viewer, council, make_supplier, make_line):
    evil = make_supplier(name='=HYPERLINK("http://evil.example","x")')
    tag(evil, "locality", "local", council)
    make_line(council, supplier=evil, amount=D("10"), payment_date=date(2025, 5, 1))
    rollup.rebuild(council.pk)
    client.force_login(viewer)
    response = client.get(
        reverse("spend:dashboard", args=["luton"]),
        {"year": "2025", "download": "local"},
    )
    text = response.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_a_viewer_of_another_council_cannot_see_this_dashboard(
    client, other_council_officer, spend
):
    client.force_login(other_council_officer)
    url = reverse("spend:dashboard", args=["luton"])
    assert client.get(url).status_code == 404
    assert client.get(url, {"download": "tiles"}).status_code == 404


def test_another_councils_spend_never_reaches_this_dashboard(
    council, other_council, spend, make_supplier, make_line
):
    theirs = make_supplier(name="Knowsley Local Ltd")
    make_line(
        other_council, supplier=theirs, amount=D("5000"), payment_date=date(2025, 6, 1)
    )
    rollup.rebuild(other_council.pk)
    headline = figures.tiles(scope(council), figures.Targets(council))
    assert headline["total"] == D("1100.00")


def _listed_total(client, url: str) -> Decimal:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.context["filter"].is_valid(), response.context["filter"].errors
    return response.context["figures"]["total"]


@pytest.mark.parametrize(
    "choices",
    [
        {"year": "2025"},
        {"year": "2025", "public": "include", "redacted": "include"},
        {"year": "2025", "period": "q1", "directorate": "People", "metric": "sme"},
        {"year": "2025", "directorate": "Place", "metric": "living_wage"},
    ],
)
def test_every_figure_drills_down_to_lines_that_add_up_to_it(
    client, viewer, spend, council, make_line, choices
):
    # A line with no directorate at all, to follow that row too.
    make_line(
        council, supplier=spend["a"], amount=D("5"), payment_date=date(2025, 4, 2)
    )
    rollup.rebuild(council.pk)
    client.force_login(viewer)
    response = client.get(reverse("spend:dashboard", args=["luton"]), choices)
    context = response.context
    headline = context["headline"]
    assert _listed_total(client, context["total_url"]) == headline["total"]
    for tile in headline["tiles"]:
        assert _listed_total(client, tile.urls["amount"]) == tile.amount, tile
        assert _listed_total(client, tile.urls["denominator"]) == tile.denominator
        assert _listed_total(client, tile.urls["unknown"]) == tile.unknown
    # The directorate table: the name and every £ cell, and the local share (its
    # link goes to the local spend, as a tile's share does).
    chart = context["directorate_chart"]
    assert chart.header[1:] == [
        "Spend (£)",
        "Local (£)",
        "Wider area, not local (£)",
        "Elsewhere (£)",
        "Location unknown (£)",
        "Local share of known",
    ]
    for (name, url, cells), row in zip(
        chart.linked_rows, context["directorates"], strict=True
    ):
        assert _listed_total(client, url) == row.total, name
        assert all(link for _value, link, _column in cells), (name, cells)
        for value, link, column in cells[:-1]:
            assert _listed_total(client, link) == value, (name, column)
        assert _listed_total(client, cells[-1][1]) == row.local, name
    # The monthly table: each month's £ cells, and its share (to the spend
    # counted in it); a month with no spend imported has no figures to follow.
    trend = context["trend_chart"]
    followed = 0
    for name, _url, cells in trend.linked_rows:
        amount, counted, share_, *_rest = cells
        if amount[0] in (None, ""):
            assert not (amount[1] or counted[1] or share_[1]), name
            continue
        assert _listed_total(client, amount[1]) == amount[0], name
        assert _listed_total(client, counted[1]) == counted[0], name
        assert share_[1] == amount[1], name
        followed += 1
    assert followed >= 2
    for row in context["non_local"] + context["local"]:
        assert _listed_total(client, row["url"]) == row["amount"]
    for row in context["quality"]["rows"]:
        assert _listed_total(client, row["url"]) == row["amount"], row["label"]


def test_the_trend_names_its_months_and_marks_the_projected_ones(
    client, viewer, spend, monkeypatch
):
    # On 15 August 2026, 2026/27 has A's £777 in April 2026 alone: May to August
    # have no spend imported yet, so they are not months of the trend with £0.00
    # of spend, only months of its projection, marked as such.
    monkeypatch.setattr(timezone, "localdate", lambda *args: date(2026, 8, 15))
    client.force_login(viewer)
    url = reverse("spend:dashboard", args=["luton"])
    response = client.get(url, {"year": "2026"})
    chart = response.context["trend_chart"]
    # The three years to March 2027 start in April 2024; the first month with
    # spend imported is March 2025, the last April 2026. The local target's year
    # is 2027/28: the projection runs to March 2028.
    assert chart.title == (
        "Local: share of spend by month, March 2025 to April 2026, "
        "projected to March 2028"
    )
    assert "Projected: May 2026 to March 2028" in chart.summary
    go.Figure(chart.figure)
    # The chart marks the period chosen and where the projected months begin.
    marks = chart.figure["layout"]["annotations"]
    # The period's name ends at its end, on the side with more room.
    assert [(mark["text"], mark["x"], mark["xanchor"]) for mark in marks] == [
        ("Period chosen: 2026/27", "2027-03-31", "right"),
        ("Projected,<br>not spend →", "2026-04-01", "left"),
    ]
    assert chart.title in response.text
    response = client.get(url, {"year": "2026", "download": "trend"})
    # Named for the measure and the months its rows hold, March 2025 (the
    # first with spend) to March 2028 (the last projected), not the period
    # (QA: named for three whole years it did not hold).
    assert response["Content-Disposition"].endswith(
        'filename="luton-dashboard-trend-local-2025-03-to-2028-03.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    preamble = [row[0] for row in rows[: rows.index(chart.header)] if row]
    assert any(
        line.startswith(
            "Months shown: March 2025 to April 2026: every month with spend "
            "imported from April 2024 to March 2027, the three financial years to "
            "the end of 2026/27."
        )
        for line in preamble
    ), preamble
    assert any(
        line.startswith("Projected: May 2026 to March 2028") for line in preamble
    )
    body = rows[rows.index(chart.header) + 1 :]
    months = [row[0] for row in body]
    assert months[0] == "March 2025"
    assert months.index("April 2026") == 13
    after = body[14:]
    assert [row[0] for row in after] == [
        f"{add_months(date(2026, 5, 1), i):%B %Y} (projected)" for i in range(23)
    ]
    # Projected months carry a projection and no spend or share, and the
    # target trajectory, as the chart's target line runs beside the projection
    # to 31 March 2028: 25% in 2023/24 to 65% in 2027/28 is 55% in 2026/27.
    assert all(row[1:4] == ["", "", ""] and row[5] for row in after), after
    assert [row[4] for row in after] == ["55.0%"] * 11 + ["65.0%"] * 12
    # August 2025 had no spend imported: said so, not £0.00.
    assert body[months.index("August 2025")][1:4] == ["", "", "No spend imported"]
    # May 2025's only payment went to a public body, left out: £0.00 counted.
    assert body[months.index("May 2025")][1:4] == ["0.00", "0.00", "no data"]


def test_a_target_with_no_share_to_judge_is_not_called_no_target():
    from spend.dashboard import Tile

    nothing = {
        "metric": figures.METRICS[0],
        "amount": D("0"),
        "denominator": D("0"),
        "share": None,
        "unknown": D("0"),
        "total": D("0"),
        "unknown_share": None,
    }
    # Not a status of its own, which the key above the tiles does not have.
    assert (
        Tile(**nothing, target=D("70.0")).status_label == "Not judged: no spend counted"
    )
    assert Tile(**nothing).status_label == "No target"


def test_a_past_period_with_spend_after_it_has_no_projection(council, spend):
    trend = figures.trend(
        figures.Scope(council, FinancialYear(2024), date(2024, 4, 1), date(2025, 3, 1)),
        figures.Targets(council),
        figures.METRIC_BY_KEY["local"],
        today=date(2026, 5, 1),
    )
    assert trend.projection == []
    assert "No projection for a past period" in trend.crossing_note


def test_a_share_of_too_little_known_spend_is_not_judged():
    from spend.dashboard import Tile

    def tile(metric: str, unknown: str) -> Tile:
        total, unknown = D("1000"), D(unknown)
        tile = Tile(
            metric=figures.METRIC_BY_KEY[metric],
            amount=D("10"),
            denominator=total - unknown,
            unknown=unknown,
            total=total,
            share=figures.share(D("10"), total - unknown),
            unknown_share=figures.share(unknown, total),
            target=D("25.0"),
        )
        return tile

    mostly_unknown = tile("local", "990")  # 10 of the 10 known: 100%
    assert mostly_unknown.too_little_known
    assert mostly_unknown.status_label == "Too little known to judge"
    assert not tile("local", "500").too_little_known  # half is enough
    # The Living Wage share is of all spend: "unknown" there is not a gap.
    assert not tile("living_wage", "990").too_little_known


def test_the_dashboard_does_not_judge_a_share_of_too_little_known_spend(
    client, council, viewer, spend, make_line
):
    # £5,000 more to C, whose tags are all unknown: most spend is unknown.
    make_line(
        council, supplier=spend["c"], amount=D("5000"), payment_date=date(2025, 6, 11)
    )
    rollup.rebuild(council.pk)
    tiles = by_key(figures.tiles(scope(council), figures.Targets(council)))
    assert tiles["local"].share == D("60.0")  # of the known spend, above 45%
    assert tiles["local"].status is None
    assert tiles["local"].status_label == "Too little known to judge"
    assert tiles["sme"].status is None
    client.force_login(viewer)
    page = client.get(
        reverse("spend:dashboard", args=[council.slug]), {"year": "2025"}
    ).content.decode()
    assert page.count(">Too little known to judge</strong>") == 1 + 3  # legend
    assert page.count("Not judged against the target") == 3  # local, SME, VCSE
    assert ">On target</strong> Target" not in page


def test_a_target_is_rounded_half_up_as_the_chart_and_targets_page_show_it(
    council, spend
):
    Target.objects.filter(council=council, metric="vcse").update(target_share=D("6.25"))
    tiles = by_key(figures.tiles(scope(council), figures.Targets(council)))
    # 6.25% for 2025/26 is shown as 6.3% everywhere; a share of 6.2% is below it.
    assert tiles["vcse"].target == D("6.3")
    assert figures.status_for(D("6.2"), tiles["vcse"].target) == "amber"


def test_the_headline_csv_says_what_the_unknown_share_is_of(client, viewer, spend):
    client.force_login(viewer)
    url = reverse("spend:dashboard", args=["luton"])
    response = client.get(url, {"year": "2025", "download": "tiles"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = next(row for row in rows if row and row[0] == "Measure")
    body = rows[rows.index(header) + 1 :]
    local = dict(zip(header, next(r for r in body if r[0] == "Local"), strict=True))
    # C's £100 of the £1,100 counted (public bodies and redacted payees left
    # out), not of all £2,150 of the year's spend.
    assert local["Tag unknown (£)"] == "100.00"
    assert local["Tag unknown, share of the spend counted"] == "9.1%"


def test_a_month_not_over_yet_is_shown_apart_from_the_monthly_line(council, spend):
    trend = figures.trend(
        scope(council),
        figures.Targets(council),
        figures.METRIC_BY_KEY["local"],
        today=date(2026, 3, 15),
    )
    march = trend.points[-1]
    assert (march.month, march.unfinished) == (date(2026, 3, 1), True)
    assert not any(p.unfinished for p in trend.points[:-1])
    chart = charts.trend_chart(trend, "2025/26")
    line = chart.figure["data"][0]
    assert "2026-03-01" not in line["x"]
    so_far = next(t for t in chart.figure["data"] if "so far" in t["name"])
    assert so_far["x"] == ["2026-03-01"] and so_far["mode"] == "markers"
    # The summary leads with the last month that is over (October: D, wider
    # area, 0% local), then says what March holds so far.
    assert chart.summary.startswith("Local share was 0.0% in October 2025")
    assert "March 2026 so far, the month not over: 0.0%." in chart.summary
    months = [row[0] for row in chart.rows]
    assert "March 2026 (not over yet)" in months and "March 2026" not in months


def test_the_months_missing_are_said_above_the_tiles(client, viewer, spend):
    client.force_login(viewer)
    url = reverse("spend:dashboard", args=["luton"])
    page = client.get(url, {"year": "2025"}).content.decode()
    above = page.split('id="headline"')[0]
    assert (
        "no spend has been imported for August 2025 and November 2025 to "
        "February 2026 (5 months of 2025/26)"
    ) in above


def test_a_target_whose_deadline_has_passed_is_said_to_have_passed(council, rising):
    """Seen in 2027/28 with nothing imported since March 2025, the 70% target
    of 2026/27 is over, and October 2026 is past: not "reaches the target in
    October 2026, before the deadline"."""
    fy = FinancialYear(2024)
    trend = figures.trend(
        figures.Scope(council, fy, fy.start, date(2025, 3, 1)),
        figures.Targets(council),
        figures.METRIC_BY_KEY["local"],
        today=date(2027, 5, 10),
    )
    assert trend.crossing == date(2026, 10, 1)
    assert trend.crossing_note == (
        "The target's deadline, 31 March 2027, has passed, and the last month with "
        "a share is March 2025, so whether it was met is not known. At the trend of "
        "the months held the share would have reached the 70.0% target in October "
        "2026."
    )


def _local_trend_of_2025(
    council, make_supplier, make_line, pence_a_month: int, target_year: int
):
    """The local share of 2025/26 seen in May 2026: 10% in April 2025, rising
    by `pence_a_month` in each £10 a month, against a 30% target of
    `target_year` (from 10% in 2024/25)."""
    here = make_supplier(name="Here Ltd")
    there = make_supplier(name="There Ltd")
    tag(here, "locality", "local", council)
    tag(there, "locality", "uk", council)
    for i in range(12):
        month = add_months(date(2025, 4, 1), i)
        local = D(100 + pence_a_month * i)  # of £1,000 each month
        make_line(council, supplier=here, amount=local, payment_date=month)
        make_line(council, supplier=there, amount=D(1000) - local, payment_date=month)
    Target.objects.create(
        council=council,
        metric="local",
        baseline_year=2024,
        baseline_share=D("10"),
        target_year=target_year,
        target_share=D("30"),
    )
    rollup.rebuild(council.pk)
    fy = FinancialYear(2025)
    return figures.trend(
        figures.Scope(council, fy, fy.start, date(2026, 3, 1)),
        figures.Targets(council),
        figures.METRIC_BY_KEY["local"],
        today=date(2026, 5, 10),
    )


def test_a_target_missed_with_spend_to_its_deadline_says_when_the_trend_gets_there(
    council, make_supplier, make_line
):
    """Spend held to the end of the target's year, and still below it: the trend
    reaches the target later, and the page says the deadline has passed."""
    # 10% rising 1 point a month, to 21% in March 2026.
    trend = _local_trend_of_2025(council, make_supplier, make_line, 10, 2025)
    # 10 + 1 a month from April 2025 reaches 30 after 20 months: December 2026.
    assert trend.crossing == date(2026, 12, 1)
    assert trend.crossing_note == (
        "The target's deadline, 31 March 2026, has passed. At the current trend "
        "the share reaches the 30.0% target in December 2026."
    )


def test_a_target_the_trend_reaches_only_decades_ahead_is_not_given_a_month(
    council, make_supplier, make_line
):
    """QA: a nearly flat VCSE trend "reaches the 8.0% target in August 2067".
    10.0% rising 0.1 point a month would reach 30% in 200 months: past ten years."""
    trend = _local_trend_of_2025(council, make_supplier, make_line, 1, 2030)
    assert trend.crossing is None
    assert trend.crossing_note == (
        "At the current trend the share does not reach the 30.0% target within 10 "
        "years (by March 2036)."
    )
