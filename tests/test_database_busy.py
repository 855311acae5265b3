"""A database locked by a long write (SQLite while the worker saves a big spend
file) gives a "busy, try again" page, not a server error (QA: sign-in failed
with a 500 during a 38,000-row import)."""

from django.db import OperationalError
from django.test import RequestFactory

from config.middleware import DatabaseBusyMiddleware


def _through(exception):
    def view(request):
        raise exception

    middleware = DatabaseBusyMiddleware(view)
    request = RequestFactory().post("/accounts/login/")
    try:
        middleware(request)
    except Exception as raised:  # as Django's handler would pass it on
        return middleware.process_exception(request, raised)
    raise AssertionError("the view did not raise")


def test_a_locked_database_gives_the_busy_page_with_retry_after():
    response = _through(OperationalError("database is locked"))
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    page = response.content.decode()
    assert "LocalSpend is busy: try again in a minute" in page
    assert "Nothing you asked was done" in page


def test_other_database_errors_are_left_to_the_error_page():
    assert _through(OperationalError("no such table: spend_spendline")) is None
    assert _through(ValueError("locked")) is None


def test_the_middleware_is_installed(settings):
    assert "config.middleware.DatabaseBusyMiddleware" in settings.MIDDLEWARE


def test_the_server_error_page_shares_the_busy_pages_frame():
    """500.html and 503.html are one frame (error_page.html) with their own words:
    rendered with no context, as Django's server_error renders it."""
    from django.views.defaults import server_error

    response = server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "<title>Sorry, there is a problem – LocalSpend</title>" in page
    assert "Sorry, there is a problem with LocalSpend" in page
    assert "Go to the LocalSpend home page" in page
    busy = _through(OperationalError("database is locked")).content.decode()
    assert "<title>LocalSpend is busy – LocalSpend</title>" in busy
    assert "Go to the LocalSpend home page" in busy
