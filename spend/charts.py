"""The dashboard's charts: plotly figures drawn by the vendored plotly.js.

Each chart comes with a title, a text summary (for screen readers and print), and
its data as a table (shown as "view as table", and downloadable as CSV). Figures
are plain plotly JSON (`{"data": [...], "layout": {...}}`), built here rather than
through `plotly.graph_objects`, whose validation costs more than the page's
queries; the tests check each against plotly's schema. Amounts go to plotly as
strings of the exact Decimal, never floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from spend.dashboard import DirectorateRow, Trend

# GOV.UK Frontend colours, told apart by line style and order too.
BLUE, BLACK, ORANGE, GREEN, PURPLE, GREY = (
    "#1d70b8",
    "#0b0c0c",
    "#f47738",
    "#00703c",
    "#4c2c92",
    "#b1b4b6",
)
FONT = {"family": "Arial, sans-serif", "size": 14, "color": BLACK}


@dataclass
class Chart:
    id: str
    title: str
    summary: str
    figure: dict
    header: list[str]
    rows: list[list]
    row_links: list[str] | None = None  # the spend lines behind each row

    @property
    def figure_id(self) -> str:
        return f"{self.id}-figure"

    @property
    def linked_rows(self) -> list[tuple]:
        links = self.row_links or []
        return [
            (row[0], row[1:], links[i] if i < len(links) else None)
            for i, row in enumerate(self.rows)
        ]


def _layout(title: str, **extra) -> dict:
    return {
        # The page gives the title as a heading above the chart.
        "meta": {"title": title},
        "font": FONT,
        "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
        "legend": {"orientation": "h", "y": -0.2},
        "separators": ".,",
        "hovermode": "x unified",
        **extra,
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _pct(value: Decimal | None) -> str:
    return "no data" if value is None else f"{value}%"


def trend_chart(trend: Trend, scope_label: str) -> Chart:
    metric = trend.metric
    title = f"{metric.label}: share of spend, month by month"
    months = [p.month.isoformat() for p in trend.points]
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": f"{metric.label} share",
            "x": months,
            "y": [_text(p.share) for p in trend.points],
            "line": {"color": BLUE, "width": 3},
            "hovertemplate": "%{y:.1f}%<extra>Share</extra>",
        }
    ]
    if any(p.target is not None for p in trend.points):
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Target trajectory",
                "x": months,
                "y": [_text(p.target) for p in trend.points],
                "line": {"color": BLACK, "dash": "dash", "shape": "hv"},
                "hovertemplate": "%{y:.1f}%<extra>Target</extra>",
            }
        )
    if trend.projection:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"Projection (straight line fitted to the last "
                f"{trend.fit_months} months)",
                "x": [month.isoformat() for month, _ in trend.projection],
                "y": [str(value) for _, value in trend.projection],
                "line": {"color": ORANGE, "dash": "dot", "width": 3},
                "hovertemplate": "%{y:.1f}%<extra>Projection</extra>",
            }
        )
    figure = {
        "data": data,
        "layout": _layout(
            title,
            yaxis={
                "title": {"text": "Share of spend"},
                "ticksuffix": "%",
                "range": [0, 100],
                "rangemode": "tozero",
            },
            xaxis={"tickformat": "%b %Y", "type": "date"},
        ),
    }
    with_share = [p for p in trend.points if p.share is not None]
    if with_share:
        latest = with_share[-1]
        target_now = (
            f" against a target trajectory of {latest.target}%"
            if latest.target is not None
            else ""
        )
        summary = (
            f"{metric.label} share was {latest.share}% in {latest.month:%B %Y}"
            f"{target_now}. {trend.crossing_note}"
        )
    else:
        summary = f"No spend with a known {metric.label.lower()} status in this period."
    projected = dict(trend.projection)
    rows = [
        [
            p.month.strftime("%B %Y"),
            p.amount,
            p.denominator,
            _pct(p.share),
            _pct(p.target) if p.target is not None else "",
            f"{projected[p.month]}%" if p.month in projected else "",
        ]
        for p in trend.points
    ] + [
        [f"{month:%B %Y}", "", "", "", "", f"{value}%"]
        for month, value in trend.projection
        if not trend.points or month > trend.points[-1].month
    ]
    header = [
        "Month",
        f"{metric.label} spend (£)",
        "Spend counted (£)",
        "Share",
        "Target trajectory",
        "Projection",
    ]
    return Chart("trend", title, summary, figure, header, rows)


def directorate_chart(rows: list[DirectorateRow], scope_label: str) -> Chart:
    title = f"Where each directorate's spend went, {scope_label}"
    names = [row.directorate or "(none given)" for row in rows]
    parts = [
        ("Local", "local", GREEN),
        ("Wider area", "wider", BLUE),
        ("Elsewhere", "elsewhere", PURPLE),
        ("Location unknown", "unknown", GREY),
    ]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": label,
            "y": names,
            "x": [str(getattr(row, key)) for row in rows],
            "marker": {"color": colour, "line": {"color": BLACK, "width": 1}},
            "hovertemplate": "£%{x:,.0f}<extra>" + label + "</extra>",
        }
        for label, key, colour in parts
    ]
    figure = {
        "data": data,
        "layout": _layout(
            title,
            barmode="relative",
            height=max(320, 60 + 40 * len(rows)),
            xaxis={
                "title": {"text": "Spend (£)"},
                "tickprefix": "£",
                "separatethousands": True,
            },
            yaxis={"autorange": "reversed", "automargin": True},
            hovermode="y unified",
            legend={"orientation": "h", "y": -0.3},
            margin={"l": 60, "r": 20, "t": 20, "b": 90},
        ),
    }
    if rows:
        best = max(rows, key=lambda r: r.local_share or Decimal("-1"))
        summary = (
            f"{len(rows)} directorates. The largest, {names[0]}, spent "
            f"£{rows[0].total:,.0f}, {_pct(rows[0].local_share)} of it locally "
            "(of spend whose location is known). The highest local share is "
            f"{best.directorate or '(none given)'}'s, {_pct(best.local_share)}."
        )
    else:
        summary = "No spend in this period."
    table = [
        [
            name,
            row.total,
            row.local,
            row.wider,
            row.elsewhere,
            row.unknown,
            _pct(row.local_share),
        ]
        for name, row in zip(names, rows, strict=True)
    ]
    header = [
        "Directorate",
        "Spend (£)",
        "Local (£)",
        "Wider area (£)",
        "Elsewhere (£)",
        "Location unknown (£)",
        "Local share of known",
    ]
    return Chart("directorates", title, summary, figure, header, table)
