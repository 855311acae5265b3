from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.dateformat import format as format_date

from councils.models import Council
from councils.templatetags.money import gbp
from procure.models import (
    Contract,
    ContractStatus,
    ProcurementRoute,
    Supplier,
    SupplierAlias,
)
from socialvalue.models import (
    SME_VALUES,
    TAG_VALUES,
    Commitment,
    Measure,
    TagKind,
    living_wage_choices,
)
from spend.filters import MONEY_BOUNDS, RangeFilterForm
from spend.values import normalise_name


def _choices(kind: str) -> list[tuple[str, str]]:
    return list(TAG_VALUES[kind].items())


class SupplierFilter(django_filters.FilterSet):
    """Filters over `Supplier.objects.for_council_list(...)` and its annotations."""

    q = django_filters.CharFilter(
        method="filter_search",
        label="Name contains",
        help_text="Also finds the names your council's spend files give it. "
        "Capitals, accents and “&” or “and” make no difference.",
    )
    locality = django_filters.ChoiceFilter(
        choices=_choices(TagKind.LOCALITY), empty_label="Any", label="Location"
    )
    size = django_filters.ChoiceFilter(
        choices=[("sme", "Any SME (micro, small or medium)"), *_choices(TagKind.SIZE)],
        empty_label="Any",
        label="Size",
        method="filter_size",
    )
    vcse = django_filters.ChoiceFilter(
        choices=_choices(TagKind.VCSE), empty_label="Any", label="VCSE"
    )
    living_wage = django_filters.ChoiceFilter(
        choices=_choices(TagKind.LIVING_WAGE), empty_label="Any", label="Living Wage"
    )
    unknown = django_filters.ChoiceFilter(
        # Living Wage is left out, as on the Review page: the accredited list
        # names only who is accredited, so most suppliers' is unknown.
        choices=[("yes", "Location, size or VCSE unknown")],
        empty_label="Any",
        label="Unknowns",
        method="filter_unknown",
    )
    # Worded as the spend line list's `verified` filter (spend.filters).
    verified = django_filters.ChoiceFilter(
        choices=[
            ("true", "Checked in the supplier register"),
            ("false", "Not yet checked in the register"),
        ],
        empty_label="All suppliers",
        label="Checked in the register",
        method="filter_verified",
    )

    class Meta:
        model = Supplier
        fields = ["q", "locality", "size", "vcse", "living_wage", "unknown", "verified"]

    def __init__(self, *args, council: Council | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.council = council
        self.filters["living_wage"].extra["choices"] = living_wage_choices()

    def filter_search(self, queryset, name, value):
        """The register name, or a spelling of it in this council's spend files
        (a merged supplier's name finds the supplier it was merged into).

        Matched as the names are matched elsewhere (`normalise_name`, as the
        contract form's supplier box folds them): "cafe creme" finds "Café Crème
        Ltd" and "smith and jones" finds "Smith & Jones Ltd" (QA). The folded
        name is stored, so no database's own lower() (SQLite's is ASCII-only)
        is relied on."""
        named = Q(name__icontains=value) | _normalised_contains(value)
        spellings = SupplierAlias.objects.filter(named, supplier=OuterRef("pk"))
        if self.council is not None:
            spellings = spellings.filter(council=self.council)
        return queryset.filter(named | Exists(spellings))

    def filter_size(self, queryset, name, value):
        if value == "sme":
            return queryset.filter(size__in=SME_VALUES)
        return queryset.filter(size=value)

    def filter_unknown(self, queryset, name, value):
        return queryset.filter(
            Q(locality="unknown") | Q(size="unknown") | Q(vcse="unknown")
        )

    def filter_verified(self, queryset, name, value):
        return queryset.filter(verified=value == "true")


def _normalised_contains(value: str) -> Q:
    """Names whose `normalised_name` holds the search's, normalised the same way.

    A typed "company" is normalised to "co" when it ends the name or only legal
    forms follow it ("Company Ltd" is "co ltd"), so such a search asks for whole
    words ("Smith Company" finds "Smith Co", but "company" and "company ltd" do
    not find "Tesco" or "Tesco Ltd"; review: "company ltd" did)."""
    key = normalise_name(value)
    if not key:
        return Q(pk__in=[])
    shortened = _company_shortened(value, key)
    # A legal form at the end is left out, as the contract form's box leaves it
    # out: "Ashcroft Joinery Ltd" finds "Ashcroft Joinery LLP" (QA).
    words = key.split()
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    # Not down to a letter or two, or "co", found inside every other name
    # (review: "A Ltd" matched most of the register).
    if len(" ".join(words)) >= 3 and words[-1] != "co":
        key = " ".join(words)
    if shortened:
        return (
            Q(normalised_name=key)
            | Q(normalised_name__startswith=f"{key} ")
            | Q(normalised_name__contains=f" {key} ")
            | Q(normalised_name__endswith=f" {key}")
        )
    return Q(normalised_name__contains=key)


# Legal forms as normalise_name leaves them ("Limited" is "ltd").
LEGAL_FORMS = {"ltd", "llp", "plc", "cic", "inc", "lp", "cio"}


def _company_shortened(value: str, key: str) -> bool:
    """Whether `key` (`value` normalised) has a "co" made from a typed "company".
    A word after the name keeps "company" as it is (it no longer ends the name),
    so the two normalisations differ exactly when one was shortened."""
    unshortened = normalise_name(f"{value} x").split()[:-1]
    return unshortened != key.split()


_DATE = forms.DateInput(attrs={"type": "date"})


class ContractFilterForm(RangeFilterForm):
    RANGES = (
        (
            "ending_after",
            "ending_before",
            "The “ending on or before” date must be on or after the “ending on or "
            "after” date.",
        ),
        (
            "value_min",
            "value_max",
            "The “whole-life value up to” must be at least the “whole-life value "
            "from”.",
        ),
    )


class ContractFilter(django_filters.FilterSet):
    """Filters over a council's contracts (pass `council` for the choices)."""

    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        help_text="Reference, title, description, supplier or CPV code.",
    )
    status = django_filters.ChoiceFilter(
        choices=ContractStatus.choices,
        empty_label="Any",
        label="Status",
        help_text="A contract whose end date has passed counts as ended.",
        method="filter_status",
    )
    route = django_filters.ChoiceFilter(
        choices=ProcurementRoute.choices, empty_label="Any", label="Procurement route"
    )
    department = django_filters.ChoiceFilter(empty_label="Any", label="Department")
    supplier = django_filters.ModelChoiceFilter(
        queryset=Supplier.objects.none(), empty_label="Any", label="Supplier"
    )
    ending_after = django_filters.DateFilter(
        field_name="end_date",
        lookup_expr="gte",
        label="Ending on or after",
        widget=_DATE,
    )
    ending_before = django_filters.DateFilter(
        field_name="end_date",
        lookup_expr="lte",
        label="Ending on or before",
        widget=_DATE,
    )
    value_min = django_filters.NumberFilter(
        field_name="value",
        lookup_expr="gte",
        label="Whole-life value from (£)",
        **MONEY_BOUNDS,
    )
    value_max = django_filters.NumberFilter(
        field_name="value",
        lookup_expr="lte",
        label="Whole-life value up to (£)",
        **MONEY_BOUNDS,
    )
    # What the social value totals link to (QA: no figure there led anywhere).
    social_value = django_filters.ChoiceFilter(
        choices=[("yes", "With commitments"), ("no", "With none")],
        empty_label="Any",
        label="Social value commitments",
        method="filter_social_value",
    )
    measure = django_filters.ModelChoiceFilter(
        queryset=Measure.objects.none(),
        empty_label="Any",
        label="Committed to the measure",
        method="filter_measure",
    )

    class Meta:
        model = Contract
        fields = []
        form = ContractFilterForm

    def filter_social_value(self, queryset, name, value):
        held = Exists(Commitment.objects.filter(contract=OuterRef("pk")))
        return queryset.filter(held if value == "yes" else ~held)

    def filter_measure(self, queryset, name, value):
        return queryset.filter(
            Exists(Commitment.objects.filter(contract=OuterRef("pk"), measure=value))
        )

    def filter_status(self, queryset, name, value):
        return queryset.in_status(value)

    def __init__(self, *args, council: Council, **kwargs):
        super().__init__(*args, **kwargs)
        contracts = Contract.objects.for_council(council)
        departments = (
            contracts.exclude(department="")
            .values_list("department", flat=True)
            .distinct()
            .order_by("department")
        )
        self.filters["department"].extra["choices"] = [(d, d) for d in departments]
        self.filters["supplier"].queryset = Supplier.objects.filter(
            pk__in=contracts.values("supplier_id")
        ).order_by("name")
        self.filters["measure"].queryset = Measure.objects.filter(
            pk__in=Commitment.objects.filter(contract__council=council).values(
                "measure_id"
            )
        ).order_by("code")

    def describe(self) -> list[str]:
        """The filters in force, as phrases for a download's preamble:
        ["status ended", "department Place", "ending from 1 April 2025 to 31
        March 2026"]. Fields that are not valid (they do not filter) are left out."""
        if not self.is_bound:
            return []
        self.form.is_valid()
        data = self.form.cleaned_data
        phrases = []
        if data.get("q"):
            phrases.append(f"search “{data['q']}”")
        if data.get("status"):
            label = ContractStatus(data["status"]).label
            phrases.append(f"status {label[0].lower()}{label[1:]}")
        if data.get("route"):
            label = ProcurementRoute(data["route"]).label
            phrases.append(f"procurement route {label[0].lower()}{label[1:]}")
        if data.get("department"):
            phrases.append(f"department {data['department']}")
        if data.get("supplier"):
            phrases.append(f"supplier {data['supplier'].name}")
        if data.get("social_value"):
            phrases.append(
                "with social value commitments"
                if data["social_value"] == "yes"
                else "with no social value commitments"
            )
        if data.get("measure"):
            phrases.append(f"committed to {data['measure'].code}")
        phrases += _range(
            data.get("ending_after"),
            data.get("ending_before"),
            lambda day: format_date(day, "j F Y"),
            "ending from {low} to {high}",
            "ending on or after {low}",
            "ending on or before {high}",
        )
        phrases += _range(
            data.get("value_min"),
            data.get("value_max"),
            gbp,
            "whole-life value from {low} to {high}",
            "whole-life value of {low} or more",
            "whole-life value of {high} or less",
        )
        return phrases

    def filter_search(self, queryset, name, value):
        words = value.split()
        for word in words:
            queryset = queryset.filter(
                Q(reference__icontains=word)
                | Q(title__icontains=word)
                | Q(description__icontains=word)
                | Q(supplier__name__icontains=word)
                | Q(cpv_codes__icontains=word)
            )
        return queryset


def _range(low, high, shown, both: str, low_only: str, high_only: str) -> list[str]:
    """A range filter in words, each phrase a format with {low} and {high}."""
    if low is not None and high is not None:
        return [both.format(low=shown(low), high=shown(high))]
    if low is not None:
        return [low_only.format(low=shown(low))]
    if high is not None:
        return [high_only.format(high=shown(high))]
    return []
