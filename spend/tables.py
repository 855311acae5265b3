import django_tables2 as tables
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime

from councils.access import People
from councils.templatetags.money import gbp
from spend.importer import VAT_BASIS_WARNING, Corrections
from spend.models import SpendLine, SpendUpload, UploadStatus


class MoneyColumn(tables.Column):
    attrs = {
        "th": {"class": "govuk-table__header--numeric"},
        "td": {"class": "govuk-table__cell--numeric"},
    }

    def render(self, value):
        return gbp(value)


class UploadTable(tables.Table):
    """Five columns, to fit the page: who uploaded a file goes under when, and
    where its rows went in one cell."""

    item_names = "uploads"  # counted under the table: "(40 uploads)"
    # On a phone each upload is a card, each value under its heading (QA: only
    # the file and when it came were in sight, the status off to the right).
    cards = True

    def __init__(self, *args, council, **kwargs):
        self.council = council
        self.people = People(council)
        self._corrections = None
        super().__init__(*args, **kwargs)

    @property
    def corrections(self) -> Corrections:
        """The council's corrections of rejected rows: read once (one query)
        for the page, not a query an upload."""
        if self._corrections is None:
            self._corrections = Corrections(self.council.pk)
        return self._corrections

    file_name = tables.Column(
        verbose_name="File", attrs={"td": {"class": "ls-file-name"}}
    )
    uploaded_at = tables.Column(
        verbose_name="Uploaded", attrs={"td": {"class": "ls-nowrap"}}
    )
    status = tables.Column()
    rows_read = tables.Column(verbose_name="Rows", attrs={"td": {"class": "ls-nowrap"}})
    amount_imported = MoneyColumn(verbose_name="Amount imported")

    class Meta:
        model = SpendUpload
        fields = ()
        sequence = (
            "file_name",
            "uploaded_at",
            "status",
            "rows_read",
            "amount_imported",
        )
        # The order the rows come in, so the column says so (aria-sort), not
        # "none" (QA).
        order_by = ("-uploaded_at",)
        empty_text = "No files have been uploaded yet."

    def order_file_name(self, queryset, is_descending):
        """By name, whatever its capitals ("BUDGET" among the Bs, not before
        "aug"); SQLite folds only ASCII letters, PostgreSQL every letter."""
        key = Lower("file_name")
        return queryset.order_by(key.desc() if is_descending else key.asc()), True

    def render_file_name(self, value, record):
        url = reverse("spend:upload-detail", args=[self.council.slug, record.pk])
        link = format_html('<a class="govuk-link" href="{}">{}</a>', url, value)
        if record.period_start is not None and record.period_end is not None:
            # The period given, under the name (QA: the list did not say which
            # months a file covers).
            start, end = record.period_start, record.period_end
            period = date_format(start, "j M Y")
            if end != start:
                period += " to " + date_format(end, "j M Y")
            link = format_html(
                '{}<br><span class="govuk-body-s ls-muted">Period {}</span>',
                link,
                period,
            )
        if record.corrects_id is None:
            return link
        # A correction of rejected rows names the file they came from first
        # (QA: the corrections were listed as files of their own).
        chain = self.corrections.chain(record)
        if not chain:
            return link
        pk, name = chain[0]
        url = reverse("spend:upload-detail", args=[self.council.slug, pk])
        return format_html(
            '{}<br><span class="govuk-body-s ls-muted">Corrects rows of '
            '<a class="govuk-link" href="{}">{}</a> (upload #{})</span>',
            link,
            url,
            name,
            pk,
        )

    def render_uploaded_at(self, value, record):
        return format_html(
            '{}<br><span class="ls-muted">by {}</span>',
            date_format(localtime(value), "j M Y H:i"),
            self.people.uploader(record),
        )

    def render_status(self, value, record):
        tag = format_html(
            '<strong class="govuk-tag govuk-tag--{}">{}</strong>',
            record.status_colour,
            record.status_label,
        )
        # An import that warned (payments perhaps counted twice, another body's
        # file, ...) is not an ordinary "Imported" in the list (QA).
        # The VAT basis contradicted by a heading is one too, though the result
        # page gives it a warning of its own (QA: the list said nothing of it).
        count = (
            len(record.warnings)
            + any(note.startswith(VAT_BASIS_WARNING) for note in record.notes)
            if record.status == UploadStatus.IMPORTED
            else 0
        )
        if count:
            tag = format_html(
                '{}<br><span class="govuk-body-s ls-upload-warned">{} warning{} to '
                "check</span>",
                tag,
                count,
                "" if count == 1 else "s",
            )
        # How many of its rejected rows corrections have imported since, at any
        # depth (QA: a month put right in two rounds still read "4 rejected",
        # as if nothing had been done). Here, not under Rows: this wraps.
        corrected = self.corrections.corrected(record)
        if corrected is None:
            return tag
        return format_html(
            '{}<br><span class="govuk-body-s" data-ls-corrected>{} rejected: {}</span>',
            tag,
            f"{corrected.rejected:,}",
            corrected.words,
        )

    def render_rows_read(self, value, record):
        """Rows read, then where they went: imported, and any rejected, already
        held or skipped."""
        if not _reconciled(record):
            return "—"
        counts = [(value, "read"), (record.rows_imported, "imported")]
        counts += [
            (count, what)
            for count, what in (
                (record.rows_rejected, "rejected"),
                (record.rows_duplicate, "already held"),
                (record.rows_skipped, "skipped"),
            )
            if count
        ]
        return format_html_join(
            mark_safe("<br>"), "{} {}", ((f"{n:,}", what) for n, what in counts)
        )

    def render_amount_imported(self, value, record):
        if record.status == UploadStatus.ROLLED_BACK:
            return format_html('<span class="ls-muted">{} removed</span>', gbp(value))
        return gbp(value) if _reconciled(record) else "—"


def _reconciled(upload: SpendUpload) -> bool:
    """Imported (or imported, then rolled back): its counts mean something."""
    return upload.status in (UploadStatus.IMPORTED, UploadStatus.ROLLED_BACK)


class SpendLineTable(tables.Table):
    """Expects lines annotated with `directorate` (see spend.filters)."""

    item_names = "payments"  # counted under the table: "(40 payments)"
    # On a phone each payment is a card, its amount in sight (QA: the Amount
    # column was off the screen of a 390px phone, the dashboard's drill-down).
    cards = True

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
        # Newest first, as the rows come: the Date column says so (aria-sort),
        # not "none" (QA, with a screen reader).
        order_by = ("-payment_date",)
        empty_text = "No spend lines match."

    # How each column's order is said in the caption: (ascending, descending).
    ORDER_WORDS = {
        "payment_date": ("oldest first", "newest first"),
        "amount": ("smallest first", "largest first"),
    }

    @property
    def caption(self) -> str:
        """ "Payments by date, newest first": what the table holds and in what
        order, for a screen reader's list of tables (QA: it had no caption)."""
        order = self.order_by
        if not order:
            return "Payments"
        first = order[0]
        column = self.columns[first.bare]
        words = self.ORDER_WORDS.get(first.bare, ("A to Z", "Z to A"))
        header = str(column.header)
        header = header[:1].lower() + header[1:]  # "by date", "by amount"
        return f"Payments by {header}, {words[first.is_descending]}"

    def order_payment_date(self, queryset, is_descending):
        """By date, then as the file listed them (the lines' own order)."""
        date = "-payment_date" if is_descending else "payment_date"
        return queryset.order_by(date, "upload_id", "source_row"), True

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
