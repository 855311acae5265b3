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
from socialvalue.models import Metric, Target
from socialvalue.tagging import classify_suppliers
from spend import rollup
from spend.models import SpendLine, SpendUpload, UploadStatus, VatBasis
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
        kept.append(_upsert_month(council, uploader, month, rows, suppliers))
    SpendUpload.objects.filter(council=council, file_name__startswith="demo-").exclude(
        pk__in=[u.pk for u in kept]
    ).delete()
    _upsert_contracts(council, suppliers, specs, today)
    classify_suppliers(
        supplier_ids=[s.pk for s in suppliers.values()],
        councils=[council],
        rollups=False,
    )
    rollup.rebuild(council.pk)
    lines = SpendLine.objects.filter(upload__in=kept)
    return {"council": council, "suppliers": len(suppliers), **lines.headline()}


def _upsert_suppliers(specs: list[dict]) -> dict[str, Supplier]:
    names = [spec["name"] for spec in specs]
    existing = {s.name: s for s in Supplier.objects.filter(name__in=names)}
    new = []
    for spec in specs:
        values = {k: v for k, v in spec.items() if k not in ("weight", "tier")}
        supplier = existing.get(spec["name"])
        if supplier is None:
            # bulk_create skips save(), so set the matching key here.
            new.append(Supplier(normalised_name=normalise_name(spec["name"]), **values))
        elif any(getattr(supplier, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(supplier, k, v)
            supplier.save()
    if new:
        bulk_create_with_history(new, Supplier, batch_size=500)
    return {s.name: s for s in Supplier.objects.filter(name__in=names)}


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
        Membership.objects.update_or_create(
            user=user, council=council, defaults={"role": role}
        )


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
    for metric, base_year, base, target_year, target, notes in targets:
        Target.objects.update_or_create(
            council=council,
            metric=metric,
            target_year=target_year,
            defaults={
                "baseline_year": base_year,
                "baseline_share": Decimal(base),
                "target_share": Decimal(target),
                "notes": notes,
            },
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


def _upsert_month(
    council, uploader, month: date, rows: list[dict], suppliers
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
    biggest = sorted(
        (
            s
            for s in specs
            if s["organisation_type"] != OrganisationType.PUBLIC_BODY and s["postcode"]
        ),
        key=lambda s: -s["weight"],
    )[:12]
    for number, spec in enumerate(biggest, start=1):
        start = date(today.year - 2 + number % 2, 1 + number % 12, 1)
        years = 1 + number % 4
        Contract.objects.update_or_create(
            council=council,
            reference=f"LBC-C-{number:04d}",
            defaults={
                "title": f"{spec['name'].split(' ', 1)[1]} services",
                "supplier": suppliers[spec["name"]],
                "department": list(DEPARTMENTS)[number % len(DEPARTMENTS)],
                "value": Decimal(50_000 * number * years),
                "start_date": start,
                "end_date": start.replace(year=start.year + years) - timedelta(days=1),
            },
        )
