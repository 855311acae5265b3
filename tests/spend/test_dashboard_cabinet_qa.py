"""A cabinet member's QA of the dashboard, each finding checked here.

1. A point on the trend, or a part of a directorate's bar, carries the link of
   its cell in the table beside the chart (plotly `customdata`), and the page
   says a point can be selected (the click itself: tests/browser/
   test_dashboard_click.py).
2. The target line runs beside the projection to the target's deadline, and the
   x-axis fits what is drawn (a past quarter's axis ends with the quarter).
3. A comparison with a year earlier that leaves months out says so first.
4. The page says its figures follow the local area and tags as they are today.
5. The directorate chart's summary is to the penny.
6. With a directorate chosen, the supplier lists' headings name it.

Every expected figure is worked out in the comments beside it.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta
from decimal import Decimal

import plotly.graph_objects as go
import pytest
from django.urls import reverse
from django.utils import timezone

from councils.periods import FinancialYear, add_months
from procure.models import Supplier
from socialvalue.models import Target
from spend import charts, rollup
from spend import dashboard as figures
from tests.spend.test_dashboard_qa import words
from tests.spend.test_dashboard_truths import tag

D = Decimal
LOCAL = figures.METRIC_BY_KEY["local"]


def dashboard(client, **params):
    return client.get(reverse("spend:dashboard", args=["luton"]), params)


@pytest.fixture
def seen_on(monkeypatch):
    def seen(day: date) -> None:
        monkeypatch.setattr(timezone, "localdate", lambda *args: day)

    return seen


@pytest.fixture
def two_years(council, make_supplier, make_line):
    """April 2024 to February 2026, £1,000 a month, the local share rising by
    half a point a month from 20.0%; half of each month's local spend in
    Housing, the rest (and all the spend elsewhere) in Place. A local target
    of 20% in 2024/25 to 80% by 2030/31 (30% in 2025/26)."""
    here, there = make_supplier(name="Here Ltd"), make_supplier(name="There Ltd")
    tag(here, council, "local")
    tag(there, council, "uk")
    for i in range(23):
        month = add_months(date(2024, 4, 1), i)
        local = D(200 + 5 * i)
        for amount, department in ((local / 2, "Housing"), (local / 2, "Place")):
            make_line(
                council,
                supplier=here,
                amount=amount,
                payment_date=month,
                department=department,
            )
        make_line(
            council,
            supplier=there,
            amount=D(1000) - local,
            payment_date=month,
            department="Place",
        )
    Target.objects.create(
        council=council,
        metric="local",
        baseline_year=2024,
        baseline_share=D("20"),
        target_year=2030,
        target_share=D("80"),
    )
    rollup.rebuild(council.pk)
    return {"here": here, "there": there}


# ------------------------------ 1. a point opens the payments behind it


def figure_of(page: str, chart_id: str) -> dict:
    found = re.search(
        rf'<script id="{chart_id}-figure" type="application/json">(.*?)</script>',
        page,
        re.S,
    )
    assert found, f"no figure for {chart_id}"
    return json.loads(found[1])


def table_links(page: str, chart_id: str) -> dict[str, list[str | None]]:
    """The chart's table as the page has it: {row heading: [each cell's link]}."""
    start = page.index(f'id="{chart_id}-title"')
    table = page[start : page.index("</table>", start)]
    body = table[table.index("<tbody") :]
    out = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        heading = words(re.search(r"<th[^>]*>(.*?)</th>", row, re.S)[1])
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        out[heading] = [
            html.unescape(link[1])
            if (link := re.search(r'href="([^"]*)"', c))
            else None
            for c in cells
        ]
    return out


def test_each_point_carries_the_link_its_table_cell_has(
    client, viewer, two_years, seen_on
):
    seen_on(date(2025, 11, 15))
    client.force_login(viewer)
    page = dashboard(client, year="2025").text

    trend = figure_of(page, "trend")
    go.Figure(trend)
    share = trend["data"][0]
    assert share["name"] == "Local share"
    links = table_links(page, "trend")
    # The table's cells after the month: spend, of, share, target, projection.
    for day, url in zip(share["x"], share["customdata"], strict=True):
        month = f"{date.fromisoformat(day):%B %Y}"
        assert url == links[month][2], month
    # October 2025: the local spend of that month, as the share's link says.
    october = share["customdata"][share["x"].index("2025-10-01")]
    assert october.startswith(reverse("spend:lines", args=["luton"]) + "?")
    assert "date_from=2025-10-01&date_to=2025-10-31" in october
    assert "locality=local" in october
    # November 2025, not over on the 15th, is a marker apart: its link too.
    so_far = next(t for t in trend["data"] if t["name"].endswith("(not over yet)"))
    assert so_far["x"] == ["2025-11-01"]
    assert so_far["customdata"] == [links["November 2025 (not over yet)"][2]]
    assert "date_from=2025-11-01&date_to=2025-11-30" in so_far["customdata"][0]
    # No other line of the chart is a figure of payments.
    assert [t["name"] for t in trend["data"] if "customdata" in t] == [
        "Local share",
        so_far["name"],
    ]

    bars = figure_of(page, "directorates")
    go.Figure(bars)
    links = table_links(page, "directorates")
    columns = {
        "Local": 1,
        "Wider area, not local": 2,
        "Elsewhere": 3,
        "Location unknown": 4,
    }
    assert [t["name"] for t in bars["data"]] == list(columns)
    for trace in bars["data"]:
        for name, url in zip(trace["y"], trace["customdata"], strict=True):
            assert url == links[name][columns[trace["name"]]], (trace["name"], name)
    housing = bars["data"][0]["customdata"][bars["data"][0]["y"].index("Housing")]
    assert "directorate=Housing" in housing and "locality=local" in housing

    # Said under each chart, for those who can point (shown by the script).
    hint = (
        '<p class="govuk-body-s ls-chart__hint ls-no-print" hidden>Select a point '
        "to see the payments behind it, or view as a table.</p>"
    )
    assert page.count(hint) == 2


# --------------------- 2. the target beside the projection; the x-axis fitted


def trend_chart(council, scope, today):
    trend = figures.trend(scope, figures.Targets(council), LOCAL, today)
    return trend, charts.trend_chart(trend, scope.label)


def test_the_target_runs_beside_the_projection_to_its_deadline(council, two_years):
    fy = FinancialYear(2025)
    scope = figures.Scope(council, fy, fy.start, date(2026, 3, 1))
    # Seen on 15 November 2025: the trend is fitted to October 2025, and
    # November so far is shown apart.
    trend, chart = trend_chart(council, scope, date(2025, 11, 15))
    assert trend.points[-1].month == date(2025, 11, 1)
    assert trend.points[-1].unfinished
    # The projection runs to March 2031, the target's year's end …
    assert trend.projection[-1][0] == date(2031, 3, 1)
    # … and the target line beside it: 30% for the rest of 2025/26, 40% in
    # 2026/27 … 80% in 2030/31, each a tenth of the way to 80% a year more.
    ahead = dict(trend.targets_ahead)
    assert min(ahead) == date(2025, 12, 1) and max(ahead) == date(2031, 3, 1)
    assert ahead[date(2026, 3, 1)] == D("30.0")
    assert [ahead[date(year, 4, 1)] for year in range(2026, 2031)] == [
        D("40.0"),
        D("50.0"),
        D("60.0"),
        D("70.0"),
        D("80.0"),
    ]
    go.Figure(chart.figure)
    line = next(t for t in chart.figure["data"] if t["name"] == "Target trajectory")
    assert line["x"][-1] == "2031-03-31" and line["y"][-1] == "80.0"
    # The table is the chart's twin: target and projection side by side.
    rows = {row[0]: row for row in chart.rows}
    # 20 + 0.5 a month from April 2024: 83 months to March 2031, 61.5%.
    assert rows["March 2031 (projected)"][4:] == ["80.0%", "61.5%"]
    assert (
        "By March 2031, the target's deadline, the projection is 61.5% against "
        "the target of 80.0%: 18.5 points below it."
    ) in chart.summary
    # The axis ends where the target and projection do, not beyond.
    axis = chart.figure["layout"]["xaxis"]
    assert axis["range"][1] == "2031-03-31"
    first = date.fromisoformat(axis["range"][0])
    assert date(2024, 4, 1) - timedelta(days=60) < first < date(2024, 4, 1)


def test_a_past_quarters_axis_ends_with_the_quarter(council, two_years):
    """Q3 2025/26 seen in March 2026, with spend imported to February 2026:
    nothing is drawn after December 2025, so the axis ends on 31 December (it
    ran on to April 2026, widened to hold the period's name)."""
    fy = FinancialYear(2025)
    q3 = figures.Scope(council, fy, date(2025, 10, 1), date(2025, 12, 1))
    trend, chart = trend_chart(council, q3, date(2026, 3, 15))
    assert trend.projection == [] and trend.targets_ahead == []
    layout = chart.figure["layout"]
    assert layout["xaxis"]["range"][1] == "2025-12-31"
    assert layout["xaxis"]["range"][0] < "2024-04-01"
    # Its name above the quarter, ending with it: inside the axis, to its left.
    period = next(a for a in layout["annotations"] if a["text"].startswith("Period"))
    assert (period["x"], period["xanchor"]) == ("2025-12-31", "right")


# ----------------------------- 3. the months compared with a year earlier


@pytest.fixture
def october_missing(council, make_supplier, make_line):
    """Q3 2025/26, October to December 2025, against a year earlier whose
    October 2024 was never imported:

    October 2025:  local £900, elsewhere £100
    November and December 2025: local £500, elsewhere £500 each
    November and December 2024: local £600, elsewhere £400 each

    The tile's share is 1,900 / 3,000 = 63.3%; compared over November and
    December: 1,000 / 2,000 = 50.0% against 1,200 / 2,000 = 60.0%.
    """
    here, there = make_supplier(name="Here Ltd"), make_supplier(name="There Ltd")
    tag(here, council, "local")
    tag(there, council, "uk")
    for day, local, elsewhere in (
        (date(2025, 10, 10), 900, 100),
        (date(2025, 11, 10), 500, 500),
        (date(2025, 12, 10), 500, 500),
        (date(2024, 11, 10), 600, 400),
        (date(2024, 12, 10), 600, 400),
    ):
        make_line(council, supplier=here, amount=D(local), payment_date=day)
        make_line(council, supplier=there, amount=D(elsewhere), payment_date=day)
    rollup.rebuild(council.pk)


def test_a_comparison_leaving_months_out_says_so_first(
    client, viewer, october_missing, seen_on
):
    seen_on(date(2026, 2, 15))
    client.force_login(viewer)
    page = dashboard(client, year="2025", period="q3")
    headline = page.context["headline"]
    assert headline["compared_only"] == "October 2024 was not imported"
    tiles = page.text[page.text.index('class="ls-dashboard-tiles"') :]
    local = tiles[tiles.index(">Local</h3>") :]
    assert words(local[: local.index("</div>")]).count("63.3%") == 1
    said = re.findall(r'ls-year-earlier">(.*?)</p>', tiles, re.S)
    assert words(said[1]) == (
        "Compared over November to December 2025 only (October 2024 was not "
        "imported): 50.0% against 60.0% in November to December 2024, down 10.0 "
        "points."
    )
    # The total's tile too: £2,000 against £2,000, over the same months.
    assert words(said[0]).startswith(
        "Compared over November to December 2025 only (October 2024 was not imported): "
    )


def test_a_comparison_of_every_month_is_said_as_before(
    client, viewer, october_missing, make_line, council, seen_on
):
    seen_on(date(2026, 2, 15))
    here = Supplier.objects.get(name="Here Ltd")
    make_line(council, supplier=here, amount=D(500), payment_date=date(2024, 10, 10))
    rollup.rebuild(council.pk)
    client.force_login(viewer)
    page = dashboard(client, year="2025", period="q3")
    assert page.context["headline"]["compared_only"] == ""
    assert "Compared over" not in page.text
    # 1,900 / 3,000 = 63.3% against 1,700 / 2,500 = 68.0%.
    assert (
        "Down 4.7 points on a year earlier: 63.3% in October to December 2025 "
        "against 68.0% in October to December 2024."
    ) in words(page.text)


def test_a_month_not_over_is_said_to_be_left_out(council, october_missing):
    """Seen on 20 December 2025, December is not over: compared over November
    alone, October 2024 missing and December 2025 not over."""
    fy = FinancialYear(2025)
    q3 = figures.Scope(council, fy, date(2025, 10, 1), date(2025, 12, 1))
    headline = figures.tiles(q3, figures.Targets(council), date(2025, 12, 20))
    assert headline["compared"] == "November 2025"
    assert headline["compared_only"] == (
        "October 2024 was not imported; December 2025 is not over yet"
    )


# ---------------------------------- 4. figures as the area and tags are today


def test_the_page_says_its_figures_follow_the_area_and_tags_of_today(
    client, viewer, october_missing, seen_on
):
    seen_on(date(2026, 2, 15))
    client.force_login(viewer)
    page = dashboard(client, year="2025").text
    stated = page[page.index('class="ls-stated-filters') :]
    stated = stated[: stated.index("</div>")]
    note = (
        "Figures use the local area and supplier tags as they are today; they "
        "change when either changes."
    )
    assert note in words(stated)  # the part of the page that prints
    assert words(page).count(note) == 1


# ------------------------------------ 5. the directorate summary to the penny


def test_the_directorate_summary_is_to_the_penny(council, make_supplier, make_line):
    here = make_supplier(name="Here Ltd")
    tag(here, council, "local")
    make_line(
        council,
        supplier=here,
        amount=D("11184844.37"),
        payment_date=date(2025, 6, 1),
        department="Housing",
    )
    rollup.rebuild(council.pk)
    fy = FinancialYear(2025)
    rows = figures.directorates(figures.Scope(council, fy, fy.start, date(2026, 3, 1)))
    chart = charts.directorate_chart(rows, "2025/26")
    assert chart.summary.startswith(
        "One directorate, Housing, spent £11,184,844.37, 100.0% of it locally"
    )
    assert all(".2f" in trace["hovertemplate"] for trace in chart.figure["data"])


# ------------------------- 6. the supplier lists name the directorate chosen


def test_the_supplier_lists_name_the_directorate_chosen(
    client, viewer, two_years, seen_on
):
    seen_on(date(2025, 11, 15))
    client.force_login(viewer)
    headings = re.compile(r'<h2 class="govuk-heading-m" id="(?:non-)?local">(.*?)</h2>')
    page = dashboard(client, year="2025").text
    assert headings.findall(page) == [
        "Largest suppliers outside the area",
        "Largest local suppliers",
    ]
    page = dashboard(client, year="2025", directorate="Housing").text
    assert headings.findall(page) == [
        "Largest suppliers outside the area: Housing",
        "Largest local suppliers: Housing",
    ]
    assert "The 20 largest local suppliers (Housing), 2025/26" in page


def test_the_month_by_month_chart_names_the_directorate_chosen(
    client, viewer, two_years, seen_on
):
    """QA: filtered to Housing, the chart's heading read as the council's."""
    seen_on(date(2025, 11, 15))
    client.force_login(viewer)
    page = dashboard(client, year="2025")
    assert page.context["trend_chart"].title.startswith(
        "Local: share of spend by month, "
    )
    page = dashboard(client, year="2025", directorate="Housing")
    assert page.context["trend_chart"].title.startswith(
        "Local: share of spend in Housing, by month, "
    )
    assert "Local: share of spend in Housing, by month, " in page.text
    # No possessive to go wrong (QA: "Children's Services's spend").
    page = dashboard(client, year="2025", directorate="Children's Services")
    assert "Services's" not in page.context["trend_chart"].title


def test_a_target_that_starts_in_a_later_year_is_not_called_no_target(
    client, viewer, council, two_years, seen_on
):
    """QA: an SME target from 40% in 2030/31 to 70% by 2035/36 made the tile say
    "No target set for this measure yet": a councillor would think no pledge
    was made."""
    seen_on(date(2026, 3, 20))
    Target.objects.create(
        council=council,
        metric="sme",
        baseline_year=2030,
        baseline_share=D("40"),
        target_year=2035,
        target_share=D("70"),
    )
    client.force_login(viewer)
    page = words(dashboard(client, year=2025).content.decode())
    assert (
        "No target for 2025/26: the council's target starts later (70.0% by "
        "2035/36, from 40.0% in 2030/31)." in page
    )
    assert "No target set for this measure yet." in page  # VCSE: none at all


def test_a_far_off_target_draws_the_projection_no_further_than_ten_years(
    council, two_years
):
    """QA: a target for 2056/57 drew a thirty-year straight line: the months
    held shrank into the chart's first eighth."""
    Target.objects.filter(council=council).update(target_year=2056)
    fy = FinancialYear(2025)
    scope = figures.Scope(council, fy, fy.start, date(2026, 3, 1))
    trend, chart = trend_chart(council, scope, date(2025, 11, 15))
    # Fitted to October 2025: drawn to October 2035, ten years on.
    assert trend.projection[-1][0] == date(2035, 10, 1)
    assert max(m for m, _ in trend.targets_ahead) == date(2035, 10, 1)
    go.Figure(chart.figure)
    # The deadline is still said in words.
    assert "before the deadline of 31 March 2057." in chart.summary
    assert "Projected: December 2025 to October 2035" in chart.summary


def test_a_council_with_no_spend_yet_says_who_brings_it(
    client, viewer, finance_officer, council, make_line, seen_on
):
    """QA: a council with no spend at all told a cabinet member to "choose
    another period", with only this year on the list."""
    seen_on(date(2026, 11, 24))
    client.force_login(viewer)
    page = words(dashboard(client).content.decode())
    assert f"No spend has been imported for {council.name} yet" in page
    assert "The council's finance team uploads its monthly spend files" in page
    assert "Choose another period" not in page
    client.force_login(finance_officer)
    page = dashboard(client).content.decode()
    assert reverse("spend:upload", args=[council.slug]) in page
    # Spend in another year: this year is empty, another may be chosen.
    make_line(council, payment_date=date(2024, 6, 1))
    rollup.rebuild(council.pk)
    client.force_login(viewer)
    page = words(dashboard(client, year="2026").content.decode())
    assert "yet, so there are no figures to show" not in page
    assert "Choose another period to see spend." in page


# ------------- 7. a period with no spend: no axes of nothing (QA: £-1 to £6)


@pytest.fixture
def from_october(council, make_supplier, make_line):
    """Spend from October 2025 to February 2026 only (as the 14-month demo
    has it): £600 local and £400 elsewhere a month. A local target of 20% in
    2024/25 to 80% by 2030/31: 30% in 2025/26. April to June 2025 have none."""
    here, there = make_supplier(name="Here Ltd"), make_supplier(name="There Ltd")
    tag(here, council, "local")
    tag(there, council, "uk")
    for i in range(5):
        month = add_months(date(2025, 10, 1), i)
        make_line(council, supplier=here, amount=D(600), payment_date=month)
        make_line(council, supplier=there, amount=D(400), payment_date=month)
    Target.objects.create(
        council=council,
        metric="local",
        baseline_year=2024,
        baseline_share=D("20"),
        target_year=2030,
        target_share=D("80"),
    )
    rollup.rebuild(council.pk)


def test_a_period_with_no_spend_draws_no_axes_of_nothing(
    client, viewer, from_october, seen_on
):
    """QA: Q1 2025/26, with no spend, drew the directorate chart's axis from
    £-1 to £6 (plotly's range for no data): no chart now, and a sentence."""
    seen_on(date(2026, 3, 15))
    client.force_login(viewer)
    response = dashboard(client, year="2025", period="q1")
    page = response.text
    bars = response.context["directorate_chart"]
    assert bars.empty and bars.rows == []
    assert 'data-figure="directorates-figure"' not in page
    assert 'id="directorates-figure"' not in page
    assert "No spend in this period: there is nothing to chart." in page
    # Nothing to view as a table either; the (empty) CSV stays.
    figure = page[page.index('id="directorates-title"') :]
    figure = figure[: figure.index("</figure>")]
    assert "View as a table" not in figure
    assert "download=directorates" in figure
    # Were it drawn, its axis would start at £0 and go up, never below.
    axis = bars.figure["layout"]["xaxis"]
    assert axis["range"] == [0, 1]
    assert axis["tickvals"] == ["0"] and axis["ticktext"] == ["£0"]
    go.Figure(bars.figure)
    # The trend's axis runs from 0% to a round figure above what it draws (the
    # target alone here: 30%), never below 0%.
    trend = response.context["trend_chart"]
    drawn = [
        float(y) for t in trend.figure["data"] for y in t["y"] if y not in (None, "")
    ]
    low, top = trend.figure["layout"]["yaxis"]["range"]
    assert low == 0 and max(drawn) * 1.2 <= top <= 100


def test_a_share_trend_with_nothing_to_draw_is_not_drawn(council, from_october):
    """No spend in the three years to the period's end and no target for the
    measure (the wider area has none): the summary alone, no plot."""
    fy = FinancialYear(2024)
    q1 = figures.Scope(council, fy, date(2024, 4, 1), date(2024, 6, 1))
    trend = figures.trend(
        q1, figures.Targets(council), figures.METRIC_BY_KEY["wider"], date(2026, 3, 15)
    )
    chart = charts.trend_chart(trend, q1.label)
    assert chart.empty
    assert chart.summary.endswith("There is nothing to chart.")


# ------- 8. a quarter's axis: each month once, and the target line drawn


def test_an_empty_quarter_draws_its_target_and_names_each_month_once(
    client, viewer, from_october, seen_on
):
    """QA: Q1 2025/26 (no spend; spend from October) labelled its axis "Mar
    2025, Apr 2025, Apr 2025, May 2025, May 2025 …" (plotly's ticks a fortnight
    apart, each named by its month) and drew no target, where the year view
    draws one."""
    seen_on(date(2026, 3, 15))
    client.force_login(viewer)
    response = dashboard(client, year="2025", period="q1")
    chart = response.context["trend_chart"]
    assert not chart.empty
    assert 'data-figure="trend-figure"' in response.text
    go.Figure(chart.figure)
    axis = chart.figure["layout"]["xaxis"]
    # A tick on the first of each month: each month named once.
    assert (axis["dtick"], axis["tick0"]) == ("M1", "2000-01-01")
    assert axis["range"][0] < "2025-04-01" and axis["range"][1] == "2025-06-30"
    # The target across the quarter, 30% as on the year view.
    line = next(t for t in chart.figure["data"] if t["name"] == "Target trajectory")
    assert line["x"] == ["2025-04-01", "2025-05-01", "2025-06-01", "2025-06-30"]
    assert line["y"] == ["30.0"] * 4
    year = dashboard(client, year="2025").context["trend_chart"]
    on_the_year = next(
        t for t in year.figure["data"] if t["name"] == "Target trajectory"
    )
    drawn = dict(zip(on_the_year["x"], on_the_year["y"], strict=True))
    assert drawn["2025-10-01"] == drawn["2026-03-01"] == "30.0"
    # Named in the key (plotly leaves a lone line unnamed), and in words.
    assert chart.figure["layout"]["showlegend"] is True
    assert chart.summary.startswith(
        "No spend in this period. The target trajectory for 2025/26 is 30.0%."
    )
    assert (
        "Target trajectory: shown to 30 June 2025, the end of the period "
        "chosen, although no spend is imported for those months."
    ) in chart.summary
    assert [row[0] for row in chart.rows] == [
        "April 2025 (no spend imported)",
        "May 2025 (no spend imported)",
        "June 2025 (no spend imported)",
    ]
    # No point to select: the page does not offer one.
    figure = response.text[response.text.index('id="trend-title"') :]
    assert "Select a point" not in figure[: figure.index("</figure>")]


def test_a_short_axis_ticks_each_month_a_long_one_is_left_to_plotly(council, two_years):
    """Q1 2024/25, the first quarter with spend: three months on the axis,
    a tick each. The year 2025/26 spans two years: plotly's own ticks, whole
    months or more apart, so a phone is not crowded."""
    fy = FinancialYear(2024)
    q1 = figures.Scope(council, fy, fy.start, date(2024, 6, 1))
    _, chart = trend_chart(council, q1, date(2026, 3, 15))
    assert chart.figure["layout"]["xaxis"]["dtick"] == "M1"
    target = next(t for t in chart.figure["data"] if t["name"] == "Target trajectory")
    assert target["x"][0] == "2024-04-01" and target["x"][-1] == "2024-06-30"
    fy = FinancialYear(2025)
    year = figures.Scope(council, fy, fy.start, date(2026, 3, 1))
    _, chart = trend_chart(council, year, date(2026, 3, 15))
    assert "dtick" not in chart.figure["layout"]["xaxis"]


def test_a_past_quarter_with_no_spend_of_its_own_draws_the_target_across_it(
    council, two_years
):
    """Spend to September 2024, then from January 2025: Q3 2024/25 (October
    to December) has none, and its target still runs across it, to its end."""
    from spend.models import SpendLine

    SpendLine.objects.filter(
        council=council,
        payment_date__gte=date(2024, 10, 1),
        payment_date__lt=date(2025, 1, 1),
    ).delete()
    rollup.rebuild(council.pk)
    fy = FinancialYear(2024)
    q3 = figures.Scope(council, fy, date(2024, 10, 1), date(2024, 12, 1))
    trend, chart = trend_chart(council, q3, date(2026, 3, 15))
    assert trend.points[-1].month == date(2024, 9, 1)
    assert trend.targets_ahead == [
        (date(2024, 10, 1), D("20.0")),
        (date(2024, 11, 1), D("20.0")),
        (date(2024, 12, 1), D("20.0")),
    ]
    line = next(t for t in chart.figure["data"] if t["name"] == "Target trajectory")
    assert line["x"][-1] == "2024-12-31"
    assert (
        "Target trajectory: shown to 31 December 2024, the end of the period "
        "chosen, beyond the last month with spend."
    ) in chart.summary


# ------------------- 9. a range of months, named in a sentence that reads


def test_a_range_of_months_reads_as_a_sentence(
    client, viewer, october_missing, seen_on
):
    """QA: September to December 2025 chosen, the page said "(1 month of
    September 2025 to December 2025)" and "to the end of September 2025 to
    December 2025"."""
    seen_on(date(2026, 2, 15))
    client.force_login(viewer)
    response = dashboard(
        client, year="2025", period="months", month_from="6", month_to="9"
    )
    page = words(response.text)
    assert (
        "The figures below are of the months held: no spend has been imported "
        "for September 2025 (1 of the 4 months chosen). The targets are for "
        "whole years."
    ) in page
    assert (
        "to the end of the period chosen, September 2025 to December 2025."
    ) in response.context["trend_chart"].summary
    assert "of September 2025 to December 2025" not in page
    assert "end of September 2025 to December 2025" not in page


def test_a_period_names_a_count_of_its_months(council):
    fy = FinancialYear(2025)
    year = figures.Scope(council, fy, fy.start, date(2026, 3, 1))
    q2 = figures.Scope(council, fy, date(2025, 7, 1), date(2025, 9, 1))
    may = figures.Scope(council, fy, date(2025, 5, 1), date(2025, 5, 1))
    months = figures.Scope(council, fy, date(2025, 5, 1), date(2025, 8, 1))
    assert year.months_of(5) == "5 months of 2025/26"
    assert q2.months_of(1) == "1 month of Q2 2025/26"
    assert may.months_of(1) == "1 month of May 2025"
    assert months.months_of(2) == "2 of the 4 months chosen"
    assert [s.named for s in (year, q2, may, months)] == [True, True, True, False]


# --------- 10. the months covered: a month not over, with no spend, is not


def test_a_month_not_over_with_no_spend_is_not_said_to_be_covered(
    client, viewer, council, two_years, make_line, seen_on
):
    """QA: on 15 March 2026, with spend to February, the page said spend was
    imported "for every month of this period up to now": March has none."""
    seen_on(date(2026, 3, 15))
    client.force_login(viewer)
    page = words(dashboard(client, year="2025").text)
    assert (
        "Spend has been imported for every month of this period that is over: "
        "April 2025 to February 2026. None has been imported yet for March "
        "2026, which is not over."
    ) in page
    assert "up to now" not in page
    # Said at the top too, where the figures are (QA: the year so far read as
    # a whole year, its statuses judged against whole years' targets).
    assert (
        "This period is not over: the figures below are of April 2025 to February "
        "2026 so far, and the targets are for whole years."
    ) in page
    # March's first payments in: covered so far, and said not to be over.
    make_line(
        council,
        supplier=two_years["here"],
        amount=D(100),
        payment_date=date(2026, 3, 2),
    )
    rollup.rebuild(council.pk)
    page = words(dashboard(client, year="2025").text)
    assert (
        "Spend has been imported for every month of this period so far: April "
        "2025 to March 2026 (March 2026 is not over yet)."
    ) in page
    # A period over: every month, and no more said.
    page = words(dashboard(client, year="2025", period="q3").text)
    assert "Spend has been imported for every month of this period." in page
    assert "This period is not over" not in page


def test_a_small_share_and_its_target_are_drawn_on_an_axis_that_fits_them(
    council, two_years
):
    """QA: drawn on 0% to 100%, a VCSE share of about 5% and its target of 7%
    lay along the foot of the chart as one line: the axis now ends a little above
    the highest share, target or projection drawn."""
    from spend.charts import _share_top

    def trace(*ys):
        return {"y": [None if y is None else str(y) for y in ys]}

    assert _share_top([trace(4.8, 5.1, None), trace(7.2, 8)]) == 10
    assert _share_top([trace(25.0, 31.4), trace(42.0)]) == 60
    assert _share_top([trace(82.0), trace(90)]) == 100
    assert _share_top([trace(None)]) == 100  # nothing drawn


def test_the_words_for_a_period_read_as_english(client, viewer, from_october, seen_on):
    """QA: "£10.3m of £61.7m all spend in scope"; "(sme) status" of a period with
    no spend at all; "Nothing to compare with a year earlier yet" of a quarter
    long past."""
    seen_on(date(2026, 3, 15))
    client.force_login(viewer)
    year = " ".join(dashboard(client, year="2025").text.split())
    assert ", all spend in scope (suppliers not known to be accredited" in year
    # What "not yet checked" means, and how it bears on the tiles.
    assert "“Not yet checked” suppliers were added to the register automatically" in (
        year
    )
    quarter = dashboard(client, year="2025", period="q1", metric="sme")
    text = " ".join(quarter.text.split())
    assert "(sme)" not in text
    assert quarter.context["trend_chart"].summary.startswith("No spend in this period.")
    assert "Nothing to compare with a year earlier: no spend is imported" in text
    assert "yet" not in " ".join(row[0] for row in quarter.context["trend_chart"].rows)
