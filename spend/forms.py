from __future__ import annotations

from dataclasses import replace
from datetime import date

from django import forms
from django.conf import settings
from django.utils import timezone

from councils.periods import add_months
from councils.uploads import read_head, size_error
from spend.models import VatBasis
from spend.parse import FIELD_LABELS, REQUIRED, BlockPlan
from spend.reading import FIELDS, MAX_MEMBER_BYTES, FileRefused, refuse_by_content
from spend.values import parse_amount, parse_whole_number

VAT_BASIS_LABEL = "Are the amounts net or gross of VAT?"
VAT_BASIS_HINT = (
    "If you leave it “Not stated”, LocalSpend takes it from the heading of the "
    "amount column when that says net or gross (“Net Amount”, “Gross”). What you "
    "choose here always wins."
)


class SpendFileField(forms.FileField):
    """A file field whose refusal of an empty file names the file (Django's
    "The submitted file is empty." did not)."""

    def to_python(self, data):
        if data and getattr(data, "size", None) == 0 and getattr(data, "name", ""):
            raise forms.ValidationError(
                f"“{data.name}” is empty (0 bytes): there is nothing in it to "
                "import. Export the file again and upload that.",
                code="empty",
            )
        return super().to_python(data)


class UploadForm(forms.Form):
    file = SpendFileField(
        label="Spend file",
        error_messages={"required": "Choose the spend file to upload"},
        help_text="CSV, Excel (.xlsx) or a ZIP holding one of them, as published or as "
        "exported from the ledger.",
    )
    vat_basis = forms.ChoiceField(
        label=VAT_BASIS_LABEL,
        choices=VatBasis.choices,
        initial=VatBasis.UNKNOWN,
        help_text=VAT_BASIS_HINT,
    )
    period_start = forms.DateField(
        label="Period from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The first day the file covers.",
    )
    period_end = forms.DateField(
        label="Period to",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The last day the file covers.",
    )

    check_columns = forms.BooleanField(
        label="Let me check the columns before importing",
        required=False,
        help_text="For a file with headings your council has checked before: see and "
        "change its columns first, instead of importing it straight away.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text += f" Up to {settings.MAX_UPLOAD_MB:,} MB."

    def clean_file(self):
        file = self.cleaned_data["file"]
        # Over the limit, councils.uploads.LimitedUploadHandler kept none of it.
        too_big = size_error(file, settings.MAX_UPLOAD_MB)
        if too_big:
            # The limit is on the file sent: a CSV zipped is a tenth of the size.
            raise forms.ValidationError(
                f"{too_big} Upload it zipped (a ZIP holding the one CSV or Excel "
                f"file, up to {settings.MAX_UPLOAD_MB:,} MB, is read as the file "
                f"itself, up to {MAX_MEMBER_BYTES // 2**20:,} MB unzipped), or split "
                "it into smaller files."
            )
        try:  # an image, a program, a PDF … is refused before it is kept
            refuse_by_content(read_head(file), file.name)
        except FileRefused as refused:
            raise forms.ValidationError(str(refused)) from refused
        return file

    def clean(self):
        data = super().clean()
        _check_period(self, data)
        return data


PERIOD_ORDER = "The period must end on or after the day it starts."
# The first day a period may start: as spend.values reads spreadsheets' dates.
EARLIEST_PAYMENT = date(1990, 1, 1)


def _check_period(form: forms.Form, data: dict) -> None:
    """Both days or neither; days a spend file can hold (review: "1 January 1 to
    31 December 9999" was taken, and a period with one day "Covers 1 January
    2020 to .")."""
    start, end = data.get("period_start"), data.get("period_end")
    earliest = EARLIEST_PAYMENT
    latest = add_months(timezone.localdate(), 24)
    for name, day in (("period_start", start), ("period_end", end)):
        if day is not None and not earliest <= day <= latest:
            form.add_error(
                name,
                f"Enter a day from {earliest.day} {earliest:%B %Y} to "
                f"{latest.day} {latest:%B %Y}: spend files hold no payments "
                "outside those.",
            )
    if form.has_error("period_start") or form.has_error("period_end"):
        return
    if start and not end:
        form.add_error("period_end", "Enter the period's last day too, or neither.")
    elif end and not start:
        form.add_error("period_start", "Enter the period's first day too, or neither.")
    elif start and end and end < start:
        form.add_error("period_end", PERIOD_ORDER)


def _period_field(label: str, help_text: str, initial) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        initial=initial,
        # An ISO date, as a date input takes it (not the 31/01/2020 of en-GB).
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=help_text,
    )


class MappingForm(forms.Form):
    """One select per field per block of the file: which column holds it."""

    def __init__(
        self,
        *args,
        plans: list[BlockPlan],
        vat_basis: str = VatBasis.UNKNOWN,
        period: tuple = (None, None),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.plans = plans
        for number, plan in enumerate(plans):
            choices = [("", "Not in this file")] + [
                (str(i), plan.column_label(i)) for i in range(plan.width)
            ]
            for name in FIELDS:
                self.fields[f"b{number}-{name}"] = forms.ChoiceField(
                    label=FIELD_LABELS[name],
                    choices=choices,
                    required=name in REQUIRED,
                    initial=str(plan.columns[name]) if name in plan.columns else "",
                    # The item's name in the preview's sample table (preview.js).
                    widget=forms.Select(attrs={"data-ls-item": FIELD_LABELS[name]}),
                    error_messages={
                        "required": f"Choose the column that holds the "
                        f"{FIELD_LABELS[name].lower()}"
                        + (f' on sheet "{plan.sheet}"' if len(plans) > 1 else "")
                        + (
                            ". A spend file needs one: if this file has none, "
                            "discard it and export it again with the "
                            f"{FIELD_LABELS[name].lower()}s"
                            if name not in plan.columns
                            else ""
                        )
                    },
                )
        # Asked again here, with the amount column in sight: the upload form's
        # answer, to confirm or change (left out of a POST, that answer stands).
        self.fields["vat_basis"] = forms.ChoiceField(
            label=VAT_BASIS_LABEL,
            choices=VatBasis.choices,
            initial=vat_basis,
            required=False,
            help_text=VAT_BASIS_HINT,
        )
        self.vat_basis = vat_basis
        # The upload form's period, to confirm or correct here (left out of a
        # POST, that period stands).
        self.fields["period_start"] = _period_field(
            "Period from", "The first day the file covers.", period[0]
        )
        self.fields["period_end"] = _period_field(
            "Period to", "The last day the file covers.", period[1]
        )
        self.period = period

    def block_fields(self, number: int) -> list[forms.BoundField]:
        return [self[f"b{number}-{name}"] for name in FIELDS]

    def heading_cells(self, number: int) -> list[tuple[str, list[str]]]:
        """The block's sample-table headings with the items its dropdowns name:
        as proposed, or, sent back with an error, as the officer chose them (the
        tags then agree with the dropdowns without JavaScript)."""
        plan = self.plans[number]
        if not self.is_bound:
            return plan.heading_cells
        columns = {}
        for name in FIELDS:
            index = parse_whole_number(str(self.data.get(f"b{number}-{name}", "")))
            if index is not None and index < plan.width:
                columns[name] = index
        return replace(plan, columns=columns).heading_cells

    def chosen_vat_basis(self) -> str:
        """The VAT basis given on this form, else the upload's."""
        return self.cleaned_data.get("vat_basis") or self.vat_basis

    def chosen_period(self) -> tuple:
        """The period given on this form (either day may be cleared), else the
        upload's where the form sent none."""
        if "period_start" not in self.data and "period_end" not in self.data:
            return self.period
        return self.cleaned_data.get("period_start"), self.cleaned_data.get(
            "period_end"
        )

    def clean(self):
        data = super().clean()
        for number in range(len(self.plans)):
            used: dict[str, str] = {}
            for name in REQUIRED:
                value = data.get(f"b{number}-{name}")
                if value and value in used:
                    self.add_error(
                        f"b{number}-{name}",
                        f"{FIELD_LABELS[name]} and {FIELD_LABELS[used[value]].lower()} "
                        "cannot be the same column",
                    )
                used[value] = name
            self._check_amounts(number, data.get(f"b{number}-amount"))
        _check_period(self, data)
        return data

    def _check_amounts(self, number: int, value: str | None) -> None:
        """Refuse, as the amount, a column whose sample rows hold no amount at
        all (QA: "Description" chosen by mistake: every row rejected, and the
        choice remembered for next month)."""
        plan = self.plans[number]
        if not value or not value.isdigit() or int(value) >= plan.width:
            return
        index = int(value)
        cells = [
            row[index]
            for row in plan.sample
            if index < len(row) and str(row[index]).strip()
        ]
        if len(cells) < 3:
            return  # too few to judge
        for cell in cells:
            try:
                parse_amount(cell)
            except ValueError:
                continue
            return  # one amount is enough: bad rows are rejected one by one
        shown = ", ".join(f"“{cell}”" for cell in cells[:3])
        self.add_error(
            f"b{number}-amount",
            f"{plan.column_label(index)} holds no amounts in the first rows "
            f"({shown}): choose the column with the amounts paid",
        )

    def columns_for(self, number: int) -> dict[str, int]:
        return {
            name: int(self.cleaned_data[f"b{number}-{name}"])
            for name in FIELDS
            if self.cleaned_data.get(f"b{number}-{name}")
        }
