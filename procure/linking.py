"""Link a council's spend lines to its contracts, in the database.

The rule: a line belongs to a contract of the same council and supplier whose
period covers the payment date, both ends included (start date to end date; no
end date means open-ended). Contracts still in the pipeline have not been awarded
and take no spend. When several contracts cover a payment, the one that started
latest wins (a later contract usually replaces or extends an earlier one).

An officer can link a line by hand, or unlink it; such lines are marked
`contract_link_manual` and the linker leaves them alone until the officer hands
them back (`release_lines`). Each line's latest such decision (who, when, which
contract) is a `HandLink`; its history keeps those replaced or handed back.

Where the linker moves payments onto or off contracts for a reason worth telling
(a register import, a merge, a contract saved or deleted), `record_moves` writes
one `ContractLinkChange` on each contract that gained or lost payments, shown in
its history: never one per payment. They outlive the contract, naming it by
reference; a contract deleted writes one more, of where its payments went.

Each run is one correlated UPDATE over the lines in scope, never a loop over lines
in Python. Call `link_spend` after contracts change (the views do) and after spend
is imported or rolled back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.text import get_text_list
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from councils.models import Council
from councils.templatetags.money import gbp
from procure.models import Contract, ContractLinkChange, ContractStatus, HandLink
from socialvalue.models import SupplierTag, TagKind
from spend.models import SpendLine

HALF_PENNY = Decimal("0.005")


@dataclass(frozen=True)
class LinkResult:
    linked: int  # lines in scope now linked to a contract (automatically)
    unlinked: int  # lines in scope with no contract
    manual: int  # lines of the council an officer linked or unlinked by hand
    # With `moves=True`: the lines whose contract changed, grouped as
    # (contract before or None, contract after or None, lines, amount).
    moves: list[tuple[int | None, int | None, int, Decimal]] = field(
        default_factory=list
    )


def covering_contract() -> Subquery:
    """The id of the contract that covers the outer spend line, if any."""
    line_date = OuterRef("payment_date")
    contracts = (
        Contract.objects.filter(
            council_id=OuterRef("council_id"),
            supplier_id=OuterRef("supplier_id"),
            start_date__lte=line_date,
        )
        .exclude(status=ContractStatus.PIPELINE)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=line_date))
        .order_by("-start_date", "-pk")
        .values("pk")[:1]
    )
    return Subquery(contracts)


def _moves(lines: QuerySet) -> list[tuple[int | None, int | None, int, Decimal]]:
    """What setting `lines` to their covering contract would change, worked out
    before the update in one grouped query: (contract before or None, contract
    after or None, lines, amount) for each pair that differs."""
    ahead = lines.annotate(after=covering_contract())
    differ = (
        Q(contract__isnull=True, after__isnull=False)
        | Q(contract__isnull=False, after__isnull=True)
        | (Q(contract__isnull=False, after__isnull=False) & ~Q(contract_id=F("after")))
    )
    return [
        (row["contract_id"], row["after"], row["n"], row["total"])
        for row in ahead.filter(differ)
        .values("contract_id", "after")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("contract_id", "after")
    ]


def link_spend(
    council: Council,
    contracts: Iterable[Contract] | None = None,
    *,
    moves=False,
    cause: str | None = None,
    user=None,
) -> LinkResult:
    """Set the contract of the council's automatically linked lines.

    With `contracts`, only the lines those contracts could concern are worked out
    again: the lines of their suppliers, and the lines linked to them now (their
    supplier or dates may have changed). Without, every line of the council.

    With `cause` ("in the register import of “X”"), what moved is recorded on
    each contract that gained or lost payments (`record_moves`), by `user`.
    """
    lines = SpendLine.objects.filter(
        council=council, contract_link_manual=False, supplier__isnull=False
    )
    if contracts is not None:
        contracts = list(contracts)
        suppliers = {c.supplier_id for c in contracts if c.supplier_id}
        ids = [c.pk for c in contracts]
        lines = lines.filter(Q(supplier_id__in=suppliers) | Q(contract_id__in=ids))
    changed = []
    if moves or cause:  # worked out before the update: one grouped query
        changed = _moves(lines)
    lines.update(contract=covering_contract())
    if cause:
        record_moves(changed, cause, user)
    counted = lines.values("contract_id")
    return LinkResult(
        moves=changed,
        linked=counted.filter(contract__isnull=False).count(),
        unlinked=counted.filter(contract__isnull=True).count(),
        manual=SpendLine.objects.filter(
            council=council, contract_link_manual=True
        ).count(),
    )


def relink_suppliers(
    supplier_ids: Iterable[int], *, cause: str | None = None, user=None
) -> list[ContractLinkChange]:
    """Apply the rule again to every council's lines with these suppliers, after
    lines or contracts moved between them (a merge, its undoing) or a contract went.

    A line an officer linked by hand to a contract that is no longer its
    supplier's goes back to the rule; other hand-made links and unlinks stay.
    With `cause`, what moved is recorded on each contract concerned
    (`record_moves`), by `user`: those records are returned."""
    ids = list(supplier_ids)
    stranded = SpendLine.objects.filter(
        supplier_id__in=ids, contract_link_manual=True, contract__isnull=False
    ).exclude(contract__supplier_id=F("supplier_id"))
    changed = []
    if cause:  # the lines the rule is about to set, before it does
        changed = _moves(
            SpendLine.objects.filter(supplier_id__in=ids).filter(
                Q(contract_link_manual=False) | Q(pk__in=stranded.values("pk"))
            )
        )
    stranded.update(contract_link_manual=False)
    SpendLine.objects.filter(supplier_id__in=ids, contract_link_manual=False).update(
        contract=covering_contract()
    )
    if cause:
        return record_moves(changed, cause, user)
    return []


def release_other_suppliers(
    contracts: Iterable[Contract], *, cause: str, user=None
) -> int:
    """Contracts given another supplier (by the contract form or a register
    import): the payments to their old suppliers that officers linked to them by
    hand no longer fit them (`link_lines` refuses another supplier's payment),
    so they go back to the rule, the moves recorded with `cause` (review: they
    stayed on the contracts). Returns how many payments went back."""
    suppliers = list(
        SpendLine.objects.filter(contract__in=contracts, contract_link_manual=True)
        .exclude(supplier_id=F("contract__supplier_id"))
        .exclude(supplier__isnull=True)
        .values_list("supplier_id", flat=True)
    )
    if suppliers:
        relink_suppliers(set(suppliers), cause=cause, user=user)
    return len(suppliers)


def contract_deleted(sender, instance: Contract, **kwargs) -> None:
    """After a contract is deleted (in the admin, say), its lines, whether linked
    by the rule or by hand, go to whichever of the supplier's contracts covers
    them, or to none. Connected to post_delete in ProcureConfig.ready.

    Where they went is recorded for good (audit: only a message on the screen
    said so), as a link change naming the contract deleted and in its deletion's
    change reason (`_record_deletion`).

    Nothing to do, and no query, when whoever deletes it relinks once for many
    and has no lines to hand back (undoing an import: `contract_deleting`); it
    records the moves itself."""
    relinked_by_caller = getattr(instance, "_relinked_by_caller", False)
    if relinked_by_caller and not getattr(instance, "_released_lines", None):
        return
    with transaction.atomic():
        SpendLine.objects.filter(
            council_id=instance.council_id,
            contract_link_manual=True,
            contract__isnull=True,
            supplier_id=instance.supplier_id,
        ).filter(pk__in=getattr(instance, "_released_lines", [])).update(
            contract_link_manual=False
        )
        # Unless whoever deletes it relinks once for many (undoing an import).
        if relinked_by_caller:
            return
        if instance.supplier_id:
            relink_suppliers(
                [instance.supplier_id],
                cause=f"when contract {instance.reference} was deleted",
            )
        if getattr(instance, "_held_lines", None):
            _record_deletion(instance, instance._held_lines)


def _record_deletion(contract: Contract, line_ids: list[int]) -> ContractLinkChange:
    """Record where the payments `line_ids` the deleted `contract` held went: a
    link change naming it (its `contract` empty), e.g. "3 payments (£750.00)
    went back to the linking rule when contract C-5 was deleted: 2 (£500.00)
    left with no contract and 1 (£250.00) moved to contract C-1", the same
    words on the second line of its deletion's change reason (`deletion_reason`)."""
    went = list(
        SpendLine.objects.filter(pk__in=line_ids)
        .values("contract__reference")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("-n", "contract__reference")
    )
    lines = sum(row["n"] for row in went)
    amount = sum((row["total"] or Decimal(0) for row in went), Decimal(0))
    amount = amount.quantize(Decimal("0.01"))
    parts = [
        f"{row['n']:,} ({gbp((row['total'] or Decimal(0)).quantize(Decimal('0.01')))}) "
        + (
            f"moved to contract {row['contract__reference']}"
            if row["contract__reference"]
            else "left with no contract"
        )
        for row in went
    ]
    what = (
        f"{lines:,} payment{pluralize(lines)} ({gbp(amount)}) went back to the "
        f"linking rule when contract {contract.reference} was deleted: "
        f"{get_text_list(parts, 'and')}"
    )
    user = getattr(contract, "_history_user", None) or _request_user()
    change = ContractLinkChange.objects.create(
        contract=None,
        contract_reference=contract.reference,
        council_id=contract.council_id,
        recorded_by=user,
        lines_lost=lines,
        amount_lost=amount,
        what=what,
    )
    record = (
        Contract.history.filter(id=contract.pk, history_type="-")
        .order_by("-history_date", "-history_id")
        .values_list("history_id", "history_change_reason")
        .first()
    )
    if record is not None:
        history_id, reason = record
        Contract.history.filter(history_id=history_id).update(
            history_change_reason=deletion_reason(reason, what)
        )
    return change


def deletion_reason(reason: str | None, payments: str) -> str:
    """A deleted contract's change reason: why, as whoever deleted it said (one
    line: the form joins its lines), then on a line of its own what became of
    its payments, as the link change recorded says it (the deleted contracts'
    pages show the two apart, the first as the officer's words)."""
    return f"{reason or ''}\n{payments}."


def contract_deleting(sender, instance: Contract, **kwargs) -> None:
    """Note the lines linked to a contract about to be deleted (the foreign key
    empties them: `_held_lines`, so `contract_deleted` records where they went),
    those linked by hand and those taken off it by hand (the decision holding
    them off every contract goes with it: security review), so
    `contract_deleted` hands them back to the rule; and delete its hand links,
    each recorded in their history (`drop_hand_links`).

    Whoever deletes it and relinks once for many (undoing an import) may give
    the lines itself (`_released_lines`, with `_relinked_by_caller`): then
    nothing is looked up (review: 2 SELECTs per contract the undo deleted), and
    it drops their hand links itself."""
    if getattr(instance, "_relinked_by_caller", False) and hasattr(
        instance, "_released_lines"
    ):
        return
    # Two queries, each by an index: as one OR the database read every line of
    # every council for each contract deleted (undoing an import of 826: 22 s).
    held = list(
        SpendLine.objects.filter(contract_id=instance.pk).values_list(
            "pk", "contract_link_manual"
        )
    )
    taken_off = SpendLine.objects.filter(
        pk__in=HandLink.objects.filter(contract_id=instance.pk, linked=False).values(
            "line_id"
        ),
        contract__isnull=True,
        contract_link_manual=True,
    ).values_list("pk", flat=True)
    instance._held_lines = [pk for pk, _ in held]
    instance._released_lines = [*(pk for pk, manual in held if manual), *taken_off]
    drop_hand_links(
        HandLink.objects.filter(contract_id=instance.pk),
        user=getattr(instance, "_history_user", None),
        reason=f"Contract {instance.reference} deleted: the payment went back to "
        "the linking rule",
    )


def drop_hand_links(hands: QuerySet, *, user=None, reason: str) -> int:
    """Delete these `HandLink`s, each recorded in their history as deleted, by
    `user` (else the request's) and why: one INSERT and one DELETE, where
    QuerySet.delete would write the history a row at a time, saying neither.
    Returns how many."""
    gone = list(hands)
    if not gone:
        return 0
    if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        History = HandLink.history.model
        now = timezone.now()
        user = user or _request_user()
        History.objects.bulk_create(
            [
                History(
                    history_type="-",
                    history_date=now,
                    history_user=user,
                    history_change_reason=reason,
                    **{
                        f.attname: getattr(hand, f.attname)
                        for f in History.tracked_fields
                    },
                )
                for hand in gone
            ],
            batch_size=500,
        )
    # No signals: their history is written above.
    return HandLink.objects.filter(pk__in=[hand.pk for hand in gone])._raw_delete(
        HandLink.objects.db
    )


class LinkRefused(Exception):
    """An officer asked for a link the rules do not allow (message for them)."""


def _hand(contract: Contract, ids: list[int], *, linked: bool, user) -> None:
    """Note who linked lines `ids` to `contract` by hand, or took them off it:
    the decision each line had before is replaced, and stays in the history
    with who made it and when (audit: "who took payment #X off?" was lost)."""
    now = timezone.now()
    before = HandLink.objects.in_bulk(ids)
    for hand in before.values():
        hand.contract, hand.linked, hand.by, hand.at = contract, linked, user, now
    if before:
        bulk_update_with_history(
            list(before.values()),
            HandLink,
            ["contract", "linked", "by", "at"],
            batch_size=500,
            default_user=user,
            default_date=now,
        )
    new = [
        HandLink(line_id=pk, contract=contract, linked=linked, by=user, at=now)
        for pk in ids
        if pk not in before
    ]
    if new:
        bulk_create_with_history(
            new, HandLink, batch_size=500, default_user=user, default_date=now
        )


def link_lines(contract: Contract, line_ids: Iterable[int], *, user=None) -> int:
    """Link lines to `contract` by hand: the council's lines with the contract's
    supplier, whatever their date. Returns how many were linked; `user` is
    noted as the one who did (`HandLink`)."""
    if contract.supplier_id is None:
        raise LinkRefused("Record the contract's supplier before linking payments.")
    lines = SpendLine.objects.filter(
        council_id=contract.council_id,
        supplier_id=contract.supplier_id,
        pk__in=list(line_ids),
    )
    with transaction.atomic():
        ids = list(lines.values_list("pk", flat=True))
        # Those already linked here by hand keep who linked them.
        fresh = list(
            lines.exclude(contract=contract, contract_link_manual=True).values_list(
                "pk", flat=True
            )
        )
        # Taken from another contract: told in that one's history (this one's
        # is the page's view).
        taken = [
            (row["contract_id"], contract.pk, row["n"], row["total"])
            for row in lines.filter(contract__isnull=False)
            .exclude(contract=contract)
            .values("contract_id")
            .annotate(n=Count("pk"), total=Sum("amount"))
            .order_by("contract_id")
        ]
        done = SpendLine.objects.filter(pk__in=ids).update(
            contract=contract, contract_link_manual=True
        )
        _hand(contract, fresh, linked=True, user=user)
        record_moves(
            taken,
            "(linked there by hand)",
            user,
            leave_out={contract.pk},
        )
    return done


def unlink_lines(contract: Contract, line_ids: Iterable[int], *, user=None) -> int:
    """Take lines off `contract` by hand; the linker will not put them back.
    `user` is noted as the one who did, and the contract as the one they were
    taken off (`HandLink`), so its page can list them to link again."""
    lines = SpendLine.objects.filter(
        council_id=contract.council_id, contract=contract, pk__in=list(line_ids)
    )
    with transaction.atomic():
        ids = list(lines.values_list("pk", flat=True))
        done = SpendLine.objects.filter(pk__in=ids).update(
            contract=None, contract_link_manual=True
        )
        _hand(contract, ids, linked=False, user=user)
    return done


def release_lines(contract: Contract, line_ids: Iterable[int], *, user=None) -> int:
    """Hand lines of the contract's supplier back to the rule, and apply it.
    Payments the rule then gives to another contract of the supplier, or takes
    from one, are recorded on that contract (`record_moves`), by `user`; this
    contract's own history says what was handed back (the page's view)."""
    lines = SpendLine.objects.filter(
        council_id=contract.council_id,
        contract_link_manual=True,
        pk__in=list(line_ids),
    ).filter(Q(contract=contract) | Q(supplier_id=contract.supplier_id))
    with transaction.atomic():
        ids = list(lines.values_list("pk", flat=True))
        released = SpendLine.objects.filter(pk__in=ids)
        changed = _moves(released)
        released.update(contract_link_manual=False, contract=covering_contract())
        drop_hand_links(
            HandLink.objects.filter(line_id__in=ids),
            user=user,
            reason=f"Handed back to the linking rule on contract {contract.reference}",
        )
        record_moves(
            changed,
            "when an officer handed payments back to the linking rule on "
            f"contract {contract.reference}",
            user,
            leave_out={contract.pk},
        )
    return len(ids)


def _request_user():
    """The signed-in user of the request being served, if any (simple_history's
    middleware keeps it), for changes made where no user is passed down (a
    contract deleted in the admin)."""
    from simple_history.models import HistoricalRecords

    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def record_moves(
    moves: Iterable[tuple[int | None, int | None, int, Decimal | None]],
    cause: str,
    user=None,
    *,
    leave_out: Iterable[int] = (),
) -> list[ContractLinkChange]:
    """Record payments the linker moved (`LinkResult.moves`' form) on each
    contract that gained or lost them, but those in `leave_out`: one entry per
    contract, in words, e.g. "12 payments (£45,000.00) moved to contract QA-002
    in the register import of “register.csv”" (`cause` ends the sentence), by
    `user` (else the request's)."""
    moves = [m for m in moves if m[2]]
    refs = dict(
        Contract.objects.filter(
            pk__in={pk for m in moves for pk in m[:2] if pk}
        ).values_list("pk", "reference")
    )
    gains: dict[int, list] = defaultdict(list)
    losses: dict[int, list] = defaultdict(list)
    for before, after, lines, amount in moves:
        amount = (amount or Decimal(0)).quantize(Decimal("0.01"))
        if before is not None:
            losses[before].append((after, lines, amount))
        if after is not None:
            gains[after].append((before, lines, amount))
    left_out = set(leave_out)
    user = user or _request_user()
    entries = []
    for pk in sorted((gains.keys() | losses.keys()) - left_out):
        if pk not in refs:  # deleted meanwhile
            continue
        words = []
        for other, lines, amount in sorted(losses[pk], key=lambda m: -m[1]):
            some = f"{lines} payment{pluralize(lines)} ({gbp(amount)})"
            if other is None:
                words.append(f"{some} left with no contract")
            else:
                words.append(f"{some} moved to contract {refs.get(other, '?')}")
        for other, lines, amount in sorted(gains[pk], key=lambda m: -m[1]):
            some = f"{lines} payment{pluralize(lines)} ({gbp(amount)})"
            if other is None:
                words.append(f"{some} that had no contract linked here")
            else:
                words.append(f"{some} moved here from contract {refs.get(other, '?')}")
        entries.append(
            ContractLinkChange(
                contract_id=pk,
                contract_reference=refs[pk],
                recorded_by=user,
                lines_gained=sum(m[1] for m in gains[pk]),
                amount_gained=sum((m[2] for m in gains[pk]), Decimal(0)),
                lines_lost=sum(m[1] for m in losses[pk]),
                amount_lost=sum((m[2] for m in losses[pk]), Decimal(0)),
                what=f"{get_text_list(words, 'and')} {cause}",
            )
        )
    return ContractLinkChange.objects.bulk_create(entries, batch_size=500)


def off_contract_suppliers(
    council: Council,
    start: date,
    end: date,
    threshold: Decimal,
    *,
    public_bodies: bool = True,
) -> QuerySet:
    """Suppliers whose spend between `start` and `end` with no contract linked
    reaches `threshold`, biggest first, as dicts: supplier_id, supplier_name,
    off_contract, payments, total (all spend with them), locality (for this
    council) and contracts (how many contracts the council holds with them).
    Aggregated in the database; redacted payees (no supplier) are left out, and
    suppliers tagged as public sector bodies unless `public_bodies`."""
    lines = SpendLine.objects.for_council(council).in_period(start, end)
    if not public_bodies:
        public = SupplierTag.objects.filter(
            supplier_id=OuterRef("supplier_id"),
            kind=TagKind.SIZE,
            value="public_sector",
        )
        lines = lines.exclude(Exists(public))
    no_contract = Q(contract__isnull=True)
    locality = SupplierTag.objects.filter(
        supplier_id=OuterRef("supplier_id"),
        council=council,
        kind=TagKind.LOCALITY,
    ).values("value")[:1]
    contracts = (
        Contract.objects.filter(council=council, supplier_id=OuterRef("supplier_id"))
        .values("supplier_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        lines.filter(supplier__isnull=False)
        .values("supplier_id")
        .annotate(
            supplier_name=Max("supplier__name"),
            off_contract=Sum("amount", filter=no_contract),
            payments=Count("pk", filter=no_contract),
            total=Sum("amount"),
        )
        # Sums are whole pennies, so "at least the threshold" is the same as
        # "more than half a penny below it", which stays true where SQLite adds
        # decimals as floats (2789.37 + 1550.52 + 660.11 = 4999.999999999999).
        .filter(off_contract__gt=threshold - HALF_PENNY)
        .annotate(
            locality=Coalesce(Subquery(locality), Value("unknown")),
            contracts=Coalesce(Subquery(contracts), Value(0)),
        )
        .order_by("-off_contract", "supplier_name")
    )
