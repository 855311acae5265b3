"""The signed-in person's own account: signing in and out, changing the password.

Django's views, with the app's plain wording: a sign-in page that sends a person
already signed in on to their councils, a sign-out address that asks before it
signs out (a GET cannot sign anyone out), and a change of password that is
recorded, in the log and in the account's history in the Django admin.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator

logger = logging.getLogger(__name__)

PASSWORD_CHANGED = "Changed their own password (Change your password page)."


def client_address(request) -> str | None:
    """The address a sign-in came from, for the lockout (django-axes).

    Behind `LOCALSPEND_PROXY_COUNT` reverse proxies, each adds the address it was
    reached from to the end of X-Forwarded-For, so the client's is that many from
    the right; anything further left, the client could have written itself. With
    no proxy said, or a header too short to have passed through them, the
    connection's own address."""
    remote = request.META.get("REMOTE_ADDR")
    count = settings.LOCALSPEND_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if len(hops) < count:
        return remote
    # Some proxies add the port ("203.0.113.5:4711", "[2001:db8::1]:4711"): the
    # address alone is stored (review: anything else failed the sign-in).
    return _address(hops[-count]) or remote


def _address(hop: str) -> str | None:
    """The IP address in an X-Forwarded-For entry, or None if there is none."""
    if hop.startswith("["):
        hop = hop[1 : hop.find("]")] if "]" in hop else ""
    elif hop.count(":") == 1:
        hop = hop.split(":")[0]
    try:
        return str(ipaddress.ip_address(hop))
    except ValueError:
        return None


def password_rules() -> str:
    """The password rules in one plain sentence, from the configured validators."""
    validators = {
        type(validator).__name__: validator
        for validator in password_validation.get_default_password_validators()
    }
    rules = []
    if length := validators.get("MinimumLengthValidator"):
        rules.append(f"at least {length.min_length} characters")
    if "CommonPasswordValidator" in validators:
        rules.append("not a common password")
    if "NumericPasswordValidator" in validators:
        rules.append("not all digits")
    if "UserAttributeSimilarityValidator" in validators:
        rules.append("not like your username, name or email address")
    if not rules:
        return ""
    text = ", ".join(rules[:-1]) + (" and " if len(rules) > 1 else "") + rules[-1]
    return text[0].upper() + text[1:] + "."


class SignInForm(auth_forms.AuthenticationForm):
    error_messages = {
        "invalid_login": "The username and password do not match a LocalSpend "
        "account. Check them and try again: both must be typed exactly, capital "
        "letters included.",
        "inactive": "This LocalSpend account is switched off. Ask whoever runs "
        "LocalSpend for your council to switch it on.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your username."
        self.fields["password"].error_messages["required"] = "Enter your password."


@method_decorator(login_not_required, name="dispatch")
class SignInView(auth_views.LoginView):
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        url = super().get_success_url()
        if urlsplit(url).path == self.request.path:
            # ?next= the sign-in page itself: Django would refuse it as a loop.
            return resolve_url(settings.LOGIN_REDIRECT_URL)
        return url


@method_decorator(login_not_required, name="dispatch")
class SignOutView(auth_views.LogoutView):
    """POST signs out; GET (a typed or bookmarked address) asks first. Someone
    already signed out is sent to the sign-in page, never asked to sign in to
    sign out."""

    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(settings.LOGIN_URL)
        return render(request, "registration/logout_confirm.html")


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    error_messages = {
        "password_mismatch": "The two new passwords are different. Enter the same "
        "new password in both boxes.",
        "password_incorrect": "Your current password is not right. Enter the "
        "password you signed in with.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["old_password"].label = "Your current password"
        fields["old_password"].error_messages["required"] = (
            "Enter your current password."
        )
        fields["new_password1"].label = "New password"
        fields["new_password1"].help_text = password_rules()
        fields["new_password1"].error_messages["required"] = "Enter a new password."
        fields["new_password2"].label = "New password again"
        fields["new_password2"].help_text = "Type the new password again, to be sure."
        fields["new_password2"].error_messages["required"] = (
            "Enter the new password again."
        )
        fields["old_password"].widget.attrs.pop("autofocus", None)

    def clean(self):
        # Django checks the new password's strength under the second box; the
        # error belongs with the first, where the password is chosen.
        cleaned = forms.Form.clean(self)
        self.validate_passwords("new_password1", "new_password2")
        password = cleaned.get("new_password1")
        if password and "new_password1" not in self.errors:
            try:
                password_validation.validate_password(password, self.user)
            except ValidationError as error:
                self.add_error(
                    "new_password1",
                    " ".join(error.messages) + " Choose another password.",
                )
            else:
                if cleaned.get("old_password") == password:
                    self.add_error(
                        "new_password1",
                        "The new password is the same as your current one. "
                        "Choose a different password.",
                    )
        return cleaned


class PasswordChangeView(auth_views.PasswordChangeView):
    # Not Django's template names: the admin's own password pages use those.
    template_name = "registration/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        # Who changed which account's password, and when: in the log, and in the
        # account's history in the Django admin (Users > the user > History).
        LogEntry.objects.log_actions(
            user_id=user.pk,
            queryset=[user],
            action_flag=CHANGE,
            change_message=PASSWORD_CHANGED,
            single_object=True,
        )
        logger.info(
            "Password changed: %s (user id %s) changed their own password.",
            user.get_username(),
            user.pk,
        )
        return response
