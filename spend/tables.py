import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from councils.templatetags.money import gbp
from spend.models import SpendLine, SpendUpload


class MoneyColumn(tables.Column):
    attrs = {
        "th": {"class": "govuk-table__header--numeric"},
        "td": {"class": "govuk-table__cell--numeric"},
    }

    def render(self, value):
        return gbp(value)


class UploadTable(tables.Table):
    def __init__(self, *args, council, **kwargs):
        self.council = council
        super().__init__(*args, **kwargs)

    def render_file_name(self, value, record):
        url = reverse("spend:upload-detail", args=[self.council.slug, record.pk])
        return format_html('<a class="govuk-link" href="{}">{}</a>', url, value)

    file_name = tables.Column(verbose_name="File")
    uploaded_at = tables.DateTimeColumn(format="j M Y H:i", verbose_name="Uploaded")
    uploaded_by = tables.Column(verbose_name="By", default="—")
    status = tables.Column()
    rows_read = tables.Column(verbose_name="Rows read")
    rows_imported = tables.Column(verbose_name="Imported")
    rows_rejected = tables.Column(verbose_name="Rejected")
    amount_imported = MoneyColumn(verbose_name="Amount imported")

    class Meta:
        model = SpendUpload
        fields = ()
        sequence = (
            "file_name",
            "uploaded_at",
            "uploaded_by",
            "status",
            "rows_read",
            "rows_imported",
            "rows_rejected",
            "amount_imported",
        )
        empty_text = "No files have been uploaded yet."

    def render_status(self, value, record):
        colour = {
            "imported": "green",
            "failed": "red",
            "rolled_back": "grey",
        }.get(record.status, "blue")
        return format_html(
            '<strong class="govuk-tag govuk-tag--{}">{}</strong>', colour, value
        )


class SpendLineTable(tables.Table):
    """Expects lines annotated with `directorate` (see spend.filters)."""

    def __init__(self, *args, council, **kwargs):
        self.council = council
        super().__init__(*args, **kwargs)

    payment_date = tables.DateColumn(format="j M Y", verbose_name="Date")
    supplier_name = tables.Column(verbose_name="Supplier (as published)")
    directorate = tables.Column(
        verbose_name="Directorate", empty_values=(None, ""), default="—"
    )
    expense_type = tables.Column(verbose_name="Expense type")
    amount = MoneyColumn()

    class Meta:
        model = SpendLine
        fields = ()
        sequence = (
            "payment_date",
            "supplier_name",
            "directorate",
            "expense_type",
            "amount",
        )
        empty_text = "No spend lines match."

    def render_supplier_name(self, value, record):
        if record.redacted:
            return format_html(
                '{} <strong class="govuk-tag govuk-tag--grey">Redacted</strong>', value
            )
        if record.supplier_id:
            url = reverse(
                "procure:supplier-detail", args=[self.council.slug, record.supplier_id]
            )
            return format_html('<a class="govuk-link" href="{}">{}</a>', url, value)
        return value
