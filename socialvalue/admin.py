import logging
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from councils.history_admin import HistoryAdmin
from councils.uploads import size_error
from socialvalue.models import (
    Commitment,
    DeliveryReturn,
    LivingWageEmployer,
    LivingWageSnapshot,
    Measure,
    ProxyValue,
    ReferenceKind,
    ReferenceLoad,
    ReferenceLoadStatus,
    SupplierTag,
    TagOverride,
    Target,
)
from socialvalue.reference import SUFFIXES, forget_file, keep_reference_file
from socialvalue.tasks import give_up_stalled, load_reference_file


@admin.register(Target)
class TargetAdmin(HistoryAdmin):
    list_display = [
        "council",
        "metric",
        "baseline_year",
        "baseline_share",
        "target_year",
        "target_share",
    ]
    list_filter = ["council", "metric"]


@admin.register(SupplierTag)
class SupplierTagAdmin(HistoryAdmin):
    list_display = [
        "supplier",
        "council",
        "kind",
        "value",
        "source",
        "confidence",
        "decided_at",
    ]
    list_filter = ["kind", "value", "source", "confidence", "council"]
    search_fields = ["supplier__name", "evidence"]
    raw_id_fields = ["supplier"]


@admin.register(TagOverride)
class TagOverrideAdmin(HistoryAdmin):
    list_display = ["supplier", "council", "kind", "value", "created_by", "created_at"]
    list_filter = ["kind", "council"]
    search_fields = ["supplier__name", "reason"]
    raw_id_fields = ["supplier"]


@admin.register(Measure)
class MeasureAdmin(HistoryAdmin):
    list_display = ["code", "name", "theme", "unit", "active"]
    list_filter = ["theme", "unit", "active"]
    search_fields = ["code", "name", "counting"]


@admin.register(ProxyValue)
class ProxyValueAdmin(HistoryAdmin):
    list_display = ["council", "measure", "year", "value", "entered_by", "entered_at"]
    list_filter = ["council", "year", "measure__theme"]
    search_fields = ["measure__code", "measure__name", "source"]
    raw_id_fields = ["measure"]
    readonly_fields = ["entered_by", "entered_at"]


@admin.register(Commitment)
class CommitmentAdmin(HistoryAdmin):
    list_display = ["contract", "measure", "quantity", "period_start", "period_end"]
    list_filter = ["contract__council", "measure__theme"]
    search_fields = ["contract__reference", "contract__title", "measure__code"]
    raw_id_fields = ["contract", "measure"]


@admin.register(DeliveryReturn)
class DeliveryReturnAdmin(HistoryAdmin):
    list_display = [
        "commitment",
        "quantity",
        "period_start",
        "period_end",
        "entered_by",
        "entered_at",
    ]
    list_filter = ["commitment__contract__council"]
    search_fields = ["commitment__contract__reference", "evidence_note"]
    raw_id_fields = ["commitment"]
    readonly_fields = [
        "evidence_file",
        "evidence_file_name",
        "entered_by",
        "entered_at",
    ]


class LivingWageEmployerInline(admin.TabularInline):
    model = LivingWageEmployer
    extra = 0
    fields = ["name", "location"]


@admin.register(LivingWageSnapshot)
class LivingWageSnapshotAdmin(admin.ModelAdmin):
    list_display = ["taken_on", "file_name", "loaded_at", "loaded_by"]
    inlines = [LivingWageEmployerInline]


@admin.register(LivingWageEmployer)
class LivingWageEmployerAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "snapshot"]
    search_fields = ["name", "normalised_name"]
    list_filter = ["snapshot"]


# ================================================================ reference data

RECENT_LOADS = 20
logger = logging.getLogger(__name__)


def _max_upload_mb() -> int:
    # ONSPD is about 1 GB and Companies House's CSV 2.5 GB (its ZIP about 0.5 GB).
    return getattr(settings, "REFERENCE_MAX_UPLOAD_MB", 4096)


class ReferenceUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label="What the file is",
        choices=ReferenceKind.choices,
        widget=forms.RadioSelect,
    )
    taken_on = forms.DateField(
        label="Date of the list",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Living Wage list only: the date the list was taken (YYYY-MM-DD).",
    )
    file = forms.FileField(
        label="File",
        allow_empty_file=True,  # refused below, naming the file
        help_text="CSV or tab-separated text, or the ZIP as downloaded.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(sorted(SUFFIXES))}),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        # Over the limit, councils.uploads.LimitedUploadHandler kept none of it.
        too_big = size_error(file, _max_upload_mb())
        if too_big:
            raise forms.ValidationError(
                f"{too_big} Upload the ZIP as downloaded, or load it with the "
                "management command."
            )
        if file.size == 0:
            raise forms.ValidationError(f'"{file.name}" is empty.')
        if Path(file.name).suffix.lower() not in SUFFIXES:
            raise forms.ValidationError(
                f'"{file.name}" is not a CSV, text or ZIP file: save it as CSV, or '
                "upload the file as it was downloaded."
            )
        # The content (not the name) is checked when the load starts
        # (socialvalue.reference: binary files, Excel, ZIP bombs, unsafe names),
        # so the refusal is kept in the list of loads; the file is removed then.
        return file

    def clean(self):
        data = super().clean()
        if data.get("kind") == ReferenceKind.LIVING_WAGE and not data.get("taken_on"):
            self.add_error("taken_on", "Give the date the Living Wage list was taken.")
        return data


@admin.register(ReferenceLoad)
class ReferenceLoadAdmin(admin.ModelAdmin):
    """A read-only log of reference data loads, and the page that makes them.

    Reference data are shared by every council, so both are for superusers only.
    """

    list_display = [
        "created_at",
        "what",
        "file_name",
        "size_shown",
        "uploaded_by",
        "status",
        "summary",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["file_name", "message"]
    fields = [
        "kind",
        "file_name",
        "size_shown",
        "taken_on",
        "uploaded_by",
        "status",
        "created_at",
        "started_at",
        "finished_at",
        "rows_read",
        "report_shown",
    ]
    readonly_fields = fields
    change_list_template = "admin/socialvalue/referenceload/change_list.html"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # loads are made on the "Load reference data" page

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="what", ordering="kind")
    def what(self, load: ReferenceLoad) -> str:
        return load.what + (f" of {load.taken_on:%d %B %Y}" if load.taken_on else "")

    @admin.display(description="size")
    def size_shown(self, load: ReferenceLoad) -> str:
        return filesizeformat(load.size)

    @admin.display(description="summary")
    def summary(self, load: ReferenceLoad) -> str:
        return _summary(load)

    @admin.display(description="report")
    def report_shown(self, load: ReferenceLoad) -> str:
        return render_to_string(
            "admin/socialvalue/referenceload/report.html", {"load": load}
        )

    def get_urls(self):
        return [
            path(
                "load/",
                self.admin_site.admin_view(self.load_view),
                name="socialvalue_referenceload_load",
            ),
            *super().get_urls(),
        ]

    def load_view(self, request: HttpRequest) -> HttpResponse:
        """Load reference data: choose the kind and the file; it loads in the
        background and the suppliers it affects are classified again."""
        if not (request.user.is_active and request.user.is_superuser):
            raise PermissionDenied
        form = ReferenceUploadForm()
        if request.method == "POST":
            form = ReferenceUploadForm(request.POST, request.FILES)
            if form.is_valid():
                return self._start(request, form)
        give_up_stalled()
        loads = list(ReferenceLoad.objects.select_related("uploaded_by")[:RECENT_LOADS])
        for load in loads:
            load.summary = _summary(load)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Load reference data",
            "form": form,
            "loads": loads,
            "active": any(not load.finished for load in loads),
            "max_upload_mb": _max_upload_mb(),
        }
        return TemplateResponse(
            request, "admin/socialvalue/referenceload/load.html", context
        )

    def _start(self, request: HttpRequest, form: ReferenceUploadForm) -> HttpResponse:
        upload = form.cleaned_data["file"]
        kind = form.cleaned_data["kind"]
        stored = keep_reference_file(upload)
        load = ReferenceLoad.objects.create(
            kind=kind,
            file_name=Path(upload.name).name[:255],
            size=upload.size,
            stored_file=stored,
            taken_on=form.cleaned_data["taken_on"]
            if kind == ReferenceKind.LIVING_WAGE
            else None,
            uploaded_by=request.user,
        )
        try:
            load_reference_file.enqueue(load.pk)
        except Exception:
            logger.exception("Reference load %s could not be queued", load.pk)
            forget_file(stored)
            ReferenceLoad.objects.filter(pk=load.pk).update(
                status=ReferenceLoadStatus.FAILED,
                stored_file="",
                finished_at=timezone.now(),
                message=f'"{load.file_name}" could not be queued for loading: try '
                "again, or load it with the management command.",
            )
        load.refresh_from_db()
        if load.status == ReferenceLoadStatus.FAILED:
            messages.error(request, load.message)
        elif load.status == ReferenceLoadStatus.DONE:
            messages.success(request, f'"{load.file_name}" loaded. {_summary(load)}')
        else:
            messages.info(
                request,
                f'"{load.file_name}" is queued: it loads in the background and its '
                "report appears below when it is done.",
            )
        return redirect(reverse("admin:socialvalue_referenceload_load"))


def _summary(load: ReferenceLoad) -> str:
    if load.status == ReferenceLoadStatus.FAILED:
        return load.message
    if load.status == ReferenceLoadStatus.QUEUED:
        return "Waiting for the background worker."
    if load.status == ReferenceLoadStatus.RUNNING:
        rows = f": {load.rows_read:,} rows read" if load.rows_read else ""
        return f"Loading{rows}."
    report = load.report or {}
    changes = report.get("changes", 0)
    said = f"{changes:,} change{'' if changes == 1 else 's'}"
    return " ".join([said + ".", *report.get("classify_lines", [])])
