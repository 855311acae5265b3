"""The supplier register (shared by all councils) and each council's contracts."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from simple_history.models import HistoricalRecords

from councils.models import Council, CouncilScopedQuerySet
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

    def for_council_list(self, council: Council, start, end) -> SupplierQuerySet:
        """The council's suppliers with their tags (as it sees them) and its spend
        with each between `start` and `end`, for the supplier list."""
        from socialvalue.models import SupplierTag
        from spend.models import SpendLine

        def tag(kind: str):
            tags = SupplierTag.objects.filter(supplier=OuterRef("pk"), kind=kind)
            if kind == "locality":
                tags = tags.filter(council=council)
            return Coalesce(Subquery(tags.values("value")[:1]), Value("unknown"))

        def spend(**period):
            lines = SpendLine.objects.filter(
                council=council, supplier=OuterRef("pk"), **period
            )
            total = lines.values("supplier").annotate(t=Sum("amount")).values("t")
            return Coalesce(Subquery(total), Value(Decimal("0")), output_field=_MONEY)

        return self.dealt_with_by(council).annotate(
            locality=tag("locality"),
            size=tag("size"),
            vcse=tag("vcse"),
            living_wage=tag("living_wage"),
            spend_period=spend(payment_date__gte=start, payment_date__lte=end),
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
            models.CheckConstraint(condition=~Q(name=""), name="supplier_name_set"),
            models.CheckConstraint(
                condition=~Q(normalised_name=""), name="supplier_normalised_name_set"
            ),
            models.UniqueConstraint(
                fields=["company_number"],
                condition=~Q(company_number=""),
                name="supplier_company_number_unique",
            ),
            models.UniqueConstraint(
                fields=["charity_register", "charity_number"],
                condition=~Q(charity_number=""),
                name="supplier_charity_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(charity_number="") | ~Q(charity_register=""),
                name="supplier_charity_number_needs_register",
            ),
            models.CheckConstraint(
                condition=Q(turnover__isnull=True) | Q(turnover__gte=0),
                name="supplier_turnover_not_negative",
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


class Contract(models.Model):
    """A council's contract (first version; the contracts issue extends it)."""

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="contracts"
    )
    reference = models.CharField(max_length=100)
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
    value = models.DecimalField(
        "whole-life value (£)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    objects = CouncilScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_date", "reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "reference"], name="contract_reference_unique"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="contract_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gt=0),
                name="contract_value_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("procure:contract-detail", args=[self.council.slug, self.pk])


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
