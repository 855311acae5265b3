"""The dashboard's periods across 31 March, the last 12 months, and choices in a
link that cannot be used (QA as a cabinet member).

QA: January to May 2025/26 was refused ("Choose a month on or after the first
month"), the heading then naming 2026/27 while the form still said 2025/26,
January, May; a link's unknown year or directorate got Django's "Select a
valid choice. 2023 is not one of the available choices."
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from councils.periods import FinancialYear
from socialvalue.models import Target
from spend import dashboard as figures
from spend import rollup
from spend.dashboard import month_value
from tests.conftest import new_tag as tag

D = Decimal
TODAY = date(2026, 8, 15)


@pytest.fixture
def months(council, make_supplier, make_line, monkeypatch):
    """A local supplier paid £100 on the 10th of each month from April 2024 to
    June 2026; a supplier elsewhere £300 in each month of 2026 only. A local
    target of 40% by 2026/27, from 20% in 2024/25."""
    monkeypatch.setattr(timezone, "localdate", lambda *args: TODAY)
    local = make_supplier(name="Local Ltd", verified=True)
    far = make_supplier(name="Far plc", verified=True)
    tag(local, "locality", "local", council)
    tag(far, "locality", "uk", council)
    month = date(2024, 4, 10)
    while month <= date(2026, 6, 10):
        make_line(
            council,
            supplier=local,
            amount=D("100"),
            payment_date=month,
            department="Place",
        )
        if month.year == 2026:
            make_line(
                council,
                supplier=far,
                amount=D("300"),
                payment_date=month,
                department="Place",
            )
        month = date(month.year + month.month // 12, month.month % 12 + 1, 10)
    Target.objects.create(
        council=council,
        metric="local",
        baseline_year=2024,
        baseline_share=D("20"),
        target_year=2026,
        target_share=D("40"),
    )
    rollup.rebuild(council.pk)


def get(client, viewer, **params):
    client.force_login(viewer)
    return client.get(reverse("spend:dashboard", args=["luton"]), params)


def chosen(page: str, name: str) -> str:
    """The value the form shows chosen for the select `name`."""
    select = re.search(rf'<select[^>]* name="{name}"[^>]*>(.*?)</select>', page, re.S)
    found = re.search(r'<option value="([^"]*)" selected>', select[1])
    return found[1] if found else ""


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_months_chosen_can_run_across_31_march(client, viewer, months):
    """January to June 2026, chosen with 2025/26 as the year: 2026/27's
    target, said so, and the same months a year earlier to compare."""
    response = get(
        client,
        viewer,
        year="2025",
        period="months",
        month_from="2026-01",
        month_to="2026-06",
    )
    assert response.status_code == 200
    page = response.text
    assert "could not be used" not in page
    scope = response.context["scope"]
    assert (scope.first, scope.end) == (date(2026, 1, 1), date(2026, 6, 30))
    assert scope.fy == FinancialYear(2026) and scope.spans_years
    assert "Where the money went: January 2026 to June 2026" in page
    # The form shows the view: the months chosen, and the year they end in.
    assert [chosen(page, n) for n in ("year", "period", "month_from", "month_to")] == [
        "2026",
        "months",
        "2026-01",
        "2026-06",
    ]
    # Which target: 2026/27's (the trajectory's 40%), said on the page.
    shown = words(page)
    assert "Targets: those for 2026/27, the financial year the period ends in" in shown
    local = next(
        t for t in response.context["headline"]["tiles"] if t.metric.key == "local"
    )
    # £600 local of £600 + £1,800 = 25%, against 2026/27's 40%.
    assert (local.share, local.target) == (D("25.0"), D("40.0"))
    assert "Target for 2026/27, the year the period ends in: 40.0%" in shown
    # A year earlier: January to June 2025, all local then.
    assert local.previous_share == D("100.0")
    assert response.context["headline"]["compared_before"] == "January to June 2025"


def test_the_from_and_to_months_offer_every_month_of_the_years_held(council, months):
    years, default = figures.years_with_data(council, TODAY)
    form = figures.DashboardForm(
        {}, years=years, directorates=figures.directorates_of(council), default=default
    )
    offered = [label for _, label in form.fields["month_to"].choices]
    assert offered[0] == "April 2024" and offered[-1] == "March 2027"
    assert "January 2026" in offered and "June 2026" in offered


def test_an_old_link_of_months_by_their_place_in_the_year_still_works(
    client, viewer, months
):
    response = get(
        client, viewer, year="2025", period="months", month_from="1", month_to="3"
    )
    scope = response.context["scope"]
    assert (scope.first, scope.end) == (date(2025, 4, 1), date(2025, 6, 30))
    assert scope.fy == FinancialYear(2025) and not scope.spans_years
    assert chosen(response.text, "month_from") == "2025-04"


def test_the_last_12_months_end_with_the_latest_month_over(client, viewer, months):
    response = get(client, viewer, period="last12")
    page = response.text
    scope = response.context["scope"]
    # The latest month with spend is June 2026 (July and August have none).
    assert (scope.first, scope.end) == (date(2025, 7, 1), date(2026, 6, 30))
    assert scope.fy == FinancialYear(2026)
    assert "Where the money went: July 2025 to June 2026" in page
    assert chosen(page, "period") == "last12"
    assert chosen(page, "year") == "2026"


def test_the_last_12_months_leave_out_a_month_not_over(council, months, make_line):
    """A few days' payments in the month running do not make it the last."""
    make_line(council, amount=D("5"), payment_date=date(2026, 8, 3))
    rollup.rebuild(council.pk)
    years, default = figures.years_with_data(council, TODAY)
    form = figures.DashboardForm(
        {"period": "last12"},
        years=years,
        directorates=figures.directorates_of(council),
        default=default,
    )
    assert form.is_valid()
    scope = figures.scope_from(council, form, TODAY)
    assert (scope.first, scope.last) == (date(2025, 7, 1), date(2026, 6, 1))


def test_a_backwards_range_shows_the_whole_year_and_the_form_agrees(
    client, viewer, months
):
    """QA's steps with the months carrying their years: January 2026 to May
    2025 is refused: heading and figures show 2025/26, the form keeps the months
    to correct."""
    response = get(
        client,
        viewer,
        year="2025",
        period="months",
        month_from="2026-01",
        month_to="2025-05",
    )
    page = response.text
    assert response.context["scope"].label == "2025/26"
    assert "Where the money went: 2025/26" in page
    # The months stay chosen in the form, to correct (keyboard QA).
    assert [chosen(page, n) for n in ("year", "period")] == ["2025", "months"]
    assert (
        "To month: May 2025 is before the from month, January 2026: choose a "
        "later month. The whole year is shown instead." in words(page)
    )


def test_a_year_with_no_spend_is_refused_in_plain_words(client, viewer, months):
    response = get(client, viewer, year="2023", period="q2")
    page = words(response.text)
    assert (
        "Financial year: No spend is held for 2023/24: choose from 2024/25 to "
        "2026/27." in page
    )
    assert "Select a valid choice" not in page
    # The quarter asked for is kept, of the default year, and the form says so.
    scope = response.context["scope"]
    assert (scope.fy, scope.quarter) == (FinancialYear(2026), 2)
    assert [chosen(response.text, n) for n in ("year", "period")] == ["2026", "q2"]


def test_a_directorate_with_no_spend_is_refused_in_plain_words(client, viewer, months):
    response = get(client, viewer, year="2025", directorate="Nonexistent")
    page = words(response.text)
    assert (
        "Directorate or service area: No directorate called “Nonexistent” has "
        "spend here: all directorates are shown." in page
    )
    assert "Select a valid choice" not in page
    scope = response.context["scope"]
    assert scope.directorate is None and scope.fy == FinancialYear(2025)
    assert chosen(response.text, "directorate") == ""
    assert chosen(response.text, "year") == "2025"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year": "abc"}, "Financial year: “abc” is not a financial year: choose from"),
        (
            {"period": "fortnight"},
            "Period: There is no period called “fortnight”: the whole year is shown.",
        ),
        (
            {"period": "months", "month_from": "2019-01"},
            "From month: No spend is held for January 2019: choose one from April "
            "2024 to March 2027. The whole year is shown instead.",
        ),
        (
            {"public": "maybe"},
            "Payments to public sector bodies: “maybe” is not one of the choices: "
            "they are left out.",
        ),
    ],
)
def test_other_refused_choices_are_said_in_plain_words(
    client, viewer, months, params, message
):
    page = words(get(client, viewer, **params).text)
    assert message in page
    assert "Select a valid choice" not in page


# ------------------------------------------------------ review of the above


@pytest.mark.parametrize(
    "params",
    [
        {"year": "²²²²"},
        {"year": "٢٠٢٥"},
        {"period": "months", "month_from": "²"},
        {"period": "months", "month_to": "³"},
    ],
)
def test_digits_of_other_scripts_are_refused_not_a_crash(
    client, viewer, months, params
):
    """Review: str.isdigit() is true of "²", which int() refuses: a 500."""
    response = get(client, viewer, **params)
    assert response.status_code == 200
    assert "could not be used" in response.text


def test_a_month_written_loosely_is_read_not_said_to_have_no_spend(
    client, viewer, months
):
    """Review: "2025-1" was refused as "No spend is held for January 2025"."""
    response = get(
        client, viewer, period="months", month_from="2025-1", month_to=" 2025-03 "
    )
    scope = response.context["scope"]
    assert (scope.first, scope.last) == (date(2025, 1, 1), date(2025, 3, 1))
    assert "could not be used" not in response.text
    bad = words(get(client, viewer, period="months", month_from="2025-1_0").text)
    assert "From month: “2025-1_0” is not a month" in bad


def test_a_year_far_out_is_not_a_financial_year(client, viewer, months):
    page = words(get(client, viewer, year="0000").text)
    assert "Financial year: “0000” is not a financial year" in page
    assert "0/01" not in page


def test_a_last_month_alone_runs_from_the_start_of_its_year(client, viewer, months):
    """Review: a from month never chosen (the default year's April) refused it."""
    scope = get(client, viewer, period="months", month_to="2025-12").context["scope"]
    assert (scope.first, scope.last) == (date(2025, 4, 1), date(2025, 12, 1))


def test_a_year_sent_with_the_last_12_months_refuses_nothing(client, viewer, months):
    """Review: the year box is hidden for the last 12 months, so a refusal of it
    led nowhere."""
    response = get(client, viewer, period="last12", year="abc")
    assert "could not be used" not in response.text
    assert response.context["scope"].last == date(2026, 6, 1)


def test_the_last_12_months_start_no_earlier_than_the_first_month_offered(
    client, viewer, months, monkeypatch
):
    """Review: on 15 December 2024 the last 12 months began in December 2023,
    before any month the form offers, so the form showed April 2024."""
    monkeypatch.setattr(timezone, "localdate", lambda *args: date(2024, 12, 15))
    response = get(client, viewer, period="last12")
    scope = response.context["scope"]
    assert (scope.first, scope.last) == (date(2024, 4, 1), date(2024, 11, 1))
    assert chosen(response.text, "month_from") == "2024-04"


def test_the_last_12_months_of_a_council_with_no_spend_can_be_shown(
    client, viewer, council, monkeypatch
):
    """Review: with no spend, the last 12 months fell in a year not offered."""
    monkeypatch.setattr(timezone, "localdate", lambda *args: date(2026, 4, 10))
    response = get(client, viewer, period="last12")
    assert response.status_code == 200
    scope = response.context["scope"]
    assert scope.last == date(2026, 3, 1)
    assert chosen(response.text, "month_from") == month_value(scope.first)
    assert chosen(response.text, "month_to") == "2026-03"


def test_spend_in_the_month_running_leaves_the_last_12_months_projected(
    council, months, make_line
):
    """Review: a few days' spend in the month running made the last 12 months
    "a past period", with no projection and no later period to choose."""
    make_line(council, amount=D("5"), payment_date=date(2026, 7, 3))
    rollup.rebuild(council.pk)
    today = date(2026, 7, 15)
    years, default = figures.years_with_data(council, today)
    form = figures.DashboardForm(
        {"period": "last12"},
        years=years,
        directorates=figures.directorates_of(council),
        default=default,
    )
    assert form.is_valid()
    scope = figures.scope_from(council, form, today)
    local = figures.METRIC_BY_KEY["local"]
    trend = figures.trend(scope, figures.Targets(council), local, today)
    assert "No projection for a past period" not in trend.crossing_note
    assert trend.projection


def test_a_long_range_is_charted_from_its_first_month(council, months):
    """Review: the trend began two years before the last year, cutting off
    the start of a longer range."""
    years, default = figures.years_with_data(council, TODAY)
    scope = figures.Scope(
        council=council,
        fy=FinancialYear(2027),
        first=date(2024, 4, 1),
        last=date(2027, 6, 1),
    )
    local = figures.METRIC_BY_KEY["local"]
    trend = figures.trend(scope, figures.Targets(council), local, TODAY)
    assert trend.points[0].month == date(2024, 4, 1)


def test_every_measure_month_by_month_beside_each_months_target(client, viewer, months):
    """QA: month by month showed one measure at a time; a cabinet paper wants
    the shares side by side, each month against its own year's target."""
    params = dict(period="months", month_from="2026-02", month_to="2026-05")
    response = get(client, viewer, **params)
    rows = response.context["monthly"]
    assert [r.month for r in rows] == [date(2026, m, 1) for m in (2, 3, 4, 5)]
    local = [next(t for t in r.tiles if t.metric.key == "local") for r in rows]
    # £100 local of £400 each month; the trajectory's 30% in 2025/26, 40% after.
    assert [(t.share, t.target) for t in local] == [
        (D("25.0"), D("30.0")),
        (D("25.0"), D("30.0")),
        (D("25.0"), D("40.0")),
        (D("25.0"), D("40.0")),
    ]
    assert [r.total for r in rows] == [D("400.00")] * 4
    page = words(response.text)
    assert "Every measure, month by month" in page
    # Each month judged against its own year's target: 5 points below 30% is
    # close, 15 below 40% is not.
    assert "March 2026 £400 25.0% target 30.0%, close" in page
    assert "April 2026 £400 25.0% target 40.0%, below" in page

    download = get(client, viewer, download="monthly", **params)
    assert download["Content-Disposition"].endswith(
        'luton-dashboard-monthly-2026-02-to-2026-05.csv"'
    )
    text = download.content.decode("utf-8-sig")
    assert "Month,Spend counted (£),Local,Local: target for the year" in text
    assert "April 2026,400.00,25.0%,40.0%" in text
