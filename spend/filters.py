import django_filters
from django import forms

from spend.models import SpendLine

_DATE = forms.DateInput(attrs={"type": "date"})


class SpendLineFilter(django_filters.FilterSet):
    supplier = django_filters.CharFilter(
        field_name="supplier_name",
        lookup_expr="icontains",
        label="Supplier name contains",
    )
    date_from = django_filters.DateFilter(
        field_name="payment_date",
        lookup_expr="gte",
        label="Paid on or after",
        widget=_DATE,
    )
    date_to = django_filters.DateFilter(
        field_name="payment_date",
        lookup_expr="lte",
        label="Paid on or before",
        widget=_DATE,
    )
    department = django_filters.CharFilter(
        lookup_expr="icontains", label="Department contains"
    )
    redacted = django_filters.ChoiceFilter(
        choices=[("true", "Redacted payees only"), ("false", "Named suppliers only")],
        empty_label="All payees",
        label="Payee",
        method="filter_redacted",
    )

    upload = django_filters.NumberFilter(
        field_name="upload", widget=forms.HiddenInput, label="From upload"
    )

    class Meta:
        model = SpendLine
        fields = [
            "supplier",
            "date_from",
            "date_to",
            "department",
            "redacted",
            "upload",
        ]

    def filter_redacted(self, queryset, name, value):
        return queryset.filter(redacted=value == "true")
