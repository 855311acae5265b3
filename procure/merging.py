"""Merge two suppliers that are one organisation, and undo it.

A merge moves the merged supplier's spend lines, aliases, contracts and officer
overrides to the kept supplier, records exactly what moved, and marks the merged
supplier `merged_into` (it is kept, so the merge can be undone). Undoing moves back
what the merge moved. Both reclassify the suppliers concerned.

Suppliers are a register shared by every council, but each council's payments,
names, contracts and location decisions are its own. So a council's officers may
merge only a supplier that is in no other council's records (the merge then moves
their council's records alone), and only that council's officers may undo it. A
merge that moves several councils' records is for a LocalSpend administrator
(a superuser: `councils.access.names_as_administrator`), who merges for every
council (`council=None`). Two suppliers with different Companies House (or
charity) numbers are two organisations: never merged.

A decision on what every council shares (size, VCSE, Living Wage) made by an
officer who may have made it for another council can be removed only by that
officer or an administrator (`socialvalue.decisions.decided_elsewhere`): a merge
that would drop one (the kept supplier having its own) is refused to other
officers. One that moves stays its maker's.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.text import get_text_list
from simple_history.utils import bulk_update_with_history

from councils.access import names_as_administrator
from councils.models import Council
from councils.templatetags.money import gbp
from procure.linking import relink_suppliers
from procure.models import (
    Contract,
    MatchSuggestion,
    Supplier,
    SupplierAlias,
    SupplierMerge,
)
from socialvalue.decisions import decided_elsewhere
from socialvalue.models import SupplierTag, TagKind, TagOverride
from socialvalue.tagging import KIND_WORDS, classify_suppliers
from spend import rollup
from spend.models import SpendLine, hold_rollup_lock
from spend.values import normalise_name, tidy_company_number


class MergeRefused(ValueError):
    """The merge cannot be done; str() says why."""


def _company_number(supplier: Supplier) -> str:
    return tidy_company_number(supplier.company_number)


def _charity(supplier: Supplier) -> str:
    number = supplier.charity_number.strip().upper().replace(" ", "")
    return f"{supplier.charity_register}-{number}" if number else ""


def identity_clash(kept: Supplier, merged: Supplier) -> str:
    """Why the two cannot be one organisation by their registered numbers, or "".

    Two different Companies House numbers are two companies; two different
    charity numbers (or registers) are two charities."""
    for words, number in (
        ("registered companies (Companies House numbers", _company_number),
        ("registered charities (charity numbers", _charity),
    ):
        theirs, ours = number(merged), number(kept)
        if theirs and ours and theirs != ours:
            return (
                f"{merged.name} and {kept.name} are two different {words} "
                f"{theirs} and {ours}). Two registered organisations cannot be one "
                "organisation, so they cannot be merged. If a number is wrong, "
                "correct it in the supplier's details first."
            )
    return ""


def other_councils_records(supplier: Supplier, council: Council) -> dict[str, int]:
    """How many of the supplier's payments, names from spend files, contracts and
    location decisions belong to councils other than `council`."""
    others = ~Q(council=council)
    return {
        "lines": supplier.spend_lines.filter(others).count(),
        "aliases": supplier.aliases.filter(others).count(),
        "contracts": supplier.contracts.filter(others).count(),
        "overrides": supplier.tag_overrides.filter(council__isnull=False)
        .filter(others)
        .count(),
    }


def in_other_councils_records(supplier: Supplier, council: Council) -> bool:
    others = ~Q(council=council)
    return (
        supplier.spend_lines.filter(others).exists()
        or supplier.aliases.filter(others).exists()
        or supplier.contracts.filter(others).exists()
        or supplier.tag_overrides.filter(council__isnull=False).filter(others).exists()
    )


def elsewhere_refusal(merged: Supplier) -> str:
    return (
        f"{merged.name} is also in other councils' records (their payments, names "
        "from spend files, contracts or location decisions), and merging it here "
        "would move those too. Ask a LocalSpend administrator to merge them."
    )


def _tags_words(kinds: list[str]) -> str:
    """The tags in words, as "VCSE tag" or "size and VCSE tags"."""
    nouns = get_text_list([KIND_WORDS[kind].noun for kind in kinds], "and")
    return f"{nouns} tag{'s' if len(kinds) != 1 else ''}"


def _decisions_words(merged: Supplier, kinds: list[str]) -> str:
    """ "M has a decision on its VCSE tag made by an officer who may have made it
    for another council" (or "decisions on its size and VCSE tags, each made
    ..."): naming neither the council nor the officer."""
    if len(kinds) == 1:
        return (
            f"{merged.name} has a decision on its {_tags_words(kinds)} made by an "
            "officer who may have made it for another council"
        )
    return (
        f"{merged.name} has decisions on its {_tags_words(kinds)}, each made by an "
        "officer who may have made it for another council"
    )


def held_refusal(kept: Supplier, merged: Supplier, kinds: list[str]) -> str:
    """Why a council's officer may not merge: `merged`'s decisions on these
    shared tags, made by an officer who may have made them for another council,
    would give way to `kept`'s own (`decided_elsewhere`)."""
    it = "it" if len(kinds) == 1 else "them"
    return (
        f"{_decisions_words(merged, kinds)}. {kept.name} has its own, so merging "
        f"would remove {it}. A decision on a supplier's size, VCSE or Living Wage "
        "tag applies for every council that pays it, so only the officer who made "
        "it or a LocalSpend administrator can remove it. Ask a LocalSpend "
        "administrator to merge them."
    )


def held_warning(kept: Supplier, merged: Supplier, kinds: list[str]) -> str:
    """What a LocalSpend administrator is told when the merge removes such
    decisions (a council's officer would be refused: `held_refusal`)."""
    it = "it" if len(kinds) == 1 else "them"
    return (
        f"{_decisions_words(merged, kinds)}. {kept.name} has its own, so the merge "
        f"removes {it}: a council's officers could not make this merge, and as a "
        "LocalSpend administrator you may. A decision on a supplier's size, VCSE "
        "or Living Wage tag applies for every council that pays it."
    )


def moved_note(merged: Supplier, kinds: list[str]) -> str:
    """Such decisions that move to the kept supplier: they stay their maker's."""
    moves = "it moves" if len(kinds) == 1 else "they move"
    stays = "stays" if len(kinds) == 1 else "stay"
    return (
        f"{_decisions_words(merged, kinds)}; {moves} with it and {stays} theirs "
        "to change."
    )


def _made_elsewhere(override: TagOverride, council: Council, user) -> bool:
    """Whether `override` is a shared decision a council's officer other than
    its maker may not change (`decided_elsewhere`), `user` being its maker or not:
    the same as `decided_elsewhere` for an officer; for an administrator (who may
    change any), what they are told they override."""
    maker = override.created_by_id
    if maker is not None and maker == getattr(user, "pk", None):
        return False  # `user` None: the system's merge (a command)
    return decided_elsewhere(override, council, AnonymousUser())


def _held(
    kept: Supplier, merged: Supplier, council: Council, user
) -> tuple[list[str], list[str]]:
    """The kinds of `merged`'s shared decisions made by an officer who may have
    made them for another council (`_made_elsewhere`): those that would give way
    to `kept`'s own, and those that move."""
    kept_own = _decided(kept)
    dropped, moved = set(), set()
    for override in merged.tag_overrides.filter(council__isnull=True).select_related(
        "created_by"
    ):
        if _made_elsewhere(override, council, user):
            clash = (None, override.kind) in kept_own
            (dropped if clash else moved).add(override.kind)
    return [k for k in TagKind if k in dropped], [k for k in TagKind if k in moved]


@dataclass
class MergePlan:
    """What merging `merged` into `kept` moves, for the confirmation page.

    `lines`, `aliases` and `contracts` are the acting council's; `elsewhere` holds
    other councils' (all zero when the merge is theirs alone to make). `decisions`
    counts the officer decisions that move to the kept supplier and `dropped` those
    that give way to the kept supplier's own; `shared_kinds` names the
    supplier-wide ones (size, VCSE, Living Wage) that move. `kept_elsewhere`: other
    councils deal with the kept supplier, so those decisions count for them too.
    `held_dropped` and `held_moved`: the kinds of the shared decisions that give
    way or move, made by an officer who may have made them for another council
    (not `user`): a council's officer may not drop them (`held_refusal`).
    `clash` and `refusal` say why the merge cannot be made ("" when it can):
    `clash` for anyone, `refusal` for the council's own officers."""

    lines: int
    aliases: int
    contracts: int
    decisions: int
    dropped: int
    shared_kinds: list[str]
    elsewhere: dict[str, int]
    kept_elsewhere: bool
    held_dropped: list[str]
    held_moved: list[str]
    clash: str
    refusal: str

    @property
    def in_other_councils(self) -> bool:
        return any(self.elsewhere.values())


def merge_plan(kept: Supplier, merged: Supplier, council: Council, user) -> MergePlan:
    mine = Q(council=council)
    decisions = dropped = 0
    shared_kinds = []
    kept_own = _decided(kept)
    for override in merged.tag_overrides.all():
        if override.council_id is not None and override.council_id != council.pk:
            continue  # another council's: counted in `elsewhere`
        if (override.council_id, override.kind) in kept_own:
            dropped += 1
            continue
        decisions += 1
        if override.council_id is None:
            shared_kinds.append(override.kind)
    elsewhere = other_councils_records(merged, council)
    clash = identity_clash(kept, merged)
    held_dropped, held_moved = _held(kept, merged, council, user)
    refusal = clash or (elsewhere_refusal(merged) if any(elsewhere.values()) else "")
    if not refusal and held_dropped:
        refusal = held_refusal(kept, merged, held_dropped)
    return MergePlan(
        lines=merged.spend_lines.filter(mine).count(),
        aliases=merged.aliases.filter(mine).count(),
        contracts=merged.contracts.filter(mine).count(),
        decisions=decisions,
        dropped=dropped,
        shared_kinds=[kind for kind in TagKind if kind in shared_kinds],
        elsewhere=elsewhere,
        kept_elsewhere=in_other_councils_records(kept, council),
        held_dropped=held_dropped,
        held_moved=held_moved,
        clash=clash,
        refusal=refusal,
    )


# The history reason of a near match settled by a merge (not "different
# organisations": the officer said they are the same).
SETTLED_BY_MERGE = "Settled by the merge: "
UNSETTLED_BY_UNDO = "Back in the review queue: the merge was undone"
# The history reasons of officers' tag decisions a merge moved (or dropped, the
# kept supplier having its own) and its undoing put back.
MOVED_BY_MERGE = "Moved by the merge of "
DROPPED_BY_MERGE = "Gave way to the kept supplier's own decision in the merge of "
PUT_BACK_BY_UNDO = "Put back by undoing the merge of "
# ... and of one the undoing took off the kept supplier to put back.
TAKEN_BACK_BY_UNDO = "Went back to the merged supplier on undoing the merge of "
# At most this many payments (or uploads) are named one by one in the reason
# recorded when a merge is undone; more are counted.
NAMED_AT_MOST = 10


def _merge_words(kept: Supplier, merged: Supplier) -> str:
    """The merge in words, as "A (#1) into B (#2)": the record numbers are for an
    audit (the pages show reasons without them: procure.views.readable_reason)."""
    return f"{merged.name} (#{merged.pk}) into {kept.name} (#{kept.pk})"


def _username(user) -> str:
    return user.get_username() if user is not None else "the system"


def merge_suppliers(
    *,
    kept: Supplier,
    merged: Supplier,
    user,
    council: Council | None,
    reason: str = "",
) -> SupplierMerge:
    """Merge `merged` into `kept`, as `council`'s officer `user`: refused when the
    merged supplier is in another council's records, or when a shared decision
    on it that `user` may not change would give way to the kept supplier's own
    (`decided_elsewhere`; an administrator may). `council=None` merges for
    every council (a LocalSpend administrator's merge): only an administrator, or
    a council that alone deals with both suppliers, can undo it. No default: each
    caller says which it is."""
    if kept.pk == merged.pk:
        raise MergeRefused("A supplier cannot be merged into itself.")
    if kept.merged_into_id or merged.merged_into_id:
        raise MergeRefused(
            "One of these suppliers has already been merged into another."
        )
    clash = identity_clash(kept, merged)
    if clash:
        raise MergeRefused(clash)
    with transaction.atomic():
        hold_rollup_lock()  # rollups are rewritten below: one writer at a time
        # Checked under the lock: an import may have paid the supplier meanwhile.
        if council is not None and in_other_councils_records(merged, council):
            raise MergeRefused(elsewhere_refusal(merged))
        if council is not None and not names_as_administrator(user):
            held = _held(kept, merged, council, user)[0]
            if held:
                raise MergeRefused(held_refusal(kept, merged, held))
        lines = list(merged.spend_lines.values_list("pk", flat=True))
        aliases = list(merged.aliases.values_list("pk", flat=True))
        contracts = list(merged.contracts.values_list("pk", flat=True))
        overrides = _take_overrides(kept, merged, user)
        SpendLine.objects.filter(pk__in=lines).update(supplier=kept)
        why = f"Supplier {merged.name} (#{merged.pk}) merged into {kept.name}"
        _move(SupplierAlias, aliases, kept, user, why)
        _move(Contract, contracts, kept, user, why)
        for tag in SupplierTag.objects.filter(supplier=merged):  # each with why
            tag._change_reason = why
            tag._history_user = user
            tag.delete()
        settled = list(MatchSuggestion.objects.filter(supplier=merged, candidate=kept))
        for suggestion in settled:
            suggestion.dismissed_at, suggestion.dismissed_by = timezone.now(), user
        bulk_update_with_history(
            settled,
            MatchSuggestion,
            ["dismissed_at", "dismissed_by"],
            default_user=user,
            default_change_reason=f"{SETTLED_BY_MERGE}{why}",
        )
        merged.merged_into = kept
        merged._change_reason = f"Merged into {kept.name} (#{kept.pk})"
        merged._history_user = user
        merged.save()
        record = SupplierMerge(
            kept=kept,
            merged=merged,
            council=council,
            merged_by=user,
            reason=reason,
            moved_lines=lines,
            moved_aliases=aliases,
            moved_contracts=contracts,
            moved_overrides=overrides,
        )
        record._history_user = user  # outside a request too
        record.save()
        relink_suppliers(
            [kept.pk, merged.pk],
            cause=f"in the merge of supplier {merged.name} into {kept.name}",
            user=user,
        )
        rollup.refresh_suppliers([kept.pk, merged.pk])
    classify_suppliers(supplier_ids=[kept.pk], user=user)
    return record


def _settled_by_merge(merged: Supplier, kept: Supplier) -> list[MatchSuggestion]:
    """The near matches the merge settled (never decided to be different)."""
    settled = []
    for suggestion in MatchSuggestion.objects.filter(
        supplier=merged, candidate=kept, dismissed_at__isnull=False
    ):
        latest = suggestion.history.order_by("-history_date", "-history_id").first()
        reason = (latest.history_change_reason or "") if latest else ""
        if reason.startswith(SETTLED_BY_MERGE):
            settled.append(suggestion)
    return settled


def _unsettle(merged: Supplier, kept: Supplier, user) -> None:
    """The near match the merge settled goes back to the review queue (it was
    never decided to be a different organisation)."""
    for suggestion in _settled_by_merge(merged, kept):
        suggestion.dismissed_at, suggestion.dismissed_by = None, None
        suggestion._change_reason = UNSETTLED_BY_UNDO
        suggestion._history_user = user
        suggestion.save()


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


def _decided(supplier: Supplier) -> set[tuple[int | None, str]]:
    """(council id, kind) of the supplier's officer decisions: a merged
    supplier's decision on the same gives way to the kept one's."""
    return set(supplier.tag_overrides.values_list("council_id", "kind"))


def _take_overrides(kept: Supplier, merged: Supplier, user) -> list[dict]:
    """Move the merged supplier's overrides unless the kept one has its own, each
    change recorded in the override's history with who and why."""
    moved = []
    kept_own = _decided(kept)
    words = _merge_words(kept, merged)
    for override in TagOverride.objects.filter(supplier=merged):
        clash = (override.council_id, override.kind) in kept_own
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
        override._history_user = user
        if clash:
            override._change_reason = f"{DROPPED_BY_MERGE}{words}"
            override.delete()
        else:
            override._change_reason = f"{MOVED_BY_MERGE}{words}"
            override.supplier = kept
            override.save()
    return moved


def _later_lines(
    record: SupplierMerge, kept: Supplier, holder: Supplier
) -> list[tuple[int, int]]:
    """(pk, council id) of the payments imported since the merge under one of the
    names it moved that `holder` has now (matched to `kept` through that name
    while merged): they go back with the name."""
    names = set(
        SupplierAlias.objects.filter(
            pk__in=record.moved_aliases, supplier=holder
        ).values_list("council_id", "normalised_name")
    )
    if not names:
        return []
    later = SpendLine.objects.filter(
        supplier=kept,
        council_id__in={council for council, _ in names},
        upload__finished_at__gte=record.merged_at,
    ).values_list("pk", "council_id", "supplier_name")
    return [
        (pk, council)
        for pk, council, name in later.iterator()
        if (council, normalise_name(name)) in names
    ]


def _return_later_lines(
    record: SupplierMerge, kept: Supplier, merged: Supplier
) -> list[int]:
    """Payments imported since the merge under one of the names going back to
    `merged` (matched to `kept` through that name while merged) go back too.
    Their pks: they are in no record of the merge (`_later_lines_words`)."""
    back = sorted(pk for pk, _ in _later_lines(record, kept, merged))
    SpendLine.objects.filter(pk__in=back).update(supplier=merged)
    return back


def _numbers(what: str, pks: list[int]) -> str:
    """The records by number, as "payment #1" or "uploads #4, #5 and #9"."""
    plural = "s" if len(pks) != 1 else ""
    return f"{what}{plural} " + get_text_list([f"#{pk}" for pk in pks], "and")


def _later_lines_words(merged: Supplier, back: list[int]) -> str:
    """The payments imported while the merge stood that its undoing gave back to
    `merged`, in words to find them by: how many, their sum, and each payment's
    number (or, for many, their uploads' numbers). A spend line keeps no
    history, and these are in none of the merge's records of what it moved."""
    if not back:
        return "No payments imported while the merge stood went back with it."
    lines = SpendLine.objects.filter(pk__in=back)
    total = lines.aggregate(total=Sum("amount"))["total"]
    uploads = sorted(set(lines.values_list("upload_id", flat=True)))
    count = len(back)
    words = (
        f"{count:,} payment{'s' if count != 1 else ''} imported while the merge "
        f"stood, {gbp(total)}{' in all' if count != 1 else ''}, went back to "
        f"{merged.name} (#{merged.pk}): "
    )
    if count <= NAMED_AT_MOST:
        words += f"{_numbers('payment', back)} ({_numbers('upload', uploads)})"
    elif len(uploads) <= NAMED_AT_MOST:
        words += f"from {_numbers('upload', uploads)}"
    else:
        words += f"from {len(uploads):,} uploads"
    return words + "."


@dataclass
class UndoPlan:
    """What undoing a merge gives back to the merged supplier, for the
    confirmation page: what the merge moved that the kept supplier still has.

    `lines` (with `later`: those imported since the merge under a name that goes
    back), `aliases` and `contracts` are `council`'s, `elsewhere` other councils'
    (all zero unless the merge was made for every council). `decisions`: the
    officer decisions on its tags that it gets back. `requeued`: the near match
    the merge settled goes back to the review queue."""

    lines: int
    later: int
    aliases: int
    contracts: int
    decisions: int
    elsewhere: dict[str, int]
    requeued: bool

    @property
    def in_other_councils(self) -> bool:
        return any(self.elsewhere.values())


def undo_plan(record: SupplierMerge, council: Council) -> UndoPlan:
    kept, merged = record.kept, record.merged
    moved = set(record.moved_lines)
    later = [owner for pk, owner in _later_lines(record, kept, kept) if pk not in moved]
    lines = SpendLine.objects.filter(pk__in=record.moved_lines, supplier=kept)
    aliases = SupplierAlias.objects.filter(pk__in=record.moved_aliases, supplier=kept)
    contracts = Contract.objects.filter(pk__in=record.moved_contracts, supplier=kept)
    mine, others = Q(council=council), ~Q(council=council)
    later_here = later.count(council.pk)
    decisions_here = sum(
        1 for item in record.moved_overrides if item["council"] in (None, council.pk)
    )
    return UndoPlan(
        lines=lines.filter(mine).count() + later_here,
        later=later_here,
        aliases=aliases.filter(mine).count(),
        contracts=contracts.filter(mine).count(),
        decisions=decisions_here,
        elsewhere={
            "lines": lines.filter(others).count() + len(later) - later_here,
            "aliases": aliases.filter(others).count(),
            "contracts": contracts.filter(others).count(),
            "overrides": len(record.moved_overrides) - decisions_here,
        },
        requeued=bool(_settled_by_merge(merged, kept)),
    )


def undo_refusal(record: SupplierMerge, council: Council) -> str:
    """Why `council`'s officers may not undo the merge ("" when they may).

    A merge is undone by the council that made it. One recorded with no council
    (made for every council by an administrator, or before merges recorded their
    council) only by a council that alone deals with both suppliers."""
    if record.council_id is not None:
        if record.council_id == council.pk:
            return ""
        return (
            "This merge was made at another council: only its officers can undo "
            "it. If it is wrong, ask them, or a LocalSpend administrator."
        )
    if in_other_councils_records(record.kept, council) or in_other_councils_records(
        record.merged, council
    ):
        return (
            "Other councils also deal with these suppliers, so undoing this merge "
            "would change their records too. Ask a LocalSpend administrator to "
            "undo it."
        )
    return ""


def undo_merge(record: SupplierMerge, *, user, council: Council | None = None) -> None:
    """Put back what the merge moved; the merged supplier stands on its own again.
    With `council`, as that council's officer: refused where `undo_refusal` says."""
    if record.undone_at:
        raise MergeRefused("This merge has already been undone.")
    kept, merged = record.kept, record.merged
    with transaction.atomic():
        hold_rollup_lock()  # rollups are rewritten below: one writer at a time
        if council is not None and (why := undo_refusal(record, council)):
            raise MergeRefused(why)
        SpendLine.objects.filter(pk__in=record.moved_lines, supplier=kept).update(
            supplier=merged
        )
        why = f"Merge of {merged.name} (#{merged.pk}) into {kept.name} undone"
        _move(SupplierAlias, record.moved_aliases, merged, user, why, kept=kept)
        back = _return_later_lines(record, kept, merged)
        _move(Contract, record.moved_contracts, merged, user, why, kept=kept)
        _put_back_overrides(record, kept, merged, user)
        merged.merged_into = None
        merged._change_reason = f"Merge into {kept.name} (#{kept.pk}) undone"
        merged._history_user = user
        merged.save()
        _unsettle(merged, kept, user)
        record.undone_at, record.undone_by = timezone.now(), user
        record._change_reason = (
            f"Undone by {_username(user)}. {_later_lines_words(merged, back)}"
        )
        record._history_user = user
        record.save()
        relink_suppliers(
            [kept.pk, merged.pk],
            cause=f"when the merge of supplier {merged.name} into {kept.name} "
            "was undone",
            user=user,
        )
        rollup.refresh_suppliers([kept.pk, merged.pk])
    classify_suppliers(supplier_ids=[kept.pk, merged.pk], user=user)


def _put_back_overrides(
    record: SupplierMerge, kept: Supplier, merged: Supplier, user
) -> None:
    """The officer decisions the merge moved (or dropped) go back to `merged`,
    each change recorded in the override's history with who and why."""
    words = _merge_words(kept, merged)
    for item in record.moved_overrides:
        scope = {"council_id": item["council"], "kind": item["kind"]}
        if item["moved"]:
            # Unless an officer has decided the kept supplier's tag since.
            for override in TagOverride.objects.filter(
                supplier=kept, **scope, value=item["value"], reason=item["reason"]
            ):
                override._change_reason = f"{TAKEN_BACK_BY_UNDO}{words}"
                override._history_user = user
                override.delete()
        override = TagOverride.objects.filter(
            supplier=merged, **scope
        ).first() or TagOverride(supplier=merged, **scope)
        override.value, override.reason = item["value"], item["reason"]
        override.created_by_id = item["created_by"]
        override._change_reason = f"{PUT_BACK_BY_UNDO}{words}"
        override._history_user = user
        override.save()
