"""Render Django form fields with GOV.UK Frontend classes and ARIA wiring."""

from __future__ import annotations

from django import forms, template

register = template.Library()

_CLASSES = {
    forms.Select: "govuk-select",
    forms.NullBooleanSelect: "govuk-select",
    forms.Textarea: "govuk-textarea",
    forms.CheckboxInput: "govuk-checkboxes__input",
    forms.ClearableFileInput: "govuk-file-upload",
    forms.FileInput: "govuk-file-upload",
}


@register.simple_tag
def govuk_widget(field: forms.BoundField) -> str:
    widget = field.field.widget
    css = next(
        (c for kind, c in _CLASSES.items() if isinstance(widget, kind)), "govuk-input"
    )
    if field.errors:
        css += f" {css.split()[0]}--error"
    if isinstance(widget, forms.NumberInput | forms.DateInput) or field.name.endswith(
        ("_share", "_year", "postcode")
    ):
        css += " govuk-input--width-10"
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-hint")
    if field.errors:
        described.append(f"{field.auto_id}-error")
    attrs = {"class": css}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(field: forms.BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)
