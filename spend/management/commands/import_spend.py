"""python manage.py import_spend PATH --council SLUG [--user USERNAME] [--vat-basis]
[--dry-run] [--format json]

With `--user`, a user who may upload spend files at the council, the upload is
theirs and the import's history records them; without it (bulk history loads), the
history names no one and its reasons say "from the command line".

After the reconciliation, the text output lists the columns read for each layout
of the file, as the upload's result page does (`spend.parse.columns_read`): with
`--dry-run`, the columns the import would read, as the preview page proposes them;
for a file already imported, those its payments were read with then.

Exit status: 0 when the file was read (rejected rows and already-imported files
included), 1 when the file was refused, 2 for a usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.template.defaultfilters import pluralize

from councils.access import can, role_in
from councils.models import Capability, Council, Role
from councils.templatetags.money import gbp
from spend.importer import (
    ImportResult,
    check_file,
    first_upload_of,
    import_spend_file,
)
from spend.models import LIVE_STATUSES, SpendUpload, UploadStatus, VatBasis
from spend.parse import REMEMBERED_NOTE, FileRefused, columns_read
from spend.storage import keep_file, sha256_of

# Said in the history's reasons of what the command does.
VIA = "the command line"

# Notes of how the columns were chosen, which the columns section says already.
SAID_IN_COLUMNS = (REMEMBERED_NOTE, "With no header row, ")

# The columns section's heading, by status: a dry run lists the columns the import
# would read; a file already imported, those its payments were read with then.
COLUMNS_HEADING = {
    "dry_run": "Columns the import would read:",
    "duplicate": "Columns read when it was imported:",
}


class Command(BaseCommand):
    help = "Import a council's spend file (CSV, XLSX or a ZIP holding one)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The spend file.")
        parser.add_argument(
            "--council", required=True, help="Council slug, e.g. luton."
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Who is importing: a user who may upload spend files at the "
            "council. The upload is theirs, and its history names them; without "
            "it, the history names no one and says the command line did it.",
        )
        parser.add_argument(
            "--vat-basis",
            choices=VatBasis.values,
            default=VatBasis.UNKNOWN,
            help="Net or gross of VAT; left unknown, taken from the amount "
            "column's heading when it says so.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Read and reconcile; save nothing."
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, path, council, user, vat_basis, dry_run, format, **options):
        council_obj = Council.objects.filter(slug=council).first()
        if council_obj is None:
            raise CommandError(f"No council with the slug {council!r}.", returncode=2)
        self._council = council_obj
        self._user = None if user is None else _uploader(user, council_obj)
        # Each layout's columns, as `columns_read` gives them: only for the text.
        self._layouts: list[dict] = []
        self._wants_columns = format == "text"
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No file at {path}.", returncode=2)
        limit = settings.MAX_UPLOAD_MB * 1024 * 1024
        if file.stat().st_size > limit:
            result = ImportResult(file=file.name, council=council, status="refused")
            result.message = (
                f'"{file.name}" is larger than {settings.MAX_UPLOAD_MB} MB, the limit.'
            )
            return self._finish(result, format)
        data = file.read_bytes()
        try:
            result = self._import(council_obj, data, file.name, vat_basis, dry_run)
        except FileRefused as refusal:
            result = ImportResult(file=file.name, council=council, status="refused")
            result.message = str(refusal)
        self._finish(result, format)

    def _import(self, council, data, name, vat_basis, dry_run) -> ImportResult:
        sha = sha256_of(data)
        earlier = first_upload_of(council, sha)
        if dry_run or earlier:
            result = check_file(council, data, name, vat_basis)
            if not earlier:
                if self._wants_columns:
                    self._layouts = _columns_planned(name, result.plans)
                return result
            # The columns its payments were read with when it was imported.
            self._layouts = columns_read(earlier.mappings, earlier.file_name)
            result.status = "duplicate"
            who = earlier.uploaded_by or "the command line"
            result.message = (
                f'"{name}" was already imported on '
                f"{earlier.uploaded_at:%d %B %Y at %H:%M} by {who}"
                f"{earlier.named_then(name)}: nothing new was imported."
            )
            if earlier.holds_nothing:
                result.message += (
                    f" That import (upload #{earlier.pk}) added no payment: to read "
                    "the file with other columns, upload it in the browser, which "
                    "rolls that upload back and shows the columns to check."
                )
            return result
        try:
            with transaction.atomic():  # a savepoint: the refusal below can query
                upload = SpendUpload(
                    council=council,
                    file_name=name[:255],
                    sha256=sha,
                    size_bytes=len(data),
                    uploaded_by=self._user,
                    queued_by=self._user,
                    vat_basis=vat_basis,
                    stored_file=keep_file(council, data, name),
                )
                # No request, so no one unless named (--user).
                upload._history_user = self._user
                upload._change_reason = f"Uploaded from {VIA}"
                upload.save(force_insert=True)
        except IntegrityError:
            held = (
                SpendUpload.objects.for_council(council)
                .filter(sha256=sha, status__in=LIVE_STATUSES)
                .first()
            )
            waiting = held is not None and held.status == UploadStatus.PENDING
            raise CommandError(
                f'"{name}" was uploaded in the browser (upload #{held.pk}) and is '
                "waiting for its columns to be checked there: import it from its "
                "preview page, or discard it there first."
                if waiting
                else f'"{name}" is being imported for {council.short_name} right now.',
                returncode=1,
            ) from None
        progress = self._progress_bar() if sys.stderr.isatty() else None
        result = import_spend_file(upload=upload, data=data, progress=progress, via=VIA)
        # Its mappings, as the import saved them.
        self._layouts = columns_read(upload.mappings, upload.file_name)
        return result

    def _progress_bar(self):
        def show(rows: int) -> None:
            sys.stderr.write(f"\r  {rows:,} rows read…")
            sys.stderr.flush()

        return show

    def _finish(self, result: ImportResult, format: str) -> None:
        if format == "json":
            payload = result.as_json()
            if result.status == "refused":
                payload["errors"] = [
                    {
                        "row": None,
                        "column": None,
                        "value": None,
                        "message": result.message,
                    }
                ]
            self.stdout.write(json.dumps(payload))
        else:
            self._write_text(result)
        if result.status == "refused":
            sys.exit(1)

    def _write_text(self, r: ImportResult) -> None:
        if r.status == "refused":
            self.stderr.write(f"Refused: {r.message}")
            return
        if r.message:
            self.stdout.write(r.message)
        self.stdout.write(
            f"{r.file} ({r.status}): {r.rows_read:,} rows read = {r.rows_imported:,} "
            f"imported + {r.rows_rejected:,} rejected + {r.rows_duplicate:,} "
            f"duplicate + {r.rows_skipped:,} skipped (totals)."
        )
        self.stdout.write(
            f"Amounts: {gbp(r.amount_imported)} imported, {gbp(r.amount_rejected)} "
            f"rejected, {gbp(r.amount_duplicate)} duplicate, {gbp(r.amount_skipped)} "
            "in skipped rows."
        )
        if r.file_stated_total is not None:
            held = r.amount_imported + r.amount_duplicate
            verdict = "matches" if held == r.file_stated_total else "does NOT match"
            self.stdout.write(
                f"The file states a total of {gbp(r.file_stated_total)}: it {verdict} "
                f"the {gbp(held)} read as payments."
            )
        self.stdout.write(
            f"{r.redacted_lines:,} redacted payee line{pluralize(r.redacted_lines)}; "
            f"{r.new_suppliers:,} new supplier{pluralize(r.new_suppliers)}."
        )
        self._write_columns(r.status)
        for note in r.notes:
            if self._layouts and note.startswith(SAID_IN_COLUMNS):
                continue  # "Columns read" says how the columns were chosen
            self.stdout.write(f"  note: {note}")
        for error in r.errors[:20]:
            self.stdout.write(f"  row {error['row']}, {error['column']}: {_why(error)}")

    def _write_columns(self, status: str) -> None:
        """Each layout's columns: where each item was read from, the columns not
        read, and whether they were remembered, recognised or guessed. A dry run
        says what the import would read, and how to change it."""
        if not self._layouts:
            return
        would = status == "dry_run"
        self.stdout.write(COLUMNS_HEADING.get(status, "Columns read:"))
        count = len(self._layouts)
        for number, layout in enumerate(self._layouts, start=1):
            title = _layout_title(number, count, layout["sheets"], layout["of_a_file"])
            if title:
                self.stdout.write(f"  {title}:")
            self.stdout.write(f"  {self._how_chosen(layout, would=would)}")
            for field, column in layout["columns"].used:
                self.stdout.write(f"    {field}: {column}")
            unused = layout["columns"].unused
            self.stdout.write(
                f"    Not read: {', '.join(unused) if unused else 'none'}"
            )
        if would:
            # A file with no header row is guessed every time, never remembered.
            remembered = any(layout["has_header"] for layout in self._layouts)
            self.stdout.write(
                "  Columns wrong? Upload the file in the browser and tick “Let me "
                "check the columns before importing” to choose them. The choice is "
                f"remembered for {self._council.short_name}'s files with the same "
                "headings, and this command reads them that way too."
                if remembered
                else "  Columns wrong? Upload the file in the browser: a file with no "
                "header row always shows its columns there, to check before importing."
            )

    def _how_chosen(self, layout: dict, *, would: bool) -> str:
        source = layout["source"]
        if source == "remembered":
            files = (
                "files with these headings"
                if layout["has_header"]
                else "files with no header row and as many columns"
            )
            return (
                f"Remembered: the columns {self._council.short_name} chose before "
                f"for {files}."
            )
        if source == "guessed":
            check = " Check them before importing." if would else ""
            return f"Guessed from the values: the file has no header row.{check}"
        if source == "chosen":
            return "Chosen on the preview page."
        return "Recognised from the headings."


def _uploader(username: str, council: Council):
    """The user `--user` names, if they may upload spend files at `council`; else
    a usage error (exit status 2) saying why."""
    found = get_user_model().objects.filter(username=username).first()
    if found is None:
        raise CommandError(f"No user with the username {username!r}.", returncode=2)
    if not can(found, council, Capability.UPLOAD):
        role = role_in(found, council)
        if not found.is_active:
            why = "their account is not active"
        elif role is None:
            why = f"they are not a member of {council.short_name}"
        else:
            why = f"their role there is {Role(role).label.lower()}"
        raise CommandError(
            f"{username!r} cannot upload spend files at {council.short_name}: {why}.",
            returncode=2,
        )
    return found


def _layout_title(
    number: int, count: int, sheets: list[str], of_a_file: bool = False
) -> str:
    """`Layout 2 of 3, sheets “Jan”, “Feb”`; `File “x.csv”` for a CSV unzipped
    from a ZIP; "" for a CSV's only layout."""
    parts = [f"Layout {number} of {count}"] if count > 1 else []
    if sheets:
        named = ", ".join(f"“{sheet}”" for sheet in sheets)
        kind = "file" if of_a_file else "sheet" if len(sheets) == 1 else "sheets"
        parts.append(f"{kind} {named}")
    title = ", ".join(parts)
    return title[:1].upper() + title[1:]


def _columns_planned(name: str, plans: list) -> list[dict]:
    """The columns the import would read, as the dry run planned them (the
    council's remembered choice for a layout, else recognised or guessed), in the
    shape of an upload's saved mappings, for `columns_read`."""
    mappings = [
        {
            "sheet": plan.sheet,
            "layout": plan.layout,
            "header": plan.header,
            "width": plan.width,
            "columns": plan.columns,
            "source": plan.source,
        }
        for plan in plans
    ]
    return columns_read(mappings, name)


def _why(error: dict) -> str:
    """A rejected row's problem, with its value where the problem does not
    quote it already (QA: 'not a valid date: "31/02/2017" (…) ('31/02/2017')')."""
    message, value = error["message"], error["value"]
    if value is None or str(value) == "" or str(value) in message:
        return message
    return f"{message} (the value: “{value}”)"
