"""Uploaded spend files, kept outside anything the web server serves."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings

from councils.models import Council


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
    path = Path(settings.UPLOAD_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)
    return str(relative)


def read_kept(relative: str) -> bytes:
    return (Path(settings.UPLOAD_ROOT) / relative).read_bytes()
