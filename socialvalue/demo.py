"""Demo social value: commitments and delivery returns on a few demo contracts.

Some commitments are delivered in full, some fall short, one has an overdue return;
two proxy values, plainly marked as made up, show how proxy £ appear. Running it
again on the same day changes nothing, and what officers have entered is kept:
a planned return is added only where no return of the commitment overlaps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model

from councils.models import Council
from councils.periods import FinancialYear
from procure.models import Contract, ContractStatus
from socialvalue.models import (
    Commitment,
    DeliveryReturn,
    Measure,
    ProxyValue,
    ReturnQuarter,
)

DEMO_NOTE = "Demo: "
MADE_UP_SOURCE = (
    "Made up for the LocalSpend demo, not taken from any framework: replace it with "
    "a value your council holds."
)


@dataclass(frozen=True)
class Plan:
    contract_title: str
    measure: str
    period: str  # "last" or "this" financial year, or "overdue"
    quantity: str
    per_quarter: tuple[str, ...]  # delivered in each ended quarter, cycled
    evidence: str


PLANS = [
    Plan("Home care and reablement", "LS-JOBS-01", "last", "12", ("3",),
         "payroll extract of care staff with home postcodes in the borough"),
    Plan("Home care and reablement", "LS-JOBS-03", "this", "208", ("39",),
         "apprentice timesheets and training provider's progress report"),
    Plan("Highways resurfacing programme", "LS-ECON-01", "last", "250000",
         ("52000", "47500", "45000", "45500"),
         "subcontractor payment schedule with suppliers' trading addresses"),
    Plan("Highways resurfacing programme", "LS-ENV-01", "this", "400", ("85",),
         "waste transfer notes from the recycling depot"),
    Plan("Youth mentoring programme", "LS-COMM-01", "overdue", "300", (),
         "school sign-in sheets"),
    Plan("Youth mentoring programme", "LS-JOBS-07", "last", "500",
         ("120", "130", "140", "130"), "job club attendance registers"),
    Plan("Commercial and household waste collection", "LS-ENV-02", "last", "120",
         ("20", "25", "25", "25"),
         "fleet fuel records against the agreed baseline"),
    Plan("Commercial and household waste collection", "LS-ECON-02", "this",
         "150000", ("30000",), "subcontractor invoices with company sizes"),
]  # fmt: skip
MADE_UP_VALUES = {"LS-JOBS-07": Decimal("10.00"), "LS-ECON-01": Decimal("0.50")}


def load_social_value_demo(council: Council, today: date) -> dict:
    """Give the demo contracts (found by title, or failing that the council's first
    active contracts) their commitments, returns and two made-up proxy values."""
    measures = {m.code: m for m in Measure.objects.all()}
    officer = get_user_model().objects.filter(username="demo-officer").first()
    contracts = _contracts(council)
    made = {"commitments": 0, "returns_added": 0}
    for plan in PLANS:
        contract = contracts.get(plan.contract_title)
        measure = measures.get(plan.measure)
        period = _period(plan.period, today, contract) if contract else None
        if measure is None or period is None:
            continue
        commitment = _upsert_commitment(contract, measure, plan, period)
        made["commitments"] += 1
        made["returns_added"] += _upsert_returns(commitment, plan, today, officer)
    _upsert_proxy_values(council, measures, today)
    return made


def _contracts(council: Council) -> dict[str, Contract]:
    """The plans' contracts by title; missing titles take the next spare contract."""
    own = list(
        Contract.objects.for_council(council)
        .exclude(status=ContractStatus.PIPELINE)
        .order_by("reference")
    )
    by_title = {c.title: c for c in own}
    spare = [c for c in own if c.title not in {p.contract_title for p in PLANS}]
    found = {}
    for title in dict.fromkeys(p.contract_title for p in PLANS):
        if title in by_title:
            found[title] = by_title[title]
        elif spare:
            found[title] = spare.pop(0)
    return found


def _period(kind: str, today: date, contract: Contract) -> tuple[date, date] | None:
    """The plan's period, cut to the contract's; None if they do not meet."""
    fy = FinancialYear.for_date(today)
    if kind == "last":
        start, end = fy.previous().start, fy.previous().end
    elif kind == "this":
        start, end = fy.start, fy.end
    else:  # from the latest quarter whose return is past due, for a year
        recent = ReturnQuarter.spanning(today - timedelta(days=250), today)
        start = [q for q in recent if q.due < today][-1].start
        end = date(start.year + 1, start.month, 1) - timedelta(days=1)
    last = contract.extension_end_date or contract.end_date
    start = max(start, contract.start_date)
    end = min(end, last) if last else end
    return (start, end) if start <= end else None


def _upsert_commitment(
    contract: Contract, measure: Measure, plan: Plan, period: tuple[date, date]
) -> Commitment:
    values = {
        "quantity": Decimal(plan.quantity),
        "period_start": period[0],
        "period_end": period[1],
        "note": f"{DEMO_NOTE}from the supplier's tender response.",
    }
    commitment = Commitment.objects.filter(contract=contract, measure=measure).first()
    if commitment is None:
        return Commitment.objects.create(contract=contract, measure=measure, **values)
    fits = all(
        period[0] <= r.period_start and r.period_end <= period[1]
        for r in commitment.returns.all()
    )
    if fits and any(getattr(commitment, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(commitment, k, v)
        commitment.save()
    return commitment


def _upsert_returns(commitment: Commitment, plan: Plan, today: date, user) -> int:
    """One return per ended quarter of the commitment's period, unless some return
    already covers part of that quarter."""
    if not plan.per_quarter:
        return 0
    quarters = [
        q
        for q in ReturnQuarter.spanning(commitment.period_start, commitment.period_end)
        if q.end < today
    ]
    existing = list(commitment.returns.all())
    added = 0
    for number, quarter in enumerate(quarters):
        start = max(quarter.start, commitment.period_start)
        end = min(quarter.end, commitment.period_end)
        if any(r.period_start <= end and r.period_end >= start for r in existing):
            continue
        DeliveryReturn.objects.create(
            commitment=commitment,
            quantity=Decimal(plan.per_quarter[number % len(plan.per_quarter)]),
            period_start=start,
            period_end=end,
            evidence_note=f"{DEMO_NOTE}{plan.evidence}, {quarter.label}.",
            confirmed=True,
            entered_by=user,
        )
        added += 1
    return added


def _upsert_proxy_values(
    council: Council, measures: dict[str, Measure], today: date
) -> None:
    """Two made-up values for last financial year only, so the pages show both a
    valued year and a year with no value."""
    year = FinancialYear.for_date(today).previous().start_year
    admin = get_user_model().objects.filter(username="demo-admin").first()
    for code, value in MADE_UP_VALUES.items():
        if code not in measures:
            continue
        current = ProxyValue.objects.filter(
            council=council, measure=measures[code], year=year
        ).first()
        if current is None:
            ProxyValue.objects.create(
                council=council,
                measure=measures[code],
                year=year,
                value=value,
                source=MADE_UP_SOURCE,
                entered_by=admin,
            )
