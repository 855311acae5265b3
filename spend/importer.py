"""Import a spend file into a council's spend lines, all or nothing, reconciled.

`import_spend_file` is what the upload task, the `import_spend` command and the
tests call. It parses the file (`spend.parse`), matches suppliers in bulk, skips
lines already held from earlier uploads, and saves the lines, the rejected and
skipped rows and the reconciliation in one transaction: a failure leaves nothing.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from rapidfuzz import fuzz, process
from simple_history.utils import bulk_create_with_history

from councils.models import Council
from procure.models import MatchSuggestion, Supplier, SupplierAlias
from spend.models import (
    INTERNAL_ERROR,
    RememberedMapping,
    RowIssue,
    SpendLine,
    SpendUpload,
    UploadStatus,
)
from spend.parse import FileRefused, Line, ParsedFile, parse_file

logger = logging.getLogger(__name__)

CHUNK = 500  # names per IN (...) query
FUZZY_THRESHOLD = 90
ERRORS_SHOWN = 100


@dataclass
class ImportResult:
    """What happened to a file: the reconciliation the user sees."""

    file: str
    council: str
    status: str  # imported, duplicate, dry_run, refused
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    rows_skipped: int = 0
    amount_imported: Decimal = Decimal("0.00")
    amount_rejected: Decimal = Decimal("0.00")
    amount_duplicate: Decimal = Decimal("0.00")
    amount_skipped: Decimal = Decimal("0.00")
    file_stated_total: Decimal | None = None
    redacted_lines: int = 0
    new_suppliers: int = 0
    errors: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    message: str = ""

    def as_json(self) -> dict:
        """The `import_spend --format json` object, with exactly its documented keys."""
        money = lambda value: None if value is None else f"{value:.2f}"  # noqa: E731
        return {
            "file": self.file,
            "council": self.council,
            "status": self.status,
            "rows_read": self.rows_read,
            "rows_imported": self.rows_imported,
            "rows_rejected": self.rows_rejected,
            "rows_duplicate": self.rows_duplicate,
            "rows_skipped": self.rows_skipped,
            "amount_imported": money(self.amount_imported),
            "amount_rejected": money(self.amount_rejected),
            "amount_duplicate": money(self.amount_duplicate),
            "file_stated_total": money(self.file_stated_total),
            "redacted_lines": self.redacted_lines,
            "new_suppliers": self.new_suppliers,
            "errors": self.errors[:ERRORS_SHOWN],
        }


def remembered_mappings(council: Council) -> dict[str, dict[str, int]]:
    return {m.layout: m.columns for m in RememberedMapping.objects.for_council(council)}


def first_upload_of(council: Council, sha256: str) -> SpendUpload | None:
    """The live upload already holding this exact file, if any."""
    return (
        SpendUpload.objects.for_council(council)
        .filter(sha256=sha256, status=UploadStatus.IMPORTED)
        .select_related("uploaded_by")
        .first()
    )


def parse_for(
    council: Council,
    data: bytes,
    file_name: str,
    *,
    chosen: dict[str, dict[str, int]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ParsedFile:
    return parse_file(
        data,
        file_name,
        remembered=remembered_mappings(council),
        chosen=chosen,
        today=timezone.localdate(),
        progress=progress,
    )


def _sum(amounts: Iterable[Decimal | None]) -> Decimal:
    return sum((a for a in amounts if a is not None), Decimal("0.00"))


def _result_from(parsed: ParsedFile, council: Council, status: str) -> ImportResult:
    return ImportResult(
        file=parsed.file_name,
        council=council.slug,
        status=status,
        rows_read=parsed.rows_read,
        rows_rejected=len(parsed.rejected),
        rows_skipped=len(parsed.skipped),
        amount_rejected=_sum(p.amount for p in parsed.rejected),
        amount_skipped=_sum(p.amount for p in parsed.skipped),
        file_stated_total=parsed.file_stated_total,
        errors=[
            {"row": p.row, "column": p.column, "value": p.value, "message": p.message}
            for p in parsed.rejected[:ERRORS_SHOWN]
        ],
        notes=_notes(parsed),
    )


def _notes(parsed: ParsedFile) -> list[str]:
    notes = []
    for plan in parsed.blocks:
        where = f'Sheet "{plan.sheet}"' if len(parsed.blocks) > 1 else "The file"
        if plan.header_row:
            notes.append(f"{where}: header found on row {plan.header_row}.")
        notes.extend(plan.notes)
    if parsed.blank_rows:
        notes.append(f"{parsed.blank_rows} blank rows were ignored.")
    return list(dict.fromkeys(notes))


def split_duplicates(
    council: Council, lines: list[Line], *, exclude_upload: int | None = None
) -> tuple[list[Line], list[Line]]:
    """Lines not yet held by the council, and lines an earlier upload already holds.

    Identical lines inside one file are all real (split deliveries), so this counts:
    if the council holds a payment twice and the file has it three times, one is new.
    """
    wanted = Counter(line.line_key for line in lines)
    held: Counter[str] = Counter()
    held_lines = SpendLine.objects.for_council(council)
    if exclude_upload:
        held_lines = held_lines.exclude(upload_id=exclude_upload)
    for keys in _chunks(list(wanted), CHUNK):
        rows = (
            held_lines.filter(line_key__in=keys)
            .values("line_key")
            .annotate(n=Count("id"))
            .values_list("line_key", "n")
        )
        held.update(dict(rows))
    new, duplicate = [], []
    for line in lines:
        if held[line.line_key] > 0:
            held[line.line_key] -= 1
            duplicate.append(line)
        else:
            new.append(line)
    return new, duplicate


def _chunks(items: list, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def match_suppliers(council: Council, lines: list[Line]) -> tuple[dict[str, int], int]:
    """Supplier id for each normalised name in `lines`; creates the unknown ones.

    Order: the council's known spellings (aliases), the council's own supplier ID,
    the register's normalised names, VAT numbers; anything else becomes a new
    unverified supplier, with near matches stored as suggestions, never merged.
    """
    first_seen: dict[str, Line] = {}
    for line in lines:
        if not line.redacted:
            first_seen.setdefault(line.normalised_name, line)
    found: dict[str, int] = {}
    names = list(first_seen)
    for chunk in _chunks(names, CHUNK):
        found.update(
            SupplierAlias.objects.filter(
                council=council, normalised_name__in=chunk
            ).values_list("normalised_name", "supplier_id")
        )
    _match_by(found, first_seen, "council_supplier_id", council)
    for chunk in _chunks([n for n in names if n not in found], CHUNK):
        for name, pk in (
            Supplier.objects.filter(normalised_name__in=chunk)
            .order_by("-verified", "pk")
            .values_list("normalised_name", "pk")
        ):
            found.setdefault(name, pk)
    _match_by(found, first_seen, "vat_number", council)
    created = _create_suppliers(first_seen, [n for n in names if n not in found])
    found.update(created)
    _remember_aliases(council, first_seen, found)
    return found, len(created)


def _match_by(
    found: dict[str, int], first_seen: dict[str, Line], key: str, council
) -> None:
    wanted = {
        line.text.get(key): name
        for name, line in first_seen.items()
        if name not in found and line.text.get(key)
    }
    if not wanted:
        return
    if key == "council_supplier_id":
        query = SupplierAlias.objects.filter(
            council=council, council_supplier_id__in=wanted
        )
        pairs = query.values_list("council_supplier_id", "supplier_id")
    else:
        query = Supplier.objects.filter(vat_number__in=wanted)
        pairs = query.values_list("vat_number", "pk")
    for value, pk in pairs:
        found.setdefault(wanted[value], pk)


def _create_suppliers(first_seen: dict[str, Line], names: list[str]) -> dict[str, int]:
    if not names:
        return {}
    existing = dict(Supplier.objects.values_list("normalised_name", "pk"))
    new = [
        Supplier(
            name=first_seen[name].supplier_name,
            normalised_name=name,
            vat_number=first_seen[name].text.get("vat_number", "")[:14],
        )
        for name in names
    ]
    bulk_create_with_history(new, Supplier, batch_size=1000)
    created: dict[str, int] = {}
    for chunk in _chunks(names, CHUNK):
        created.update(
            Supplier.objects.filter(normalised_name__in=chunk)
            .order_by("pk")
            .values_list("normalised_name", "pk")
        )
    _suggest_matches(created, existing)
    return created


_COMPANY_WORDS = frozenset({"ltd", "plc", "llp", "co", "cic", "uk", "the", "and"})


def _fuzzy_key(name: str) -> str:
    return " ".join(word for word in name.split() if word not in _COMPANY_WORDS)


def _suggest_matches(created: dict[str, int], existing: dict[str, int]) -> None:
    """Near matches between new suppliers and the register, for an officer to confirm.

    Names are compared without company-form words, by shared words (token set), so
    "Wardown Plumbing Ltd" finds "Wardown Plumbing Services Ltd"; names of one word
    are left alone, as a single shared word says little.
    """
    keys = {_fuzzy_key(name): name for name in existing}
    choices = [key for key in keys if len(key.split()) >= 2]
    if not choices:
        return
    suggestions = []
    for name, pk in created.items():
        key = _fuzzy_key(name)
        if len(key.split()) < 2:
            continue
        match = process.extractOne(
            key, choices, scorer=fuzz.token_set_ratio, score_cutoff=FUZZY_THRESHOLD
        )
        if match:
            suggestions.append(
                MatchSuggestion(
                    supplier_id=pk,
                    candidate_id=existing[keys[match[0]]],
                    score=round(match[1]),
                )
            )
    MatchSuggestion.objects.bulk_create(suggestions, ignore_conflicts=True)


def _remember_aliases(
    council: Council, first_seen: dict[str, Line], found: dict[str, int]
):
    known = set()
    for chunk in _chunks(list(found), CHUNK):
        known.update(
            SupplierAlias.objects.filter(
                council=council, normalised_name__in=chunk
            ).values_list("normalised_name", flat=True)
        )
    SupplierAlias.objects.bulk_create(
        [
            SupplierAlias(
                supplier_id=found[name],
                council=council,
                name=first_seen[name].supplier_name,
                normalised_name=name,
                council_supplier_id=first_seen[name].text.get(
                    "council_supplier_id", ""
                ),
            )
            for name in found
            if name not in known
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


_LINE_COLUMNS = [
    "council_id",
    "upload_id",
    "source_sheet",
    "source_row",
    "payment_date",
    "amount",
    "supplier_id",
    "supplier_name",
    "redacted",
    "department",
    "service_area",
    "expense_type",
    "description",
    "transaction_ref",
    "council_supplier_id",
    "vat_number",
    "postcode",
    "irrecoverable_vat",
    "procurement_category",
    "line_key",
]
_TEXT_COLUMNS = _LINE_COLUMNS[9:19]


def _line_values(line: Line, upload: SpendUpload, supplier_id: int | None) -> dict:
    values = {
        "council_id": upload.council_id,
        "upload_id": upload.pk,
        "source_sheet": line.source_sheet,
        "source_row": line.source_row,
        "payment_date": line.payment_date,
        "amount": line.amount,
        "supplier_id": supplier_id,
        "supplier_name": line.supplier_name,
        "redacted": line.redacted,
        "irrecoverable_vat": line.irrecoverable_vat,
        "line_key": line.line_key,
    }
    for name in _TEXT_COLUMNS:
        if name != "irrecoverable_vat":
            values[name] = line.text.get(name, "")
    return values


def save_lines(
    upload: SpendUpload, lines: list[Line], suppliers: dict[str, int]
) -> None:
    """COPY into PostgreSQL; batched INSERTs elsewhere. No per-row saves."""
    rows = (
        _line_values(
            line, upload, None if line.redacted else suppliers[line.normalised_name]
        )
        for line in lines
    )
    raw = getattr(connection.cursor(), "cursor", None)
    if connection.vendor == "postgresql" and hasattr(raw, "copy_expert"):
        _copy_rows(rows)
    else:
        SpendLine.objects.bulk_create(
            (SpendLine(**values) for values in rows), batch_size=2000
        )


def _copy_rows(rows: Iterable[dict]) -> None:
    table = SpendLine._meta.db_table
    columns = ", ".join(_LINE_COLUMNS)
    with connection.cursor() as cursor:
        for chunk in _chunks(list(rows), 50_000):
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for values in chunk:
                writer.writerow(
                    [r"\N" if values[c] is None else values[c] for c in _LINE_COLUMNS]
                )
            buffer.seek(0)
            cursor.cursor.copy_expert(
                f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                buffer,
            )


def _save_issues(upload: SpendUpload, parsed: ParsedFile) -> None:
    RowIssue.objects.bulk_create(
        (
            RowIssue(
                upload=upload,
                kind=problem.kind,
                sheet=problem.sheet[:100],
                row=problem.row,
                column=problem.column[:200],
                value=problem.value[:500],
                message=problem.message[:500],
                amount=problem.amount,
                cells=problem.cells,
            )
            for problem in [*parsed.rejected, *parsed.skipped]
        ),
        batch_size=1000,
    )


def import_spend_file(
    *,
    upload: SpendUpload,
    data: bytes,
    chosen: dict[str, dict[str, int]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import `data` into `upload` (pending), all or nothing; return the reconciliation.

    Raises FileRefused when the file cannot be imported at all; on that or any other
    error the upload is marked failed, with the reason, and nothing is saved.
    """
    try:
        return _import(upload, data, chosen, progress)
    except ImportSuperseded:
        raise  # the newer run owns the upload's status
    except FileRefused as refusal:
        _mark_failed(upload, str(refusal))
        raise
    except Exception:
        _mark_failed(upload, INTERNAL_ERROR)
        raise


def _import(upload, data, chosen, progress) -> ImportResult:
    council = upload.council
    parsed = parse_for(
        council, data, upload.file_name, chosen=chosen, progress=progress
    )
    result = _result_from(parsed, council, "imported")
    with transaction.atomic():
        _claim(upload)
        new, duplicate = split_duplicates(
            council, parsed.lines, exclude_upload=upload.pk
        )
        suppliers, result.new_suppliers = match_suppliers(council, new)
        save_lines(upload, new, suppliers)
        _save_issues(upload, parsed)
        result.rows_imported, result.rows_duplicate = len(new), len(duplicate)
        result.amount_imported = _sum(line.amount for line in new)
        result.amount_duplicate = _sum(line.amount for line in duplicate)
        result.redacted_lines = sum(1 for line in new if line.redacted)
        _finish(upload, result, parsed)
    return result


class ImportSuperseded(Exception):
    """Another run of the same upload started meanwhile (a retry): this one stops."""


def _claim(upload: SpendUpload) -> None:
    """Lock the upload row; only the latest attempt of a running import may save."""
    current = SpendUpload.objects.select_for_update().get(pk=upload.pk)
    if current.attempt != upload.attempt or current.status not in (
        UploadStatus.PENDING,
        UploadStatus.IMPORTING,
    ):
        raise ImportSuperseded(f"Upload {upload.pk} was restarted; this run stops.")


def _finish(upload: SpendUpload, result: ImportResult, parsed: ParsedFile) -> None:
    for name in (
        "rows_read",
        "rows_imported",
        "rows_rejected",
        "rows_duplicate",
        "rows_skipped",
        "amount_imported",
        "amount_rejected",
        "amount_duplicate",
        "amount_skipped",
        "file_stated_total",
        "redacted_lines",
        "new_suppliers",
    ):
        setattr(upload, name, getattr(result, name))
    upload.status = UploadStatus.IMPORTED
    upload.progress_rows = result.rows_read
    upload.notes = result.notes
    upload.mappings = [
        {
            "sheet": plan.sheet,
            "layout": plan.layout,
            "header_row": plan.header_row,
            "columns": plan.columns,
            "source": plan.source,
        }
        for plan in parsed.blocks
    ]
    upload.message = ""
    upload.finished_at = timezone.now()
    upload.save()


def _mark_failed(upload: SpendUpload, message: str) -> None:
    upload.status = UploadStatus.FAILED
    upload.message = message
    upload.finished_at = timezone.now()
    upload.save(update_fields=["status", "message", "finished_at"])


def check_file(council: Council, data: bytes, file_name: str) -> ImportResult:
    """Parse and reconcile without saving anything (`--dry-run`)."""
    parsed = parse_for(council, data, file_name)
    result = _result_from(parsed, council, "dry_run")
    new, duplicate = split_duplicates(council, parsed.lines)
    result.rows_imported, result.rows_duplicate = len(new), len(duplicate)
    result.amount_imported = _sum(line.amount for line in new)
    result.amount_duplicate = _sum(line.amount for line in duplicate)
    result.redacted_lines = sum(1 for line in new if line.redacted)
    return result


def rollback_upload(upload: SpendUpload, *, user) -> int:
    """Remove every line of an imported upload; the upload row stays, marked rolled back."""
    with transaction.atomic():
        upload = SpendUpload.objects.select_for_update().get(pk=upload.pk)
        if upload.status != UploadStatus.IMPORTED:
            raise ValueError(
                f"Only an imported upload can be rolled back ({upload.status})."
            )
        removed, _ = upload.lines.all().delete()
        upload.status = UploadStatus.ROLLED_BACK
        upload.rolled_back_by = user
        upload.rolled_back_at = timezone.now()
        upload._change_reason = f"Rolled back: {removed} lines removed"
        upload.save()
    return removed
