import django_filters

from spend.models import SpendLine


class SpendLineFilter(django_filters.FilterSet):
    supplier = django_filters.CharFilter(
        field_name="supplier_name",
        lookup_expr="icontains",
        label="Supplier name contains",
    )
    date_from = django_filters.DateFilter(
        field_name="payment_date", lookup_expr="gte", label="Paid on or after"
    )
    date_to = django_filters.DateFilter(
        field_name="payment_date", lookup_expr="lte", label="Paid on or before"
    )
    department = django_filters.CharFilter(
        lookup_expr="icontains", label="Department contains"
    )
    redacted = django_filters.BooleanFilter(label="Redacted payee")

    class Meta:
        model = SpendLine
        fields = ["supplier", "date_from", "date_to", "department", "redacted"]
