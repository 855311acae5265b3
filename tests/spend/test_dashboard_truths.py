"""Three small truths on the cabinet dashboard.

1. The directorate summary names the highest local share only among
   directorates with enough spend to compare, and says when others are left out.
2. The target line runs on to the end of the period's financial year, and on
   beside the projection as far as it is drawn (the target's deadline), in the
   chart and in its table alike.
3. The projection is fitted on the unrounded shares, not those rounded to one
   place for showing.

Every expected figure is worked out in the comments beside it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import plotly.graph_objects as go
import pytest
from django.urls import reverse
from django.utils import timezone

from councils.periods import FinancialYear, add_months
from socialvalue.models import SupplierTag, Target
from spend import charts, rollup
from spend import dashboard as figures
from spend.dashboard import DirectorateRow, TrendPoint

D = Decimal
LOCAL = figures.METRIC_BY_KEY["local"]


def tag(supplier, council, value):
    SupplierTag.objects.create(
        supplier=supplier,
        council=council,
        kind="locality",
        value=value,
        source="no_data",
        evidence="Set by the test.",
        confidence="high",
        decided_at=timezone.now(),
    )


def row(name: str, total: str, local: str, unknown: str = "0") -> DirectorateRow:
    """A directorate: `local` of `total` local, the rest elsewhere but `unknown`."""
    total_, local_, unknown_ = D(total), D(local), D(unknown)
    return DirectorateRow(
        name, total_, local_, D(0), total_ - local_ - unknown_, unknown_
    )


# ------------------------------------------------ 1. the directorate summary


def test_a_tiny_directorate_is_not_named_the_highest_local_share():
    rows = [
        row("Housing", "1000000", "300000"),  # 30.0% of £1m
        row("Adult Social Care", "800000", "280000"),  # 35.0% of £800k
        row("Highways", "1200", "1200"),  # 100.0% of £1,200: 0.07% of the spend
    ]
    summary = charts.directorate_chart(rows, "2025/26").summary
    # Of £1,801,200 known, Highways' £1,200 is far below 5%: left out.
    assert (
        "Of the 2 directorates with at least 5% of the spend whose location is "
        "known, the local share is highest in Adult Social Care: 35.0% (1 smaller "
        "one is left out)."
    ) in summary
    assert "Highways" not in summary
    assert "'s," not in summary  # no "Highways's"


def test_a_directorate_named_in_html_is_a_label_in_the_chart_not_a_link():
    """Security review: plotly makes <a href> in a label a link: a directorate
    column reading so put a link on the cabinet's dashboard."""
    name = '<a href="https://evil.example/">Adult Social Care</a> & Health'
    chart = charts.directorate_chart([row(name, "900", "600")], "2025/26")
    labels = {label for trace in chart.figure["data"] for label in trace["y"]}
    assert labels == {
        '&lt;a href="https://evil.example/"&gt;Adult Social Care&lt;/a&gt; &amp; Health'
    }
    # The table and the summary keep the name as written (the page escapes them).
    assert chart.rows[0][0] == name
    assert name in chart.summary


def test_every_directorate_compared_is_said_without_a_possessive():
    rows = [row("Place", "900", "600"), row("People", "300", "120")]
    summary = charts.directorate_chart(rows, "2025/26").summary
    # Place 600 / 900 = 66.7%; People 120 / 300 = 40.0%; neither is below 5%.
    assert summary.endswith(
        "Of the 2 directorates, the local share is highest in Place: 66.7%."
    )
    assert "Place's" not in summary


def test_the_rule_is_of_the_spend_whose_location_is_known():
    rows = [
        # £5m spent, but the location of all but £20,000 unknown: its 100.0% is
        # of £20,000, under 5% of the £420,000 known, so it is not compared.
        row("Children's Services", "5000000", "20000", unknown="4980000"),
        row("Housing", "250000", "100000"),  # 40.0%
        row("Public Health", "150000", "30000"),  # 20.0%
    ]
    summary = charts.directorate_chart(rows, "2025/26").summary
    assert "the local share is highest in Housing: 40.0% (1 smaller one is" in (summary)


def test_exactly_five_per_cent_is_enough_to_be_compared():
    rows = [
        row("Housing", "950", "95"),  # 10.0%
        row("Highways", "50", "50"),  # 100.0% of £50: exactly 5% of £1,000
    ]
    summary = charts.directorate_chart(rows, "2025/26").summary
    assert summary.endswith(
        "Of the 2 directorates, the local share is highest in Highways: 100.0%."
    )
    rows[1] = row("Highways", "49", "49")  # 49 of 999: under 5%
    summary = charts.directorate_chart(rows, "2025/26").summary
    assert "Highways" not in summary
    assert summary.endswith(
        "Only Housing has at least 5% of the spend whose location is known: the "
        "others have too little to compare local shares."
    )


def test_the_summary_from_the_database_leaves_the_tiny_directorate_out(
    council, make_supplier, make_line
):
    here, there = make_supplier(name="Here Ltd"), make_supplier(name="There Ltd")
    tag(here, council, "local")
    tag(there, council, "uk")
    for supplier, amount, department in (
        (here, "30000", "Housing"),
        (there, "70000", "Housing"),  # 30.0%
        (here, "20000", "People"),
        (there, "30000", "People"),  # 40.0%
        (here, "1200", "Highways"),  # 100.0% of £1,200
    ):
        make_line(
            council,
            supplier=supplier,
            amount=D(amount),
            payment_date=date(2025, 6, 1),
            department=department,
        )
    rollup.rebuild(council.pk)
    fy = FinancialYear(2025)
    rows = figures.directorates(figures.Scope(council, fy, fy.start, date(2026, 3, 1)))
    summary = charts.directorate_chart(rows, "2025/26").summary
    assert summary == (
        "3 directorates. The largest, Housing, spent £100,000.00, 30.0% of it "
        "locally (of spend whose location is known). Of the 2 directorates with "
        "at least 5% of the spend whose location is known, the local share is "
        "highest in People: 40.0% (1 smaller one is left out)."
    )


# ------------------------------------ 2. the target line to the year's end


@pytest.fixture
def to_october(council, make_supplier, make_line):
    """April 2024 to October 2025: local share 20.0%, 20.5%, … 29.0% of £1,000 a
    month; local target 25% in 2023/24 to 65% in 2027/28 (45% in 2025/26)."""
    here, there = make_supplier(name="Here Ltd"), make_supplier(name="There Ltd")
    tag(here, council, "local")
    tag(there, council, "uk")
    for i in range(19):
        month = add_months(date(2024, 4, 1), i)
        local = D(200 + 5 * i)
        make_line(council, supplier=here, amount=local, payment_date=month)
        make_line(council, supplier=there, amount=D(1000) - local, payment_date=month)
    Target.objects.create(
        council=council,
        metric="local",
        baseline_year=2023,
        baseline_share=D("25"),
        target_year=2027,
        target_share=D("65"),
    )
    rollup.rebuild(council.pk)


def year_trend(council, start_year=2025, today=date(2025, 11, 15)):
    fy = FinancialYear(start_year)
    scope = figures.Scope(council, fy, fy.start, add_months(fy.start, 11))
    trend = figures.trend(scope, figures.Targets(council), LOCAL, today)
    return trend, charts.trend_chart(trend, scope.label)


def target_line(chart):
    return next(t for t in chart.figure["data"] if t["name"] == "Target trajectory")


def test_the_target_runs_to_the_end_of_the_periods_year(council, to_october):
    trend, chart = year_trend(council)
    assert trend.points[-1].month == date(2025, 10, 1)  # the last month with spend
    # November 2025 to March 2026 have no spend yet: the year's target, 45%;
    # then on beside the projection to the target's deadline, March 2028, each
    # year at its share of the trajectory (55% in 2026/27, 65% in 2027/28).
    assert trend.targets_ahead == [
        (add_months(date(2025, 11, 1), i), D("45.0")) for i in range(5)
    ] + [(add_months(date(2026, 4, 1), i), D("55.0")) for i in range(12)] + [
        (add_months(date(2027, 4, 1), i), D("65.0")) for i in range(12)
    ]
    assert trend.projection[-1][0] == trend.targets_ahead[-1][0]
    go.Figure(chart.figure)
    line = target_line(chart)
    # Monthly steps from April 2024 (35% in 2024/25, 45% in 2025/26) on past
    # October 2025 to March 2026, then 55% and 65%, the last step drawn to
    # 31 March 2028.
    steps = dict(zip(line["x"], line["y"], strict=True))
    assert [steps[day] for day in ("2025-10-01", "2025-11-01", "2026-03-01")] == [
        "45.0"
    ] * 3
    assert (steps["2026-04-01"], steps["2027-04-01"]) == ("55.0", "65.0")
    assert line["x"][-2:] == ["2028-03-01", "2028-03-31"]
    assert line["x"][0] == "2024-04-01" and line["y"][0] == "35.0"
    # The straight line through 20.0 + 0.5 a month reaches 31.5% in March 2026
    # (23 months after April 2024): 13.5 points short of 45%, said in words.
    assert (
        "By March 2026, the end of 2025/26, the projection is 31.5% against a "
        "target trajectory of 45.0%: 13.5 points below it."
    ) in chart.summary
    # … and by March 2028, the deadline: 20 + 0.5 × 47 = 43.5%, against 65%.
    assert (
        "By March 2028, the target's deadline, the projection is 43.5% against "
        "the target of 65.0%: 21.5 points below it."
    ) in chart.summary
    assert (
        "Target trajectory: shown to 31 March 2028, the target's deadline, as far "
        "as the projection runs, beyond the last month with spend."
    ) in chart.notes


def test_the_table_carries_the_target_beside_the_projection(council, to_october):
    _, chart = year_trend(council)
    rows = {r[0]: r for r in chart.rows}
    # The table is the chart's accessible twin: the same target months.
    assert rows["November 2025 (projected)"][4:] == ["45.0%", "29.5%"]
    assert rows["March 2026 (projected)"][4:] == ["45.0%", "31.5%"]
    # The projection runs on to March 2028 (the target's year), and the target
    # line beside it: 55% in 2026/27, 65% in 2027/28.
    assert rows["April 2026 (projected)"][4:] == ["55.0%", "32.0%"]
    assert rows["March 2028 (projected)"][4:] == ["65.0%", "43.5%"]
    assert rows["October 2025"][3:5] == ["29.0%", "45.0%"]


def test_the_csv_and_the_page_table_carry_the_year_end_target(
    client, viewer, council, to_october, monkeypatch
):
    monkeypatch.setattr(timezone, "localdate", lambda *args: date(2025, 11, 15))
    client.force_login(viewer)
    url = reverse("spend:dashboard", args=[council.slug])
    response = client.get(url, {"year": "2025", "download": "trend"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    march = next(r for r in rows if r and r[0] == "March 2026 (projected)")
    assert march[4:] == ["45.0%", "31.5%"]
    assert any(r and r[0].startswith("Target trajectory: shown to 31") for r in rows)
    page = client.get(url, {"year": "2025"}).content.decode()
    found = re.search(r">March 2026 \(projected\)</th>(.*?)</tr>", page)
    assert found, "no row for March 2026 in the trend's table"
    cells = re.findall(r"<td [^>]*>(.*?)</td>", found[1])
    assert cells == ["", "", "", "45.0%", "31.5%"]
    assert "13.5 points below it" in page


def test_a_past_period_with_spend_after_it_has_no_target_ahead(council, to_october):
    trend, chart = year_trend(council, start_year=2024)
    # 2024/25 is over and 2025/26 has spend: the line ends with March 2025.
    assert trend.targets_ahead == []
    line = target_line(chart)
    assert line["x"][-2:] == ["2025-03-01", "2025-03-31"]
    assert not any("(no spend imported)" in r[0] for r in chart.rows)
    assert "the projection is" not in chart.summary


def test_with_too_few_months_to_project_the_target_still_runs_on(
    council, make_supplier, make_line
):
    here = make_supplier(name="Here Ltd")
    tag(here, council, "local")
    for month in (date(2025, 9, 1), date(2025, 10, 1)):
        make_line(council, supplier=here, amount=D(100), payment_date=month)
    Target.objects.create(
        council=council,
        metric="local",
        baseline_year=2025,
        baseline_share=D("40"),
        target_year=2026,
        target_share=D("50"),
    )
    rollup.rebuild(council.pk)
    trend, chart = year_trend(council)
    assert trend.projection == []
    later = [r for r in chart.rows if "(" in r[0]]
    assert [r[0] for r in later] == [
        f"{add_months(date(2025, 11, 1), i):%B %Y} (no spend imported)"
        for i in range(5)
    ]
    assert all(r[1:] == ["", "", "", "40.0%", ""] for r in later), later
    assert target_line(chart)["x"][-1] == "2026-03-31"
    assert "the projection is" not in chart.summary


def test_a_measure_with_no_target_has_no_line_ahead(council, to_october):
    fy = FinancialYear(2025)
    scope = figures.Scope(council, fy, fy.start, date(2026, 3, 1))
    trend = figures.trend(
        scope,
        figures.Targets(council),
        figures.METRIC_BY_KEY["wider"],
        date(2025, 11, 15),
    )
    assert trend.targets_ahead == []
    chart = charts.trend_chart(trend, scope.label)
    assert "Target trajectory" not in [t["name"] for t in chart.figure["data"]]


# ---------------------------------- 3. fitted on the unrounded shares


def points_rising_by_1_11():
    """April 2024 to March 2025: 40.00%, 41.11%, 42.22%, … 52.21% (£4,000,
    £4,111, … of £10,000), shown rounded: 40.0%, 41.1%, 42.2%, 43.3%, 44.4%,
    45.6% (45.55 rounds up), 46.7%, … — the rounding leans upwards later on."""
    out = []
    for i in range(12):
        amount, whole = D(4000 + 111 * i), D(10000)
        out.append(
            TrendPoint(
                add_months(date(2024, 4, 1), i),
                amount,
                whole,
                figures.share(amount, whole),
                None,
            )
        )
    return out


def test_the_projection_is_fitted_on_the_unrounded_shares(council):
    target = Target(
        council=council,
        metric="local",
        baseline_year=2023,
        baseline_share=D("25"),
        target_year=2026,
        target_share=D("70"),
    )
    points = points_rising_by_1_11()
    assert [p.share for p in points][4:6] == [D("44.4"), D("45.6")]
    projection, crossing, note, used = figures._project(
        points, target, today=date(2025, 4, 15)
    )
    assert used == 12
    # The true line is 40 + 1.11 a month from April 2024: it reaches 70% after
    # 30 / 1.11 = 27.03 months, so in the 28th, August 2026. Fitted on the
    # rounded shares it crossed after 26.98 months: July 2026, a month early.
    assert crossing == date(2026, 8, 1)
    assert "reaches the 70.0% target in August 2026" in note
    # March 2026, 23 months on: 40 + 1.11 × 23 = 65.53, shown 65.5%; the
    # rounded shares' line gave 65.6%.
    assert dict(projection)[date(2026, 3, 1)] == D("65.5")


def test_the_trend_from_the_database_is_fitted_on_the_unrounded_shares(
    council, make_supplier, make_line
):
    here, there = make_supplier(name="Here Ltd"), make_supplier(name="There Ltd")
    tag(here, council, "local")
    tag(there, council, "uk")
    for p in points_rising_by_1_11():
        make_line(council, supplier=here, amount=p.amount, payment_date=p.month)
        make_line(
            council, supplier=there, amount=D(10000) - p.amount, payment_date=p.month
        )
    Target.objects.create(
        council=council,
        metric="local",
        baseline_year=2023,
        baseline_share=D("25"),
        target_year=2026,
        target_share=D("70"),
    )
    rollup.rebuild(council.pk)
    trend, chart = year_trend(council, start_year=2024, today=date(2025, 4, 15))
    assert trend.crossing == date(2026, 8, 1)
    assert dict(trend.projection)[date(2026, 3, 1)] == D("65.5")
    # Shown rounded, as ever: the table's share column is to one place.
    assert next(r for r in chart.rows if r[0] == "September 2024")[3] == "45.6%"
    assert "March 2026 (projected)" in [r[0] for r in chart.rows]


def test_a_crossing_exactly_on_a_month_is_not_pushed_to_the_next():
    # 1%, 2 1/3%, 3 2/3%, … (£30, £70, £110, … of £3,000: 1 1/3 points more each
    # month) reaches 41% exactly 30 months on, in October 2026. Worked to 28
    # places, the line's thirds make that 30.00…01 months: not November.
    points = [
        TrendPoint(
            add_months(date(2024, 4, 1), i),
            D(30 + 40 * i),
            D(3000),
            figures.share(D(30 + 40 * i), D(3000)),
            None,
        )
        for i in range(12)
    ]
    target = Target(
        metric="local",
        baseline_year=2023,
        baseline_share=D("1"),
        target_year=2027,
        target_share=D("41"),
    )
    _, crossing, note, _ = figures._project(points, target, today=date(2025, 4, 15))
    assert crossing == date(2026, 10, 1)
    assert "reaches the 41.0% target in October 2026" in note


def test_a_projection_above_the_target_at_the_year_end_says_so(council, to_october):
    # 25% in 2023/24 to 29% in 2027/28: 27.0% in 2025/26, under the 31.5%
    # the projection reaches in March 2026.
    Target.objects.filter(council=council).update(target_share=D("29"))
    _, chart = year_trend(council)
    assert (
        "By March 2026, the end of 2025/26, the projection is 31.5% against a "
        "target trajectory of 27.0%: 4.5 points above it."
    ) in chart.summary


def test_the_trend_table_says_what_each_share_is_of(council, to_october):
    """The share's denominator is spend whose tag is known, except for the
    Living Wage (all spend): its column says which, not "Spend counted"."""
    _, chart = year_trend(council)
    assert chart.header[:3] == [
        "Month",
        "Local spend (£)",
        "Of: spend with suppliers whose location is known (£)",
    ]
    fy = FinancialYear(2025)
    scope = figures.Scope(council, fy, fy.start, add_months(fy.start, 11))
    living_wage = figures.METRIC_BY_KEY["living_wage"]
    trend = figures.trend(
        scope, figures.Targets(council), living_wage, date(2025, 11, 15)
    )
    assert charts.trend_chart(trend, scope.label).header[2] == (
        "Of: all spend in scope (£)"
    )


def _projected_label(chart) -> dict:
    return next(
        a
        for a in chart.figure["layout"]["annotations"]
        if a["text"].startswith("Projected")
    )


def test_the_projected_label_keeps_clear_of_a_low_line(council, to_october):
    """At the foot beside a local share of 20–30%; at the top beside a Living
    Wage share of 0% (no supplier on the list), where the foot is the line."""
    _, chart = year_trend(council)
    assert (_projected_label(chart)["y"], _projected_label(chart)["yanchor"]) == (
        0,
        "bottom",
    )
    fy = FinancialYear(2025)
    scope = figures.Scope(council, fy, fy.start, add_months(fy.start, 11))
    trend = figures.trend(
        scope,
        figures.Targets(council),
        figures.METRIC_BY_KEY["living_wage"],
        date(2025, 11, 15),
    )
    low = _projected_label(charts.trend_chart(trend, scope.label))
    assert (low["y"], low["yanchor"]) == (0.98, "top")
