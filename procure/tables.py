from urllib.parse import urlencode

import django_tables2 as tables
from django.db.models import Case, DateField, F, IntegerField, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from councils.templatetags.money import gbp, gbp_short
from procure.models import Contract, ContractStatus, Supplier
from socialvalue.models import TAG_VALUES
from spend.tables import MoneyColumn

_SHORT_LABELS = {
    **{(kind, "unknown"): "Unknown" for kind in TAG_VALUES},
    ("living_wage", "yes"): "Accredited",
    ("living_wage", "no"): "Not accredited",
}


class SupplierTable(tables.Table):
    """A council's suppliers, their tags as it sees them, and its spend in a period."""

    # On a phone each row is a card, every value in sight (QA: the last
    # columns were off a 390px screen).
    cards = True

    item_names = "suppliers"  # counted under the table: "(40 suppliers)"
    compact = True  # six columns beside the filters: smaller text, to fit

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
        empty_text = (
            "No suppliers match. A supplier is listed once a spend file or a "
            "contract of your council names it."
        )

    def __init__(self, *args, council, period_label: str, **kwargs):
        self.council = council
        super().__init__(*args, **kwargs)
        self.columns["spend_period"].column.verbose_name = f"Spend {period_label}"

    def render_name(self, value, record):
        url = reverse("procure:supplier-detail", args=[self.council.slug, record.pk])
        return format_html('<a class="govuk-link" href="{}">{}</a>', url, value)

    def _tag(self, kind: str, value: str, record=None):
        colour = "grey" if value == "unknown" else "blue"
        # Under its column's heading a tag needs fewer words ("Unknown", not
        # "Living Wage status unknown"): the table then fits a laptop's screen
        # with its spend column in sight (QA: cut off at 1280 pixels).
        label = _SHORT_LABELS.get((kind, value)) or TAG_VALUES[kind].get(value, value)
        tag = format_html(
            '<strong class="govuk-tag govuk-tag--{}">{}</strong>', colour, label
        )
        # An officer's decision, not the rules' answer (QA: the list did not
        # say), when the list's query says (`<kind>_by_officer`).
        if getattr(record, f"{kind}_by_officer", False):
            return format_html(
                '{}<br><span class="govuk-!-font-size-14">officer decision</span>', tag
            )
        return tag

    # Tags sort in their own order (local, wider area, UK, ...; micro, small,
    # medium, ...), not their codes' alphabetical one (QA: "Large, Medium,
    # Micro, Public, Small"), then by name.
    def _in_tag_order(self, queryset, kind: str, is_descending: bool):
        rank = Case(
            *(
                When(**{kind: value}, then=Value(at))
                for at, value in enumerate(TAG_VALUES[kind])
            ),
            default=Value(len(TAG_VALUES[kind])),
            output_field=IntegerField(),
        )
        key = f"{'-' if is_descending else ''}{kind}_rank"
        return queryset.annotate(**{f"{kind}_rank": rank}).order_by(key, "name"), True

    def order_locality(self, queryset, is_descending: bool):
        return self._in_tag_order(queryset, "locality", is_descending)

    def order_size(self, queryset, is_descending: bool):
        return self._in_tag_order(queryset, "size", is_descending)

    def order_vcse(self, queryset, is_descending: bool):
        return self._in_tag_order(queryset, "vcse", is_descending)

    def order_living_wage(self, queryset, is_descending: bool):
        return self._in_tag_order(queryset, "living_wage", is_descending)

    def render_locality(self, value, record):
        return self._tag("locality", value, record)

    def render_size(self, value, record):
        return self._tag("size", value, record)

    def render_vcse(self, value, record):
        return self._tag("vcse", value, record)

    def render_living_wage(self, value, record):
        return self._tag("living_wage", value, record)


def _tag(colour: str, label: str):
    return format_html(
        '<strong class="govuk-tag govuk-tag--{}">{}</strong>', colour, label
    )


STATUS_COLOURS = {"pipeline": "purple", "active": "green", "ended": "grey"}

# From here a list's amount is shortened ("£80.0bn", "£1.2m"), the exact amount
# kept for a screen reader and on hover (QA: £80,000,000,000.00 in two columns
# made the contracts list wider than a laptop's screen).
SHORTEN_FROM = 1_000_000


def list_money(value):
    """An amount for a list's cell: to the penny under £1 million, shortened
    from it (the exact amount on hover and for a screen reader)."""
    if value is None or abs(value) < SHORTEN_FROM:
        return gbp(value)
    exact = gbp(value)
    return format_html(
        '<span title="{}" aria-hidden="true">{}</span>'
        '<span class="govuk-visually-hidden">{}</span>',
        exact,
        gbp_short(value),
        exact,
    )


# What the list's first order says of itself (QA: "Ends (descending)" put
# pipeline notices ending in 2041 first).
DUE_ORDER_WORDS = (
    "contracts still running first, ending soonest at the top; then pipeline "
    "notices, by end date; then contracts that have ended, most recent first"
)


class ContractTable(tables.Table):
    """A council's contracts with spend to date (`Contract.objects.with_spend()`)."""

    # On a phone each row is a card, every value in sight (QA: the last
    # columns were off a 390px screen).
    cards = True

    item_names = "contracts"  # counted under the table: "(40 contracts)"
    compact = True  # six columns beside the filters: smaller text, to fit

    reference = tables.Column(verbose_name="Contract")
    supplier = tables.Column(default="—", order_by=("supplier__name",))
    status = tables.Column()
    end_date = tables.DateColumn(format="j M Y", verbose_name="Ends", default="—")
    value = MoneyColumn(verbose_name="Value")
    spend_to_date = MoneyColumn(verbose_name="Spend to date")
    # The list's first order (`order_due`), not a column shown.
    due = tables.Column(
        verbose_name="Ending soonest", visible=False, accessor="end_date"
    )

    class Meta:
        model = Contract
        fields = ()
        sequence = (
            "reference",
            "supplier",
            "status",
            "end_date",
            "value",
            "spend_to_date",
            "due",
        )
        empty_text = "No contracts match."

    def render_reference(self, value, record):
        # A long reference (Contracts Finder's) wraps, not widen the table.
        return format_html(
            '<a class="govuk-link ls-long-text" href="{}">{}</a><br>{}',
            record.get_absolute_url(),
            value,
            record.title,
        )

    def render_value(self, value):
        return list_money(value)

    def order_due(self, queryset, is_descending: bool):
        """What an officer wants first: the contracts still running, ending
        soonest first (no end date after them); then pipeline notices, by end
        date; then the contracts that have ended (by status or by date), the
        most recent first. Descending turns it all round."""
        today = timezone.localdate()
        ended = Q(status=ContractStatus.ENDED) | Q(end_date__lt=today)
        group = Case(
            When(status=ContractStatus.PIPELINE, then=Value(1)),
            When(ended, then=Value(2)),
            default=Value(0),
            output_field=IntegerField(),
        )
        coming = Case(
            When(Q(status=ContractStatus.PIPELINE) | ~ended, then=F("end_date")),
            output_field=DateField(),
        )
        gone = Case(
            When(ended & ~Q(status=ContractStatus.PIPELINE), then=F("end_date")),
            output_field=DateField(),
        )
        keys = [
            F("due_group").asc(),
            F("due_coming").asc(nulls_last=True),
            F("due_gone").desc(nulls_last=True),
            F("reference").asc(),
        ]
        if is_descending:
            keys = [
                F("due_group").desc(),
                F("due_coming").desc(nulls_first=True),
                F("due_gone").asc(nulls_first=True),
                F("reference").desc(),
            ]
        annotated = queryset.annotate(due_group=group, due_coming=coming, due_gone=gone)
        return annotated.order_by(*keys), True

    def order_status(self, queryset, is_descending: bool):
        """By the status shown (`Contract.current_status`): an active contract
        whose end date has passed sorts with the ended ones."""
        today = timezone.localdate()
        shown = Case(
            When(
                status=ContractStatus.ACTIVE,
                end_date__lt=today,
                then=Value(ContractStatus.ENDED.value),
            ),
            default=F("status"),
        )
        key = "-shown_status" if is_descending else "shown_status"
        return queryset.annotate(shown_status=shown).order_by(key, "reference"), True

    def render_status(self, value, record):
        status = record.current_status
        tag = _tag(STATUS_COLOURS.get(status, "grey"), status.capitalize())
        if record.ended_by_date:
            return format_html(
                '{}<br><span class="govuk-body-s">End date passed</span>', tag
            )
        return tag

    def render_spend_to_date(self, value, record):
        if not record.value:
            return list_money(value)
        share = value * 100 / record.value
        return format_html(
            '{}<br><span class="govuk-body-s">{}% of value</span>',
            list_money(value),
            f"{share:.0f}",
        )


class OffContractTable(tables.Table):
    """Suppliers with spend no contract covers in a financial year (rows are dicts
    from `off_contract_suppliers`)."""

    # On a phone each row is a card, every value in sight (QA: the last
    # columns were off a 390px screen).
    cards = True

    item_names = "suppliers"  # counted under the table: "(40 suppliers)"

    supplier_name = tables.Column(verbose_name="Supplier")
    locality = tables.Column(verbose_name="Location")
    off_contract = MoneyColumn(verbose_name="Spend with no contract")
    total = MoneyColumn(verbose_name="All spend in the year")

    class Meta:
        empty_text = "No supplier reaches the threshold."

    def __init__(self, *args, council, fy, **kwargs):
        self.council, self.fy = council, fy
        super().__init__(*args, **kwargs)

    def render_supplier_name(self, value, record):
        url = reverse(
            "procure:supplier-detail", args=[self.council.slug, record["supplier_id"]]
        )
        held = record["contracts"]
        note = (
            f"{held} contract{'s' if held != 1 else ''} held"
            if held
            else "No contract held"
        )
        return format_html(
            '<a class="govuk-link" href="{}">{}</a><br>'
            '<span class="govuk-body-s">{}</span>',
            url,
            value,
            note,
        )

    def render_locality(self, value):
        colour = {"local": "green", "unknown": "grey"}.get(value, "blue")
        return _tag(colour, TAG_VALUES["locality"].get(value, value))

    def render_off_contract(self, value, record):
        query = urlencode(
            {
                "date_from": self.fy.start.isoformat(),
                "date_to": self.fy.end.isoformat(),
                "supplier_id": record["supplier_id"],
                "on_contract": "false",
            }
        )
        url = reverse("spend:lines", args=[self.council.slug]) + "?" + query
        payments = record["payments"]
        return format_html(
            '<a class="govuk-link" href="{}">{}</a><br>'
            '<span class="govuk-body-s">{} payment{}</span>',
            url,
            gbp(value),
            payments,
            "" if payments == 1 else "s",
        )
