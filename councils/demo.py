"""A realistic, deterministic demo for one preset council (Luton by default).

The same call on the same day always builds the same data, so `load_demo` can run
again and again: suppliers, contracts, targets and users are upserted, and each demo
month's upload is rebuilt only when its content has changed.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from councils.models import Council, Membership, Role
from procure.models import (
    CharityRegister,
    Contract,
    OrganisationType,
    Supplier,
    SupplierAlias,
)
from socialvalue.demo import load_social_value_demo
from socialvalue.models import Metric, SupplierTag, Target
from socialvalue.tagging import classify_suppliers
from spend import rollup
from spend.models import (
    RememberedMapping,
    SpendLine,
    SpendUpload,
    UploadStatus,
    VatBasis,
)
from spend.reading import layout_key
from spend.storage import sha256_of
from spend.values import normalise_name

DEMO_PASSWORD = "localspend-demo"
DEMO_USERS = {
    "demo-admin": Role.ADMIN,
    "demo-officer": Role.PROCUREMENT,
    "demo-finance": Role.FINANCE,
    "demo-cabinet": Role.VIEWER,
}
DEPARTMENTS = {
    "Adult Social Care": ["Residential Care", "Home Care", "Day Services"],
    "Children's Services": ["Fostering", "Schools Support", "Early Years"],
    "Place and Infrastructure": ["Highways", "Waste Services", "Parks"],
    "Corporate Services": ["ICT", "Facilities", "Finance"],
    "Public Health": ["Healthy Lifestyles", "Substance Misuse"],
    "Housing": ["Temporary Accommodation", "Repairs"],
}
EXPENSE_TYPES = [
    "Professional Services",
    "Contracted Services",
    "Equipment and Materials",
    "Repairs and Maintenance",
    "Grants to Voluntary Organisations",
    "Agency Staff",
    "Software Licences",
    "Catering",
    "Transport Hire",
    "Utilities",
]
REDACTED_NAMES = ["REDACTED PERSONAL DATA", "Redacted Personal Information"]

_FIRST = [
    "Amber",
    "Beacon",
    "Chiltern",
    "Dunstable",
    "Elm",
    "Foxhill",
    "Granite",
    "Hatters",
    "Icknield",
    "Juniper",
    "Kestrel",
    "Larkspur",
    "Marsh",
    "Northwell",
    "Oakley",
    "Pennine",
    "Quarry",
    "Riverside",
    "Stockwood",
    "Thornbury",
    "Upland",
    "Vale",
    "Wardown",
    "Yew",
    "Ashcroft",
    "Bramingham",
    "Caddington",
    "Driftwood",
    "Evergreen",
    "Falcon",
]
_TRADE = [
    "Plumbing",
    "Electrical",
    "Catering",
    "Cleaning",
    "Print",
    "Joinery",
    "Roofing",
    "Landscapes",
    "IT Services",
    "Consulting",
    "Care",
    "Transport",
    "Scaffolding",
    "Security",
    "Training",
    "Signs",
    "Office Supplies",
    "Engineering",
    "Design",
    "Waste Solutions",
]
_CHARITY = [
    "Community Trust",
    "Youth Project",
    "Carers Centre",
    "Food Bank",
    "Foundation",
    "Advice Centre",
    "Mind",
    "Age Concern",
    "Arts Collective",
    "Sports Trust",
]


@dataclass(frozen=True)
class Place:
    tier: str  # local, wider, uk, unknown
    districts: tuple[str, ...]


PLACES = [
    Place("local", ("LU1", "LU2", "LU3", "LU4")),
    Place("wider", ("LU5", "LU6", "LU7", "MK40", "MK42", "SG17", "SG18")),
    Place("uk", ("EC1A", "W1D", "M1", "B2", "LS1", "BS1", "NG1", "CF10", "G2", "BT1")),
    Place("unknown", ()),
]

# (kind, organisation type, place tier, how many, weight of spend)
SUPPLIER_MIX = [
    ("local sme", OrganisationType.PRIVATE_COMPANY, "local", 80, 1.0),
    ("local charity", OrganisationType.CHARITY, "local", 18, 0.6),
    ("local cic", OrganisationType.CIC, "local", 8, 0.5),
    ("local sole trader", OrganisationType.SOLE_TRADER, "local", 10, 0.3),
    ("wider sme", OrganisationType.PRIVATE_COMPANY, "wider", 40, 1.0),
    ("wider charity", OrganisationType.CHARITY, "wider", 8, 0.5),
    ("national large", OrganisationType.PLC, "uk", 30, 2.2),
    ("national subsidiary", OrganisationType.PRIVATE_COMPANY, "uk", 20, 1.6),
    ("national sme", OrganisationType.PRIVATE_COMPANY, "uk", 40, 1.0),
    ("national charity", OrganisationType.GUARANTEE, "uk", 6, 0.8),
    ("public body", OrganisationType.PUBLIC_BODY, "wider", 12, 2.5),
    ("unknown", OrganisationType.UNKNOWN, "unknown", 30, 0.4),
]
PUBLIC_BODIES = [
    "Bedford Borough Council",
    "Central Bedfordshire Council",
    "Bedfordshire Hospitals NHS Foundation Trust",
    "HM Revenue and Customs",
    "Bedfordshire Police",
    "East of England Local Government Association",
    "Hertfordshire County Council",
    "Environment Agency",
    "Luton Sixth Form College",
    "Department for Education",
    "Bedfordshire Fire and Rescue Service",
    "NHS Bedfordshire Luton and Milton Keynes ICB",
]


def demo_months(today: date, count: int) -> list[date]:
    """The first day of each of the `count` whole months before `today`'s month."""
    first = today.replace(day=1)
    months = []
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(first)
    return sorted(months)


def _postcode(rng: random.Random, district: str) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"{district} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def _supplier_specs(rng: random.Random) -> list[dict]:
    specs: list[dict] = []
    names: set[str] = set()
    places = {p.tier: p for p in PLACES}
    public = iter(PUBLIC_BODIES)
    for kind, org_type, tier, count, weight in SUPPLIER_MIX:
        for _ in range(count):
            if kind == "public body":
                name = next(public)
            else:
                while True:
                    name = _make_name(rng, kind)
                    if name not in names:
                        break
            names.add(name)
            number = len(specs) + 1
            place = places[tier]
            spec = {
                "name": name,
                "organisation_type": (
                    OrganisationType.LLP if name.endswith(" LLP") else org_type
                ),
                "postcode": _postcode(rng, rng.choice(place.districts))
                if place.districts
                else "",
                "weight": weight * rng.uniform(0.3, 1.7),
                "tier": tier,
                "verified": tier != "unknown" and rng.random() < 0.7,
            }
            _add_facts(rng, spec, kind, number)
            specs.append(spec)
    return specs


def _make_name(rng: random.Random, kind: str) -> str:
    first = rng.choice(_FIRST)
    if "charity" in kind:
        return f"{first} {rng.choice(_CHARITY)}"
    if kind == "local cic":
        return f"{first} {rng.choice(_TRADE)} CIC"
    if kind == "local sole trader":
        return f"{rng.choice(['J', 'A', 'S', 'M', 'R'])}. {first} {rng.choice(_TRADE)}"
    if kind == "national large":
        return f"{first} {rng.choice(_TRADE)} Group plc"
    if kind == "unknown":
        return f"{first} {rng.choice(_TRADE)} {rng.choice(['Services', 'Solutions', 'Co'])}"
    return (
        f"{first} {rng.choice(_TRADE)} {rng.choice(['Ltd', 'Limited', 'Ltd', 'LLP'])}"
    )


def _add_facts(rng: random.Random, spec: dict, kind: str, number: int) -> None:
    """Registry-style facts that the classifier (a later issue) will read."""
    org_type = spec["organisation_type"]
    if org_type in {
        OrganisationType.PRIVATE_COMPANY,
        OrganisationType.PLC,
        OrganisationType.CIC,
        OrganisationType.GUARANTEE,
    }:
        spec["company_number"] = f"{10_000_000 + number * 7919 % 9_000_000:08d}"
        spec["company_status"] = "Active"
    if org_type == OrganisationType.LLP:
        spec["company_number"] = f"OC{300_000 + number:06d}"
        spec["company_status"] = "Active"
    if org_type == OrganisationType.CHARITY or kind == "national charity":
        spec["charity_register"] = CharityRegister.ENGLAND_WALES
        spec["charity_number"] = str(1_100_000 + number)
    if "sme" in kind or "cic" in kind or "charity" in kind:
        spec["employees"] = rng.choice([3, 8, 15, 40, 90, 180])
        spec["turnover"] = Decimal(spec["employees"] * rng.randint(40, 120) * 1000)
        spec["accounts_category"] = (
            "MICRO ENTITY"
            if spec["employees"] < 10
            else rng.choice(["SMALL", "TOTAL EXEMPTION FULL"])
        )
    elif kind in {"national large", "national subsidiary"}:
        spec["employees"] = rng.randint(300, 20_000)
        spec["turnover"] = Decimal(rng.randint(50, 900) * 1_000_000)
        spec["accounts_category"] = "GROUP" if kind == "national large" else "FULL"
        spec["part_of_large_group"] = kind == "national subsidiary"
    spec["living_wage_accredited"] = True if rng.random() < 0.15 else None


def _line_amount(rng: random.Random, weight: float) -> Decimal:
    pennies = int(rng.lognormvariate(7.2, 1.1) * weight * 100)
    pennies = max(pennies, 50_000 + rng.randint(0, 9_999))  # spend over £500
    if rng.random() < 0.02:
        pennies = -min(pennies, 2_500_000)  # credit note
    return Decimal(pennies) / 100


@transaction.atomic
def load_demo(
    *,
    council_slug: str = "luton",
    today: date,
    months: int = 24,
    lines_per_month: int = 3000,
) -> dict:
    """Build (or bring up to date) the demo for `council_slug`; return what it holds."""
    council = Council.objects.get(slug=council_slug)
    rng = random.Random(f"localspend-demo-{council_slug}")
    specs = _supplier_specs(rng)
    suppliers = _upsert_suppliers(specs)
    SupplierAlias.objects.bulk_create(
        [
            SupplierAlias(
                supplier=supplier,
                council=council,
                name=supplier.name,
                normalised_name=supplier.normalised_name,
                council_supplier_id=f"V{supplier.pk:06d}",
            )
            for supplier in suppliers.values()
        ],
        ignore_conflicts=True,
    )
    _upsert_users(council)
    _upsert_targets(council)
    uploader = get_user_model().objects.get(username="demo-finance")
    kept = []
    for number, month in enumerate(demo_months(today, months)):
        # The pledge at work: local firms win a growing share of the business.
        growth = 1 + 0.9 * number / max(months - 1, 1)
        weights = [s["weight"] * (growth if s["tier"] == "local" else 1) for s in specs]
        month_rng = random.Random(
            f"{council_slug}-{month.isoformat()}-{lines_per_month}"
        )
        rows = _month_rows(month_rng, month, specs, weights, lines_per_month)
        kept.append(
            _upsert_month(council, uploader, month, rows, suppliers, first=number == 0)
        )
    _remember_demo_columns(council, uploader)
    SpendUpload.objects.filter(council=council, file_name__startswith="demo-").exclude(
        pk__in=[u.pk for u in kept]
    ).delete()
    _upsert_contracts(council, suppliers, specs, today)
    _suggest_demo_matches(suppliers)
    load_social_value_demo(council, today)
    classify_suppliers(
        supplier_ids=[s.pk for s in suppliers.values()],
        councils=[council],
        rollups=False,
    )
    rollup.rebuild(council.pk)
    # Each month's upload is too small for the importer's own ANALYZE; without
    # fresh statistics PostgreSQL plans the line list for a few dozen lines.
    rollup.restate(SpendLine, SupplierTag)
    lines = SpendLine.objects.filter(upload__in=kept)
    return {"council": council, "suppliers": len(suppliers), **lines.headline()}


def _upsert_suppliers(specs: list[dict]) -> dict[str, Supplier]:
    names = [spec["name"] for spec in specs]
    existing = {s.name: s for s in Supplier.objects.filter(name__in=names)}
    # A supplier someone has changed since it was made is theirs to keep.
    changed = set(
        Supplier.history.filter(
            id__in=[s.pk for s in existing.values()], history_type="~"
        ).values_list("id", flat=True)
    )
    new = []
    for spec in specs:
        values = {k: v for k, v in spec.items() if k not in ("weight", "tier")}
        supplier = existing.get(spec["name"])
        if supplier is None:
            # bulk_create skips save(), so set the matching key here.
            new.append(Supplier(normalised_name=normalise_name(spec["name"]), **values))
        elif supplier.pk not in changed and any(
            getattr(supplier, k) != v for k, v in values.items()
        ):
            for k, v in values.items():
                setattr(supplier, k, v)
            supplier.save()
    if new:
        bulk_create_with_history(new, Supplier, batch_size=500)
    return {s.name: s for s in Supplier.objects.filter(name__in=names)}


def _suggest_demo_matches(suppliers: dict[str, Supplier]) -> None:
    """The near matches a spend import would have suggested between the demo's
    unchecked suppliers and the checked ones ("Ashcroft Joinery Services" and
    "Ashcroft Joinery LLP"), so the review queue has work to show. Only for
    suppliers never suggested before: one an officer has decided on, or merged,
    is left as it is."""
    from procure.models import MatchSuggestion
    from spend.importer import suggest_matches

    decided = set(MatchSuggestion.history.values_list("supplier_id", flat=True))
    unchecked = {
        s.normalised_name: s.pk
        for s in suppliers.values()
        if not s.verified and s.merged_into_id is None and s.pk not in decided
    }
    checked = {
        s.normalised_name: s.pk
        for s in suppliers.values()
        if s.verified and s.merged_into_id is None
    }
    if unchecked and checked:
        suggest_matches(unchecked, checked, reason="Demo: names alike")


def _upsert_users(council: Council) -> None:
    User = get_user_model()
    for username, role in DEMO_USERS.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": username.split("-")[1].title(),
                "last_name": "Demo",
            },
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save()
        # A role an administrator has changed since, or a membership they have
        # removed, is theirs to keep: only a demo user never a member is added.
        if not Membership.history.filter(
            user_id=user.pk, council_id=council.pk
        ).exists():
            Membership.objects.create(user=user, council=council, role=role)


def _upsert_targets(council: Council) -> None:
    targets = [
        (
            Metric.LOCAL,
            2017,
            "25.00",
            2023,
            "70.00",
            "Luton's pledge: 25% in 2017/18 to 70% by 2023/24.",
        ),
        (Metric.SME, 2022, "30.00", 2027, "45.00", "Demo target."),
        (Metric.VCSE, 2022, "4.00", 2027, "8.00", "Demo target."),
        (Metric.LIVING_WAGE, 2023, "10.00", 2028, "25.00", "Demo target."),
    ]
    # Only the measures that never had a target: one an administrator has set,
    # changed or removed since is theirs (each run saved them back before).
    held = set(
        Target.history.filter(council_id=council.pk).values_list("metric", flat=True)
    ) | set(Target.objects.filter(council=council).values_list("metric", flat=True))
    for metric, base_year, base, target_year, target, notes in targets:
        if metric in held:
            continue
        Target.objects.create(
            council=council,
            metric=metric,
            target_year=target_year,
            baseline_year=base_year,
            baseline_share=Decimal(base),
            target_share=Decimal(target),
            notes=notes,
        )


def _month_rows(
    rng: random.Random, month: date, specs: list[dict], weights: list[float], count: int
) -> list[dict]:
    next_month = (month + timedelta(days=32)).replace(day=1)
    days = (next_month - month).days
    rows = []
    for number in range(count):
        department = rng.choice(list(DEPARTMENTS))
        if rng.random() < 0.04:
            spec, name, weight = None, rng.choice(REDACTED_NAMES), 0.5
        else:
            spec = rng.choices(specs, weights=weights)[0]
            name, weight = spec["name"], spec["weight"]
        rows.append(
            {
                "source_row": number + 2,  # row 1 of the demo file is its header
                "payment_date": month + timedelta(days=rng.randrange(days)),
                "amount": _line_amount(rng, weight),
                "supplier_name": name,
                "redacted": spec is None,
                "department": department,
                "service_area": rng.choice(DEPARTMENTS[department]),
                "expense_type": rng.choice(EXPENSE_TYPES),
                "transaction_ref": f"LBC{month:%y%m}{number:05d}",
                "postcode": spec["postcode"] if spec else "",
            }
        )
    return rows


def _digest(rows: list[dict]) -> str:
    text = "\n".join(
        f"{r['payment_date']}|{r['supplier_name']}|{r['amount']}|{r['transaction_ref']}"
        for r in rows
    )
    return hashlib.sha256(text.encode()).hexdigest()


# The headings of the demo's monthly file, and the column each field is read from:
# the finance officer checked them on the first month's preview, and every later
# month was read the same way without asking.
DEMO_HEADER = [
    "Payment Date",
    "Supplier Name",
    "Net Amount",
    "Directorate",
    "Service Area",
    "Expense Type",
    "Transaction Number",
    "Supplier Postcode",
    "Cost Centre",
]
DEMO_COLUMNS = {
    "payment_date": 0,
    "supplier_name": 1,
    "amount": 2,
    "department": 3,
    "service_area": 4,
    "expense_type": 5,
    "transaction_ref": 6,
    "postcode": 7,
}


def _demo_mappings(first: bool) -> list[dict]:
    return [
        {
            "sheet": "",
            "layout": layout_key(DEMO_HEADER, len(DEMO_HEADER)),
            "header": DEMO_HEADER,
            "width": len(DEMO_HEADER),
            "header_row": 1,
            "columns": DEMO_COLUMNS,
            "source": "chosen" if first else "remembered",
        }
    ]


def _remember_demo_columns(council, uploader) -> None:
    layout = layout_key(DEMO_HEADER, len(DEMO_HEADER))
    layout_hash = sha256_of(layout.encode())  # as spend.views._remember keys it
    held = RememberedMapping.objects.filter(council=council, layout_hash=layout_hash)
    if held.exists():
        return  # kept as it is, and any change an officer made to it
    mapping = RememberedMapping(
        council=council,
        layout_hash=layout_hash,
        layout=layout,
        header=DEMO_HEADER,
        columns=DEMO_COLUMNS,
        updated_by=uploader,
    )
    mapping._history_user = uploader  # its history says who chose, as the card does
    mapping.save()


def _upsert_month(
    council, uploader, month: date, rows: list[dict], suppliers, *, first: bool
) -> SpendUpload:
    sha = _digest(rows)
    name = f"demo-{council.slug}-spend-{month:%Y-%m}.csv"
    upload = SpendUpload.objects.filter(council=council, file_name=name).first()
    if upload and upload.sha256 == sha and upload.status == UploadStatus.IMPORTED:
        return upload
    if upload:
        upload.delete()
    total = sum((r["amount"] for r in rows), Decimal(0))
    upload = SpendUpload.objects.create(
        council=council,
        file_name=name,
        sha256=sha,
        uploaded_by=uploader,
        status=UploadStatus.IMPORTED,
        vat_basis=VatBasis.NET,
        period_start=month,
        period_end=(month + timedelta(days=32)).replace(day=1) - timedelta(days=1),
        rows_read=len(rows),
        rows_imported=len(rows),
        amount_imported=total,
        file_stated_total=total,
        mappings=_demo_mappings(first),
    )
    SpendLine.objects.bulk_create(
        [
            SpendLine(
                council=council,
                upload=upload,
                supplier=None if r["redacted"] else suppliers[r["supplier_name"]],
                **r,
            )
            for r in rows
        ],
        batch_size=2000,
    )
    return upload


def _upsert_contracts(
    council, suppliers: dict[str, Supplier], specs: list[dict], today: date
) -> None:
    """A dozen contracts of the kinds a borough lets, matched to demo suppliers by
    trade: three end within 6 months, two within 12 and three within 18; one has
    ended and one is still in the pipeline. The £5m+ home care contract has three
    KPIs with quarterly ratings. Values follow each supplier's demo spend, so spend
    to date looks plausible. Saved only when changed (no history churn), then the
    council's spend is linked to its contracts."""
    import math
    from calendar import monthrange

    from django.db.models import Sum

    from procure.linking import link_spend
    from procure.models import ContractKPI, ContractStatus, KPIRating
    from procure.models import ProcurementRoute as Route

    def month_end(months: int) -> date:
        month = today.month - 1 + months
        year, month = today.year + month // 12, month % 12 + 1
        return date(year, month, monthrange(year, month)[1])

    def upsert_kpis(contract: Contract) -> None:
        """Three KPIs for the demo's £5m+ contract, rated for the last four quarters."""
        kpis = [
            ("Visits on time", "95% of scheduled visits start within 15 minutes."),
            ("Missed visits", "Fewer than 0.5% of scheduled visits missed."),
            (
                "Local workforce",
                f"At least 60% of care staff live in {council.short_name}.",
            ),
        ]
        ratings = ["good", "approaching", "requires_improvement", "good"]
        quarter_ends = []
        day = today.replace(day=1)
        while len(quarter_ends) < 4:
            day = day - timedelta(days=1)
            if day.month in (3, 6, 9, 12):
                quarter_ends.append(day)
            day = day.replace(day=1)
        for number, (name, target) in enumerate(kpis):
            kpi, _ = ContractKPI.objects.get_or_create(
                contract=contract, name=name, defaults={"target": target}
            )
            if kpi.target != target:
                kpi.target = target
                kpi.save()
            for offset, period_end in enumerate(quarter_ends):
                rating = ratings[(number + offset) % len(ratings)]
                existing = KPIRating.objects.filter(
                    kpi=kpi, period_end=period_end
                ).first()
                if existing is None:
                    KPIRating.objects.create(
                        kpi=kpi, period_end=period_end, rating=rating
                    )
                elif existing.rating != rating:
                    existing.rating = rating
                    existing.save()

    # (title, department, trades, route, tendered?, CPV, weighting %, minimum
    #  value £, years, ends in months from now, status)
    pending, ended = ContractStatus.PIPELINE, ContractStatus.ENDED
    active = ContractStatus.ACTIVE
    plans = [
        ("Home care and reablement", "Adult Social Care", ["Care"], Route.OPEN,
         True, "85312000-9", 20, 6_400_000, 5, 26, active),
        ("Highways resurfacing programme", "Place and Infrastructure",
         ["Engineering"], Route.COMPETITIVE_FLEXIBLE, True, "45233140-2", 15,
         2_400_000, 4, 4, active),
        ("Commercial and household waste collection", "Place and Infrastructure",
         ["Waste Solutions"], Route.OPEN, True, "90500000-2", 10, 1_900_000, 7, 10,
         active),
        ("Cleaning of council offices", "Corporate Services", ["Cleaning"],
         Route.FRAMEWORK_CALL_OFF, True, "90910000-9", 10, 420_000, 3, 2, active),
        ("School meals catering", "Children's Services", ["Catering"], Route.OPEN,
         True, "55520000-1", 20, 1_150_000, 4, 16, active),
        ("Parks grounds maintenance", "Place and Infrastructure", ["Landscapes"],
         Route.BELOW_THRESHOLD, False, "77310000-6", 10, 95_000, 2, 8, active),
        ("Security for council buildings", "Corporate Services", ["Security"],
         Route.FRAMEWORK_CALL_OFF, True, "79710000-4", 10, 310_000, 3, 13, active),
        ("Electrical repairs to council homes", "Housing", ["Electrical"],
         Route.OPEN, True, "45310000-3, 50700000-2", 15, 780_000, 4, 34, active),
        ("ICT service desk support", "Corporate Services", ["IT Services"],
         Route.DIRECT_AWARD, False, "72000000-5", None, 180_000, 2, -4, ended),
        ("Youth mentoring programme", "Children's Services",
         ["Youth Project", "Training"], Route.OPEN, True, "80500000-9", 30,
         240_000, 3, 17, active),
        ("Print and design services", "Corporate Services", ["Print", "Design"],
         Route.BELOW_THRESHOLD, False, "79800000-2", 10, 48_000, 2, 5, active),
        ("Carers support service", "Adult Social Care", [], Route.OPEN, True,
         "85312000-9", 25, 650_000, 3, 41, pending),
    ]  # fmt: skip
    candidates = sorted(
        (
            s
            for s in specs
            if s["organisation_type"] != OrganisationType.PUBLIC_BODY and s["postcode"]
        ),
        key=lambda s: -s["weight"],
    )
    year_ago = month_end(-13)
    annual = dict(
        SpendLine.objects.filter(council=council, payment_date__gt=year_ago)
        .values("supplier__name")
        .annotate(total=Sum("amount"))
        .values_list("supplier__name", "total")
    )
    used: set[str] = set()

    def pick(trades: list[str], yearly: Decimal) -> dict:
        """The unused supplier of the trade (any, failing that) whose yearly demo
        spend is nearest to the contract's yearly value."""
        unused = [c for c in candidates if c["name"] not in used]
        paid = [c for c in unused if (annual.get(c["name"]) or 0) > 0] or unused
        matches = [c for c in paid if any(t in c["name"] for t in trades)] or paid

        def misfit(spec: dict) -> float:
            spend = annual.get(spec["name"]) or 0
            return abs(math.log(spend / yearly)) if spend > 0 else math.inf

        return min(matches, key=misfit)

    act_start = date(2025, 2, 24)  # the Procurement Act 2023 came into force
    for number, plan in enumerate(plans, start=1):
        (title, department, trades, route, tendered, cpv, weighting, minimum,
         years, ends_in, status) = plan  # fmt: skip
        end = month_end(ends_in)
        start = date(end.year - years, end.month, 1) + timedelta(days=31)
        start = start.replace(day=1)
        spec = None
        if status != pending:
            spec = pick(trades, Decimal(minimum) / years)
            used.add(spec["name"])
        spend = annual.get(spec["name"]) if spec else None
        value = max(
            Decimal(minimum),
            (Decimal(spend or 0) * years * Decimal("1.1")).quantize(Decimal("1E4")),
        )
        under_act = start >= act_start
        ref = f"LBC-C-{number:04d}"
        values = {
            "title": title,
            "supplier": suppliers[spec["name"]] if spec else None,
            "department": department,
            "description": f"{title} for {council.name}: {years} years from "
            f"{start:%B %Y}.",
            "status": status,
            "value": value,
            "annual_value": (value / years).quantize(Decimal("0.01")),
            "irrecoverable_vat": Decimal("0.00"),
            "start_date": start,
            "end_date": end,
            "review_date": date(end.year - 1, end.month, 1) if years > 1 else None,
            "extension_end_date": month_end(ends_in + 24)
            if route in (Route.OPEN, Route.COMPETITIVE_FLEXIBLE)
            else None,
            "award_method": "tendered" if tendered else "quoted",
            "route": route,
            "notice_references": (
                f"UK4 tender notice {number:06d}-{start.year}\n"
                f"UK7 contract details notice {number + 40:06d}-{start.year}"
                if under_act and status != pending
                else (
                    f"UK2 preliminary market engagement notice "
                    f"{number + 80:06d}-{today.year}"
                    if status == pending
                    else ""
                )
            ),
            "ocid": f"ocds-h6vhtk-{number:06x}" if under_act else "",
            "cpv_codes": cpv,
            "social_value_weighting": None if weighting is None else Decimal(weighting),
            "contract_manager": ["Priya Shah", "Tom Wright", "Grace Okafor"][
                number % 3
            ],
        }
        contract = Contract.objects.filter(council=council, reference=ref).first()
        if contract is None:
            contract = Contract.objects.create(council=council, reference=ref, **values)
        elif any(getattr(contract, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(contract, k, v)
            contract.save()
        if number == 1:  # the £5m+ home care contract
            upsert_kpis(contract)
    link_spend(council)
