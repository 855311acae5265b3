import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from procure.models import Contract, OrganisationType
from spend.tables import MoneyColumn


class SupplierSpendTable(tables.Table):
    """Suppliers a council paid, with the council's spend with each."""

    name = tables.Column(accessor="supplier__name", verbose_name="Supplier")
    organisation_type = tables.Column(
        accessor="supplier__organisation_type", verbose_name="Type"
    )
    postcode = tables.Column(accessor="supplier__postcode", default="—")
    lines = tables.Column(
        verbose_name="Payments", attrs={"td": {"class": "govuk-table__cell--numeric"}}
    )
    total = MoneyColumn(verbose_name="Spend")

    def __init__(self, *args, council, **kwargs):
        self.council = council
        super().__init__(*args, **kwargs)

    def render_name(self, value, record):
        url = reverse(
            "procure:supplier-detail", args=[self.council.slug, record["supplier"]]
        )
        return format_html('<a class="govuk-link" href="{}">{}</a>', url, value)

    def render_organisation_type(self, value):
        return OrganisationType(value).label

    class Meta:
        empty_text = "No suppliers yet: they appear when spend is imported."


class ContractTable(tables.Table):
    reference = tables.Column()
    title = tables.Column()
    supplier = tables.Column(default="—")
    start_date = tables.DateColumn(format="j M Y", verbose_name="Start")
    end_date = tables.DateColumn(format="j M Y", verbose_name="End", default="—")
    value = MoneyColumn(verbose_name="Value")

    class Meta:
        model = Contract
        fields = ()
        sequence = ("reference", "title", "supplier", "start_date", "end_date", "value")
        empty_text = "No contracts recorded yet."

    def render_reference(self, value, record):
        return format_html(
            '<a class="govuk-link" href="{}">{}</a>', record.get_absolute_url(), value
        )
