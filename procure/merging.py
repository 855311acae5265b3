"""Merge two suppliers that are one organisation, and undo it.

A merge moves the merged supplier's spend lines, aliases, contracts and officer
overrides to the kept supplier, records exactly what moved, and marks the merged
supplier `merged_into` (it is kept, so the merge can be undone). Undoing moves back
what the merge moved. Both reclassify the suppliers concerned.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from procure.linking import relink_suppliers
from procure.models import (
    Contract,
    MatchSuggestion,
    Supplier,
    SupplierAlias,
    SupplierMerge,
)
from socialvalue.models import SupplierTag, TagOverride
from socialvalue.tagging import classify_suppliers
from spend import rollup
from spend.models import SpendLine, hold_rollup_lock
from spend.values import normalise_name


class MergeRefused(ValueError):
    """The merge cannot be done; str() says why."""


def merge_suppliers(
    *, kept: Supplier, merged: Supplier, user, reason: str = ""
) -> SupplierMerge:
    if kept.pk == merged.pk:
        raise MergeRefused("A supplier cannot be merged into itself.")
    if kept.merged_into_id or merged.merged_into_id:
        raise MergeRefused(
            "One of these suppliers has already been merged into another."
        )
    with transaction.atomic():
        hold_rollup_lock()  # rollups are rewritten below: one writer at a time
        lines = list(merged.spend_lines.values_list("pk", flat=True))
        aliases = list(merged.aliases.values_list("pk", flat=True))
        contracts = list(merged.contracts.values_list("pk", flat=True))
        overrides = _take_overrides(kept, merged)
        SpendLine.objects.filter(pk__in=lines).update(supplier=kept)
        why = f"Supplier {merged.name} (#{merged.pk}) merged into {kept.name}"
        _move(SupplierAlias, aliases, kept, user, why)
        _move(Contract, contracts, kept, user, why)
        SupplierTag.objects.filter(supplier=merged).delete()
        settled = list(MatchSuggestion.objects.filter(supplier=merged, candidate=kept))
        for suggestion in settled:
            suggestion.dismissed_at, suggestion.dismissed_by = timezone.now(), user
        bulk_update_with_history(
            settled,
            MatchSuggestion,
            ["dismissed_at", "dismissed_by"],
            default_user=user,
            default_change_reason=f"Settled by the merge: {why}",
        )
        merged.merged_into = kept
        merged._change_reason = f"Merged into {kept.name} (#{kept.pk})"
        merged.save()
        record = SupplierMerge.objects.create(
            kept=kept,
            merged=merged,
            merged_by=user,
            reason=reason,
            moved_lines=lines,
            moved_aliases=aliases,
            moved_contracts=contracts,
            moved_overrides=overrides,
        )
        relink_suppliers([kept.pk, merged.pk])
        rollup.refresh_suppliers([kept.pk, merged.pk])
    classify_suppliers(supplier_ids=[kept.pk], user=user)
    return record


def _move(model, pks, supplier: Supplier, user, reason: str, *, kept=None) -> None:
    """Give these aliases or contracts (those still with `kept`, if given) to
    `supplier`, each change recorded in its history with who and why."""
    rows = model.objects.filter(pk__in=list(pks))
    if kept is not None:
        rows = rows.filter(supplier=kept)
    rows = list(rows)
    for row in rows:
        row.supplier = supplier
    bulk_update_with_history(
        rows, model, ["supplier"], default_user=user, default_change_reason=reason
    )


def _take_overrides(kept: Supplier, merged: Supplier) -> list[dict]:
    """Move the merged supplier's overrides unless the kept one has its own."""
    moved = []
    for override in TagOverride.objects.filter(supplier=merged):
        clash = TagOverride.objects.filter(
            supplier=kept, council=override.council, kind=override.kind
        ).exists()
        moved.append(
            {
                "council": override.council_id,
                "kind": override.kind,
                "value": override.value,
                "reason": override.reason,
                "created_by": override.created_by_id,
                "moved": not clash,
            }
        )
        if clash:
            override.delete()
        else:
            override.supplier = kept
            override.save()
    return moved


def _return_later_lines(record: SupplierMerge, kept: Supplier, merged: Supplier):
    """Payments imported since the merge under one of the names going back to
    `merged` (matched to `kept` through that name while merged) go back too."""
    names = set(
        SupplierAlias.objects.filter(
            pk__in=record.moved_aliases, supplier=merged
        ).values_list("council_id", "normalised_name")
    )
    if not names:
        return
    later = SpendLine.objects.filter(
        supplier=kept,
        council_id__in={council for council, _ in names},
        upload__finished_at__gte=record.merged_at,
    ).values_list("pk", "council_id", "supplier_name")
    back = [
        pk
        for pk, council, name in later.iterator()
        if (council, normalise_name(name)) in names
    ]
    SpendLine.objects.filter(pk__in=back).update(supplier=merged)


def undo_merge(record: SupplierMerge, *, user) -> None:
    """Put back what the merge moved; the merged supplier stands on its own again."""
    if record.undone_at:
        raise MergeRefused("This merge has already been undone.")
    kept, merged = record.kept, record.merged
    with transaction.atomic():
        hold_rollup_lock()  # rollups are rewritten below: one writer at a time
        SpendLine.objects.filter(pk__in=record.moved_lines, supplier=kept).update(
            supplier=merged
        )
        why = f"Merge of {merged.name} (#{merged.pk}) into {kept.name} undone"
        _move(SupplierAlias, record.moved_aliases, merged, user, why, kept=kept)
        _return_later_lines(record, kept, merged)
        _move(Contract, record.moved_contracts, merged, user, why, kept=kept)
        for item in record.moved_overrides:
            scope = {"council_id": item["council"], "kind": item["kind"]}
            if item["moved"]:
                TagOverride.objects.filter(supplier=kept, **scope).delete()
            TagOverride.objects.update_or_create(
                supplier=merged,
                **scope,
                defaults={
                    "value": item["value"],
                    "reason": item["reason"],
                    "created_by_id": item["created_by"],
                },
            )
        merged.merged_into = None
        merged._change_reason = f"Merge into {kept.name} (#{kept.pk}) undone"
        merged.save()
        record.undone_at, record.undone_by = timezone.now(), user
        record.save()
        relink_suppliers([kept.pk, merged.pk])
        rollup.refresh_suppliers([kept.pk, merged.pk])
    classify_suppliers(supplier_ids=[kept.pk, merged.pk], user=user)
