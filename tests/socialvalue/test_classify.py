"""The classification rules on plain values (no database)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from socialvalue.classify import (
    CONFIDENCES,
    LIVING_WAGE_VALUES,
    LOCALITY_VALUES,
    SIZE_VALUES,
    SOURCES,
    VCSE_VALUES,
    Area,
    District,
    SupplierFacts,
    TagResult,
    area_from_mapping,
    classify_living_wage,
    classify_locality,
    classify_size,
    classify_vcse,
    haversine_miles,
    living_wage_rule,
    load_districts,
    locality_rule,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DISTRICTS = load_districts(FIXTURES / "postcode_districts.csv")
COUNCILS = {
    row["fields"]["slug"]: area_from_mapping(row["fields"])
    for row in json.loads((FIXTURES / "councils.json").read_text(encoding="utf-8"))
    if row["model"] == "councils.council"
}
LUTON = COUNCILS["luton"]
MILTON_KEYNES = COUNCILS["milton-keynes"]
KNOWSLEY = COUNCILS["knowsley"]
PRESTON = COUNCILS["preston"]


def locality(postcode: str, area: Area = LUTON, authority: str | None = None):
    return classify_locality(postcode, area, DISTRICTS, authority)


def facts(**values) -> SupplierFacts:
    return SupplierFacts(**{"name": "Acme", "organisation_type": "unknown", **values})


# ---------------------------------------------------------------- reference data


def test_the_district_table_loads_centroids_and_regions():
    lu2 = DISTRICTS["LU2"]
    assert lu2.uk_region == "East of England"
    assert lu2.latitude == pytest.approx(51.8908)
    assert len(DISTRICTS) > 3000


def test_districts_without_a_centroid_are_left_out():
    assert "BF1" not in DISTRICTS
    assert "GIR" not in DISTRICTS


def test_the_presets_become_areas_with_frozensets_and_float_miles():
    assert LUTON.name == "Luton"
    assert LUTON.local_districts == frozenset({"LU1", "LU2", "LU3", "LU4"})
    assert MILTON_KEYNES.wider_radius_miles == 20.0
    assert MILTON_KEYNES.wider_centre_district == "MK9"


def test_an_area_reads_decimal_miles_and_missing_fields():
    area = area_from_mapping(
        {"name": "Somewhere", "wider_radius_miles": Decimal("12.5"), "x": 1}
    )
    assert area.wider_radius_miles == 12.5
    assert area.wider_kind == "districts"
    assert area.local_districts == frozenset()


def test_an_area_reads_codes_typed_as_text():
    area = area_from_mapping({"name": "X", "local_districts": "lu1, lu2 LU3"})
    assert area.local_districts == frozenset({"LU1", "LU2", "LU3"})


def test_haversine_gives_miles_between_centroids():
    london = District("A", 51.5074, -0.1278, "", "")
    paris = District("B", 48.8566, 2.3522, "", "")
    assert haversine_miles(london, paris) == pytest.approx(213.5, abs=1)
    assert haversine_miles(london, london) == 0


# ---------------------------------------------------------------- postcode forms


@pytest.mark.parametrize("postcode", ["LU2 7AB", "LU27AB", "lu2 7ab", " lu2  7AB "])
def test_every_spelling_of_a_full_postcode_is_read_the_same(postcode):
    result = locality(postcode)
    assert result == TagResult(
        "local",
        "postcode_rule",
        "Postcode LU2 7AB is in district LU2, inside Luton's local area.",
        "high",
    )


def test_a_district_alone_is_placed_with_medium_confidence():
    result = locality("lu2")
    assert (result.value, result.confidence) == ("local", "medium")
    assert "Only the district is recorded" in result.evidence


@pytest.mark.parametrize("postcode", ["BFPO 123", "bfpo123", "BF1 3AA"])
def test_british_forces_addresses_are_unknown(postcode):
    result = locality(postcode)
    assert result.value == "unknown"
    assert "British Forces Post Office" in result.evidence


@pytest.mark.parametrize(
    ("postcode", "place"),
    [
        ("JE2 3AB", "Jersey"),
        ("GY1 1AA", "Guernsey"),
        ("IM1 1AA", "Isle of Man"),
        ("gy1", "Guernsey"),
        ("GX11 1AA", "Gibraltar"),
        ("FIQQ 1ZZ", "Falkland Islands"),
    ],
)
def test_crown_dependencies_and_territories_are_not_uk(postcode, place):
    result = locality(postcode)
    assert (result.value, result.confidence) == ("non_uk", "high")
    assert place in result.evidence


def test_northern_ireland_is_in_the_uk():
    result = locality("BT1 1AA")
    assert result.value == "uk"
    assert "Northern Ireland" in result.evidence


def test_girobank_is_a_real_postcode_without_a_place():
    result = locality("GIR 0AA")
    assert result.value == "unknown"
    assert "not in the postcode-district table" in result.evidence


@pytest.mark.parametrize(
    ("postcode", "why"),
    [
        ("", "No postcode is recorded"),
        ("   ", "No postcode is recorded"),
        ("garbage", "not a valid UK postcode"),
        ("LU2 7AC", "not a valid UK postcode"),  # C is never in an inward code
        ("QA1 1AA", "not a valid UK postcode"),  # no area starts with Q
        ("75008", "not a valid UK postcode"),
        ("12 High Street, Luton", "not a valid UK postcode"),
    ],
)
def test_empty_and_invalid_postcodes_are_unknown_and_say_why(postcode, why):
    result = locality(postcode)
    assert (result.value, result.confidence) == ("unknown", "low")
    assert why in result.evidence
    # QA: "No postcode is recorded" was labelled "Postcode rule": with nothing
    # to read it is no data; a postcode that is not one, the rule's own finding.
    assert result.source == ("no_data" if not postcode.strip() else "postcode_rule")


def test_a_district_missing_from_the_table_is_unknown():
    result = locality("BX1 1LT")
    assert result.value == "unknown"
    assert "District BX1 is not in the postcode-district table" in result.evidence


def test_a_listed_district_is_placed_even_without_a_centroid():
    assert locality("LU95 1AA").value == "wider"


# ---------------------------------------------------------------- councils' tiers


@pytest.mark.parametrize(
    ("postcode", "area", "value"),
    [
        ("LU2 7AB", LUTON, "local"),
        ("LU2 7AB", KNOWSLEY, "uk"),
        ("LU5 4AA", LUTON, "wider"),
        ("MK40 1AA", LUTON, "wider"),
        ("SG5 1AA", LUTON, "uk"),
        ("M1 1AA", LUTON, "uk"),
        ("L36 9AA", KNOWSLEY, "local"),
        ("L1 8JQ", KNOWSLEY, "wider"),
        ("CH41 1AA", KNOWSLEY, "wider"),
        ("PR1 2HE", PRESTON, "local"),
        ("BB1 1AA", PRESTON, "wider"),
        ("FY1 1AA", PRESTON, "wider"),
        ("M1 1AA", PRESTON, "uk"),
        ("PR8 1AA", PRESTON, "uk"),
        ("MK9 3AA", MILTON_KEYNES, "local"),
        ("MK46 5AA", MILTON_KEYNES, "local"),
        ("MK17 8AA", MILTON_KEYNES, "wider"),
        ("MK40 1AA", MILTON_KEYNES, "wider"),
        ("W1A 1AA", MILTON_KEYNES, "uk"),
    ],
)
def test_the_preset_councils_place_postcodes(postcode, area, value):
    assert locality(postcode, area).value == value


def test_the_same_postcode_differs_by_council():
    values = {slug: locality("LU2 7AB", area).value for slug, area in COUNCILS.items()}
    assert values == {
        "luton": "local",
        "milton-keynes": "wider",
        "knowsley": "uk",
        "preston": "uk",
    }


def test_wider_evidence_names_the_tier():
    result = locality("MK40 1AA")
    assert result.evidence == (
        "Postcode MK40 1AA is in district MK40, inside Luton's wider area "
        "(Bedfordshire) but not its local area."
    )


def test_outside_evidence_names_the_region():
    result = locality("M1 1AA", PRESTON)
    assert "in the North West, outside Preston's local and wider areas" in (
        result.evidence
    )


def test_a_local_district_inside_the_wider_list_is_still_local():
    assert "LU1" in LUTON.wider_districts
    assert locality("LU1 1AA").value == "local"


@pytest.mark.parametrize(
    ("postcode", "value", "confidence", "miles"),
    [
        ("MK40 1AA", "wider", "high", "about 14 miles from MK9"),
        ("MK44 1AA", "wider", "high", "about 17 miles from MK9"),
        ("SG16 6AA", "wider", "medium", "about 19.3 miles from MK9"),
        ("NN6 7AA", "uk", "medium", "about 21.1 miles from MK9"),
        ("HP27 9AA", "uk", "high", "about 22 miles from MK9"),
        ("M1 1AA", "uk", "high", "about 117 miles from MK9"),
    ],
)
def test_a_radius_states_the_distance_and_doubts_the_edge(
    postcode, value, confidence, miles
):
    result = locality(postcode, MILTON_KEYNES)
    assert (result.value, result.confidence) == (value, confidence)
    assert miles in result.evidence


def test_a_radius_without_its_centre_is_unknown():
    area = replace(MILTON_KEYNES, wider_centre_district="ZZ99")
    assert locality("MK40 1AA", area).value == "unknown"


REGIONAL = Area(
    name="Lancaster",
    local_districts=frozenset({"LA1"}),
    wider_kind="region",
    wider_label="the North West",
    wider_region="North West",
)


@pytest.mark.parametrize(
    ("postcode", "value"),
    [("LA1 1AA", "local"), ("M1 1AA", "wider"), ("LU2 7AB", "uk"), ("BX1", "unknown")],
)
def test_a_region_is_the_wider_tier_by_the_districts_region(postcode, value):
    assert locality(postcode, REGIONAL).value == value


# ---------------------------------------------------------------- ONS authorities


@pytest.mark.parametrize(
    ("authority", "value"),
    [
        ("E06000032", "local"),  # Luton
        ("E06000056", "wider"),  # Central Bedfordshire, e.g. Caddington in LU1
        ("E09000001", "uk"),  # City of London
        ("e06000032", "local"),
    ],
)
def test_the_ons_authority_decides_exactly(authority, value):
    result = locality("LU1 3AA", LUTON, authority)
    assert (result.value, result.confidence) == (value, "high")
    assert "ONS postcode directory" in result.evidence


def test_an_authority_overrules_a_local_district():
    assert locality("LU1 3AA", LUTON).value == "local"
    assert locality("LU1 3AA", LUTON, "E06000056").value == "wider"


def test_an_authority_makes_a_far_postcode_local_if_the_council_says_so():
    assert locality("SG5 1AA", LUTON, "E06000032").value == "local"


@pytest.mark.parametrize("pseudo", ["L99999999", "M99999999"])
def test_ons_pseudo_codes_for_islands_are_not_uk(pseudo):
    assert locality("LU1 3AA", LUTON, pseudo).value == "non_uk"


@pytest.mark.parametrize("ignored", ["", "E99999999", "nonsense", None])
def test_empty_or_pseudo_authorities_fall_back_to_the_district(ignored):
    result = locality("LU1 3AA", LUTON, ignored)
    assert result.value == "local"
    assert "ONS" not in result.evidence


def test_a_district_rule_council_uses_the_authority_only_for_the_local_tier():
    result = locality("MK40 1AA", MILTON_KEYNES, "E06000055")
    assert result.value == "wider"
    assert "miles from MK9" in result.evidence


# -------------------------------------------------------------------------- size


@pytest.mark.parametrize(
    ("employees", "turnover", "balance_sheet", "value"),
    [
        (249, "44000000", None, "medium"),
        (250, "1000", "1000", "large"),
        (249, "44000000.01", "38000000", "medium"),
        (249, "44000000.01", "38000000.01", "large"),
        (249, None, "38000000", "medium"),
        (9, "2000000", None, "micro"),
        (9, "2000000.01", "2000000", "micro"),
        (9, "2000000.01", "2000000.01", "small"),
        (10, "100", "100", "small"),
        (49, "10000000", None, "small"),
        (49, "10000000.01", "10000000.01", "medium"),
        (50, "100", "100", "medium"),
        (0, "0", "0", "micro"),
    ],
)
def test_sme_bands_at_their_edges(employees, turnover, balance_sheet, value):
    result = classify_size(
        facts(
            employees=employees,
            turnover=Decimal(turnover) if turnover else None,
            balance_sheet_total=Decimal(balance_sheet) if balance_sheet else None,
        )
    )
    assert result.value == value
    # The figures are the supplier record's, as an officer entered them.
    assert result.source == "declaration"


def test_full_figures_give_high_confidence_and_state_the_rule():
    result = classify_size(facts(employees=12, turnover=Decimal("900000")))
    assert (result.value, result.confidence) == ("small", "high")
    assert result.evidence.startswith("Recorded 12 staff and turnover £900,000")
    assert "fewer than 50 staff" in result.evidence


def test_staff_alone_gives_a_band_with_medium_confidence():
    result = classify_size(facts(employees=5))
    assert (result.value, result.confidence) == ("micro", "medium")
    assert "Not certain without the turnover or balance sheet total" in (
        result.evidence
    )


def test_staff_alone_over_the_limit_is_certainly_large():
    result = classify_size(facts(employees=250))
    assert (result.value, result.confidence) == ("large", "high")
    assert "not an SME" in result.evidence


def test_a_missing_balance_sheet_leaves_an_over_turnover_firm_uncertain():
    result = classify_size(facts(employees=249, turnover=Decimal("44000000.01")))
    assert (result.value, result.confidence) == ("large", "medium")


def test_money_alone_gives_low_confidence():
    result = classify_size(facts(turnover=Decimal("50000000")))
    assert (result.value, result.confidence) == ("large", "low")


def test_a_small_turnover_alone_is_not_certain():
    result = classify_size(facts(employees=5, turnover=Decimal("3000000")))
    assert (result.value, result.confidence) == ("small", "medium")


def test_a_member_of_a_large_group_is_large_whatever_its_size():
    result = classify_size(
        facts(employees=3, turnover=Decimal("1000"), part_of_large_group=True)
    )
    assert (result.value, result.confidence) == ("large", "high")
    assert "a subsidiary of a large group is not an SME" in result.evidence


def test_not_being_in_a_group_changes_nothing():
    result = classify_size(facts(employees=3, part_of_large_group=False))
    assert result.value == "micro"


@pytest.mark.parametrize(
    ("values", "source"),
    [
        ({"organisation_type": "plc", "employees": 20}, "registry"),
        ({"company_category": "Public Limited Company"}, "registry"),
        ({"name": "Acme Holdings PLC"}, "name_rule"),
        ({"name": "Acme Public Limited Company"}, "name_rule"),
    ],
)
def test_plcs_are_large(values, source):
    result = classify_size(facts(**values))
    assert (result.value, result.source) == ("large", source)
    assert "PLC" in result.evidence


def test_public_bodies_by_type_are_public_sector():
    result = classify_size(facts(name="Anything", organisation_type="public_body"))
    assert (result.value, result.confidence) == ("public_sector", "high")


@pytest.mark.parametrize(
    "name",
    [
        "Luton Borough Council",
        "Central Bedfordshire Council",
        "Lancashire County Council",
        "Liverpool City Region Combined Authority",
        "Bedfordshire Hospitals NHS Foundation Trust",
        "NHS Bedfordshire, Luton and Milton Keynes Integrated Care Board",
        "Department for Education",
        "HM Revenue & Customs",
        "Ministry of Justice",
        "Stopsley High School",
        "Chiltern Learning Academy Trust",
        "Bedfordshire Police",
        "Merseyside Fire and Rescue Service",
        "Lancashire Constabulary",
    ],
)
def test_public_bodies_by_name_are_public_sector_with_low_confidence(name):
    result = classify_size(facts(name=name, employees=3000))
    assert (result.value, result.source, result.confidence) == (
        "public_sector",
        "name_rule",
        "low",
    )
    assert "an officer should confirm" in result.evidence


@pytest.mark.parametrize(
    ("name", "organisation_type"),
    [
        ("High School Musicals Ltd", "unknown"),
        ("Council Cleaning Services Ltd", "unknown"),
        ("NHS Professionals Ltd", "unknown"),
        ("Luton Borough Council", "private_company"),
        ("Police Federation", "charity"),
        ("Acme Driving School", "unknown"),
        ("Sefton Council for Voluntary Service", "unknown"),
    ],
)
def test_public_names_need_an_unknown_type_and_no_company_form(name, organisation_type):
    result = classify_size(facts(name=name, organisation_type=organisation_type))
    assert result.value != "public_sector"


@pytest.mark.parametrize(
    ("category", "value"),
    [
        ("MICRO ENTITY", "micro"),
        ("SMALL", "small"),
        ("TOTAL EXEMPTION FULL", "small"),
        ("TOTAL EXEMPTION SMALL", "small"),
        ("UNAUDITED ABRIDGED", "small"),
        ("MEDIUM", "medium"),
        ("FULL", "large"),
        ("GROUP", "large"),
        ("micro  entity", "micro"),
    ],
)
def test_the_accounts_category_is_a_weaker_signal(category, value):
    result = classify_size(
        facts(organisation_type="private_company", accounts_category=category)
    )
    assert (result.value, result.source, result.confidence) == (
        value,
        "registry",
        "low",
    )
    assert "a weaker signal than staff and turnover" in result.evidence


def test_full_accounts_say_medium_companies_file_them_too():
    result = classify_size(facts(accounts_category="FULL"))
    assert "medium-sized companies file FULL accounts too" in result.evidence


def test_figures_beat_the_accounts_category():
    result = classify_size(facts(employees=300, accounts_category="MICRO ENTITY"))
    assert (result.value, result.confidence) == ("large", "high")


@pytest.mark.parametrize(
    "category",
    [
        "DORMANT",
        "NO ACCOUNTS FILED",
        "ACCOUNTS TYPE NOT AVAILABLE",
        "AUDIT EXEMPTION SUBSIDIARY",
        "FILING EXEMPTION SUBSIDIARY",
        "",
    ],
)
def test_uninformative_accounts_categories_are_unknown(category):
    result = classify_size(
        facts(organisation_type="private_company", accounts_category=category)
    )
    assert result.value == "unknown"


def test_a_subsidiary_exemption_says_the_group_decides():
    result = classify_size(facts(accounts_category="AUDIT EXEMPTION SUBSIDIARY"))
    assert "depends on its group" in result.evidence


def test_a_sole_trader_is_probably_micro():
    result = classify_size(facts(organisation_type="sole_trader"))
    assert (result.value, result.confidence) == ("micro", "low")


@pytest.mark.parametrize(
    "organisation_type", ["unknown", "private_company", "charity", "llp"]
)
def test_no_figures_is_unknown_never_large(organisation_type):
    result = classify_size(facts(organisation_type=organisation_type))
    assert (result.value, result.source) == ("unknown", "no_data")


# -------------------------------------------------------------------------- VCSE


@pytest.mark.parametrize(
    ("number", "register", "named"),
    [
        ("1012851", "GB-CHC", "Charity Commission for England and Wales"),
        ("SC012345", "", "Scottish Charity Regulator"),
        ("SC012345", "GB-SC", "Scottish Charity Regulator"),
        ("100002", "GB-NIC", "Charity Commission for Northern Ireland"),
        ("1012851", "", "number 1012851"),
    ],
)
def test_a_charity_number_makes_a_registered_charity(number, register, named):
    result = classify_vcse(
        facts(charity_number=number, charity_register=register, name="Keech")
    )
    assert (result.value, result.source, result.confidence) == (
        "yes",
        "registry",
        "high",
    )
    assert "registered charity" in result.evidence
    assert named in result.evidence


@pytest.mark.parametrize(
    ("values", "kind", "confidence"),
    [
        ({"organisation_type": "charity"}, "a charity", "medium"),
        ({"organisation_type": "cic"}, "community interest company", "high"),
        (
            {"company_category": "Community Interest Company"},
            "community interest company",
            "high",
        ),
        (
            {"company_category": "Charitable Incorporated Organisation"},
            "charitable incorporated organisation",
            "high",
        ),
        (
            {"organisation_type": "community_benefit"},
            "community benefit society",
            "high",
        ),
        ({"organisation_type": "cooperative"}, "co-operative", "high"),
        ({"company_category": "Registered Society"}, "registered society", "high"),
    ],
)
def test_vcse_forms_from_the_type_or_company_category(values, kind, confidence):
    result = classify_vcse(facts(**values))
    assert (result.value, result.source, result.confidence) == (
        "yes",
        "registry",
        confidence,
    )
    assert kind in result.evidence


@pytest.mark.parametrize(
    ("name", "organisation_type"),
    [
        ("Luton Community Action CIC", "unknown"),
        ("Luton Community Action C.I.C.", "private_company"),
        ("Luton Community Action Community Interest Company", "unknown"),
        ("Preston Arts CIO", "unknown"),
    ],
)
def test_vcse_forms_from_the_name(name, organisation_type):
    result = classify_vcse(facts(name=name, organisation_type=organisation_type))
    assert (result.value, result.source, result.confidence) == (
        "yes",
        "name_rule",
        "medium",
    )


def test_a_co_operative_name_is_a_weak_yes():
    result = classify_vcse(facts(name="Kirkby Food Co-operative Ltd"))
    assert (result.value, result.confidence) == ("yes", "low")


@pytest.mark.parametrize(
    "values",
    [
        {"organisation_type": "guarantee"},
        {
            "company_category": "PRI/LBG/NSC (Private, Limited by guarantee, no "
            "share capital, use of 'Limited' exemption)"
        },
        {"company_category": "PRI/LTD BY GUAR/NSC (Private, limited by guarantee)"},
    ],
)
def test_a_guarantee_company_needs_an_officer_to_confirm(values):
    result = classify_vcse(facts(**values))
    assert result.value == "unknown"
    assert "an officer should confirm" in result.evidence


def test_a_guarantee_company_with_a_charity_number_is_a_charity():
    result = classify_vcse(
        facts(organisation_type="guarantee", charity_number="1012851")
    )
    assert result.value == "yes"


@pytest.mark.parametrize(
    "values",
    [
        {"organisation_type": "private_company"},
        {"organisation_type": "plc"},
        {"organisation_type": "llp"},
        {"organisation_type": "partnership"},
        {"organisation_type": "sole_trader"},
        {"company_category": "Private Limited Company"},
        {"company_category": "Limited Liability Partnership"},
    ],
)
def test_plain_businesses_are_not_vcse(values):
    result = classify_vcse(facts(**values))
    assert (result.value, result.confidence) == ("no", "medium")
    assert "not a VCSE form" in result.evidence


def test_a_plc_name_is_a_weak_no():
    result = classify_vcse(facts(name="Acme PLC"))
    assert (result.value, result.source, result.confidence) == (
        "no",
        "name_rule",
        "low",
    )


@pytest.mark.parametrize(
    "values",
    [
        {"organisation_type": "public_body"},
        {"name": "Luton Borough Council"},
    ],
)
def test_public_bodies_are_not_vcse(values):
    assert classify_vcse(facts(**values)).value == "no"


def test_a_public_body_with_a_charity_number_is_a_charity():
    result = classify_vcse(facts(name="Luton NHS Charity", charity_number="1050000"))
    assert result.value == "yes"


@pytest.mark.parametrize("number", ["", "0", "N/A", "-", "none"])
def test_an_unknown_type_with_no_signals_is_unknown(number):
    result = classify_vcse(facts(name="Acme", charity_number=number))
    assert (result.value, result.source) == ("unknown", "no_data")


# -------------------------------------------------------------------- Living Wage

SNAPSHOT = date(2025, 3, 3)
LIST = {"keech hospice care": SNAPSHOT, "acme": SNAPSHOT}


def test_a_listed_employer_is_accredited_with_the_snapshot_date():
    result = classify_living_wage(facts(name="Keech Hospice Care"), LIST)
    assert (result.value, result.source, result.confidence) == (
        "yes",
        "accredited_list",
        "high",
    )
    assert "3 March 2025" in result.evidence


def test_names_are_matched_after_normalising():
    result = classify_living_wage(facts(name="THE KEECH HOSPICE CARE"), LIST)
    assert result.value == "yes"


def test_a_company_form_is_ignored_with_medium_confidence():
    result = classify_living_wage(facts(name="Acme Limited"), LIST)
    assert (result.value, result.confidence) == ("yes", "medium")


def test_an_officers_record_counts_as_a_declaration():
    result = classify_living_wage(
        facts(name="Other", living_wage_accredited=True), LIST
    )
    assert (result.value, result.source) == ("yes", "declaration")


@pytest.mark.parametrize("recorded", [None, False])
def test_missing_from_the_list_is_unknown_never_no(recorded):
    result = classify_living_wage(
        facts(name="Other Ltd", living_wage_accredited=recorded), LIST
    )
    assert (result.value, result.source) == ("unknown", "accredited_list")
    assert result.evidence.startswith(
        "Not on the Living Wage Foundation's accredited-employer list of 3 March 2025"
    )


def test_without_a_snapshot_living_wage_is_unknown():
    result = classify_living_wage(facts(name="Keech Hospice Care"), {})
    assert (result.value, result.source) == ("unknown", "no_data")
    assert "No Living Wage Foundation accredited-employer list is loaded" in (
        result.evidence
    )


def test_the_latest_snapshot_date_is_named():
    snapshots = {"a": date(2024, 1, 5), "b": date(2025, 2, 1)}
    result = classify_living_wage(facts(name="Other"), snapshots)
    assert "1 February 2025" in result.evidence


# -------------------------------------------------------------------- robustness

ODD_FACTS = [
    facts(),
    facts(name="", organisation_type=""),
    facts(name="   ", organisation_type="UNKNOWN"),
    facts(name="***", organisation_type="something else"),
    facts(name=None, organisation_type=None, company_category=None),
    facts(employees=-5, turnover=Decimal("-1"), balance_sheet_total=Decimal("NaN")),
    facts(employees=10**12, turnover=Decimal("1E+40")),
    facts(turnover=Decimal("Infinity"), balance_sheet_total=Decimal("sNaN")),
    facts(employees=True, turnover=12.5, balance_sheet_total="lots"),
    facts(employees=7.5),
    facts(charity_number="SC", charity_register="GB-XX"),
    facts(accounts_category=None, company_status=None),
    facts(name="Ltd", organisation_type="plc", part_of_large_group=None),
    facts(name="\u200b\x00Council\ufeff", postcode="\x00"),
]
ODD_POSTCODES = [
    "",
    " ",
    "\x00",
    "LU",
    "GIR",
    "BFPO",
    "Q",
    "ZZ99 9ZZ",
    "£$%",
    "x" * 500,
]
ODD_AREAS = [
    LUTON,
    Area(name=""),
    Area(name="R", wider_kind="radius", wider_radius_miles=None),
    Area(name="Z", wider_kind="nonsense", wider_region=""),
    area_from_mapping({"local_districts": 5, "wider_radius_miles": "lots"}),
]


def _check(result: TagResult, values: tuple[str, ...]) -> None:
    assert result.value in values
    assert result.source in SOURCES
    assert result.confidence in CONFIDENCES
    assert result.evidence.strip()


@pytest.mark.parametrize("odd", ODD_FACTS)
def test_odd_facts_never_raise(odd):
    _check(classify_size(odd), SIZE_VALUES)
    _check(classify_vcse(odd), VCSE_VALUES)
    _check(classify_living_wage(odd, LIST), LIVING_WAGE_VALUES)
    odd_list = {"x": "not a date"}
    _check(classify_living_wage(odd, odd_list), LIVING_WAGE_VALUES)


@pytest.mark.parametrize("area", ODD_AREAS)
@pytest.mark.parametrize("postcode", [*ODD_POSTCODES, "LU2 7AB", "JE2 3AB", "M1"])
def test_odd_postcodes_and_areas_never_raise(postcode, area):
    _check(locality(postcode, area), LOCALITY_VALUES)
    _check(locality(postcode, area, "E06000032"), LOCALITY_VALUES)
    _check(classify_locality(postcode, area, {}), LOCALITY_VALUES)


# ------------------------------------------------------------ many at a time

MANY_POSTCODES = [
    *ODD_POSTCODES,
    None,
    12345,
    "LU2 7AB",
    "lu27ab",
    "LU2 7AB",  # again: the rule remembers it
    "LU2 8AB",  # same district, another postcode
    "LU2",
    "LU7 1AA",
    "MK9 2AB",
    "MK40 1AA",
    "MK17 8AA",  # near Milton Keynes's radius
    "NN1 1AA",
    "LA1 1AA",
    "M1 1AA",
    "L34 1AA",
    "PR1 1AA",
    "BT1 1AA",
    "JE2 3AB",
    "GY1 1AA",
    "STHL 1ZZ",
    "BFPO 57",
    "BF1 3AA",
    "BX1 1AA",
    "ZZ99 9ZZ",
]
MANY_AREAS = [*COUNCILS.values(), REGIONAL, *ODD_AREAS]


@pytest.mark.parametrize("area", MANY_AREAS)
def test_a_locality_rule_answers_as_classify_locality(area):
    rule = locality_rule(area, DISTRICTS)
    for postcode in MANY_POSTCODES * 2:
        assert rule(postcode) == locality(postcode, area)


@pytest.mark.parametrize("listed", [LIST, {}, {"x": "not a date"}])
def test_a_living_wage_rule_answers_as_classify_living_wage(listed):
    rule = living_wage_rule(listed)
    for odd in [*ODD_FACTS, facts(name="Acme Ltd"), facts(living_wage_accredited=True)]:
        assert rule(odd) == classify_living_wage(odd, listed)


SHARED_FIGURES = [
    facts(name=name, organisation_type=kind, employees=staff, turnover=money)
    for name in ["Acme", "Acme Ltd", "Acme PLC", "Acme CIC", "Luton Borough Council"]
    for kind in ["unknown", "private_company", "guarantee", "charity"]
    for staff in [None, 1, True, 1.0, 12, 400]
    for money in [None, Decimal("0"), Decimal("-0"), 0.0, -0.0, Decimal("1E+6")]
]


def test_remembered_answers_match_the_rules_whatever_the_order():
    """Size and VCSE answers are remembered for suppliers with the same figures,
    type and kind of name; figures that read differently are kept apart."""
    from socialvalue import classify

    expected = [
        (classify._classify_size(f), classify._classify_vcse(f)) for f in SHARED_FIGURES
    ]
    for order in (SHARED_FIGURES, SHARED_FIGURES[::-1]):
        classify._SIZE_MEMO.clear()
        classify._VCSE_MEMO.clear()
        answers = {id(f): (classify_size(f), classify_vcse(f)) for f in order}
        assert [answers[id(f)] for f in SHARED_FIGURES] == expected
    staff_true = classify_size(facts(employees=True, turnover=Decimal("5")))
    staff_one = classify_size(facts(employees=1, turnover=Decimal("5")))
    assert staff_true != staff_one
    assert "£-0" in classify_size(facts(turnover=-0.0)).evidence
    assert "£-0" not in classify_size(facts(turnover=0.0)).evidence


# ------------------------------------------------ the ONS directory, many at a time

# A Caddington postcode: district LU1 is counted local to Luton, but Caddington is
# in Central Bedfordshire (E06000056).
DIRECTORY = {
    "LU1 2EY": "E06000032",  # Luton
    "LU1 4DA": "E06000056",  # Caddington, Central Bedfordshire
    "MK17 8AA": "E06000042",  # Woburn Sands, Milton Keynes
    "BX1 1LT": "E99999999",  # non-geographic: a pseudo-code, no authority
}


@pytest.mark.parametrize("area", MANY_AREAS)
def test_a_rule_with_the_directory_decides_listed_postcodes_by_authority(area):
    rule = locality_rule(area, DISTRICTS, DIRECTORY)
    for postcode, authority in DIRECTORY.items():
        if authority.endswith("99999999"):
            continue
        assert rule(postcode) == locality(postcode, area, authority)
        assert rule(postcode.lower()) == locality(postcode, area, authority)


@pytest.mark.parametrize("area", MANY_AREAS)
def test_a_rule_with_the_directory_falls_back_to_the_district_and_says_so(area):
    rule = locality_rule(area, DISTRICTS, DIRECTORY)
    for postcode in ["LU1 7ZZ", "M1 1AA", "MK9 2AB", "BX1 1LT"]:
        by_district = locality(postcode, area)
        result = rule(postcode)
        assert (result.value, result.source, result.confidence) == (
            by_district.value,
            by_district.source,
            by_district.confidence,
        )
        assert result.evidence.startswith(by_district.evidence)
        assert "ONS postcode directory" in result.evidence
    assert "is not in the ONS postcode directory" in rule("LU1 7ZZ").evidence
    assert "has no local authority" in rule("BX1 1LT").evidence
    for other in ["LU1", "JE2 3AB", "", "nonsense"]:  # not full UK postcodes
        assert rule(other) == locality(other, area)


@pytest.mark.parametrize("area", MANY_AREAS)
def test_a_rule_without_a_directory_is_unchanged(area):
    rule = locality_rule(area, DISTRICTS, None)
    for postcode in MANY_POSTCODES:
        assert rule(postcode) == locality(postcode, area)


def test_a_straddling_district_is_decided_exactly_by_the_directory():
    by_district = locality_rule(LUTON, DISTRICTS)("LU1 4DA")
    assert (by_district.value, by_district.confidence) == ("local", "high")
    assert "district LU1" in by_district.evidence
    result = locality_rule(LUTON, DISTRICTS, DIRECTORY)("LU1 4DA")
    assert (result.value, result.confidence) == ("wider", "high")
    assert result.evidence.startswith(
        "The ONS postcode directory places LU1 4DA in local authority E06000056"
    )


def test_the_councils_own_gss_code_is_local_by_the_directory():
    """A council with only districts and its own GSS code (no list of local
    authority codes) still decides by the exact authority."""
    luton = area_from_mapping(
        {
            "short_name": "Luton",
            "gss_code": "E06000032",
            "local_districts": ["LU1", "LU2", "LU3", "LU4"],
            "wider_districts": ["LU1", "LU2", "LU3", "LU4", "LU5", "LU6", "LU7"],
        }
    )
    assert luton.gss_code == "E06000032" and not luton.local_authority_codes
    rule = locality_rule(luton, DISTRICTS, DIRECTORY)
    own = rule("LU1 2EY")
    assert (own.value, own.confidence) == ("local", "high")
    assert own.evidence == (
        "The ONS postcode directory places LU1 2EY in local authority E06000032 "
        "(Luton), inside Luton's local area."
    )
    caddington = rule("LU1 4DA")
    assert caddington.value == "wider"
    assert caddington.evidence == (
        "The ONS postcode directory places LU1 4DA in local authority E06000056, "
        "outside Luton's local area; by its district LU1 it is inside Luton's "
        "wider area (its wider tier) but not its local area."
    )


def test_the_directory_makes_a_left_out_straddling_district_local():
    """MK17 is left out of Milton Keynes's local districts, but Woburn Sands is in
    Milton Keynes; the radius still places the rest of MK17."""
    assert locality_rule(MILTON_KEYNES, DISTRICTS)("MK17 8AA").value == "wider"
    rule = locality_rule(MILTON_KEYNES, DISTRICTS, DIRECTORY)
    assert rule("MK17 8AA").value == "local"
    assert rule("MK17 9ZZ").value == "wider"
