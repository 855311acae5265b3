import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from procure.models import Contract, Supplier
from socialvalue.models import TAG_VALUES
from spend.tables import MoneyColumn


class SupplierTable(tables.Table):
    """A council's suppliers, their tags as it sees them, and its spend in a period."""

    name = tables.Column(verbose_name="Supplier")
    locality = tables.Column(verbose_name="Location")
    size = tables.Column(verbose_name="Size")
    vcse = tables.Column(verbose_name="VCSE")
    living_wage = tables.Column(verbose_name="Living Wage")
    spend_period = MoneyColumn(verbose_name="Spend")

    class Meta:
        model = Supplier
        fields = ()
        sequence = ("name", "locality", "size", "vcse", "living_wage", "spend_period")
        empty_text = "No suppliers match: they appear when spend is imported."

    def __init__(self, *args, council, period_label: str, **kwargs):
        self.council = council
        super().__init__(*args, **kwargs)
        self.columns["spend_period"].column.verbose_name = f"Spend {period_label}"

    def render_name(self, value, record):
        url = reverse("procure:supplier-detail", args=[self.council.slug, record.pk])
        return format_html('<a class="govuk-link" href="{}">{}</a>', url, value)

    def _tag(self, kind: str, value: str):
        colour = "grey" if value == "unknown" else "blue"
        label = TAG_VALUES[kind].get(value, value)
        return format_html(
            '<strong class="govuk-tag govuk-tag--{}">{}</strong>', colour, label
        )

    def render_locality(self, value):
        return self._tag("locality", value)

    def render_size(self, value):
        return self._tag("size", value)

    def render_vcse(self, value):
        return self._tag("vcse", value)

    def render_living_wage(self, value):
        return self._tag("living_wage", value)


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
