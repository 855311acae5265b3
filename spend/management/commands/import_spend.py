"""python manage.py import_spend PATH --council SLUG [--vat-basis] [--dry-run] [--format json]

Exit status: 0 when the file was read (rejected rows and already-imported files
included), 1 when the file was refused, 2 for a usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from councils.models import Council
from councils.templatetags.money import gbp
from spend.importer import (
    ImportResult,
    check_file,
    first_upload_of,
    import_spend_file,
)
from spend.models import SpendUpload, VatBasis
from spend.parse import FileRefused
from spend.storage import keep_file, sha256_of


class Command(BaseCommand):
    help = "Import a council's spend file (CSV, XLSX or a ZIP holding one)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The spend file.")
        parser.add_argument(
            "--council", required=True, help="Council slug, e.g. luton."
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

    def handle(self, *args, path, council, vat_basis, dry_run, format, **options):
        council_obj = Council.objects.filter(slug=council).first()
        if council_obj is None:
            raise CommandError(f"No council with the slug {council!r}.", returncode=2)
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
            if earlier:
                result.status = "duplicate"
                who = earlier.uploaded_by or "the command line"
                result.message = (
                    f'"{name}" was already imported on '
                    f"{earlier.uploaded_at:%d %B %Y at %H:%M} by {who}"
                    f"{earlier.named_then(name)}: nothing new was imported."
                )
            return result
        try:
            upload = SpendUpload.objects.create(
                council=council,
                file_name=name[:255],
                sha256=sha,
                size_bytes=len(data),
                vat_basis=vat_basis,
                stored_file=keep_file(council, data, name),
            )
        except IntegrityError:
            raise CommandError(
                f'"{name}" is being imported for {council.short_name} right now.',
                returncode=1,
            ) from None
        progress = self._progress_bar() if sys.stderr.isatty() else None
        return import_spend_file(upload=upload, data=data, progress=progress)

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
            f"{r.redacted_lines:,} redacted payee lines; {r.new_suppliers:,} new suppliers."
        )
        for note in r.notes:
            self.stdout.write(f"  note: {note}")
        for error in r.errors[:20]:
            self.stdout.write(
                f"  row {error['row']}, {error['column']}: {error['message']} "
                f"({error['value']!r})"
            )
