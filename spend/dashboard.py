"""The cabinet dashboard's figures, read from the monthly rollups (`spend.rollup`).

Nothing here reads spend lines: every figure is a sum over `TagMonth` (a few
thousand rows a year) or, for the largest suppliers, `SupplierMonth`, done by the
database. Each figure carries the spend line list filters that select the lines
behind it (`spend:lines`), so that every number can be traced and reconciles.

Shares are of the spend whose tag is known; the spend whose tag is unknown is
shown beside each share, never counted as "no". Living Wage is the exception: the
accredited list only ever says "yes", so its share is of all spend in scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django import forms
from django.conf import settings
from django.db import connection
from django.db.models import Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from councils.models import Council
from councils.periods import FinancialYear, add_months, month_end, month_start
from procure.models import Supplier
from socialvalue.models import TAG_VALUES, Metric, SupplierTag, TagKind, Target
from spend.filters import NOT_STATED
from spend.models import (
    CouncilDirectorate,
    DirectorateMonth,
    SupplierMonth,
    SupplierYear,
    TagMonth,
)
from spend.rollup import table as _table
from spend.values import money

# "Close to target" (amber): within this many percentage points below the target;
# `LOCALSPEND_AMBER_POINTS` in the settings, 5 unless set.
DEFAULT_AMBER_POINTS = 5
# A share is not judged against its target when the tag of more than this
# percentage of the spend is unknown (Tile.too_little_known).
MOST_UNKNOWN = Decimal("50")
# A tile's status, by the colour of its tag (GOV.UK's yellow is "amber").
STATUS_LABELS = {
    "green": "On target",
    "amber": "Close to target",
    "red": "Below target",
    "grey": "Too little known to judge",
}
TOP_SUPPLIERS = 20
FIT_MONTHS = 12


@dataclass(frozen=True)
class MetricDef:
    key: str
    label: str
    field: str  # TagMonth column
    values: tuple[str, ...]  # the tag values counted in the share
    target_metric: str | None
    known_of: str  # completes "of £X spend …"
    all_spend: bool = False  # denominator: all spend, not spend whose tag is known
    unknown_note: str = ""  # says what the spend whose tag is unknown is
    # Who the payments behind a figure went to, completing "the 412 payments
    # to …": those counted in the share, those it is of (none: all payments
    # counted), and those whose tag is unknown. A link's name in words (QA: a
    # screen reader's list of links read "£2,033,510.58" alone).
    paid_to: str = ""
    known_to: str = ""
    unknown_to: str = ""

    @property
    def kind(self) -> str:
        return TagKind.LOCALITY if self.field == "locality" else self.field

    @property
    def short(self) -> str:
        """The measure in a word or two, where its label will not fit (the
        month-by-month table's headings)."""
        return SHORT_LABELS[self.key]

    @property
    def known_values(self) -> list[str]:
        return [v for v in TAG_VALUES[self.kind] if v != "unknown"]


METRICS = [
    MetricDef(
        "local",
        "Local",
        "locality",
        ("local",),
        Metric.LOCAL,
        "spend with suppliers whose location is known",
        paid_to="local suppliers",
        known_to="suppliers whose location is known",
        unknown_to="suppliers whose location is unknown",
    ),
    MetricDef(
        "wider",
        "Wider area (including local)",
        "locality",
        ("local", "wider"),
        None,
        "spend with suppliers whose location is known",
        paid_to="suppliers in the wider area (local ones included)",
        known_to="suppliers whose location is known",
        unknown_to="suppliers whose location is unknown",
    ),
    MetricDef(
        "sme",
        "Small and medium-sized enterprises (SME)",
        "size",
        ("micro", "small", "medium"),
        Metric.SME,
        "spend with suppliers whose size is known",
        paid_to="small and medium-sized enterprises",
        known_to="suppliers whose size is known",
        unknown_to="suppliers whose size is unknown",
    ),
    MetricDef(
        "vcse",
        "Voluntary, community and social enterprise (VCSE)",
        "vcse",
        ("yes",),
        Metric.VCSE,
        "spend with suppliers whose VCSE status is known",
        paid_to="voluntary, community and social enterprises",
        known_to="suppliers whose VCSE status is known",
        unknown_to="suppliers whose VCSE status is unknown",
    ),
    MetricDef(
        "living_wage",
        "Real Living Wage employers",
        "living_wage",
        ("yes",),
        Metric.LIVING_WAGE,
        "all spend in scope (suppliers not known to be accredited are unknown, "
        "not “no”)",
        all_spend=True,
        unknown_note="suppliers not known to be accredited",
        paid_to="employers accredited for the Real Living Wage",
        unknown_to="suppliers not known to be accredited",
    ),
]
METRIC_BY_KEY = {m.key: m for m in METRICS}
SHORT_LABELS = {
    "local": "Local",
    "wider": "Wider area",
    "sme": "SME",
    "vcse": "VCSE",
    "living_wage": "Real Living Wage",
}


def metrics_for(council: Council) -> list[MetricDef]:
    """The measures as `council`'s pages name them: the wider area by the name
    its settings give it ("Wider area: Bedfordshire (including local)")."""
    name = council.wider_label.strip()
    if not name:
        return METRICS
    return [
        replace(m, label=f"Wider area: {name} (including local)")
        if m.key == "wider"
        else m
        for m in METRICS
    ]


def payments(count: int | None) -> str:
    """What a link to some payments opens, in words: "the 412 payments", "the
    1 payment", "no payments"; "the payments" when they were not counted."""
    if count is None:
        return "the payments"
    if not count:
        return "no payments"
    return f"the {count:,} payment{'' if count == 1 else 's'}"


def paid_to(who: str) -> str:
    """ " to local suppliers", or "" (all payments counted): after `payments`."""
    return f" to {who}" if who else " counted"


def in_directorate(directorate: str | None) -> str:
    """ " in Housing", " with no directorate given" (""), or "" (all)."""
    if directorate is None:
        return ""
    return f" in {directorate}" if directorate else " with no directorate given"


def tile_labels(tile: Tile, scope: Scope) -> dict[str, str]:
    """What each of a tile's links opens, in words, after its visible text
    ("26.9%: …"), by the name of its link (`Tile.links`)."""
    metric = tile.metric
    where = f"{in_directorate(scope.directorate)}, {scope.short_label}"
    lines = tile.lines
    counted = f"{payments(lines.get('amount'))}{paid_to(metric.paid_to)}"
    return {
        "share": f"{metric.short} share of spend{where}: {counted}",
        "amount": f"{counted}{where}",
        "denominator": (
            f"{payments(lines.get('denominator'))}{paid_to(metric.known_to)}{where}"
        ),
        "unknown": (
            f"{payments(lines.get('unknown'))}{paid_to(metric.unknown_to)}{where}"
        ),
    }


NO_DIRECTORATE = "-"  # the choice for lines that name no directorate
FY_MONTHS = [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """Percentage to one decimal place; None when there is nothing to divide by."""
    if not whole or whole <= 0:
        return None
    return (part * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def month_of(fy: FinancialYear, position: int) -> date:
    """First day of the `position`th month (1 = April) of `fy`."""
    month = FY_MONTHS[position - 1]
    return date(fy.start_year + (month < 4), month, 1)


# ---------------------------------------------------------------- the choices

# The periods a year or a quarter name, then those whose months carry their
# own years (`Scope.fy` is then the financial year the months end in).
PERIODS = [
    ("year", "Whole year"),
    ("q1", "Quarter 1 (April to June)"),
    ("q2", "Quarter 2 (July to September)"),
    ("q3", "Quarter 3 (October to December)"),
    ("q4", "Quarter 4 (January to March)"),
    ("last12", "Last 12 months with spend"),
    ("months", "Months chosen below"),
]
OWN_YEARS = ("last12", "months")  # periods the financial year does not choose
MONTH_FIELDS = ("month_from", "month_to")


def month_value(month: date) -> str:
    """A month as the form's month choices write it: "2026-01"."""
    return f"{month:%Y-%m}"


def _digits(value: str) -> bool:
    """Is `value` made of the digits 0-9 only? (str.isdigit is true of "²" and
    "١" too, which int() refuses: a 500 in review.)"""
    return value.isascii() and value.isdigit()


def _month_from_value(value: str) -> date | None:
    """The month "2026-01" (or "2026-1", spaces around) names, else None."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", value, re.ASCII)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), 1)
    except ValueError:  # month 13, year 0
        return None


def _plausible_year(value: str) -> bool:
    """A year a financial year could start in, as the refusal names it."""
    return len(value) == 4 and _digits(value) and 1900 <= int(value) <= 2100


def _shortened(value: str) -> str:
    """A refused value, as the message quotes it: not a page of it."""
    value = str(value)
    return value if len(value) <= 40 else value[:39] + "…"


class DashboardForm(forms.Form):
    """What the dashboard shows: a period, a directorate, what is left out.

    A period is a financial year, a quarter of one, the last 12 months with
    spend, or any months from a first to a last, across 31 March if need be:
    the from and to months carry their years ("January 2026"). Old links gave
    them as places in the financial year chosen (1 = April): still read so.

    A choice that cannot be used is replaced by its default, the others kept
    (`fallback`); each refusal is said in plain words (`refusals`), and the
    form is shown as the view shown (`show`), not as sent: but for months
    chosen that were refused, kept beside their error to correct.
    """

    year = forms.TypedChoiceField(label="Financial year", coerce=int)
    period = forms.ChoiceField(label="Period", choices=PERIODS, initial="year")
    month_from = forms.ChoiceField(label="From month")
    month_to = forms.ChoiceField(label="To month")
    directorate = forms.ChoiceField(label="Directorate or service area", required=False)
    public = forms.ChoiceField(
        label="Payments to public sector bodies",
        choices=[("exclude", "Leave out"), ("include", "Include")],
        initial="exclude",
    )
    redacted = forms.ChoiceField(
        label="Payments to redacted payees",
        choices=[("exclude", "Leave out"), ("include", "Include")],
        initial="exclude",
    )

    def __init__(
        self,
        data,
        *,
        years: list[FinancialYear],
        directorates: list[str],
        default: FinancialYear,
    ):
        self.years, self.default = years, default
        self.directorates = directorates
        sent = {k: v for k, v in data.items() if v != ""}
        fy = self._year_of(sent.get("year"))
        defaults = {name: f.initial for name, f in self.base_fields.items()}
        defaults.update(
            year=default.start_year,
            month_from=month_value(fy.start),
            month_to=month_value(month_of(fy, 12)),
        )
        merged = {**defaults, **sent}
        for name in MONTH_FIELDS:
            value = str(merged[name])
            if _digits(value) and 1 <= int(value) <= 12:
                # An old link's place in the financial year (1 = April).
                merged[name] = month_value(month_of(fy, int(value)))
            elif month := _month_from_value(value):
                merged[name] = month_value(month)  # "2026-1" as "2026-01"
        to = _month_from_value(str(merged["month_to"]))
        if "month_from" not in sent and "month_to" in sent and to:
            # Only a last month sent: from the start of its financial year.
            merged["month_from"] = month_value(FinancialYear.for_date(to).start)
        super().__init__(merged)
        self.fields["year"].choices = [(y.start_year, y.label) for y in reversed(years)]
        months = [month_of(y, i) for y in years for i in range(1, 13)]
        for name in MONTH_FIELDS:
            self.fields[name].choices = [(month_value(m), f"{m:%B %Y}") for m in months]
        self.fields["directorate"].choices = [("", "All")] + [
            (d or NO_DIRECTORATE, d or "(none given)") for d in directorates
        ]

    def _year_of(self, value) -> FinancialYear:
        """The financial year `value` names if it is one to choose, else the
        default."""
        value = str(value or "")
        if _plausible_year(value):
            fy = FinancialYear(int(value))
            if fy in self.years:
                return fy
        return self.default

    @property
    def _span(self) -> str:
        first, last = self.years[0], self.years[-1]
        return first.label if first == last else f"{first.label} to {last.label}"

    @property
    def _month_span(self) -> str:
        return f"{self.years[0].start:%B %Y} to {self.years[-1].end:%B %Y}"

    def _refusal(self, name: str) -> str:
        """Why the choice sent for `name` cannot be used, and what is shown
        instead, in plain words (not Django's "Select a valid choice")."""
        raw = _shortened(self.data.get(name, ""))
        if name == "year":
            if _plausible_year(raw):
                held = f"No spend is held for {FinancialYear(int(raw)).label}"
            else:
                held = f"“{raw}” is not a financial year"
            choose = (
                f"choose {self._span}"
                if len(self.years) == 1
                else f"choose from {self._span}"
            )
            return f"{held}: {choose}."
        if name == "directorate":
            return (
                f"No directorate called “{raw}” has spend here: all directorates "
                "are shown."
            )
        if name == "period":
            return f"There is no period called “{raw}”: the whole year is shown."
        if name in MONTH_FIELDS:
            month = _month_from_value(raw)
            held = (
                f"No spend is held for {month:%B %Y}"
                if month
                else f"“{raw}” is not a month"
            )
            return (
                f"{held}: choose one from {self._month_span}. The whole year is "
                "shown instead."
            )
        # The payments to public sector bodies, or to redacted payees.
        return f"“{raw}” is not one of the choices: they are left out."

    def clean(self):
        data = super().clean()
        if data.get("period") not in ("months", None):
            # The months count only for months chosen: a stray value there
            # refuses nothing.
            for name in MONTH_FIELDS:
                self._errors.pop(name, None)
        if data.get("period") in OWN_YEARS and self._errors.pop("year", None):
            # Nor the year, hidden for them (the months carry their own).
            data["year"] = self.default.start_year
        for name in list(self._errors):
            if name in self.fields:
                self._errors[name] = self.error_class([self._refusal(name)])
        first = _month_from_value(data.get("month_from") or "")
        last = _month_from_value(data.get("month_to") or "")
        if data.get("period") == "months" and first and last and first > last:
            self.add_error(
                "month_to",
                f"{last:%B %Y} is before the from month, {first:%B %Y}: choose "
                "a later month. The whole year is shown instead.",
            )
        return data

    def refusals(self) -> list[tuple[str, str, str]]:
        """(field id, label, message) of each choice that could not be used,
        once the form `show`s the view shown."""
        # A month refused is hidden when the period the form shows is not
        # months chosen: its link goes to the period instead. Months kept as
        # sent (`show`) are shown, and linked to.
        hidden = self.data.get("period") != "months"
        return [
            (
                self[
                    "period" if hidden and name in MONTH_FIELDS else name
                ].id_for_label,
                self.fields[name].label,
                message,
            )
            for name, messages in self.errors.items()
            if name in self.fields
            for message in messages
        ]

    def fallback(self) -> DashboardForm:
        """A form that can be used: this one's choices, with each refused
        one at its default (a refused month, and the months chosen then go)."""
        data = dict(self.data)
        refused = set(self.errors)
        if refused & {"period", *MONTH_FIELDS}:
            refused |= {"period", *MONTH_FIELDS}
        for name in refused:
            data.pop(name, None)
        used = DashboardForm(
            data,
            years=self.years,
            directorates=self.directorates,
            default=self.default,
        )
        if not used.is_valid():  # cannot happen; the default view then
            used = DashboardForm(
                {},
                years=self.years,
                directorates=self.directorates,
                default=self.default,
            )
            used.is_valid()
        return used

    # Set by `show`: are the months chosen kept as sent, although refused?
    months_kept = False
    # … and is nothing else refused (the form's other choices are as sent)?
    only_months_refused = False

    def show(self, scope: Scope, used: DashboardForm) -> None:
        """Show the choices of the view shown, `used` for `scope`, whatever
        was sent: a refused choice at what is used instead, the months at the
        period's months (ready for "Months chosen below"), and the financial
        year at the one the months end in, whose target they are judged
        against.

        But months chosen that were refused (the to month before the from
        month, or a month with no spend) are kept as sent, "Months chosen
        below" with them, beside their error, for the user to correct (QA:
        the form fell back to the whole year and hid the months, so the user
        chose "Months" and both months again); a month that is not a choice at
        all is shown at the period's month."""
        period = used.cleaned_data["period"]
        shown = {
            "year": str(scope.fy.start_year),
            "period": period,
            "month_from": month_value(scope.first),
            "month_to": month_value(scope.last),
            "directorate": ""
            if scope.directorate is None
            else scope.directorate or NO_DIRECTORATE,
            "public": "include" if scope.include_public else "exclude",
            "redacted": "include" if scope.include_redacted else "exclude",
        }
        refused = set(self.errors)
        self.months_kept = (
            self.data.get("period") == "months"
            and "period" not in refused
            and bool(refused & set(MONTH_FIELDS))
        )
        if self.months_kept:
            self.only_months_refused = refused <= set(MONTH_FIELDS)
            shown["period"] = "months"
            for name in MONTH_FIELDS:
                sent = str(self.data.get(name, ""))
                if sent in {str(value) for value, _ in self.fields[name].choices}:
                    shown[name] = sent
        self.data = {**self.data, **shown}


@dataclass(frozen=True)
class Scope:
    """The spend a dashboard counts: a council, months, a directorate, exclusions."""

    council: Council
    fy: FinancialYear
    first: date  # first day of the first month
    last: date  # first day of the last month
    directorate: str | None = None
    include_public: bool = False
    include_redacted: bool = False

    @property
    def end(self) -> date:
        return month_end(self.last)

    @property
    def spans_years(self) -> bool:
        """Do the months begin in an earlier financial year than `fy`, the one
        they end in, whose target they are judged against?"""
        return self.first < self.fy.start

    @property
    def whole_year(self) -> bool:
        return self.first == self.fy.start and self.last == month_of(self.fy, 12)

    @property
    def quarter(self) -> int | None:
        """1 to 4 when the period is a quarter of its financial year."""
        quarters = {month_of(self.fy, 3 * q - 2): q for q in range(1, 5)}
        q = quarters.get(self.first)
        return q if q and self.last == month_of(self.fy, 3 * q) else None

    @property
    def label(self) -> str:
        if self.whole_year:
            return self.fy.label
        if self.quarter:
            return f"{self.short_label} ({self.first:%B} to {self.last:%B %Y})"
        if self.first == self.last:
            return f"{self.first:%B %Y}"
        return f"{self.first:%B %Y} to {self.last:%B %Y}"

    @property
    def named(self) -> bool:
        """Is the period a name of its own (a year, a quarter, a month), rather
        than a range of months ("June 2025 to October 2025")? A range reads
        wrongly where a name is expected ("to the end of June 2025 to …")."""
        return bool(self.whole_year or self.quarter or self.first == self.last)

    def months_of(self, count: int) -> str:
        """`count` of the period's months, in words: "5 months of 2025/26", or
        of a range, "7 of the 9 months chosen"."""
        if self.named:
            return f"{count} month{'' if count == 1 else 's'} of {self.short_label}"
        return f"{count} of the {len(self.months())} months chosen"

    @property
    def short_label(self) -> str:
        """The period's name with no brackets ("Q2 2026/27", "2026/27"), to go
        inside a sentence or a bracket of its own."""
        if self.whole_year:
            return self.fy.label
        if self.quarter:
            return f"Q{self.quarter} {self.fy.label}"
        return self.label

    def not_begun(self, today: date) -> bool:
        return self.first > today

    def not_over(self, today: date) -> bool:
        return self.end >= today

    def a_month_over(self, today: date) -> bool:
        """Is any month of the period over (the first one, then)?"""
        return month_end(self.first) < today

    def previous(self) -> Scope:
        """The same months a year earlier."""
        return replace(
            self,
            fy=self.fy.previous(),
            first=add_months(self.first, -12),
            last=add_months(self.last, -12),
        )

    def for_month(self, month: date) -> Scope:
        """The same directorate and exclusions, `month` alone."""
        return replace(self, fy=FinancialYear.for_date(month), first=month, last=month)

    def months(self) -> list[date]:
        out, month = [], self.first
        while month <= self.last:
            out.append(month)
            month = add_months(month, 1)
        return out

    def everything(self) -> QuerySet[TagMonth]:
        """The months and directorate, nothing left out."""
        rows = TagMonth.objects.filter(
            council=self.council, month__gte=self.first, month__lte=self.last
        )
        # NULL directorate: the rows for all directorates together.
        if self.directorate is None:
            return rows.filter(directorate__isnull=True)
        return rows.filter(directorate=self.directorate)

    @property
    def counted(self) -> Q:
        q = Q()
        if not self.include_public:
            q &= ~Q(size="public_sector")
        if not self.include_redacted:
            q &= Q(redacted=False)
        return q

    def line_filters(self) -> dict[str, str | list[str]]:
        """Filters of the spend line list selecting the lines counted."""
        params: dict[str, str | list[str]] = {
            "date_from": self.first.isoformat(),
            "date_to": self.end.isoformat(),
        }
        if self.directorate is not None:
            params["directorate"] = directorate_param(self.directorate)
        if not self.include_public:
            params["exclude_public"] = "1"
        if not self.include_redacted:
            params["redacted"] = "false"
        return params

    def describe(self) -> list[str]:
        dates = f"{self.first:%-d %B %Y} to {self.end:%-d %B %Y}"
        # Named once: a quarter's months are in its dates, and a range of
        # months is its dates.
        if self.whole_year or self.quarter:
            parts = [f"Period: {self.short_label} ({dates})"]
        else:
            parts = [f"Period: {dates}"]
        if self.spans_years:  # which year's target, said once for the page
            parts.append(
                f"Targets: those for {self.fy.label}, the financial year the "
                "period ends in"
            )
        parts.append(
            "Directorate: "
            + (
                "all"
                if self.directorate is None
                else self.directorate or "(none given)"
            )
        )
        parts.append(
            "Payments to public sector bodies: "
            + ("included" if self.include_public else "left out")
        )
        parts.append(
            "Payments to redacted payees: "
            + ("included" if self.include_redacted else "left out")
        )
        return parts


def directorate_param(directorate: str) -> str:
    """The spend line list's value for a directorate ("" = none given)."""
    return directorate or NOT_STATED


def years_with_data(
    council: Council, today: date
) -> tuple[list[FinancialYear], FinancialYear]:
    """Every financial year from the first with spend to this one, and the
    default: the year of the latest month with spend, else this one."""
    span = TagMonth.objects.filter(council=council).aggregate(
        first=Min("month"), last=Max("month")
    )
    now = FinancialYear.for_date(today)
    first = FinancialYear.for_date(span["first"]) if span["first"] else now
    # The year of last month too, where the last 12 months end with no spend
    # held (review: the form could not show them).
    first = min(first, FinancialYear.for_date(add_months(month_start(today), -1)))
    latest = FinancialYear.for_date(span["last"]) if span["last"] else now
    years = [
        FinancialYear(y)
        for y in range(first.start_year, max(now, latest).start_year + 1)
    ]
    return years, latest


def directorates_of(council: Council) -> list[str]:
    return list(
        CouncilDirectorate.objects.filter(council=council)
        .order_by("name")
        .values_list("name", flat=True)
    )


def latest_month_over(council: Council, today: date) -> date:
    """The latest month with spend imported that is over by `today` (a month
    not over holds a few days' payments); last month when there is none."""
    latest = TagMonth.objects.filter(
        council=council, directorate__isnull=True, month__lt=month_start(today)
    ).aggregate(last=Max("month"))["last"]
    return latest or add_months(month_start(today), -1)


def scope_from(
    council: Council, form: DashboardForm, today: date | None = None
) -> Scope:
    """The spend `form`'s choices select. Months chosen and the last 12 months
    are judged against the target of the financial year they end in."""
    data = form.cleaned_data
    fy = FinancialYear(data["year"])
    period = data["period"]
    if period.startswith("q"):
        q = int(period[1])
        first, last = month_of(fy, 3 * q - 2), month_of(fy, 3 * q)
    elif period == "months":
        first = _month_from_value(data["month_from"])
        last = _month_from_value(data["month_to"])
    elif period == "last12":
        last = latest_month_over(council, today or timezone.localdate())
        # No earlier than the first month offered (no spend is held before it),
        # so the form can show the months shown (review).
        first = max(add_months(last, -11), form.years[0].start)
    else:
        first, last = fy.start, month_of(fy, 12)
    if period in OWN_YEARS:
        fy = FinancialYear.for_date(last)
    directorate = data.get("directorate") or None
    if directorate == NO_DIRECTORATE:
        directorate = ""
    return Scope(
        council=council,
        fy=fy,
        first=first,
        last=last,
        directorate=directorate,
        include_public=data["public"] == "include",
        include_redacted=data["redacted"] == "include",
    )


# ------------------------------------------------------------------ figures


def _sums(counted: Q) -> dict:
    """The tiles' sums over the rows `counted` (a scope's exclusions applied)."""
    sums = {
        "sum_total": Sum("total", filter=counted),
        "sum_lines": Sum("lines", filter=counted),
    }
    for m in METRICS:
        yes = counted & Q(**{f"{m.field}__in": m.values})
        unknown = counted & Q(**{m.field: "unknown"})
        sums[f"{m.key}__yes"] = Sum("total", filter=yes)
        sums[f"{m.key}__unknown"] = Sum("total", filter=unknown)
        # How many payments each is, naming the tiles' links.
        sums[f"{m.key}__yes_lines"] = Sum("lines", filter=yes)
        sums[f"{m.key}__unknown_lines"] = Sum("lines", filter=unknown)
    return sums


def _zeroed(figures: dict) -> dict:
    return {
        k: (v or 0) if k.endswith("lines") else money(v) for k, v in figures.items()
    }


@dataclass
class Tile:
    metric: MetricDef
    amount: Decimal  # spend counted in the share
    denominator: Decimal
    unknown: Decimal
    total: Decimal
    share: Decimal | None
    unknown_share: Decimal | None
    target: Decimal | None = None
    target_label: str = ""
    target_note: str = ""  # where the target comes from (`target_note`)
    status: str | None = None  # green, amber, red
    compared_share: Decimal | None = None  # the share over the months compared
    previous_share: Decimal | None = None  # … and over the same months a year earlier
    change: Decimal | None = None
    links: dict = field(default_factory=dict)
    # How many payments each link opens, by the link's name (`links`).
    lines: dict = field(default_factory=dict)

    @property
    def too_little_known(self) -> bool:
        """Is the tag unknown for more than half the spend? The share of the
        rest is shown, but not judged against the target: the spend whose tag
        is known may not be like the spend whose tag is not."""
        return (
            not self.metric.all_spend
            and self.unknown_share is not None
            and self.unknown_share > MOST_UNKNOWN
        )

    @property
    def judged_although_unknown(self) -> bool:
        """A Living Wage share judged with its tag unknown for more than half
        the spend: its share is of all spend, so the rule does not apply."""
        return (
            self.metric.all_spend
            and self.status is not None
            and self.unknown_share is not None
            and self.unknown_share > MOST_UNKNOWN
        )

    @property
    def status_label(self) -> str:
        """The status as the key above the tiles names it; a share not judged
        for want of spend is said to be not judged, not given a status of its
        own that the key does not have."""
        if self.status is None:
            if self.target is None:
                return "No target"
            if self.too_little_known:
                return STATUS_LABELS["grey"]
            if not self.total:
                return "Not judged: no spend counted"
            # Spend counted, but nothing to divide by (credit notes).
            return "Not judged: no share to judge"
        return STATUS_LABELS[self.status]


def metric_filters(metric: MetricDef, base: dict) -> dict[str, dict]:
    """The line list filters behind a share of `metric` over the lines `base`
    selects: the spend counted in it, its denominator and the spend whose tag is
    unknown."""
    return {
        "amount": {**base, metric.field: list(metric.values)},
        "denominator": base
        if metric.all_spend
        else {**base, metric.field: metric.known_values},
        "unknown": {**base, metric.field: ["unknown"]},
    }


def _tile(metric: MetricDef, figures: dict) -> Tile:
    total = figures["sum_total"]
    yes = figures[f"{metric.key}__yes"]
    unknown = figures[f"{metric.key}__unknown"]
    denominator = total if metric.all_spend else total - unknown
    lines = {
        "amount": figures.get(f"{metric.key}__yes_lines"),
        "unknown": figures.get(f"{metric.key}__unknown_lines"),
    }
    if figures.get("sum_lines") is not None and lines["unknown"] is not None:
        lines["denominator"] = figures["sum_lines"] - (
            0 if metric.all_spend else lines["unknown"]
        )
    return Tile(
        metric=metric,
        amount=yes,
        denominator=denominator,
        unknown=unknown,
        total=total,
        share=share(yes, denominator),
        unknown_share=share(unknown, total),
        lines=lines,
    )


def _one_place(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def amber_points() -> Decimal:
    """How far below its target a share is "close to target", in points."""
    points = getattr(settings, "LOCALSPEND_AMBER_POINTS", DEFAULT_AMBER_POINTS)
    return Decimal(str(points))


def status_key() -> list[tuple[str, str, str]]:
    """The statuses and when each is given: (status, label, when), as the page's
    key and the headline figures' CSV state them, the rules `tiles` follows."""
    points = amber_points()
    return [
        ("green", STATUS_LABELS["green"], "at or above it"),
        (
            "amber",
            STATUS_LABELS["amber"],
            f"within {points} point{'' if points == 1 else 's'} below it",
        ),
        ("red", STATUS_LABELS["red"], "further below"),
        (
            "grey",
            STATUS_LABELS["grey"],
            "the location, size or VCSE status is unknown for more than half of "
            "the spend counted. The Living Wage share is judged however much is "
            "unknown: it is of all spend counted, as accreditation can be shown "
            "but never ruled out",
        ),
    ]


def target_note(governing: Target, fy: FinancialYear) -> str:
    """Where the target for `fy` comes from: the trajectory it is on, or, once
    the target's year is past, the target, its date passed and still held."""
    to = f"{_one_place(governing.target_share)}% by {governing.target_fy}"
    since = f"from {_one_place(governing.baseline_share)}% in {governing.baseline_fy}"
    if governing.target_year < fy.start_year:
        return (
            f"the target was {to}, {since}; that date has passed, so {fy} is "
            "judged against it"
        )
    return f"trajectory to {to}, {since}"


def status_for(value: Decimal | None, target: Decimal | None) -> str | None:
    if value is None or target is None:
        return None
    if value >= target:
        return "green"
    if value >= target - amber_points():
        return "amber"
    return "red"


class Targets:
    """A council's targets, and the trajectory share for any year."""

    def __init__(self, council: Council) -> None:
        self.by_metric: dict[str, list[Target]] = {}
        for target in Target.objects.for_council(council).order_by("target_year"):
            self.by_metric.setdefault(target.metric, []).append(target)

    def governing(self, metric: str | None, fy: FinancialYear) -> Target | None:
        """The target whose trajectory covers `fy`: the first ending in or after it,
        else the last (its share holds once reached)."""
        targets = self.by_metric.get(metric or "", [])
        for target in targets:
            if target.target_year >= fy.start_year:
                return target
        return targets[-1] if targets else None

    def share_for(self, metric: str | None, fy: FinancialYear) -> Decimal | None:
        target = self.governing(metric, fy)
        return target.share_for(fy) if target else None


def months_held(council: Council, first: date, last: date) -> set[date]:
    """The months from `first` to `last` with any spend imported."""
    return set(
        TagMonth.objects.filter(
            council=council,
            month__gte=first,
            month__lte=last,
            directorate__isnull=True,
        )
        .values_list("month", flat=True)
        .distinct()
    )


def describe_months(months: list[date]) -> str:
    """The months as runs, e.g. "April to June 2025 and October 2025 to March 2026"."""
    runs: list[list[date]] = []
    for month in sorted(months):
        if runs and add_months(runs[-1][-1], 1) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    parts = []
    for run in runs:
        first, last = run[0], run[-1]
        if first == last:
            parts.append(f"{first:%B %Y}")
        elif first.year == last.year:
            parts.append(f"{first:%B} to {last:%B %Y}")
        else:
            parts.append(f"{first:%B %Y} to {last:%B %Y}")
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def tiles(scope: Scope, targets: Targets, today: date | None = None) -> dict:
    """Headline figures for `scope`, with last year's for comparison (over the
    months held in both years and over by `today`)."""
    # One pass over the period's rows: what is counted and what is left out.
    figures = scope.everything().aggregate(
        **_sums(scope.counted),
        sum_public=Sum("total", filter=Q(size="public_sector", redacted=False)),
        sum_redacted=Sum("total", filter=Q(redacted=True)),
        sum_all=Sum("total"),
    )
    now = left_out = _zeroed(figures)
    # Compare like with like: only the months with spend imported in both years
    # (a year still running, or a year earlier whose files are not all in, is
    # compared over the months the two have in common).
    earlier = scope.previous()
    held = months_held(scope.council, earlier.first, scope.last)
    common = [
        m
        for m in scope.months()
        if m in held
        and add_months(m, -12) in held
        and (today is None or month_end(m) < today)  # a month not over: not like
    ]
    # The months with spend left out of the comparison, and why: said before
    # the figures compared, which are then not the tile's own.
    left_out_months = sorted(held & set(scope.months()) - set(common))
    not_imported = [
        add_months(m, -12) for m in left_out_months if add_months(m, -12) not in held
    ]
    not_over = [
        m for m in left_out_months if today is not None and month_end(m) >= today
    ]
    why = [
        f"{describe_months(months)} {verb} {what}"
        for months, verb, what in (
            (not_imported, "was" if len(not_imported) == 1 else "were", "not imported"),
            (not_over, "is" if len(not_over) == 1 else "are", "not over yet"),
        )
        if months
    ]
    if set(common) >= held & set(scope.months()):
        this = now  # every month with spend is compared
    else:
        this = _zeroed(
            scope.everything()
            .filter(scope.counted, month__in=common)
            .aggregate(**_sums(Q()))
        )
    before = _zeroed(
        earlier.everything()
        .filter(scope.counted, month__in=[add_months(m, -12) for m in common])
        .aggregate(**_sums(Q()))
    )
    base = scope.line_filters()
    out = []
    for metric in metrics_for(scope.council):
        tile = _tile(metric, now)
        if common:
            tile.compared_share = _tile(metric, this).share
            tile.previous_share = _tile(metric, before).share
        if tile.compared_share is not None and tile.previous_share is not None:
            tile.change = tile.compared_share - tile.previous_share
        governing = targets.governing(metric.target_metric, scope.fy)
        if governing is not None:
            target = governing.share_for(scope.fy)
            tile.target = None if target is None else _one_place(target)
            tile.target_label = (
                f"{_one_place(governing.target_share)}% by {governing.target_fy}, "
                f"from {_one_place(governing.baseline_share)}% in "
                f"{governing.baseline_fy}"
            )
            # Shown in brackets on the tile: no brackets of its own.
            tile.target_note = target_note(governing, scope.fy)
        if not tile.too_little_known:
            tile.status = status_for(tile.share, tile.target)
        tile.links = metric_filters(metric, base)
        out.append(tile)
    return {
        "total": now["sum_total"],
        "lines": now["sum_lines"],
        "compared_total": this["sum_total"] if common else None,
        "previous_total": before["sum_total"] if common else None,
        # The months compared, this year's and the same a year earlier.
        "compared": describe_months(common),
        "compared_before": describe_months([add_months(m, -12) for m in common]),
        # Why months with spend are left out of the comparison ("October 2024
        # was not imported"); empty when every month with spend is compared.
        "compared_only": "; ".join(why) if common else "",
        "all": left_out["sum_all"],
        # What the scope leaves out of "all", for the total's tile.
        "left_out": [
            (amount, what)
            for amount, what, included in (
                (
                    left_out["sum_public"],
                    "paid to public sector bodies",
                    scope.include_public,
                ),
                (
                    left_out["sum_redacted"],
                    "paid to redacted payees",
                    scope.include_redacted,
                ),
            )
            if amount and not included
        ],
        "public": left_out["sum_public"],
        "redacted": left_out["sum_redacted"],
        "tiles": out,
        "links": {"total": base},
    }


@dataclass
class TrendPoint:
    month: date
    amount: Decimal | None  # None: no spend imported for the month
    denominator: Decimal | None
    share: Decimal | None
    target: Decimal | None
    links: dict = field(default_factory=dict)  # `metric_filters` for the month
    unfinished: bool = False  # the month is not over yet: a few days' payments
    # How many payments are in `amount` and in `denominator`.
    lines: int | None = None
    denominator_lines: int | None = None

    @property
    def ratio(self) -> Decimal | None:
        """The share as a percentage, unrounded: what the projection is fitted
        on (`share` is rounded to one place, for showing)."""
        if self.amount is None or not self.denominator or self.denominator <= 0:
            return None
        return self.amount * 100 / self.denominator


@dataclass
class Trend:
    metric: MetricDef
    points: list[TrendPoint]
    projection: list[tuple[date, Decimal]]
    fit_months: int
    crossing: date | None
    crossing_note: str
    final_target: Target | None
    window: tuple[date, date]  # the three years looked at: first and last month
    period: tuple[date, date]  # the period chosen: first and last month
    # The target trajectory for the months after the last month shown (no
    # spend yet), to the end of the period's financial year or as far as the
    # projection runs, if later (the target's deadline); empty for a past
    # period whose later months have spend, or where no target applies.
    targets_ahead: list[tuple[date, Decimal]] = field(default_factory=list)
    year: FinancialYear | None = None  # the period's financial year
    named: bool = True  # the period has a name of its own (`Scope.named`)

    @property
    def projected(self) -> list[tuple[date, Decimal]]:
        """The projection's months after the last month shown (not spend)."""
        last = self.points[-1].month if self.points else None
        return [(m, v) for m, v in self.projection if last is None or m > last]


def trend(scope: Scope, targets: Targets, metric: MetricDef, today: date) -> Trend:
    """Month-by-month share over the three financial years to the end of the
    period, from the first to the last month with spend imported (none after
    today), the target trajectory, and a linear projection from the last 12
    months with a share."""
    # From the start of the period if it begins earlier (a long range).
    first = min(FinancialYear(scope.fy.start_year - 2).start, scope.first)
    window = replace(scope, first=first)
    held = months_held(scope.council, first, min(scope.last, today))
    yes = Q(**{f"{metric.field}__in": metric.values})
    rows = {
        row["month"]: row
        for row in window.everything()
        .filter(scope.counted)
        .values("month")
        .annotate(
            sum_total=Sum("total"),
            sum_yes=Sum("total", filter=yes),
            sum_unknown=Sum("total", filter=Q(**{metric.field: "unknown"})),
            sum_lines=Sum("lines"),
            sum_yes_lines=Sum("lines", filter=yes),
            sum_unknown_lines=Sum("lines", filter=Q(**{metric.field: "unknown"})),
        )
        .order_by("month")
    }
    points = []
    shown = replace(window, first=min(held), last=max(held)).months() if held else []
    for month in shown:
        fy = FinancialYear.for_date(month)
        target = targets.share_for(metric.target_metric, fy)
        target = None if target is None else _one_place(target)
        if month not in held:
            points.append(TrendPoint(month, None, None, None, target))
            continue
        links = metric_filters(metric, scope.for_month(month).line_filters())
        row = rows.get(month, {})  # none: spend imported, none counted here
        total, amount = money(row.get("sum_total")), money(row.get("sum_yes"))
        unknown = money(row.get("sum_unknown"))
        denominator = total if metric.all_spend else total - unknown
        all_lines = row.get("sum_lines") or 0
        points.append(
            TrendPoint(
                month,
                amount,
                denominator,
                share(amount, denominator),
                target,
                links,
                unfinished=month_end(month) >= today,
                lines=row.get("sum_yes_lines") or 0,
                denominator_lines=all_lines
                if metric.all_spend
                else all_lines - (row.get("sum_unknown_lines") or 0),
            )
        )
    final = (targets.by_metric.get(metric.target_metric or "") or [None])[-1]
    # Months over after the period (review: a few days' spend in this month
    # made the last 12 months "a past period", with no later one to choose).
    later = scope.last < today and months_held(
        scope.council,
        add_months(month_start(scope.last), 1),
        add_months(month_start(today), -1),
    )
    if later:  # a past period: the months after it are spend, not projections
        projection, crossing, used = [], None, 0
        note = (
            "No projection for a past period: the months after it have spend "
            "imported; choose a later period to see them."
        )
    else:
        projection, crossing, note, used = _project(points, final, today)
    # The target runs on to the end of the period's financial year, and on
    # beside the projection as far as it is drawn (to the target's deadline),
    # each year at its own share of the trajectory: the gap shows at the year
    # end and at the deadline alike. A past period's runs to the period's end:
    # across the months chosen, with or without spend (QA: a quarter with no
    # spend drew no target at all, where its year drew one).
    ahead = []
    year_target = targets.share_for(metric.target_metric, scope.fy)
    if year_target is not None:
        if later:
            end = scope.last
        else:
            end = max([month_of(scope.fy, 12), *(m for m, _ in projection)])
        month = add_months(points[-1].month, 1) if points else scope.first
        while month <= end:
            target = targets.share_for(
                metric.target_metric, FinancialYear.for_date(month)
            )
            if target is not None:
                ahead.append((month, _one_place(target)))
            month = add_months(month, 1)
    return Trend(
        metric,
        points,
        projection,
        used,
        crossing,
        note,
        final,
        window=(first, scope.last),
        period=(scope.first, scope.last),
        targets_ahead=ahead,
        year=scope.fy,
        named=scope.named,
    )


def _project(
    points: list[TrendPoint], final: Target | None, today: date
) -> tuple[list[tuple[date, Decimal]], date | None, str, int]:
    # A month not over yet holds a few days' payments: it would swing the line.
    known = [p for p in points if p.ratio is not None and month_end(p.month) < today][
        -FIT_MONTHS:
    ]
    if len(known) < 3:
        return [], None, "Too few months with spend to project a trend.", len(known)
    origin = known[0].month
    xs = [_months_between(origin, p.month) for p in known]
    # Fitted on the unrounded shares: each rounded to one place for showing
    # would be up to 0.05 points out, enough to move the month the line
    # crosses the target, or its value at the year end.
    slope, intercept = _fit(xs, [p.ratio for p in known])
    last = known[-1].month
    horizon = add_months(last, 12)
    if final is not None:  # to the end of the target year, if that is later,
        # but no further than a crossing is named (QA: a target for 2056/57
        # drew thirty years of straight line, the months held squeezed into
        # the chart's first eighth).
        horizon = max(
            horizon,
            min(
                month_start(final.target_fy.end),
                add_months(last, 12 * PROJECTION_YEARS),
            ),
        )
    projection = []
    month = last
    while month <= horizon:
        value = intercept + slope * _months_between(origin, month)
        projection.append((month, _clamp(value)))
        month = add_months(month, 1)
    if final is None:
        return projection, None, "No target is set for this measure.", len(known)
    goal = Decimal(final.target_share)
    now_value = intercept + slope * _months_between(origin, last)
    if now_value >= goal:
        note = f"The trend is already at or above the {_one_place(final.target_share)}% target."
        return projection, None, note, len(known)
    if slope <= 0:
        note = (
            f"At the current trend the share does not reach the "
            f"{_one_place(final.target_share)}% target."
        )
        return projection, None, note, len(known)
    steps = (goal - intercept) / slope
    # A nearly flat trend crosses decades ahead (QA: "in August 2067"): past
    # ten years from the last month with a share, not said as a month.
    if steps - _months_between(origin, last) > 12 * PROJECTION_YEARS:
        note = (
            f"At the current trend the share does not reach the "
            f"{_one_place(final.target_share)}% target within {PROJECTION_YEARS} "
            f"years (by {add_months(last, 12 * PROJECTION_YEARS):%B %Y})."
        )
        return projection, None, note, len(known)
    # To nine places first: a crossing exactly on a month is not pushed to the
    # next by the last digit of a division that does not end.
    steps = steps.quantize(Decimal("1e-9"))
    months_ahead = int(steps.to_integral_value(rounding=ROUND_CEILING))
    crossing = add_months(origin, months_ahead)
    deadline = final.target_fy.end
    # A crossing already past: the months since have no spend imported.
    verb = "would have reached" if crossing < month_start(today) else "reaches"
    reaches = (
        f"the share {verb} the {_one_place(final.target_share)}% target in "
        f"{crossing:%B %Y}"
    )
    if deadline < today and month_end(last) < deadline:
        # The target's year is over, and its last months have no share to go by.
        note = (
            f"The target's deadline, {deadline:%-d %B %Y}, has passed, and the last "
            f"month with a share is {last:%B %Y}, so whether it was met is not "
            f"known. At the trend of the months held {reaches}."
        )
    elif deadline < today:  # over, with spend to its end: below the target then
        note = (
            f"The target's deadline, {deadline:%-d %B %Y}, has passed. At the "
            f"current trend {reaches}."
        )
    else:
        when = "before" if crossing <= deadline else "after"
        note = (
            f"At the current trend {reaches}, {when} the deadline of "
            f"{deadline:%-d %B %Y}."
        )
    return projection, crossing, note, len(known)


PROJECTION_YEARS = 10  # the furthest ahead a trend's crossing is named


def _months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def _fit(xs: list[int], ys: list[Decimal]) -> tuple[Decimal, Decimal]:
    """The least-squares straight line through (xs, ys): slope and intercept,
    worked out in decimals (no float rounding)."""
    n = len(xs)
    x_mean = Decimal(sum(xs)) / n
    y_mean = sum(ys, Decimal(0)) / n
    spread = sum(((x - x_mean) ** 2 for x in xs), Decimal(0))
    if not spread:  # every month the same: no slope to fit
        return Decimal(0), y_mean
    slope = (
        sum(
            ((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True)),
            Decimal(0),
        )
        / spread
    )
    return slope, y_mean - slope * x_mean


def _clamp(value: Decimal) -> Decimal:
    bounded = min(Decimal(100), max(Decimal(0), value))
    return bounded.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class MonthRow:
    """One month of the month-by-month table: each measure's share, and its
    target (the trajectory's, for the month's financial year)."""

    month: date
    total: Decimal
    tiles: list[Tile]
    unfinished: bool  # the month is not over: a few days' payments


def monthly(scope: Scope, targets: Targets, today: date) -> list[MonthRow]:
    """Every measure's share month by month over the period, beside its target:
    the tiles' figures for each month with spend, in one query (QA: month by
    month showed one measure at a time)."""
    metrics = metrics_for(scope.council)
    rows = (
        scope.everything()
        .values("month")
        .annotate(**_sums(scope.counted))
        .order_by("month")
    )
    out = []
    for row in rows:
        figures = _zeroed({k: v for k, v in row.items() if k != "month"})
        if not figures["sum_total"]:
            continue  # only spend left out (public bodies, redacted)
        fy = FinancialYear.for_date(row["month"])
        tiles = []
        for metric in metrics:
            tile = _tile(metric, figures)
            target = targets.share_for(metric.target_metric, fy)
            tile.target = None if target is None else _one_place(target)
            if not tile.too_little_known:
                tile.status = status_for(tile.share, tile.target)
            tiles.append(tile)
        out.append(
            MonthRow(
                row["month"],
                figures["sum_total"],
                tiles,
                unfinished=month_end(row["month"]) >= today,
            )
        )
    return out


@dataclass
class DirectorateRow:
    directorate: str
    total: Decimal
    local: Decimal
    wider: Decimal
    elsewhere: Decimal
    unknown: Decimal
    links: dict = field(default_factory=dict)  # line list filters, by column
    lines: dict = field(default_factory=dict)  # how many payments, by column

    @property
    def local_share(self) -> Decimal | None:
        return share(self.local, self.total - self.unknown)


# The directorate table's columns of spend by the supplier's location.
DIRECTORATE_LOCALITIES = {
    "local": ["local"],
    "wider": ["wider"],
    "elsewhere": ["uk", "non_uk"],
    "unknown": ["unknown"],
}


def directorates(scope: Scope) -> list[DirectorateRow]:
    rows = DirectorateMonth.objects.filter(
        council=scope.council, month__gte=scope.first, month__lte=scope.last
    )
    if scope.directorate is not None:
        rows = rows.filter(directorate=scope.directorate)
    if not scope.include_public:
        rows = rows.filter(public_sector=False)
    if not scope.include_redacted:
        rows = rows.filter(redacted=False)
    rows = (
        rows.values("directorate")
        .annotate(
            sum_total=Sum("total"),
            lines_total=Sum("lines"),
            **{
                f"sum_{column}": Sum("total", filter=Q(locality__in=values))
                for column, values in DIRECTORATE_LOCALITIES.items()
            },
            **{
                f"lines_{column}": Sum("lines", filter=Q(locality__in=values))
                for column, values in DIRECTORATE_LOCALITIES.items()
            },
        )
        .order_by("-sum_total")
    )
    out = []
    for row in rows:
        base = {
            **scope.line_filters(),
            "directorate": directorate_param(row["directorate"]),
        }
        out.append(
            DirectorateRow(
                row["directorate"],
                money(row["sum_total"]),
                money(row["sum_local"]),
                money(row["sum_wider"]),
                money(row["sum_elsewhere"]),
                money(row["sum_unknown"]),
                links={
                    "total": base,
                    **{
                        column: {**base, "locality": values}
                        for column, values in DIRECTORATE_LOCALITIES.items()
                    },
                },
                lines={
                    column: row[f"lines_{column}"] or 0
                    for column in ("total", *DIRECTORATE_LOCALITIES)
                },
            )
        )
    return out


NON_LOCAL = ["wider", "uk", "non_uk"]
# Named suppliers whose record is not yet verified (`Supplier.verified`).
UNCHECKED = "Named suppliers not yet checked in the supplier register"


def largest_suppliers(scope: Scope) -> dict[str, list[dict]]:
    """The largest suppliers in `scope` outside the council's area (wider, UK,
    abroad) and inside it, by net spend, in one query. A whole year reads the
    yearly rollup, which carries each supplier's location and public-body flag;
    other periods sum the monthly rollup per supplier, then join the tags."""
    known = ", ".join(f"'{value}'" for value in ["local", *NON_LOCAL])
    tags = _table(SupplierTag)
    if scope.whole_year and scope.directorate is None:
        public = "" if scope.include_public else "AND NOT public_sector"
        ranked = (
            "SELECT supplier_id, locality, total AS amount, lines, ROW_NUMBER() OVER "
            "(PARTITION BY locality = 'local' ORDER BY total DESC, supplier_id) "
            f"AS place FROM {_table(SupplierYear)} WHERE council_id = %s AND "
            f"year = %s AND locality IN ({known}) {public}"
        )
        params: list = [scope.council.pk, scope.fy.start_year]
    else:
        where = "council_id = %s AND month >= %s AND month <= %s AND redacted = FALSE"
        params = [scope.council.pk, scope.first, scope.last]
        if scope.directorate is not None:
            where += " AND directorate = %s"
            params.append(scope.directorate)
        public = (
            ""
            if scope.include_public
            else f"WHERE NOT EXISTS (SELECT 1 FROM {tags} p WHERE p.supplier_id = "
            "spend.supplier_id AND p.council_id IS NULL AND p.kind = 'size' "
            "AND p.value = 'public_sector')"
        )
        ranked = (
            "WITH spend AS (SELECT supplier_id, SUM(total) AS amount, SUM(lines) "
            f"AS lines FROM {_table(SupplierMonth)} WHERE {where} GROUP BY "
            "supplier_id) SELECT spend.supplier_id, loc.value AS locality, "
            "spend.amount, spend.lines, ROW_NUMBER() OVER (PARTITION BY "
            "loc.value = 'local' ORDER BY spend.amount DESC, spend.supplier_id) "
            f"AS place FROM spend JOIN {tags} loc ON loc.supplier_id = "
            "spend.supplier_id AND loc.council_id = %s AND loc.kind = 'locality' "
            f"AND loc.value IN ({known}) {public}"
        )
        params.append(scope.council.pk)
    sql = (
        f"SELECT r.supplier_id, s.name, r.locality, r.amount, r.lines FROM ({ranked}) "
        f"r JOIN {_table(Supplier)} s ON s.id = r.supplier_id "
        f"WHERE r.place <= {TOP_SUPPLIERS} ORDER BY r.amount DESC, s.name"
    )
    out: dict[str, list[dict]] = {"local": [], "non_local": []}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for supplier_id, name, locality, amount, lines in cursor.fetchall():
            out["local" if locality == "local" else "non_local"].append(
                {
                    "supplier_id": supplier_id,
                    "supplier__name": name,
                    "supplier__tags__value": locality,
                    # SQLite sums decimals as floats: back to pounds and pence.
                    "amount": money(Decimal(str(amount))),
                    "lines": lines,
                }
            )
    return out


def quality(scope: Scope, today: date) -> dict:
    """How much of the picture is missing: redacted, suppliers not yet checked in
    the register, unknown tags, and months of the period with no spend imported."""
    figures = _zeroed(
        scope.everything().aggregate(
            sum_all=Sum("total"),
            sum_redacted=Sum("total", filter=Q(redacted=True)),
            sum_unchecked=Sum("total", filter=Q(redacted=False, verified=False)),
            sum_unknown_locality=Sum(
                "total", filter=Q(redacted=False, locality="unknown")
            ),
            sum_unknown_size=Sum("total", filter=Q(redacted=False, size="unknown")),
            sum_unknown_vcse=Sum("total", filter=Q(redacted=False, vcse="unknown")),
            # How many payments each row's link opens.
            sum_redacted_lines=Sum("lines", filter=Q(redacted=True)),
            sum_unchecked_lines=Sum("lines", filter=Q(redacted=False, verified=False)),
            sum_unknown_locality_lines=Sum(
                "lines", filter=Q(redacted=False, locality="unknown")
            ),
            sum_unknown_size_lines=Sum(
                "lines", filter=Q(redacted=False, size="unknown")
            ),
            sum_unknown_vcse_lines=Sum(
                "lines", filter=Q(redacted=False, vcse="unknown")
            ),
        )
    )
    held = months_held(scope.council, scope.first, scope.last)
    # A month is missing once it is over; this month's file is not due yet.
    missing = [m for m in scope.months() if m not in held and month_end(m) < today]
    # The months with spend imported, and this month when it has none yet: not
    # missing, and not covered either (QA: "every month … up to now" counted it).
    covered = [m for m in scope.months() if m in held]
    waiting = [
        m for m in scope.months() if m not in held and m <= today <= month_end(m)
    ]
    unfinished = [m for m in covered if month_end(m) >= today]
    base = {"date_from": scope.first.isoformat(), "date_to": scope.end.isoformat()}
    if scope.directorate is not None:
        base["directorate"] = directorate_param(scope.directorate)
    rows = [
        ("Redacted payees", "redacted", {**base, "redacted": "true"}),
        (
            UNCHECKED,
            "unchecked",
            {**base, "redacted": "false", "verified": "false"},
        ),
        (
            "Named suppliers whose location is unknown",
            "unknown_locality",
            {**base, "redacted": "false", "locality": ["unknown"]},
        ),
        (
            "Named suppliers whose size is unknown",
            "unknown_size",
            {**base, "redacted": "false", "size": ["unknown"]},
        ),
        (
            "Named suppliers whose VCSE status is unknown",
            "unknown_vcse",
            {**base, "redacted": "false", "vcse": ["unknown"]},
        ),
    ]
    return {
        "all": figures["sum_all"],
        "rows": [
            {
                "label": label,
                "amount": figures[f"sum_{key}"],
                "share": share(figures[f"sum_{key}"], figures["sum_all"]),
                "link": link,
                # What the link opens, in words, after its visible amount.
                "link_label": f"{payments(figures[f'sum_{key}_lines'])} to "
                f"{label[0].lower()}{label[1:]}{in_directorate(scope.directorate)}, "
                f"{scope.short_label}",
            }
            for label, key, link in rows
        ],
        "missing_months": missing,
        "covered": describe_months(covered),
        "waiting": describe_months(waiting),
        "unfinished": describe_months(unfinished),
    }
