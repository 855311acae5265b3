"""Production settings: `check --deploy` is clean; bad configuration fails loudly."""

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment |= {"DJANGO_SETTINGS_MODULE": "config.settings", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a3f9c1e07b5d2c84e6a1f0b9d7c3e5a2b8f4d6c0e1a7b9c3d5f2e8a4c6b0d1f3",
    "DJANGO_ALLOWED_HOSTS": "localspend.example.org",
}


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = PRODUCTION | {"DJANGO_SECRET_KEY": ""}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr


def test_a_mistyped_debug_flag_is_refused():
    result = _manage("check", DJANGO_DEBUG="maybe")
    assert "DJANGO_DEBUG must be" in result.stderr


def _settings(names: list[str], **env: str) -> dict[str, str]:
    """The named settings as the app sees them with this environment."""
    code = (
        "from django.conf import settings\n"
        f"for name in {names!r}:\n"
        "    print(name, '=', repr(getattr(settings, name, None)))\n"
    )
    result = _manage("shell", "--no-imports", "-c", code, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(line.split(" = ", 1) for line in result.stdout.splitlines())


def test_production_cookies_and_headers_are_secure():
    seen = _settings(
        [
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SESSION_COOKIE_HTTPONLY",
            "SECURE_SSL_REDIRECT",
            "SECURE_HSTS_SECONDS",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS",
            "X_FRAME_OPTIONS",
            "SECURE_CONTENT_TYPE_NOSNIFF",
            "SECURE_REFERRER_POLICY",
            "SECURE_CROSS_ORIGIN_OPENER_POLICY",
        ],
        **PRODUCTION,
    )
    assert seen == {
        "SESSION_COOKIE_SECURE": "True",
        "CSRF_COOKIE_SECURE": "True",
        "SESSION_COOKIE_HTTPONLY": "True",
        "SECURE_SSL_REDIRECT": "True",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "True",
        "X_FRAME_OPTIONS": "'DENY'",
        "SECURE_CONTENT_TYPE_NOSNIFF": "True",
        "SECURE_REFERRER_POLICY": "'same-origin'",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "'same-origin'",
    }


def test_the_content_security_policy_allows_no_inline_script_or_eval():
    seen = _settings(["CONTENT_SECURITY_POLICY"], **PRODUCTION)
    policy = ast.literal_eval(seen["CONTENT_SECURITY_POLICY"])
    directives = policy["DIRECTIVES"]
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]


def test_login_throttling_is_set_from_the_environment():
    names = ["AXES_FAILURE_LIMIT", "AXES_COOLOFF_TIME", "AXES_LOCKOUT_PARAMETERS"]
    default = _settings(
        names, LOCALSPEND_LOGIN_FAILURE_LIMIT="", LOCALSPEND_LOGIN_COOLOFF_MINUTES=""
    )
    assert default["AXES_FAILURE_LIMIT"] == "5"
    assert default["AXES_COOLOFF_TIME"] == "datetime.timedelta(seconds=900)"
    assert default["AXES_LOCKOUT_PARAMETERS"] == "[['username', 'ip_address']]"
    tuned = _settings(
        names,
        LOCALSPEND_LOGIN_FAILURE_LIMIT="8",
        LOCALSPEND_LOGIN_COOLOFF_MINUTES="60",
    )
    assert tuned["AXES_FAILURE_LIMIT"] == "8"
    assert tuned["AXES_COOLOFF_TIME"] == "datetime.timedelta(seconds=3600)"


def test_static_files_can_be_collected_outside_the_project():
    default = _settings(["STATIC_ROOT"], DJANGO_STATIC_ROOT="")
    assert default["STATIC_ROOT"] == repr(ROOT / "staticfiles")
    moved = _settings(["STATIC_ROOT"], DJANGO_STATIC_ROOT="/srv/localspend/static")
    assert moved["STATIC_ROOT"] == repr(Path("/srv/localspend/static"))


def test_session_length_is_set_from_the_environment_and_never_nothing():
    default = _settings(["SESSION_COOKIE_AGE"], LOCALSPEND_SESSION_HOURS="")
    assert default["SESSION_COOKIE_AGE"] == str(12 * 3600)
    day = _settings(["SESSION_COOKIE_AGE"], LOCALSPEND_SESSION_HOURS="8")
    assert day["SESSION_COOKIE_AGE"] == str(8 * 3600)
    result = _manage("check", LOCALSPEND_SESSION_HOURS="0")
    assert result.returncode != 0
    assert "LOCALSPEND_SESSION_HOURS must be 1 or more" in result.stderr


def test_debug_mode_is_refused_for_a_server_named_for_others():
    """Review: hosts set but DJANGO_DEBUG forgotten served Django's debug pages,
    with the development secret key."""
    result = _manage("check", DJANGO_ALLOWED_HOSTS="localspend.example.org")
    assert result.returncode != 0
    assert "debug mode is on" in result.stderr
    assert "Set DJANGO_DEBUG=0" in result.stderr
    # The development default, and local names, still start.
    assert _manage("check", DJANGO_ALLOWED_HOSTS="localhost,127.0.0.1").returncode == 0
