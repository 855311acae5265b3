"""A password rule Django's own validators leave out."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class NotOnlySpacesValidator:
    """Refuse a password of spaces (or other blanks) only: long enough for the
    length rule, but no secret at all."""

    def validate(self, password: str, user=None) -> None:
        if not password.strip():
            raise ValidationError(
                "This password is only spaces.", code="password_only_spaces"
            )

    def get_help_text(self) -> str:
        return "Your password cannot be only spaces."
