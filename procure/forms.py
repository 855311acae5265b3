from django import forms

from procure.models import Supplier


class SupplierForm(forms.ModelForm):
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

    def clean_company_number(self) -> str:
        number = self.cleaned_data["company_number"].strip().upper().replace(" ", "")
        if number and (len(number) > 8 or not number.isalnum()):
            raise forms.ValidationError(
                "Enter a Companies House number of up to 8 letters and digits, "
                "like 01234567 or SC123456."
            )
        return number.zfill(8) if number.isdigit() else number

    def clean_postcode(self) -> str:
        return " ".join(self.cleaned_data["postcode"].upper().split())

    def clean(self) -> dict:
        data = super().clean()
        if data.get("charity_number") and not data.get("charity_register"):
            self.add_error(
                "charity_register", "Choose which register the charity is on."
            )
        return data
