"""Targets for the share of spend that is local, SME, VCSE or Living Wage."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from councils.models import Council, CouncilScopedQuerySet
from councils.periods import FinancialYear


class Metric(models.TextChoices):
    LOCAL = "local", "Local spend"
    SME = "sme", "SME spend"
    VCSE = "vcse", "VCSE spend"
    LIVING_WAGE = "living_wage", "Real Living Wage employer spend"


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
        return (
            f"{self.get_metric_display()}: {self.baseline_share}% in "
            f"{self.baseline_fy} to {self.target_share}% in {self.target_fy}"
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


class TagSource(models.TextChoices):
    POSTCODE_RULE = "postcode_rule", "Postcode rule"
    REGISTRY = "registry", "Registry data"
    ACCREDITED_LIST = "accredited_list", "Accredited employer list"
    NAME_RULE = "name_rule", "Name of the organisation"
    DECLARATION = "declaration", "Recorded by an officer"
    NO_DATA = "no_data", "No data"
    OFFICER_OVERRIDE = "officer_override", "Officer override"


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


class SupplierTag(models.Model):
    """A supplier's current tag of one kind, with where it came from and why.

    Location is per council (a Luton firm is local to Luton, not to Knowsley); size,
    VCSE and Living Wage belong to the supplier. An officer override, when there is
    one, is what this row holds, whatever the rules say.
    """

    supplier = models.ForeignKey(
        "procure.Supplier", on_delete=models.CASCADE, related_name="tags"
    )
    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=TagKind.choices)
    value = models.CharField(max_length=16)
    source = models.CharField(max_length=16, choices=TagSource.choices)
    evidence = models.TextField()
    confidence = models.CharField(max_length=6, choices=Confidence.choices)
    rule_version = models.CharField(max_length=20, blank=True)
    decided_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["supplier", "kind"]
        constraints = _tag_constraints("tag")
        indexes = [models.Index(fields=["kind", "value"], name="tag_kind_value")]

    def __str__(self) -> str:
        return f"{self.supplier}: {self.label}"

    @property
    def label(self) -> str:
        return TAG_VALUES[self.kind].get(self.value, self.value)


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
