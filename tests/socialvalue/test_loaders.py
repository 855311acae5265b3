"""Reference data loaders on the sample files in fixtures/reference/."""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from procure.models import Supplier
from socialvalue.loaders import (
    LoaderRefused,
    load_charities,
    load_companies_house,
    load_living_wage,
    load_postcodes,
)
from socialvalue.models import LivingWageEmployer, LivingWageSnapshot, Postcode

SAMPLES = Path(settings.BASE_DIR) / "fixtures" / "reference"
COMPANIES = SAMPLES / "companies_house_basic_company_data_sample.csv"
CHARITIES = SAMPLES / "charity_commission_publicextract_charity_sample.txt"
LIVING_WAGE = SAMPLES / "living_wage_employers_sample.csv"
ONSPD = SAMPLES / "onspd_sample.csv"
NSPL = SAMPLES / "nspl_sample.csv"
LW_DATE = date(2025, 4, 1)


def _state() -> list[tuple]:
    """Everything the loaders may change, to compare before and after."""
    suppliers = list(Supplier.objects.order_by("pk").values_list())
    history = Supplier.history.count()
    employers = list(
        LivingWageEmployer.objects.order_by("pk").values_list(
            "snapshot_id", "name", "normalised_name", "location"
        )
    )
    snapshots = list(LivingWageSnapshot.objects.values_list("pk", "taken_on"))
    postcodes = list(Postcode.objects.order_by("pk").values_list())
    return [suppliers, history, employers, snapshots, postcodes]


@pytest.fixture
def register(make_supplier):
    """A supplier register that meets the samples in every way a loader cares about."""
    return {
        "wardown": make_supplier(
            name="Wardown Plumbing Ltd", company_number="01234567"
        ),
        "acme": make_supplier(name="Acme Office Supplies Limited", postcode="LU1 1AA"),
        "chiltern": make_supplier(name="Chiltern Cleaning Services"),
        "bright": make_supplier(name="Bright Futures Training Ltd"),
        "bakery_1": make_supplier(name="Park Street Bakery Ltd"),
        "bakery_2": make_supplier(name="Park Street Bakery Ltd"),
        "scaffolding": make_supplier(
            name="Marsh Farm Scaffolding", company_number="02345678"
        ),
        "northgate": make_supplier(
            name="Northgate Facilities",
            company_number="03456789",
            company_status="Dissolved",
            accounts_category="SMALL",
            postcode="LU1 2EY",
            address="Officer's address, Luton",
        ),
        "foodbank": make_supplier(name="Luton Foodbank"),
        "wildlife": make_supplier(name="Bedfordshire Wildlife Rescue Centre"),
        "day_centre": make_supplier(
            name="Dunstable Day Centre",
            charity_register="GB-CHC",
            charity_number="1100005",
            postcode="LU6 3AB",
            turnover=Decimal("50000.00"),
        ),
        "marsh_farm": make_supplier(
            name="Marsh Farm Community Association",
            charity_register="GB-CHC",
            charity_number="1100003",
        ),
        "hightown": make_supplier(name="Hightown Youth Trust"),
        "stopsley": make_supplier(name="Stopsley Carpets"),
    }


def _fresh(supplier: Supplier) -> Supplier:
    return Supplier.objects.get(pk=supplier.pk)


# ================================================================ Companies House


def test_companies_house_matches_by_company_number_first(register):
    report = load_companies_house(COMPANIES)

    wardown = _fresh(register["wardown"])
    assert wardown.company_category == "Private Limited Company"
    assert wardown.company_status == "Active"
    assert wardown.accounts_category == "MICRO ENTITY"
    assert wardown.sic_codes == "43220"
    assert report.rows_read == 14
    # Wardown, Marsh Farm Scaffolding (its number lost a leading zero in the file)
    # and Northgate.
    assert report.matched_by_number == 3


def test_a_company_number_without_its_leading_zero_still_matches(register):
    load_companies_house(COMPANIES)

    assert _fresh(register["scaffolding"]).company_status == "Liquidation"


def test_companies_house_then_matches_by_exact_normalised_name_and_fills_the_number(
    register,
):
    report = load_companies_house(COMPANIES)

    acme = _fresh(register["acme"])
    assert acme.company_number == "07654321"
    assert acme.sic_codes == "46650, 47620"
    assert _fresh(register["hightown"]).company_number == "05555555"
    assert report.matched_by_name == 2
    assert any('"Acme Office Supplies Limited"' in n for n in report.matched_names)


def test_companies_house_owns_category_status_and_accounts_and_overwrites_them(
    register,
):
    load_companies_house(COMPANIES)

    northgate = _fresh(register["northgate"])
    assert northgate.company_status == "Active"
    assert northgate.accounts_category == "GROUP"
    assert northgate.company_category == "Public Limited Company"


def test_an_officers_postcode_and_address_are_never_overwritten_but_reported(
    register,
):
    report = load_companies_house(COMPANIES)

    northgate = _fresh(register["northgate"])
    assert (northgate.postcode, northgate.address) == (
        "LU1 2EY",
        "Officer's address, Luton",
    )
    assert _fresh(register["acme"]).postcode == "LU1 1AA"
    assert any(
        "Kept the postcode LU1 1AA" in note and "MK9 2FZ" in note
        for note in report.notes
    )


def test_a_blank_postcode_is_filled_with_the_registered_office(register):
    load_companies_house(COMPANIES)

    wardown = _fresh(register["wardown"])
    assert wardown.postcode == "LU2 7AB"
    assert wardown.address == "12 Old Bedford Road, LUTON, BEDFORDSHIRE, LU2 7AB"


def test_companies_house_near_matches_are_reported_for_an_officer_not_applied(
    register,
):
    suppliers = Supplier.objects.count()

    report = load_companies_house(COMPANIES)

    near = {m.supplier_name: m for m in report.near_matches}
    assert set(near) == {
        "Chiltern Cleaning Services",
        "Bright Futures Training Ltd",
        "Stopsley Carpets",
    }
    assert near["Chiltern Cleaning Services"].score == 100
    assert "company 09876543" in near["Chiltern Cleaning Services"].reference
    assert _fresh(register["chiltern"]).company_number == ""
    assert Supplier.objects.count() == suppliers  # nothing invented
    assert any("3 near matches to confirm" in line for line in report.lines())


def test_a_name_shared_by_two_suppliers_is_not_matched_but_reported(register):
    report = load_companies_house(COMPANIES)

    assert _fresh(register["bakery_1"]).company_number == ""
    assert _fresh(register["bakery_2"]).company_number == ""
    assert report.skipped["name shared by several suppliers"] == 1
    assert any("merge them first" in note for note in report.notes)


def test_companies_house_rows_without_a_number_or_too_short_are_skipped_with_reasons(
    register,
):
    report = load_companies_house(COMPANIES)

    assert report.skipped["no company number"] == 1
    assert report.skipped["fewer columns than the heading's 55"] == 1


def test_loading_companies_house_twice_changes_nothing_the_second_time(register):
    first = load_companies_house(COMPANIES)
    state = _state()

    second = load_companies_house(COMPANIES)

    assert first.changes == 5
    assert second.changes == 0
    assert second.unchanged == 5
    assert _state() == state


def test_companies_house_changes_are_kept_in_the_suppliers_history(register):
    load_companies_house(COMPANIES)

    latest = _fresh(register["acme"]).history.first()
    assert latest.history_change_reason.startswith("Companies House data")
    assert latest.company_number == "07654321"


def test_a_companies_house_dry_run_reports_but_changes_nothing(register):
    state = _state()

    report = load_companies_house(COMPANIES, dry_run=True)

    assert report.updated == 5
    assert _state() == state


def test_a_zip_holding_the_companies_house_csv_is_read(register, tmp_path):
    archive = tmp_path / "BasicCompanyDataAsOneFile-2025-06-01.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(COMPANIES, "BasicCompanyDataAsOneFile-2025-06-01.csv")

    report = load_companies_house(archive)

    assert (report.rows_read, report.matched_by_number) == (14, 3)


def test_a_file_that_is_not_companies_house_data_is_refused_naming_the_columns(db):
    with pytest.raises(LoaderRefused) as refused:
        load_companies_house(LIVING_WAGE)

    message = str(refused.value)
    assert message.startswith("This is not a Companies House basic company data file")
    for column in ("CompanyName", "CompanyNumber", "RegAddress.PostCode"):
        assert column in message
    assert "Employer, Location, Sector" in message


def test_the_companies_house_command_prints_its_report(register, capsys):
    call_command("load_companies_house", str(COMPANIES))

    out = capsys.readouterr().out
    assert "matched by number" in out
    assert "3 near matches to confirm" in out
    assert "Chiltern Cleaning Services" in out


def test_the_companies_house_command_refuses_a_wrong_file_without_a_traceback(db):
    with pytest.raises(CommandError, match="CompanyNumber"):
        call_command("load_companies_house", str(ONSPD))


def test_a_missing_file_is_refused_with_a_message(db, tmp_path):
    with pytest.raises(CommandError, match="There is no file"):
        call_command("load_companies_house", str(tmp_path / "nothing.csv"))


def test_a_web_page_saved_as_csv_is_refused(db, tmp_path):
    page = tmp_path / "BasicCompanyData.csv"
    page.write_text("<!DOCTYPE html><html><body>Service unavailable</body></html>")

    with pytest.raises(LoaderRefused, match="web page"):
        load_companies_house(page)


def test_near_matches_can_be_written_to_csv_for_an_officer(register, tmp_path):
    out = tmp_path / "near.csv"

    call_command("load_companies_house", str(COMPANIES), near_matches=str(out))

    lines = out.read_text().splitlines()
    assert lines[0] == "supplier_id,supplier_name,registry_name,reference,score"
    assert len(lines) == 4


# ======================================================================= charities


def test_charities_match_by_charity_number_first(register):
    report = load_charities(CHARITIES)

    assert report.matched_by_number == 1  # Dunstable Day Centre
    assert report.rows_read == 8


def test_charities_then_match_by_the_charitys_company_number(register):
    load_companies_house(COMPANIES)  # gives Hightown Youth Trust 05555555

    report = load_charities(CHARITIES)

    hightown = _fresh(register["hightown"])
    assert (hightown.charity_register, hightown.charity_number) == ("GB-CHC", "1100001")
    assert report.matched_by_number == 2


def test_charities_then_match_by_exact_name_and_fill_the_number_and_blanks(register):
    report = load_charities(CHARITIES)

    foodbank = _fresh(register["foodbank"])
    assert (foodbank.charity_register, foodbank.charity_number) == ("GB-CHC", "1100002")
    assert foodbank.postcode == "LU4 8EU"
    assert foodbank.turnover == Decimal("98000.00")
    # Hightown matches by name too when it has no company number yet; its company
    # number is filled in from the register.
    assert _fresh(register["hightown"]).company_number == "05555555"
    assert report.matched_by_name == 2


def test_a_charitys_officer_entered_postcode_and_turnover_are_kept(register):
    report = load_charities(CHARITIES)

    centre = _fresh(register["day_centre"])
    assert centre.postcode == "LU6 3AB"
    assert centre.turnover == Decimal("50000.00")
    assert centre.company_number == "03333333"  # blank, so filled
    assert any("Kept the postcode LU6 3AB" in note for note in report.notes)


def test_linked_and_removed_charities_are_skipped_and_a_held_removed_number_noted(
    register,
):
    report = load_charities(CHARITIES)

    assert report.skipped["linked charity (part of a main charity)"] == 1
    assert report.skipped["removed from the register"] == 1
    assert report.skipped["no charity number"] == 1
    assert any(
        "1100003" in note and "removed from the register on 2019-03-31" in note
        for note in report.notes
    )


def test_a_supplier_merged_into_another_is_left_out_of_name_matching(
    register, make_supplier
):
    make_supplier(name="Luton Foodbank", merged_into=register["foodbank"])

    report = load_charities(CHARITIES)

    assert _fresh(register["foodbank"]).charity_number == "1100002"
    assert report.skipped["name shared by several suppliers"] == 0


def test_charity_near_matches_are_reported_not_applied(register):
    report = load_charities(CHARITIES)

    assert [m.supplier_name for m in report.near_matches] == [
        "Bedfordshire Wildlife Rescue Centre"
    ]
    assert _fresh(register["wildlife"]).charity_number == ""


def test_a_company_number_held_by_another_supplier_is_not_given_to_a_charity(
    register, make_supplier
):
    make_supplier(name="Day Centre Trading Ltd", company_number="03333333")

    report = load_charities(CHARITIES)

    assert _fresh(register["day_centre"]).company_number == ""
    assert any("which supplier" in note for note in report.notes)


def test_loading_charities_twice_changes_nothing_the_second_time(register):
    first = load_charities(CHARITIES)
    state = _state()

    second = load_charities(CHARITIES)

    assert first.changes == 3
    assert second.changes == 0
    assert _state() == state


def test_a_file_that_is_not_the_charity_register_is_refused_naming_the_columns(db):
    with pytest.raises(LoaderRefused) as refused:
        load_charities(COMPANIES)

    message = str(refused.value)
    assert "registered_charity_number" in message
    assert "charity_name" in message
    assert "CompanyName" in message  # what the file has instead


def test_the_charities_command_prints_its_report(register, capsys):
    call_command("load_charities", str(CHARITIES))

    out = capsys.readouterr().out
    assert "Charity Commission register" in out
    assert "1 near matches to confirm" in out


# ===================================================================== Living Wage


def test_the_living_wage_list_becomes_a_snapshot_of_normalised_employers(db):
    report = load_living_wage(LIVING_WAGE, taken_on=LW_DATE)

    snapshot = LivingWageSnapshot.objects.get()
    assert (snapshot.taken_on, snapshot.file_name) == (
        LW_DATE,
        "living_wage_employers_sample.csv",
    )
    names = set(snapshot.employers.values_list("normalised_name", "location"))
    assert ("wardown plumbing ltd", "Luton") in names
    assert ("aldwick housing group", "Chichester") in names
    assert len(names) == 7
    assert report.created == 7
    assert report.skipped == {"listed twice": 1, "no employer name": 1}


def test_living_wage_reports_suppliers_named_exactly_and_near_matches(register):
    report = load_living_wage(LIVING_WAGE, taken_on=LW_DATE)

    assert report.matched_by_name == 3  # Wardown, Luton Foodbank, Stopsley Carpets
    assert report.matched_ignoring_form == 1  # Acme Office Supplies Limited
    assert [m.supplier_name for m in report.near_matches] == [
        "Chiltern Cleaning Services"
    ]
    assert "Living Wage employer, Dunstable" in report.near_matches[0].reference


def test_living_wage_leaves_the_officers_own_record_alone(register):
    load_living_wage(LIVING_WAGE, taken_on=LW_DATE)

    assert not Supplier.objects.filter(living_wage_accredited__isnull=False).exists()


def test_loading_the_same_living_wage_list_twice_changes_nothing(register):
    load_living_wage(LIVING_WAGE, taken_on=LW_DATE)
    state = _state()

    second = load_living_wage(LIVING_WAGE, taken_on=LW_DATE)

    assert second.changes == 0
    assert second.unchanged == 7
    assert _state() == state
    assert LivingWageSnapshot.objects.count() == 1


def test_a_new_list_for_the_same_date_brings_the_snapshot_into_line(db, tmp_path):
    load_living_wage(LIVING_WAGE, taken_on=LW_DATE)
    edited = tmp_path / "lw.csv"
    edited.write_text(
        "Employer name,Town\nWARDOWN PLUMBING LTD,Luton\nNew Firm Ltd,Luton\n"
    )

    report = load_living_wage(edited, taken_on=LW_DATE)

    assert (report.created, report.updated, report.removed) == (1, 1, 6)
    assert sorted(LivingWageEmployer.objects.values_list("name", flat=True)) == [
        "New Firm Ltd",
        "WARDOWN PLUMBING LTD",
    ]


def test_a_list_for_another_date_is_a_new_snapshot(db):
    load_living_wage(LIVING_WAGE, taken_on=LW_DATE)

    report = load_living_wage(LIVING_WAGE, taken_on=date(2024, 10, 1))

    assert LivingWageSnapshot.objects.count() == 2
    assert report.created == 7
    assert any("newer list" in note for note in report.notes)


def test_a_file_without_an_employer_column_is_refused(db):
    with pytest.raises(LoaderRefused, match=r"the column Employer .* is missing"):
        load_living_wage(ONSPD, taken_on=LW_DATE)
    assert not LivingWageSnapshot.objects.exists()


def test_the_living_wage_command_needs_a_proper_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("load_living_wage", str(LIVING_WAGE), date="1/4/2025")


def test_the_living_wage_command_prints_its_report(register, capsys):
    call_command("load_living_wage", str(LIVING_WAGE), date="2025-04-01")

    out = capsys.readouterr().out
    assert "suppliers named exactly" in out
    assert "Chiltern Cleaning Services" in out


# ======================================================================= postcodes


def test_the_onspd_file_loads_postcodes_with_their_authority(db):
    report = load_postcodes(ONSPD)

    luton = Postcode.objects.get(postcode="LU1 2EY")
    assert (luton.district, luton.authority, luton.terminated) == (
        "LU1",
        "E06000032",
        False,
    )
    assert luton.latitude == pytest.approx(51.879437)
    assert luton.longitude == pytest.approx(-0.418271)
    assert Postcode.objects.get(postcode="LU1 9ZZ").terminated is True
    assert Postcode.objects.get(postcode="EC2M 2PF").district == "EC2M"
    assert (report.rows_read, report.created) == (15, 14)
    assert report.skipped == {"not a postcode": 1}


def test_postcodes_without_a_grid_reference_have_no_coordinates(db):
    load_postcodes(ONSPD)

    jersey = Postcode.objects.get(postcode="JE2 4WE")
    assert (jersey.authority, jersey.latitude, jersey.longitude) == (
        "L99999999",
        None,
        None,
    )
    assert Postcode.objects.get(postcode="ZZ9 ZZZ").latitude is None


def test_the_nspl_file_with_year_named_columns_loads_too(db):
    report = load_postcodes(NSPL)

    assert report.created == 5
    assert Postcode.objects.get(postcode="MK9 2FZ").authority == "E06000042"


def test_loading_postcodes_twice_leaves_the_same_rows_and_reports_no_changes(db):
    load_postcodes(ONSPD, batch_size=4)
    state = _state()

    second = load_postcodes(ONSPD, batch_size=4)

    assert (second.created, second.updated, second.unchanged) == (0, 0, 14)
    assert _state() == state


def test_a_changed_postcode_is_updated_in_place(db, tmp_path):
    load_postcodes(ONSPD)
    text = ONSPD.read_text().replace(",LU2 7AB,198001,,", ",LU2 7AB,198001,202403,")
    changed = tmp_path / "onspd.csv"
    changed.write_text(text)

    report = load_postcodes(changed, batch_size=3)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 13)
    assert Postcode.objects.get(postcode="LU2 7AB").terminated is True
    assert Postcode.objects.count() == 14


def test_postcodes_load_on_this_database_backend(db):
    """Run with DATABASE_URL=postgres://... to take the COPY path."""
    load_postcodes(ONSPD, batch_size=5)

    assert connection.vendor in {"sqlite", "postgresql"}
    assert Postcode.objects.filter(authority="E06000032").count() == 5


def test_a_file_that_is_not_a_postcode_directory_is_refused_naming_the_columns(db):
    with pytest.raises(LoaderRefused) as refused:
        load_postcodes(LIVING_WAGE)

    message = str(refused.value)
    for column in ("pcds", "oslaua", "lat", "long", "doterm"):
        assert column in message
    assert not Postcode.objects.exists()


def test_the_postcodes_command_prints_its_report(db, capsys):
    call_command("load_postcodes", str(ONSPD))

    out = capsys.readouterr().out
    assert "postcodes added" in out
    assert "14" in out


def test_the_postcodes_command_refuses_a_wrong_file_without_a_traceback(db):
    with pytest.raises(CommandError, match="ONS postcode directory"):
        call_command("load_postcodes", str(CHARITIES))


# ================================================== what to classify, and JSON


def test_the_report_names_the_suppliers_whose_facts_changed(register):
    first = load_companies_house(COMPANIES)

    changed = {register[n].pk for n in ("wardown", "acme", "hightown", "scaffolding")}
    assert changed <= set(first.supplier_ids)
    assert len(first.supplier_ids) == first.updated
    assert register["chiltern"].pk not in first.supplier_ids
    assert load_companies_house(COMPANIES).supplier_ids == []


def test_a_report_as_json_keeps_counts_reasons_and_near_matches(register):
    import json

    report = load_charities(CHARITIES)

    kept = json.loads(json.dumps(report.as_json()))
    assert kept["source"] == "Charity Commission register"
    assert kept["file"] == CHARITIES.name
    assert ["rows read", report.rows_read] in kept["counts"]
    assert kept["skipped"]["linked charity (part of a main charity)"] == 1
    assert kept["near_total"] == len(report.near_matches) == len(kept["near_matches"])
    assert kept["changes"] == report.changes
