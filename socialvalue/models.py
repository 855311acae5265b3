"""Targets for the share of spend that is local, SME, VCSE or Living Wage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from councils.models import Council, CouncilScopedQuerySet
from councils.periods import FinancialYear, add_months


class Metric(models.TextChoices):
    LOCAL = "local", "Local spend"
    SME = "sme", "SME spend"
    VCSE = "vcse", "VCSE spend"
    LIVING_WAGE = "living_wage", "Real Living Wage employer spend"


def share_text(share: Decimal | None) -> str:
    """A percentage as people write it: 30%, 47.5%."""
    if share is None:
        return "—"
    text = f"{Decimal(share):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


# Past this, a share delivered is shown as "over 1,000%": the figures beside it
# say how far (QA: "25000025.0%" widened the totals past the page).
SHARE_SHOWN_UP_TO = Decimal(1000)


def delivered_share_text(share: Decimal | None) -> str:
    """Delivered as a share of committed: 47.5%, 1,000.0%, over 1,000%."""
    if share is None:
        return "—"
    if share > SHARE_SHOWN_UP_TO:
        return f"over {SHARE_SHOWN_UP_TO:,}%"
    return f"{share.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):,}%"


class Target(models.Model):
    """A pledge: `metric` moves linearly from the baseline year's share to the target's."""

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="targets"
    )
    metric = models.CharField(max_length=12, choices=Metric.choices)
    baseline_year = models.PositiveSmallIntegerField(
        help_text="First calendar year of the baseline financial year (2017 = 2017/18)."
    )
    baseline_share = models.DecimalField(
        "baseline share (%)", max_digits=5, decimal_places=2
    )
    target_year = models.PositiveSmallIntegerField(
        help_text="First calendar year of the target financial year (2023 = 2023/24)."
    )
    target_share = models.DecimalField(
        "target share (%)", max_digits=5, decimal_places=2
    )
    notes = models.TextField(blank=True, help_text="Where the pledge comes from.")

    objects = CouncilScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["council", "metric", "target_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "metric", "target_year"],
                name="target_one_per_metric_and_year",
            ),
            models.CheckConstraint(
                condition=Q(target_year__gt=F("baseline_year")),
                name="target_year_after_baseline",
            ),
            models.CheckConstraint(
                condition=Q(baseline_share__gte=0, baseline_share__lte=100)
                & Q(target_share__gte=0, target_share__lte=100),
                name="target_shares_are_percentages",
            ),
            models.CheckConstraint(
                condition=Q(metric__in=Metric.values), name="target_metric_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()}: {self.summary}"

    def clean(self) -> None:
        """Refuse a target whose years overlap another target for the same measure
        and council: the dashboard could not tell which one governs a year. A
        target may start in the year the previous one ends (its baseline is what
        that year achieved)."""
        start, end = self.baseline_year, self.target_year
        if not (self.council_id and self.metric and start and end) or end <= start:
            return
        other = (
            Target.objects.filter(
                council_id=self.council_id,
                metric=self.metric,
                baseline_year__lt=end,
                target_year__gt=start,
            )
            .exclude(pk=self.pk)
            .order_by("baseline_year")
            .first()
        )
        if other is None:
            return
        raise ValidationError(
            {
                "baseline_year": (
                    f"These years overlap the {other.get_metric_display()} target "
                    f"already set, {other.summary}, so the dashboard could not "
                    "tell which one applies. Change that target instead (or "
                    "remove it first), or choose years that do not overlap it: "
                    f"start in {other.target_fy} or later, or end in "
                    f"{other.baseline_fy} or earlier."
                )
            }
        )

    @property
    def summary(self) -> str:
        """The trajectory in words, e.g. “30% in 2022/23 to 50% in 2026/27”."""
        return (
            f"{share_text(self.baseline_share)} in {self.baseline_fy} to "
            f"{share_text(self.target_share)} in {self.target_fy}"
        )

    @property
    def baseline_fy(self) -> FinancialYear:
        return FinancialYear(self.baseline_year)

    @property
    def target_fy(self) -> FinancialYear:
        return FinancialYear(self.target_year)

    def share_for(self, year: FinancialYear) -> Decimal | None:
        """The trajectory's share for `year`: linear from baseline to target, then
        held at the target; None before the baseline year."""
        if year.start_year < self.baseline_year:
            return None
        if year.start_year >= self.target_year:
            return self.target_share
        steps = Decimal(self.target_year - self.baseline_year)
        done = Decimal(year.start_year - self.baseline_year)
        share = self.baseline_share + (self.target_share - self.baseline_share) * (
            done / steps
        )
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class TagKind(models.TextChoices):
    LOCALITY = "locality", "Location"
    SIZE = "size", "Size"
    VCSE = "vcse", "VCSE"
    LIVING_WAGE = "living_wage", "Real Living Wage employer"


TAG_VALUES: dict[str, dict[str, str]] = {
    TagKind.LOCALITY: {
        "local": "Local",
        "wider": "Wider area",
        "uk": "Elsewhere in the UK",
        "non_uk": "Outside the UK",
        "unknown": "Location unknown",
    },
    TagKind.SIZE: {
        "micro": "Micro business",
        "small": "Small business",
        "medium": "Medium-sized business",
        "large": "Large organisation",
        "public_sector": "Public sector body",
        "unknown": "Size unknown",
    },
    TagKind.VCSE: {"yes": "VCSE", "no": "Not a VCSE", "unknown": "VCSE status unknown"},
    TagKind.LIVING_WAGE: {
        "yes": "Accredited Living Wage employer",
        "no": "Not a Living Wage employer",
        "unknown": "Living Wage status unknown",
    },
}
ALL_TAG_VALUES = sorted({value for values in TAG_VALUES.values() for value in values})
SME_VALUES = ("micro", "small", "medium")


def living_wage_choices() -> list[tuple[str, str]]:
    """The Living Wage tags a list may be filtered by. The accredited employers
    list says only who is accredited, so the rules never say "not": that
    answer is offered only once an officer has decided it for some supplier
    (QA: a filter that could never match anything)."""
    choices = TAG_VALUES[TagKind.LIVING_WAGE]
    said = TagOverride.objects.filter(kind=TagKind.LIVING_WAGE, value="no").exists()
    return [(value, label) for value, label in choices.items() if value != "no" or said]


class TagSource(models.TextChoices):
    POSTCODE_RULE = "postcode_rule", "Postcode rule"
    # Both read the supplier's record, whoever filled it in (a registry load,
    # an officer, the demo): QA found "Registry data" for a type an officer
    # typed, and "Recorded by an officer" for what no officer entered.
    REGISTRY = "registry", "Supplier's recorded details"
    ACCREDITED_LIST = "accredited_list", "Accredited employer list"
    NAME_RULE = "name_rule", "Name of the organisation"
    DECLARATION = "declaration", "Supplier's recorded figures"
    NO_DATA = "no_data", "No data"
    OFFICER_OVERRIDE = "officer_override", "Officer override"


# A source's words for one kind of tag, where its own label does not fit: the
# Living Wage rule reads the supplier's "accredited" flag, a detail and not a
# figure (QA: "Supplier's recorded figures"), under the source size's figures
# have. The labels themselves are the database's choices, left as they are.
_SOURCE_WORDS = {
    (TagKind.LIVING_WAGE, TagSource.DECLARATION): "Supplier's recorded details",
}


def source_label(kind: str, source: str) -> str:
    """How a tag of `kind` worked out from `source` says where it came from."""
    words = _SOURCE_WORDS.get((kind, source))
    if words:
        return words
    return TagSource(source).label if source in TagSource.values else source


class Confidence(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


def _tag_constraints(prefix: str) -> list:
    """One tag (or override) per supplier and kind; per council for location only."""
    return [
        models.UniqueConstraint(
            fields=["supplier", "council", "kind"],
            condition=Q(council__isnull=False),
            name=f"{prefix}_one_per_supplier_council_kind",
        ),
        models.UniqueConstraint(
            fields=["supplier", "kind"],
            condition=Q(council__isnull=True),
            name=f"{prefix}_one_per_supplier_kind",
        ),
        models.CheckConstraint(
            condition=Q(kind="locality", council__isnull=False)
            | (~Q(kind="locality") & Q(council__isnull=True)),
            name=f"{prefix}_council_only_for_location",
        ),
        models.CheckConstraint(
            condition=Q(kind__in=TagKind.values), name=f"{prefix}_kind_valid"
        ),
        models.CheckConstraint(
            condition=Q(value__in=ALL_TAG_VALUES), name=f"{prefix}_value_valid"
        ),
    ]


class TagHistory(HistoricalRecords):
    """The tags' history, indexed for how it is read: by supplier (the supplier
    page) and by tag (the admin's history), each a few rows then ordered by date.
    So, unlike other history tables, no index on the date, nor (the `no_db_index`
    given) on council or deciding user; its user is held as the tags' is (see
    SupplierTag), not checked row by row."""

    @property
    def _date_indexing(self) -> bool:
        return False


class SupplierTag(models.Model):
    """A supplier's current tag of one kind, with where it came from and why.

    Location is per council (a Luton firm is local to Luton, not to Knowsley); size,
    VCSE and Living Wage belong to the supplier. An officer override, when there is
    one, is what this row holds, whatever the rules say.
    """

    # Tags are written only by socialvalue.tagging, hundreds of thousands in a
    # run, which checks and locks the suppliers, councils and user they name
    # first (spend.models.hold_rows), so the database does not check these keys
    # row by row at commit (that cost more than writing the tags). Every query
    # reads tags by supplier (this key's index, or the unique indexes that lead
    # with it), so council_id has no index of its own: only deleting a council
    # reads the table by it.
    supplier = models.ForeignKey(
        "procure.Supplier",
        on_delete=models.CASCADE,
        related_name="tags",
        db_constraint=False,
    )
    council = models.ForeignKey(
        Council,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=12, choices=TagKind.choices)
    value = models.CharField(max_length=16)
    source = models.CharField(max_length=16, choices=TagSource.choices)
    evidence = models.TextField()
    confidence = models.CharField(max_length=6, choices=Confidence.choices)
    rule_version = models.CharField(max_length=20, blank=True)
    decided_at = models.DateTimeField()
    # No index: nothing looks tags up by who decided them (deleting a user reads
    # the table once), and each index costs every classification run's writes.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    # A classification run writes a history row for each new or changed tag
    # (350,000 on a first run for 50,000 suppliers): see TagHistory.
    history = TagHistory(
        no_db_index=["council", "decided_by"], user_db_constraint=False
    )

    class Meta:
        ordering = ["supplier", "kind"]
        constraints = _tag_constraints("tag")

    def __str__(self) -> str:
        return f"{self.supplier}: {self.label}"

    @property
    def label(self) -> str:
        return TAG_VALUES[self.kind].get(self.value, self.value)

    def get_source_display(self) -> str:
        # Django leaves a model's own get_<field>_display in place.
        return source_label(self.kind, self.source)


class TagOverride(models.Model):
    """An officer's decision on a tag. It wins over every rule until removed."""

    supplier = models.ForeignKey(
        "procure.Supplier", on_delete=models.CASCADE, related_name="tag_overrides"
    )
    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=TagKind.choices)
    value = models.CharField(max_length=16)
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            *_tag_constraints("override"),
            models.CheckConstraint(
                condition=~Q(reason=""), name="override_reason_required"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier}: {self.kind} = {self.value} (override)"


class LivingWageSnapshot(models.Model):
    """One load of the Living Wage Foundation's accredited-employer list."""

    taken_on = models.DateField(help_text="The date the list was published or taken.")
    file_name = models.CharField(max_length=255)
    loaded_at = models.DateTimeField(auto_now_add=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-taken_on", "-loaded_at"]
        get_latest_by = ["taken_on", "loaded_at"]

    def __str__(self) -> str:
        return f"Living Wage employers, {self.taken_on:%d %B %Y}"


class LivingWageEmployer(models.Model):
    snapshot = models.ForeignKey(
        LivingWageSnapshot, on_delete=models.CASCADE, related_name="employers"
    )
    name = models.CharField(max_length=300)
    normalised_name = models.CharField(max_length=300, db_index=True)
    location = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Postcode(models.Model):
    """One postcode from the ONS postcode directory (ONSPD or NSPL).

    Loaded by `python manage.py load_postcodes FILE`; with it, full postcodes resolve
    to their local authority exactly, rather than by district.
    """

    postcode = models.CharField(
        max_length=8, primary_key=True, help_text='Written "LU1 2AB".'
    )
    district = models.CharField(max_length=4, help_text="The outward code, e.g. LU1.")
    authority = models.CharField(
        max_length=9,
        blank=True,
        help_text="ONS GSS code of the local authority, e.g. E06000032.",
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    terminated = models.BooleanField(
        default=False, help_text="No longer in use (the directory's doterm is set)."
    )

    class Meta:
        ordering = ["postcode"]

    def __str__(self) -> str:
        return self.postcode


class ReferenceKind(models.TextChoices):
    COMPANIES_HOUSE = (
        "companies_house",
        "Companies House basic company data (CSV, or the ZIP as downloaded)",
    )
    CHARITIES = (
        "charities",
        "Charity Commission register extract (publicextract.charity, text or ZIP)",
    )
    LIVING_WAGE = (
        "living_wage",
        "Living Wage Foundation accredited employer list (CSV), with the list's date",
    )
    POSTCODES = (
        "postcodes",
        "ONS postcode directory, ONSPD or NSPL (CSV, or the ZIP as downloaded)",
    )


REFERENCE_KIND_SHORT = {
    ReferenceKind.COMPANIES_HOUSE: "Companies House",
    ReferenceKind.CHARITIES: "Charity Commission register",
    ReferenceKind.LIVING_WAGE: "Living Wage list",
    ReferenceKind.POSTCODES: "ONS postcode directory",
}


class ReferenceLoadStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ReferenceLoad(models.Model):
    """One reference data file loaded from the admin's "Load reference data" page.

    The file is kept under UPLOAD_ROOT while it waits and is loaded by a background
    task (`socialvalue.tasks.load_reference_file`), which removes it when done.
    """

    kind = models.CharField(max_length=20, choices=ReferenceKind.choices)
    file_name = models.CharField(max_length=255, help_text="As uploaded.")
    size = models.PositiveBigIntegerField(help_text="Bytes.")
    stored_file = models.CharField(
        max_length=300,
        blank=True,
        help_text="Where the file waits, under UPLOAD_ROOT; cleared once loaded.",
    )
    taken_on = models.DateField(
        null=True, blank=True, help_text="Living Wage list: the date it was taken."
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        max_length=10,
        choices=ReferenceLoadStatus.choices,
        default=ReferenceLoadStatus.QUEUED,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveBigIntegerField(
        default=0, help_text="Progress of a postcode directory load."
    )
    report = models.JSONField(
        default=dict,
        blank=True,
        help_text="What was read, matched, changed and skipped, and reclassified.",
    )
    report_text = models.TextField(blank=True, help_text="The report as printed.")
    message = models.TextField(blank=True, help_text="Why the load failed.")
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the running load last said it was alive (rows read).",
    )

    class Meta:
        verbose_name = "reference data load"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ReferenceKind.values),
                name="reference_load_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReferenceLoadStatus.values),
                name="reference_load_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.file_name} ({self.status})"

    @property
    def what(self) -> str:
        """The kind, in a few words."""
        return REFERENCE_KIND_SHORT[ReferenceKind(self.kind)]

    @property
    def finished(self) -> bool:
        return self.status in {ReferenceLoadStatus.DONE, ReferenceLoadStatus.FAILED}


# ================================================================ social value
#
# A catalogue of measures (our own wording; no proxy values shipped), the proxy
# values each council holds, commitments per contract and delivery returns
# against them. Counting rules: a commitment or return is counted once; returns
# of one commitment never overlap; proxy £ only where the council has a value.

RETURN_DUE_DAYS = 30
EVIDENCE_MAX_MB = 20
EVIDENCE_SUFFIXES = frozenset(
    {".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".odt", ".ods", ".csv", ".txt"}
)
_PENNY = Decimal("0.01")


class Theme(models.TextChoices):
    JOBS = "jobs", "Jobs and skills"
    COMMUNITY = "community", "Education and community"
    ECONOMY = "economy", "Local economy and supply chain"
    ENVIRONMENT = "environment", "Environment"
    WELLBEING = "wellbeing", "Wellbeing"


class Unit(models.TextChoices):
    FTE = "fte", "FTE"
    WEEKS = "weeks", "weeks"
    HOURS = "hours", "hours"
    NUMBER = "number", "number"
    GBP = "gbp", "£"
    TONNES = "tonnes", "tonnes"
    TCO2E = "tco2e", "tCO2e"


# Units written in the plural, whose singular drops the "s" (tonnes: tonne).
_PLURAL_UNITS = frozenset({"weeks", "hours", "tonnes"})


def quantity_text(quantity: Decimal | None, unit: str) -> str:
    """12.5 FTE, 1,040 hours, £25,000.00: a quantity in its unit."""
    if quantity is None:
        return "—"
    if unit == Unit.GBP:
        return f"£{quantity.quantize(_PENNY, rounding=ROUND_HALF_UP):,.2f}"
    text = f"{quantity.normalize():,f}"
    if unit == Unit.NUMBER:
        return text
    label = Unit(unit).label
    if quantity == 1 and label in _PLURAL_UNITS:  # 1 week, not 1 weeks
        label = label[:-1]
    return f"{text} {label}"


class MeasureManager(models.Manager):
    def get_by_natural_key(self, code: str) -> Measure:
        return self.get(code=code)


class Measure(models.Model):
    """One social value measure: what is counted, in which unit, and how.

    The starter catalogue (fixtures/measures.json, loaded by a migration) is
    written for LocalSpend. Proxy £ values are not part of a measure: each council
    enters the values it holds (`ProxyValue`).
    """

    code = models.CharField(
        max_length=20, unique=True, help_text="LocalSpend's code, e.g. LS-JOBS-01."
    )
    name = models.CharField(max_length=200)
    theme = models.CharField(max_length=12, choices=Theme.choices)
    unit = models.CharField(max_length=8, choices=Unit.choices)
    counting = models.TextField("how it is counted")
    active = models.BooleanField(
        default=True,
        help_text="Inactive measures stay on the commitments that use them but "
        "cannot be chosen for new ones.",
    )

    objects = MeasureManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(code="") & ~Q(name=""), name="measure_code_and_name_set"
            ),
            models.CheckConstraint(
                condition=Q(theme__in=Theme.values), name="measure_theme_valid"
            ),
            models.CheckConstraint(
                condition=Q(unit__in=Unit.values), name="measure_unit_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def natural_key(self) -> tuple[str]:
        return (self.code,)

    @property
    def unit_label(self) -> str:
        return Unit(self.unit).label

    @property
    def per_unit(self) -> str:
        """“per hour”, “per £1”: how a proxy value is expressed."""
        if self.unit == Unit.GBP:
            return "per £1"
        if self.unit == Unit.NUMBER:
            return "each"
        return f"per {self.unit_label.removesuffix('s')}"

    def quantity_text(self, quantity: Decimal | None) -> str:
        return quantity_text(quantity, self.unit)


class ProxyValue(models.Model):
    """A council's own proxy £ value for one measure in one financial year.

    Proxy values from the published frameworks are licensed, so none are shipped:
    administrators enter the values their council holds, saying where each is from.
    """

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="proxy_values"
    )
    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, related_name="proxy_values"
    )
    year = models.PositiveSmallIntegerField(
        "financial year",
        help_text="First calendar year of the financial year (2024 = 2024/25).",
    )
    value = models.DecimalField("value per unit (£)", max_digits=12, decimal_places=4)
    source = models.TextField(
        help_text="Where the value comes from: the framework and version the "
        "council holds, or its own calculation."
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_at = models.DateTimeField(auto_now=True)

    objects = CouncilScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["measure__code", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "measure", "year"],
                name="proxy_value_one_per_measure_and_year",
            ),
            models.CheckConstraint(
                condition=Q(value__gt=0),
                name="proxy_value_positive",
                violation_error_message="The proxy value must be more than £0.",
            ),
            models.CheckConstraint(
                condition=~Q(source=""), name="proxy_value_source_required"
            ),
        ]

    def __str__(self) -> str:
        per_unit = self.measure.per_unit
        return f"{self.measure.code}: {self.value_text} {per_unit} in {self.fy}"

    @property
    def value_text(self) -> str:
        """£12.50, £0.125: pennies at least, more places only when entered."""
        value = self.value
        if value == value.quantize(_PENNY):
            return f"£{value:,.2f}"
        return f"£{value.normalize():,f}"

    @property
    def fy(self) -> FinancialYear:
        return FinancialYear(self.year)


def proxy_values_for(council: Council) -> dict[tuple[int, int], ProxyValue]:
    """The council's proxy values by (measure id, financial year start)."""
    return {
        (p.measure_id, p.year): p
        for p in ProxyValue.objects.for_council(council).select_related("measure")
    }


@dataclass(frozen=True)
class ReturnQuarter:
    """A quarter of the financial year (Q1 is April to June) for which a delivery
    return is due `RETURN_DUE_DAYS` days after it ends."""

    start: date
    end: date

    @property
    def due(self) -> date:
        return self.end + timedelta(days=RETURN_DUE_DAYS)

    @property
    def label(self) -> str:
        fy = FinancialYear.for_date(self.start)
        return f"{fy} Q{fy.quarter(self.start)}"

    @classmethod
    def spanning(cls, start: date, end: date) -> list[ReturnQuarter]:
        """The quarters that overlap `start`..`end`, both days included."""
        quarters = []
        day = date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
        while day <= end:
            following = add_months(day, 3)
            quarters.append(cls(day, following - timedelta(days=1)))
            day = following
        return quarters


def _when(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def period_text(start: date, end: date) -> str:
    return f"{_when(start)} to {_when(end)}"


class CommitmentQuerySet(models.QuerySet):
    def for_council(self, council: Council) -> CommitmentQuerySet:
        return self.filter(contract__council=council)


class Commitment(models.Model):
    """What a contract promises for one measure over one period."""

    contract = models.ForeignKey(
        "procure.Contract", on_delete=models.CASCADE, related_name="commitments"
    )
    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, related_name="commitments"
    )
    quantity = models.DecimalField(max_digits=14, decimal_places=2)
    period_start = models.DateField()
    period_end = models.DateField()
    note = models.TextField(blank=True)

    objects = CommitmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["measure__code", "period_start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="commitment_quantity_positive",
                violation_error_message="The quantity must be more than 0.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="commitment_ends_after_start",
                violation_error_message="The end must be on or after the start.",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.measure.code}: {self.measure.quantity_text(self.quantity)}, "
            f"{self.period}"
        )

    @property
    def period(self) -> str:
        return period_text(self.period_start, self.period_end)

    def clean(self) -> None:
        start, end = self.period_start, self.period_end
        if start is None or end is None:
            return
        if end < start:
            raise ValidationError(
                {"period_end": "The end must be on or after the start."}
            )
        if self.contract_id is None:
            return
        errors = self._contract_errors(start, end)
        if errors:
            raise ValidationError(errors)
        if self.measure_id is None:
            return
        clash = (
            Commitment.objects.filter(
                contract_id=self.contract_id,
                measure_id=self.measure_id,
                period_start__lte=end,
                period_end__gte=start,
            )
            .exclude(pk=self.pk)
            .first()
        )
        if clash:
            raise ValidationError(
                {
                    "period_start": f"This contract already commits to "
                    f"{self.measure.code} for {clash.period}, which overlaps: change "
                    "that commitment, or choose a period that does not overlap, so "
                    "nothing is committed twice."
                }
            )
        self._returns_still_fit(start, end)

    def _contract_errors(self, start: date, end: date) -> dict[str, str]:
        contract = self.contract
        errors = {}
        if start < contract.start_date:
            errors["period_start"] = (
                f"The contract starts on {_when(contract.start_date)}: the "
                "commitment cannot start before it."
            )
        last = contract.extension_end_date or contract.end_date
        if last and end > last:
            errors["period_end"] = (
                f"The contract runs to {_when(last)}"
                f"{' if extended' if contract.extension_end_date else ''}: the "
                "commitment cannot end after it."
            )
        return errors

    def _returns_still_fit(self, start: date, end: date) -> None:
        """A changed commitment keeps its measure and still holds its returns."""
        if self.pk is None:
            return
        returns = self.returns.all()
        if not returns:
            return
        old_measure = Commitment.objects.filter(pk=self.pk).values_list(
            "measure_id", flat=True
        )[0]
        if old_measure != self.measure_id:
            raise ValidationError(
                {
                    "measure": "Returns have been recorded against this measure: "
                    "add a new commitment for the other measure instead."
                }
            )
        outside = [r for r in returns if r.period_start < start or r.period_end > end]
        if outside:
            raise ValidationError(
                {
                    "period_start": f"The return for {outside[0].period} would fall "
                    "outside the commitment's period."
                }
            )

    @property
    def delivered(self) -> Decimal:
        """The quantity delivered (uses prefetched returns when there are any)."""
        return sum((r.quantity for r in self.returns.all()), Decimal(0))

    @property
    def quantity_text(self) -> str:
        return self.measure.quantity_text(self.quantity)

    @property
    def delivered_text(self) -> str:
        return self.measure.quantity_text(self.delivered)

    @property
    def share(self) -> Decimal:
        return (self.delivered * 100 / self.quantity).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

    @property
    def share_shown(self) -> str:
        return delivered_share_text(self.share)

    def missing_quarters(self, today: date) -> list[ReturnQuarter]:
        """The quarters whose return is overdue on `today`.

        A quarter overlapping the commitment's period needs a return once it is
        more than RETURN_DUE_DAYS days past its end; any return of this commitment
        covering part of the quarter is its return. A commitment delivered in full
        needs no more returns.
        """
        returns = list(self.returns.all())
        if sum((r.quantity for r in returns), Decimal(0)) >= self.quantity:
            return []
        return [
            quarter
            for quarter in ReturnQuarter.spanning(self.period_start, self.period_end)
            if quarter.due < today
            and not any(
                r.period_start <= quarter.end and r.period_end >= quarter.start
                for r in returns
            )
        ]


def evidence_path(relative: str) -> Path:
    return Path(settings.UPLOAD_ROOT) / relative


def keep_evidence(council: Council, name: str, data: bytes) -> str:
    """Store an evidence file under UPLOAD_ROOT/<council>/evidence/, named by the
    hash of its content (never by the user's file name); return that path."""
    suffix = Path(name).suffix.lower()
    suffix = suffix if suffix in EVIDENCE_SUFFIXES else ".bin"
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{council.slug}/evidence/{digest}{suffix}"
    path = evidence_path(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)
    return relative


class DeliveryReturnQuerySet(models.QuerySet):
    def for_council(self, council: Council) -> DeliveryReturnQuerySet:
        return self.filter(commitment__contract__council=council)


class DeliveryReturn(models.Model):
    """What was delivered against a commitment over one period, with evidence.

    Returns of one commitment never overlap, so no day's delivery is counted
    twice; the same return entered twice is refused by the database as well.
    """

    commitment = models.ForeignKey(
        Commitment, on_delete=models.PROTECT, related_name="returns"
    )
    quantity = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    period_start = models.DateField()
    period_end = models.DateField()
    evidence_note = models.TextField(
        help_text="What shows this was delivered: a timesheet summary, payroll "
        "extract, certificate, register of attendance, waste transfer notes."
    )
    evidence_file = models.CharField(
        max_length=300,
        blank=True,
        help_text="Path of the kept file, under UPLOAD_ROOT.",
    )
    evidence_file_name = models.CharField(
        max_length=255, blank=True, help_text="The file's name as uploaded."
    )
    confirmed = models.BooleanField(
        "this delivery belongs to this contract", default=False
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_at = models.DateTimeField(auto_now_add=True)

    objects = DeliveryReturnQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["period_start", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["commitment", "period_start", "period_end", "quantity"],
                name="delivery_return_not_twice",
                violation_error_message="This return has already been recorded.",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=0),
                name="delivery_return_quantity_not_negative",
                violation_error_message="The quantity cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="delivery_return_ends_after_start",
                violation_error_message="The end must be on or after the start.",
            ),
            models.CheckConstraint(
                condition=~Q(evidence_note=""),
                name="delivery_return_evidence_required",
                violation_error_message="Describe the evidence for this delivery.",
            ),
            models.CheckConstraint(
                condition=Q(confirmed=True),
                name="delivery_return_confirmed",
                violation_error_message="Confirm that this delivery belongs to "
                "this contract.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure_text} for {self.period}"

    @property
    def period(self) -> str:
        return period_text(self.period_start, self.period_end)

    @property
    def measure_text(self) -> str:
        return self.commitment.measure.quantity_text(self.quantity)

    @property
    def described(self) -> str:
        """The return as a phrase, to name it in a message: "for 1 July 2025 to
        30 September 2025 (1 delivered, entered by …)". The period first, as a
        count's quantity is a bare figure (QA: "the return already recorded
        for 1 for 1 July 2025")."""
        who = self.entered_by.get_username() if self.entered_by else "someone"
        when = (
            f" on {_when(timezone.localdate(self.entered_at))}"
            if self.entered_at
            else ""
        )
        entered = f"entered by {who}{when}"
        return f"for {self.period} ({self.measure_text} delivered, {entered})"

    def clean(self) -> None:
        start, end = self.period_start, self.period_end
        if start is None or end is None or self.commitment_id is None:
            return
        if end < start:
            raise ValidationError(
                {"period_end": "The end must be on or after the start."}
            )
        commitment = self.commitment
        if start < commitment.period_start or end > commitment.period_end:
            raise ValidationError(
                {
                    "period_start": "The return must fall within the commitment's "
                    f"period, {commitment.period}."
                }
            )
        if end > timezone.localdate():
            raise ValidationError(
                {
                    "period_end": "The period cannot end after today: record what "
                    "has been delivered."
                }
            )
        self._not_counted_twice(start, end)

    def _not_counted_twice(self, start: date, end: date) -> None:
        others = (
            DeliveryReturn.objects.filter(commitment_id=self.commitment_id)
            .exclude(pk=self.pk)
            .select_related("commitment__measure", "entered_by")
        )
        same = others.filter(period_start=start, period_end=end, quantity=self.quantity)
        if self.quantity is not None and (twin := same.first()):
            raise ValidationError(
                f"This return has already been recorded {twin.described}. It is "
                "not counted twice."
            )
        earlier = others.filter(period_start__lte=end, period_end__gte=start).first()
        if earlier:
            raise ValidationError(
                {
                    "period_start": f"This period overlaps the return already recorded "
                    f"{earlier.described}. Returns for one commitment cannot "
                    "overlap, so no delivery is counted twice: change the period, or "
                    "remove that return first."
                }
            )


@dataclass
class MeasureTotal:
    """Committed against delivered for one measure, over some commitments, with
    proxy £ where the council holds a value for the financial year in which each
    commitment's or return's period starts."""

    measure: Measure
    commitments: int = 0
    returns: int = 0
    committed: Decimal = Decimal(0)
    delivered: Decimal = Decimal(0)
    committed_value: Decimal = Decimal(0)
    delivered_value: Decimal = Decimal(0)
    valued_commitments: int = 0
    valued_returns: int = 0
    missing_years: set[int] = field(default_factory=set)
    used: dict[int, ProxyValue] = field(default_factory=dict)

    def _value(self, quantity: Decimal, day: date, proxies: dict) -> Decimal | None:
        year = FinancialYear.for_date(day).start_year
        proxy = proxies.get((self.measure.pk, year))
        if proxy is None:
            self.missing_years.add(year)
            return None
        self.used[year] = proxy
        return (quantity * proxy.value).quantize(_PENNY, rounding=ROUND_HALF_UP)

    def add(self, commitment: Commitment, proxies: dict) -> None:
        self.commitments += 1
        self.committed += commitment.quantity
        value = self._value(commitment.quantity, commitment.period_start, proxies)
        if value is not None:
            self.committed_value += value
            self.valued_commitments += 1
        for delivery in commitment.returns.all():
            self.returns += 1
            self.delivered += delivery.quantity
            value = self._value(delivery.quantity, delivery.period_start, proxies)
            if value is not None:
                self.delivered_value += value
                self.valued_returns += 1

    @property
    def committed_text(self) -> str:
        return self.measure.quantity_text(self.committed)

    @property
    def delivered_text(self) -> str:
        return self.measure.quantity_text(self.delivered)

    @property
    def share(self) -> Decimal | None:
        if not self.committed:
            return None
        return (self.delivered * 100 / self.committed).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

    @property
    def share_shown(self) -> str:
        return delivered_share_text(self.share)

    @property
    def committed_proxy(self) -> Decimal | None:
        return self.committed_value if self.valued_commitments else None

    @property
    def delivered_proxy(self) -> Decimal | None:
        return self.delivered_value if self.valued_returns else None

    @property
    def missing_labels(self) -> list[str]:
        return [FinancialYear(y).label for y in sorted(self.missing_years)]

    @property
    def sources(self) -> list[ProxyValue]:
        return [self.used[y] for y in sorted(self.used)]


def measure_totals(
    commitments: list[Commitment], proxies: dict[tuple[int, int], ProxyValue]
) -> list[MeasureTotal]:
    """One row per measure, in theme then code order. Pass commitments with their
    measure selected and their returns prefetched."""
    rows: dict[int, MeasureTotal] = {}
    for commitment in commitments:
        row = rows.setdefault(commitment.measure_id, MeasureTotal(commitment.measure))
        row.add(commitment, proxies)
    themes = list(Theme.values)
    return sorted(
        rows.values(), key=lambda r: (themes.index(r.measure.theme), r.measure.code)
    )
