"""Settings for the test suite: fast hashing, tasks run at once, a temporary upload root."""

import tempfile
from pathlib import Path

from config.settings import *  # noqa: F403
from config.settings import _BUILTIN_TASKS

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {
    "default": {
        "BACKEND": (
            "django.tasks.backends.immediate.ImmediateBackend"
            if _BUILTIN_TASKS
            else "django_tasks.backends.immediate.ImmediateBackend"
        )
    }
}
UPLOAD_ROOT = Path(tempfile.mkdtemp(prefix="localspend-test-uploads-"))
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
