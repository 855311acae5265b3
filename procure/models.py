"""The supplier register (shared by all councils) and each council's contracts."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from councils.models import Council, CouncilScopedQuerySet
from councils.periods import FinancialYear
from spend.values import normalise_name


class OrganisationType(models.TextChoices):
    PRIVATE_COMPANY = "private_company", "Private limited company"
    PLC = "plc", "Public limited company"
    LLP = "llp", "Limited liability partnership"
    PARTNERSHIP = "partnership", "Partnership"
    SOLE_TRADER = "sole_trader", "Sole trader"
    CHARITY = "charity", "Registered charity (incl. CIO)"
    CIC = "cic", "Community interest company"
    COMMUNITY_BENEFIT = "community_benefit", "Community benefit society"
    COOPERATIVE = "cooperative", "Co-operative society"
    GUARANTEE = "guarantee", "Company limited by guarantee"
    PUBLIC_BODY = "public_body", "Public sector body"
    UNKNOWN = "unknown", "Not known"


class CharityRegister(models.TextChoices):
    ENGLAND_WALES = "GB-CHC", "Charity Commission (England and Wales)"
    SCOTLAND = "GB-SC", "OSCR (Scotland)"
    NORTHERN_IRELAND = "GB-NIC", "Charity Commission for Northern Ireland"


class SupplierQuerySet(models.QuerySet):
    def dealt_with_by(self, council: Council) -> SupplierQuerySet:
        """Suppliers the council paid, named in its files, or contracted."""
        from spend.models import SpendLine

        return self.filter(
            Exists(SpendLine.objects.filter(council=council, supplier=OuterRef("pk")))
            | Exists(
                SupplierAlias.objects.filter(council=council, supplier=OuterRef("pk"))
            )
            | Exists(Contract.objects.filter(council=council, supplier=OuterRef("pk")))
        )

    def for_council_list(self, council: Council, fy: FinancialYear) -> SupplierQuerySet:
        """The council's suppliers with their tags (as it sees them) and its spend
        with each in the financial year `fy` (from the SupplierYear rollup), for
        the supplier list."""
        from socialvalue.models import SupplierTag
        from spend.models import SupplierYear

        def tag(kind: str):
            tags = SupplierTag.objects.filter(supplier=OuterRef("pk"), kind=kind)
            if kind == "locality":
                tags = tags.filter(council=council)
            value = tags.order_by().values("value")[:1]
            return Coalesce(Subquery(value), Value("unknown"))

        spend = SupplierYear.objects.filter(
            council=council, year=fy.start_year, supplier=OuterRef("pk")
        ).values("total")[:1]
        return self.dealt_with_by(council).annotate(
            locality=tag("locality"),
            size=tag("size"),
            vcse=tag("vcse"),
            living_wage=tag("living_wage"),
            spend_period=Coalesce(
                Subquery(spend), Value(Decimal("0")), output_field=_MONEY
            ),
        )


_MONEY = models.DecimalField(max_digits=16, decimal_places=2)


class Supplier(models.Model):
    """A payee. Shared across councils; locality is worked out per council."""

    name = models.CharField(max_length=300)
    normalised_name = models.CharField(max_length=300, db_index=True, editable=False)
    organisation_type = models.CharField(
        max_length=20,
        choices=OrganisationType.choices,
        default=OrganisationType.UNKNOWN,
    )
    company_number = models.CharField(
        max_length=10, blank=True, help_text="Companies House number, e.g. 01234567."
    )
    charity_number = models.CharField(max_length=12, blank=True)
    charity_register = models.CharField(
        max_length=6, choices=CharityRegister.choices, blank=True
    )
    vat_number = models.CharField("VAT number", max_length=14, blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    # Facts the classifier reads. None means “not known”, never “no”.
    employees = models.PositiveIntegerField(null=True, blank=True)
    turnover = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True
    )
    balance_sheet_total = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True
    )
    company_category = models.CharField(
        max_length=120,
        blank=True,
        help_text="Companies House company category, e.g. Community Interest Company.",
    )
    accounts_category = models.CharField(
        max_length=40, blank=True, help_text="Companies House, e.g. SMALL, FULL."
    )
    company_status = models.CharField(max_length=40, blank=True)
    sic_codes = models.CharField("SIC codes", max_length=200, blank=True)
    part_of_large_group = models.BooleanField(null=True, blank=True)
    living_wage_accredited = models.BooleanField(null=True, blank=True)
    verified = models.BooleanField(
        default=False, help_text="An officer has checked this supplier's details."
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
        help_text="Set when an officer merged this supplier into another.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SupplierQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""),
                name="supplier_name_set",
                violation_error_message="Enter the supplier's name.",
            ),
            models.CheckConstraint(
                condition=~Q(normalised_name=""),
                name="supplier_normalised_name_set",
                violation_error_message=(
                    "Enter a supplier name with at least one letter or number."
                ),
            ),
            models.UniqueConstraint(
                fields=["company_number"],
                condition=~Q(company_number=""),
                name="supplier_company_number_unique",
                violation_error_code="unique",
                violation_error_message=(
                    "Another supplier already has this company number. If they are "
                    "the same organisation, merge the two suppliers instead of "
                    "entering the number twice."
                ),
            ),
            models.UniqueConstraint(
                fields=["charity_register", "charity_number"],
                condition=~Q(charity_number=""),
                name="supplier_charity_number_unique",
                violation_error_message=(
                    "Another supplier already has this charity number on this "
                    "register. If they are the same organisation, merge the two "
                    "suppliers instead of entering the number twice."
                ),
            ),
            models.CheckConstraint(
                condition=Q(charity_number="") | ~Q(charity_register=""),
                name="supplier_charity_number_needs_register",
                violation_error_message=(
                    "Choose which register the charity is on, or remove the "
                    "charity number."
                ),
            ),
            models.CheckConstraint(
                condition=Q(turnover__isnull=True) | Q(turnover__gte=0),
                name="supplier_turnover_not_negative",
                violation_error_message=(
                    "Enter the turnover as £0 or more, or leave it blank if it is "
                    "not known."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.normalised_name = normalise_name(self.name)
        super().save(*args, **kwargs)

    @property
    def org_ids(self) -> list[str]:
        """Identifiers in the org-id.guide scheme, e.g. GB-COH-01234567."""
        ids = []
        if self.company_number:
            ids.append(f"GB-COH-{self.company_number}")
        if self.charity_number:
            ids.append(f"{self.charity_register}-{self.charity_number}")
        return ids


class SupplierAlias(models.Model):
    """A spelling of a supplier's name seen in one council's spend files."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="aliases"
    )
    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="supplier_aliases"
    )
    name = models.CharField(max_length=300)
    normalised_name = models.CharField(max_length=300, editable=False)
    council_supplier_id = models.CharField(
        max_length=50, blank=True, help_text="The council's own ID for this supplier."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CouncilScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "supplier aliases"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "normalised_name"], name="alias_unique_per_council"
            ),
            models.CheckConstraint(
                condition=~Q(normalised_name=""), name="alias_normalised_name_set"
            ),
        ]
        indexes = [models.Index(fields=["council", "council_supplier_id"])]

    def __str__(self) -> str:
        return f"{self.name} → {self.supplier}"

    def save(self, *args, **kwargs) -> None:
        self.normalised_name = normalise_name(self.name)
        super().save(*args, **kwargs)


# The Procurement Act 2023 (s. 52): a contract worth more than £5m needs at least
# three key performance indicators, published and rated at least once a year.
KPI_THRESHOLD = Decimal("5000000")
KPIS_REQUIRED = 3

_CPV = re.compile(r"^\d{8}-\d$")
_OCID = re.compile(r"^ocds-[a-z0-9]{6}-\S+$")


def validate_cpv_codes(value: str) -> None:
    """Codes in the CPV form 45000000-7 (eight digits, a dash, the check digit),
    separated by commas. The check digit is not recomputed: the EU publishes no
    reliable formula for it, only the code list."""
    bad = [code for code in split_codes(value) if not _CPV.match(code)]
    if bad:
        raise ValidationError(
            "Enter CPV codes as eight digits, a dash and the check digit, like "
            "45000000-7, separated by commas. Not valid: %(bad)s.",
            params={"bad": ", ".join(bad)},
            code="cpv",
        )


def split_codes(value: str) -> list[str]:
    return [code for code in re.split(r"[\s,;]+", value or "") if code]


def validate_ocid(value: str) -> None:
    if value and not _OCID.match(value):
        raise ValidationError(
            "Enter an Open Contracting ID like ocds-h6vhtk-04a1b2: “ocds-”, the "
            "six-character publisher prefix, a dash and the publisher's own ID.",
            code="ocid",
        )


class ContractStatus(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline (not yet awarded)"
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"


class ProcurementRoute(models.TextChoices):
    OPEN = "open", "Open procedure"
    COMPETITIVE_FLEXIBLE = "competitive_flexible", "Competitive flexible procedure"
    DIRECT_AWARD = "direct_award", "Direct award"
    FRAMEWORK_CALL_OFF = "framework_call_off", "Call-off from a framework"
    BELOW_THRESHOLD = "below_threshold", "Below-threshold quotation"


class AwardMethod(models.TextChoices):
    """The Transparency Code's “whether tendered or quoted”."""

    TENDERED = "tendered", "Tendered"
    QUOTED = "quoted", "Quoted"


class ContractQuerySet(CouncilScopedQuerySet):
    def in_status(self, status: str, today: date | None = None) -> ContractQuerySet:
        """Contracts whose `current_status` is `status`: an active contract whose
        end date has passed counts as ended."""
        today = today or timezone.localdate()
        passed = Q(status=ContractStatus.ACTIVE, end_date__lt=today)
        if status == ContractStatus.ENDED:
            return self.filter(Q(status=ContractStatus.ENDED) | passed)
        if status == ContractStatus.ACTIVE:
            return self.filter(status=ContractStatus.ACTIVE).exclude(passed)
        return self.filter(status=status)

    def with_spend(self) -> ContractQuerySet:
        """Annotate `spend_to_date`: the total of the spend lines linked to each
        contract (automatically or by an officer), summed in the database.

        By the contract alone, so the database reads that contract's lines through
        the `line_contract` index. A line is only ever linked to a contract of its
        own council (procure.linking, spend.importer): a condition on the council
        as well made SQLite read every line of the council for each contract."""
        from spend.models import SpendLine

        lines = SpendLine.objects.filter(contract_id=OuterRef("pk"))
        total = lines.values("contract_id").annotate(t=Sum("amount")).values("t")
        return self.annotate(
            spend_to_date=Coalesce(
                Subquery(total), Value(Decimal("0")), output_field=_MONEY
            )
        )


class Contract(models.Model):
    """A council's contract: the Transparency Code's fields, the Procurement Act
    2023's route, notices and KPIs, and what LocalSpend needs to plan ahead.

    The contract's period runs from `start_date` to `end_date` (open-ended while
    there is no end date). `extension_end_date` records how far the contract could
    run if its extension options were taken up; when one is taken up, the end date
    moves. Spend is linked, and the forward pipeline planned, by the end date.
    """

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="contracts"
    )
    reference = models.CharField(
        max_length=100, help_text="The council's own reference for the contract."
    )
    title = models.CharField(max_length=300)
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
    )
    department = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=8, choices=ContractStatus.choices, default=ContractStatus.ACTIVE
    )
    value = models.DecimalField(
        "whole-life value (£)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    annual_value = models.DecimalField(
        "annual value (£)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    irrecoverable_vat = models.DecimalField(
        "irrecoverable VAT (£)",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="VAT the council cannot reclaim, if any.",
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    review_date = models.DateField(null=True, blank=True)
    extension_end_date = models.DateField(
        "end date if extended",
        null=True,
        blank=True,
        help_text="How far the contract could run if every extension option were "
        "taken up. When an extension is taken up, change the end date.",
    )
    award_method = models.CharField(
        "tendered or quoted",
        max_length=8,
        choices=AwardMethod.choices,
        blank=True,
    )
    route = models.CharField(
        "procurement route",
        max_length=20,
        choices=ProcurementRoute.choices,
        blank=True,
    )
    notice_references = models.TextField(
        "Procurement Act notice identifiers",
        blank=True,
        help_text="Find a Tender notice identifiers, one per line, e.g. "
        "“UK4 tender notice 012345-2025”.",
    )
    ocid = models.CharField(
        "OCID",
        max_length=100,
        blank=True,
        validators=[validate_ocid],
        help_text="Open Contracting ID, e.g. ocds-h6vhtk-04a1b2.",
    )
    cpv_codes = models.CharField(
        "CPV codes",
        max_length=300,
        blank=True,
        validators=[validate_cpv_codes],
        help_text="Common Procurement Vocabulary codes like 45000000-7, separated "
        "by commas.",
    )
    social_value_weighting = models.DecimalField(
        "social value weighting (%)",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The weight social value carried in the award, 0 to 100.",
    )
    contract_manager = models.CharField(max_length=200, blank=True)

    objects = ContractQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_date", "reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "reference"],
                name="contract_reference_unique",
                violation_error_message=(
                    "This council already has a contract with this reference. "
                    "Enter a different reference, or edit that contract instead."
                ),
            ),
            # "C-101" and "c-101" are one reference to a reader.
            models.UniqueConstraint(
                Lower("reference"),
                "council",
                name="contract_reference_unique_any_case",
                violation_error_message=(
                    "This council already has a contract with this reference "
                    "(perhaps in different capitals). Enter a different reference, "
                    "or edit that contract instead."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(reference="") & ~Q(title=""),
                name="contract_reference_and_title_set",
                violation_error_message="Enter the contract reference and title.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="contract_ends_after_start",
                violation_error_message=(
                    "The end date must be on or after the start date."
                ),
            ),
            models.CheckConstraint(
                condition=Q(review_date__isnull=True)
                | Q(review_date__gte=F("start_date")),
                name="contract_review_after_start",
                violation_error_message=(
                    "The review date must be on or after the start date."
                ),
            ),
            models.CheckConstraint(
                condition=Q(extension_end_date__isnull=True)
                | Q(end_date__isnull=False, extension_end_date__gte=F("end_date")),
                name="contract_extension_after_end",
                violation_error_message=(
                    "The end date if extended needs an end "
                    "date, and must be on or after it."
                ),
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gt=0),
                name="contract_value_positive",
                violation_error_message="The whole-life value must be more than £0.",
            ),
            models.CheckConstraint(
                condition=Q(annual_value__isnull=True) | Q(annual_value__gt=0),
                name="contract_annual_value_positive",
                violation_error_message="The annual value must be more than £0.",
            ),
            models.CheckConstraint(
                condition=Q(irrecoverable_vat__isnull=True)
                | Q(irrecoverable_vat__gte=0),
                name="contract_vat_not_negative",
                violation_error_message="Irrecoverable VAT cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(social_value_weighting__isnull=True)
                | Q(social_value_weighting__gte=0, social_value_weighting__lte=100),
                name="contract_weighting_percent",
                violation_error_message=(
                    "The social value weighting must be between 0 and 100%%."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status__in=ContractStatus.values),
                name="contract_status_valid",
                violation_error_message="Choose the contract's status from the list.",
            ),
            models.CheckConstraint(
                condition=Q(route="") | Q(route__in=ProcurementRoute.values),
                name="contract_route_valid",
                violation_error_message=(
                    "Choose the procurement route from the list, or leave it blank."
                ),
            ),
            models.CheckConstraint(
                condition=Q(award_method="") | Q(award_method__in=AwardMethod.values),
                name="contract_award_method_valid",
                violation_error_message=(
                    "Choose whether the contract was tendered or quoted, or leave "
                    "it blank."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["council", "end_date"], name="contract_council_end"),
            models.Index(
                fields=["council", "supplier"], name="contract_council_supplier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("procure:contract-detail", args=[self.council.slug, self.pk])

    @property
    def current_status(self) -> str:
        """The status as of today: an active contract whose end date has passed
        has ended, whether or not anyone has recorded it."""
        if (
            self.status == ContractStatus.ACTIVE
            and self.end_date is not None
            and self.end_date < timezone.localdate()
        ):
            return ContractStatus.ENDED
        return self.status

    @property
    def ended_by_date(self) -> bool:
        """Ended because its end date passed, while still recorded as active."""
        return self.current_status != self.status

    def get_current_status_display(self) -> str:
        return ContractStatus(self.current_status).label

    @property
    def cpv_list(self) -> list[str]:
        return split_codes(self.cpv_codes)

    @property
    def notice_list(self) -> list[str]:
        return [line.strip() for line in self.notice_references.splitlines() if line]

    @property
    def needs_kpis(self) -> bool:
        """Worth more than £5m, so the Procurement Act asks for three KPIs."""
        return self.value is not None and self.value > KPI_THRESHOLD

    def covers(self, day: date) -> bool:
        """Whether `day` falls in the contract's period (both ends included)."""
        return self.start_date <= day and (
            self.end_date is None or day <= self.end_date
        )


class ContractKPI(models.Model):
    """A key performance indicator of a contract (Procurement Act 2023, s. 52)."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="kpis"
    )
    name = models.CharField(max_length=200)
    target = models.TextField(
        "target or description",
        help_text="What good looks like, and how it is measured.",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "contract KPI"
        ordering = ["contract", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "name"], name="kpi_name_unique_per_contract"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="kpi_name_set"),
        ]

    def __str__(self) -> str:
        return self.name


class KPIRatingValue(models.TextChoices):
    """The four ratings of the Procurement Regulations 2024 (contract performance
    notices)."""

    GOOD = "good", "Good"
    APPROACHING = "approaching", "Approaching target"
    REQUIRES_IMPROVEMENT = "requires_improvement", "Requires improvement"
    INADEQUATE = "inadequate", "Inadequate"


class KPIRating(models.Model):
    """How a supplier performed against one KPI over a period."""

    kpi = models.ForeignKey(
        ContractKPI, on_delete=models.CASCADE, related_name="ratings"
    )
    period_end = models.DateField(help_text="The last day of the period rated.")
    rating = models.CharField(max_length=20, choices=KPIRatingValue.choices)
    note = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "KPI rating"
        ordering = ["kpi", "-period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "period_end"], name="kpi_rating_once_per_period"
            ),
            models.CheckConstraint(
                condition=Q(rating__in=KPIRatingValue.values),
                name="kpi_rating_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi}: {self.get_rating_display()} to {self.period_end}"


class MatchSuggestion(models.Model):
    """A new supplier whose name is close to one already in the register.

    Made on import for an officer to confirm or dismiss; never merged silently.
    """

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="match_suggestions"
    )
    candidate = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(help_text="Name similarity, 0 to 100.")
    created_at = models.DateTimeField(auto_now_add=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-score"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "candidate"], name="suggestion_once_per_pair"
            ),
            models.CheckConstraint(
                condition=~Q(supplier=F("candidate")), name="suggestion_not_itself"
            ),
            models.CheckConstraint(
                condition=Q(score__lte=100), name="suggestion_score_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} ≈ {self.candidate} ({self.score})"


class SupplierMerge(models.Model):
    """Two suppliers found to be one organisation: what moved, so it can be undone."""

    kept = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+")
    # The council whose officer merged (and whose officers alone may undo it).
    # None: merged for every council by a LocalSpend administrator, or made
    # before merges recorded their council.
    council = models.ForeignKey(
        Council,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The council whose officer made the merge; none if made for "
        "every council.",
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    merged_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)
    moved_lines = models.JSONField(default=list)
    moved_aliases = models.JSONField(default=list)
    moved_contracts = models.JSONField(default=list)
    moved_overrides = models.JSONField(default=list)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-merged_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kept=F("merged")), name="merge_two_suppliers"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merged} merged into {self.kept}"


class ContractLinkChangeQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Each change's `contract_reference` and `council` filled from its
        contract where the writer left them empty (spend imports and rollbacks
        write them too), in one query."""
        objs = list(objs)
        missing = {
            o.contract_id
            for o in objs
            if o.contract_id and not (o.contract_reference and o.council_id)
        }
        if missing:
            held = {
                pk: (reference, council)
                for pk, reference, council in Contract.objects.filter(
                    pk__in=missing
                ).values_list("pk", "reference", "council")
            }
            for change in objs:
                reference, council = held.get(change.contract_id, ("", None))
                if change.contract_id and not change.contract_reference:
                    change.contract_reference = reference
                if change.contract_id and not change.council_id:
                    change.council_id = council
        return super().bulk_create(objs, *args, **kwargs)


class ContractLinkChange(models.Model):
    """Payments the linking rule moved onto or off a contract in one go (a
    register import, a merge, another contract saved): one row for each contract
    that gained or lost payments, never one per payment, so the contract's page
    tells where its spend went. Written by `procure.linking.record_moves`.

    Kept when the contract is deleted (audit: deleting it erased the record of
    its payments), `contract` emptied and `contract_reference` still naming it;
    its deletion writes one more, of the payments it held and where they went
    (`procure.linking.contract_deleted`)."""

    contract = models.ForeignKey(
        Contract,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="link_changes",
    )
    contract_reference = models.CharField(
        max_length=100,
        blank=True,
        help_text="The contract's reference when this was recorded: still there "
        "once the contract is deleted.",
    )
    # References are unique within a council only: with the contract gone, the
    # council says whose "C-5" it was (review).
    council = models.ForeignKey(
        Council,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The contract's council.",
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    lines_gained = models.PositiveIntegerField(default=0)
    amount_gained = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    lines_lost = models.PositiveIntegerField(default=0)
    amount_lost = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    what = models.TextField(help_text="What moved, where to or from, and why.")

    objects = ContractLinkChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        indexes = [
            models.Index(
                fields=["contract", "-recorded_at"], name="link_change_contract"
            )
        ]

    def __str__(self) -> str:
        return self.what

    def save(self, *args, **kwargs):
        if self.contract_id and not self.contract_reference:
            self.contract_reference = self.contract.reference
        if self.contract_id and not self.council_id:
            self.council_id = self.contract.council_id
        super().save(*args, **kwargs)


class HandLink(models.Model):
    """The officer's decision that holds a payment linked by hand to a contract,
    or taken off one (`linked` False): who, when, and which contract. One per
    payment, the latest; it stands while the payment is still so (the payment's
    `contract_link_manual`, with that contract, or none when taken off).

    The payment's key is not checked by the database (as SpendLine's own are
    not) and a deleted payment leaves its row behind, so that rolling back a
    spend file still deletes its lines in one statement; rows are only ever
    read through their payment.

    Its history keeps every decision, those another officer's replaced and
    those handed back too (audit: "who took payment #X off?" was lost), written
    in bulk by `procure.linking`. A deleted contract's are deleted with it, by
    `procure.linking.contract_deleting`, each recorded in the history with who
    and why: the payments go back to the linking rule, so the decisions no
    longer stand (the database still refuses a contract deleted with some left)."""

    line = models.OneToOneField(
        "spend.SpendLine",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="hand_link",
    )
    contract = models.ForeignKey(
        # Deleted by procure.linking.contract_deleting, in bulk with their history.
        Contract,
        on_delete=models.DO_NOTHING,
        related_name="hand_links",
    )
    linked = models.BooleanField(help_text="Linked to the contract, or taken off it.")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    def __str__(self) -> str:
        verb = "linked to" if self.linked else "taken off"
        return f"Payment #{self.line_id} {verb} {self.contract_id} by hand"


class RegisterImport(models.Model):
    """A contract register file imported into a council's register: the contracts
    it added and those it updated, each with its details as the import left them
    (and, updated, as they were before), so that the import can be undone while
    nothing has changed them since (`procure.register_import.undo`)."""

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="register_imports"
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, blank=True, help_text="The file's.")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    imported_at = models.DateTimeField(default=timezone.now)
    # [{"id": contract pk, "after": details}] and [{"id", "before", "after"}]:
    # details as `register_import.snapshot` writes them.
    created = models.JSONField(default=list)
    updated = models.JSONField(default=list)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    # Who imported and who undid, when: not the snapshots again on every save.
    history = HistoricalRecords(excluded_fields=["created", "updated"])

    class Meta:
        ordering = ["-imported_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.file_name} imported into {self.council}"
