"""LocalSpend settings.

Every deploy-time value comes from an environment variable (listed in the README).
With none set, the app runs in development mode on a SQLite file in the project folder.
"""

from __future__ import annotations

import os
from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_DEV_SECRET_KEY = "django-insecure-localspend-development-only"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "" if not DEBUG else _DEV_SECRET_KEY)
if not SECRET_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG is off.")
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "The development secret key cannot be used in production."
    )

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# Debug mode (the default, for development) shows every visitor Django's error pages,
# with the URL list and settings, and uses a published secret key: refused for a server
# named for others to reach (review: hosts set, DJANGO_DEBUG forgotten).
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1", "testserver"}
if DEBUG and set(ALLOWED_HOSTS) - _LOCAL_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS names "
        + ", ".join(sorted(set(ALLOWED_HOSTS) - _LOCAL_HOSTS))
        + ", but debug mode is on (DJANGO_DEBUG is unset or 1). Set DJANGO_DEBUG=0 "
        "(and DJANGO_SECRET_KEY) for a server others use."
    )

# Django 6 has the tasks framework built in; on 5.2 the django-tasks package provides it.
_BUILTIN_TASKS = find_spec("django.tasks") is not None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "simple_history",
    "axes",
    "csp",
    *([] if _BUILTIN_TASKS else ["django_tasks"]),
    "django_tasks_db",
    "councils",
    "procure",
    "spend",
    "socialvalue",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "config.middleware.MethodNotAllowedPageMiddleware",
    "config.middleware.DatabaseBusyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so it can turn a login refused for too many failures into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "councils.context_processors.current_council",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'localspend.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the task worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The pages run short queries whose estimated cost can still pass the JIT
    # threshold: compiling them took longer than running them (130 of 280 ms on
    # the supplier list), so JIT is off for the app's connections.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (Index(include=...)) serve PostgreSQL; SQLite simply uses the
# key columns, which is all this warning says.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "councils.passwords.NotOnlySpacesValidator"},
]

# django-axes refuses a username from one address after too many failed sign-ins:
# its backend must come first, so a locked-out login is stopped before the password
# is checked. A successful sign-in under the limit clears the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOCALSPEND_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOCALSPEND_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The pause ends when it says it does: a wrong password during it does not start it
# again (review: one guess every 15 minutes kept an administrator out for good).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Behind a reverse proxy every request comes from the proxy's address, so one user's
# wrong passwords would pause everyone's sign-in as that username: say how many proxies
# stand in front, and the client's address is read from X-Forwarded-For
# (`councils.accounts.client_address`). With none (the default) only the connection's
# address counts: a forged header is ignored.
LOCALSPEND_PROXY_COUNT = env_int("LOCALSPEND_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "councils.accounts.client_address"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False  # no start-up banner in every command's output

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "councils:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "/static/"
# Where `collectstatic` gathers the static files for production.
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# In development WhiteNoise serves straight from the app folders, with no collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploaded spend files are kept outside anything the web server serves.
UPLOAD_ROOT = Path(
    os.environ.get("LOCALSPEND_UPLOAD_ROOT", BASE_DIR / "var" / "uploads")
)
MAX_UPLOAD_MB = env_int("LOCALSPEND_MAX_UPLOAD_MB", 50)
# An import with no progress reported for this long is shown as failed (its worker
# was stopped); nothing from it was saved and it can be tried again.
IMPORT_STALLED_AFTER = env_int("LOCALSPEND_IMPORT_STALLED_AFTER", 600)
# Each page's upload limit is enforced while the file arrives (councils/uploads.py):
# past it, the rest is counted, not kept, and the form says how big the file was.
# Files under it stay in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, then go to disk.
FILE_UPLOAD_HANDLERS = [
    "councils.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Reference data files (the ONS postcode directory is about 1 GB).
REFERENCE_MAX_UPLOAD_MB = env_int("LOCALSPEND_REFERENCE_MAX_UPLOAD_MB", 4096)
# Dashboard: a share this many points or fewer below its target is "close to target".
LOCALSPEND_AMBER_POINTS = env_int("LOCALSPEND_AMBER_POINTS", 5)
# OCDS: the publisher's registered prefix for contract OCIDs.
LOCALSPEND_OCDS_PREFIX = os.environ.get("LOCALSPEND_OCDS_PREFIX", "ocds-localspend")
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/govuk.html"

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# Security: production values when DEBUG is off; `check --deploy` is clean then.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Browser features no page uses, switched off (config/middleware.py).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Signed out after a working day (Django's default is two weeks): council staff
# share desks and machines.
SESSION_COOKIE_AGE = env_int("LOCALSPEND_SESSION_HOURS", 12) * 3600
if SESSION_COOKIE_AGE < 3600:
    raise ImproperlyConfigured("LOCALSPEND_SESSION_HOURS must be 1 or more")
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Content Security Policy (django-csp): scripts only from this site's own files, no
# inline scripts, event handler attributes or eval (tests/browser/test_csp.py).
# Styles allow inline: plotly.js writes style attributes and a <style> element as
# it draws a chart, and admin pages (simple-history's among them) have style
# attributes; a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

try:
    from config.local_settings import *  # noqa: F403, E402
except ImportError:
    pass
