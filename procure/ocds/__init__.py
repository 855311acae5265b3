"""A council's contracts as an OCDS 1.1 release package (one release per contract).

The package is generated on demand. Each contract is one contracting process: its
OCID is the contract's own OCID when an officer recorded one, otherwise
``<OCDS_PREFIX>-<council slug>-<contract reference>``, where the prefix comes from
the ``LOCALSPEND_OCDS_PREFIX`` setting (default ``ocds-localspend``, which is not a
registered prefix: a council publishing to the OCDS registry should set its own).

Two packages are made from the same register. The members' own export
(``public=False``) holds every contract, planned ones included, and each supplier's
address as the register holds it. The published package (``public=True``, for the
council's public pages) holds only contracts that have been awarded (a planned
contract's estimated value is not published before it is tendered, as the
Transparency Code contracts file leaves it out too), and no supplier addresses: a sole
trader's address may be their home. Suppliers keep their names and registered
identifiers (Companies House, charity numbers), which are public already.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from councils.models import Council
from procure.models import Contract, ContractStatus, ProcurementRoute

SCHEMA_DIR = Path(__file__).resolve().parent
PACKAGE_SCHEMA = SCHEMA_DIR / "release-package-schema-1.1.5.json"
RELEASE_SCHEMA = SCHEMA_DIR / "release-schema-1.1.5.json"
DEFAULT_PREFIX = "ocds-localspend"

# The Procurement Act route → OCDS's closed `method` codelist.
METHODS = {
    ProcurementRoute.OPEN: "open",
    ProcurementRoute.COMPETITIVE_FLEXIBLE: "selective",
    ProcurementRoute.FRAMEWORK_CALL_OFF: "selective",
    ProcurementRoute.BELOW_THRESHOLD: "limited",
    ProcurementRoute.DIRECT_AWARD: "direct",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def ocds_prefix() -> str:
    return getattr(settings, "LOCALSPEND_OCDS_PREFIX", DEFAULT_PREFIX) or DEFAULT_PREFIX


def ocid_for(contract: Contract) -> str:
    """The contract's OCID if recorded, else one made from the prefix setting."""
    if contract.ocid:
        return contract.ocid
    reference = _UNSAFE.sub("-", contract.reference).strip("-") or str(contract.pk)
    return f"{ocds_prefix()}-{contract.council.slug}-{reference}"


def _start(day: date | None) -> str | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min)).isoformat()


def _end(day: date | None) -> str | None:
    if day is None:
        return None
    moment = datetime.combine(day, time(23, 59, 59))
    return timezone.make_aware(moment).isoformat()


def _value(amount: Decimal | None) -> dict | None:
    if amount is None:
        return None
    return {"amount": float(amount), "currency": "GBP"}


def _period(contract: Contract) -> dict:
    period = {"startDate": _start(contract.start_date)}
    if contract.end_date:
        period["endDate"] = _end(contract.end_date)
    if contract.extension_end_date:
        period["maxExtentDate"] = _end(contract.extension_end_date)
    return period


def _clean(data: dict) -> dict:
    """Leave out fields with no value (OCDS prefers absent to null or empty)."""
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}


def buyer_party(council: Council) -> dict:
    return {
        "id": f"localspend-council-{council.slug}",
        "name": council.name,
        "roles": ["buyer", "procuringEntity"],
    }


def supplier_party(supplier, *, public: bool = False) -> dict:
    """The supplier, identified by Companies House or charity number when known
    (org-id.guide schemes GB-COH, GB-CHC, GB-SC, GB-NIC). Its address (street and
    postcode) only when not `public`: a sole trader's may be their home."""
    identifiers = []
    if supplier.company_number:
        identifiers.append(("GB-COH", supplier.company_number))
    if supplier.charity_number:
        identifiers.append((supplier.charity_register, supplier.charity_number))
    identifiers = [
        {"scheme": scheme, "id": number, "legalName": supplier.name}
        for scheme, number in identifiers
    ]
    party = {
        "id": (
            f"{identifiers[0]['scheme']}-{identifiers[0]['id']}"
            if identifiers
            else f"localspend-supplier-{supplier.pk}"
        ),
        "name": supplier.name,
        "roles": ["supplier"],
    }
    if identifiers:
        party["identifier"] = identifiers[0]
        party["additionalIdentifiers"] = identifiers[1:]
    if not public and (supplier.postcode or supplier.address):
        party["address"] = _clean(
            {
                "streetAddress": supplier.address.replace("\n", ", ").strip(),
                "postalCode": supplier.postcode,
                "countryName": "United Kingdom",
            }
        )
    return _clean(party)


def release(
    contract: Contract, buyer: dict, changed: datetime | None, *, public: bool = False
) -> dict:
    """One contract as an OCDS release: parties, buyer, tender, award, contract.
    `public`: for the published package (no supplier address)."""
    ocid = ocid_for(contract)
    when = changed or timezone.now()
    awarded = contract.status != ContractStatus.PIPELINE and contract.supplier
    value = _value(contract.value)
    parties = [buyer]
    if contract.supplier:
        parties.append(supplier_party(contract.supplier, public=public))
    items = [
        {
            "id": str(number),
            "classification": {"scheme": "CPV", "id": code.split("-")[0]},
        }
        for number, code in enumerate(contract.cpv_list, start=1)
    ]
    tender = {
        "id": f"{ocid}-tender",
        "title": contract.title,
        "description": contract.description,
        "status": "complete" if awarded else "planning",
        "procuringEntity": {"id": buyer["id"], "name": buyer["name"]},
        "procurementMethod": METHODS.get(contract.route),
        "procurementMethodDetails": contract.get_route_display()
        if contract.route
        else None,
        "value": value,
        "items": items,
        "contractPeriod": _period(contract),
    }
    data = {
        "ocid": ocid,
        "id": f"{ocid}-{when.strftime('%Y%m%dT%H%M%S')}",
        "date": when.isoformat(),
        "tag": ["award", "contract"] if awarded else ["planning"],
        "initiationType": "tender",
        "language": "en",
        "parties": parties,
        "buyer": {"id": buyer["id"], "name": buyer["name"]},
        "tender": _clean(tender),
    }
    if awarded:
        supplier = parties[-1]
        award_id = f"{ocid}-award"
        data["awards"] = [
            _clean(
                {
                    "id": award_id,
                    "title": contract.title,
                    "status": "active",
                    "value": value,
                    "suppliers": [{"id": supplier["id"], "name": supplier["name"]}],
                    "contractPeriod": _period(contract),
                }
            )
        ]
        data["contracts"] = [
            _clean(
                {
                    "id": f"{ocid}-contract",
                    "awardID": award_id,
                    "title": contract.title,
                    "description": contract.description,
                    "status": "active"
                    if contract.current_status == ContractStatus.ACTIVE
                    else "terminated",
                    "period": _period(contract),
                    "value": value,
                    "items": items,
                }
            )
        ]
    return data


def contracts_for_package(council: Council, *, public: bool = False):
    """The council's contracts, each with the time of its last change; only those
    awarded (not in the pipeline) when `public`. `.count()` it for a link's count."""
    changes = Contract.history.model.objects.filter(id=OuterRef("pk")).order_by(
        "-history_date"
    )
    contracts = Contract.objects.for_council(council)
    if public:
        contracts = contracts.exclude(status=ContractStatus.PIPELINE)
    return (
        contracts.select_related("council", "supplier")
        .annotate(changed=Subquery(changes.values("history_date")[:1]))
        .order_by("reference")
    )


def release_package(council: Council, uri: str, *, public: bool = False) -> dict:
    """The council's contracts as a release package: the members' own export, or
    with `public` the one the public pages publish (awarded contracts only, no
    supplier addresses). With no contracts the `releases` array is empty, which the
    schema (minItems 1) does not allow: the exports page says so rather than
    offering the file."""
    buyer = buyer_party(council)
    releases = [
        release(contract, buyer, contract.changed, public=public)
        for contract in contracts_for_package(council, public=public)
    ]
    last = max((r["date"] for r in releases), default=None)
    return {
        "uri": uri,
        "version": "1.1",
        "publishedDate": last or timezone.now().isoformat(),
        "publisher": {"name": council.name},
        "releases": releases,
    }


@cache
def _schemas() -> tuple[dict, dict]:
    package = json.loads(PACKAGE_SCHEMA.read_text(encoding="utf-8"))
    release_schema = json.loads(RELEASE_SCHEMA.read_text(encoding="utf-8"))
    return package, release_schema


def validator():
    """A jsonschema validator for the vendored package schema, resolving its
    reference to the release schema locally (no network). Needs `jsonschema`."""
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    package, release_schema = _schemas()
    registry = Registry().with_resources(
        [
            (release_schema["id"], Resource.from_contents(release_schema, DRAFT4)),
            (package["id"], Resource.from_contents(package, DRAFT4)),
        ]
    )
    return Draft4Validator(
        package, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER
    )
