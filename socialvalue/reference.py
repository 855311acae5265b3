"""Load a reference data file and classify again the suppliers it affects.

The one place the management commands (`load_companies_house`, `load_charities`,
`load_living_wage`, `load_postcodes`) and the admin's "Load reference data" page
(run by the background task `socialvalue.tasks.load_reference_file`) go through:

- Companies House and the charity register change facts of the suppliers they
  match: those suppliers (`LoadReport.supplier_ids`) are classified again.
- The Living Wage list and the postcode directory bear on every supplier: when
  either changed, all suppliers are classified again.
- A load that changed nothing (the same file again), a dry run, or a caller that
  asks not to (`classify=False`, the commands' --no-classify) classifies nothing.

`classify_suppliers` refreshes the dashboard rollups itself when tags change.
Uploaded files wait under UPLOAD_ROOT/reference/, as spend files do under
UPLOAD_ROOT/<council>/: outside anything the web server serves, never named by
the user's file name; each is removed once loaded.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.move import file_move_safe

from councils import uploads
from socialvalue.loaders import (
    LoaderRefused,
    LoadReport,
    load_charities,
    load_companies_house,
    load_living_wage,
    load_postcodes,
    reporting_rows_read,
)
from socialvalue.models import ReferenceKind
from socialvalue.tagging import ClassifyResult, classify_suppliers

__all__ = [
    "EVERYONE",
    "Loaded",
    "NamedFile",
    "forget_file",
    "keep_reference_file",
    "load_and_classify",
]

# Kinds whose change bears on every supplier, and why, for the report.
EVERYONE = {
    ReferenceKind.LIVING_WAGE: "the Living Wage list changed",
    ReferenceKind.POSTCODES: "the postcode directory changed",
}
SUFFIXES = {".csv", ".txt", ".tsv", ".zip"}
FOLDER = "reference"
CHUNK = 1 << 20


@dataclass
class Loaded:
    """A load's report, and what was classified again after it."""

    kind: ReferenceKind
    report: LoadReport
    classified: ClassifyResult | None = None
    scope: str = ""  # "all" or "changed" when classified
    why_not: str = ""  # why nothing was classified

    def classify_lines(self) -> list[str]:
        result = self.classified
        if result is None:
            return [self.why_not]
        counts = (
            f"{result.created:,} tags new, {result.changed:,} changed, "
            f"{result.unchanged:,} unchanged"
            + (f", {result.removed:,} removed" if result.removed else "")
        )
        if self.scope == "all":
            whom = f"all {result.suppliers:,} suppliers ({EVERYONE[self.kind]})"
        else:
            whom = (
                f"{result.suppliers:,} supplier{'' if result.suppliers == 1 else 's'} "
                "whose facts changed"
            )
        return [f"Reclassified {whom}: {counts}."]

    def lines(self) -> list[str]:
        return self.report.lines() + self.classify_lines()

    def as_json(self) -> dict[str, Any]:
        result = self.classified
        return {
            **self.report.as_json(),
            "classified": None
            if result is None
            else {
                "scope": self.scope,
                "suppliers": result.suppliers,
                "created": result.created,
                "changed": result.changed,
                "unchanged": result.unchanged,
                "removed": result.removed,
            },
            "classify_lines": self.classify_lines(),
        }


def _load(
    kind: ReferenceKind, source, *, user, taken_on, dry_run, progress
) -> LoadReport:
    """The loader of `kind`, run on `source`."""
    if kind == ReferenceKind.COMPANIES_HOUSE:
        return load_companies_house(source, user=user, dry_run=dry_run)
    if kind == ReferenceKind.CHARITIES:
        return load_charities(source, user=user, dry_run=dry_run)
    if kind == ReferenceKind.LIVING_WAGE:
        if taken_on is None:
            raise LoaderRefused("Give the date the Living Wage list was taken.")
        return load_living_wage(source, taken_on=taken_on, user=user, dry_run=dry_run)
    return load_postcodes(source, progress=progress)  # after each batch written


def load_and_classify(
    kind: ReferenceKind | str,
    source: str | os.PathLike | IO[bytes],
    *,
    user: Any = None,
    taken_on: date | None = None,
    classify: bool = True,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Loaded:
    """Load `source` as `kind`, then classify again the suppliers it affects.

    Raises `LoaderRefused` (its message is for the person who chose the file)
    for a file that is not of its kind, or that cannot be read at all.
    """
    kind = ReferenceKind(kind)
    if kind == ReferenceKind.POSTCODES and dry_run:
        raise ValueError("The postcode directory has no dry run.")
    try:
        _refuse_binary(source)
        with reporting_rows_read(progress):
            report = _load(
                kind,
                source,
                user=user,
                taken_on=taken_on,
                dry_run=dry_run,
                progress=progress,
            )
    except (csv.Error, zipfile.BadZipFile, zlib.error, EOFError) as err:
        raise LoaderRefused(f"The file cannot be read: {err}.") from err
    loaded = Loaded(kind, report)
    if dry_run:
        loaded.why_not = "Dry run: no supplier was reclassified."
    elif not report.changes:
        loaded.why_not = "Nothing changed, so no supplier was reclassified."
    elif not classify:
        loaded.why_not = (
            "Not reclassified (--no-classify): run `manage.py classify_suppliers` "
            "when the loads are done."
        )
    elif kind in EVERYONE:
        loaded.scope = "all"
        loaded.classified = classify_suppliers(user=user)
    elif report.supplier_ids:
        loaded.scope = "changed"
        loaded.classified = classify_suppliers(
            supplier_ids=report.supplier_ids, user=user
        )
    else:
        loaded.why_not = "No supplier's facts changed, so none was reclassified."
    return loaded


def _refuse_binary(source: str | os.PathLike | IO[bytes]) -> None:
    """Refuse, in plain words, a file that is neither text nor a ZIP of text, and
    a ZIP bomb or a ZIP with unsafe member names (from its directory, before
    anything is unzipped; zipfile itself never unzips more than a member's stated
    size, so a directory that lies ends in a damaged-file refusal)."""
    if isinstance(source, str | os.PathLike):
        try:
            with open(source, "rb") as file:
                head = file.read(1 << 16)
                if head.startswith(b"PK\x03\x04"):
                    _refuse_unsafe_zip(file, Path(source).name)
        except OSError:
            return  # the loader says so
    else:
        head = source.read(1 << 16)
        source.seek(0)
        if head.startswith(b"PK\x03\x04"):
            _refuse_unsafe_zip(source, Path(getattr(source, "name", "") or "").name)
    if head.startswith(b"PK\x03\x04"):
        if b"[Content_Types].xml" in head and (b"xl/" in head or b"word/" in head):
            raise LoaderRefused(
                "This is an Excel (or Word) file, not a CSV file: save the sheet as "
                "CSV, or upload the file as it was downloaded."
            )
        return
    sniffed = uploads.sniff(head)
    if sniffed.kind in _NOT_TEXT:
        raise LoaderRefused(
            f"This is not a text (CSV) file: it is {sniffed.description} (binary "
            "data). Upload the file as it was downloaded."
        )
    if head.startswith((b"PK\x05\x06", b"PK\x07\x08")):
        raise LoaderRefused("The ZIP file is empty: it holds no CSV or text file.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise LoaderRefused(
            "This is an old Excel (.xls) or Word file, not a CSV file: save the sheet "
            "as CSV."
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    if b"\x00" in head:
        raise LoaderRefused(
            "This is not a text (CSV) file: it holds binary data (an image, a "
            "spreadsheet, or a damaged download?)."
        )


_NOT_TEXT = frozenset(
    {"pdf", "png", "jpeg", "gif", "tiff", "webp", "exe", "rtf", "archive"}
)


def _refuse_unsafe_zip(file: IO[bytes], name: str) -> None:
    label = f'"{name}"' if name else "The ZIP file"
    try:
        with zipfile.ZipFile(file) as archive:
            uploads.check_zip_directory(archive, label, uploads.REFERENCE_ZIP)
    except zipfile.BadZipFile:
        return  # the loader says the ZIP cannot be read
    except uploads.ArchiveRefused as refused:
        raise LoaderRefused(str(refused)) from refused
    finally:
        file.seek(0)


class NamedFile(io.BufferedReader):
    """A kept file, opened for a loader under the name it was uploaded with (the
    reports, the Living Wage snapshot and the suppliers' history show it)."""

    def __init__(self, path: str | os.PathLike, name: str) -> None:
        super().__init__(io.FileIO(path, "rb"))
        self._shown_name = name

    @property
    def name(self) -> str:  # type: ignore[override]
        return self._shown_name


def keep_reference_file(upload: Any) -> str:
    """Store an uploaded file under UPLOAD_ROOT/reference/<random><suffix>, in
    chunks (an ONSPD is about 1 GB); return that path, relative to UPLOAD_ROOT.

    As spend.storage.keep_file, the name never comes from the user's file name, so
    no upload can write outside its folder; unlike it, each upload gets a file of
    its own, removed once loaded.
    """
    suffix = Path(upload.name or "").suffix.lower()
    suffix = suffix if suffix in SUFFIXES else ".bin"
    relative = Path(FOLDER) / f"{uuid.uuid4().hex}{suffix}"
    path = kept_path(str(relative))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if hasattr(upload, "temporary_file_path"):  # large: already on disk
            file_move_safe(upload.temporary_file_path(), path)
            return str(relative)
        with open(path, "xb") as out:
            for chunk in upload.chunks(CHUNK):
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return str(relative)


def kept_path(relative: str) -> Path:
    return Path(settings.UPLOAD_ROOT) / relative


def forget_file(relative: str) -> None:
    """Remove a kept file once it is loaded (or refused)."""
    if relative:
        kept_path(relative).unlink(missing_ok=True)
