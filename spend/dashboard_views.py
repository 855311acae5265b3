"""The cabinet dashboard page and the CSV of each of its charts and tables."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from councils.access import council_view
from councils.models import Capability, Council
from socialvalue.models import TAG_VALUES, LivingWageSnapshot, TagKind
from spend import charts
from spend import dashboard as figures
from spend.export import csv_response
from spend.models import TagMonth

DOWNLOADS = (
    "tiles",
    "trend",
    "monthly",
    "directorates",
    "non-local",
    "local",
    "quality",
)


@council_view(Capability.VIEW)
def dashboard(request: HttpRequest, council: Council) -> HttpResponse:
    today = timezone.localdate()
    years, default = figures.years_with_data(council, today)
    choices = {
        "years": years,
        "directorates": figures.directorates_of(council),
        "default": default,
    }
    # A choice that cannot be used is said so, and replaced by its default,
    # the others kept; the form then shows the view shown (QA: a refused range
    # of months showed 2026/27 in the heading, 2025/26 in the form), but for
    # refused months, kept as sent to correct (`DashboardForm.show`).
    form = used = figures.DashboardForm(request.GET, **choices)
    if not form.is_valid():
        used = form.fallback()
    scope = figures.scope_from(council, used, today)
    form.show(scope, used)
    metrics = figures.metrics_for(council)
    metric = {m.key: m for m in metrics}.get(request.GET.get("metric", ""), metrics[0])
    targets = figures.Targets(council)
    lines_url = reverse("spend:lines", args=[council.slug])

    def link(params: dict) -> str:
        return f"{lines_url}?{urlencode(params, doseq=True)}"

    headline = figures.tiles(scope, targets, today)
    trend = figures.trend(scope, targets, metric, today)
    monthly = figures.monthly(scope, targets, today)
    directorates = figures.directorates(scope)
    largest = figures.largest_suppliers(scope)
    non_local, local = largest["non_local"], largest["local"]
    quality = figures.quality(scope, today)
    trend_chart = charts.trend_chart(trend, scope.label, scope.directorate)
    directorate_chart = charts.directorate_chart(
        directorates, scope.label, scope.short_label
    )

    download = request.GET.get("download")
    # A download of a view the form refused would be of the default view, under
    # a name the user did not ask for: the page says what is wrong instead.
    asked = request.GET.get("metric", "")
    unknown_metric = bool(asked) and asked not in figures.METRIC_BY_KEY
    refused = download in DOWNLOADS and (not form.is_valid() or unknown_metric)
    if unknown_metric:  # an old or edited link: say so, not Local unannounced
        messages.error(
            request,
            "There is no measure of that name, so the chart shows the local share: "
            "choose another measure above the chart"
            + (", then download again." if refused else "."),
        )
    if download in DOWNLOADS and not refused:
        return _download(
            download,
            council,
            scope,
            headline,
            trend,
            trend_chart,
            directorate_chart,
            non_local,
            local,
            quality,
            monthly=monthly,
        )

    for tile in headline["tiles"]:
        tile.urls = {name: link(params) for name, params in tile.links.items()}
        # What each link opens, in words (QA: a screen reader's list of links
        # read "26.9%", "£1.2m" alone).
        tile.labels = figures.tile_labels(tile, scope)
    for row in quality["rows"]:
        row["url"] = link(row["link"])
    base = scope.line_filters()
    for row in non_local + local:
        row["url"] = link({**base, "supplier_id": row["supplier_id"]})
    for chart in (trend_chart, directorate_chart):
        chart.cell_links = [
            [None if params is None else link(params) for params in row]
            for row in chart.cell_filters
        ]
        # A click on a point or bar opens the payments its table cell links to.
        chart.link_points()
    for row in non_local + local:
        row["location"] = TAG_VALUES[TagKind.LOCALITY].get(
            row["supplier__tags__value"], ""
        )
    query = request.GET.copy()
    query.pop("download", None)
    query.pop("metric", None)
    directorate_named = (
        None
        if scope.directorate is None
        else scope.directorate or "no directorate given"
    )
    # The title and heading name the directorate chosen, and the title the
    # measure the trend shows unless it is the first (QA: "?directorate=Housing
    # &metric=sme" had the same title and heading as the whole council's).
    title = [f"Dashboard {scope.label}"]
    if directorate_named:
        title.append(directorate_named)
    if metric.key != metrics[0].key:
        title.append(f"{metric.short} share by month")
    heading = scope.label
    if directorate_named:
        heading = f"{scope.directorate or 'spend with no directorate given'}, {heading}"
    context = {
        "council": council,
        "form": form,
        "scope": scope,
        "page_title": ", ".join(title),
        "heading": heading,
        "headline": headline,
        "total_url": link(base),
        "total_label": f"{figures.payments(headline['lines'])} counted"
        f"{figures.in_directorate(scope.directorate)}, {scope.short_label}",
        "trend": trend,
        "metric": metric,
        "metrics": metrics,
        "metric_query": query.urlencode(),
        "trend_chart": trend_chart,
        "monthly": monthly,
        "directorate_chart": directorate_chart,
        "directorates": directorates,
        "non_local": non_local,
        "local": local,
        # The directorate chosen, named in the supplier lists' headings.
        "directorate_named": directorate_named,
        "quality": quality,
        # Where the Living Wage tile's "yes" comes from (QA: read as checked
        # against the Foundation's list when none was loaded).
        "living_wage_list": LivingWageSnapshot.objects.order_by(
            "-taken_on", "-pk"
        ).first(),
        "missing": figures.describe_months(quality["missing_months"]),
        # "5 months of 2025/26", or of a range of months "7 of the 9 months
        # chosen" (QA: "7 months of April 2024 to December 2024").
        "missing_of": scope.months_of(len(quality["missing_months"])),
        "amber_points": figures.amber_points(),
        "status_key": figures.status_key(),
        "today": today,
        # An empty period that has not begun, or is not over, says so rather
        # than that its spend is missing.
        "not_begun": scope.not_begun(today),
        "not_over": scope.not_over(today),
        "a_month_over": scope.a_month_over(today),
        # No spend imported for the council at all: no other period to choose
        # (QA: the page said to choose one, with only this year on the list).
        "no_spend_yet": not headline["lines"]
        and not TagMonth.objects.filter(council=council).exists(),
    }
    return render(
        request, "spend/dashboard.html", context, status=400 if refused else 200
    )


def _download(
    which: str,
    council: Council,
    scope,
    headline,
    trend,
    trend_chart,
    directorate_chart,
    non_local,
    local,
    quality,
    *,
    monthly: list[figures.MonthRow],
) -> HttpResponse:
    notes: list[str] = []  # what the scope does not say about the rows
    described = scope.describe()  # the choices the rows were counted under
    if which == "tiles":
        title = "Headline figures"
        header = [
            "Measure",
            "Share",
            "Spend counted in the share (£)",
            "Of (£)",
            "Tag unknown (£)",
            "Tag unknown, share of the spend counted",
            "Target for the year",
            "Status",
            "Months compared",
            "Share in the months compared",
            "Same months a year earlier",
            "Share a year earlier",
        ]
        rows = [
            [
                tile.metric.label,
                _pct(tile.share),
                tile.amount,
                tile.denominator,
                tile.unknown,
                _pct(tile.unknown_share),
                _pct(tile.target),
                tile.status_label,
                headline["compared"],
                _pct(tile.compared_share),
                headline["compared_before"],
                _pct(tile.previous_share),
            ]
            for tile in headline["tiles"]
        ]
        header.append("About the target")
        for row, tile in zip(rows, headline["tiles"], strict=True):
            row.append(tile.target_note)
        # The key the page shows above the tiles, word for word.
        notes = ["Status against the target for the year:"] + [
            f"{label}: {when}." for _, label, when in figures.status_key()
        ]
    elif which in ("trend", "directorates"):
        chart = trend_chart if which == "trend" else directorate_chart
        title, header, rows = chart.title, chart.header, chart.rows
        notes = chart.notes
    elif which == "monthly":
        title = "Every measure, month by month"
        header = ["Month", "Spend counted (£)"]
        for metric in figures.metrics_for(council):
            header += [metric.label, f"{metric.label}: target for the year"]
        rows = []
        for row in monthly:
            cells = [f"{row.month:%B %Y}", row.total]
            for tile in row.tiles:
                cells += [_pct(tile.share), _pct(tile.target)]
            rows.append(cells)
        notes = [
            "Each share is of the spend whose tag is known (the Living Wage share: "
            "of all spend counted); each target is the council's for the "
            "financial year the month falls in."
        ]
    elif which in ("non-local", "local"):
        title = (
            "Largest non-local suppliers"
            if which == "non-local"
            else "Largest local suppliers"
        )
        header = ["Supplier", "Register id", "Location", "Spend (£)", "Payments"]
        rows = [
            [
                row["supplier__name"],
                row["supplier_id"],
                # In words, as the page shows it: not the stored code.
                TAG_VALUES[TagKind.LOCALITY].get(
                    row["supplier__tags__value"], row["supplier__tags__value"]
                ),
                row["amount"],
                row["lines"],
            ]
            for row in (non_local if which == "non-local" else local)
        ]
    else:
        title = "Data quality"
        header = [
            "What",
            "Spend (£)",
            "Share of all spend (public sector bodies and redacted payees included)",
        ]
        rows = [[r["label"], r["amount"], _pct(r["share"])] for r in quality["rows"]]
        rows += [
            [f"No spend imported for {month:%B %Y}", "", ""]
            for month in quality["missing_months"]
        ]
        # The rows count all spend, whatever the page leaves out: the header
        # says what they count, not what the page's choices were.
        described = replace(
            scope, include_public=True, include_redacted=True
        ).describe()
        if not (scope.include_public and scope.include_redacted):
            notes = [
                "These figures are of all spend, payments to public sector bodies "
                "and to redacted payees included, whatever the dashboard's other "
                "figures leave out."
            ]
    preamble = [
        [f"{council.name}: {title}"],
        *[[part] for part in described],
        *[[note] for note in notes],
        [f"Exported from LocalSpend on {timezone.localdate():%-d %B %Y}"],
        [],
        header,
    ]
    # Named by the months the rows hold (QA: "…-2023-04-to-2026-03.csv" held
    # November 2024 to March 2026): the trend's, from the first month with
    # spend to the last projected, whatever the period; the others', the period's.
    span = trend_chart.span if which == "trend" else None
    first, last = span or (scope.first, scope.last)
    what = f"trend-{trend.metric.key}" if which == "trend" else which
    name = f"{council.slug}-dashboard-{what}-{first:%Y-%m}-to-{last:%Y-%m}.csv"
    return csv_response(name, preamble[0], [*preamble[1:], *rows])


def _pct(value) -> str:
    return "" if value is None else f"{value}%"
