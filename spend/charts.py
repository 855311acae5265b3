"""The dashboard's charts: plotly figures drawn by the vendored plotly.js.

Each chart comes with a title, a text summary (for screen readers and print), and
its data as a table (shown as "view as table", and downloadable as CSV). Figures
are plain plotly JSON (`{"data": [...], "layout": {...}}`), built here rather than
through `plotly.graph_objects`, whose validation costs more than the page's
queries; the tests check each against plotly's schema. Amounts go to plotly as
strings of the exact Decimal, never floats.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from councils.periods import add_months, month_end, month_start
from councils.templatetags.money import MINUS, gbp, gbp_short
from spend.dashboard import (
    DirectorateRow,
    Trend,
    in_directorate,
    month_of,
    paid_to,
    payments,
)

# The trend table's column of the share: what a point on the chart links to.
SHARE_COLUMN = 3

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
LIGHT_GREY = "#f3f2f1"


@dataclass
class Chart:
    id: str
    title: str
    summary: str
    figure: dict
    header: list[str]
    rows: list[list]
    # The spend line list filters behind each cell of `rows` (None: not a figure
    # of spend lines), and the links the view makes of them.
    cell_filters: list[list[dict | None]] = field(default_factory=list)
    cell_links: list[list[str | None]] = field(default_factory=list)
    # What each linked cell's link opens, in words, to follow its visible text
    # in the link's name ("£2,033,510.58: the 412 payments to local suppliers,
    # November 2024"; QA: a screen reader's list of links read the numbers
    # alone). None: the visible text is the name, as for the first column's
    # (a directorate's name names its row too, read out as each cell is).
    cell_labels: list[list[str | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # for the CSV's preamble too
    # The table cell each point of a trace draws: {trace index: [(row,
    # column), …], a cell a point}, so that a click on the point opens the
    # payments the cell links to (`link_points`).
    point_cells: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    # Nothing to draw: the page says so in the summary, with no chart (QA: an
    # empty period drew axes from £-1 to £6).
    empty: bool = False
    # The first and last month the rows hold (the trend's: spend, projection
    # and target trajectory), naming its CSV file; None: the period's.
    span: tuple[date, date] | None = None
    # Said under the chart when the page draws it narrow (`_narrow`).
    narrow_note: str = ""

    @property
    def linked(self) -> bool:
        """Does any point open the payments behind it?"""
        return any(self.point_cells.values())

    @property
    def figure_id(self) -> str:
        return f"{self.id}-figure"

    def link_points(self) -> None:
        """Give each point the link of its table cell as its plotly `customdata`
        (None: not a figure of payments), once `cell_links` is set: the page's
        script opens it when the point is clicked."""
        for index, cells in self.point_cells.items():
            self.figure["data"][index]["customdata"] = [
                self.cell_links[row][column]
                if row < len(self.cell_links) and column < len(self.cell_links[row])
                else None
                for row, column in cells
            ]

    @property
    def linked_rows(self) -> list[tuple]:
        """(first cell, its link, [(cell, its link, its column's header), …])."""
        out = []
        for i, row in enumerate(self.rows):
            links = self.cell_links[i] if i < len(self.cell_links) else []
            links = [*links, *[None] * (len(row) - len(links))]
            cells = list(zip(row[1:], links[1:], self.header[1:], strict=False))
            out.append((row[0], links[0], cells))
        return out

    @property
    def table_rows(self) -> list[tuple]:
        """The table as the page shows it: (first cell, its link, [(cell, its
        link, its column's header, its link's words), …])."""
        out = []
        for i, (first, first_link, cells) in enumerate(self.linked_rows):
            labels = self.cell_labels[i] if i < len(self.cell_labels) else []
            labels = [*labels, *[None] * (len(cells) + 1 - len(labels))]
            out.append(
                (
                    first,
                    first_link,
                    [
                        (cell, link, column, label)
                        for (cell, link, column), label in zip(
                            cells, labels[1:], strict=False
                        )
                    ],
                )
            )
        return out


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


# Each measure's name in a hover label, where the long one would not fit.
SHORT_NAMES = {
    "local": "Local",
    "wider": "Wider area",
    "sme": "SME",
    "vcse": "VCSE",
    "living_wage": "Living Wage",
}


def _hover_share(metric, point, so_far: bool = False) -> str:
    """A month's hover line: the measure, its share and the amounts, as "Local
    share: 26.9% (£1.2m of £4.5m)" (QA: "Share : 26.9%" named no measure and
    no pounds)."""
    if point.share is None:  # no point drawn
        return ""
    name = SHORT_NAMES.get(metric.key, metric.label)
    when = " so far (month not over)" if so_far else ""
    return (
        f"{name} share{when}: {point.share}% "
        f"({gbp_short(point.amount)} of {gbp_short(point.denominator)})"
    )


def _months(first: date, last: date) -> str:
    if first == last:
        return f"{first:%B %Y}"
    return f"{first:%B %Y} to {last:%B %Y}"


def trend_chart(
    trend: Trend, scope_label: str, directorate: str | None = None
) -> Chart:
    """The share month by month: the months with spend imported in the three
    financial years to the end of the period chosen (which is marked), then the
    projection, whose months are named and marked "projected" (they are not
    spend). With `directorate` (a name, or "" for none given), the title says
    the spend is its."""
    metric = trend.metric
    points, projected = trend.points, trend.projected
    title = f"{metric.label}: share of spend by month"
    if directorate:  # QA: the heading did not say so
        # Not "{directorate}'s" (QA: "Children's Services's spend").
        title = f"{metric.label}: share of spend in {directorate}, by month"
    elif directorate is not None:
        title = f"{metric.label}: share of spend with no directorate given, by month"
    shown = _months(points[0].month, points[-1].month) if points else ""
    if points:
        title += f", {shown}"
    if projected:
        title += f", projected to {projected[-1][0]:%B %Y}"
    window = _months(*trend.window)
    # A range of months is no name to follow "the end of" (QA: "to the end of
    # June 2025 to October 2025").
    period_end = scope_label if trend.named else f"the period chosen, {scope_label}"
    notes = [
        f"Months shown: {shown}: every month with spend imported from {window}, "
        f"the three financial years to the end of {period_end}."
        if points
        else f"No spend imported in the three financial years {window}."
    ]
    if projected:
        notes.append(
            f"Projected: {_months(projected[0][0], projected[-1][0])}, marked "
            "“projected”: a straight line fitted to the last "
            f"{trend.fit_months} months with a share. A projection, not spend."
        )
    ahead = dict(trend.targets_ahead)
    if ahead and trend.year is not None:
        until = month_end(max(ahead))
        beyond = (
            "beyond the last month with spend"
            if points
            else "although no spend is imported for those months"
        )
        if until == trend.year.end:
            notes.append(
                f"Target trajectory: shown to {trend.year.end:%-d %B %Y}, the end "
                f"of {trend.year.label}, {beyond}."
            )
        elif until < trend.year.end:  # a past period's: to the end of it
            notes.append(
                f"Target trajectory: shown to {until:%-d %B %Y}, the end of the "
                f"period chosen, {beyond}."
            )
        else:  # on beside the projection: to the target's deadline, say
            final = trend.final_target
            deadline = (
                ", the target's deadline,"
                if final is not None and until == final.target_fy.end
                else ""
            )
            notes.append(
                f"Target trajectory: shown to {until:%-d %B %Y}{deadline} as far "
                "as the projection runs, beyond the last month with spend."
            )
    # A month not over yet holds a few days' payments: shown apart, not joined
    # to the line as if it were a month's share.
    over = [(i, p) for i, p in enumerate(points) if not p.unfinished]
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": f"{metric.label} share",
            "x": [p.month.isoformat() for _, p in over],
            "y": [_text(p.share) for _, p in over],
            "line": {"color": BLUE, "width": 3},
            # The whole line written here: plotly's unified label would put
            # the trace's name before a spaced colon ("Share : 26.9%").
            "hovertext": [_hover_share(metric, p) for _, p in over],
            "hovertemplate": "%{hovertext}<extra></extra>",
        }
    ]
    # Each point opens the payments its table row's share links to.
    point_cells = {0: [(i, SHARE_COLUMN) for i, _ in over]}
    for i, p in enumerate(points):
        if p.unfinished and p.share is not None:
            point_cells[len(data)] = [(i, SHARE_COLUMN)]
            data.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": f"{p.month:%B %Y} so far (not over yet)",
                    "x": [p.month.isoformat()],
                    "y": [_text(p.share)],
                    "marker": {
                        "color": "white",
                        "size": 10,
                        "line": {"color": BLUE, "width": 2},
                    },
                    "hovertext": [_hover_share(metric, p, so_far=True)],
                    "hovertemplate": "%{hovertext}<extra></extra>",
                }
            )
    if any(p.target is not None for p in points) or ahead:
        # On past the last month with spend to the end of the period's year,
        # and each month's step drawn to the month's end.
        steps = [(p.month, p.target) for p in points] + list(trend.targets_ahead)
        if steps[-1][1] is not None:
            steps.append((month_end(steps[-1][0]), steps[-1][1]))
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Target trajectory",
                "x": [month.isoformat() for month, _ in steps],
                "y": [_text(target) for _, target in steps],
                "line": {"color": BLACK, "dash": "dash", "shape": "hv"},
                "hovertemplate": "Target: %{y:.1f}%<extra></extra>",
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
                # Beside the share in the last month with spend: told apart.
                "hovertemplate": "Projection, not spend: %{y:.1f}%<extra></extra>",
            }
        )
    # Marked: the period chosen (shaded, named above), and where the projected
    # months begin (a dotted line, named at the foot).
    period_first, period_last = trend.period
    shapes = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": period_first.isoformat(),
            "x1": month_end(period_last).isoformat(),
            "y0": 0,
            "y1": 1,
            "fillcolor": LIGHT_GREY,
            "line": {"width": 0},
            "layer": "below",
        }
    ]
    # The x-axis fits what is drawn: the months shown and the period chosen,
    # then the projection and the target beside it when they are drawn;
    # nothing more (plotly would widen it to hold the labels' text).
    x_range = _x_range(data, period_first, month_end(period_last))
    share_top = _share_top(data)
    # The period's name above it, on the side with more room.
    left, right = x_range
    if (month_end(period_last) - left) >= (right - period_first):
        labels = [(month_end(period_last), "right", f"Period chosen: {scope_label}")]
    else:
        labels = [(period_first, "left", f"Period chosen: {scope_label}")]
    labels = [(x, side, text, 1, "bottom", 0) for x, side, text in labels]
    # On a narrow screen (a phone), the projection drawn is cut to 12 months
    # after the last month with spend, or to the period's end if later (QA: a
    # target in 2030/31 drew a projection across three quarters of the chart,
    # the months with spend squeezed into the rest); the page says so.
    narrow, wide, narrow_note = {}, {}, ""
    if projected and points:
        cut = max(add_months(points[-1].month, 12), period_last)
        if cut < projected[-1][0]:
            room = timedelta(days=10)
            narrow["xaxis.range"] = [
                x_range[0].isoformat(),
                (month_end(cut) + room).isoformat(),
            ]
            wide["xaxis.range"] = [day.isoformat() for day in x_range]
            narrow_note = (
                f"On a narrow screen the chart shows the projection to {cut:%B %Y} "
                f"only: the table gives it to {projected[-1][0]:%B %Y}."
            )
    if projected and points:
        start = points[-1].month.isoformat()
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": start,
                "x1": start,
                "y0": 0,
                "y1": 1,
                "line": {"color": BLACK, "width": 1, "dash": "dot"},
            }
        )
        # At the foot, unless the projection runs low (a VCSE share of 5%,
        # say): then at the top of the plot, clear of the line.
        low = min(value for _, value in projected[:6]) < share_top / 4
        y, anchor = (0.98, "top") if low else (0, "bottom")
        # On two lines: on a phone a year's projection is narrow. Lifted a
        # little off the foot, clear of the month names below the axis (QA:
        # it crowded one on a phone).
        labels.append(
            (
                points[-1].month,
                "left",
                "Projected,<br>not spend →",
                y,
                anchor,
                6 if anchor == "bottom" else 0,
            )
        )
    figure = {
        "data": data,
        "layout": _layout(
            title,
            yaxis={
                "title": {"text": "Share of spend"},
                "ticksuffix": "%",
                "range": [0, share_top],
                "rangemode": "tozero",
            },
            xaxis={
                "tickformat": "%b %Y",
                "type": "date",
                "range": [day.isoformat() for day in x_range],
                **_month_ticks(*x_range),
            },
            margin={"l": 60, "r": 20, "t": 40, "b": 50},
            # The key even when one line is drawn (the target, in a period
            # with no spend): plotly leaves a lone line unnamed.
            showlegend=True,
            shapes=shapes,
            annotations=[
                {
                    "xref": "x",
                    "yref": "paper",
                    "x": x.isoformat(),
                    "xanchor": side,
                    "y": y,
                    "yanchor": anchor,
                    "text": text,
                    "align": side,
                    "showarrow": False,
                    "font": {"size": 12, "color": BLACK},
                    "yshift": shift,
                }
                for x, side, text, y, anchor, shift in labels
            ],
        ),
    }
    _narrow(figure, narrow, wide)
    with_share = [p for p in points if p.share is not None]
    if with_share:
        over_with_share = [p for p in with_share if not p.unfinished]
        latest = (over_with_share or with_share)[-1]
        target_now = (
            f" against a target trajectory of {latest.target}%"
            if latest.target is not None
            else ""
        )
        summary = (
            f"{metric.label} share was {latest.share}% in {latest.month:%B %Y}"
            f"{' so far (the month is not over)' if latest.unfinished else ''}"
            f"{target_now}. {trend.crossing_note}"
        )
        if with_share[-1].unfinished and latest is not with_share[-1]:
            so_far = with_share[-1]
            summary += (
                f" {so_far.month:%B %Y} so far, the month not over: {so_far.share}%."
            )
        summary += _year_end(trend, ahead, dict(projected))
    else:
        # No spend at all, or none whose tag is known: said as it is (QA: "a
        # known small and medium-sized enterprises (sme) status" of no spend).
        if metric.all_spend or not any(p.amount is not None for p in points):
            summary = "No spend in this period."
        else:
            summary = f"No {metric.known_of} in this period."
        if ahead and trend.year is not None and trend.year.start in ahead:
            summary += (
                f" The target trajectory for {trend.year.label} is "
                f"{ahead[trend.year.start]}%."
            )
    empty = not any(trace["x"] for trace in data)
    summary = " ".join([summary, *notes])
    if empty:  # no axes of nothing: the page shows these words alone
        summary += " There is nothing to chart."
    projection = dict(trend.projection)
    rows, filters, labels = [], [], []
    where = in_directorate(directorate)
    for p in points:
        rows.append(
            [
                f"{p.month:%B %Y}{' (not over yet)' if p.unfinished else ''}",
                p.amount,
                p.denominator,
                "No spend imported" if p.amount is None else _pct(p.share),
                _pct(p.target) if p.target is not None else "",
                f"{projection[p.month]}%" if p.month in projection else "",
            ]
        )
        # The share links to the spend counted in it, as a tile's share does.
        amount = p.links.get("amount")
        filters.append([None, amount, p.links.get("denominator"), amount, None, None])
        when = f"{where}, {p.month:%B %Y}{' so far' if p.unfinished else ''}"
        counted = f"{payments(p.lines)}{paid_to(metric.paid_to)}"
        labels.append(
            [
                None,
                f"{counted}{when}",
                f"{payments(p.denominator_lines)}{paid_to(metric.known_to)}{when}",
                f"{SHORT_NAMES.get(metric.key, metric.label)} share of spend{when}: "
                f"{counted}",
                None,
                None,
            ]
        )
    # The months after the last with spend: projected, and those of the
    # period's year with the target trajectory, as the chart draws them.
    later = dict(projected)
    for month in sorted({*later, *ahead}):
        rows.append(
            [
                f"{month:%B %Y} "
                + ("(projected)" if month in later else "(no spend imported)"),
                "",
                "",
                "",
                _pct(ahead[month]) if month in ahead else "",
                f"{later[month]}%" if month in later else "",
            ]
        )
        filters.append([None] * 6)
    header = [
        "Month",
        f"{metric.label} spend (£)",
        # What the share is of: all spend, or spend whose tag is known.
        f"Of: {metric.known_of.split(' (')[0]} (£)",
        "Share",
        "Target trajectory",
        "Projection (not spend)",
    ]
    held = [p.month for p in points] + sorted({*later, *ahead})
    return Chart(
        "trend",
        title,
        summary,
        figure,
        header,
        rows,
        cell_filters=filters,
        cell_labels=labels,
        notes=notes,
        point_cells=point_cells,
        empty=empty,
        span=(held[0], held[-1]) if held else None,
        narrow_note=narrow_note,
    )


# The widest plot, in CSS pixels, drawn as on a phone (dashboard.js).
NARROW_PIXELS = 600


def _narrow(figure: dict, narrow: dict, wide: dict) -> None:
    """Give `figure` the layout changes the page makes where the plot is
    narrower than `NARROW_PIXELS` (`narrow`, plotly relayout keys) and those
    that undo them (`wide`), for dashboard.js to apply as the width changes."""
    if narrow:
        figure["layout"]["meta"]["narrow"] = {
            "pixels": NARROW_PIXELS,
            "narrow": narrow,
            "wide": wide,
        }


# The longest x-axis given a tick a month: over a shorter one plotly ticks
# every week or fortnight, each labelled with its month (QA: a quarter's axis
# read "Apr 2024, Apr 2024, May 2024, May 2024 …"); over a longer one its own
# ticks are whole months or more, and a tick a month would crowd a phone.
MONTH_TICKS_DAYS = 155


def _month_ticks(low: date, high: date) -> dict:
    """A tick on the first of each month, when the axis is a few months long."""
    if (high - low).days > MONTH_TICKS_DAYS:
        return {}
    return {"tickmode": "linear", "tick0": "2000-01-01", "dtick": "M1"}


def _share_top(data: list[dict]) -> int:
    """The top of a share axis: from 0% to a round figure a little above the
    highest share, target or projection drawn, at most 100% (QA: drawn to 100%,
    a VCSE share of 5% and its target of 7% lay along the foot as one line).
    100% where nothing is drawn."""
    values = [
        Decimal(str(y)) for trace in data for y in trace["y"] if y not in (None, "")
    ]
    if not values:
        return 100
    highest = max(values) * Decimal("1.2")
    for top in (5, 10, 20, 30, 40, 50, 60, 70, 80, 90):
        if highest <= top:
            return top
    return 100


def _x_range(data: list[dict], first: date, last: date) -> tuple[date, date]:
    """The first and last day of the x-axis: from the first thing drawn (or
    `first`) to the last (or `last`), with room for a marker at either end."""
    drawn = [date.fromisoformat(x) for trace in data for x in trace["x"]]
    marked = [
        date.fromisoformat(x)
        for trace in data
        if "markers" in trace["mode"]
        for x in trace["x"]
    ]
    low, high = min([first, *drawn]), max([last, *drawn])
    room = timedelta(days=max(10, (high - low).days // 50))
    return low - room, max([high, *(day + room for day in marked)])


def _year_end(trend: Trend, ahead: dict, projected: dict) -> str:
    """Where the projection ends the period's year against its target, when
    the year's last month is still to come, and where it ends the target's
    deadline, when that is a later year's end."""
    if trend.year is None:
        return ""
    march = month_of(trend.year, 12)
    out = ""
    if march in ahead and march in projected:
        out += (
            f" By {march:%B %Y}, the end of {trend.year.label}, the projection is "
            f"{projected[march]}% against a target trajectory of {ahead[march]}%: "
            f"{_against(ahead[march] - projected[march])}."
        )
    final = trend.final_target
    deadline = None if final is None else month_start(final.target_fy.end)
    if deadline and deadline > march and deadline in ahead and deadline in projected:
        out += (
            f" By {deadline:%B %Y}, the target's deadline, the projection is "
            f"{projected[deadline]}% against the target of {ahead[deadline]}%: "
            f"{_against(ahead[deadline] - projected[deadline])}."
        )
    return out


def _against(gap: Decimal) -> str:
    """How far a projection is from its target: `gap` is target − projection."""
    if gap > 0:
        return f"{gap} points below it"
    return f"{-gap} points above it" if gap < 0 else "on it"


def _stacked(row: DirectorateRow, parts, *, negative: bool) -> Decimal:
    """How far a row's stacked bar reaches: its parts of one sign added up."""
    values = [getattr(row, key) or Decimal(0) for _, key, _ in parts]
    return sum((v for v in values if (v < 0) == negative), Decimal(0))


_NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


def money_ticks(low: Decimal, high: Decimal, most: int = 6) -> dict:
    """Plotly axis settings putting ticks at round amounts from `low` to `high`
    (at most `most` intervals), labelled as money is written on the page."""
    span = high - low
    if span <= 0:
        return {"tickprefix": "£", "separatethousands": True}
    rough = span / most
    power = Decimal(10) ** (len(str(int(rough))) - 1) if rough >= 1 else Decimal(1)
    step = next(n * power for n in _NICE_STEPS if n * power >= rough)
    first = (low / step).to_integral_value(rounding="ROUND_FLOOR") * step
    values = []
    tick = first
    while tick <= high + step / 2 and len(values) <= most + 2:
        values.append(tick)
        tick += step
    return {
        "tickmode": "array",
        "tickvals": [str(v) for v in values],
        "ticktext": [money_tick(v) for v in values],
    }


def money_tick(amount: Decimal) -> str:
    """£0, £500, £250k, £1.5m, £2bn: an axis label. Shorter than the tiles'
    `gbp_short` below £10,000 (£2.5k, not £2,500), as axis labels must be, and
    without its needless ".0"."""
    sign = MINUS if amount < 0 else ""
    amount = abs(amount)
    for size, suffix in (
        (Decimal(10**9), "bn"),
        (Decimal(10**6), "m"),
        (Decimal(1000), "k"),
    ):
        if amount >= size:
            number = f"{amount / size:,.2f}".rstrip("0").rstrip(".")
            return f"{sign}£{number}{suffix}"
    return f"{sign}£{amount:,.0f}"


# A directorate's local share is compared with the others' only when its spend
# whose location is known (what the share is of) is at least this percentage
# of all directorates' spend whose location is known: a share of £1,200 is not
# "the highest" beside shares of millions.
COMPARED_AT_LEAST = Decimal(5)


def _highest_local(rows: list[DirectorateRow]) -> str:
    """The sentence naming the directorate with the highest local share, of
    those with enough spend to compare, and saying how many were left out."""
    known = {id(row): row.total - row.unknown for row in rows}
    all_known = sum(known.values(), Decimal(0))
    if all_known <= 0:
        return ""
    compared = [
        row
        for row in rows
        if row.local_share is not None
        and known[id(row)] * 100 >= all_known * COMPARED_AT_LEAST
    ]
    left_out = len(rows) - len(compared)
    if not compared:
        return ""
    if len(compared) == 1:
        return (
            f" Only {compared[0].directorate or '(none given)'} has at least "
            f"{COMPARED_AT_LEAST}% of the spend whose location is known: the "
            "others have too little to compare local shares."
        )
    best = max(compared, key=lambda row: row.local_share)
    highest = (
        f"the local share is highest in {best.directorate or '(none given)'}: "
        f"{_pct(best.local_share)}"
    )
    if not left_out:
        return f" Of the {len(compared)} directorates, {highest}."
    return (
        f" Of the {len(compared)} directorates with at least {COMPARED_AT_LEAST}% "
        f"of the spend whose location is known, {highest} ({left_out} smaller "
        f"{'one is' if left_out == 1 else 'ones are'} left out)."
    )


def _bar_ticks(low: Decimal, high: Decimal) -> dict:
    """The bars' money axis; with nothing but £0 on it, from £0 upwards (QA:
    plotly's own range for no data ran from £-1 to £6)."""
    if high > low:
        return money_ticks(low, high)
    return {
        "tickmode": "array",
        "tickvals": ["0"],
        "ticktext": [money_tick(Decimal(0))],
        "range": [0, 1],
    }


def _fewer_ticks(ticks: dict) -> tuple[dict, dict]:
    """On a phone, every other amount on the bars' axis, level: the bars get
    a third of the width beside the directorates' names, and plotly turned
    six labels on end to fit them (QA). £0 is kept."""
    values, texts = ticks.get("tickvals", []), ticks.get("ticktext", [])
    if len(values) <= 4:
        return {}, {}
    zero = next((i for i, v in enumerate(values) if Decimal(v) == 0), 0)
    kept = [i for i in range(len(values)) if (i - zero) % 2 == 0]
    narrow = {
        "xaxis.tickvals": [values[i] for i in kept],
        "xaxis.ticktext": [texts[i] for i in kept],
        "xaxis.tickangle": 0,
    }
    wide = {
        "xaxis.tickvals": values,
        "xaxis.ticktext": texts,
        "xaxis.tickangle": "auto",
    }
    return narrow, wide


# Who a directorate's payments went to, by the table's column (its links'
# words).
DIRECTORATE_PAID_TO = {
    "total": "",
    "local": "local suppliers",
    "wider": "suppliers in the wider area but not local",
    "elsewhere": "suppliers elsewhere (in the UK or abroad)",
    "unknown": "suppliers whose location is unknown",
}


def directorate_chart(
    rows: list[DirectorateRow], scope_label: str, period: str = ""
) -> Chart:
    """Each directorate's spend by where its suppliers are. `period` names the
    period in the table's links' words ("2025/26"; `scope_label` if not given)."""
    title = f"Where each directorate's spend went, {scope_label}"
    period = period or scope_label
    names = [row.directorate or "(none given)" for row in rows]
    # Plotly reads a little HTML in its labels (links among it): a directorate
    # named in a spend file is shown as written, never as a link (security
    # review). Plotly turns the entities back into the characters.
    labels = [html.escape(name, quote=False) for name in names]
    parts = [
        ("Local", "local", GREEN),
        ("Wider area, not local", "wider", BLUE),
        ("Elsewhere", "elsewhere", PURPLE),
        ("Location unknown", "unknown", GREY),
    ]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": label,
            "y": labels,
            "x": [str(getattr(row, key)) for row in rows],
            "marker": {"color": colour, "line": {"color": BLACK, "width": 1}},
            # To the penny, as the summary and the table write it.
            "hovertemplate": "£%{x:,.2f}<extra>" + label + "</extra>",
        }
        for label, key, colour in parts
    ]
    # Written as the page writes money (£20m, £500k), not as plotly would
    # (£20M, and £1G for a billion).
    ticks = _bar_ticks(
        min([_stacked(row, parts, negative=True) for row in rows] + [0]),
        max([_stacked(row, parts, negative=False) for row in rows] + [0]),
    )
    figure = {
        "data": data,
        "layout": _layout(
            title,
            barmode="relative",
            height=max(320, 60 + 40 * len(rows)),
            xaxis={
                "title": {"text": "Spend (£)"},
                "automargin": True,  # tick labels turned on a phone stay clear of it
                **ticks,
            },
            yaxis={"autorange": "reversed", "automargin": True},
            hovermode="y unified",
            # Above the bars: below, on a narrow screen, the legend's lines ran
            # over the axis title.
            legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom"},
            margin={"l": 60, "r": 20, "t": 60, "b": 50},
        ),
    }
    _narrow(figure, *_fewer_ticks(ticks))
    if len(rows) > 1:
        summary = (
            f"{len(rows)} directorates. The largest, {names[0]}, spent "
            f"{gbp(rows[0].total)}, {_pct(rows[0].local_share)} of it locally "
            f"(of spend whose location is known).{_highest_local(rows)}"
        )
    elif rows:
        summary = (
            f"One directorate, {names[0]}, spent {gbp(rows[0].total)}, "
            f"{_pct(rows[0].local_share)} of it locally (of spend whose location "
            "is known)."
        )
    else:  # no axes of nothing: the page shows these words alone
        summary = "No spend in this period: there is nothing to chart."
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
        "Wider area, not local (£)",
        "Elsewhere (£)",
        "Location unknown (£)",
        "Local share of known",
    ]
    columns = ["total", "total", "local", "wider", "elsewhere", "unknown", "local"]
    filters = [[row.links.get(column) for column in columns] for row in rows]
    labels = []
    for row in rows:
        where = f"{in_directorate(row.directorate)}, {period}"
        opens = {
            column: payments(row.lines.get(column)) + (f" to {who}" if who else "")
            for column, who in DIRECTORATE_PAID_TO.items()
        }
        labels.append(
            [
                None,
                *[f"{opens[column]}{where}" for column in columns[1:-1]],
                f"Local share of spend{where}: {opens['local']}",
            ]
        )
    # Each bar's part opens the payments its table cell links to: the Local
    # part of a directorate's bar, its Local (£) cell.
    point_cells = {
        trace: [(i, header.index(f"{label} (£)")) for i in range(len(rows))]
        for trace, (label, _, _) in enumerate(parts)
    }
    return Chart(
        "directorates",
        title,
        summary,
        figure,
        header,
        table,
        cell_filters=filters,
        cell_labels=labels,
        point_cells=point_cells,
        empty=not rows,
    )
