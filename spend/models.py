"""Spend files uploaded by councils, and the payment lines imported from them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, models
from django.db.models import Count, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from simple_history.models import HistoricalRecords

from councils.models import Council, CouncilScopedQuerySet
from councils.periods import FinancialYear
from procure.models import Supplier
from spend.parse import (
    AMOUNTS_ROUNDED,
    OTHER_BODY,
    PART_TOTAL_DIFFERS,
    TOTAL_LABEL_PAID,
)
from spend.values import money

# Words of the import's note on payments dated outside the period given.
OUTSIDE_PERIOD = "dated outside the period given"
# Words of its note on payments whose transaction number an earlier file holds.
REFERENCE_HELD = "transaction number that an earlier file holds"
# Words of its notes on an earlier version of the file: payments whose date was
# corrected, and payments this file does not have.
DATE_MOVED = "of a payment an earlier file holds on another date"
NOT_IN_FILE = "not in this file, though it has"
# Words of its note on payments held but for a transaction number.
HELD_BUT_FOR_REFERENCE = "the date, payee and amount of a payment an earlier file holds"
# The notes shown as warnings at the top of the result page, not among the rest.
WARNING_MARKERS = (
    OTHER_BODY,
    OUTSIDE_PERIOD,
    REFERENCE_HELD,
    DATE_MOVED,
    NOT_IN_FILE,
    HELD_BUT_FOR_REFERENCE,
    PART_TOTAL_DIFFERS,
    TOTAL_LABEL_PAID,
    AMOUNTS_ROUNDED,
)


class VatBasis(models.TextChoices):
    NET = "net", "Net of VAT"
    GROSS = "gross", "Gross (VAT included)"
    UNKNOWN = "unknown", "Not stated"


class UploadStatus(models.TextChoices):
    PENDING = "pending", "Waiting for its columns to be checked"
    QUEUED = "queued", "Queued to import"
    IMPORTING = "importing", "Importing"
    IMPORTED = "imported", "Imported"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Rolled back"


# An upload in these imported nothing and is not importing: it may be discarded.
DISCARDABLE = (UploadStatus.PENDING, UploadStatus.FAILED)
STALLED_AFTER = timedelta(minutes=10)
INTERNAL_ERROR = (
    "The import stopped because of an internal error. Nothing from this file was "
    "saved. Try again; if it happens again, tell your LocalSpend administrator."
)
WORKER_STOPPED = (
    "The import stopped before it finished (the background worker was stopped); "
    "nothing from this file was saved. Try it again."
)


def stalled_after() -> timedelta:
    """How long an import may go without a sign of life (its heartbeat) before it
    counts as stopped: settings.IMPORT_STALLED_AFTER seconds, else 10 minutes.
    A live import gives one every second or so in each of its steps, but for
    a single long statement (`spend.tasks`): this is for a worker that died,
    not one that is busy."""
    seconds = getattr(settings, "IMPORT_STALLED_AFTER", None)
    return STALLED_AFTER if seconds is None else timedelta(seconds=seconds)


# What a running import is doing, said on its page. While the upload is importing
# its `message` (which says why once an import has failed) names the step after
# STEP_MARK (spend.tasks writes it); blank while the file is read.
READING, MATCHING, SAVING, TAGGING = "reading", "matching", "saving", "tagging"
IMPORT_STEPS = (READING, MATCHING, SAVING, TAGGING)
STEP_MARK = "Under way: "

# While the import's transaction holds its upload's row (PostgreSQL, from when it
# concludes) or the whole database (SQLite), its sign of life cannot go on the
# row where another connection would see it: it goes in a file of this folder
# of UPLOAD_ROOT, which the worker and the web server share for the kept files
# already (no council's slug has a dot).
LIVE_FOLDER = ".importing"


@dataclass(frozen=True)
class LiveProgress:
    """A running import's step and lines done, as its file last said, and when."""

    heard_at: datetime
    step: str
    done: int


def live_progress_path(upload_id: int) -> Path:
    return Path(settings.UPLOAD_ROOT) / LIVE_FOLDER / f"{upload_id}.json"


def _read_live(path: Path) -> LiveProgress | None:
    """A file of LIVE_FOLDER: {"at": ISO time, by the worker's clock, as the
    row's heartbeat, "step": ..., "done": ...}; None for none, or unreadable."""
    try:
        said = json.loads(path.read_text(encoding="utf-8"))
        heard_at = datetime.fromisoformat(said["at"])
        step, done = said["step"], said["done"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if heard_at.tzinfo is None:
        heard_at = heard_at.replace(tzinfo=UTC)
    return LiveProgress(
        heard_at=heard_at,
        step=step if step in IMPORT_STEPS else READING,
        done=done if isinstance(done, int) and done >= 0 else 0,
    )


def read_live_progress(upload_id: int) -> LiveProgress | None:
    """What the import of upload `upload_id` last wrote to its file; None for no
    file (the usual case: the row says it all)."""
    return _read_live(live_progress_path(upload_id))


def live_files_heard_at() -> datetime | None:
    """The latest sign of life written to a file by any import (LIVE_FOLDER);
    None for none. A killed worker's file stays behind, growing old."""
    try:
        with os.scandir(Path(settings.UPLOAD_ROOT) / LIVE_FOLDER) as entries:
            names = [entry.path for entry in entries if entry.name.endswith(".json")]
    except OSError:  # no folder: no import has needed one
        return None
    heard = [live.heard_at for name in names if (live := _read_live(Path(name)))]
    return max(heard, default=None)


@dataclass(frozen=True)
class WorkerState:
    """What the background worker is doing, for an upload waiting in its queue."""

    alive: int  # imports (of any council: the worker is shared) alive now
    queued_before: int  # uploads queued before the one asking, still waiting
    seen_at: datetime | None  # the worker's latest sign of life: None for none


def worker_state(queued_at: datetime | None = None) -> WorkerState:
    """One query (and a look at LIVE_FOLDER): how many imports are alive (a sign
    of life within `stalled_after()`), how many uploads queued before `queued_at`
    still wait, and when the worker was last heard from: an import's heartbeat,
    or the end of one (just before it takes the next in the queue)."""
    late = timezone.now() - stalled_after()
    importing = Q(status=UploadStatus.IMPORTING)
    counts = {
        "alive": Count("pk", filter=importing & Q(heartbeat_at__gte=late)),
        "beat": Max("heartbeat_at", filter=importing),
        "finished": Max("finished_at", filter=Q(status=UploadStatus.IMPORTED)),
    }
    if queued_at is not None:
        counts["queued_before"] = Count(
            "pk", filter=Q(status=UploadStatus.QUEUED, heartbeat_at__lt=queued_at)
        )
    seen = SpendUpload.objects.aggregate(**counts)
    filed = live_files_heard_at()
    alive = seen["alive"] or (1 if filed is not None and filed >= late else 0)
    times = [when for when in (seen["beat"], seen["finished"], filed) if when]
    return WorkerState(
        alive=alive,
        queued_before=seen.get("queued_before", 0),
        seen_at=max(times, default=None),
    )


# Tags and the dashboard rollups are written by one transaction at a time: an
# import's last step, a classification run, a rollback. Otherwise PostgreSQL lets
# two of them read the same rows and each write its own (a new tag refused as a
# duplicate, or a month counted twice: a rollup refresh deletes the rows it sees,
# and cannot see the rows another refresh is adding). SQLite has one writer anyway.
ROLLUP_LOCK = 7_361_045  # the key of a PostgreSQL advisory lock


# New suppliers are added to the register by one import at a time: two imports
# meeting the same new name at once would otherwise each add it (neither sees the
# other's uncommitted supplier), leaving the register with a duplicate to merge.
NEW_SUPPLIER_LOCK = 7_361_046


def hold_rollup_lock() -> None:
    """Wait for, then hold until this transaction ends, the right to write tags
    and rollups. Take it before reading what will be rewritten."""
    _hold_lock(ROLLUP_LOCK, "hold_rollup_lock")


def hold_new_supplier_lock() -> None:
    """Wait for, then hold until this transaction ends, the right to add suppliers
    to the register. Take it before looking for the names a last time."""
    _hold_lock(NEW_SUPPLIER_LOCK, "hold_new_supplier_lock")


def _hold_lock(key: int, name: str) -> None:
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError(f"{name}() must be called inside a transaction.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def hold_rows(model: type[models.Model], ids: Iterable[int | None]) -> None:
    """Check that the rows of `model` with these ids exist, and keep them from being
    deleted (or their keys changed) until this transaction ends.

    For tables whose foreign keys the database does not check row by row (spend
    lines, rollups, tags: a check per row cost more than writing the rows): this is
    the same check, once per batch, with the lock a foreign key check takes
    (FOR KEY SHARE). SQLite has one writer at a time, so it only checks.
    """
    wanted = sorted({pk for pk in ids if pk is not None})
    if not wanted:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    if connection.vendor == "postgresql":
        if not connection.in_atomic_block:
            raise RuntimeError("hold_rows() must be called inside a transaction.")
        sql = (
            f"SELECT count(*) FROM (SELECT 1 FROM {table} "
            "WHERE id = ANY(%s) FOR KEY SHARE) AS held"
        )
    else:  # the ids as one JSON array: no limit on parameters to mind
        sql = (
            f"SELECT count(*) FROM {table} "
            "WHERE id IN (SELECT value FROM json_each(%s))"
        )
    with connection.cursor() as cursor:
        for start in range(0, len(wanted), 10_000):
            chunk = wanted[start : start + 10_000]
            cursor.execute(
                sql, [chunk if connection.vendor == "postgresql" else json.dumps(chunk)]
            )
            if cursor.fetchone()[0] != len(chunk):
                raise model.DoesNotExist(
                    f"A {model._meta.verbose_name} was deleted meanwhile."
                )


# An upload in one of these states holds (or is about to hold) its file's lines.
LIVE_STATUSES = [
    UploadStatus.PENDING,
    UploadStatus.QUEUED,
    UploadStatus.IMPORTING,
    UploadStatus.IMPORTED,
]
RUNNING_STATUSES = [UploadStatus.QUEUED, UploadStatus.IMPORTING]


class SpendUpload(models.Model):
    """One spend file given to LocalSpend, and the reconciliation of its import."""

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="uploads"
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="spend_uploads",
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    queued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who last started the import (queued it, tried it again or had "
        "it read again; or ran import_spend with --user): the worker records its "
        "changes as theirs.",
    )
    status = models.CharField(
        max_length=12, choices=UploadStatus.choices, default=UploadStatus.PENDING
    )
    vat_basis = models.CharField(
        "VAT basis", max_length=8, choices=VatBasis.choices, default=VatBasis.UNKNOWN
    )
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rows_duplicate = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    amount_imported = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    amount_rejected = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    amount_duplicate = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    file_stated_total = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True
    )
    amount_skipped = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    redacted_lines = models.PositiveIntegerField(default=0)
    new_suppliers = models.PositiveIntegerField(default=0)
    duplicate_first = models.DateField(
        null=True, blank=True, help_text="Earliest date of the rows already held."
    )
    duplicate_last = models.DateField(
        null=True, blank=True, help_text="Latest date of the rows already held."
    )
    held_in = models.JSONField(
        default=list,
        blank=True,
        help_text="The uploads holding the rows already held (their ids).",
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The upload whose rejected rows this file is, corrected (its "
        "download names it): its payments do not count as already holding these.",
    )
    progress_rows = models.PositiveIntegerField(
        default=0, help_text="Rows worked through so far, for the progress bar."
    )
    rows_expected = models.PositiveIntegerField(
        default=0, help_text="Rows the file holds, for the progress bar."
    )
    attempt = models.PositiveSmallIntegerField(
        default=0, help_text="How many times the import has been started."
    )
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from the import."
    )
    stored_file = models.CharField(
        max_length=255,
        blank=True,
        help_text="Path of the kept file, under UPLOAD_ROOT.",
    )
    notes = models.JSONField(
        default=list, blank=True, help_text="What the importer noticed and decided."
    )
    mappings = models.JSONField(
        default=list, blank=True, help_text="The column mapping used for each block."
    )
    message = models.TextField(blank=True, help_text="Why an import failed, if it did.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rolled_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    rolled_back_at = models.DateTimeField(null=True, blank=True)

    objects = CouncilScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [
            # The same file cannot be held twice by one council.
            models.UniqueConstraint(
                fields=["council", "sha256"],
                condition=Q(status__in=LIVE_STATUSES),
                name="upload_same_file_once_per_council",
            ),
            models.CheckConstraint(
                condition=Q(status__in=UploadStatus.values), name="upload_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=models.F("period_start")),
                name="upload_period_in_order",
            ),
            models.CheckConstraint(
                condition=Q(
                    rows_read__gte=models.F("rows_imported")
                    + models.F("rows_rejected")
                    + models.F("rows_duplicate")
                    + models.F("rows_skipped")
                ),
                name="upload_buckets_within_rows_read",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.council.short_name})"

    def named_then(self, file_name: str) -> str:
        """', as "name.xlsx"' when this upload's file comes again as `file_name`,
        another name (for the message saying it was imported already)."""
        return "" if self.file_name == file_name else f', as "{self.file_name}"'

    @property
    def started_by(self):
        """Who the import's changes are recorded as made by: whoever last started
        it (`queued_by`), else whoever uploaded the file (an upload queued before
        `queued_by` was kept); None for neither (import_spend with no --user)."""
        return self.queued_by if self.queued_by_id else self.uploaded_by

    @property
    def amount_read(self) -> Decimal:
        """The payments read: imported, rejected and already held. Not the skipped
        rows' amounts: those are the file's own totals, not payments, and adding
        them in would count the file's spend twice."""
        return self.amount_imported + self.amount_rejected + self.amount_duplicate

    @property
    def warnings(self) -> list[str]:
        """The import's notes that need looking at (payments outside the period
        given, transaction numbers already held, a part's total that differs):
        shown as warnings, not among the other notes."""
        return [n for n in self.notes if any(m in n for m in WARNING_MARKERS)]

    @property
    def reading_notes(self) -> list[str]:
        """The other notes: how the file was read."""
        return [n for n in self.notes if not any(m in n for m in WARNING_MARKERS)]

    @property
    def holds_nothing(self) -> bool:
        """Its import added no payment and found none already held (every row
        rejected, say): rolled back, nothing is lost, and the file can be read
        again with other columns."""
        return not (self.rows_imported or self.rows_duplicate)

    @property
    def imported_nothing(self) -> bool:
        """Imported, but no payment added: all already held, rejected or none."""
        return self.status == UploadStatus.IMPORTED and self.rows_imported == 0

    @property
    def status_label(self) -> str:
        """The status, saying so when an imported file added no payment."""
        label = self.get_status_display()
        if not self.imported_nothing:
            return label
        if self.rows_duplicate and self.rows_rejected:
            return f"{label}: nothing new, the rest rejected"
        if self.rows_duplicate:
            return f"{label}: nothing new"
        if self.rows_rejected:
            return f"{label}: every row rejected"
        return f"{label}: no payments found"

    @property
    def status_colour(self) -> str:
        """The GOV.UK tag colour for `status_label`."""
        if self.imported_nothing:
            return "yellow"
        return {
            UploadStatus.IMPORTED: "green",
            UploadStatus.FAILED: "red",
            UploadStatus.ROLLED_BACK: "grey",
        }.get(self.status, "blue")

    @property
    def holders_known(self) -> bool:
        """Whether the import kept which uploads hold its rows already held
        (`held_in`; imports before it was kept did not)."""
        return bool(self.held_in)

    def earlier_uploads_holding_duplicates(self, limit: int = 10) -> list[SpendUpload]:
        """The council's other uploads holding this one's "already held" rows:
        those its import found them in (`held_in`). For an upload imported
        before those were kept, where they most likely are: the imported uploads
        finished before it with payments on the dates of those rows (a line's
        key holds its date), or, before those dates were kept too, in the
        calendar months its payments fall in (spend files are monthly); with no
        dates to go by: []."""
        if self.held_in:
            return list(
                SpendUpload.objects.filter(
                    council_id=self.council_id, pk__in=self.held_in
                ).order_by("uploaded_at")[:limit]
            )
        if self.duplicate_first is not None and self.duplicate_last is not None:
            first, last = self.duplicate_first, self.duplicate_last + timedelta(days=1)
        else:
            span = self.lines.aggregate(
                first=Min("payment_date"), last=Max("payment_date")
            )
            days = [
                day
                for day in (
                    span["first"],
                    span["last"],
                    self.period_start,
                    self.period_end,
                )
                if day is not None
            ]
            if not days:
                return []
            first = min(days).replace(day=1)
            last = max(days)
            last = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
        held_there = (
            SpendLine.objects.filter(
                council_id=self.council_id,
                payment_date__gte=first,
                payment_date__lt=last,
            )
            .exclude(upload_id=self.pk)
            .values("upload_id")
        )
        earlier = SpendUpload.objects.filter(
            council_id=self.council_id,
            status=UploadStatus.IMPORTED,
            pk__in=held_there,
        ).exclude(pk=self.pk)
        if self.finished_at is not None:
            earlier = earlier.filter(
                Q(finished_at__lt=self.finished_at) | Q(finished_at__isnull=True)
            )
        return list(earlier.order_by("uploaded_at")[:limit])

    @property
    def is_stalled(self) -> bool:
        """Running, and nothing heard for `stalled_after()`: an import whose worker
        stopped, or one queued that no worker picks up. One queued behind another
        import that is alive (of any council: the worker is shared) is waiting
        its turn (`imports_ahead`), not stalled (QA: a small file queued behind a
        250,000-row one was shown stopped)."""
        if self.status not in RUNNING_STATUSES or self.heartbeat_at is None:
            return False
        if self.status == UploadStatus.QUEUED and self._worker().alive:
            return False
        return timezone.now() - self.last_heard > stalled_after()

    @property
    def last_heard(self) -> datetime | None:
        """When a running import last gave a sign of life (its row's heartbeat,
        or its file's: LIVE_FOLDER); for a queued one, the later of when it was
        queued and when the worker was last heard from, by any import."""
        if self.status == UploadStatus.QUEUED:
            times = [self._worker().seen_at, self.heartbeat_at]
            return max((when for when in times if when is not None), default=None)
        return self._progress_now()[0]

    @property
    def imports_ahead(self) -> int:
        """Queued while another import is alive: the imports before this one (that
        one, and those queued earlier); else 0. Other councils' are counted, not
        named."""
        if self.status != UploadStatus.QUEUED or self.heartbeat_at is None:
            return 0
        worker = self._worker()
        return worker.alive + worker.queued_before if worker.alive else 0

    def _worker(self) -> WorkerState:
        """`worker_state` for this queued upload: worked out once per instance and
        state (a page asks several times, in one request)."""
        key = (self.pk, self.status, self.heartbeat_at)
        kept = self.__dict__.get("_worker_kept")
        if kept is None or kept[0] != key:
            kept = (key, worker_state(self.heartbeat_at))
            self.__dict__["_worker_kept"] = kept
        return kept[1]

    def _progress_now(self) -> tuple[datetime | None, str, int]:
        """(last heard, step, lines or rows done) of an importing upload: from its
        row, or from its file where that is newer (LIVE_FOLDER)."""
        message = self.message or ""
        step = message.removeprefix(STEP_MARK) if message.startswith(STEP_MARK) else ""
        row = (
            self.heartbeat_at,
            step if step in IMPORT_STEPS else READING,
            self.progress_rows,
        )
        if self.status != UploadStatus.IMPORTING or self.pk is None:
            return row
        live = read_live_progress(self.pk)
        if live is None or (row[0] is not None and live.heard_at <= row[0]):
            return row
        return live.heard_at, live.step, live.done

    @property
    def import_step(self) -> str:
        """What an importing upload is doing: READING, MATCHING, SAVING or
        TAGGING; "" for one not importing."""
        if self.status != UploadStatus.IMPORTING:
            return ""
        return self._progress_now()[1]

    @property
    def progress_done(self) -> int:
        """Rows read (reading the file), else lines checked and saved so far."""
        if self.status != UploadStatus.IMPORTING:
            return self.progress_rows
        return self._progress_now()[2]

    @property
    def progress_percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.rows_expected:
            return 0
        return min(99, self.progress_done * 100 // self.rows_expected)

    @property
    def all_rows_read(self) -> bool:
        """Importing, with every row read and the next step not begun yet."""
        return (
            self.status == UploadStatus.IMPORTING
            and self.rows_expected > 0
            and self.import_step == READING
            and self.progress_done >= self.rows_expected
        )

    @property
    def can_retry(self) -> bool:
        """A stalled import, or one that failed by no fault of the file."""
        failed_inside = self.status == UploadStatus.FAILED and self.message in (
            INTERNAL_ERROR,
            WORKER_STOPPED,
        )
        return failed_inside or self.is_stalled

    @property
    def can_discard(self) -> bool:
        """Imported nothing and is not importing: waiting for its columns to be
        checked, or failed."""
        return self.status in DISCARDABLE

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING_STATUSES

    @property
    def is_finished(self) -> bool:
        return self.status not in (UploadStatus.PENDING, *RUNNING_STATUSES)

    @property
    def amount_held(self) -> Decimal:
        """The file's payments now held: imported, and already held before."""
        return self.amount_imported + self.amount_duplicate

    @property
    def stated_total_difference(self) -> Decimal | None:
        """File's own total minus what was imported, when the file states one."""
        if self.file_stated_total is None:
            return None
        return self.file_stated_total - self.amount_held


class RowIssue(models.Model):
    """A row of an upload that was not imported: rejected (with why) or skipped."""

    class Kind(models.TextChoices):
        REJECTED = "rejected", "Rejected"
        SKIPPED = "skipped", "Skipped (total or summary row)"

    upload = models.ForeignKey(
        SpendUpload, on_delete=models.CASCADE, related_name="issues"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    sheet = models.CharField(max_length=100, blank=True)
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=200, blank=True)
    value = models.CharField(max_length=500, blank=True)
    message = models.CharField(max_length=500)
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    cells = models.JSONField(
        default=list, help_text="The row as it was: [[header, value], ...]."
    )

    class Meta:
        ordering = ["upload", "kind", "sheet", "row"]
        constraints = [
            models.CheckConstraint(condition=Q(row__gte=1), name="issue_row_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} row {self.row}: {self.message}"


class RememberedMapping(models.Model):
    """A council's confirmed column mapping for one header layout."""

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="remembered_mappings"
    )
    layout_hash = models.CharField(max_length=64)
    layout = models.TextField(
        help_text="The layout's key: its headings, tidied and lower-cased, joined by |."
    )
    header = models.JSONField(
        default=list,
        blank=True,
        help_text="The headings as the file last gave them (empty: no header row).",
    )
    columns = models.JSONField(help_text="Field name → 0-based column index.")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = CouncilScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["council", "layout_hash"], name="mapping_one_per_layout"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.council.short_name}: {self.layout[:60]}"


class SpendLineQuerySet(CouncilScopedQuerySet):
    def in_period(self, start: date, end: date) -> SpendLineQuerySet:
        return self.filter(payment_date__gte=start, payment_date__lte=end)

    def in_fy(self, fy: FinancialYear) -> SpendLineQuerySet:
        return self.in_period(fy.start, fy.end)

    def headline(self) -> dict:
        """Totals for the headline tiles, aggregated in the database."""
        zero = Value(Decimal("0"), output_field=models.DecimalField())
        figures = self.aggregate(
            total=Coalesce(Sum("amount"), zero),
            lines=Count("id"),
            suppliers=Count("supplier", distinct=True),
            redacted=Coalesce(Sum("amount", filter=Q(redacted=True)), zero),
            credits=Count("id", filter=Q(amount__lt=0)),
            first=Min("payment_date"),
            last=Max("payment_date"),
        )
        return _with_redacted_share(figures)

    def monthly_totals(self) -> list[dict]:
        rows = list(
            self.annotate(month=TruncMonth("payment_date"))
            .values("month")
            .annotate(total=Sum("amount"), lines=Count("id"))
            .order_by("month")
        )
        for row in rows:
            row["total"] = money(row["total"])
        return rows


def _with_redacted_share(figures: dict) -> dict:
    figures["total"] = total = money(figures["total"])
    figures["redacted"] = money(figures["redacted"])
    figures["redacted_share"] = (
        (figures["redacted"] * 100 / total).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        if total
        else None
    )
    return figures


def year_figures(council: Council, fy: FinancialYear) -> dict:
    """`SpendLine.objects.for_council(council).in_fy(fy).headline()`, the same
    figures, read from the supplier rollup (a financial year is whole months):
    the overview and home pages show them without reading a year's lines. Only
    the first and last payment dates come from the lines, by the (council, date)
    index."""
    zero = Value(Decimal("0"), output_field=models.DecimalField())
    sums = SupplierMonth.objects.filter(
        council=council, month__gte=fy.start, month__lte=fy.end
    ).aggregate(
        all_total=Coalesce(Sum("total"), zero),
        all_lines=Coalesce(Sum("lines"), 0),
        suppliers=Count("supplier", distinct=True),
        redacted=Coalesce(Sum("total", filter=Q(redacted=True)), zero),
        all_credits=Coalesce(Sum("credits"), 0),
    )
    figures = {
        "total": sums["all_total"],
        "lines": sums["all_lines"],
        "suppliers": sums["suppliers"],
        "redacted": sums["redacted"],
        "credits": sums["all_credits"],
    }
    figures.update(
        SpendLine.objects.for_council(council)
        .in_fy(fy)
        .aggregate(first=Min("payment_date"), last=Max("payment_date"))
    )
    return _with_redacted_share(figures)


def year_months(council: Council, fy: FinancialYear) -> list[dict]:
    """`SpendLine...in_fy(fy).monthly_totals()`, from the supplier rollup."""
    rows = (
        SupplierMonth.objects.filter(
            council=council, month__gte=fy.start, month__lte=fy.end
        )
        .values("month")
        .annotate(month_total=Sum("total"), month_lines=Sum("lines"))
        .order_by("month")
    )
    return [
        {
            "month": row["month"],
            "total": money(row["month_total"]),
            "lines": row["month_lines"],
        }
        for row in rows
    ]


class SpendLine(models.Model):
    """One payment as published in a council's spend file.

    Lines are loaded a million at a time by COPY (spend.importer), so the table has
    only the indexes its queries use, and its foreign keys are not checked by the
    database line by line (that check cost more than loading the lines): the
    importer checks and locks the council and suppliers once per import, and
    Django applies on_delete (CASCADE, PROTECT) as it always does.
    """

    council = models.ForeignKey(
        Council,
        on_delete=models.CASCADE,
        related_name="spend_lines",
        db_index=False,  # (council, payment_date) serves council_id queries
        db_constraint=False,
    )
    upload = models.ForeignKey(
        SpendUpload,
        on_delete=models.CASCADE,
        related_name="lines",
        db_constraint=False,  # indexed: a rollback deletes by upload
    )
    source_row = models.PositiveIntegerField(help_text="Row number in the file.")
    source_sheet = models.CharField(max_length=100, blank=True)
    payment_date = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="spend_lines",
        db_index=False,  # (supplier, council) serves supplier_id queries
        db_constraint=False,
    )
    supplier_name = models.CharField("supplier name as published", max_length=300)
    redacted = models.BooleanField(default=False)
    department = models.CharField(max_length=200, blank=True)
    service_area = models.CharField(max_length=200, blank=True)
    expense_type = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=500, blank=True)
    transaction_ref = models.CharField(max_length=100, blank=True)
    council_supplier_id = models.CharField(max_length=50, blank=True)
    vat_number = models.CharField(max_length=20, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    irrecoverable_vat = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True
    )
    procurement_category = models.CharField(max_length=200, blank=True)
    line_key = models.CharField(
        max_length=32,
        blank=True,
        help_text="Fingerprint of the payment, to spot it again in a later upload.",
    )
    # Set by procure.linking (same supplier, paid inside the contract's period),
    # or by an officer, in which case `contract_link_manual` keeps the linker off.
    contract = models.ForeignKey(
        "procure.Contract",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="spend_lines",
        db_index=False,  # the partial index line_contract serves it
        db_constraint=False,
    )
    contract_link_manual = models.BooleanField(
        default=False,
        db_default=False,  # the importer's COPY does not name this column
        help_text="An officer linked or unlinked this line by hand.",
    )

    objects = SpendLineQuerySet.as_manager()

    class Meta:
        ordering = ["-payment_date", "upload_id", "source_row"]
        indexes = [
            # A council's lines by date; the importer finds the lines already
            # held by date range (a line key includes the date).
            models.Index(fields=["council", "payment_date"], name="line_council_date"),
            # A supplier's lines, in one council or all (deleting, merging).
            models.Index(fields=["supplier", "council"], name="line_supplier_council"),
            # A contract's lines (spend to date, its page). Partial: lines come in
            # unlinked, so the import's COPY does not touch it.
            models.Index(
                fields=["contract"],
                name="line_contract",
                condition=Q(contract__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(source_row__gte=1), name="line_source_row_positive"
            ),
            models.CheckConstraint(
                condition=Q(redacted=False) | Q(supplier__isnull=True),
                name="line_redacted_has_no_supplier",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_date} {self.supplier_name} £{self.amount}"


class SupplierMonth(models.Model):
    """Rollup: a council's spend lines summed per month, supplier and directorate.

    Kept equal to a direct aggregate of the lines by `spend.rollup` (on import,
    rollback and merge), so that dashboards never scan spend lines. Redacted
    payees have no supplier.
    """

    # Rows are written tens of thousands at a time from the spend lines, whose
    # references the importer has already checked and locked (as SpendLine's),
    # so the database checks no foreign key here; the covering (council, month)
    # and the supplier index serve every query, and deleting.
    council = models.ForeignKey(
        Council,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    month = models.DateField(help_text="First day of the month.")
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    directorate = models.CharField(
        max_length=200, blank=True, help_text="Department, else service area."
    )
    redacted = models.BooleanField(default=False)
    total = models.DecimalField(max_digits=16, decimal_places=2)
    lines = models.PositiveIntegerField()
    credits = models.PositiveIntegerField(
        default=0, help_text="Of the lines, those below zero (credit notes)."
    )

    class Meta:
        indexes = [
            # A council's months; on PostgreSQL the dashboard's largest-supplier
            # sums read the index alone.
            models.Index(
                fields=["council", "month"],
                name="suppliermonth_council",
                include=["supplier", "directorate", "redacted", "total", "lines"],
            ),
            models.Index(fields=["supplier"], name="suppliermonth_supplier"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.month:%b %Y} {self.supplier_id} {self.directorate}: £{self.total}"
        )


class SupplierYear(models.Model):
    """Rollup: a council's spend with each named supplier per financial year, all
    directorates together, with the supplier's location for this council and
    whether it is a public body (copied from its tags whenever they change): what
    the dashboard's largest-supplier lists read for a whole year."""

    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(help_text="2025 for 2025/26.")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="+")
    # Database defaults: spend.rollup inserts the sums, then copies the tags on.
    locality = models.CharField(max_length=16, db_default="unknown")
    public_sector = models.BooleanField(db_default=False)
    total = models.DecimalField(max_digits=16, decimal_places=2)
    lines = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["council", "year", "locality"], name="supplieryear_council"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.supplier_id}: £{self.total}"


class TagMonth(models.Model):
    """Rollup: a council's spend per month, directorate and combination of its
    suppliers' tags (location for this council, size, VCSE, Living Wage).

    Each month is held twice: per directorate, and (directorate NULL) for all
    directorates together, which is what most dashboard views read: a few hundred
    rows a month at most. Rebuilt from `SupplierMonth` and the current tags by
    `spend.rollup` whenever either changes.
    """

    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month.")
    # NULL, not "": "" is spend that names no directorate.
    directorate = models.CharField(  # noqa: DJ001
        max_length=200,
        blank=True,
        null=True,
        help_text="NULL: the month's total over all directorates.",
    )
    locality = models.CharField(max_length=16)
    size = models.CharField(max_length=16)
    vcse = models.CharField(max_length=16)
    living_wage = models.CharField(max_length=16)
    redacted = models.BooleanField(default=False)
    verified = models.BooleanField(
        default=False, help_text="The supplier is confirmed in the register."
    )
    total = models.DecimalField(max_digits=16, decimal_places=2)
    lines = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["council", "month"], name="tagmonth_council"),
            # One directorate's months, or (NULL) all directorates' together.
            models.Index(
                fields=["council", "directorate", "month"],
                name="tagmonth_directorate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%b %Y} {self.directorate} {self.locality}: £{self.total}"


class DirectorateMonth(models.Model):
    """Rollup: a council's spend per month, directorate and supplier location,
    public bodies and redacted payees apart: the dashboard's directorate
    breakdown. Summed from `TagMonth` by `spend.rollup` whenever that changes."""

    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month.")
    directorate = models.CharField(max_length=200, blank=True)
    locality = models.CharField(max_length=16)
    public_sector = models.BooleanField(default=False)
    redacted = models.BooleanField(default=False)
    total = models.DecimalField(max_digits=16, decimal_places=2)
    lines = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["council", "month"], name="directoratemonth_council")
        ]

    def __str__(self) -> str:
        return f"{self.month:%b %Y} {self.directorate} {self.locality}: £{self.total}"


class CouncilDirectorate(models.Model):
    """The directorates (or service areas) a council's spend has named: the
    dashboard's choice list, kept by `spend.rollup` as spend comes in."""

    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["council", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "name"], name="directorate_once_per_council"
            )
        ]

    def __str__(self) -> str:
        return self.name or "(none given)"
