from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.views.decorators.http import require_http_methods, require_POST

from councils.access import People, can, council_view, history_who
from councils.models import Capability, Council
from councils.tables import paginate
from spend.export import csv_response, xlsx_sheets_response
from spend.filters import LINKED_FILTERS, SpendLineFilter, UploadFilter
from spend.forms import MappingForm, UploadForm
from spend.importer import (
    REJECTED_BY,
    VAT_BASIS_NOTE,
    VAT_BASIS_WARNING,
    Corrections,
    RollbackRefused,
    amount_headings,
    correction_chain,
    decide_vat_basis,
    first_upload_of,
    in_file_order,
    mark_failed,
    rejected_for_download,
    remembered_mappings,
    rollback_upload,
    uploads_relying_on,
)
from spend.models import (
    DISCARDABLE,
    LIVE_STATUSES,
    RememberedMapping,
    RowIssue,
    SpendLine,
    SpendUpload,
    UploadStatus,
    VatBasis,
)
from spend.parse import (
    FIELD_LABELS,
    FileRefused,
    column_letter,
    columns_read,
    columns_used,
    header_of_layout,
    other_body_note,
    plan_file,
    refuse_summaries,
)
from spend.reading import FILE_ROW_COLUMN, TEXT_SUFFIXES, is_localspend_column
from spend.storage import (
    FILE_GONE,
    FILE_UNREADABLE,
    discard_kept,
    keep_file,
    kept_path,
    read_kept,
    sha256_of,
    why_unread,
)
from spend.tables import SpendLineTable, UploadTable
from spend.tasks import fail_stopped_imports, import_upload
from spend.values import parse_date, parse_whole_number

ISSUES_SHOWN = 200

logger = logging.getLogger(__name__)


def _discarded(request: HttpRequest, council: Council, pk: int) -> HttpResponse | None:
    """The page for an upload of this council's that was discarded (an old link, a
    preview left open in another tab), saying when and by whom; else None."""
    record = (
        SpendUpload.history.filter(id=pk, council_id=council.pk, history_type="-")
        .select_related("history_user")
        .first()
    )
    if record is None:
        return None
    context = {
        "council": council,
        "record": record,
        "who": history_who(council)(record),
    }
    return render(request, "spend/upload_discarded.html", context, status=404)


def _upload_or_discarded(
    request: HttpRequest, council: Council, pk: int
) -> SpendUpload | HttpResponse:
    """The upload; or, where it was discarded, the page saying so."""
    try:
        return _upload_for(council, pk)
    except Http404:
        gone = _discarded(request, council, pk)
        if gone is None:
            raise
        return gone


def _upload_for(council: Council, pk: int) -> SpendUpload:
    return get_object_or_404(
        SpendUpload.objects.for_council(council).select_related("uploaded_by"), pk=pk
    )


@council_view(Capability.VIEW)
def upload_list(request: HttpRequest, council: Council) -> HttpResponse:
    fail_stopped_imports(council)
    uploads = SpendUpload.objects.for_council(council).select_related("uploaded_by")
    filterset = UploadFilter(request.GET, queryset=uploads, council=council)
    table = UploadTable(filterset.qs, council=council)
    paginate(request, table, 25)
    return render(
        request,
        "spend/upload_list.html",
        {
            "council": council,
            "table": table,
            "filter": filterset,
            # Filters given, and all of them understood (an error is shown).
            "filtered": filterset.is_bound
            and filterset.is_valid()
            and any(filterset.form.data.get(name) for name in filterset.filters),
        },
    )


@council_view(Capability.UPLOAD)
def upload(request: HttpRequest, council: Council) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        data = file.read()
        sha256 = sha256_of(data)
        held = _already_held(request, council, form, file.name, sha256)
        if held:
            return held
        try:
            planned = plan_file(data, file.name, remembered_mappings(council))
            refuse_summaries(planned[0], file.name)
        except FileRefused as refusal:
            # Known while the officer waits: said on the form, and nothing kept
            # (QA: each such file, and each time, left a "Failed" upload).
            form.add_error("file", _naming(str(refusal), file.name))
            return render(
                request, "spend/upload.html", {"council": council, "form": form}
            )
        stored = keep_file(council, data, file.name)
        try:
            # A savepoint: a request that loses the race below keeps a usable
            # transaction (inside a test's, or ATOMIC_REQUESTS) to say so.
            with transaction.atomic():
                # Rolled back only if the new upload is saved: both, or neither.
                emptied = _roll_back_if_empty(council, sha256, request.user)
                new = SpendUpload.objects.create(
                    council=council,
                    file_name=file.name[:255],
                    sha256=sha256,
                    size_bytes=len(data),
                    uploaded_by=request.user,
                    vat_basis=form.cleaned_data["vat_basis"],
                    period_start=form.cleaned_data["period_start"],
                    period_end=form.cleaned_data["period_end"],
                    stored_file=stored,
                )
        except IntegrityError:
            # The same file, uploaded at the same moment: the constraint
            # upload_same_file_once_per_council let the other request's in.
            held = _already_held(request, council, form, file.name, sha256)
            if held:
                return held
            raise  # another constraint: not a duplicate
        if emptied is not None:
            # Its columns rejected every row: they are shown, never used again
            # unseen, even where they are remembered.
            messages.info(
                request,
                f"Upload #{emptied.pk} of this file added no payment, so it was "
                "rolled back. Check the columns below, then start the import.",
            )
            return redirect("spend:upload-preview", council.slug, new.pk)
        if earlier := _added_nothing_before(new):
            messages.info(
                request,
                f"Upload #{earlier.pk} of this file added no payment and was rolled "
                "back. Check the columns below, then start the import.",
            )
            return redirect("spend:upload-preview", council.slug, new.pk)
        if form.cleaned_data["check_columns"]:
            return redirect("spend:upload-preview", council.slug, new.pk)
        return _preview_or_start(request, new, planned)
    return render(request, "spend/upload.html", {"council": council, "form": form})


def _naming(refusal: str, file_name: str) -> str:
    """A refusal that names the file it refuses."""
    if file_name in refusal:
        return refusal
    return f"“{file_name}” cannot be imported: {refusal[:1].lower()}{refusal[1:]}"


def _already_held(
    request: HttpRequest, council: Council, form, file_name: str, sha256: str
) -> HttpResponse | None:
    """The answer when the council holds this file already (imported, or waiting
    to be), whether the other upload came first or at the same moment; else None.
    An imported upload of it that added no payment holds nothing: None, and the
    upload rolls it back (`_roll_back_if_empty`)."""
    earlier = first_upload_of(council, sha256)
    if earlier and earlier.holds_nothing:
        return None
    if earlier:
        who = People(council).uploader(earlier)
        # Not under the file field: the error summary links each field's error
        # to its field, and a link inside a link is no link (QA: the upload
        # named was not a link to it).
        form.add_error(
            None,
            format_html(
                '"{}" was already imported on {} by {}{} (<a class="govuk-link" '
                'href="{}">upload #{}</a>). Nothing new to import.',
                file_name,
                f"{timezone.localtime(earlier.uploaded_at):%d %B %Y}",
                who,
                earlier.named_then(file_name),
                reverse("spend:upload-detail", args=[council.slug, earlier.pk]),
                earlier.pk,
            ),
        )
        return render(request, "spend/upload.html", {"council": council, "form": form})
    pending = (
        SpendUpload.objects.for_council(council)
        .filter(sha256=sha256, status__in=LIVE_STATUSES)
        .first()
    )
    if pending:
        messages.info(
            request,
            f'"{file_name}" was already uploaded on '
            f"{timezone.localtime(pending.uploaded_at):%d %B %Y at %H:%M} "
            f"(upload #{pending.pk}): "
            "it is this one, and is not imported twice.",
        )
        return redirect("spend:upload-detail", council.slug, pending.pk)
    return None


def _added_nothing_before(upload: SpendUpload) -> SpendUpload | None:
    """The latest rolled-back upload of the same file, if its import added no
    payment (rolled back by hand, say): the columns that rejected every row are
    not used again unseen. One that imported payments since says they work."""
    latest = (
        SpendUpload.objects.for_council(upload.council)
        .filter(sha256=upload.sha256, status=UploadStatus.ROLLED_BACK)
        .exclude(pk=upload.pk)
        .order_by("-rolled_back_at", "-pk")
        .first()
    )
    return latest if latest is not None and latest.holds_nothing else None


EMPTY_ROLLED_BACK = (
    "Rolled back: the same file was uploaded again to be imported with other columns"
)


def _emptied(upload: SpendUpload) -> bool:
    """Imported, and holding no payment (`holds_nothing`, and no line under it):
    rolled back, nothing is lost."""
    return (
        upload.status == UploadStatus.IMPORTED
        and upload.holds_nothing
        and not upload.lines.exists()
    )


def _roll_back_if_empty(council: Council, sha256: str, user) -> SpendUpload | None:
    """Roll back the council's imported upload of this file if it added no payment,
    so that the file can be uploaded again; the upload rolled back, else None.

    Called in the transaction that saves the new upload. The earlier upload's row
    is locked first: of two requests giving the file again at once, the second
    waits, finds it rolled back, and its new upload meets the first's in the
    constraint `upload_same_file_once_per_council` (the usual "already uploaded").
    """
    earlier = (
        SpendUpload.objects.for_council(council)
        .select_for_update()
        .filter(sha256=sha256, status=UploadStatus.IMPORTED)
        .first()
    )
    if earlier is None or not _emptied(earlier):
        # None, or one holding payments: the constraint refuses the new upload.
        return None
    rollback_upload(earlier, user=user, reason=EMPTY_ROLLED_BACK)
    return earlier


def _kept_file_of(upload: SpendUpload) -> bytes | None:
    """The upload's kept file; None, with the upload marked failed saying why,
    when it cannot be read (gone after a backup was restored without it)."""
    try:
        return read_kept(upload.stored_file)
    except OSError as error:
        logger.warning(
            "Upload %s: its kept file %r cannot be read: %s",
            upload.pk,
            upload.stored_file,
            error,
        )
        mark_failed(upload, why_unread(error))
        return None


def _preview_or_start(
    request: HttpRequest, upload: SpendUpload, planned: tuple[list, list]
) -> HttpResponse:
    """Next month's file in a layout the council confirmed before needs no clicks.
    `planned`: the file's plans and blocks, as the upload read them."""
    council = upload.council
    plans, blocks = planned
    if not all(plan.source == "remembered" for plan in plans):
        return redirect("spend:upload-preview", council.slug, upload.pk)
    if other_body_note(plans, [council.name, council.short_name]):
        # Another council's file, in a layout remembered (QA: Manchester's
        # December file went into Luton at once): shown, with the warning, first.
        return redirect("spend:upload-preview", council.slug, upload.pk)
    dates = _dates_against_period(upload, plans, blocks)
    if dates is not None and dates.mostly_outside:
        # The wrong period typed, or the wrong file (QA: a 2017 file given
        # January 2020 went in at once): shown, with the warning, first.
        messages.info(
            request,
            "Most of this file's payments are dated outside the period you gave, "
            "so it was not imported straight away. Check the period and the file "
            "below, then start the import.",
        )
        return redirect("spend:upload-preview", council.slug, upload.pk)
    if not _start_import(request, upload, plans, [plan.columns for plan in plans]):
        return _not_started(request, upload)
    messages.info(
        request,
        "The columns were mapped as your council confirmed for this layout before, so "
        "the import has started.",
    )
    return redirect("spend:upload-detail", council.slug, upload.pk)


@dataclass
class PeriodDates:
    """How the payment dates a file's rows hold (read with the columns proposed)
    stand against the period the officer gave."""

    start: date
    end: date
    dated: int  # rows with a payment date read
    outside: int  # of them, dated outside the period
    first: date
    last: date

    @property
    def mostly_outside(self) -> bool:
        return self.outside * 2 > self.dated

    @property
    def words(self) -> str:
        """The preview's warning, or "" when every date is in the period."""
        if not self.outside:
            return ""
        if self.dated == 1:
            return (
                f"The file's one payment is dated {_day(self.first)}, outside the "
                f"period you gave, {_day(self.start)} to {_day(self.end)}. Check "
                "that this is the file you meant, and correct the period below if "
                "it is wrong."
            )
        if self.outside == self.dated:
            counted = f"All {self.dated:,} of the file's payments are"
        else:
            counted = (
                f"{self.outside:,} of the file's {self.dated:,} payments "
                f"{pluralize(self.outside, 'is,are')}"
            )
        span = _day(self.first)
        if self.last != self.first:
            span += f" to {_day(self.last)}"
        return (
            f"{counted} dated outside the period you gave, {_day(self.start)} to "
            f"{_day(self.end)}: its payments are dated {span}. Check that this is "
            "the file you meant, and correct the period below if it is wrong."
        )

    @property
    def corrected_words(self) -> str:
        """The error under a period corrected on the preview that most payments
        fall outside: asked once; starting the import again keeps it."""
        given = f"the period you have given, {_day(self.start)} to {_day(self.end)}"
        again = "Correct the period, or start the import again to keep it."
        if self.dated == 1:
            return (
                f"The file's one payment is dated {_day(self.first)}, outside "
                f"{given}. {again}"
            )
        if self.outside == self.dated:
            counted = f"All {self.dated:,} of the file's payments are"
        else:
            counted = (
                f"{self.outside:,} of the file's {self.dated:,} payments "
                f"{pluralize(self.outside, 'is,are')}"
            )
        span = _day(self.first)
        if self.last != self.first:
            span += f" to {_day(self.last)}"
        return f"{counted} dated outside {given}: they are dated {span}. {again}"


def _period_key(upload: SpendUpload) -> str:
    return f"{upload.period_start:%Y-%m-%d}/{upload.period_end:%Y-%m-%d}"


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


PERIOD_CORRECTED = "Period corrected on the preview: "


def _period_text(start: date | None, end: date | None) -> str:
    if start is None or end is None:
        return "none given"
    return f"{_day(start)} to {_day(end)}"


def _dates_against_period(upload: SpendUpload, plans, blocks) -> PeriodDates | None:
    """The file's payment dates against the period given (None with no period,
    or no date read): every row of each block, its date read from the column
    proposed. Rows whose date cannot be read are left to the import to reject."""
    start, end = upload.period_start, upload.period_end
    if start is None or end is None:
        return None
    today = timezone.localdate()
    dated = outside = 0
    first = last = None
    for plan, block in zip(plans, blocks, strict=True):
        column = plan.columns.get("payment_date")
        if column is None:
            continue
        # Each distinct cell read once (review: a million rows parsed one by one
        # held the request for seconds).
        cells = Counter(row[column] for row in block.rows if column < len(row))
        for cell, times in cells.items():
            try:
                paid = parse_date(cell, today=today)
            except ValueError:
                continue
            dated += times
            if not start <= paid <= end:
                outside += times
            if first is None or paid < first:
                first = paid
            if last is None or paid > last:
                last = paid
    if not dated:
        return None
    return PeriodDates(start, end, dated, outside, first, last)


@council_view(Capability.UPLOAD)
def upload_preview(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Show how the file will be read; the officer confirms or changes the columns."""
    upload = _upload_or_discarded(request, council, pk)
    if isinstance(upload, HttpResponse):
        return upload
    if upload.status != UploadStatus.PENDING:
        if request.method == "POST":  # a stale tab: its choices are not used
            return _not_started(request, upload)
        return redirect("spend:upload-detail", council.slug, upload.pk)
    data = _kept_file_of(upload)
    if data is None:
        return redirect("spend:upload-detail", council.slug, upload.pk)
    try:
        plans, rows = plan_file(data, upload.file_name, remembered_mappings(council))
        refuse_summaries(plans, upload.file_name)
    except FileRefused as refusal:
        mark_failed(upload, str(refusal))
        return redirect("spend:upload-detail", council.slug, upload.pk)
    layouts = _by_layout(plans)
    firsts = [group[0] for group in layouts]
    form = MappingForm(
        request.POST or None,
        plans=firsts,
        vat_basis=upload.vat_basis,
        period=(upload.period_start, upload.period_end),
    )
    period_checked = ""  # the corrected period asked about, sent back to keep it
    if request.method == "POST" and form.is_valid():
        chosen = {
            group[0].layout: form.columns_for(i) for i, group in enumerate(layouts)
        }
        upload.vat_basis = form.chosen_vat_basis()  # saved by _start_import
        before = (upload.period_start, upload.period_end)
        upload.period_start, upload.period_end = form.chosen_period()
        if (upload.period_start, upload.period_end) != before:
            # Said in the upload's history, old and new (review).
            upload._change_reason = (
                f"{PERIOD_CORRECTED}{_period_text(*before)} → "
                f"{_period_text(upload.period_start, upload.period_end)}"
            )
            # A period corrected to another that misses the file's payments is
            # asked about again, once (QA: it imported without a second word).
            dates = _dates_against_period(upload, plans, rows)
            if dates is not None and dates.mostly_outside:
                period_checked = _period_key(upload)
                if request.POST.get("period_checked") != period_checked:
                    form.add_error("period_start", dates.corrected_words)
        if form.is_valid():
            started = _start_import(
                request,
                upload,
                plans,
                [chosen[plan.layout] for plan in plans],
                chosen=True,
            )
            if not started:
                return _not_started(request, upload)
            return redirect("spend:upload-detail", council.slug, upload.pk)
    blocks = [
        {
            "plan": group[0],
            # Once each: a sheet whose header is repeated part way down holds two
            # blocks of one layout (QA: "Sheet: Nov 2026, Nov 2026").
            "sheets": list(dict.fromkeys(plan.sheet for plan in group)),
            # A CSV unzipped from a ZIP is named by its file name: not a sheet.
            "of_a_file": group[0].sheet.lower().endswith(TEXT_SUFFIXES),
            "header_rows": [plan.header_row for plan in group if plan.header_row],
            "header_rows_by_sheet": _header_rows_by_sheet(group),
            "rows": sum(plan.row_count for plan in group),
            "fields": form.block_fields(i),
            "heading_cells": form.heading_cells(i),
            "number": i + 1,
        }
        for i, group in enumerate(layouts)
    ]
    # What the import will make of the VAT basis with the columns proposed; for a
    # file of one layout, with each amount column and answer (preview.js shows
    # the one chosen).
    vat = vat_words(decide_vat_basis(upload.vat_basis, amount_headings(firsts)))
    vat_choices = _vat_choices(firsts[0]) if len(firsts) == 1 else None
    # A layout with no header row is known only by its width: never remembered.
    headerless = [plan.header is None for plan in firsts]
    remembered = "none" if all(headerless) else "some" if any(headerless) else "all"
    context = {
        "council": council,
        "upload": upload,
        "form": form,
        "blocks": blocks,
        "vat": vat,
        "vat_choices": vat_choices,
        "remembered": remembered,
        # Before the import, as after it (QA: another council's file).
        "other_body": other_body_note(plans, [council.name, council.short_name]),
        # Before the import, as after it (QA: a 2017 file given January 2020).
        "period_dates": _dates_against_period(upload, plans, rows),
        "period_checked": period_checked,
    }
    return render(request, "spend/upload_preview.html", context)


def _header_rows_by_sheet(group) -> str:
    """Where the headings are in each of a layout's sheets, where the sheets
    differ: "on row 1 of “Nov 2025” and “Oct 2025”, and on row 5 of “Dec
    2025”" (QA: "found on row 1", the first sheet's, for them all); "" where
    every sheet has them on the same row."""
    rows_of: dict[str, list[int]] = {}
    for plan in group:
        if plan.header_row:
            rows_of.setdefault(plan.sheet, []).append(plan.header_row)
    sheets_at: dict[tuple[int, ...], list[str]] = {}
    for sheet, rows in rows_of.items():
        sheets_at.setdefault(tuple(rows), []).append(f"“{sheet}”")
    if len(sheets_at) < 2:
        return ""
    places = [
        f"on row{pluralize(len(rows))} {', '.join(map(str, rows))} of "
        f"{_and_list(sheets)}"
        for rows, sheets in sheets_at.items()
    ]
    return ", ".join(places[:-1]) + ", and " + places[-1]


def _and_list(words: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def vat_words(decision) -> dict:
    """The preview's words on the VAT basis: `text` ("" for none) and whether it
    is a `warning` (a heading contradicting the answer given)."""
    if decision.is_warning:
        text = f"{decision.note} If the heading is right, change your answer below."
    elif decision.note and decision.basis != VatBasis.UNKNOWN:
        text = (
            f"{decision.note} You did not say on the upload form: choose below if "
            "that is wrong."
        )
    else:
        text = decision.note
    return {"text": text, "warning": decision.is_warning}


def _vat_choices(plan) -> dict[str, dict[str, dict]]:
    """`vat_words` for each answer (net, gross, unknown) and each column the
    amount could be read from ("" for none): answer -> column -> words."""
    columns = ["", *(str(i) for i in range(plan.width))]
    return {
        stated: {
            column: vat_words(
                decide_vat_basis(
                    stated,
                    amount_headings(
                        [
                            replace(
                                plan, columns={"amount": int(column)} if column else {}
                            )
                        ]
                    ),
                )
            )
            for column in columns
        }
        for stated in VatBasis.values
    }


@council_view(Capability.VIEW)
def mapping_list(request: HttpRequest, council: Council) -> HttpResponse:
    """The column choices the council has remembered, each with the file that last
    used it, and who changed them; upload officers can forget one."""
    who = history_who(council)
    mappings = list(
        RememberedMapping.objects.for_council(council)
        .select_related("updated_by")
        .order_by("-updated_at", "-pk")
    )
    last_used = _last_used(council, {mapping.layout for mapping in mappings})
    choices = [
        _choice(mapping, who, last_used.get(mapping.layout)) for mapping in mappings
    ]
    changes = [
        {
            "when": record.history_date,
            "who": who(record),
            "what": _MAPPING_CHANGE[record.history_type],
            "headings": _headings_in_words(record),
            "moved": _columns_moved(record) if record.history_type == "~" else [],
        }
        for record in RememberedMapping.history.filter(council_id=council.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:MAPPING_CHANGES_SHOWN]
    ]
    can_upload = can(request.user, council, Capability.UPLOAD)
    # ?forget=N: the question before forgetting one (its button, on this page,
    # forgets it), naming its layout and the file that last used it (QA: the
    # Forget buttons acted at once, and all read alike).
    confirm = None
    asked = parse_whole_number(request.GET.get("forget", ""))
    if can_upload and asked is not None:
        confirm = next((c for c in choices if c["mapping"].pk == asked), None)
        if confirm is None:  # forgotten since (Back, another tab), or never
            return _forgotten_already(request, council, asked, listed=True)
    context = {
        "council": council,
        "choices": choices,
        "changes": changes,
        "changes_shown": MAPPING_CHANGES_SHOWN,
        "can_upload": can_upload,
        "confirm": confirm,
    }
    return render(request, "spend/mapping_list.html", context)


def _last_used(council: Council, wanted: set[str]) -> dict[str, SpendUpload]:
    """The council's latest imported (or rolled back) upload read by each of the
    `wanted` layouts."""
    last_used: dict[str, SpendUpload] = {}
    uploads = (
        SpendUpload.objects.for_council(council)
        .filter(status__in=[UploadStatus.IMPORTED, UploadStatus.ROLLED_BACK])
        .order_by("-uploaded_at", "-pk")
        .only("pk", "file_name", "uploaded_at", "mappings")
    )
    for upload in uploads.iterator() if wanted else ():
        for block in upload.mappings:
            if block.get("layout") in wanted:
                last_used.setdefault(block["layout"], upload)
        if len(last_used) == len(wanted):
            break  # newest first: every choice's last use is found
    return last_used


def _choice(mapping: RememberedMapping, who, last_used: SpendUpload | None) -> dict:
    """A remembered choice in words: its layout (how many columns, how many of
    them with no heading: QA, three layouts of the same headings read alike),
    which column each item is read from, and every column by its letter."""
    header, width = _remembered_header(mapping)
    headings = [
        text for text in header or [] if text and not is_localspend_column(text)
    ]
    unheaded = (
        sum(1 for at in range(width) if at >= len(header) or not header[at])
        if header is not None
        else 0
    )
    read_from: dict[int, list[str]] = {}
    for name, label in FIELD_LABELS.items():
        if name in mapping.columns:
            read_from.setdefault(mapping.columns[name], []).append(label)
    layout = f"{width} column{pluralize(width)}"
    if header is None:
        layout += ", no header row"
    elif unheaded:
        layout += f", {unheaded} with no heading"
    return {
        "mapping": mapping,
        "layout": layout,
        "headings": Truncator(", ".join(headings)).chars(140),
        "width": width,
        "every_column": [
            {
                "letter": column_letter(at),
                "heading": header[at] if header and at < len(header) else "",
                "read_as": read_from.get(at, []),
            }
            for at in range(width)
        ],
        "reads": [
            (label, column_letter(mapping.columns[name]))
            for name, label in FIELD_LABELS.items()
            if name in mapping.columns
        ],
        "columns": columns_used(header, width, mapping.columns),
        "by": who(_as_record(mapping.updated_by)),
        "last_used": last_used,
    }


MAPPING_CHANGES_SHOWN = 30
_MAPPING_CHANGE = {
    "+": "Remembered the columns",
    "~": "Changed the columns",
    "-": "Forgot the columns",
}


def _as_record(user):
    """A user as `history_who` reads a history record's author."""
    return SimpleNamespace(history_user_id=getattr(user, "pk", None), history_user=user)


def _columns_moved(record) -> list[str]:
    """What a change to a remembered choice did, item by item: "Amount: D "Gross"
    → C "Net"", "Postcode: not read → H "Postcode"", from its previous record."""
    before = record.prev_record
    if before is None:
        return []
    header = record.header or header_of_layout(record.layout)[0]
    width = len(header or []) or header_of_layout(record.layout)[1]
    old, new = before.columns or {}, record.columns or {}
    moved = []
    for name, label in FIELD_LABELS.items():
        if old.get(name) == new.get(name):
            continue
        was, now = (
            dict(columns_used(header, width, {name: cols[name]}).used)[label]
            if name in cols
            else "not read"
            for cols in (old, new)
        )
        moved.append(f"{label}: {was} → {now}")
    return moved


def _remembered_header(mapping) -> tuple[list[str] | None, int]:
    """The headings and width of a remembered layout (or a record of its
    history), as the council's file has them. The headings kept are those of
    the last file read by the choice, which may be a corrected rejected-rows
    download: its columns after the layout's own (`layout_key`: "LocalSpend:
    file row" …) are left out (QA: they made it look like another layout)."""
    header, width = header_of_layout(mapping.layout)
    if mapping.header:
        kept = mapping.header[:width] if header is not None else mapping.header
        header, width = kept, max(width, len(kept))
    return header, width


def _headings_in_words(record) -> str:
    header = _remembered_header(record)[0] or []
    headings = [text for text in header if text and not is_localspend_column(text)]
    if not headings:
        return "a file with no header row"
    return Truncator("headings " + ", ".join(f"“{t}”" for t in headings)).chars(160)


@council_view(Capability.UPLOAD)
@require_POST
def mapping_forget(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Forget a remembered column choice (asked first on the list, ?forget=N):
    the next file with those headings shows its columns to be checked. Recorded
    in the choice's history. Forgotten already (Back, or another tab): said,
    with when and by whom."""
    with transaction.atomic():
        # Locked, and the delete counted: two tabs forgetting at once recorded
        # "forgotten" twice (review).
        mapping = (
            RememberedMapping.objects.for_council(council)
            .select_for_update(of=("self",))
            .select_related("updated_by")
            .filter(pk=pk)
            .first()
        )
        if mapping is not None:
            choice = _choice(
                mapping,
                history_who(council),
                _last_used(council, {mapping.layout}).get(mapping.layout),
            )
            mapping._change_reason = "Forgotten on the column choices page"
            if not mapping.delete()[0]:  # by the other tab, after this one read it
                transaction.set_rollback(True)
                mapping = None
    if mapping is None:
        return _forgotten_already(request, council, pk)
    last = choice["last_used"]
    messages.success(
        request,
        f"Forgot the column choice for files of {choice['layout']}"
        + (f" headed {choice['headings']}" if choice["headings"] else "")
        + (f", last used by {last.file_name}" if last else "")
        + ". The next file with those headings will show its columns for you to "
        "check before anything is imported.",
    )
    return redirect("spend:mappings", council.slug)


def _forgotten_already(
    request: HttpRequest, council: Council, pk: int, *, listed: bool = False
):
    """The answer for a choice forgotten already: the list, saying by whom and
    when (QA: a bare "No RememberedMapping matches the given query"). One never
    remembered: not found, or, asked of the `listed` choices, the list."""
    record = (
        RememberedMapping.history.filter(id=pk, council_id=council.pk, history_type="-")
        .select_related("history_user")
        .first()
    )
    if record is None and listed:
        messages.error(request, "That column choice is not among those remembered.")
        return redirect("spend:mappings", council.slug)
    if record is None:
        raise Http404("No such column choice.")
    when = timezone.localtime(record.history_date)
    messages.info(
        request,
        f"That column choice ({_headings_in_words(record)}) was already forgotten, "
        f"by {history_who(council)(record)} on {when.day} {when:%B %Y at %H:%M}. "
        "Nothing was changed.",
    )
    return redirect("spend:mappings", council.slug)


def _by_layout(plans: list) -> list[list]:
    """Blocks grouped by header layout, in file order: one mapping per layout."""
    groups: dict[str, list] = {}
    for plan in plans:
        groups.setdefault(plan.layout, []).append(plan)
    return list(groups.values())


def _start_import(
    request, upload: SpendUpload, plans, columns, *, chosen: bool = False
) -> bool:
    """Remember the columns for each layout and queue the import. `chosen`: the
    officer chose them on the preview page; the import is told, and uses them.

    False, with nothing done, when the upload is no longer waiting for its columns
    by the time its row is locked: discarded, or queued, from another tab."""
    with transaction.atomic():
        # Held until the import is queued: a discard waits, then finds it queued.
        waiting = (
            SpendUpload.objects.select_for_update()
            .filter(pk=upload.pk, status=UploadStatus.PENDING)
            .only("pk")
            .first()
        )
        if waiting is None:
            return False
        for plan, cols in zip(plans, columns, strict=True):
            _remember(request, upload.council, plan, cols, chosen=chosen)
        upload.rows_expected = sum(plan.row_count for plan in plans)
        upload.status = UploadStatus.QUEUED
        upload.heartbeat_at = timezone.now()
        # The worker, outside any request, records the import's changes as
        # theirs (audit: they were no one's, or the uploader's).
        upload.queued_by = request.user
        # The import reads these columns, whatever is remembered by the time it
        # runs (a choice forgotten or changed meanwhile).
        decided = "chosen" if chosen else "remembered"
        upload.mappings = [
            {"layout": plan.layout, "columns": cols, decided: True}
            for plan, cols in zip(plans, columns, strict=True)
        ]
        upload.save(
            update_fields=[
                "rows_expected",
                "status",
                "heartbeat_at",
                "queued_by",
                "mappings",
                "vat_basis",
                "period_start",
                "period_end",
            ]
        )
    import_upload.enqueue(upload.pk)
    return True


def _not_started(request: HttpRequest, upload: SpendUpload) -> HttpResponse:
    """The answer when the import could not be started: the upload was discarded
    meanwhile (the page saying so), or is no longer waiting for its columns."""
    council = upload.council
    gone = _discarded(request, council, upload.pk)
    if gone is not None:
        return gone
    if not SpendUpload.objects.filter(pk=upload.pk).exists():
        raise Http404("No such upload.")
    messages.info(
        request,
        "This file is no longer waiting for its columns to be checked (its import "
        "may have been started in another tab or window), so nothing was changed. "
        "What is happening to it is below.",
    )
    return redirect("spend:upload-detail", council.slug, upload.pk)


def _remember(
    request, council: Council, plan, columns: dict[str, int], *, chosen: bool
) -> None:
    """Remember the columns the officer `chosen` for the plan's layout. A choice
    only used again (not chosen), or chosen as it was, stays as it was: who chose
    it and when; only its headings are brought up to date (filled in where they
    were not kept before, or as this file writes them), in its history."""
    if plan.header is None:
        return  # a file with no header row is guessed from its values each time
    layout_hash = sha256_of(plan.layout.encode())
    header = plan.header
    held = RememberedMapping.objects.filter(council=council, layout_hash=layout_hash)
    # Held (`_start_import`'s transaction) so that one forgotten from another
    # tab meanwhile is not saved to.
    mapping = held.select_for_update().first()
    if mapping is not None and (not chosen or mapping.columns == columns):
        if mapping.header != header:
            # Saved, not updated, so that the history has it (audit); its
            # `updated_by` and `updated_at` (who chose the columns) stay.
            mapping.header = header
            mapping._change_reason = (
                "Headings kept as a file read with these columns writes them"
            )
            mapping.save(update_fields=["header"])
        return
    RememberedMapping.objects.update_or_create(
        council=council,
        layout_hash=layout_hash,
        defaults={
            "layout": plan.layout,
            "header": header,
            "columns": columns,
            "updated_by": request.user,
        },
    )


@council_view(Capability.VIEW)
def upload_detail(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    fail_stopped_imports(council)
    upload = _upload_or_discarded(request, council, pk)
    if isinstance(upload, HttpResponse):
        return upload
    issues = upload.issues.all()
    # A download of another upload's rejected rows, corrected: named, and its
    # rows by their rows in that file too (QA: the page did not say so). Where
    # it corrects a correction's, the file they came from first is named, and
    # those between (QA: only the correction it was made from was).
    corrections = Corrections(council.pk)
    chain = corrections.chain(upload)
    corrects = (
        {"pk": chain[0][0], "file_name": chain[0][1], "through": chain[1:]}
        if chain
        else None
    )
    context = {
        "council": council,
        "upload": upload,
        "corrects": corrects,
        "rejected": _with_original_rows(
            _in_file_order(issues.filter(kind=RowIssue.Kind.REJECTED), upload)[
                :ISSUES_SHOWN
            ],
            corrects,
        ),
        "skipped": _with_original_rows(
            _in_file_order(issues.filter(kind=RowIssue.Kind.SKIPPED), upload)[
                :ISSUES_SHOWN
            ],
            corrects,
        ),
        # Rejected rows whose amount could not be read: not in the £ rejected.
        "rejected_unpriced": (
            issues.filter(kind=RowIssue.Kind.REJECTED, amount__isnull=True).count()
            if upload.rows_rejected
            else 0
        ),
        "can_upload": can(request.user, council, Capability.UPLOAD),
        "rejected_as_workbook": rejected_as_workbook(upload),
        "issues_shown": ISSUES_SHOWN,
        # Not the file's fault: the same file is uploaded again, not corrected.
        "file_gone": upload.message in (FILE_GONE, FILE_UNREADABLE),
        # Where the VAT basis came from, or the heading contradicting it.
        "vat_note": _note_starting(upload, VAT_BASIS_NOTE),
        # Of no use where nothing was imported (QA: every payment already held).
        "vat_warning": (
            _note_starting(upload, VAT_BASIS_WARNING) if upload.rows_imported else ""
        ),
        "columns_read": (layouts := _columns_read(upload)),
        "any_headerless": any(not layout["has_header"] for layout in layouts),
    }
    # Every row rejected: the file kept can be read again, its columns checked.
    context["can_read_again"] = (
        context["can_upload"]
        and upload.status == UploadStatus.IMPORTED
        and upload.rows_rejected > 0
        and upload.holds_nothing
    )
    if request.htmx:
        if upload.is_finished or upload.is_stalled:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return render(request, "spend/_progress.html", context)
    people = People(council)
    context["uploader"] = people.uploader(upload)
    context["rolled_back_by"] = people.name(
        upload.rolled_back_by_id, upload.rolled_back_by, here=True, nobody="someone"
    )
    # The period corrected on the preview, said with who and when (QA: only
    # the database held it).
    corrected = (
        upload.history.filter(history_change_reason__startswith=PERIOD_CORRECTED)
        .select_related("history_user")
        .order_by("-history_date")
        .first()
    )
    if corrected is not None:
        context["period_corrected"] = {
            "words": corrected.history_change_reason.removeprefix(PERIOD_CORRECTED),
            "by": people.name(
                corrected.history_user_id, corrected.history_user, here=True
            ),
            "at": corrected.history_date,
        }
    # Rolled back with no payment added: the upload holding the file now, if any.
    context["again"] = _uploaded_again(upload)
    # How many of its rejected rows corrections have imported since, at any
    # depth (QA: a month corrected in two rounds still read "4 rejected", the
    # second round not named).
    context["corrected"] = corrected = corrections.corrected(upload)
    # The payments read and the rows corrected since, together, against the
    # file's own total, where what the corrected rows came to is known.
    if (
        corrected is not None
        and corrected.amount is not None
        and upload.file_stated_total is not None
    ):
        context["with_corrections"] = upload.amount_held + corrected.amount
        context["left_after_corrections"] = abs(
            upload.file_stated_total - context["with_corrections"]
        )
    # Each correction imported, with its payments imported, and how many rows
    # it rejected again are still to correct (in its own download).
    context["corrections"] = [
        {
            "pk": later.pk,
            "file_name": later.file_name,
            "imported": later.imported,
            "still": corrections.still_rejected(later.pk),
        }
        for later in corrections.below(upload.pk)
        if later.live
    ]
    return render(request, "spend/upload_detail.html", context)


def _with_original_rows(issues, corrects: dict | None) -> list[RowIssue]:
    """The issues, each with `original`: where its row stood in the file the
    download's rows came from first, `corrects` (the original, through any
    corrections between: "row 12", "sheet April, row 12"), from the download's
    "LocalSpend: file row" (and "LocalSpend: sheet"), the first given, as the
    download writes them (`rejected_for_download`); "" where not known."""
    issues = list(issues)
    for issue in issues:
        issue.original = ""
        if corrects is None:
            continue
        cells: dict[str, str] = {}
        for name, value in issue.cells or []:
            if str(value).strip():
                cells.setdefault(str(name).strip().casefold(), str(value).strip())
        row = cells.get(FILE_ROW_COLUMN.casefold(), "")
        if row:
            sheet = cells.get(_ADDED_COLUMNS[0].casefold(), "")
            at_sheet = (
                f"sheet {sheet}, " if sheet and sheet != corrects["file_name"] else ""
            )
            issue.original = f"{at_sheet}row {row}"
    return issues


def _in_file_order(issues, upload: SpendUpload):
    """The issues (a query) in the file's order: by sheet, as the sheets come
    in the file, then by row (QA: "Feb 2025, 13" came before "Jan 2025, 12",
    the sheets going by name). A sheet the file's layouts do not name comes
    after them."""
    sheets = list(
        dict.fromkeys(str(block.get("sheet", ""))[:100] for block in upload.mappings)
    )
    if len(sheets) < 2:
        return issues.order_by("sheet", "row", "pk")
    rank = Case(
        *(When(sheet=sheet, then=Value(at)) for at, sheet in enumerate(sheets)),
        default=Value(len(sheets)),
        output_field=IntegerField(),
    )
    return issues.order_by(rank, "sheet", "row", "pk")


# A column the rejected-rows download heads by its own letter ("H": a value
# beyond the file's header): LocalSpend's, not read, and not listed (README).
_LETTER_HEADED = re.compile(r'([A-Z]{1,3}) "\1"')


def _columns_read(upload: SpendUpload) -> list[dict]:
    """`columns_read`; for a corrected download of rejected rows, without the
    column it heads by its letter (QA: "Not read: K "K"")."""
    layouts = columns_read(upload.mappings, upload.file_name)
    if upload.corrects_id is None:
        return layouts
    for layout in layouts:
        used = layout["columns"]
        layout["columns"] = replace(
            used,
            unused=[
                label for label in used.unused if not _LETTER_HEADED.fullmatch(label)
            ],
        )
    return layouts


def _corrections_of(upload: SpendUpload) -> list[SpendUpload]:
    """The council's imported uploads of this upload's rejected rows, corrected
    (their download named it), and of theirs in turn, at any depth (QA: the
    second round of a month's corrections was not named), oldest first."""
    below = Corrections(upload.council_id).below(upload.pk)
    return list(
        SpendUpload.objects.filter(
            council_id=upload.council_id,
            pk__in=[later.pk for later in below],
            status=UploadStatus.IMPORTED,
        ).order_by("pk")
    )


def _uploaded_again(upload: SpendUpload) -> SpendUpload | None:
    """For an upload rolled back when the same file was uploaded again (its import
    added no payment), the council's live upload of that file, if any."""
    if upload.status != UploadStatus.ROLLED_BACK or not upload.holds_nothing:
        return None
    return (
        SpendUpload.objects.for_council(upload.council)
        .filter(sha256=upload.sha256, status__in=LIVE_STATUSES)
        .exclude(pk=upload.pk)
        .first()
    )


def _note_starting(upload: SpendUpload, start: str) -> str:
    return next((note for note in upload.notes if note.startswith(start)), "")


@council_view(Capability.VIEW)
def upload_issues_csv(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """The rejected rows as they were, plus the reason: fix them and upload again.

    A file of one layout gives a CSV in its columns. A file of several layouts
    (sheets with different headings) gives an Excel workbook with a sheet for
    each, so that the corrected file is read as the original was, each sheet by
    its own columns: in one CSV of every heading, one layout's columns would be
    read and the other's rows taken for notes (QA)."""
    upload = _upload_for(council, pk)
    # LocalSpend's columns once, the latest (QA: each round of corrections
    # added four more).
    issues = rejected_for_download(upload.issues.filter(kind=RowIssue.Kind.REJECTED))
    # In the file's order, sheet by sheet as the file has them (QA: by name,
    # "Feb 2025" before "Jan 2025", and the sheet named so): a correction's rows
    # by the sheets of the file they came from first, then its own.
    issues = in_file_order(issues, *reversed(correction_chain(upload)))
    stem = upload.file_name.rsplit(".", 1)[0]
    sheets = any(issue.sheet not in ("", upload.file_name) for issue in issues)
    groups: dict[tuple[str, ...], list[RowIssue]] = {}
    for issue in issues:
        groups.setdefault(tuple(name for name, _ in issue.cells), []).append(issue)
    # Names this upload, so that the corrected rows, uploaded again, are not
    # taken as already held by the payments imported from it (spend.importer:
    # corrected_upload).
    marker = f"{REJECTED_BY}{upload.pk}"
    if not rejected_as_workbook(upload):
        header = _merged_header(groups)
        added = _ADDED_COLUMNS if sheets else _ADDED_COLUMNS[1:]
        return csv_response(
            f"{stem}-rejected-rows.csv",
            header + added + [marker],
            _rejected_rows(issues, header, sheets=sheets, source=upload.file_name),
        )
    return xlsx_sheets_response(
        f"{stem}-rejected-rows.xlsx",
        [
            # Named after its sheets (a layout may span several: "April, May").
            (
                ", ".join(dict.fromkeys(row.sheet for row in rows)),
                [
                    [*key, *_ADDED_COLUMNS, marker],
                    *_rejected_rows(
                        rows, list(key), sheets=True, source=upload.file_name
                    ),
                ],
            )
            for key, rows in groups.items()
        ]
        or [("Rows", [*_ADDED_COLUMNS, marker])],
    )


# The columns a download of rejected rows adds: read by no one (is_localspend_column).
_ADDED_COLUMNS = [
    "LocalSpend: sheet",
    FILE_ROW_COLUMN,
    "LocalSpend: column",
    "LocalSpend: problem",
]


def rejected_as_workbook(upload: SpendUpload) -> bool:
    """Whether the rejected rows download as a workbook: the file had several
    layouts (the result page's "Columns read" lists each)."""
    return len({block.get("layout", "") for block in upload.mappings}) > 1


def _merged_header(keys: Iterable[Sequence[str]]) -> list[str]:
    """The headings of rows of one layout (short rows name fewer columns), each as
    often as a row has it: a file with two "Account Code" columns (Craven: the
    code and its name) keeps both, so the corrected file is read as the original."""
    header: list[str] = []
    held: Counter[str] = Counter()
    for key in keys:
        seen: Counter[str] = Counter()
        for name in key:
            seen[name] += 1
            if seen[name] > held[name]:
                held[name] = seen[name]
                header.append(name)
    return header


def _by_heading(pairs: Iterable[Sequence[str]]) -> dict[tuple[str, int], str]:
    """Cells by (heading, which of the columns so headed), from 1."""
    seen: Counter[str] = Counter()
    cells = {}
    for name, value in pairs:
        seen[name] += 1
        cells[name, seen[name]] = value
    return cells


def _rejected_rows(
    issues: list[RowIssue], header: list[str], *, sheets: bool, source: str
):
    slots = list(_by_heading((name, name) for name in header))
    for issue in issues:
        cells = _by_heading(issue.cells)
        added = [issue.sheet] if sheets else []
        yield [cells.get(slot, "") for slot in slots] + [
            *added,
            issue.row,
            issue.column,
            issue.message,
            source,
        ]


@council_view(Capability.UPLOAD)
def upload_rollback(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    upload = _upload_for(council, pk)
    if upload.status != UploadStatus.IMPORTED:
        if upload.status == UploadStatus.ROLLED_BACK:  # sent again (Back, two tabs)
            people = People(council)
            who = people.name(
                upload.rolled_back_by_id,
                upload.rolled_back_by,
                here=True,
                nobody="someone",
            )
            when = timezone.localtime(upload.rolled_back_at)
            messages.info(
                request,
                f"{upload.file_name} was already rolled back, by {who} on "
                f"{when.day} {when:%B %Y at %H:%M}.",
            )
        else:
            messages.error(request, "Only an imported file can be rolled back.")
        return redirect("spend:upload-detail", council.slug, upload.pk)
    if request.method == "POST":
        try:
            removed = rollback_upload(upload, user=request.user)
        except RollbackRefused as refusal:
            messages.error(request, str(refusal))
            return redirect("spend:upload-rollback", council.slug, upload.pk)
        messages.success(
            request,
            f"Rolled back {upload.file_name}: {removed:,} "
            f"payment{pluralize(removed)} removed.",
        )
        return redirect("spend:upload-detail", council.slug, upload.pk)
    relying = list(uploads_relying_on(upload))
    for later in relying:
        # Its held payments may be in other files too: say how many others, as
        # the count is of them all (QA: read as this file's own).
        later.held_elsewhere = len(set(later.held_in) - {upload.pk})
    context = {
        "council": council,
        "upload": upload,
        "relying": relying,
        # Each later import kept which files hold its payments: no "perhaps".
        "relying_known": all(later.held_in for later in relying),
        "corrections": _corrections_of(upload),
    }
    return render(request, "spend/upload_rollback.html", context)


@council_view(Capability.UPLOAD)
@require_POST
def upload_retry(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Run a failed or stalled import again, from the file kept at upload."""
    upload = _upload_for(council, pk)
    if not upload.can_retry:
        raise PermissionDenied(
            "Only an import that stopped by no fault of the file can be tried again: "
            "correct the file and upload it instead."
        )
    if first_upload_of(council, upload.sha256):
        messages.error(request, "This file has been imported since; nothing to retry.")
        return redirect("spend:upload-detail", council.slug, upload.pk)
    live = (
        SpendUpload.objects.for_council(council)
        .filter(sha256=upload.sha256, status__in=LIVE_STATUSES)
        .exclude(pk=upload.pk)
        .first()
    )
    if live is not None:  # uploaded again since: that upload is the one to use
        messages.info(
            request,
            f"This file has been uploaded again since, as upload #{live.pk}: "
            "carry on with that one.",
        )
        return redirect("spend:upload-detail", council.slug, live.pk)
    upload.status, upload.message, upload.progress_rows = UploadStatus.PENDING, "", 0
    # Whoever tries it again starts it (their confirming the columns queues it).
    upload.queued_by = request.user
    upload.save(update_fields=["status", "message", "progress_rows", "queued_by"])
    # QA: the preview came up with no word of why the columns were asked again.
    messages.info(
        request,
        "Trying the file again from the start: check the columns as before, then "
        "start the import. Nothing from the stopped attempt was saved.",
    )
    return redirect("spend:upload-preview", council.slug, upload.pk)


def _still_kept(upload: SpendUpload) -> bool:
    try:
        return kept_path(upload.stored_file).is_file()
    except FileNotFoundError:  # a path outside the upload folder: never kept
        return False


REREAD_REFUSED = (
    "Only an imported file that added no payment (every row rejected) can be read "
    "again this way. Roll an imported file back, then upload it again."
)


@council_view(Capability.UPLOAD)
@require_POST
def upload_reread(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Read again, from the file kept, an imported file that added no payment
    (every row rejected, as when a column was read wrongly): the upload is rolled
    back (it removes nothing; in its history, by this user) and a new upload of
    the same file goes to its preview, its columns to be checked."""
    with transaction.atomic():
        upload = (
            SpendUpload.objects.for_council(council)
            .select_for_update()
            .filter(pk=pk)
            .first()
        )
        if upload is None:
            raise Http404("No such upload.")
        if upload.status == UploadStatus.ROLLED_BACK and (
            again := _uploaded_again(upload)
        ):
            messages.info(
                request,
                f"This file has been read again already, as upload #{again.pk}.",
            )
            return redirect("spend:upload-detail", council.slug, again.pk)
        if not _emptied(upload):
            messages.error(request, REREAD_REFUSED)
            return redirect("spend:upload-detail", council.slug, upload.pk)
        if not _still_kept(upload):
            messages.error(request, FILE_GONE)
            return redirect("spend:upload-detail", council.slug, upload.pk)
        rollback_upload(upload, user=request.user, reason=EMPTY_ROLLED_BACK)
        new = SpendUpload.objects.create(
            council=council,
            file_name=upload.file_name,
            sha256=upload.sha256,
            size_bytes=upload.size_bytes,
            uploaded_by=request.user,
            queued_by=request.user,
            # As the officer gave it: a basis the import read from the amount
            # column's heading is worked out again from the column chosen now.
            vat_basis=(
                VatBasis.UNKNOWN
                if _note_starting(upload, VAT_BASIS_NOTE)
                else upload.vat_basis
            ),
            period_start=upload.period_start,
            period_end=upload.period_end,
            stored_file=upload.stored_file,
        )
    messages.info(
        request,
        f"Upload #{upload.pk} added no payment, so it was rolled back. Check the "
        "columns below, then start the import.",
    )
    return redirect("spend:upload-preview", council.slug, new.pk)


@council_view(Capability.UPLOAD)
@require_http_methods(["GET", "HEAD", "POST"])
def upload_discard(request: HttpRequest, council: Council, pk: int) -> HttpResponse:
    """Ask, then (on POST only) remove an upload that imported nothing: one waiting
    for its columns to be checked, or one that failed. Its kept file goes too,
    unless another upload holds the same file. The deletion stays in the upload's
    history."""
    # Discarded already (Back, or another tab): the page saying when and by whom.
    upload = _upload_or_discarded(request, council, pk)
    if isinstance(upload, HttpResponse):
        return upload
    if not upload.can_discard:
        messages.error(request, DISCARD_REFUSED)
        return redirect("spend:upload-detail", council.slug, upload.pk)
    if request.method != "POST":
        context = {
            "council": council,
            "upload": upload,
            "uploader": People(council).uploader(upload),
        }
        return render(request, "spend/upload_discard.html", context)
    stored, name = upload.stored_file, upload.file_name
    with transaction.atomic():
        # Still discardable now that it is held (a preview may have queued it).
        held = (
            SpendUpload.objects.select_for_update()
            .filter(pk=upload.pk, status__in=DISCARDABLE)
            .first()
        )
        if held is None:
            messages.error(request, DISCARD_REFUSED)
            return redirect("spend:upload-detail", council.slug, upload.pk)
        held._change_reason = "Discarded: nothing from it was imported"
        held.delete()
        if stored:
            transaction.on_commit(partial(_discard_if_unheld, stored))
    messages.success(request, f"Discarded {name}: nothing from it was imported.")
    return redirect("spend:uploads", council.slug)


DISCARD_REFUSED = (
    "Only a file that imported nothing (waiting for its columns to be checked, or "
    "failed) can be discarded. Roll an imported file back instead."
)


def _discard_if_unheld(stored: str) -> None:
    if not SpendUpload.objects.filter(stored_file=stored).exists():
        discard_kept(stored)


LINE_EXPORT_HEADER = [
    "Date",
    "Supplier (as published)",
    "Supplier number in the register",
    "Redacted",
    "Directorate",
    "Department",
    "Service area",
    "Expense type",
    "Description",
    "Transaction reference",
    "Amount (£)",
    # Where each line came from (QA): after the columns exports always had.
    "Source file",
    "Amounts net or gross of VAT",
]
LINE_EXPORT_WIDTHS = [12, 40, 14, 10, 30, 30, 30, 30, 50, 20, 14, 40, 22]


def _export_lines(council: Council, filterset, file_type: str):
    """Every line the filters select (not just a page), with a preamble stating
    the council, the filters, the count and total, and the day of export."""
    from decimal import Decimal

    from django.db.models import Count, DecimalField, Sum, Value
    from django.db.models.functions import Coalesce

    from spend.export import csv_stream_response, xlsx_response
    from spend.filters import directorate_of_line

    lines = filterset.qs
    zero = Value(0, output_field=DecimalField(max_digits=16, decimal_places=2))
    figures = lines.aggregate(count=Count("id"), total=Coalesce(Sum("amount"), zero))
    today = timezone.localdate()
    preamble = [
        ["Council", council.name],
        ["Filters", "; ".join(filterset.describe()) or "none"],
        ["Payments", figures["count"]],
        ["Total (£)", Decimal(figures["total"]).quantize(Decimal("0.01"))],
        ["Exported on", today],
        [],
        LINE_EXPORT_HEADER,
    ]
    values = (
        lines.annotate(directorate=directorate_of_line())
        .values_list(
            "payment_date",
            "supplier_name",
            "supplier_id",
            "redacted",
            "directorate",
            "department",
            "service_area",
            "expense_type",
            "description",
            "transaction_ref",
            "amount",
            "upload__file_name",
            "upload__vat_basis",
        )
        .iterator(chunk_size=5000)
    )
    vat_words = dict(VatBasis.choices)

    def rows():
        yield from preamble
        for *line, basis in values:
            line.append(vat_words.get(basis, basis))
            yield line

    file_name = f"{council.slug}-spend-lines-{today:%Y-%m-%d}.{file_type}"
    if file_type == "csv":
        return csv_stream_response(file_name, rows())
    return xlsx_response(
        file_name,
        rows(),
        title="Spend lines",
        bold_rows=[0, 1, 2, 3, 4, len(preamble) - 1],
        widths=LINE_EXPORT_WIDTHS,
    )


def _with_query(request: HttpRequest, **changes) -> str:
    """The current query string (all filters kept) with `changes` applied."""
    query = request.GET.copy()
    query.pop("page", None)
    for name, value in changes.items():
        query[name] = value
    return query.urlencode()


class CountedPaginator(Paginator):
    """A paginator told how many items there are, rather than counting them."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count = count  # the cached_property's slot


@council_view(Capability.VIEW)
def line_list(request: HttpRequest, council: Council) -> HttpResponse:
    """The lines behind any dashboard figure: filters the dashboards link with,
    their total, and the same lines as CSV or Excel (?export=csv|xlsx)."""
    from spend.filters import directorate_of_line

    lines = SpendLine.objects.for_council(council)
    filterset = SpendLineFilter(request.GET, queryset=lines, council=council)
    valid = filterset.is_valid()
    file_type = request.GET.get("export")
    if valid and file_type in ("csv", "xlsx"):
        return _export_lines(council, filterset, file_type)
    # A supplier, upload or contract number in the address (a link's) that is
    # not valid: no payments are shown, rather than all of them as if they were
    # the figure followed (QA). A filter typed wrong filters nothing, as said.
    broken_link = not valid and any(
        name in filterset.form.errors for name in LINKED_FILTERS
    )
    shown = lines.none() if broken_link else filterset.qs
    table = SpendLineTable(
        shown.annotate(directorate=directorate_of_line()), council=council
    )
    # What is shown is counted, a filter typed wrong or not (QA: the count and
    # total went with an invalid date).
    figures = None if broken_link else filterset.qs.headline()
    options = {}
    if figures is not None:
        # The headline has counted the lines: the paginator need not count again.
        options["paginator_class"] = partial(CountedPaginator, count=figures["lines"])
    paginate(request, table, 50, **options)
    context = {
        "council": council,
        "filter": filterset,
        "table": table,
        "figures": figures,
        "broken_link": broken_link,
        # Downloads state the filters: offered only when all of them are used.
        "can_export": valid,
        "csv_query": _with_query(request, export="csv"),
        "xlsx_query": _with_query(request, export="xlsx"),
    }
    return render(request, "spend/line_list.html", context)
