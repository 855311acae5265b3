"""The filters of the spend line list: the contract with the dashboards.

Every figure on a dashboard links here with query parameters that select exactly
the lines behind it, so the filters use the rollups' own definitions
(`spend.rollup`): the directorate is the department, else the service area; a
line's tags are its supplier's current tags (location for the line's council);
a missing tag, and a redacted line, count as "unknown".
"""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.dateformat import format as format_date
from django.utils.functional import cached_property

from councils.periods import month_end
from councils.templatetags.money import gbp
from procure.models import Contract
from socialvalue.models import (
    SME_VALUES,
    TAG_VALUES,
    SupplierTag,
    TagKind,
    living_wage_choices,
)
from spend.models import SpendLine, SpendUpload, SupplierMonth, UploadStatus

_CHOICE_FILTERS = (django_filters.ChoiceFilter, django_filters.MultipleChoiceFilter)
_DATE = forms.DateInput(attrs={"type": "date"})
UNKNOWN = "unknown"
# Sent as `directorate` for lines with neither a department nor a service area
# (a blank directorate in the rollups).
NOT_STATED = "(not stated)"


# Bounds for numbers typed or sent in the address: a value the database column
# cannot hold is an invalid filter with a message, not a database error.
ID_BOUNDS = {"min_value": 1, "max_value": 2**31 - 1, "decimal_places": 0}


# The filters a link carries, hidden on the page (see spend.views.line_list).
LINKED_FILTERS = ("supplier_id", "upload", "contract")


def id_bounds(what: str) -> dict:
    """ID_BOUNDS for a record's number carried in a page's address (a link from
    another page), with a message naming it: such a field is hidden, so Django's
    "Enter a number." said nothing of which (QA: ?supplier_id=abc)."""
    message = (
        f"The {what} in this page's address is not one LocalSpend knows: follow "
        "the link again, or clear the filters."
    )
    return ID_BOUNDS | {
        "error_messages": {
            key: message
            for key in ("invalid", "min_value", "max_value", "max_decimal_places")
        }
    }


MONEY_BOUNDS = {
    "max_digits": 14,
    "decimal_places": 2,
    "error_messages": {
        "invalid": "Enter an amount in pounds, like 1234.56.",
        "max_digits": "Enter an amount under £1,000,000,000,000.",
        "max_whole_digits": "Enter an amount under £1,000,000,000,000.",
        "max_decimal_places": "Enter an amount in pounds and pence, like 1234.56.",
    },
}


def money_bounds(name: str) -> dict:
    """MONEY_BOUNDS, its messages naming the field `name` (as labelled, without
    its "(£)"): two amounts wrong said the same thing twice in the error summary
    (QA, with a screen reader)."""
    return MONEY_BOUNDS | {
        "error_messages": {
            "invalid": f"Enter an amount in pounds for “{name}”, like 1234.56.",
            "max_digits": f"“{name}” is too large. Enter an amount under "
            "£1,000,000,000,000.",
            "max_whole_digits": f"“{name}” is too large. Enter an amount under "
            "£1,000,000,000,000.",
            "max_decimal_places": f"“{name}” has fractions of a penny. Enter an "
            "amount in pounds and pence, like 1234.56.",
        }
    }


def date_errors(name: str) -> dict:
    """A date field's message naming it (QA: "Enter a valid date." twice in the
    error summary, one for each date). The example is written as the date box
    shows a date."""
    return {
        "error_messages": {
            "invalid": f"Enter a real date for “{name}”, such as 31/03/2026."
        }
    }


def directorate_of_line():
    """The rollups' directorate, as an expression on SpendLine."""
    return Coalesce(NullIf("department", Value("")), "service_area")


def tag_subquery(kind: str) -> QuerySet:
    """The tags of kind `kind` that apply to the outer spend line."""
    tags = SupplierTag.objects.filter(supplier_id=OuterRef("supplier_id"), kind=kind)
    if kind == TagKind.LOCALITY:
        return tags.filter(council_id=OuterRef("council_id"))
    return tags.filter(council__isnull=True)


def tag_condition(kind: str, values) -> Q:
    """Lines whose tag of `kind` is one of `values`; "unknown" also takes lines with
    no such tag, and redacted lines (no supplier)."""
    values = list(values)
    condition = Q(Exists(tag_subquery(kind).filter(value__in=values)))
    if UNKNOWN in values:
        condition |= Q(supplier__isnull=True) | ~Q(Exists(tag_subquery(kind)))
    return condition


def _tag_choices(kind: str) -> list[tuple[str, str]]:
    return list(TAG_VALUES[kind].items())


# The words describe() uses: "with supplier location local or unknown", "with
# supplier size micro or small".
_TAG_NOUNS = {
    TagKind.LOCALITY: "location",
    TagKind.SIZE: "size",
    TagKind.VCSE: "VCSE status",
    TagKind.LIVING_WAGE: "real Living Wage status",
}
_TAG_WORDS = {
    TagKind.LOCALITY: {
        "local": "local",
        "wider": "wider area",
        "uk": "elsewhere in the UK",
        "non_uk": "outside the UK",
    },
    TagKind.SIZE: {
        "micro": "micro",
        "small": "small",
        "medium": "medium-sized",
        "large": "large",
        "public_sector": "public sector",
    },
    TagKind.VCSE: {"yes": "VCSE", "no": "not a VCSE"},
    TagKind.LIVING_WAGE: {"yes": "accredited", "no": "not accredited"},
}


def _either(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _both(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _long_date(day) -> str:
    return format_date(day, "j F Y")


# The most filters a headline names; past that, "and 3 more filters".
HEADLINE_PARTS = 5

# A headline's words for a tag's values, before "suppliers": "local or wider
# area suppliers", "SME suppliers".
_SHORT_TAG_WORDS = {
    **_TAG_WORDS,
    TagKind.VCSE: {"yes": "VCSE", "no": "non-VCSE"},
    TagKind.LIVING_WAGE: {
        "yes": "real Living Wage",
        "no": "not real Living Wage",
    },
}


def _short_tags(kind: str, values) -> str:
    """ "SME suppliers", "local or wider area suppliers", "suppliers of unknown
    size", "micro or unknown size suppliers"."""
    values = list(values)
    known = [v for v in values if v != UNKNOWN]
    if kind == TagKind.SIZE and set(SME_VALUES) <= set(known):
        known = ["sme"] + [v for v in known if v not in SME_VALUES]
    words = ["SME" if v == "sme" else _SHORT_TAG_WORDS[kind].get(v, v) for v in known]
    if UNKNOWN not in values:
        return f"{_either(words)} suppliers"
    if not words:
        return f"suppliers of unknown {_TAG_NOUNS[kind]}"
    return f"{_either([*words, 'unknown ' + _TAG_NOUNS[kind]])} suppliers"


def _short_period(start, end) -> str:
    """ "November 2024", "April 2024 to March 2025", "2024", "from 3 Nov 2024",
    "1 Nov 2024 to 15 Dec 2024"; "" for none."""
    if start is None and end is None:
        return ""
    if end is None:
        return f"from {format_date(start, 'j M Y')}"
    if start is None:
        return f"up to {format_date(end, 'j M Y')}"
    if start == end:
        return format_date(start, "j M Y")
    if start.day == 1 and end == month_end(end) and start <= end:
        if (start.year, start.month) == (end.year, end.month):
            return format_date(start, "F Y")
        if start.year == end.year and start.month == 1 and end.month == 12:
            return str(start.year)
        return f"{format_date(start, 'F Y')} to {format_date(end, 'F Y')}"
    return f"{format_date(start, 'j M Y')} to {format_date(end, 'j M Y')}"


class RangeFilterForm(forms.Form):
    """A filters' form whose ranges (`RANGES`: low field, high field, message)
    are checked: a range whose ends are the wrong way round is an error on its
    second end (then left out), not a list of nothing."""

    RANGES: tuple[tuple[str, str, str], ...] = ()

    def clean(self) -> dict:
        data = super().clean()
        for low, high, message in self.RANGES:
            first, last = data.get(low), data.get(high)
            if first is not None and last is not None and last < first:
                self.add_error(high, message)
        return data


def amount_range(low, high) -> str:
    """An amount filter in words: "£10.00 to £50.00", "£10.00 or more", "£50.00
    or less", or "" for none."""
    if low is not None and high is not None:
        return f"{gbp(low)} to {gbp(high)}"
    if low is not None:
        return f"{gbp(low)} or more"
    if high is not None:
        return f"{gbp(high)} or less"
    return ""


class SpendLineFilterForm(RangeFilterForm):
    RANGES = (
        (
            "date_from",
            "date_to",
            "The “paid on or before” date must be on or after the “paid on or "
            "after” date.",
        ),
        (
            "amount_min",
            "amount_max",
            "The “amount at most” must be at least the “amount at least”.",
        ),
    )


class SpendLineFilter(django_filters.FilterSet):
    """Pass `council` to offer its directorates and name its uploads."""

    date_from = django_filters.DateFilter(
        field_name="payment_date",
        lookup_expr="gte",
        label="Paid on or after",
        widget=_DATE,
        **date_errors("Paid on or after"),
    )
    date_to = django_filters.DateFilter(
        field_name="payment_date",
        lookup_expr="lte",
        label="Paid on or before",
        widget=_DATE,
        **date_errors("Paid on or before"),
    )
    supplier = django_filters.CharFilter(
        field_name="supplier_name",
        lookup_expr="icontains",
        label="Supplier name contains",
    )
    supplier_id = django_filters.NumberFilter(
        field_name="supplier_id",
        widget=forms.HiddenInput,
        label="Supplier",
        **id_bounds("supplier"),
    )
    directorate = django_filters.CharFilter(
        method="filter_directorate",
        label="Directorate",
        help_text="The department, or the service area where no department is "
        "given. Type to choose one of the council's.",
        # A box offering the council's directorates as one types (a <datalist>,
        # `directorate_options`): a real council has a thousand or more (cost
        # centres), too many for a dropdown (QA).
        widget=forms.TextInput(
            attrs={"list": "directorate-options", "autocomplete": "off"}
        ),
    )
    department = django_filters.CharFilter(
        lookup_expr="icontains", label="Department contains"
    )
    locality = django_filters.MultipleChoiceFilter(
        choices=_tag_choices(TagKind.LOCALITY),
        method="filter_tag",
        label="Where the supplier is",
        widget=forms.CheckboxSelectMultiple,
    )
    size = django_filters.MultipleChoiceFilter(
        choices=_tag_choices(TagKind.SIZE),
        method="filter_tag",
        label="Size of the supplier",
        widget=forms.CheckboxSelectMultiple,
    )
    exclude_public = django_filters.BooleanFilter(
        method="filter_exclude_public",
        label="Leave out payments to public sector bodies",
        widget=forms.CheckboxInput,
    )
    vcse = django_filters.MultipleChoiceFilter(
        choices=_tag_choices(TagKind.VCSE),
        method="filter_tag",
        label="Voluntary, community or social enterprise (VCSE)",
        widget=forms.CheckboxSelectMultiple,
    )
    living_wage = django_filters.MultipleChoiceFilter(
        choices=_tag_choices(TagKind.LIVING_WAGE),
        method="filter_tag",
        label="Real Living Wage employer",
        widget=forms.CheckboxSelectMultiple,
    )
    redacted = django_filters.ChoiceFilter(
        choices=[("true", "Redacted payees only"), ("false", "Named suppliers only")],
        empty_label="All payees",
        label="Payee",
        method="filter_redacted",
    )
    verified = django_filters.ChoiceFilter(
        choices=[
            ("true", "Checked in the supplier register"),
            ("false", "Named but not yet checked in the register"),
        ],
        empty_label="All payees",
        label="Supplier checked in the register",
        method="filter_verified",
    )
    amount_min = django_filters.NumberFilter(
        field_name="amount",
        lookup_expr="gte",
        label="Amount at least (£)",
        **money_bounds("Amount at least"),
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount",
        lookup_expr="lte",
        label="Amount at most (£)",
        **money_bounds("Amount at most"),
    )
    upload = django_filters.NumberFilter(
        field_name="upload",
        widget=forms.HiddenInput,
        label="From upload",
        **id_bounds("upload"),
    )
    contract = django_filters.NumberFilter(
        field_name="contract",
        widget=forms.HiddenInput,
        label="Under contract",
        **id_bounds("contract"),
    )
    on_contract = django_filters.ChoiceFilter(
        choices=[
            ("true", "Linked to a contract"),
            ("false", "Not linked to any contract"),
        ],
        empty_label="All payments",
        label="Contract",
        method="filter_on_contract",
    )

    # Shown as a group of checkboxes by the template.
    CHECKBOX_GROUPS = ("locality", "size", "vcse", "living_wage")

    class Meta:
        model = SpendLine
        fields: list[str] = []
        form = SpendLineFilterForm

    def __init__(self, data=None, queryset=None, *, council=None, **kwargs):
        self.council = council
        super().__init__(data, queryset, **kwargs)
        self.filters["living_wage"].extra["choices"] = living_wage_choices()
        # A value outside a list names the list (in the error summary, two
        # such said the same thing).
        for declared in self.filters.values():
            if isinstance(declared, _CHOICE_FILTERS):
                declared.extra["error_messages"] = {
                    "invalid_choice": f"Select a valid choice for “{declared.label}”: "
                    "“%(value)s” is not one of the options."
                }

    @cached_property
    def directorate_options(self) -> list[tuple[str, str]]:
        """The council's directorates offered in the directorate box, as (value,
        label: "" for the value itself); NOT_STATED where some lines have none."""
        if self.council is None:
            return []
        names = list(
            SupplierMonth.objects.filter(council=self.council)
            .values_list("directorate", flat=True)
            .distinct()
            .order_by("directorate")
        )
        options = [(name, "") for name in names if name]
        if "" in names:
            options.append((NOT_STATED, "Not stated"))
        return options

    # --- filtering -------------------------------------------------------------

    def filter_directorate(self, queryset, name, value):
        if value == NOT_STATED:
            return queryset.filter(department="", service_area="")
        # Typed in a box now, not chosen from a list. A directorate's name as the
        # council writes it (the dashboard's links) selects exactly its lines;
        # written in other capitals, the directorates so named; part of a name,
        # the directorates containing it (QA: "pub" found nothing). Which names
        # there are comes from the rollups, so no scan of every line (review).
        named = self._directorates_as_typed(value)
        if named:
            return queryset.filter(
                Q(department__in=named) | Q(department="", service_area__in=named)
            )
        return queryset.filter(
            Q(department__icontains=value)
            | Q(department="", service_area__icontains=value)
        )

    def _directorates_as_typed(self, value: str) -> list[str]:
        """The council's directorates `value` names whole: itself, else those
        of its letters in any case."""
        names = [
            option for option, _ in self.directorate_options if option != NOT_STATED
        ]
        if value in names:
            return [value]
        wanted = value.casefold()
        return [name for name in names if name.casefold() == wanted]

    def directorate_named(self, value: str) -> str:
        """The council's directorate `value` names whole, as the council writes
        it; "" when it names none (part of a name)."""
        named = self._directorates_as_typed(value)
        return named[0] if named else ""

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tag_condition(name, value))

    def filter_exclude_public(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.exclude(
            Exists(tag_subquery(TagKind.SIZE).filter(value="public_sector"))
        )

    def filter_on_contract(self, queryset, name, value):
        return queryset.filter(contract__isnull=value != "true")

    def filter_redacted(self, queryset, name, value):
        return queryset.filter(redacted=value == "true")

    def filter_verified(self, queryset, name, value):
        if value == "true":
            return queryset.filter(supplier__verified=True)
        return queryset.filter(
            Q(supplier__isnull=True) | Q(supplier__verified=False), redacted=False
        )

    # --- describing ------------------------------------------------------------

    def describe(self) -> list[str]:
        """The filters in force, as phrases that each follow "payments": ["from 1
        April 2025 to 31 March 2026", "in directorate Place", "with supplier
        location local or unknown", "of £1,000.00 or more"]. Invalid fields (which
        do not filter) are left out."""
        if not self.is_bound:
            return []
        self.form.is_valid()
        data = self.form.cleaned_data
        phrases = []
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            phrases.append(f"from {_long_date(start)} to {_long_date(end)}")
        elif start:
            phrases.append(f"from {_long_date(start)}")
        elif end:
            phrases.append(f"up to {_long_date(end)}")
        if data.get("directorate"):
            directorate = data["directorate"]
            if directorate == NOT_STATED:
                phrases.append("with no directorate stated")
            elif named := self.directorate_named(directorate):
                phrases.append(f"in directorate {named}")
            else:
                phrases.append(f"in directorates containing “{directorate}”")
        if data.get("department"):
            phrases.append(f"in a department containing “{data['department']}”")
        if data.get("supplier_id") is not None:
            phrases.append(f"to {self._supplier_name(data['supplier_id'])}")
        if data.get("supplier"):
            phrases.append(f"to suppliers whose name contains “{data['supplier']}”")
        for kind in self.CHECKBOX_GROUPS:
            values = data.get(kind)
            if values:
                words = _TAG_WORDS[kind]
                named = [
                    "unknown" if v == UNKNOWN else words.get(v, TAG_VALUES[kind][v])
                    for v in values
                ]
                phrases.append(f"with supplier {_TAG_NOUNS[kind]} {_either(named)}")
        if data.get("exclude_public"):
            phrases.append("leaving out payments to public sector bodies")
        if data.get("redacted"):
            phrases.append(
                "to redacted payees only"
                if data["redacted"] == "true"
                else "to named suppliers only"
            )
        if data.get("verified"):
            phrases.append(
                "to suppliers checked in the register"
                if data["verified"] == "true"
                else "to named suppliers not yet checked in the register"
            )
        if amounts := amount_range(data.get("amount_min"), data.get("amount_max")):
            phrases.append(f"of {amounts}")
        if data.get("upload") is not None:
            phrases.append(f"imported from {self._upload_name(data['upload'])}")
        if data.get("contract") is not None:
            phrases.append(f"under {self._contract_name(data['contract'])}")
        if data.get("on_contract"):
            phrases.append(
                "linked to a contract"
                if data["on_contract"] == "true"
                else "not linked to any contract"
            )
        return phrases

    def sentence(self) -> str:
        """ "Showing payments from 1 April 2025 to 31 March 2026, in directorate
        Place." A filter that could not be used (its error is shown) is named,
        as left out (QA: "Showing all payments." under the error)."""
        phrases = self.describe()
        shown = "payments " + ", ".join(phrases) if phrases else "all payments"
        if not self.is_bound or self.form.is_valid():
            return f"Showing {shown}."
        labels = [
            f"“{self.form.fields[name].label}”"
            for name in self.form.errors
            if name in self.form.fields
        ]
        if not labels:
            return (
                f"A filter could not be used (see the problem above): showing {shown}."
            )
        return (
            f"The {_both(labels)} filter{'s' if len(labels) > 1 else ''} could not "
            f"be used (see the problem above), so {'they are' if len(labels) > 1 else 'it is'} "
            f"left out: showing {shown}."
        )

    @cached_property
    def headline(self) -> str:
        """The filters in force in a few words, for the page's title and heading:
        "Children's Services, November 2024, SME suppliers"; "" for none. (QA: a
        drill-down's title was "Spend" whatever it showed.) The sentence on the
        page says them in full."""
        if not self.is_bound:
            return ""
        self.form.is_valid()
        data = self.form.cleaned_data
        parts = []
        if data.get("supplier_id") is not None:
            parts.append(self._supplier_short_name(data["supplier_id"]))
        if data.get("supplier"):
            parts.append(f"suppliers named “{data['supplier']}”")
        if data.get("directorate"):
            directorate = data["directorate"]
            if directorate == NOT_STATED:
                parts.append("no directorate stated")
            else:
                named = self.directorate_named(directorate)
                parts.append(named or f"directorates containing “{directorate}”")
        if data.get("department"):
            parts.append(f"departments containing “{data['department']}”")
        period = _short_period(data.get("date_from"), data.get("date_to"))
        if period:
            parts.append(period)
        tagged = False
        for kind in self.CHECKBOX_GROUPS:
            values = data.get(kind)
            if values:
                parts.append(_short_tags(kind, values))
                tagged = tagged or UNKNOWN not in values
        sizes = data.get("size") or []
        # What the words already say is not said again: SME suppliers are not
        # public sector bodies; a supplier of a known kind is named.
        if data.get("exclude_public") and (not sizes or "public_sector" in sizes):
            parts.append("excluding the public sector")
        if data.get("redacted") == "true":
            parts.append("redacted payees")
        elif (
            data.get("redacted") == "false" and not tagged and not data.get("verified")
        ):
            parts.append("named suppliers")
        if data.get("verified"):
            parts.append(
                "checked suppliers"
                if data["verified"] == "true"
                else "unchecked suppliers"
            )
        if amounts := amount_range(data.get("amount_min"), data.get("amount_max")):
            parts.append(amounts)
        if data.get("contract") is not None:
            parts.append(self._contract_name(data["contract"]))
        if data.get("on_contract"):
            parts.append(
                "on a contract" if data["on_contract"] == "true" else "on no contract"
            )
        if data.get("upload") is not None:
            parts.append(self._upload_name(data["upload"]).removeprefix("the "))
        if len(parts) > HEADLINE_PARTS:
            more = len(parts) - HEADLINE_PARTS + 1
            parts = parts[: HEADLINE_PARTS - 1] + [f"{more} more filters"]
            return ", ".join(parts[:-1]) + " and " + parts[-1]
        return ", ".join(parts)

    def _supplier_short_name(self, pk) -> str:
        name = (
            self.queryset.filter(supplier_id=pk)
            .values_list("supplier__name", flat=True)
            .first()
        )
        return name or f"supplier {int(pk)}"

    def _supplier_name(self, pk) -> str:
        # Named only if paid by these lines' council: the register is shared.
        name = (
            self.queryset.filter(supplier_id=pk)
            .values_list("supplier__name", flat=True)
            .first()
        )
        if name:
            return f"supplier {name} (register number {int(pk)})"
        return f"the supplier with register number {int(pk)}"

    def _contract_name(self, pk) -> str:
        # Named only if it is this council's contract (or, with no council, one
        # these lines are linked to).
        if self.council is not None:
            contracts = Contract.objects.filter(pk=pk, council=self.council)
        else:
            contracts = Contract.objects.filter(
                pk__in=self.queryset.filter(contract_id=pk).values("contract_id")
            )
        found = contracts.values_list("reference", "title").first()
        if found is None:
            return f"contract {int(pk)}"
        reference, title = found
        return f"contract {reference} “{title}”"

    def _upload_name(self, pk) -> str:
        if self.council is not None:
            uploads = SpendUpload.objects.filter(pk=pk, council=self.council)
            name = uploads.values_list("file_name", flat=True).first()
        else:
            lines = self.queryset.filter(upload_id=pk)
            name = lines.values_list("upload__file_name", flat=True).first()
        return f"the file {name}" if name else f"upload {int(pk)}"


class UploadFilter(django_filters.FilterSet):
    """The uploads list's filters: status, file name, who uploaded. Pass `council`
    to offer the people who have uploaded its files (named as `People` names
    them)."""

    status = django_filters.ChoiceFilter(
        choices=UploadStatus.choices, empty_label="Any", label="Status"
    )
    file = django_filters.CharFilter(
        field_name="file_name", lookup_expr="icontains", label="File name contains"
    )
    uploaded_by = django_filters.ChoiceFilter(
        method="filter_uploaded_by", empty_label="Anyone", label="Uploaded by"
    )

    class Meta:
        model = SpendUpload
        fields = ["status", "file", "uploaded_by"]

    def __init__(self, *args, council=None, **kwargs):
        from councils.access import People

        super().__init__(*args, **kwargs)
        if council is not None:
            people = People(council)
            ids = (
                SpendUpload.objects.for_council(council)
                .values_list("uploaded_by", flat=True)
                .distinct()
            )
            User = get_user_model()
            users = User.objects.in_bulk([pk for pk in ids if pk is not None])
            # People not named (not members, LocalSpend administrators) share
            # their words: one choice each for all of them, not one per person.
            by_name: dict[str, list[int]] = {}
            for pk, user in users.items():
                by_name.setdefault(people.name(pk, user, here=True), []).append(pk)
            choices = sorted(
                (
                    (",".join(str(pk) for pk in sorted(pks)), name)
                    for name, pks in by_name.items()
                ),
                key=lambda choice: choice[1].casefold(),
            )
            if None in ids:
                choices.append(("none", "The command line"))
            self.filters["uploaded_by"].extra["choices"] = choices

    def filter_uploaded_by(self, queryset, name, value):
        if value == "none":
            return queryset.filter(uploaded_by__isnull=True)
        return queryset.filter(uploaded_by_id__in=value.split(","))
