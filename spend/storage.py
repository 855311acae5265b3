"""Uploaded spend files, kept outside anything the web server serves."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from django.conf import settings

from councils.models import Council

logger = logging.getLogger(__name__)

# Why an upload whose kept file cannot be read was marked failed. The file is
# needed until it is imported (a pending or failed upload reads it again); a
# backup restored without the upload folder loses it.
FILE_GONE = (
    "The uploaded file is no longer kept (it may not have been restored from a "
    "backup): upload it again."
)
FILE_UNREADABLE = (
    "The uploaded file could not be read back from where LocalSpend keeps it: "
    "upload it again, and if that fails too, tell your LocalSpend administrator."
)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def keep_file(council: Council, data: bytes, file_name: str) -> str:
    """Store the bytes under UPLOAD_ROOT/<council>/<sha256><suffix>; return that path.

    The name comes from the content's hash, never from the user's file name, so no
    upload can write outside its folder.
    """
    suffix = Path(file_name).suffix.lower()
    suffix = suffix if suffix in {".csv", ".xlsx", ".zip", ".txt"} else ".bin"
    relative = Path(council.slug) / f"{sha256_of(data)}{suffix}"
    path = kept_path(str(relative))
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written whole under a temporary name, then renamed (atomic on one file
        # system): a request uploading the same file at the same moment never
        # reads half of it.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
    return str(relative)


def kept_path(relative: str) -> Path:
    """The kept file's full path; a path that would leave UPLOAD_ROOT (``..``, an
    absolute path) is refused as if the file had gone."""
    root = Path(settings.UPLOAD_ROOT).resolve()
    path = (root / relative).resolve()
    if not relative or not path.is_relative_to(root):
        raise FileNotFoundError(f"No kept file {relative!r}.")
    return path


def read_kept(relative: str) -> bytes:
    """The kept file's bytes. Raises OSError (FileNotFoundError when it has gone):
    `why_unread` says why in words for the upload."""
    return kept_path(relative).read_bytes()


def discard_kept(relative: str) -> None:
    """Remove a kept file no upload holds any more; one already gone is no error."""
    try:
        kept_path(relative).unlink(missing_ok=True)
    except OSError as error:  # left behind: it takes space, it harms nothing
        logger.warning("Kept file %r could not be removed: %s", relative, error)


def why_unread(error: OSError) -> str:
    """The upload's message when its kept file could not be read."""
    if isinstance(error, FileNotFoundError | NotADirectoryError):
        return FILE_GONE
    return FILE_UNREADABLE
