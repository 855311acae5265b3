from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db.models import Count, QuerySet
from django.forms.models import construct_instance
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.dateformat import format as format_date

from councils.models import Council
from councils.periods import FinancialYear
from councils.stale import RefusesStaleSaves
from procure.models import _CPV as CPV_CODE  # the model's rule for one code
from procure.models import (
    CharityRegister,
    Contract,
    ContractKPI,
    ContractStatus,
    KPIRating,
    KPIRatingValue,
    Supplier,
    SupplierAlias,
    split_codes,
)
from spend.values import (
    clean_text,
    is_company_number,
    is_redacted,
    normalise_name,
    parse_postcode,
    tidy_company_number,
    tidy_vat_number,
    vat_number_or_blank,
)

# Hyphens, dashes and minus signs that read as "-".
LOOKALIKE_DASHES = re.compile("[\u2010-\u2015\u2212\u00ad\ufe58\ufe63\uff0d]")
EARLIEST_START, LATEST_START = 1990, 2100
TYPED_LENGTH = 30  # characters a postcode or VAT number may be typed in
COMPANY_NUMBER_MESSAGE = (
    "Enter a Companies House number: 8 digits, like 01234567, or 2 letters and "
    "6 digits, like SC123456 or OC301234."
)


def tidy_reference(text: str) -> str:
    """A contract reference as kept: dashes and spaces that only look alike
    ("LBC‑1" with a non-breaking hyphen) made plain, spaces collapsed."""
    reference = unicodedata.normalize("NFKC", text)
    reference = LOOKALIKE_DASHES.sub("-", reference)
    return " ".join(reference.split())


def reference_key(text: str) -> str:
    """What makes two references the same to a reader: "C‑101", "c-101" and
    "C-101 " are one reference (the database's rule is on lower case)."""
    return tidy_reference(text).casefold()


_POUNDS = re.compile(r"(-?)£?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?")
_NUMBER = re.compile(r"(-?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?")
# What is left for Decimal to read: digits, a sign and a decimal point. Decimal
# also reads "1e6" as 1,000,000, "1_000" as 1000 and "NaN": an officer typing
# "1e6" has slipped, and it was saved as £1,000,000 (QA).
_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)")


class NumberField(forms.DecimalField):
    """A number as people write it: "1,040" or "2.5", in a text box (a number
    box sends "1,040" as nothing). Commas only in thousands: "1,2,3" is not read
    as 123. Not "1e6" (QA: saved as 1,000,000): the field's "invalid" message
    says how to write it."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"})
    # How a number may be written, commas and all: (sign, whole part, decimals).
    written = _NUMBER

    def to_python(self, value):
        if isinstance(value, str):
            text = value.strip().replace(" ", "")
            found = self.written.fullmatch(text)
            if found:
                text = found[1] + found[2].replace(",", "") + (found[3] or "")
            if text and not _PLAIN_NUMBER.fullmatch(text):
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            value = text
        return super().to_python(value)

    def widget_attrs(self, widget):
        # No number input's min, max or step: the text box takes "1,040".
        return {
            k: v
            for k, v in super().widget_attrs(widget).items()
            if k not in ("min", "max", "step")
        }


class PoundsField(NumberField):
    """An amount in pounds as people write it: "£1,200,000" or "1200000.50"
    (QA: only plain digits were taken), and as NumberField, not "1e6"."""

    written = _POUNDS


def _money_messages(
    what: str, limit: str = "£1,000,000,000,000", *, most: Decimal | None = None
) -> dict:
    """Plain messages for a money field, instead of Django's count of digits
    (`limit`: the first amount with too many; `most`, if given, the most it may
    be, checked by the form)."""
    # With a most, one message for any amount over it, however many digits.
    over = (
        f"Enter {what} of at most £{most:,}."
        if most
        else f"Enter {what} under {limit}."
    )
    return {
        "invalid": f"Enter {what} in pounds, like 120000 or 120000.50.",
        **({"max_value": over} if most else {}),
        "max_digits": over,
        "max_whole_digits": over,
        "max_decimal_places": f"Enter {what} in pounds and pence, with at most "
        "2 decimal places.",
    }


def _length_message(what: str, limit: int) -> dict:
    return {
        "max_length": f"Enter {what} of at most {limit:,} characters: this one has "
        "%(show_value)d."
    }


# The most a supplier's figures may be, checked by the form (QA: SQLite keeps
# any whole number, and 99,999,999,999,999 employees was saved; the money
# fields' digits allowed £100 trillion). The largest employers have a few
# million employees and the largest companies' turnover is a few hundred
# billion pounds; a bank's balance sheet may pass £1 trillion.
MOST_EMPLOYEES = 10_000_000
MOST_TURNOVER = Decimal("1000000000000")  # £1 trillion
MOST_BALANCE_SHEET = Decimal("10000000000000")  # £10 trillion


class SupplierForm(RefusesStaleSaves, forms.ModelForm):
    class Meta:
        model = Supplier
        fields = [
            "name",
            "organisation_type",
            "company_number",
            "charity_register",
            "charity_number",
            "vat_number",
            "address",
            "postcode",
            "employees",
            "turnover",
            "balance_sheet_total",
            "part_of_large_group",
            "living_wage_accredited",
            "verified",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"turnover": PoundsField, "balance_sheet_total": PoundsField}
        labels = {
            "living_wage_accredited": "Accredited real Living Wage employer",
            # As the supplier and spend lists' filters say it.
            "verified": "Checked in the supplier register",
        }
        error_messages = {
            "name": {
                "required": "Enter the supplier's name.",
                **_length_message("a name", 300),
            },
            "company_number": {"max_length": COMPANY_NUMBER_MESSAGE},
            "charity_number": _length_message("a charity number", 12),
            "employees": {
                "invalid": "Enter the number of employees as a whole number, like 25.",
                "min_value": "Enter 0 or more employees, or leave it blank if it "
                "is not known.",
                "max_value": "Enter a realistic number of employees: the largest "
                "employers have a few million.",
            },
            "turnover": _money_messages(
                "the turnover", limit="£100,000,000,000,000", most=MOST_TURNOVER
            ),
            "balance_sheet_total": _money_messages(
                "the balance sheet total",
                limit="£100,000,000,000,000",
                most=MOST_BALANCE_SHEET,
            ),
        }

    # Suppliers are shared by every council: a page opened before another
    # officer's save must not undo it (QA: two tabs). See councils.stale.
    seen_salt = "localspend.supplier.seen"
    seen_what = "the supplier"
    seen_here = False

    def __init__(self, *args, council: Council | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.council = council  # whose members read the form's messages
        # Typed with spaces ("GB 123 456 789 012"), a number may be longer than
        # it is kept: the clean_ methods tidy it, then say what is wrong, if
        # anything, instead of a count of characters.
        for name in ("postcode", "vat_number"):
            field = self.fields[name]
            field.max_length = TYPED_LENGTH
            field.validators = [
                check
                for check in field.validators
                if not isinstance(check, MaxLengthValidator)
            ]
            field.widget.attrs["maxlength"] = str(TYPED_LENGTH)
        register = self.fields["charity_register"]
        register.choices = [("", "Not a registered charity"), *register.choices[1:]]

    def _others(self):
        """Every other supplier in the register (merged ones too: they keep their
        numbers, so that the merge can be undone)."""
        others = Supplier.objects.select_related("merged_into")
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        return others

    def _already(self, other: Supplier, what: str) -> str:
        """Why `what` (a company or charity number) cannot be entered here."""
        into = other.merged_into
        if into is None:
            return (
                f"Another supplier, {other.name}, already has {what}. If they are "
                "the same organisation, merge the two suppliers instead of "
                "entering it twice."
            )
        if into.pk == self.instance.pk:
            return (
                f"{other.name}, which was merged into this supplier, keeps {what} "
                "so that the merge can be undone. Leave it off this supplier."
            )
        return (
            f"Another supplier, {other.name} (merged into {into.name}), already "
            f"has {what}. If this is the same organisation, merge it into "
            f"{into.name} instead of entering it twice."
        )

    def clean_name(self) -> str:
        # The register matches on the normalised name, which keeps only letters
        # and digits: a name of punctuation alone ("—", "...") would be empty.
        name = self.cleaned_data["name"]
        key = normalise_name(name)
        if not key:
            raise forms.ValidationError(
                "Enter a supplier name with at least one letter or number."
            )
        # Renamed to another supplier's name (as the register matches names):
        # payments in that name would go to one of the two (QA: accepted
        # without a word).
        if "name" in self.changed_data:
            other = (
                self._others()
                .filter(normalised_name=key, merged_into__isnull=True)
                .order_by("pk")
                .first()
            )
            if other is not None:
                raise forms.ValidationError(
                    f"Another supplier is already called {other.name}. If they are "
                    "the same organisation, merge the two (on the supplier's page: "
                    "“Is this the same organisation as another supplier?”); if "
                    "not, give a name that tells them apart, such as with the town."
                )
        return name

    def clean_company_number(self) -> str:
        typed = self.cleaned_data["company_number"]
        number = tidy_company_number(typed)
        if typed.strip() and not number:
            raise forms.ValidationError(
                "Enter the supplier's Companies House number, like 01234567, or "
                "leave it blank if it has none: a number of only zeros is not one."
            )
        # Checked when typed, as the postcode is: a number given before this
        # check (by an import, say) does not stop an officer changing something
        # else (QA: "ABC" and "XX123456" were taken).
        if (
            number
            and "company_number" in self.changed_data
            and not is_company_number(number)
        ):
            raise forms.ValidationError(COMPANY_NUMBER_MESSAGE)
        if number:
            other = self._others().filter(company_number=number).first()
            if other is not None:
                raise forms.ValidationError(
                    self._already(other, f"company number {number}")
                )
        return number

    def clean_postcode(self) -> str:
        text = self.cleaned_data["postcode"]
        if "postcode" not in self.changed_data:
            # As the council's ledger gave it on import: an officer changing
            # something else is not stopped by it.
            return text
        if not text.strip():
            return ""
        # The classifier reads postcodes the same way: a full postcode, or the
        # district alone ("LU1") when that is all that is known.
        postcode = parse_postcode(text)
        if postcode is None:
            raise forms.ValidationError(
                "Enter a UK postcode, like LU1 2AB, or leave it blank if it is "
                "not known."
            )
        return postcode

    def clean_vat_number(self) -> str:
        if "vat_number" not in self.changed_data:
            # As a spend file gave it, which the import matches exactly: an
            # officer changing something else is not stopped by it.
            return self.cleaned_data["vat_number"]
        number = tidy_vat_number(self.cleaned_data["vat_number"])
        if number and not vat_number_or_blank(number):
            raise forms.ValidationError(
                "Enter a UK VAT number: GB and 9 digits, like GB123456789 (or "
                "another country's, starting with its two letters), or leave it "
                "blank if it is not known."
            )
        return number

    def clean_employees(self):
        employees = self.cleaned_data["employees"]
        if employees is not None and employees > MOST_EMPLOYEES:
            raise forms.ValidationError(
                self.fields["employees"].error_messages["max_value"]
            )
        return employees

    def clean_turnover(self):
        return self._most("turnover", MOST_TURNOVER)

    def clean_balance_sheet_total(self):
        return self._most("balance_sheet_total", MOST_BALANCE_SHEET)

    def _most(self, name: str, most: Decimal):
        words = name.replace("_", " ")
        value = self._not_negative(name, words)
        if value is not None and value > most:
            raise forms.ValidationError(self.fields[name].error_messages["max_value"])
        return value

    def _not_negative(self, name: str, words: str):
        value = self.cleaned_data[name]
        if value is not None and value < 0:
            raise forms.ValidationError(
                f"Enter the {words} as £0 or more, or leave it blank if it is "
                "not known."
            )
        return value

    def clean(self) -> dict:
        data = super().clean()
        register, number = data.get("charity_register"), data.get("charity_number")
        changed = {"charity_register", "charity_number"} & set(self.changed_data)
        if number and not register:
            self.add_error(
                "charity_register", "Choose which register the charity is on."
            )
        elif register and not number and changed:
            # QA: a register with no number was saved, telling nothing.
            self.add_error(
                "charity_number",
                "Enter the charity's number on that register, or choose “Not a "
                "registered charity”.",
            )
        elif number and changed and "charity_number" not in self.errors:
            # A VCSE tag follows from it: a typo must not make one (QA: "abc12"
            # and "99999999999" were taken as charity numbers).
            number, problem = tidy_charity_number(register, number)
            if problem:
                self.add_error("charity_number", problem)
            else:
                data["charity_number"] = number
        if number and register and "charity_number" not in self.errors:
            other = (
                self._others()
                .filter(charity_register=register, charity_number=number)
                .first()
            )
            if other is not None:
                self.add_error(
                    "charity_number",
                    self._already(other, f"charity number {number} on that register"),
                )
        return data


# Each register's numbers, as the register writes them once tidied (capitals, no
# spaces), and how to say so: England and Wales 6 or 7 digits (a linked charity
# adds "-1" and the like); Scotland SC and 6 digits; Northern Ireland 6 digits
# (written NIC100002 by its register, kept as the digits its org-id uses).
_CHARITY_NUMBERS = {
    CharityRegister.ENGLAND_WALES: (
        re.compile(r"[0-9]{6,7}(-[0-9]{1,2})?"),
        "6 or 7 digits, like 1123456 (a linked charity's ends in its own number, "
        "like 1123456-1)",
    ),
    CharityRegister.SCOTLAND: (
        re.compile(r"SC[0-9]{6}"),
        "SC and 6 digits, like SC012345",
    ),
    CharityRegister.NORTHERN_IRELAND: (
        re.compile(r"[0-9]{6}"),
        "6 digits, like 100002 (or NIC100002)",
    ),
}


def tidy_charity_number(register: str, typed: str) -> tuple[str, str]:
    """The charity number as its register writes it, with ""; or as typed, with
    what is wrong with it in words."""
    number = "".join(typed.upper().split())
    if register == CharityRegister.SCOTLAND and number.isdigit():
        number = "SC" + number
    if register == CharityRegister.NORTHERN_IRELAND:
        number = number.removeprefix("NIC")
    pattern, form = _CHARITY_NUMBERS[register]
    if not pattern.fullmatch(number):
        label = CharityRegister(register).label
        return typed, f"Enter the charity number as the {label} writes it: {form}."
    return number, ""


_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def tidy_cpv_codes(value: str) -> str:
    """CPV codes as stored: separated by ", ", each once, in the order given.
    Commas, semicolons, new lines and spaces all separate codes; spaces around a
    code's dash ("45000000 - 7") are dropped."""
    value = re.sub(r"\s*-\s*", "-", value or "")
    return ", ".join(dict.fromkeys(split_codes(value)))


class CPVCodesField(forms.CharField):
    """Tidies the list before the length check, so a list pasted with spaces,
    semicolons or new lines is measured as it will be stored; and puts no
    `maxlength` on the box, which would cut a pasted list off silently."""

    def to_python(self, value) -> str:
        return tidy_cpv_codes(super().to_python(value))

    def widget_attrs(self, widget) -> dict:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


def awarded_by(returns: int, payments: int) -> tuple[str, str]:
    """What shows a contract has been awarded, in words ("1 social value delivery
    return and 2 payments linked to it by hand"), and what to do before it can
    go back to the pipeline; ("", "") when nothing does. For the contract form
    and the register import's undo."""
    held, steps = [], []
    if returns:
        held.append(f"{returns} social value delivery return{pluralize(returns)}")
        steps.append(
            f"remove {'the return' if returns == 1 else 'the returns'} on the "
            "contract's social value page"
        )
    if payments:
        held.append(f"{payments} payment{pluralize(payments)} linked to it by hand")
        steps.append(
            f"take {'the payment' if payments == 1 else 'the payments'} off it on "
            "the contract's page"
        )
    return " and ".join(held), " and ".join(steps)


def supplier_labeller(suppliers: QuerySet[Supplier]):
    """`label_from_instance` for a list of suppliers: a supplier's name and, where
    another in the list has the same name (as the register matches names: any
    case or accents, "&" or "and", "Ltd" or "Limited"), what tells them apart:
    the company, charity or VAT number and the postcode, or else the day it was
    added (and, only if even that is shared, its record number).
    The list is read when the first label is wanted: a form only validated (a
    register import's rows) never reads it."""
    labels: dict[int, str] | None = None

    def label(supplier: Supplier) -> str:
        nonlocal labels
        if labels is None:
            labels = _details_of_namesakes(suppliers)
        detail = labels.get(supplier.pk)
        return f"{supplier.name} ({detail})" if detail else supplier.name

    return label


def _details_of_namesakes(suppliers: QuerySet[Supplier]) -> dict[int, str]:
    # Grouped on the register's normalised name, not Lower("name"): SQLite's
    # lower() is ASCII-only, so "ÉCOLE LTD" and "école Ltd" were not namesakes
    # there (review).
    shared = (
        suppliers.order_by()
        .values("normalised_name")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values("normalised_name")
    )
    groups: dict[str, list[Supplier]] = {}
    for s in suppliers.filter(normalised_name__in=shared).order_by("pk"):
        groups.setdefault(s.normalised_name, []).append(s)
    labels: dict[int, str] = {}
    for group in groups.values():
        details = {s.pk: _told_apart_by(s) for s in group}
        times = Counter(details.values())
        for s in group:
            if not details[s.pk] or times[details[s.pk]] > 1:
                details[s.pk] = ", ".join(d for d in (details[s.pk], _added_on(s)) if d)
        # The record number only when nothing else tells them apart.
        times = Counter(details.values())
        for s in group:
            detail = details[s.pk]
            if times[detail] > 1:
                detail = f"{detail}, record {s.pk}"
            labels[s.pk] = detail
    return labels


def _added_on(supplier: Supplier) -> str:
    return f"added {format_date(timezone.localtime(supplier.created_at), 'j F Y')}"


def _told_apart_by(supplier: Supplier) -> str:
    return ", ".join(
        detail
        for detail in (
            supplier.company_number and f"company {supplier.company_number}",
            supplier.charity_number and f"charity {supplier.charity_number}",
            supplier.vat_number and f"VAT {supplier.vat_number}",
            supplier.postcode,
        )
        if detail
    )


class ContractForm(RefusesStaleSaves, forms.ModelForm):
    """A council's contract. The supplier is one the council deals with (paid,
    named in its files or contracted); others join the list once they are paid or
    named in a spend file."""

    class Meta:
        model = Contract
        fields = [
            "reference",
            "title",
            "supplier",
            "department",
            "description",
            "status",
            "value",
            "annual_value",
            "irrecoverable_vat",
            "start_date",
            "end_date",
            "review_date",
            "extension_end_date",
            "award_method",
            "route",
            "notice_references",
            "ocid",
            "cpv_codes",
            "social_value_weighting",
            "contract_manager",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "notice_references": forms.Textarea(attrs={"rows": 3}),
            "start_date": _DATE,
            "end_date": _DATE,
            "review_date": _DATE,
            "extension_end_date": _DATE,
            "cpv_codes": forms.Textarea(attrs={"rows": 2}),
        }
        field_classes = {
            "cpv_codes": CPVCodesField,
            "social_value_weighting": NumberField,
            "value": PoundsField,
            "annual_value": PoundsField,
            "irrecoverable_vat": PoundsField,
        }
        help_texts = {
            "cpv_codes": "Common Procurement Vocabulary codes like 45000000-7, "
            "separated by commas, semicolons or new lines.",
        }
        error_messages = {
            "reference": {
                "required": "Enter the contract reference.",
                "unique": "This council already has a contract with this reference.",
                **_length_message("a reference", 100),
            },
            "title": {
                "required": "Enter the contract title.",
                **_length_message("a title", 300),
            },
            "department": _length_message("a department", 200),
            "contract_manager": _length_message("a contract manager's name", 200),
            "ocid": _length_message("an OCID", 100),
            "status": {"invalid_choice": "Choose the contract's status from the list."},
            "route": {
                "invalid_choice": "Choose the procurement route from the list, or "
                "leave it blank."
            },
            "award_method": {
                "invalid_choice": "Choose whether the contract was tendered or "
                "quoted, or leave it blank."
            },
            "value": _money_messages("a whole-life value"),
            "annual_value": _money_messages("an annual value"),
            "irrecoverable_vat": _money_messages("the irrecoverable VAT"),
            "social_value_weighting": {
                "invalid": "Enter the social value weighting as a percentage, like 20.",
                "max_digits": "Enter a percentage between 0 and 100.",
                "max_whole_digits": "Enter a percentage between 0 and 100.",
                "max_decimal_places": "Enter a percentage with at most 2 decimal "
                "places, like 12.5.",
            },
            "start_date": {
                "required": "Enter the start date.",
                "invalid": "Enter the start date as a real date.",
            },
            "end_date": {"invalid": "Enter the end date as a real date."},
            "review_date": {"invalid": "Enter the review date as a real date."},
            "extension_end_date": {
                "invalid": "Enter the end date if extended as a real date."
            },
            "cpv_codes": {
                "max_length": "The CPV codes take %(show_value)d characters once "
                "tidied; there is room for %(limit_value)d (25 codes). Keep the "
                "main codes.",
            },
        }

    # A page opened before another officer's save must not undo it (QA: two
    # tabs). See councils.stale.
    seen_salt = "localspend.contract.seen"
    seen_what = "the contract"
    seen_here = True

    def __init__(self, *args, council: Council, **kwargs):
        super().__init__(*args, **kwargs)
        self.council = council
        self.instance.council = council
        supplier = self.fields["supplier"]
        choices = self._supplier_choices(council)
        if choices is not None:
            supplier.queryset = choices
        # Two suppliers of one name (a spend file's payee and the firm added by
        # hand, say) are told apart in the list (QA: they looked the same).
        supplier.label_from_instance = supplier_labeller(supplier.queryset)
        supplier.empty_label = "Choose a supplier"
        # Needed unless the contract is in the pipeline (its hint says so): not
        # labelled "(optional)" (QA round 2: an active contract refused it).
        supplier.required_sometimes = True
        # Searchable where JavaScript runs (static/localspend/supplier-search.js).
        supplier.widget.attrs["data-ls-search"] = ""
        supplier.widget.attrs["autocomplete"] = "off"  # not restored on Back
        supplier.help_text = (
            f"Suppliers {council.short_name} has paid, named in a spend file or "
            "contracted before. Leave empty only for a contract still in the pipeline."
        )
        supplier.error_messages["invalid_choice"] = (
            f"Choose a supplier from the list: that supplier is not one "
            f"{council.short_name} deals with."
        )
        # What was typed in the searchable box (supplier-search.js sends it):
        # quoted in the error and put back in the box on the error page (QA: the
        # box came back empty, and the message did not say which name).
        typed = self.typed_supplier()
        if typed:
            supplier.widget.attrs["data-ls-typed"] = typed
            if self._namesakes_of(typed, supplier.queryset):
                # The box matches a name typed but not picked only when one
                # supplier has it: "not a supplier ... deals with" was false
                # (review).
                message = (
                    f"More than one supplier is called “{typed}”: choose one "
                    "from the list."
                )
            else:
                message = (
                    f"“{typed}” is not a supplier {council.short_name} deals "
                    "with: choose one from the list, or leave it empty for a "
                    "pipeline contract."
                )
            # The message is %-formatted with the value.
            supplier.error_messages["invalid_choice"] = message.replace("%", "%%")
        self.fields["status"].help_text = (
            "Pipeline: not yet awarded (takes no spend). "
            "Ended: finished or ended early."
        )
        # Worded as the other choices' blank, not Django's "---------" (QA).
        for name in ("award_method", "route"):
            field = self.fields[name]
            field.choices = [("", "Not recorded"), *field.choices[1:]]

    # The name typed in the supplier box, sent beside the <select> by
    # static/localspend/supplier-search.js.
    TYPED_SUPPLIER = "supplier_typed"

    def typed_supplier(self) -> str:
        """The supplier's name as typed in the searchable box, tidied ("" if none
        was sent, as without JavaScript)."""
        if not self.is_bound:
            return ""
        typed = self.data.get(self.add_prefix(self.TYPED_SUPPLIER), "")
        if not isinstance(typed, str):
            return ""
        return clean_text(typed).strip()[:200]

    @staticmethod
    def _namesakes_of(typed: str, choices: QuerySet[Supplier]) -> bool:
        """Whether more than one of the choices has the name typed (as the
        register matches names), so the box could not tell which was meant."""
        key = normalise_name(typed)
        return bool(key) and choices.filter(normalised_name=key)[:2].count() > 1

    def _supplier_choices(self, council: Council) -> QuerySet[Supplier] | None:
        return (
            Supplier.objects.dealt_with_by(council)
            .filter(merged_into__isnull=True)
            .order_by("name")
        )

    SECTIONS = [
        (
            "The contract",
            [
                "reference",
                "title",
                "supplier",
                "department",
                "description",
                "status",
                "contract_manager",
            ],
        ),
        ("Value", ["value", "annual_value", "irrecoverable_vat"]),
        ("Dates", ["start_date", "end_date", "review_date", "extension_end_date"]),
        (
            "How it was procured",
            [
                "award_method",
                "route",
                "notice_references",
                "ocid",
                "cpv_codes",
                "social_value_weighting",
            ],
        ),
    ]

    def sections(self) -> list[tuple[str, list]]:
        """The fields in groups, for the page's headings."""
        return [
            (title, [self[name] for name in names]) for title, names in self.SECTIONS
        ]

    def clean_reference(self) -> str:
        # Dashes and spaces that only look alike ("LBC‑1" with a non-breaking
        # hyphen) would make two references a reader cannot tell apart.
        return tidy_reference(self.cleaned_data["reference"])

    def _in_years(self, name: str, what: str):
        day = self.cleaned_data[name]
        if day is not None and not EARLIEST_START <= day.year <= LATEST_START:
            raise forms.ValidationError(
                f"Enter {what} between {EARLIEST_START} and {LATEST_START}: "
                f"{day:%d/%m/%Y} looks like a typing slip."
            )
        return day

    def clean_start_date(self):
        return self._in_years("start_date", "a start date")

    # QA: a register import's end date of 01/06/2199 made an "active" contract
    # running to 2199; the form checked the start date only.
    def clean_end_date(self):
        return self._in_years("end_date", "an end date")

    def clean_review_date(self):
        return self._in_years("review_date", "a review date")

    def clean_extension_end_date(self):
        return self._in_years("extension_end_date", "the end date if extended")

    def clean_cpv_codes(self) -> str:
        # Already tidied by CPVCodesField: one code after another, ", " between.
        codes = self.cleaned_data["cpv_codes"]
        bad = [code for code in split_codes(codes) if not CPV_CODE.match(code)]
        if bad:
            raise forms.ValidationError(
                "Enter CPV codes as eight digits, a dash and a check digit, like "
                "45000000-7. Not valid: %(bad)s.",
                params={"bad": ", ".join(f"“{code}”" for code in bad)},
                code="cpv",
            )
        return codes

    def clean_ocid(self) -> str:
        return self.cleaned_data["ocid"].strip().lower()

    def _positive(self, name: str, label: str) -> None:
        value = self.cleaned_data.get(name)
        if value is not None and value <= 0:
            self.add_error(name, f"The {label} must be more than £0.")

    def clean(self) -> dict:
        data = super().clean()
        self._positive("value", "whole-life value")
        self._positive("annual_value", "annual value")
        vat = data.get("irrecoverable_vat")
        if vat is not None and vat < 0:
            self.add_error("irrecoverable_vat", "Irrecoverable VAT cannot be negative.")
        weighting = data.get("social_value_weighting")
        if weighting is not None and not 0 <= weighting <= 100:
            self.add_error(
                "social_value_weighting", "Enter a percentage between 0 and 100."
            )
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error(
                "end_date", "The end date must be on or after the start date."
            )
        review = data.get("review_date")
        if start and review and review < start:
            self.add_error(
                "review_date", "The review date must be on or after the start date."
            )
        extension = data.get("extension_end_date")
        if extension and not end:
            self.add_error(
                "extension_end_date", "Enter the end date before an extension."
            )
        elif extension and end and extension < end:
            self.add_error(
                "extension_end_date",
                "The end date if extended must be on or after the end date.",
            )
        self._review_before_the_end(review, end, extension)
        self._annual_within_whole_life(start, end)
        self._social_value_still_fits(start, end, extension)
        self._not_back_to_the_pipeline(data)
        if not data.get("supplier") and data.get("status") != ContractStatus.PIPELINE:
            if "supplier" not in self.errors:
                self.add_error(
                    "supplier",
                    "Choose the supplier. Only a contract still in the pipeline can "
                    "be without one.",
                )
        return data

    def _not_back_to_the_pipeline(self, data: dict) -> None:
        """A contract with social value delivered, or payments an officer linked
        to it by hand, has been awarded: it cannot be put back in the pipeline
        (QA: one save made such a contract "not yet awarded", its supplier
        cleared)."""
        if self.instance.pk is None or data.get("status") != ContractStatus.PIPELINE:
            return
        if not {"status", "supplier"} & set(self.changed_data):
            return
        from socialvalue.models import DeliveryReturn
        from spend.models import SpendLine

        returns = DeliveryReturn.objects.filter(
            commitment__contract_id=self.instance.pk
        ).count()
        payments = SpendLine.objects.filter(
            contract_id=self.instance.pk, contract_link_manual=True
        ).count()
        held, steps = awarded_by(returns, payments)
        if held:
            self.add_error(
                "status",
                f"This contract has {held}, so it has been awarded: a pipeline "
                "contract is one not yet awarded. Keep its status, or, if it was "
                f"never awarded, first {steps}.",
            )

    def _review_before_the_end(self, review, end, extension) -> None:
        if {"review_date", "end_date", "extension_end_date"} & set(self.errors):
            return
        last = extension or end
        if review and last and review > last:
            self.add_error(
                "review_date",
                f"The review date must be on or before the "
                f"{'end date if extended' if extension else 'end date'} "
                f"({_day(last)}): a contract is reviewed while it runs.",
            )

    def _annual_within_whole_life(self, start, end) -> None:
        """A contract running a year or more is worth at least a year's value
        over its whole life. (A shorter one may give its annual rate.)"""
        value = self.cleaned_data.get("value")
        annual = self.cleaned_data.get("annual_value")
        if not (value and annual and start and end) or annual <= value:
            return
        if value <= 0 or end < _a_year_on(start) - timedelta(days=1):
            return
        self.add_error(
            "annual_value",
            f"The annual value (£{annual:,.2f}) is more than the whole-life value "
            f"(£{value:,.2f}) of a contract running a year or more. Check both: "
            "the whole-life value is the total over the contract's whole period.",
        )

    def _social_value_still_fits(self, start, end, extension) -> None:
        """New dates must still hold the contract's social value commitments and
        delivery returns, as the commitment form holds a commitment to them."""
        if self.instance.pk is None or not start:
            return
        dates = {"start_date", "end_date", "extension_end_date"}
        if not dates & set(self.changed_data) or dates & set(self.errors):
            return
        from socialvalue.models import Commitment, DeliveryReturn

        last = extension or end
        last_field = "extension_end_date" if extension else "end_date"
        last_words = "end date if extended" if extension else "end date"
        commitments = (
            Commitment.objects.filter(contract_id=self.instance.pk)
            .select_related("measure")
            .order_by("period_start", "pk")
        )
        returns = (
            DeliveryReturn.objects.filter(commitment__contract_id=self.instance.pk)
            .select_related("commitment__measure")
            .order_by("period_start", "pk")
        )
        page = "on the contract's social value page first"
        # Every record outside the contract's new dates, named in one message with
        # the date that would hold them all (QA: one named at a time, so the
        # date it gave failed on the next).
        items = [
            (
                f"the commitment to {c.measure.code} ({c.period})",
                "commitment",
                c.period_start,
                c.period_end,
            )
            for c in commitments
        ] + [
            (
                f"the delivery return for {d.period} (commitment to "
                f"{d.commitment.measure.code})",
                "return",
                d.period_start,
                d.period_end,
            )
            for d in returns
        ]
        early = [item for item in items if item[2] < start]
        late = [item for item in items if last and item[3] > last]
        if early:
            self.add_error(
                "start_date",
                f"{_listed(early)} would start before the contract. Change or "
                f"remove {_them(early)} {page}, or start the contract on "
                f"{_day(min(item[2] for item in early))} or earlier.",
            )
        elif late:
            self.add_error(
                last_field,
                f"{_listed(late)} would end after the contract. Change or remove "
                f"{_them(late)} {page}, or make the {last_words} "
                f"{_day(max(item[3] for item in late))} or later.",
            )

    def _reference_taken(self, clash: Contract) -> str:
        return (
            f"This council already has a contract with reference "
            f"{clash.reference} ({clash.title}). Enter a different "
            "reference, or edit that contract instead."
        )

    def validate_unique(self) -> None:
        # The council is not a form field, so ModelForm would skip the
        # (council, reference) check and leave it to the database. A reference
        # differing only in capitals ("C-101", "c-101") is the same reference.
        super().validate_unique()
        reference = self.cleaned_data.get("reference")
        if reference and "reference" not in self.errors:
            clash = (
                Contract.objects.filter(council=self.council)
                .filter(reference__iexact=reference)
                .exclude(pk=self.instance.pk)
                .first()
            )
            if clash is not None:
                self.add_error("reference", self._reference_taken(clash))


def _listed(items: list[tuple]) -> str:
    """The records named, the first three, then how many more: capitalised."""
    names = [item[0] for item in items[:3]]
    more = len(items) - len(names)
    if more:
        names.append(f"{more} more")
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return text[0].upper() + text[1:]


def _them(items: list[tuple]) -> str:
    kinds = {item[1] for item in items}
    if len(items) == 1:
        return f"that {items[0][1]}"
    return "them" if len(kinds) > 1 else f"those {items[0][1]}s"


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _a_year_on(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return date(day.year + 1, 3, 1)


class KPIForm(forms.ModelForm):
    class Meta:
        model = ContractKPI
        fields = ["name", "target"]
        widgets = {"target": forms.Textarea(attrs={"rows": 2})}
        error_messages = {
            "name": {"required": "Enter the KPI's name."},
            "target": {"required": "Enter the target, or describe the KPI."},
        }


class BaseKPIFormSet(forms.BaseInlineFormSet):
    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove this KPI (and its ratings)"


KPIFormSet = forms.inlineformset_factory(
    Contract,
    ContractKPI,
    form=KPIForm,
    formset=BaseKPIFormSet,
    extra=1,
    can_delete=True,
    can_delete_extra=False,
)


class ContractDeleteForm(forms.Form):
    """Why a contract is deleted: kept in its history with who deleted it."""

    reason = forms.CharField(
        label="Why are you deleting it?",
        help_text="For example, “Entered by mistake: the contract is LBC-C-0011”. "
        "It is kept in the contract's history, with your name.",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Say why you are deleting the contract.",
            "max_length": "Say why in 500 characters or fewer.",
        },
    )

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError("Say why you are deleting the contract.")
        return reason


class KPIRatingForm(forms.Form):
    """A rating of one of the contract's KPIs. Rating the same KPI for the same
    period again replaces the earlier rating; the history keeps both."""

    kpi = forms.ModelChoiceField(
        queryset=ContractKPI.objects.none(),
        label="KPI",
        empty_label="Choose a KPI",
        error_messages={
            "required": "Choose the KPI you are rating.",
            "invalid_choice": "Choose one of this contract's KPIs.",
        },
    )
    period_end = forms.DateField(
        label="Last day of the period rated",
        widget=_DATE,
        error_messages={
            "required": "Enter the last day of the period rated.",
            "invalid": "Enter the last day of the period as a real date.",
        },
    )
    rating = forms.ChoiceField(
        choices=[("", "Choose a rating"), *KPIRatingValue.choices],
        error_messages={"required": "Choose a rating."},
    )
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Note"
    )

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = contract
        self.fields["kpi"].queryset = contract.kpis.all()

    def clean_period_end(self) -> date:
        """A period of the contract that has ended: from its start to today."""
        day = self.cleaned_data["period_end"]
        start, today = self.contract.start_date, timezone.localdate()
        if day < start:
            raise ValidationError(
                "The period rated cannot end before the contract began, on "
                f"{start.day} {start:%B %Y}. Enter a day from then on."
            )
        if day > today:
            raise ValidationError(
                "The period rated cannot end after today "
                f"({today.day} {today:%B %Y}): rate a period once it has ended."
            )
        return day

    def save(self) -> tuple[KPIRating, bool]:
        data = self.cleaned_data
        return KPIRating.objects.update_or_create(
            kpi=data["kpi"],
            period_end=data["period_end"],
            defaults={"rating": data["rating"], "note": data["note"]},
        )


class OtherPaymentsForm(forms.Form):
    """Which of the supplier's other payments a contract's page lists to link by
    hand: those paid from one day to another (either may be left out)."""

    date_from = forms.DateField(
        required=False,
        label="Paid on or after",
        widget=_DATE,
        error_messages={"invalid": "Enter the first day as a real date."},
    )
    date_to = forms.DateField(
        required=False,
        label="Paid on or before",
        widget=_DATE,
        error_messages={"invalid": "Enter the last day as a real date."},
    )

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error(
                "date_to", "The last day must be the same as or after the first day."
            )
        return data


THRESHOLDS = {"5000": "£5,000", "30000": "£30,000", "custom": "Another amount"}


class OffContractForm(forms.Form):
    """Which financial year, and from what amount, to list off-contract spend."""

    year = forms.TypedChoiceField(
        coerce=int,
        label="Financial year",
        error_messages={"invalid_choice": "Choose a financial year from the list."},
    )
    threshold = forms.ChoiceField(
        choices=list(THRESHOLDS.items()),
        initial="5000",
        label="Threshold",
        help_text="Spend with no contract of at least this much in the year.",
    )
    amount = PoundsField(
        label="Another amount (£)",
        required=False,
        min_value=0,
        decimal_places=2,
        max_digits=14,
        help_text="Used when you choose “Another amount”.",
        error_messages={
            **_money_messages("an amount"),
            "invalid": "Enter the amount in pounds, like 10000.",
            "min_value": "Enter an amount of £0 or more.",
        },
    )
    public = forms.ChoiceField(
        choices=[
            ("exclude", "Leave them out"),
            ("include", "Include them"),
        ],
        initial="exclude",
        label="Public sector bodies",
        help_text="Payments to other councils, the NHS and the like are rarely "
        "under a contract.",
    )

    def __init__(self, data=None, *, years: list[FinancialYear], **kwargs):
        if data is not None:
            # An address with the year alone (a bookmark, a link from another
            # page) takes the defaults for the rest, not "This field is required".
            data = data.copy()
            for name in ("threshold", "public"):
                data.setdefault(name, self.base_fields[name].initial)
        super().__init__(data, **kwargs)
        self.fields["year"].choices = [(fy.start_year, fy.label) for fy in years]
        self.fields["year"].initial = years[0].start_year

    def clean(self) -> dict:
        data = super().clean()
        custom = data.get("threshold") == "custom"
        if custom and data.get("amount") is None and "amount" not in self.errors:
            self.add_error("amount", "Enter the amount, in pounds.")
        return data

    def chosen(self) -> tuple[FinancialYear, Decimal, bool]:
        """The year, the threshold and whether to include public sector bodies:
        as asked, or the defaults while the form is unbound or not valid (an
        invalid amount shows its error above the default list)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        year = data.get("year") or self.fields["year"].initial
        threshold = data.get("threshold") or "5000"
        if threshold == "custom":
            amount = data.get("amount")
            threshold = "5000" if amount is None else amount
        return FinancialYear(year), Decimal(threshold), data.get("public") == "include"


class _KnownSupplierField(forms.ModelChoiceField):
    """A supplier choice that takes the suppliers it is told of (`known`, by
    primary key) without asking the database; any other is looked up."""

    known: dict[str, Supplier]

    def to_python(self, value):
        if value not in self.empty_values:
            found = getattr(self, "known", {}).get(str(value))
            if found is not None and found.merged_into_id is None:
                return found
        return super().to_python(value)


class ContractRowForm(ContractForm):
    """One row of an imported contract register, checked by the contract form's
    rules with the same messages. The supplier may be any in the register (the
    importer has matched or created it), not only those the council already
    deals with.

    Made for hundreds of rows in one go, it asks the database nothing a row
    does not need: the importer gives the references already taken (`taken`:
    `reference_key` to contract, loaded once) and the suppliers it holds
    (`suppliers`), and the model's constraints that `clean` (or a field)
    already enforces are not checked again, one SELECT each. Any other
    constraint is checked, and the database refuses what slips through."""

    # Contract's constraints this form enforces itself, with the same wording.
    CHECKED_BY_THE_FORM = frozenset(
        {
            "contract_reference_unique",  # validate_unique, against `taken`
            "contract_reference_unique_any_case",
            "contract_reference_and_title_set",  # required fields
            "contract_ends_after_start",  # clean
            "contract_review_after_start",
            "contract_extension_after_end",
            "contract_value_positive",
            "contract_annual_value_positive",
            "contract_vat_not_negative",
            "contract_weighting_percent",
            "contract_status_valid",  # choice fields
            "contract_route_valid",
            "contract_award_method_valid",
        }
    )

    supplier = _KnownSupplierField(
        Supplier.objects.filter(merged_into__isnull=True), required=False
    )

    def __init__(
        self,
        *args,
        council: Council,
        taken: dict[str, Contract],
        suppliers: dict[str, Supplier] | None = None,
        **kwargs,
    ):
        super().__init__(*args, council=council, **kwargs)
        self.taken = taken
        self.fields["supplier"].known = suppliers or {}

    def _supplier_choices(self, council: Council) -> None:
        return None  # any supplier in the register, as declared above

    def _post_clean(self) -> None:
        # ModelForm._post_clean, with only the constraints the form leaves out.
        exclude = self._get_validation_exclusions()
        try:
            self.instance = construct_instance(
                self, self.instance, self._meta.fields, self._meta.exclude
            )
        except ValidationError as error:
            self._update_errors(error)
        try:
            # The supplier field has found the supplier already: the model would
            # look it up again.
            self.instance.full_clean(
                exclude=exclude | {"supplier"},
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            self._update_errors(error)
        errors = []
        for constraint in Contract._meta.constraints:
            if constraint.name in self.CHECKED_BY_THE_FORM:
                continue
            try:
                constraint.validate(Contract, self.instance, exclude=exclude)
            except ValidationError as error:
                errors.append(error)
        if errors:
            self._update_errors(ValidationError(errors))
        self.validate_unique()

    def validate_unique(self) -> None:
        # As ContractForm's, against the references held (no query per row).
        reference = self.cleaned_data.get("reference")
        if reference and "reference" not in self.errors:
            clash = self.taken.get(reference_key(reference))
            if clash is not None and clash.pk != self.instance.pk:
                self.add_error("reference", self._reference_taken(clash))


class ContractImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Contract register file",
        help_text="CSV, Excel (.xlsx) or a ZIP holding one of them, with a header row.",
    )

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.fields["file"].help_text += f" Up to {settings.MAX_UPLOAD_MB:,} MB."

    def clean_file(self):
        from django.conf import settings

        from councils.uploads import read_head, size_error
        from spend.reading import FileRefused, refuse_by_content

        file = self.cleaned_data["file"]
        # Over the limit, councils.uploads.LimitedUploadHandler kept none of it.
        too_big = size_error(file, settings.MAX_UPLOAD_MB)
        if too_big:
            raise forms.ValidationError(too_big)
        if file.size == 0:
            raise forms.ValidationError(f'"{file.name}" is empty.')
        try:  # an image, a program, a PDF … is refused before it is read
            refuse_by_content(read_head(file), file.name)
        except FileRefused as refused:
            raise forms.ValidationError(str(refused)) from refused
        return file


class SupplierNameForm(forms.Form):
    """Another name a supplier goes by in one council's spend files (an alias):
    payments in that name in later files go to the supplier (QA: an officer
    could not teach LocalSpend a spelling before the file came)."""

    name = forms.CharField(
        label="Name as the council's files write it",
        help_text="For example, “Wardown Care Svcs”. Capitals, spaces, "
        "punctuation, “Ltd” for “Limited” and “&” for “and” make no difference.",
        max_length=300,
        error_messages={
            "required": "Enter the name as the files write it.",
            "max_length": "Enter a name of 300 characters or fewer.",
        },
    )
    council_supplier_id = forms.CharField(
        label="The council's supplier ID for it",
        help_text="The number the finance system gives this supplier, if the "
        "files have a supplier ID column.",
        max_length=50,
        required=False,
        error_messages={"max_length": "Enter an ID of 50 characters or fewer."},
    )

    def __init__(self, *args, supplier: Supplier, council: Council, **kwargs):
        super().__init__(*args, **kwargs)
        self.supplier = supplier
        self.council = council

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        key = normalise_name(name)
        if not key:
            raise forms.ValidationError(
                "Enter a name with at least one letter or number."
            )
        if len(key) > 300:  # "&" becomes "and": the register keeps 300
            raise forms.ValidationError("Enter a shorter name.")
        if is_redacted(name):
            raise forms.ValidationError(
                f"“{name}” is how files hide a payee's name: payments so named "
                "are kept as redacted spend, never given to a supplier."
            )
        held = (
            SupplierAlias.objects.filter(council=self.council, normalised_name=key)
            .select_related("supplier")
            .first()
        )
        if held is not None and held.supplier_id == self.supplier.pk:
            raise forms.ValidationError(
                f"“{held.name}” is already one of its names in "
                f"{self.council.short_name}'s files."
            )
        if held is not None:
            self.held_by = held.supplier
            raise forms.ValidationError(
                f"“{held.name}” is already how {self.council.short_name}'s files "
                f"name {held.supplier.name}. If that is the same organisation, "
                f"merge {held.supplier.name} into {self.supplier.name} instead: "
                "its payments then come here too."
            )
        # Another supplier of the register so called (from a contract register,
        # or known to other councils) would lose this council's payments in
        # that name to this one, unsaid (review).
        named = (
            Supplier.objects.filter(normalised_name=key, merged_into__isnull=True)
            .exclude(pk=self.supplier.pk)
            .order_by("pk")
            .first()
        )
        if named is not None:
            if (
                Supplier.objects.dealt_with_by(self.council)
                .filter(pk=named.pk)
                .exists()
            ):
                self.held_by = named
            raise forms.ValidationError(
                f"Another supplier in the register is called {named.name}: "
                "payments in that name go to it. If that is the same organisation, "
                f"merge it into {self.supplier.name} instead."
            )
        return name

    def clean_council_supplier_id(self) -> str:
        given = self.cleaned_data["council_supplier_id"].strip()
        if not given:
            return given
        other = (
            SupplierAlias.objects.filter(
                council=self.council, council_supplier_id__iexact=given
            )
            .exclude(supplier=self.supplier)
            .select_related("supplier")
            .first()
        )
        if other is not None:
            raise forms.ValidationError(
                f"{self.council.short_name}'s supplier ID {given} is "
                f"{other.supplier.name}'s in its files. Check the ID, or leave it "
                "out."
            )
        return given
