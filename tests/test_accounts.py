"""A person's own account: signing in and out, changing the password, and the
pages met around them (the lockout, a refused form, a page not found, a server
error), in the app's plain words.

The policy and headers on these pages are checked in tests/test_security.py.
"""

from __future__ import annotations

import logging

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.test_security import PASSWORD, _sign_in, _signed_in_as

NEW_PASSWORD = "brisk-otter-lantern-42"


def _change(client, old=PASSWORD, new=NEW_PASSWORD, again=None):
    return client.post(
        reverse("password_change"),
        {
            "old_password": old,
            "new_password1": new,
            "new_password2": new if again is None else again,
        },
    )


def _errors(response) -> dict[str, list[str]]:
    return {
        name: list(errors) for name, errors in response.context["form"].errors.items()
    }


# --- Changing your password --------------------------------------------------------


def test_the_password_page_needs_a_signed_in_user(client, db):
    response = client.get("/accounts/password/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_every_page_links_to_change_your_password(client, council_admin, council):
    client.force_login(council_admin)
    page = client.get(reverse("councils:overview", args=[council.slug]))
    html = page.content.decode()
    assert 'href="/accounts/password/"' in html
    assert "Change your password" in html
    assert "Signed in as <strong>alice-admin</strong>" in html
    # Signed out, no account links.
    client.logout()
    assert b"Change your password" not in client.get(reverse("login")).content


def test_the_password_page_asks_in_plain_words(client, council_admin):
    client.force_login(council_admin)
    response = client.get(reverse("password_change"))
    assert response.status_code == 200
    assert "registration/password_change.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "<h1" in html and "Change your password" in html
    for label in ("Your current password", "New password", "New password again"):
        assert f">{label}" in html
    assert "At least 12 characters, not a common password, not all digits" in html
    assert 'autocomplete="current-password"' in html
    assert 'autocomplete="new-password"' in html
    assert "govuk-input" in html  # the app's field include, not Django's as_p


def test_a_wrong_current_password_is_refused(client, council_admin):
    client.force_login(council_admin)
    response = _change(client, old="not-my-password")
    assert response.status_code == 200
    assert _errors(response) == {
        "old_password": [
            "Your current password is not right. Enter the password you signed in with."
        ]
    }
    assert "Error: Change your password" in response.content.decode()
    council_admin.refresh_from_db()
    assert council_admin.check_password(PASSWORD)


@pytest.mark.parametrize(
    "new, problem",
    [
        ("short-pass", "too short"),
        ("password1234", "too common"),
        ("938475619283", "entirely numeric"),
        ("alice-admin!", "too similar to the username"),
        (" " * 14, "only spaces"),
    ],
)
def test_a_weak_new_password_is_refused_by_the_validators(
    client, council_admin, new, problem
):
    client.force_login(council_admin)
    response = _change(client, new=new)
    errors = _errors(response)
    assert list(errors) == ["new_password1"], errors
    (message,) = errors["new_password1"]
    assert problem in message and message.endswith("Choose another password.")
    council_admin.refresh_from_db()
    assert council_admin.check_password(PASSWORD)


def test_the_new_password_must_be_typed_twice_alike_and_be_new(client, council_admin):
    client.force_login(council_admin)
    response = _change(client, again=NEW_PASSWORD + "x")
    assert _errors(response) == {
        "new_password2": [
            "The two new passwords are different. Enter the same new password in "
            "both boxes."
        ]
    }
    response = _change(client, new=PASSWORD)
    assert _errors(response) == {
        "new_password1": [
            "The new password is the same as your current one. Choose a different "
            "password."
        ]
    }
    response = client.post(reverse("password_change"), {})
    assert _errors(response) == {
        "old_password": ["Enter your current password."],
        "new_password1": ["Enter a new password."],
        "new_password2": ["Enter the new password again."],
    }


def test_changing_the_password_works_keeps_you_signed_in_and_signs_out_elsewhere(
    client, council_admin
):
    elsewhere = Client()
    assert _sign_in(elsewhere, "alice-admin", PASSWORD).status_code == 302
    client.force_login(council_admin)

    response = _change(client)
    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    council_admin.refresh_from_db()
    assert council_admin.check_password(NEW_PASSWORD)

    done = client.get(response.url)
    assert done.status_code == 200
    assert "registration/password_changed.html" in [t.name for t in done.templates]
    assert "Password changed" in done.content.decode()
    assert _signed_in_as(client) == "alice-admin"
    # The other session was signed out by the change.
    assert elsewhere.get(reverse("councils:home")).status_code == 302
    assert _signed_in_as(elsewhere) is None
    # And the new password signs in.
    client.post(reverse("logout"))
    assert _sign_in(client, "alice-admin", NEW_PASSWORD).status_code == 302


def test_a_password_change_is_recorded_in_the_log_and_the_admin_history(
    client, council_admin, caplog
):
    client.force_login(council_admin)
    with caplog.at_level(logging.INFO, logger="councils.accounts"):
        _change(client)
    (record,) = [r for r in caplog.records if r.name == "councils.accounts"]
    assert record.levelno == logging.INFO
    assert record.getMessage() == (
        f"Password changed: alice-admin (user id {council_admin.pk}) changed their "
        "own password."
    )
    assert NEW_PASSWORD not in caplog.text and PASSWORD not in caplog.text

    (entry,) = LogEntry.objects.filter(object_id=str(council_admin.pk))
    assert entry.user == council_admin
    assert entry.action_flag == CHANGE
    assert entry.get_edited_object() == council_admin
    # A staff superuser sees it on the account's History page in the admin.
    superuser = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(superuser)
    history = client.get(reverse("admin:auth_user_history", args=[council_admin.pk]))
    assert history.status_code == 200
    assert "Changed their own password" in history.content.decode()


def test_a_refused_change_records_nothing(client, council_admin, caplog):
    client.force_login(council_admin)
    with caplog.at_level(logging.INFO, logger="councils.accounts"):
        _change(client, old="not-my-password")
    assert not [r for r in caplog.records if r.name == "councils.accounts"]
    assert not LogEntry.objects.exists()


def test_the_admins_own_password_pages_keep_the_admin_templates(client, db):
    """Django's admin renders registration/password_change_form.html: the app's
    page has its own name, so the admin's keeps its look."""
    superuser = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(superuser)
    response = client.get(reverse("admin:password_change"))
    assert response.status_code == 200
    assert "admin/base_site.html" in [t.name for t in response.templates]
    assert "base.html" not in [t.name for t in response.templates]


# --- Signing in --------------------------------------------------------------------


def test_a_wrong_password_is_told_in_plain_words(client, council_admin):
    response = _sign_in(client, "alice-admin", "not-my-password")
    assert response.status_code == 200
    html = response.content.decode()
    assert "The username and password do not match a LocalSpend account." in html
    assert "Please enter a correct" not in html
    assert "Error: Sign in" in html


def test_an_empty_sign_in_says_what_to_enter(client, db):
    response = client.post(reverse("login"), {})
    assert _errors(response) == {
        "username": ["Enter your username."],
        "password": ["Enter your password."],
    }


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", "/"),
        ("?next=/c/luton/", "/c/luton/"),
        ("?next=https://evil.example/", "/"),
        ("?next=/accounts/login/", "/"),  # Django's "redirection loop" error
    ],
)
def test_the_sign_in_page_sends_someone_signed_in_on(
    client, council_admin, council, query, expected
):
    client.force_login(council_admin)
    response = client.get(reverse("login") + query)
    assert response.status_code == 302
    assert response.url == expected


def test_the_sign_in_page_still_signs_in(client, council_admin):
    response = _sign_in(client, "alice-admin", PASSWORD)
    assert response.status_code == 302
    assert _signed_in_as(client) == "alice-admin"


def test_a_session_ends_after_a_working_day_not_two_weeks(client, council_admin):
    response = _sign_in(client, "alice-admin", PASSWORD)
    cookie = response.cookies["sessionid"]
    assert int(cookie["max-age"]) == 12 * 3600
    assert client.session.get_expiry_age() == 12 * 3600


# --- Signing out -------------------------------------------------------------------


def test_the_sign_out_address_asks_first_on_a_get(client, council_admin):
    client.force_login(council_admin)
    response = client.get(reverse("logout"))
    assert response.status_code == 200
    assert "registration/logout_confirm.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "Sign out of LocalSpend" in html
    main = html[html.index("<main") : html.index("</main>")]
    assert 'method="post" action="/accounts/logout/"' in main
    assert "csrfmiddlewaretoken" in main
    assert _signed_in_as(client) == "alice-admin"  # a GET signs no one out

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert _signed_in_as(client) is None


def test_the_sign_out_address_sends_someone_signed_out_to_sign_in(client, db):
    for method in (client.get, client.post):
        response = method(reverse("logout"))
        assert response.status_code == 302
        assert response.url == reverse("login")  # no ?next= back to sign out


# --- The pages around signing in ---------------------------------------------------


def test_the_lockout_page_says_who_can_unlock_the_account(client, council_admin):
    from django.conf import settings

    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "alice-admin", f"guess-{attempt}")
    response = _sign_in(client, "alice-admin", PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert "can set a new password and unlock your account" not in html
    assert "LocalSpend site administrator" in html
    assert "cannot unlock an account or set its password" in html
    assert "python manage.py axes_reset_username alice-admin" in html
    assert "Access attempts" in html


def test_a_refused_form_explains_itself(db, council_admin):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("login"), {"username": "alice-admin", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "403_csrf.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "The form could not be sent" in html
    assert "open for a long time" in html and "cookies" in html
    assert "reload the page" in html
    assert 'href="/accounts/login/"' in html
    assert "DEBUG" not in html and "CSRF verification failed" not in html


def test_a_refused_form_sends_a_signed_in_user_to_their_councils(db, council_admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(council_admin)
    response = client.post(reverse("logout"))
    assert response.status_code == 403
    assert 'href="/">Go to your councils' in response.content.decode()


def test_a_public_page_not_published_is_not_found_for_the_public(client, council):
    response = client.get(reverse("councils:public", args=[council.slug]))
    assert response.status_code == 404
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    assert "does not publish its spending on LocalSpend" in main
    assert "Go to your councils" not in main
    assert "sign in" not in main.lower() and "/accounts/login/" not in main
    assert "member" not in main


def test_a_private_page_not_found_still_speaks_to_staff(client, council_admin):
    client.force_login(council_admin)
    response = client.get("/c/no-such-council/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Go to your councils" in html
    assert "does not publish its spending" not in html


def test_the_server_error_page_is_honest_and_links_home(db):
    from django.views.defaults import server_error

    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Nothing you entered has been lost" not in html
    assert "may not have been saved" in html
    assert '<a class="govuk-link" href="/">' in html
    assert "govuk-frontend.min.css" in html  # styled like every other page
    assert "style=" not in html and "<style" not in html and "<script" not in html
