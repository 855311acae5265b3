"""What the dashboard's tiles and chart labels call things (QA as a cabinet
member).

QA: Settings says the wider area's name ("Bedfordshire") is shown on the
dashboard, but its tile said only "Wider area (including local)"; the trend's
hover label read "Share : 26.9%", naming neither the measure nor the pounds.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import plotly.graph_objects as go
from django.urls import reverse
from django.utils import timezone

from spend import charts, rollup
from spend import dashboard as figures
from tests.conftest import new_tag as tag

D = Decimal


def _spend(council, make_supplier, make_line):
    local = make_supplier(name="Local Ltd", verified=True)
    far = make_supplier(name="Far plc", verified=True)
    tag(local, "locality", "local", council)
    tag(far, "locality", "uk", council)
    for month in range(4, 10):
        day = date(2025, month, 10)
        make_line(council, supplier=local, amount=D("250"), payment_date=day)
        make_line(council, supplier=far, amount=D("750"), payment_date=day)
    rollup.rebuild(council.pk)


def test_the_wider_area_tile_names_the_area(
    client, viewer, council, make_supplier, make_line, monkeypatch
):
    monkeypatch.setattr(timezone, "localdate", lambda *args: date(2025, 11, 15))
    council.wider_label = "Bedfordshire"
    council.save()
    _spend(council, make_supplier, make_line)
    client.force_login(viewer)
    url = reverse("spend:dashboard", args=["luton"])
    page = client.get(url, {"year": "2025"}).text
    headings = re.findall(r'<h3 class="govuk-heading-s[^"]*">([^<]+)</h3>', page)
    assert "Wider area: Bedfordshire (including local)" in headings, headings
    # The measure's link above the trend, and the trend chosen, say it too.
    assert "Wider area: Bedfordshire (including local)</a>" in page
    chart = client.get(url, {"year": "2025", "metric": "wider"}).context["trend_chart"]
    assert chart.title.startswith("Wider area: Bedfordshire (including local):")


def test_with_no_wider_area_name_the_tile_says_wider_area(
    client, viewer, council, make_supplier, make_line, monkeypatch
):
    monkeypatch.setattr(timezone, "localdate", lambda *args: date(2025, 11, 15))
    council.wider_label = ""
    council.save()
    _spend(council, make_supplier, make_line)
    client.force_login(viewer)
    page = client.get(reverse("spend:dashboard", args=["luton"]), {"year": "2025"})
    assert "Wider area (including local)</h3>" in page.text


def test_the_trend_hover_names_the_measure_and_the_pounds(
    council, make_supplier, make_line
):
    _spend(council, make_supplier, make_line)
    fy = figures.FinancialYear(2025)
    scope = figures.Scope(
        council=council, fy=fy, first=fy.start, last=figures.month_of(fy, 12)
    )
    trend = figures.trend(
        scope, figures.Targets(council), figures.METRICS[0], date(2025, 11, 15)
    )
    chart = charts.trend_chart(trend, scope.label)
    go.Figure(chart.figure)  # plotly's schema accepts it
    share, *others = chart.figure["data"]
    # £250 local of £1,000 each month: 25.0%.
    assert share["hovertext"][0] == "Local share: 25.0% (£250 of £1,000)"
    assert share["hovertemplate"] == "%{hovertext}<extra></extra>"
    templates = {trace["name"]: trace["hovertemplate"] for trace in others}
    projection = next(t for name, t in templates.items() if name.startswith("Proj"))
    # Where a month has both (the last with spend), the projection says so.
    assert projection == "Projection, not spend: %{y:.1f}%<extra></extra>"
    # No trace's name before plotly's spaced colon ("Share : 26.9%").
    assert all(t.endswith("<extra></extra>") for t in templates.values())
