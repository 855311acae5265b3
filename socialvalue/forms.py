import hashlib
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

from django import forms
from django.core import signing
from django.core.validators import MaxLengthValidator
from django.db.models import Q, Sum
from django.utils import timezone

from councils import uploads
from councils.models import Council
from councils.periods import FinancialYear
from councils.stale import RefusesStaleSaves
from procure.forms import NumberField, PoundsField
from socialvalue import models as socialvalue_models
from socialvalue.models import (
    EVIDENCE_MAX_MB,
    EVIDENCE_SUFFIXES,
    TAG_VALUES,
    Commitment,
    DeliveryReturn,
    Measure,
    ProxyValue,
    Target,
    Theme,
    Unit,
    evidence_path,
    keep_evidence,
)
from spend.values import parse_whole_number


def _number_messages(what: str, under: str, places: int = 2, example="12") -> dict:
    """Plain messages for a decimal field, instead of Django's count of digits."""
    return {
        "invalid": f"Enter {what} as a number, like {example}.",
        "max_digits": f"Enter {what} under {under}.",
        "max_whole_digits": f"Enter {what} under {under}.",
        "max_decimal_places": f"Enter {what} with at most {places} decimal places.",
    }


def _share_messages() -> dict:
    return {
        "invalid": "Enter a percentage between 0 and 100, like 62.5.",
        "max_digits": "Enter a percentage between 0 and 100.",
        "max_whole_digits": "Enter a percentage between 0 and 100.",
        "max_decimal_places": "Enter a percentage with at most 2 decimal places.",
    }


_QUANTITY = _number_messages("a quantity", "1,000,000,000,000", example="12 or 2.5")
_POUNDS_QUANTITY = _number_messages(
    "the quantity in pounds", "£1,000,000,000,000", example="£250,000 or 1250.50"
)


class PercentField(NumberField):
    """A percentage as people write it: "50", "62.5" or "50%" (QA: "50%" was
    refused), and as NumberField, not "1e6"."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().removesuffix("%")
        return super().to_python(value)


def unit_hint(measure: Measure) -> str:
    """What a quantity of `measure` is entered in, in its own unit's words (the
    unit shown after the measure's name in the list)."""
    if measure.unit == Unit.GBP:
        return "In pounds, like £250,000."
    if measure.unit == Unit.NUMBER:
        return "How many: a whole number, like 4."
    if measure.unit == Unit.FTE:
        return (
            "In FTE (full-time equivalent staff), pro rata to the period: 4 FTE "
            "for a quarter is entered as 1."
        )
    if measure.unit == Unit.TCO2E:
        return "In tCO2e (tonnes of carbon dioxide equivalent)."
    return f"In {measure.unit_label}."


def _unit_words(measure: Measure) -> str:
    return "whole numbers" if measure.unit == Unit.NUMBER else measure.unit_label


def _pounds_typed(value) -> bool:
    return isinstance(value, str) and "£" in value


def _whole_number_error(measure: Measure, quantity) -> str | None:
    """A measure counted in whole things (people, apprenticeships, schools)
    takes no fractions: "2.5 apprenticeships started" is a typing slip."""
    if measure.unit != Unit.NUMBER or quantity is None:
        return None
    if quantity == quantity.to_integral_value():
        return None
    return (
        f"{measure.code} ({measure.name}) is counted in whole numbers: enter a "
        f"whole number, like {max(quantity.to_integral_value(), Decimal(1)):,f}."
    )


class FinancialYearField(forms.CharField):
    """A financial year typed as 2023/24, stored as its first calendar year."""

    def prepare_value(self, value):
        if isinstance(value, int):
            return FinancialYear(value).label
        return value

    def to_python(self, value) -> int | None:
        value = super().to_python(value)
        if not value:
            return None
        try:
            return FinancialYear.parse(value).start_year
        except ValueError as error:
            raise forms.ValidationError(str(error).capitalize()) from None


# The earliest financial year a target may name: the Transparency Code's spend
# files start in 2010/11; the latest is 30 years after this one.
EARLIEST_TARGET_YEAR = 2000
NOTES_MAX = 1000


def year_range_error(year: int | None) -> str:
    """The message for a financial year (its first year) outside 2000/01 to 30
    years after this one, else "": a typed year far off (3030/31 for 2030/31)."""
    first = FinancialYear(EARLIEST_TARGET_YEAR)
    last = FinancialYear(FinancialYear.for_date(timezone.localdate()).start_year + 30)
    if year is not None and not first.start_year <= year <= last.start_year:
        return f"Enter a financial year from {first} to {last}."
    return ""


class TargetForm(RefusesStaleSaves, forms.ModelForm):
    # Two administrators on one target: the second save would put back what the
    # first changed (QA). See councils.stale.
    seen_salt = "localspend.target.seen"
    seen_what = "the target"

    baseline_year = FinancialYearField(
        error_messages={"required": "Enter the baseline year, like 2023/24"},
        label="Baseline financial year",
        help_text="For example, 2017/18. Targets for one measure cannot overlap: a "
        "new target can start in the year the previous one ends.",
    )
    target_year = FinancialYearField(
        error_messages={"required": "Enter the target year, like 2030/31"},
        label="Target financial year",
        help_text="For example, 2030/31",
    )

    class Meta:
        model = Target
        fields = [
            "metric",
            "baseline_year",
            "baseline_share",
            "target_year",
            "target_share",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"baseline_share": PercentField, "target_share": PercentField}
        error_messages = {
            "metric": {"required": "Choose a measure"},
            "notes": {
                "max_length": "Keep the notes to %(limit_value)s characters (they "
                "have %(show_value)s): link to the minutes rather than copy them."
            },
            "baseline_share": _share_messages()
            | {"required": "Enter the baseline share, as a percentage like 25"},
            "target_share": _share_messages()
            | {"required": "Enter the target share, as a percentage like 70"},
        }

    def __init__(self, *args, council, **kwargs):
        super().__init__(*args, **kwargs)
        self.council = council  # whose members the refusal of a stale save names
        self.instance.council = council
        # Worded as the other forms' first choice, not Django's "---------".
        metric = self.fields["metric"]
        metric.choices = [("", "Choose a measure"), *metric.choices[1:]]
        notes = self.fields["notes"]
        notes.max_length = NOTES_MAX
        notes.validators.append(MaxLengthValidator(NOTES_MAX))

    def clean(self) -> dict:
        data = super().clean()
        baseline, target = data.get("baseline_year"), data.get("target_year")
        # A typed year far off (3030/31 for 2030/31) moved the target line and
        # drew the dashboard's chart to the year 9999 (QA).
        for field, year in (("baseline_year", baseline), ("target_year", target)):
            error = year_range_error(year)
            if error:
                # add_error takes the year out of the cleaned data too.
                self.add_error(field, error)
        baseline, target = data.get("baseline_year"), data.get("target_year")
        if baseline and target and target <= baseline:
            self.add_error(
                "target_year", "The target year must come after the baseline year."
            )
        for field in ("baseline_share", "target_share"):
            share = data.get(field)
            if share is not None and not 0 <= share <= 100:
                self.add_error(field, "Enter a percentage between 0 and 100.")
        return data


# What an officer might have checked, for each kind of tag.
REASON_EXAMPLES = {
    "locality": "Trading address confirmed on their invoice: LU1 3AA",
    "size": "Their 2025 accounts at Companies House show 38 staff and £4.1m turnover",
    "vcse": "Registered charity 1100001 on the Charity Commission register",
    "living_wage": "On the Living Wage Foundation's list of accredited employers, "
    "checked 3 March 2026",
}


# The decision as the override page showed it (see TagOverrideForm.seen).
_DECISION_SALT = "localspend.tag-override.seen"


def _digest(state: list) -> str:
    return hashlib.sha256(json.dumps(state).encode()).hexdigest()


def decision_token(state: list) -> str:
    """The tag's decision as a page shows it (`state`: the override's value and
    reason, or None, and the tag's value), signed for the form's `seen`: as a
    digest, as the page may not show another council's officer's reason
    (review: signing does not hide it)."""
    return signing.dumps(_digest(state), salt=_DECISION_SALT)


class TagOverrideForm(forms.Form):
    value = forms.ChoiceField(label="Tag", widget=forms.RadioSelect)
    # What the page showed (`decision_token`): a decision saved from a page
    # opened before another officer's would undo theirs unseen (QA).
    seen = forms.CharField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter the reason for the override"},
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].choices = list(TAG_VALUES[kind].items())
        self.fields["value"].error_messages["required"] = "Choose the tag"
        self.fields["reason"].help_text = (
            f"Say what you checked, e.g. “{REASON_EXAMPLES[kind]}”. This is shown "
            "with the tag and kept in its history."
        )

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < 5:
            raise forms.ValidationError("Give a reason of at least a few words")
        return reason

    def refuse_if_stale(self, state: list, what: str) -> bool:
        """True, with the form's error, when the decision is no longer `state`
        as the page showed it (`what` says what it is now). The page then shows
        it as it is, keeping this officer's choice and reason. A form with no
        `seen` (a script) is not checked."""
        try:
            seen = signing.loads(self.data.get("seen") or "", salt=_DECISION_SALT)
        except signing.BadSignature:
            return False
        if seen == _digest(state):
            return False
        self.data = self.data.copy()
        self.data["seen"] = decision_token(state)
        self.add_error(
            None,
            f"Nothing was saved: {what} after you opened this page. Check it "
            "above, then save your decision again if it still stands.",
        )
        return True


class TagOverrideRemoveForm(forms.Form):
    """Why an officer's decision is removed: kept in the tag's history, as the
    reason for setting it is."""

    prefix = "remove"
    reason = forms.CharField(
        label="Why remove it",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Say what changed, e.g. “Set in error: the rules' answer is "
        "right”. This is kept in the tag's history.",
        error_messages={"required": "Enter the reason for removing the override"},
    )

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < 5:
            raise forms.ValidationError("Give a reason of at least a few words")
        return reason


# ================================================================ social value

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MeasureField(forms.ModelChoiceField):
    """A measure, chosen from a list grouped by theme."""

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset, **kwargs)
        groups: dict[str, list] = {label: [] for label in Theme.labels}
        for measure in queryset:
            groups[measure.get_theme_display()].append(
                (measure.pk, self.label_from_instance(measure))
            )
        self.choices = [("", "Choose a measure")] + [
            (theme, options) for theme, options in groups.items() if options
        ]

    def label_from_instance(self, measure: Measure) -> str:
        return f"{measure.code} {measure.name} ({measure.unit_label})"


def _measures(current: Measure | None):
    """Active measures, plus the one already chosen even if it is now inactive."""
    measures = Measure.objects.filter(active=True)
    if current is not None:
        measures = measures | Measure.objects.filter(pk=current.pk)
    return measures.order_by("code")


def _in_years(day, what: str):
    """A commitment's date, in the years a contract's may be (QA: a period
    ending on 31 December 9999 was saved, and every page working out its
    quarters failed)."""
    from procure.forms import EARLIEST_START, LATEST_START

    if day is not None and not EARLIEST_START <= day.year <= LATEST_START:
        raise forms.ValidationError(
            f"Enter the date {what} between {EARLIEST_START} and {LATEST_START}: "
            f"{day:%d/%m/%Y} is not a date a contract runs on."
        )
    return day


class CommitmentForm(RefusesStaleSaves, forms.ModelForm):
    # Two tabs on one commitment: the second save would put back the first's
    # quantity (QA). See councils.stale.
    seen_salt = "localspend.commitment.seen"
    seen_what = "the commitment"

    class Meta:
        model = Commitment
        fields = ["measure", "quantity", "period_start", "period_end", "note"]
        labels = {
            "quantity": "Quantity committed",
            "period_start": "Period starts",
            "period_end": "Period ends",
        }
        help_texts = {
            "quantity": "In the unit shown after the measure's name: FTE, weeks, "
            "hours, tonnes, tCO2e, pounds (£), or a whole number for a count.",
            "period_end": "Both days are included. Commitments to one measure on one "
            "contract cannot overlap.",
            "note": "Where the commitment comes from, e.g. the tender response "
            "section.",
        }
        widgets = {
            "period_start": _DATE,
            "period_end": _DATE,
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        # Pounds for a money measure, "£250,000" (QA: refused); a "£" typed for
        # another measure is refused in clean().
        field_classes = {"quantity": PoundsField}
        error_messages = {
            "quantity": _QUANTITY,
            "period_start": {
                "invalid": "Enter the date the period starts as a real date"
            },
            "period_end": {"invalid": "Enter the date the period ends as a real date"},
        }

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.contract = contract
        current = self.instance.measure if self.instance.measure_id else None
        self.fields["measure"] = MeasureField(
            _measures(current),
            error_messages={"required": "Choose a measure"},
        )
        quantity = self.fields["quantity"]
        chosen = self._chosen_measure()
        if chosen is not None:
            quantity.help_text = unit_hint(chosen)
            if chosen.unit == Unit.GBP:
                quantity.error_messages.update(_POUNDS_QUANTITY)
        quantity.error_messages["required"] = "Enter the quantity"
        self.fields["period_start"].error_messages["required"] = (
            "Enter the date the period starts"
        )
        self.fields["period_end"].error_messages["required"] = (
            "Enter the date the period ends"
        )

    def _chosen_measure(self) -> Measure | None:
        """The measure the form is for, as far as known before it is cleaned:
        the one chosen on the page sent, else the commitment's own."""
        if self.is_bound:
            # Not "²", which isdigit() takes and the database does not (review).
            chosen = parse_whole_number(
                str(self.data.get(self.add_prefix("measure")) or "")
            )
            if chosen is None:
                return None
            return self.fields["measure"].queryset.filter(pk=chosen).first()
        return self.instance.measure if self.instance.measure_id else None

    def seen_council(self, held):
        return held.contract.council

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity is not None and quantity <= 0:
            raise forms.ValidationError("Enter a quantity more than 0.")
        return quantity

    def clean_period_start(self):
        return _in_years(self.cleaned_data["period_start"], "the period starts")

    def clean_period_end(self):
        return _in_years(self.cleaned_data["period_end"], "the period ends")

    def clean(self) -> dict:
        data = super().clean()
        measure = data.get("measure")
        if measure is not None and "quantity" not in self.errors:
            error = _whole_number_error(measure, data.get("quantity"))
            typed = self.data.get(self.add_prefix("quantity"))
            if measure.unit != Unit.GBP and _pounds_typed(typed):
                error = (
                    f"{measure.code} ({measure.name}) is counted in "
                    f"{_unit_words(measure)}, not pounds: enter the quantity "
                    "without £."
                )
            if error:
                self.add_error("quantity", error)
        return data


def _evidence_upload_error(upload) -> str | None:
    name = Path(upload.name).name
    # Over the limit, councils.uploads.LimitedUploadHandler kept none of it.
    too_big = uploads.size_error(upload, socialvalue_models.EVIDENCE_MAX_MB)
    if too_big:
        return too_big
    if upload.size == 0:
        return f"“{name}” is empty."
    suffix = Path(name).suffix.lower()
    if suffix not in EVIDENCE_SUFFIXES:
        kinds = ", ".join(sorted(s.lstrip(".").upper() for s in EVIDENCE_SUFFIXES))
        return f"“{name}” is not a kind of file kept as evidence ({kinds})."
    return _evidence_content_error(upload, name, suffix)


# What the content of each kind of evidence file must be (councils.uploads.sniff).
_EVIDENCE_CONTENT = {
    ".pdf": ("pdf", "a PDF document"),
    ".jpg": ("jpeg", "a JPEG image"),
    ".jpeg": ("jpeg", "a JPEG image"),
    ".png": ("png", "a PNG image"),
    ".docx": ("docx", "a Word document"),
    ".xlsx": ("xlsx", "an Excel workbook"),
    ".odt": ("odt", "an OpenDocument text document"),
    ".ods": ("ods", "an OpenDocument spreadsheet"),
    ".csv": ("text", "a CSV (text) file"),
    ".txt": ("text", "a text file"),
}


def _evidence_content_error(upload, name: str, suffix: str) -> str | None:
    """Refuse a file whose content is not what its name says (a program renamed
    .pdf, a web page or SVG renamed .txt, a ZIP bomb renamed .docx)."""
    expected, what = _EVIDENCE_CONTENT[suffix]
    head = uploads.read_head(upload)
    sniffed = uploads.sniff(head)
    if sniffed.kind == "zip":
        try:
            sniffed = _sniff_office_zip(upload, name)
        except uploads.ArchiveRefused as refused:
            return str(refused)
    if sniffed.kind == expected:
        if expected == "text" and uploads.has_active_markup(
            head.decode("utf-8", errors="replace")
        ):
            return (
                f"“{name}” holds web page markup or script (HTML, SVG or "
                "JavaScript): it is not kept as evidence. Save it as PDF."
            )
        return None
    return (
        f"“{name}” is {sniffed.description}, not {what} as its name says: it is "
        "not kept as evidence. Save it as PDF, an image, an Office document, CSV "
        "or text and upload that."
    )


def _sniff_office_zip(upload, name: str) -> uploads.Sniffed:
    """What a ZIP-based Office file holds, refusing bombs and unsafe names from
    its directory and then by unzipping it, counted, into nothing."""
    label = f"“{name}”"
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            uploads.check_zip_directory(archive, label, uploads.EVIDENCE_ZIP)
            uploads.verify_members(archive, label, uploads.EVIDENCE_ZIP)
            return uploads.describe_zip(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        if isinstance(exc, uploads.ArchiveRefused):
            raise
        raise uploads.ArchiveRefused(
            f"{label} looks like an Office file but is damaged ({exc})."
        ) from exc
    finally:
        upload.seek(0)


# A return taking a contract's delivery of a measure past this many times what
# it commits to is saved only once its figure is confirmed (DeliveryReturnForm).
CHECK_PAST_COMMITMENT = 3

# An evidence file kept after a form error waits a day for the form to be sent again.
_HELD_SALT = "socialvalue.DeliveryReturnForm.evidence_held"
_HELD_MAX_AGE = 24 * 60 * 60


class DeliveryReturnForm(RefusesStaleSaves, forms.ModelForm):
    # Two tabs on one return: the second save would put back the first's
    # quantity (QA). See councils.stale.
    seen_salt = "localspend.return.seen"
    seen_what = "the return"
    evidence_upload = forms.FileField(
        label="Evidence file",
        required=False,
        allow_empty_file=True,  # refused below, naming the file
        help_text=f"PDF, image, Word, Excel, OpenDocument, CSV or text, "
        f"up to {EVIDENCE_MAX_MB} MB. Kept privately: only members of this council "
        "can download it.",
        widget=forms.ClearableFileInput(
            attrs={"accept": ",".join(sorted(EVIDENCE_SUFFIXES))}
        ),
    )
    # A signed note of the evidence file kept from an earlier try that had an
    # error, so the file is not lost (see `keep_evidence_for_retry`).
    evidence_held = forms.CharField(required=False, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(
        required=True,
        error_messages={
            "required": "Confirm that this delivery belongs to this contract"
        },
    )
    # Asked for, and shown, only when the quantity would take delivery far past
    # the commitment (`_far_past_commitment`): the figure asked about is noted
    # in `figure_asked`, so a tick counts only for that figure.
    figure_checked = forms.BooleanField(
        required=False, label="Yes, this figure is right"
    )
    figure_asked = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = DeliveryReturn
        fields = [
            "quantity",
            "period_start",
            "period_end",
            "evidence_note",
            "evidence_upload",
            "evidence_held",
            "confirmed",
        ]
        labels = {
            "quantity": "Quantity delivered",
            "period_start": "Period starts",
            "period_end": "Period ends",
            "evidence_note": "Evidence",
        }
        widgets = {
            "period_start": _DATE,
            "period_end": _DATE,
            "evidence_note": forms.Textarea(attrs={"rows": 4}),
        }
        field_classes = {"quantity": NumberField}
        error_messages = {
            "quantity": _QUANTITY,
            "period_start": {
                "invalid": "Enter the date the period starts as a real date"
            },
            "period_end": {"invalid": "Enter the date the period ends as a real date"},
        }

    def __init__(self, *args, commitment: Commitment, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.commitment = commitment
        self.held: dict | None = None  # the evidence file kept from an earlier try
        contract = commitment.contract
        measure = commitment.measure
        if measure.unit == Unit.GBP:
            # "£250,000" (QA: refused), as the contract's value takes it.
            quantity = self.fields["quantity"]
            self.fields["quantity"] = PoundsField(
                max_digits=quantity.max_digits,
                decimal_places=quantity.decimal_places,
                label=quantity.label,
                error_messages=_POUNDS_QUANTITY,
            )
        hint = f"{unit_hint(measure)} Enter 0 if nothing was delivered in the period."
        self.fields["quantity"].help_text = hint
        self.fields["period_end"].help_text = (
            f"Both days are included, within the commitment's period "
            f"({commitment.period}). Returns cannot overlap."
        )
        self.fields["confirmed"].label = (
            f"This delivery belongs to contract {contract.reference} "
            f"({contract.title}) and is not reported under another contract"
        )
        messages = {
            "quantity": "Enter the quantity delivered",
            "period_start": "Enter the date the period starts",
            "period_end": "Enter the date the period ends",
            "evidence_note": "Describe the evidence for this delivery",
        }
        for name, message in messages.items():
            self.fields[name].error_messages["required"] = message
        # The check of a figure far past the commitment, under the figure.
        order = list(self.fields)
        for name in ("figure_asked", "figure_checked"):
            order.remove(name)
        where = order.index("quantity") + 1
        self.order_fields([*order[:where], "figure_checked", "figure_asked"])
        self.asks_to_check_figure = False  # set by clean(): show the checkbox

    @classmethod
    def seen_names(cls) -> list[str]:
        """The return's own fields: not the file chosen or the confirmation."""
        return ["quantity", "period_start", "period_end", "evidence_note"]

    def _far_past_commitment(self, quantity: Decimal) -> str:
        """The warning, or "", when this return would take the contract's
        delivery of its measure (all its commitments to it, as the notice
        after saving counts) to more than CHECK_PAST_COMMITMENT times what
        they commit to, and this return adds to it. A little over-delivery is
        saved with a notice afterwards; this far over, an extra 0 typed is
        likelier than real delivery (QA: 1,000,000 apprenticeships started
        against 4 committed was saved)."""
        if not quantity:
            return ""
        commitment = self.instance.commitment
        measure = commitment.measure
        commitments = Commitment.objects.filter(
            contract_id=commitment.contract_id, measure_id=commitment.measure_id
        )
        committed = commitments.aggregate(n=Sum("quantity"))["n"] or Decimal(0)
        delivered = DeliveryReturn.objects.filter(commitment__in=commitments).aggregate(
            before=Sum("quantity"),
            others=Sum("quantity", filter=~Q(pk=self.instance.pk)),
        )
        before = delivered["before"] or Decimal(0)
        after = (delivered["others"] or Decimal(0)) + quantity
        if after <= CHECK_PAST_COMMITMENT * committed or after <= before:
            return ""
        return (
            f"Check the quantity delivered: with this return, delivery of "
            f"{measure.code} ({measure.name}) on this contract would be "
            f"{measure.quantity_text(after)} against "
            f"{measure.quantity_text(committed)} committed, about "
            f"{round(after / committed):,} times the commitment. If the figure is "
            "right, tick “Yes, this figure is right” and save again; if not, "
            "correct it (an extra 0, say)."
        )

    def _check_figure(self, quantity: Decimal) -> None:
        """Ask to confirm a quantity far past the commitment (see
        `_far_past_commitment`): a tick counts only for the figure asked
        about, so a different figure is asked about again."""
        warning = self._far_past_commitment(quantity)
        if not warning:
            return
        figure = f"{quantity.normalize():f}"
        asked = self.data.get(self.add_prefix("figure_asked"))
        self.asks_to_check_figure = True
        if asked == figure and self.cleaned_data.get("figure_checked"):
            return
        self.data = self.data.copy()
        self.data[self.add_prefix("figure_asked")] = figure
        self.data.pop(self.add_prefix("figure_checked"), None)  # not yet ticked
        self.add_error("figure_checked", warning)

    def seen_council(self, held):
        return held.commitment.contract.council

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity is not None and quantity < 0:
            raise forms.ValidationError("Enter a quantity of 0 or more.")
        error = _whole_number_error(self.instance.commitment.measure, quantity)
        if error:
            raise forms.ValidationError(error)
        return quantity

    def clean_evidence_note(self) -> str:
        note = self.cleaned_data["evidence_note"].strip()
        if not note:
            raise forms.ValidationError("Describe the evidence for this delivery")
        return note

    def clean_evidence_upload(self):
        upload = self.cleaned_data.get("evidence_upload")
        if upload:
            error = _evidence_upload_error(upload)
            if error:
                raise forms.ValidationError(error)
        return upload

    def clean(self) -> dict:
        data = super().clean()
        if data.get("quantity") is not None and "quantity" not in self.errors:
            self._check_figure(data["quantity"])
        # A file chosen now replaces one kept from an earlier try.
        self.held = None
        token = data.get("evidence_held")
        if token and not data.get("evidence_upload"):
            self.held = self._read_held(token)
            if self.held is None and "evidence_upload" not in self.errors:
                self.add_error(
                    "evidence_upload",
                    "Choose the evidence file again: the file kept from your "
                    "last try could not be found.",
                )
        return data

    def keep_evidence_for_retry(self) -> None:
        """After an error, keep the evidence file that passed its checks (and
        note it, signed, in the hidden field) so it is not chosen again."""
        council = self.instance.commitment.contract.council
        upload = (self.cleaned_data or {}).get("evidence_upload")
        if "evidence_upload" in self.errors:
            self.held = None  # the file chosen was refused: nothing is kept
        elif upload:
            data = b"".join(upload.chunks())
            self.held = {
                "file": keep_evidence(council, upload.name, data),
                "name": Path(upload.name).name[:255],
            }
        self.data = self.data.copy()
        self.data["evidence_held"] = (
            signing.dumps(
                {**self.held, "commitment": self.instance.commitment_id},
                salt=_HELD_SALT,
            )
            if self.held
            else ""
        )

    def _read_held(self, token: str) -> dict | None:
        """The kept file the token names, if it is genuine, recent, for this
        commitment, and the file is still there; otherwise None."""
        try:
            held = signing.loads(token, salt=_HELD_SALT, max_age=_HELD_MAX_AGE)
        except signing.BadSignature:
            return None
        council = self.instance.commitment.contract.council
        if not isinstance(held, dict) or held.get("commitment") != (
            self.instance.commitment_id
        ):
            return None
        relative, name = held.get("file"), held.get("name")
        pattern = rf"{re.escape(council.slug)}/evidence/[0-9a-f]{{64}}\.[a-z]+"
        if not (
            isinstance(relative, str)
            and isinstance(name, str)
            and re.fullmatch(pattern, relative)
            and Path(relative).suffix in EVIDENCE_SUFFIXES
            and evidence_path(relative).is_file()
        ):
            return None
        return {"file": relative, "name": name}


class ProxyValueForm(forms.ModelForm):
    year = FinancialYearField(label="Financial year", help_text="For example, 2024/25")

    class Meta:
        model = ProxyValue
        fields = ["measure", "year", "value", "source"]
        labels = {"value": "Value per unit (£)"}
        field_classes = {"value": PoundsField}
        error_messages = {
            "value": _number_messages(
                "the value per unit", "£100,000,000", places=4, example="14.85"
            )
        }
        help_texts = {
            "value": "Pounds for one unit of the measure: per hour, per week, per "
            "FTE-year, per tonne, or per £1 spent.",
        }
        widgets = {"source": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, council: Council, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.council = council
        current = self.instance.measure if self.instance.measure_id else None
        self.fields["measure"] = MeasureField(
            _measures(current), error_messages={"required": "Choose a measure"}
        )
        self.fields["value"].error_messages["required"] = "Enter the value per unit"
        self.fields["year"].error_messages["required"] = "Enter the financial year"
        self.fields["source"].error_messages["required"] = (
            "Say where the value comes from"
        )

    def clean_value(self):
        value = self.cleaned_data["value"]
        if value is not None and value <= 0:
            raise forms.ValidationError("Enter a value more than £0.")
        return value

    def clean_year(self):
        # Security review: 1000/01 and 9999/00 were saved.
        year = self.cleaned_data["year"]
        error = year_range_error(year)
        if error:
            raise forms.ValidationError(error)
        return year

    def clean(self) -> dict:
        data = super().clean()
        measure, year = data.get("measure"), data.get("year")
        if measure and year:
            taken = ProxyValue.objects.filter(
                council=self.instance.council, measure=measure, year=year
            ).exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error(
                    "year",
                    f"There is already a value for {measure.code} in "
                    f"{FinancialYear(year)}: change that one instead.",
                )
        return data
