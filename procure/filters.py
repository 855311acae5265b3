import django_filters
from django.db.models import Q

from procure.models import Supplier
from socialvalue.models import SME_VALUES, TAG_VALUES, TagKind


def _choices(kind: str) -> list[tuple[str, str]]:
    return list(TAG_VALUES[kind].items())


class SupplierFilter(django_filters.FilterSet):
    """Filters over `Supplier.objects.for_council_list(...)` and its annotations."""

    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", label="Name contains"
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
        choices=[("yes", "Some tag unknown")],
        empty_label="Any",
        label="Unknowns",
        method="filter_unknown",
    )

    class Meta:
        model = Supplier
        fields = ["q", "locality", "size", "vcse", "living_wage", "unknown"]

    def filter_size(self, queryset, name, value):
        if value == "sme":
            return queryset.filter(size__in=SME_VALUES)
        return queryset.filter(size=value)

    def filter_unknown(self, queryset, name, value):
        return queryset.filter(
            Q(locality="unknown") | Q(size="unknown") | Q(vcse="unknown")
        )
