"""The classification rules: plain values in, a `TagResult` out.

No Django here. Each rule returns a value, the source that decided it, evidence a
councillor can read, and a confidence. "unknown" is an honest answer of its own,
never a polite "no", and no rule defaults to "large" or "no".

Locality (per council): `local`, `wider`, `uk`, `non_uk`, `unknown`. A postcode's
outward code (its district) is looked up in the council's lists and in the
postcode-district table (centroids and regions). When the ONS postcode directory
gives the exact postcode's local authority (a GSS code), that decides the local
tier (the council's own GSS code and its local authority codes are local), and the
wider tier for councils whose wider tier is a list of authorities. A full postcode
the loaded directory does not list falls back to its district, and says so.
A local postcode is never "wider". Jersey, Guernsey, the Isle of Man, Gibraltar and
the overseas territories are `non_uk`; Northern Ireland (BT) is UK. BFPO addresses,
invalid postcodes and districts missing from the table are `unknown`.

Size: `micro`, `small`, `medium`, `large`, `public_sector`, `unknown`. A business
is an SME under the Procurement Act 2023 when it has fewer than 250 staff and
either turnover of no more than £44m or a balance sheet total of no more than
£38m. Inside SME the bands follow the same pattern:

- micro: fewer than 10 staff, and turnover or balance sheet total no more than £2m;
- small: fewer than 50 staff, and turnover or balance sheet total no more than £10m;
- medium: any other SME.

A business failing either the staff test or the money test of SME is `large`.
When some figures are missing the band is judged on those recorded, and the
confidence drops to medium (staff recorded) or low (staff missing).
Public limited companies and members of large groups are not SMEs. Without figures
the Companies House accounts category is used as a weaker signal.

VCSE: `yes`, `no`, `unknown`. Living Wage: `yes` or `unknown`, never `no`.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from spend.values import clean_text, normalise_name, parse_postcode

RULE_VERSION = "2"  # 2: size from recorded figures is an officer's record

LOCALITY_VALUES = ("local", "wider", "uk", "non_uk", "unknown")
SIZE_VALUES = ("micro", "small", "medium", "large", "public_sector", "unknown")
VCSE_VALUES = ("yes", "no", "unknown")
LIVING_WAGE_VALUES = ("yes", "unknown")
SOURCES = (
    "postcode_rule",
    "registry",
    "accredited_list",
    "name_rule",
    "declaration",
    "no_data",
)
CONFIDENCES = ("high", "medium", "low")


@dataclass(frozen=True)
class TagResult:
    value: str
    source: str
    evidence: str
    confidence: str


@dataclass(frozen=True)
class District:
    code: str
    latitude: float
    longitude: float
    town: str
    uk_region: str


@dataclass(frozen=True)
class Area:
    """One council's local area and wider tier (fields mirror councils.Council)."""

    name: str
    local_districts: frozenset[str] = frozenset()
    local_authority_codes: frozenset[str] = frozenset()
    wider_kind: str = "districts"
    wider_label: str = ""
    wider_districts: frozenset[str] = frozenset()
    wider_authority_codes: frozenset[str] = frozenset()
    wider_region: str = ""
    wider_radius_miles: float | None = None
    wider_centre_district: str = ""
    gss_code: str = ""  # the council's own authority: local by the ONS directory


@dataclass(frozen=True)
class SupplierFacts:
    name: str
    organisation_type: str
    company_number: str = ""
    company_category: str = ""
    charity_number: str = ""
    charity_register: str = ""
    postcode: str = ""
    employees: int | None = None
    turnover: Decimal | None = None
    balance_sheet_total: Decimal | None = None
    accounts_category: str = ""
    company_status: str = ""
    part_of_large_group: bool | None = None
    living_wage_accredited: bool | None = None


# ======================================================================== reference


def load_districts(path: str | Path) -> dict[str, District]:
    """The postcode-district table, keyed by district; rows without a centroid are
    left out (British Forces, GIR and some non-geographic codes)."""
    with open(path, encoding="utf-8-sig", newline="") as file:
        rows = (_district(row) for row in csv.DictReader(file))
        return {d.code: d for d in rows if d is not None}


def _district(row: Mapping[str, str | None]) -> District | None:
    try:
        latitude = float(row.get("latitude") or "")
        longitude = float(row.get("longitude") or "")
    except ValueError:
        return None
    code = clean_text(row.get("district")).upper()
    if not code or not (math.isfinite(latitude) and math.isfinite(longitude)):
        return None
    return District(
        code=code,
        latitude=latitude,
        longitude=longitude,
        town=clean_text(row.get("town")),
        uk_region=clean_text(row.get("uk_region")),
    )


def area_from_mapping(values: Mapping[str, object]) -> Area:
    """An Area from a dict with councils.Council's field names ("short_name" is
    preferred to "name" when both are given)."""
    return Area(
        name=clean_text(values.get("short_name") or values.get("name")),
        local_districts=_codes(values.get("local_districts")),
        local_authority_codes=_codes(values.get("local_authority_codes")),
        wider_kind=clean_text(values.get("wider_kind")).lower() or "districts",
        wider_label=clean_text(values.get("wider_label")),
        wider_districts=_codes(values.get("wider_districts")),
        wider_authority_codes=_codes(values.get("wider_authority_codes")),
        wider_region=clean_text(values.get("wider_region")),
        wider_radius_miles=_miles(values.get("wider_radius_miles")),
        wider_centre_district=clean_text(values.get("wider_centre_district")).upper(),
        gss_code=clean_text(values.get("gss_code")).upper(),
    )


def _codes(value: object) -> frozenset[str]:
    """Upper-case codes from a list, or from text separated by commas or spaces."""
    if value is None:
        return frozenset()
    items = re.split(r"[\s,;]+", value) if isinstance(value, str) else value
    if not isinstance(items, Iterable):
        return frozenset()
    return frozenset(c for item in items if (c := clean_text(item).upper()))


def _miles(value: object) -> float | None:
    number = _decimal(value)
    return float(number) if number is not None and number > 0 else None


def haversine_miles(a: District, b: District) -> float:
    """Great-circle distance between two district centroids, in miles."""
    lat1, lon1, lat2, lon2 = map(
        math.radians, (a.latitude, a.longitude, b.latitude, b.longitude)
    )
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_RADIUS_MILES * math.asin(math.sqrt(min(1.0, h)))


_EARTH_RADIUS_MILES = 3958.8


# ========================================================================= locality

EDGE_MILES = 2.0  # a radius decision this close to the limit has medium confidence

_NON_UK_AREAS = {
    "JE": "Jersey",
    "GY": "Guernsey",
    "IM": "the Isle of Man",
    "GX": "Gibraltar",
}
# Overseas territories' postcodes in the UK style (parse_postcode rejects them).
_OVERSEAS = {
    "ASCN1ZZ": "Ascension Island",
    "BBND1ZZ": "the British Indian Ocean Territory",
    "BIQQ1ZZ": "the British Antarctic Territory",
    "FIQQ1ZZ": "the Falkland Islands",
    "PCRN1ZZ": "the Pitcairn Islands",
    "SIQQ1ZZ": "South Georgia and the South Sandwich Islands",
    "STHL1ZZ": "St Helena",
    "TDCU1ZZ": "Tristan da Cunha",
    "TKCA1ZZ": "the Turks and Caicos Islands",
}
# ONS pseudo-codes: L99999999 Channel Islands, M99999999 Isle of Man.
_NON_UK_AUTHORITIES = {"L": "the Channel Islands", "M": "the Isle of Man"}
_GSS_CODE = re.compile(r"[EKLMNSW][0-9]{8}")


@dataclass(frozen=True)
class _Postcode:
    text: str  # "LU2 7AB", or "LU2" when only the district is known
    district: str
    full: bool


def classify_locality(
    postcode: str,
    area: Area,
    districts: Mapping[str, District],
    authority: str | None = None,
) -> TagResult:
    """Where a postcode lies for one council: local, wider, uk, non_uk or unknown.

    `authority` is the GSS code of the exact postcode from the ONS postcode
    directory, when it is loaded; it decides the local tier exactly.
    """
    read = _read_postcode(postcode)
    if isinstance(read, TagResult):
        return read
    code = _authority(authority) if authority else ""
    return _named(read, _decide(read, area, districts, code))


def locality_rule(
    area: Area,
    districts: Mapping[str, District],
    authorities: Mapping[str, str] | None = None,
) -> Callable[[object], TagResult]:
    """`classify_locality` for many postcodes: each postcode is read once and each
    district placed once. The mappings must not change while the rule is in use.

    `authorities` maps full postcodes, written "LU1 2AB", to their local
    authority's GSS code from the ONS postcode directory; None when no directory
    is loaded (the district decides, as `classify_locality` without an authority).
    A full postcode it lists is decided as `classify_locality(postcode, area,
    districts, authority)` decides; one it does not list (or lists without a real
    authority) falls back to its district, and the evidence says so.
    """
    by_postcode: dict[str, TagResult] = {}
    by_district: dict[str, TagResult | _Placed] = {}

    def rule(postcode: object) -> TagResult:
        text = postcode if type(postcode) is str else None
        if text is not None and (known := by_postcode.get(text)) is not None:
            return known
        read = _read_postcode(postcode)
        if isinstance(read, TagResult):
            result = read
        elif authorities is None or not read.full:
            result = _named(read, _by_district(read))
        elif code := _authority(listed := authorities.get(read.text)):
            result = _named(read, _decide(read, area, districts, code))
        else:
            result = _not_by_ons(_named(read, _by_district(read)), listed is None)
        if text is not None:
            by_postcode[text] = result
        return result

    def _by_district(read: _Postcode) -> TagResult | _Placed:
        # Without an authority the decision depends on the district alone.
        if (decision := by_district.get(read.district)) is None:
            decision = _decide(read, area, districts, "")
            by_district[read.district] = decision
        return decision

    return rule


def _not_by_ons(result: TagResult, missing: bool) -> TagResult:
    """A district decision for a full postcode the ONS postcode directory could
    not decide: it does not list it (`missing`), or gives no authority for it."""
    why = (
        "is not in the ONS postcode directory as loaded"
        if missing
        else "has no local authority in the ONS postcode directory"
    )
    note = f" The postcode {why}, so its district decided."
    return TagResult(
        result.value, result.source, result.evidence + note, result.confidence
    )


@dataclass(frozen=True)
class _Placed:
    """A decision on a postcode's district, before the postcode is named in it."""

    value: str
    clause: str
    near_edge: bool = False  # a radius decision close to the limit


def _named(pc: _Postcode, decision: TagResult | _Placed) -> TagResult:
    if isinstance(decision, TagResult):
        return decision
    result = _placed(decision.value, pc, decision.clause)
    return _medium(result) if decision.near_edge else result


def _decide(
    pc: _Postcode, area: Area, districts: Mapping[str, District], authority: str
) -> TagResult | _Placed:
    """Without an authority, the decision reads only pc.district."""
    if authority and authority[0] in _NON_UK_AUTHORITIES:
        where = f"The ONS postcode directory places {pc.text} in"
        return _non_uk(where, _NON_UK_AUTHORITIES[authority[0]])
    if (local := _local(pc, area, authority)) is not None:
        return local
    decision = _WIDER_RULES.get(area.wider_kind, _wider_by_districts)(
        pc, area, districts, authority
    )
    if authority and isinstance(decision, _Placed) and _has_authorities(area):
        return _not_local_by_ons(pc, area, authority, decision)
    return decision


def _has_authorities(area: Area) -> bool:
    """Whether an ONS authority decides the area's local tier."""
    return bool(area.local_authority_codes or area.gss_code)


def _not_local_by_ons(
    pc: _Postcode, area: Area, authority: str, decision: _Placed
) -> TagResult:
    """The ONS authority put the postcode outside the local area; its district
    placed it in a further tier (a list of districts, a region or a radius)."""
    evidence = (
        f"The ONS postcode directory places {pc.text} in local authority "
        f"{authority}, outside {_possessive(area.name)} local area; by its district "
        f"{pc.district} it is {decision.clause}."
    )
    confidence = "medium" if decision.near_edge else "high"
    if decision.near_edge:
        evidence += f" It is within {EDGE_MILES:.0f} miles of the limit."
    return TagResult(decision.value, "postcode_rule", evidence, confidence)


def _read_postcode(value: object) -> _Postcode | TagResult:
    return _read_postcode_text(clean_text(value))


@lru_cache(maxsize=65536)
def _read_postcode_text(text: str) -> _Postcode | TagResult:
    # Cached: a register's suppliers share postcodes, and every council reads them.
    squashed = "".join(text.upper().split())
    if not squashed:
        # Nothing for the postcode rule to read: no data, not its decision.
        return TagResult("unknown", "no_data", "No postcode is recorded.", "low")
    if squashed.startswith("BFPO"):
        return _unknown_place(_BFPO_EVIDENCE.format(text=_quoted(text)))
    if squashed in _OVERSEAS:
        return _non_uk(f"Postcode {text.upper()} is in", _OVERSEAS[squashed])
    read = _parse(text)
    if read is None:
        return _unknown_place(f"{_quoted(text)} is not a valid UK postcode.")
    if read.district.startswith("BF"):
        return _unknown_place(_BFPO_EVIDENCE.format(text=read.text))
    if (place := _NON_UK_AREAS.get(_letters(read.district))) is not None:
        what = "Postcode" if read.full else "District"
        return _non_uk(f"{what} {read.text} is in", place)
    return read


_BFPO_EVIDENCE = (
    "{text} is a British Forces Post Office address, which does not say where the "
    "supplier is."
)


@lru_cache(maxsize=65536)
def _parse(text: str) -> _Postcode | None:
    parsed = parse_postcode(text)
    if parsed is None:
        return None
    district, _, inward = parsed.partition(" ")
    return _Postcode(text=parsed, district=district, full=bool(inward))


def _letters(district: str) -> str:
    """The postcode area: the letters before the first digit."""
    return _AREA_LETTERS.match(district).group()  # type: ignore[union-attr]


_AREA_LETTERS = re.compile("[A-Z]*")


def _authority(value: object) -> str:
    """A real authority's GSS code, or "" (ONS pseudo-codes for England, Wales,
    Scotland and Northern Ireland say nothing about the authority)."""
    code = clean_text(value).upper()
    if not _GSS_CODE.fullmatch(code):
        return ""
    if code.endswith("99999999") and code[0] not in _NON_UK_AUTHORITIES:
        return ""
    return code


def _local(pc: _Postcode, area: Area, authority: str) -> TagResult | _Placed | None:
    name = _possessive(area.name)
    if authority and _has_authorities(area):
        if authority == area.gss_code or authority in area.local_authority_codes:
            clause = f"inside {name} local area"
            return _by_ons("local", pc, authority, clause, area)
        return None
    if pc.district in area.local_districts:
        return _Placed("local", f"inside {name} local area")
    return None


def _wider_by_districts(
    pc: _Postcode, area: Area, districts: Mapping[str, District], authority: str
) -> TagResult | _Placed:
    if pc.district in area.wider_districts:
        return _Placed("wider", _inside_wider(area))
    return _elsewhere(pc, area, districts, authority)


def _wider_by_authorities(
    pc: _Postcode, area: Area, districts: Mapping[str, District], authority: str
) -> TagResult | _Placed:
    if not (authority and area.wider_authority_codes):
        return _wider_by_districts(pc, area, districts, authority)
    if authority in area.wider_authority_codes:
        return _by_ons("wider", pc, authority, _inside_wider(area))
    return _elsewhere(pc, area, districts, authority)


def _wider_by_region(
    pc: _Postcode, area: Area, districts: Mapping[str, District], authority: str
) -> TagResult | _Placed:
    district = districts.get(pc.district)
    if district is None:
        return _not_in_table(pc)
    region = district.uk_region
    if region and region.casefold() == area.wider_region.casefold():
        return _Placed("wider", f"in {_region(region)}, {_inside_wider(area)}")
    return _elsewhere(pc, area, districts, "")


def _wider_by_radius(
    pc: _Postcode, area: Area, districts: Mapping[str, District], authority: str
) -> TagResult | _Placed:
    district = districts.get(pc.district)
    centre = districts.get(area.wider_centre_district)
    limit = area.wider_radius_miles
    if district is None:
        return _not_in_table(pc)
    if centre is None or limit is None:
        return _unknown_place(
            f"{_possessive(area.name)} wider area is a radius, but its centre "
            f"district {area.wider_centre_district or '(none)'} or its radius is "
            "missing, so distances cannot be measured."
        )
    miles = haversine_miles(district, centre)
    near_edge = abs(miles - limit) <= EDGE_MILES
    distance = f"about {_distance(miles, near_edge)} miles from {centre.code}"
    if miles <= limit:
        return _Placed("wider", f"{distance}, {_inside_wider(area)}", near_edge)
    return _Placed("uk", f"{distance}, {_outside(area)}", near_edge)


_WIDER_RULES: dict[str, Callable[..., TagResult | _Placed]] = {
    "districts": _wider_by_districts,
    "authorities": _wider_by_authorities,
    "region": _wider_by_region,
    "radius": _wider_by_radius,
}


def _elsewhere(
    pc: _Postcode, area: Area, districts: Mapping[str, District], authority: str
) -> TagResult | _Placed:
    if authority:
        return _by_ons("uk", pc, authority, _outside(area))
    district = districts.get(pc.district)
    if district is None:
        return _not_in_table(pc)
    where = f"in {_region(district.uk_region)}, " if district.uk_region else ""
    return _Placed("uk", f"{where}{_outside(area)}")


def _region(name: str) -> str:
    """ "the North West", but "London", "Scotland", "Wales", "Northern Ireland"."""
    return name if name in _COUNTRY_LIKE else f"the {name}"


_COUNTRY_LIKE = frozenset({"London", "Scotland", "Wales", "Northern Ireland"})


def _inside_wider(area: Area) -> str:
    name = _possessive(area.name)
    return f"inside {name} wider area ({_wider_name(area)}) but not its local area"


def _outside(area: Area) -> str:
    name = _possessive(area.name)
    return f"outside {name} local and wider areas ({_wider_name(area)})"


def _wider_name(area: Area) -> str:
    if area.wider_label:
        return area.wider_label
    if area.wider_kind == "region" and area.wider_region:
        return area.wider_region
    if area.wider_kind == "radius" and area.wider_radius_miles:
        miles = _distance(area.wider_radius_miles, True)
        return f"within {miles} miles of {area.wider_centre_district}"
    return "its wider tier"


def _possessive(name: str) -> str:
    return f"{name}'s" if name else "the council's"


def _distance(miles: float, precise: bool) -> str:
    return f"{miles:.1f}" if precise else f"{miles:.0f}"


def _placed(value: str, pc: _Postcode, clause: str) -> TagResult:
    if pc.full:
        evidence = f"Postcode {pc.text} is in district {pc.district}, {clause}."
        return TagResult(value, "postcode_rule", evidence, "high")
    evidence = (
        f"District {pc.district} is {clause}. Only the district is recorded, "
        "not the full postcode."
    )
    return TagResult(value, "postcode_rule", evidence, "medium")


def _by_ons(
    value: str, pc: _Postcode, authority: str, clause: str, area: Area | None = None
) -> TagResult:
    named = authority
    if area is not None and area.name and authority == area.gss_code:
        named = f"{authority} ({area.name})"
    evidence = (
        f"The ONS postcode directory places {pc.text} in local authority "
        f"{named}, {clause}."
    )
    return TagResult(value, "postcode_rule", evidence, "high")


def _non_uk(lead: str, place: str) -> TagResult:
    evidence = f"{lead} {place}, outside the UK."
    return TagResult("non_uk", "postcode_rule", evidence, "high")


def _not_in_table(pc: _Postcode) -> TagResult:
    return _unknown_place(
        f"District {pc.district} is not in the postcode-district table "
        "(non-geographic, new or withdrawn), so where it lies is not known."
    )


def _unknown_place(evidence: str) -> TagResult:
    return TagResult("unknown", "postcode_rule", evidence, "low")


def _medium(result: TagResult) -> TagResult:
    if result.confidence != "high":
        return result
    note = f" It is within {EDGE_MILES:.0f} miles of the limit."
    return TagResult(result.value, result.source, result.evidence + note, "medium")


def _quoted(text: str, limit: int = 40) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"“{shown}”"


# ============================================================================= size

SME_STAFF = 250  # fewer than
SME_TURNOVER = Decimal("44000000")
SME_BALANCE_SHEET = Decimal("38000000")


@dataclass(frozen=True)
class _Band:
    value: str
    staff: int  # fewer than
    turnover: Decimal  # no more than
    balance_sheet: Decimal  # no more than
    meaning: str


_BANDS = (
    _Band(
        "micro",
        10,
        Decimal("2000000"),
        Decimal("2000000"),
        "a micro business (fewer than 10 staff, and turnover or balance sheet "
        "total no more than £2m)",
    ),
    _Band(
        "small",
        50,
        Decimal("10000000"),
        Decimal("10000000"),
        "a small business (fewer than 50 staff, and turnover or balance sheet "
        "total no more than £10m)",
    ),
    _Band(
        "medium",
        SME_STAFF,
        SME_TURNOVER,
        SME_BALANCE_SHEET,
        "a medium-sized business, an SME under the Procurement Act 2023 (fewer "
        "than 250 staff, and turnover no more than £44m or balance sheet total no "
        "more than £38m)",
    ),
)
_NOT_SME = (
    "not an SME under the Procurement Act 2023, which needs fewer than 250 staff, "
    "and turnover no more than £44m or balance sheet total no more than £38m"
)


@dataclass(frozen=True)
class _Figures:
    employees: int | None
    turnover: Decimal | None
    balance_sheet: Decimal | None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.employees, *self._money))

    @property
    def _money(self) -> tuple[Decimal | None, Decimal | None]:
        return self.turnover, self.balance_sheet


def classify_size(facts: SupplierFacts) -> TagResult:
    """micro, small, medium, large, public_sector or unknown (see the module
    docstring for the bands)."""
    return _memoised(_SIZE_MEMO, _size_key(facts), _classify_size, facts)


def _size_key(facts: SupplierFacts) -> tuple | None:
    """Everything the size rules read, exactly; None if a figure is of an odd type."""
    figures = (
        _exactly(facts.employees),
        _exactly(facts.turnover),
        _exactly(facts.balance_sheet_total),
    )
    if _ODD in figures:
        return None
    name = _name(facts)
    return (
        clean_text(facts.organisation_type),
        clean_text(facts.company_category),
        clean_text(facts.accounts_category),
        facts.part_of_large_group is True,
        name.form,
        name.public,
        *figures,
    )


def _classify_size(facts: SupplierFacts) -> TagResult:
    for rule in _SIZE_RULES:
        if (result := rule(facts)) is not None:
            return result
    return TagResult(
        "unknown",
        "no_data",
        "No staff numbers, turnover, balance sheet total or accounts category "
        "is recorded.",
        "low",
    )


def _public_by_type(facts: SupplierFacts) -> TagResult | None:
    if _type(facts) != "public_body":
        return None
    return TagResult("public_sector", "registry", "Recorded as a public body.", "high")


def _public_by_name(facts: SupplierFacts) -> TagResult | None:
    kind = _public_name(facts)
    if kind is None:
        return None
    evidence = (
        f"The name suggests {kind}; only the name says so, so an officer should "
        "confirm it."
    )
    return TagResult("public_sector", "name_rule", evidence, "low")


def _large_group(facts: SupplierFacts) -> TagResult | None:
    if facts.part_of_large_group is not True:
        return None
    evidence = (
        "Recorded as part of a large group: a subsidiary of a large group is not "
        "an SME, whatever its own size."
    )
    return TagResult("large", "registry", evidence, "high")


def _plc(facts: SupplierFacts) -> TagResult | None:
    if _type(facts) == "plc" or _category(facts) == "plc":
        source, how = "registry", "Recorded as a public limited company (PLC)"
    elif _type(facts) in _UNSURE_TYPES and _name_form(facts) == "plc":
        source, how = "name_rule", "The name ends in PLC"
    else:
        return None
    evidence = f"{how}: PLCs are counted as large, not as SMEs."
    return TagResult("large", source, evidence, "medium")


def _by_figures(facts: SupplierFacts) -> TagResult | None:
    figures = _figures(facts)
    if not figures.any:
        return None
    value, meaning = _band_of(figures)
    evidence = f"Recorded {_described(figures)}: {meaning}."
    # The figures are the supplier record's, as entered (by an officer, say).
    if _certain(figures, value):
        return TagResult(value, "declaration", evidence, "high")
    evidence += f" Not certain without the {_missing(figures)}."
    confidence = "medium" if figures.employees is not None else "low"
    return TagResult(value, "declaration", evidence, confidence)


def _band_of(figures: _Figures) -> tuple[str, str]:
    """The smallest band whose tests the recorded figures pass, else large."""
    for band in _BANDS:
        if _passes_recorded(figures, band):
            return band.value, band.meaning
    return "large", _NOT_SME


def _certain(figures: _Figures, value: str) -> bool:
    """True if no missing figure could change the band."""
    for band in _BANDS:
        if band.value == value:
            return _passes_surely(figures, band)
        if not _fails_surely(figures, band):
            return False
    return True


def _passes_recorded(figures: _Figures, band: _Band) -> bool:
    """The band's tests on the figures recorded; a missing figure does not fail."""
    staff = figures.employees is None or figures.employees < band.staff
    money = [
        value <= limit
        for value, limit in _money_limits(figures, band)
        if value is not None
    ]
    return staff and (not money or any(money))


def _passes_surely(figures: _Figures, band: _Band) -> bool:
    """The band's tests as they would pass whatever the missing figures were."""
    if figures.employees is None or figures.employees >= band.staff:
        return False
    return any(
        value is not None and value <= limit
        for value, limit in _money_limits(figures, band)
    )


def _fails_surely(figures: _Figures, band: _Band) -> bool:
    """The band's tests as they would fail whatever the missing figures were."""
    if figures.employees is not None and figures.employees >= band.staff:
        return True
    return all(
        value is not None and value > limit
        for value, limit in _money_limits(figures, band)
    )


def _money_limits(figures: _Figures, band: _Band) -> tuple[tuple, tuple]:
    return (
        (figures.turnover, band.turnover),
        (figures.balance_sheet, band.balance_sheet),
    )


def _described(figures: _Figures) -> str:
    parts = []
    if figures.employees is not None:
        parts.append(f"{figures.employees:,} staff")
    if figures.turnover is not None:
        parts.append(f"turnover {_pounds(figures.turnover)}")
    if figures.balance_sheet is not None:
        parts.append(f"balance sheet total {_pounds(figures.balance_sheet)}")
    return _listed(parts)


def _missing(figures: _Figures) -> str:
    names = [
        name
        for name, value in (
            ("staff numbers", figures.employees),
            ("turnover", figures.turnover),
            ("balance sheet total", figures.balance_sheet),
        )
        if value is None
    ]
    return _listed(names, "or")


def _figures(facts: SupplierFacts) -> _Figures:
    staff = _decimal(facts.employees)
    return _Figures(
        employees=int(staff) if staff is not None and staff == int(staff) else None,
        turnover=_decimal(facts.turnover),
        balance_sheet=_decimal(facts.balance_sheet_total),
    )


# Companies House Accounts.AccountCategory → (size, what the evidence says).
_ACCOUNTS: dict[str, tuple[str, str]] = {
    "MICRO ENTITY": ("micro", "suggests a micro business"),
    "SMALL": ("small", "suggests a small business"),
    "TOTAL EXEMPTION FULL": ("small", "suggests a small business"),
    "TOTAL EXEMPTION SMALL": ("small", "suggests a small business"),
    "UNAUDITED ABRIDGED": ("small", "suggests a small business"),
    "AUDITED ABRIDGED": ("small", "suggests a small business"),
    "MEDIUM": ("medium", "suggests a medium-sized business"),
    "FULL": (
        "large",
        "suggests a large business, though medium-sized companies file FULL "
        "accounts too",
    ),
    "GROUP": (
        "large",
        "suggests a large business, though smaller groups can file GROUP accounts too",
    ),
}
_SUBSIDIARY_ACCOUNTS = ("AUDIT EXEMPTION SUBSIDIARY", "FILING EXEMPTION SUBSIDIARY")


def _by_accounts(facts: SupplierFacts) -> TagResult | None:
    category = " ".join(clean_text(facts.accounts_category).upper().split())
    if category in _SUBSIDIARY_ACCOUNTS:
        evidence = (
            f"Accounts category {category} shows a subsidiary whose parent "
            "guarantees it, so its size depends on its group; record the group "
            "to decide."
        )
        return TagResult("unknown", "registry", evidence, "low")
    if category not in _ACCOUNTS:
        return None
    value, meaning = _ACCOUNTS[category]
    evidence = (
        f"Companies House accounts category {category} {meaning}; a weaker "
        "signal than staff and turnover."
    )
    return TagResult(value, "registry", evidence, "low")


def _sole_trader(facts: SupplierFacts) -> TagResult | None:
    if _type(facts) != "sole_trader":
        return None
    evidence = (
        "A sole trader, almost always a micro business; record staff numbers "
        "to confirm."
    )
    return TagResult("micro", "registry", evidence, "low")


def _no_accounts(facts: SupplierFacts) -> TagResult | None:
    category = clean_text(facts.accounts_category).upper()
    if not category:
        return None
    evidence = f"Companies House accounts category {category} says nothing about size."
    return TagResult("unknown", "registry", evidence, "low")


_SIZE_RULES: tuple[Callable[[SupplierFacts], TagResult | None], ...] = (
    _public_by_type,
    _large_group,
    _plc,
    _public_by_name,
    _by_figures,
    _by_accounts,
    _sole_trader,
    _no_accounts,
)


# ============================================================================= VCSE

_REGISTERS = {
    "GB-CHC": "Charity Commission for England and Wales",
    "GB-SC": "Scottish Charity Regulator",
    "GB-NIC": "Charity Commission for Northern Ireland",
}


def classify_vcse(facts: SupplierFacts) -> TagResult:
    """yes, no or unknown: is the supplier a voluntary, community or social
    enterprise?"""
    return _memoised(_VCSE_MEMO, _vcse_key(facts), _classify_vcse, facts)


def _vcse_key(facts: SupplierFacts) -> tuple:
    """Everything the VCSE rules read."""
    name = _name(facts)
    return (
        clean_text(facts.organisation_type),
        clean_text(facts.company_category),
        clean_text(facts.charity_number),
        clean_text(facts.charity_register),
        name.form,
        name.public,
        name.society,
    )


def _classify_vcse(facts: SupplierFacts) -> TagResult:
    for rule in _VCSE_RULES:
        if (result := rule(facts)) is not None:
            return result
    return TagResult(
        "unknown",
        "no_data",
        "Nothing recorded shows whether this is a charity, social enterprise or "
        "other VCSE.",
        "low",
    )


def _charity_number(facts: SupplierFacts) -> TagResult | None:
    number = clean_text(facts.charity_number).upper()
    if not re.search(r"[1-9]", number):
        return None
    register = _REGISTERS.get(clean_text(facts.charity_register).upper())
    if register is None and number.startswith("SC"):
        register = _REGISTERS["GB-SC"]
    where = f"{register}, number {number}" if register else f"number {number}"
    evidence = f"A registered charity ({where})."
    return TagResult("yes", "registry", evidence, "high")


def _vcse_public_body(facts: SupplierFacts) -> TagResult | None:
    if _type(facts) != "public_body":
        return None
    evidence = "Recorded as a public body, which is not a VCSE."
    return TagResult("no", "registry", evidence, "high")


_VCSE_FORMS = {
    "charity": ("a charity, but no charity number is recorded", "medium"),
    "cio": ("a charitable incorporated organisation", "high"),
    "cic": ("a community interest company (CIC)", "high"),
    "community_benefit": ("a community benefit society", "high"),
    "cooperative": ("a co-operative", "high"),
    "society": (
        "a registered society (a co-operative or community benefit society)",
        "high",
    ),
}


def _vcse_form(facts: SupplierFacts) -> TagResult | None:
    for form, where in _forms(facts):
        if form in _VCSE_FORMS:
            kind, confidence = _VCSE_FORMS[form]
            evidence = f"{where} {kind}."
            return TagResult("yes", "registry", evidence, confidence)
    return None


_VCSE_NAMES = {
    "cic": "The name ends in CIC or Community Interest Company, which only "
    "community interest companies may use.",
    "cio": "The name ends in CIO, the mark of a charitable incorporated "
    "organisation; add its charity number to confirm.",
}


def _vcse_name(facts: SupplierFacts) -> TagResult | None:
    evidence = _VCSE_NAMES.get(_name_form(facts))
    if evidence is None:
        return None
    return TagResult("yes", "name_rule", evidence, "medium")


def _guarantee(facts: SupplierFacts) -> TagResult | None:
    if "guarantee" not in (_type(facts), _category(facts)):
        return None
    evidence = (
        "A company limited by guarantee is a VCSE only if its purposes are "
        "charitable or social; an officer should confirm them."
    )
    return TagResult("unknown", "registry", evidence, "low")


_NOT_VCSE_FORMS = {
    "private_company": "a private company",
    "plc": "a public limited company",
    "llp": "a limited liability partnership",
    "partnership": "a partnership",
    "sole_trader": "a sole trader",
}


def _plain_business(facts: SupplierFacts) -> TagResult | None:
    for form, where in _forms(facts):
        if form in _NOT_VCSE_FORMS:
            evidence = f"{where} {_NOT_VCSE_FORMS[form]}, not a VCSE form."
            return TagResult("no", "registry", evidence, "medium")
    return None


def _vcse_public_name(facts: SupplierFacts) -> TagResult | None:
    kind = _public_name(facts)
    if kind is None:
        return None
    evidence = (
        f"The name suggests {kind}, which is not a VCSE; an officer should confirm."
    )
    return TagResult("no", "name_rule", evidence, "low")


def _business_name(facts: SupplierFacts) -> TagResult | None:
    form = _name_form(facts)
    if form not in ("plc", "llp") or _type(facts) not in _UNSURE_TYPES:
        return None
    kind = _NOT_VCSE_FORMS[form]
    evidence = f"The name shows {kind}, not a VCSE form."
    return TagResult("no", "name_rule", evidence, "low")


def _society_name(facts: SupplierFacts) -> TagResult | None:
    if _type(facts) not in _UNSURE_TYPES or not _name(facts).society:
        return None
    evidence = (
        "The name suggests a co-operative or community benefit society; an "
        "officer should confirm its registration."
    )
    return TagResult("yes", "name_rule", evidence, "low")


_SOCIETY_NAME = re.compile(
    r"\b(community benefit society|co operative|cooperative|co op)\b"
)

_VCSE_RULES: tuple[Callable[[SupplierFacts], TagResult | None], ...] = (
    _charity_number,
    _vcse_public_body,
    _vcse_form,
    _vcse_name,
    _guarantee,
    _plain_business,
    _vcse_public_name,
    _business_name,
    _society_name,
)


# ====================================================================== Living Wage


def classify_living_wage(
    facts: SupplierFacts, accredited: Mapping[str, date]
) -> TagResult:
    """yes or unknown: not being on the list is no evidence of not paying it.

    `accredited` maps normalised names (spend.values.normalise_name) from the
    Living Wage Foundation's accredited-employer snapshot to the snapshot's date.
    """
    return living_wage_rule(accredited)(facts)


def living_wage_rule(
    accredited: Mapping[str, date],
) -> Callable[[SupplierFacts], TagResult]:
    """`classify_living_wage` against one list, for many suppliers: the list's date
    is found once, not once per supplier. The list must not change while in use."""
    unlisted: list[TagResult] = []

    def rule(facts: SupplierFacts) -> TagResult:
        listed = _listed_on(_name(facts).key, accredited)
        if listed is not None:
            return listed
        if facts.living_wage_accredited is True:
            return _DECLARED
        if not unlisted:
            unlisted.append(_not_listed(accredited))
        return unlisted[0]

    return rule


_DECLARED = TagResult(
    "yes",
    "declaration",
    "The supplier's details record it as an accredited real Living Wage employer.",
    "medium",
)


def _not_listed(accredited: Mapping[str, date]) -> TagResult:
    dates = [d for d in accredited.values() if isinstance(d, date)]
    if not dates:
        evidence = "No Living Wage Foundation accredited-employer list is loaded."
        return TagResult("unknown", "no_data", evidence, "low")
    evidence = (
        "Not on the Living Wage Foundation's accredited-employer list of "
        f"{_day(max(dates))}; that is not evidence that it does not pay the Real "
        "Living Wage."
    )
    return TagResult("unknown", "accredited_list", evidence, "low")


def living_wage_keys(facts: SupplierFacts) -> set[str]:
    """The names `living_wage_rule` looks the supplier up by in the accredited
    list: its normalised name, and that name without its company form."""
    key = _name(facts).key
    return {key, _without_forms(key)} - {""} if key else set()


def _listed_on(key: str, accredited: Mapping[str, date]) -> TagResult | None:
    if not key:
        return None
    if key in accredited:
        return _on_list(accredited[key], "", "high")
    bare = _without_forms(key)
    if bare and bare != key and bare in accredited:
        how = " (matched ignoring the company form, such as Ltd)"
        return _on_list(accredited[bare], how, "medium")
    return None


def _on_list(taken: object, how: str, confidence: str) -> TagResult:
    when = f" of {_day(taken)}" if isinstance(taken, date) else ""
    evidence = f"On the Living Wage Foundation's accredited-employer list{when}{how}."
    return TagResult("yes", "accredited_list", evidence, confidence)


_COMPANY_FORMS = frozenset({"ltd", "plc", "llp", "lp", "cic", "cio", "co", "uk"})


def _without_forms(key: str) -> str:
    words = key.split()
    while len(words) > 1 and words[-1] in _COMPANY_FORMS:
        words.pop()
    return " ".join(words)


def _day(when: date) -> str:
    return f"{when.day} {when:%B %Y}"


# ========================================================================== helpers

_UNSURE_TYPES = frozenset({"", "unknown"})

# CompanyCategory text (case-folded) → a form, checked in order.
_CATEGORY_FORMS = (
    ("community interest company", "cic"),
    ("charitable incorporated organisation", "cio"),
    ("registered society", "society"),
    ("industrial and provident", "society"),
    ("co-operative", "cooperative"),
    ("community benefit", "community_benefit"),
    ("guar", "guarantee"),
    ("lbg", "guarantee"),
    ("public limited company", "plc"),
    ("limited liability partnership", "llp"),
    ("limited partnership", "partnership"),
    ("private limited company", "private_company"),
    ("private unlimited", "private_company"),
)


def _forms(facts: SupplierFacts) -> tuple[tuple[str, str], ...]:
    """The recorded type and the Companies House category, each with its lead."""
    return (
        (_type(facts), "Recorded as"),
        (_category(facts), "Companies House lists it as"),
    )


def _type(facts: SupplierFacts) -> str:
    return clean_text(facts.organisation_type).lower()


@lru_cache(maxsize=1024)
def _category_form(category: str) -> str:
    folded = category.casefold()
    return next((form for text, form in _CATEGORY_FORMS if text in folded), "")


def _category(facts: SupplierFacts) -> str:
    return _category_form(clean_text(facts.company_category))


_NAME_FORMS = (
    (re.compile(r"\b(cic|community interest co)$"), "cic"),
    (re.compile(r"\b(cio|charitable incorporated organisation)$"), "cio"),
    (re.compile(r"\bplc$"), "plc"),
    (re.compile(r"\bllp$"), "llp"),
)
_FORM_ENDINGS = (
    "cic",
    "community interest co",
    "cio",
    "charitable incorporated organisation",
    "plc",
    "llp",
)


@dataclass(frozen=True)
class _Name:
    key: str  # normalise_name's form
    form: str  # "cic", "cio", "plc", "llp" or ""
    public: str | None  # the kind of public body it suggests, if any
    society: bool  # suggests a co-operative or community benefit society


def _name(facts: SupplierFacts) -> _Name:
    return _read_name(clean_text(facts.name))


@lru_cache(maxsize=65536)
def _read_name(text: str) -> _Name:
    # Cached: the three classifiers read each supplier's name.
    key = normalise_name(text)
    business = key.rpartition(" ")[2] in _BUSINESS_ENDINGS
    return _Name(
        key=key,
        form=_form_of(key),
        public=None if business else _public_kind(key),
        society=bool(_SOCIETY_NAME.search(key)),
    )


def _form_of(key: str) -> str:
    # Each pattern ends in $, which matches at the end or before a final newline.
    if not key.endswith(_FORM_ENDINGS) and not key.endswith("\n"):
        return ""
    return next((f for pattern, f in _NAME_FORMS if pattern.search(key)), "")


def _name_form(facts: SupplierFacts) -> str:
    return _name(facts).form


# Names that suggest a public body, matched against normalise_name's output. Used
# only when the type is unknown or "guarantee" (academy trusts), and never for a
# name ending in a company form such as Ltd.
_PUBLIC_NAMES = (
    (
        r"\b(borough|county|district|city|town|parish|metropolitan|combined) "
        r"council\b|\bcouncil$|^council of the\b|\bcombined authority\b",
        "a council",
    ),
    (
        r"\bnhs\b|\bclinical commissioning group\b|\bintegrated care board\b"
        r"|\bhealth board\b|\bambulance service\b",
        "an NHS body",
    ),
    (
        r"^(department (for|of)|ministry of)\b|^hmrc$|^(cabinet|home) office$"
        r"|^(hm|his majestys|her majestys) (revenue|treasury|courts|land registry"
        r"|prison|passport)\b",
        "a government department",
    ),
    (
        r"\b(primary|junior|infant|infants|nursery|high|secondary|grammar"
        r"|community|special|first|middle|ce|c of e|church of england|catholic"
        r"|rc|academy) schools?\b|\bacadem(y|ies) trust\b|\bsixth form college\b",
        "a state school or academy trust",
    ),
    (r"\b(police|constabulary|chief constable)\b", "a police body"),
    (r"\bfire (and rescue|authority)\b", "a fire and rescue authority"),
)
_PUBLIC_PATTERNS = tuple((re.compile(p), kind) for p, kind in _PUBLIC_NAMES)
_PUBLIC_NAME_TYPES = frozenset({"", "unknown", "guarantee"})
_BUSINESS_ENDINGS = frozenset({"ltd", "plc", "llp", "lp", "cic", "cio", "llc", "inc"})


def _public_name(facts: SupplierFacts) -> str | None:
    if _type(facts) not in _PUBLIC_NAME_TYPES:
        return None
    return _name(facts).public


def _public_kind(key: str) -> str | None:
    return next((kind for p, kind in _PUBLIC_PATTERNS if p.search(key)), None)


# classify_size and classify_vcse read a supplier's facts only through a few
# derived values: the cleaned texts, the name's company form and public-body hint,
# and the figures. Suppliers share those far more often than names (a register of
# 50,000 has a few thousand combinations), so each rule's result is memoised on
# them. The memos are bounded, and hold only immutable TagResults.
_MEMO_LIMIT = 65536
_SIZE_MEMO: dict[tuple, TagResult] = {}
_VCSE_MEMO: dict[tuple, TagResult] = {}
_ODD = object()  # a figure of a type whose exact value is not cheap to key on
_EXACT_TYPES = frozenset({int, float, Decimal, bool})


def _memoised(
    memo: dict[tuple, TagResult],
    key: tuple | None,
    rule: Callable[[SupplierFacts], TagResult],
    facts: SupplierFacts,
) -> TagResult:
    if key is None:
        return rule(facts)
    result = memo.get(key)
    if result is None:
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        result = memo[key] = rule(facts)
    return result


def _exactly(value: object) -> object:
    """A key telling apart any two figures the rules could read differently
    (1 from True, 0 from -0.0, whose evidence differs), else _ODD."""
    if value is None:
        return None
    kind = type(value)
    if kind in _EXACT_TYPES:
        return kind, str(value)
    return _ODD


def _decimal(value: object) -> Decimal | None:
    """A finite, non-negative number as a Decimal, else None (booleans too)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        return None
    if not number.is_finite() or number < 0:
        return None
    return number


def _pounds(amount: Decimal) -> str:
    if amount == amount.to_integral_value():
        return f"£{amount:,.0f}"
    return f"£{amount:,.2f}"


def _listed(items: list[str], joiner: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {joiner} {items[-1]}"
