"""Link a council's spend lines to its contracts, in the database.

The rule: a line belongs to a contract of the same council and supplier whose
period covers the payment date, both ends included (start date to end date; no
end date means open-ended). Contracts still in the pipeline have not been awarded
and take no spend. When several contracts cover a payment, the one that started
latest wins (a later contract usually replaces or extends an earlier one).

An officer can link a line by hand, or unlink it; such lines are marked
`contract_link_manual` and the linker leaves them alone until the officer hands
them back (`release_lines`).

Each run is one correlated UPDATE over the lines in scope, never a loop over lines
in Python. Call `link_spend` after contracts change (the views do) and after spend
is imported or rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

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

from councils.models import Council
from procure.models import Contract, ContractStatus
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


def link_spend(
    council: Council, contracts: Iterable[Contract] | None = None, *, moves=False
) -> LinkResult:
    """Set the contract of the council's automatically linked lines.

    With `contracts`, only the lines those contracts could concern are worked out
    again: the lines of their suppliers, and the lines linked to them now (their
    supplier or dates may have changed). Without, every line of the council.
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
    if moves:  # worked out before the update: one grouped query
        ahead = lines.annotate(after=covering_contract())
        differ = (
            Q(contract__isnull=True, after__isnull=False)
            | Q(contract__isnull=False, after__isnull=True)
            | (
                Q(contract__isnull=False, after__isnull=False)
                & ~Q(contract_id=F("after"))
            )
        )
        changed = [
            (row["contract_id"], row["after"], row["n"], row["total"])
            for row in ahead.filter(differ)
            .values("contract_id", "after")
            .annotate(n=Count("pk"), total=Sum("amount"))
            .order_by("contract_id", "after")
        ]
    lines.update(contract=covering_contract())
    counted = lines.values("contract_id")
    return LinkResult(
        moves=changed,
        linked=counted.filter(contract__isnull=False).count(),
        unlinked=counted.filter(contract__isnull=True).count(),
        manual=SpendLine.objects.filter(
            council=council, contract_link_manual=True
        ).count(),
    )


def relink_suppliers(supplier_ids: Iterable[int]) -> None:
    """Apply the rule again to every council's lines with these suppliers, after
    lines or contracts moved between them (a merge, its undoing) or a contract went.

    A line an officer linked by hand to a contract that is no longer its
    supplier's goes back to the rule; other hand-made links and unlinks stay."""
    ids = list(supplier_ids)
    SpendLine.objects.filter(
        supplier_id__in=ids, contract_link_manual=True, contract__isnull=False
    ).exclude(contract__supplier_id=F("supplier_id")).update(contract_link_manual=False)
    SpendLine.objects.filter(supplier_id__in=ids, contract_link_manual=False).update(
        contract=covering_contract()
    )


def contract_deleted(sender, instance: Contract, **kwargs) -> None:
    """After a contract is deleted (in the admin, say), its lines, whether linked
    by the rule or by hand, go to whichever of the supplier's contracts covers
    them, or to none. Connected to post_delete in ProcureConfig.ready."""
    with transaction.atomic():
        SpendLine.objects.filter(
            council_id=instance.council_id,
            contract_link_manual=True,
            contract__isnull=True,
            supplier_id=instance.supplier_id,
        ).filter(pk__in=getattr(instance, "_released_lines", [])).update(
            contract_link_manual=False
        )
        if instance.supplier_id:
            relink_suppliers([instance.supplier_id])


def contract_deleting(sender, instance: Contract, **kwargs) -> None:
    """Note the lines linked by hand to a contract about to be deleted (the
    foreign key empties them), so `contract_deleted` hands them back to the rule."""
    instance._released_lines = list(
        SpendLine.objects.filter(
            contract_id=instance.pk, contract_link_manual=True
        ).values_list("pk", flat=True)
    )


class LinkRefused(Exception):
    """An officer asked for a link the rules do not allow (message for them)."""


def link_lines(contract: Contract, line_ids: Iterable[int]) -> int:
    """Link lines to `contract` by hand: the council's lines with the contract's
    supplier, whatever their date. Returns how many were linked."""
    if contract.supplier_id is None:
        raise LinkRefused("Record the contract's supplier before linking payments.")
    lines = SpendLine.objects.filter(
        council_id=contract.council_id,
        supplier_id=contract.supplier_id,
        pk__in=list(line_ids),
    )
    return lines.update(contract=contract, contract_link_manual=True)


def unlink_lines(contract: Contract, line_ids: Iterable[int]) -> int:
    """Take lines off `contract` by hand; the linker will not put them back."""
    lines = SpendLine.objects.filter(
        council_id=contract.council_id, contract=contract, pk__in=list(line_ids)
    )
    return lines.update(contract=None, contract_link_manual=True)


def release_lines(contract: Contract, line_ids: Iterable[int]) -> int:
    """Hand lines of the contract's supplier back to the rule, and apply it."""
    lines = SpendLine.objects.filter(
        council_id=contract.council_id,
        contract_link_manual=True,
        pk__in=list(line_ids),
    ).filter(Q(contract=contract) | Q(supplier_id=contract.supplier_id))
    with transaction.atomic():
        ids = list(lines.values_list("pk", flat=True))
        SpendLine.objects.filter(pk__in=ids).update(
            contract_link_manual=False, contract=covering_contract()
        )
    return len(ids)


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
