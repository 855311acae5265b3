from django import forms

from councils.periods import FinancialYear
from socialvalue.models import TAG_VALUES, Target


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


class TargetForm(forms.ModelForm):
    baseline_year = FinancialYearField(
        label="Baseline financial year", help_text="For example, 2017/18"
    )
    target_year = FinancialYearField(
        label="Target financial year", help_text="For example, 2023/24"
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

    def __init__(self, *args, council, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.council = council

    def clean(self) -> dict:
        data = super().clean()
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


class TagOverrideForm(forms.Form):
    value = forms.ChoiceField(label="Tag", widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Say what you checked, e.g. “Trading address confirmed on their "
        "invoice: LU1 3AA”. This is shown with the tag and kept in its history.",
        error_messages={"required": "Enter the reason for the override"},
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].choices = list(TAG_VALUES[kind].items())
        self.fields["value"].error_messages["required"] = "Choose the tag"

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < 5:
            raise forms.ValidationError("Give a reason of at least a few words")
        return reason
