"""Fuzzy supplier suggestions: near matches for an officer, without the false
positives a shared generic word ("Compliance", "Services") would bring."""

from __future__ import annotations

import pytest

from procure.models import MatchSuggestion, Supplier
from spend.importer import (
    _fuzzy_key,
    distinctive_words_agree,
    first_distinctive_word,
    import_spend_file,
)
from spend.models import SpendLine, SpendUpload
from spend.storage import sha256_of
from spend.values import normalise_name

HEADER = "Date,Supplier Name,Amount,Transaction Number\n"


def csv_of(*names: str) -> bytes:
    rows = [f"0{n + 1}/04/2025,{name},600.00,T{n}" for n, name in enumerate(names)]
    return (HEADER + "\n".join(rows) + "\n").encode()


def key(name: str) -> str:
    return _fuzzy_key(normalise_name(name))


@pytest.mark.parametrize(
    ("name", "word"),
    [
        ("HSL Compliance Ltd", "hsl"),
        ("The Compliance Services Group Ltd", ""),
        ("Luton Borough Council", "luton"),
        ("UK Cleaning Solutions Limited", "cleaning"),
        ("Smith's Cleaning Services", "smiths"),
    ],
)
def test_the_first_distinctive_word_skips_generic_words(name, word):
    assert first_distinctive_word(normalise_name(name)) == word


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Acme Builders Ltd", "ACME BUILDERS LIMITED"),
        ("Smiths Cleaning Services", "Smith's Cleaning Services Ltd"),
        ("Wardown Plumbing Ltd", "Wardwon Plumbing Ltd"),  # letters swapped
        ("Acme Builders", "Acne Builders"),  # one letter wrong in a short word
        ("Smith Cleaning", "Smiths Cleaning"),
        ("The Compliance Group", "Compliance Group Ltd"),  # only generic words
    ],
)
def test_genuine_near_matches_agree(first, second):
    assert distinctive_words_agree(key(first), key(second))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("PHS COMPLIANCE", "HSL Compliance"),
        ("ABC Services Ltd", "XYZ Services Ltd"),
        ("J Smith Builders", "K Smith Builders"),
        ("Luton Borough Council", "Bedford Borough Council"),
        ("Compliance Services Ltd", "Acme Compliance Services Ltd"),
    ],
)
def test_different_organisations_sharing_generic_words_do_not(first, second):
    assert not distinctive_words_agree(key(first), key(second))


@pytest.fixture
def imported(council, make_supplier):
    """Import a file of the names given, against a register of `register` names."""

    def run(register: list[str], names: list[str]) -> dict[str, Supplier | None]:
        known = {name: make_supplier(name=name, verified=True) for name in register}
        data = csv_of(*names)
        upload = SpendUpload.objects.create(
            council=council, file_name="spend.csv", sha256=sha256_of(data)
        )
        import_spend_file(upload=upload, data=data)
        suggested = {}
        for line in SpendLine.objects.select_related("supplier"):
            suggestion = MatchSuggestion.objects.filter(supplier=line.supplier).first()
            suggested[line.supplier_name] = suggestion and suggestion.candidate
        return {"known": known, **suggested}

    return run


def test_a_shared_generic_word_is_no_longer_suggested(imported):
    """The real case: "PHS COMPLIANCE" was suggested for "HSL Compliance"."""
    result = imported(["HSL Compliance"], ["PHS COMPLIANCE"])
    assert result["PHS COMPLIANCE"] is None
    assert not MatchSuggestion.objects.exists()


def test_genuine_near_matches_are_still_suggested(imported):
    register = [
        "Smith's Cleaning Services Ltd",
        "Wardown Plumbing Ltd",
        "HSL Compliance",
    ]
    names = ["Smiths Cleaning Services", "Wardwon Plumbing Ltd", "HSL Compliance UK"]
    result = imported(register, names)
    known = result["known"]
    assert result["Smiths Cleaning Services"] == known[register[0]]
    assert result["Wardwon Plumbing Ltd"] == known[register[1]]
    assert result["HSL Compliance UK"] == known[register[2]]


def test_the_best_candidate_that_agrees_is_suggested(imported):
    """A higher-scoring candidate with another first word is passed over (HSL
    scores 96 on the shared words, the misspelt PHS entry 94)."""
    register = ["HSL Compliance Services Ltd", "PHS Complainces Services"]
    result = imported(register, ["PHS Compliance Services"])
    assert result["PHS Compliance Services"] == result["known"][register[1]]


def test_a_name_equal_after_normalising_is_matched_not_suggested(imported):
    result = imported(["Acme Builders Ltd"], ["ACME BUILDERS LIMITED"])
    line = SpendLine.objects.get()
    assert line.supplier == result["known"]["Acme Builders Ltd"]
    assert not MatchSuggestion.objects.exists()


def test_of_names_that_contain_the_new_one_the_nearest_is_suggested(imported):
    """Both contain every word of "Wardown Plumbing Heating" (100 on shared words);
    the one with fewer other words is the nearer, though it comes second."""
    register = [
        "Wardown Plumbing Heating And Drainage Contractors Ltd",
        "Wardown Plumbing Heating Services",
    ]
    result = imported(register, ["Wardown Plumbing Heating"])
    assert result["Wardown Plumbing Heating"] == result["known"][register[1]]


@pytest.mark.parametrize("reverse", [False, True], ids=["llp-first", "services-first"])
def test_a_name_one_letter_away_beats_one_holding_all_its_words(imported, reverse):
    """QA: "Ashcroft Joinery Service" was suggested as "Ashcroft Joinery LLP" at
    100% (every word of the shorter name is in it), and "Ashcroft Joinery
    Services", one letter away, was not offered."""
    register = ["Ashcroft Joinery LLP", "Ashcroft Joinery Services"]
    result = imported(
        register[::-1] if reverse else register, ["Ashcroft Joinery Service"]
    )
    assert result["Ashcroft Joinery Service"] == result["known"][register[1]]
    assert MatchSuggestion.objects.get().score == 98


@pytest.mark.parametrize("reverse", [False, True], ids=["it-first", "security-first"])
def test_a_name_holding_the_distinctive_words_beats_one_sharing_a_generic_word(
    imported, reverse
):
    """QA: "Amber Security Services" was suggested as "Amber IT Services CIC" (90%:
    nearer as a whole by the generic "services") while "Amber Security Ltd" and
    "… LLP" were in the register."""
    register = ["Amber IT Services CIC", "Amber Security Ltd", "Amber Security LLP"]
    result = imported(
        register[::-1] if reverse else register, ["Amber Security Services"]
    )
    assert result["Amber Security Services"] in {
        result["known"]["Amber Security Ltd"],
        result["known"]["Amber Security LLP"],
    }


def test_what_an_import_makes_is_in_the_history_with_the_file_and_uploader(
    council, finance_officer, make_supplier
):
    from procure.models import SupplierAlias

    make_supplier(name="Wardown Plumbing Services Ltd", verified=True)
    data = csv_of("Wardown Plumbing Services UK", "Wardown Plumbing Services UK")
    upload = SpendUpload.objects.create(
        council=council,
        file_name="april.csv",
        sha256=sha256_of(data),
        uploaded_by=finance_officer,
    )
    import_spend_file(upload=upload, data=data)
    why = f"First named in april.csv (upload #{upload.pk})"
    new = Supplier.objects.get(name="Wardown Plumbing Services UK")
    for record in (new, SupplierAlias.objects.get(supplier=new)):
        (made,) = record.history.all()
        assert (made.history_type, made.history_user) == ("+", finance_officer)
        assert made.history_change_reason == why
    (suggested,) = MatchSuggestion.objects.get(supplier=new).history.all()
    assert suggested.history_user == finance_officer
    assert suggested.score == MatchSuggestion.objects.get().score


@pytest.mark.parametrize("reverse", [False, True], ids=["llp-first", "ltd-first"])
def test_of_two_names_alike_but_for_the_company_form_the_nearer_is_suggested(
    imported, reverse
):
    """Both reduce to "beacon engineering" without their company forms; the
    register's order must not decide which is suggested (QA: the Ltd was)."""
    register = ["Beacon Engineering LLP", "Beacon Engineering Ltd"]
    result = imported(
        register[::-1] if reverse else register, ["Beacon Engneering LLP"]
    )
    assert result["Beacon Engneering LLP"] == result["known"]["Beacon Engineering LLP"]


@pytest.mark.parametrize("reverse", [False, True], ids=["cic-first", "ltd-first"])
def test_a_community_interest_company_is_matched_to_its_namesake(imported, reverse):
    register = ["Northwell Electrical CIC", "Northwell Electrical Limited"]
    names = ["Northwel Electrical CIC", "Northwell Electricals CIC"]
    result = imported(register[::-1] if reverse else register, names)
    known = result["known"]["Northwell Electrical CIC"]
    assert result["Northwel Electrical CIC"] == known
    assert result["Northwell Electricals CIC"] == known


def test_names_equally_near_are_decided_the_same_way_whatever_the_order(
    make_supplier,
):
    """Two register names exactly as near as each other: the same one is
    suggested whichever the register lists first (the first in alphabetical
    order)."""
    from spend.importer import suggest_matches

    ltd = make_supplier(name="Wardown Plumbing Ltd", verified=True)
    llp = make_supplier(name="Wardown Plumbing LLP", verified=True)
    for order in ([ltd, llp], [llp, ltd]):
        new = make_supplier(name="Wardown Plumbin CIC")
        existing = {supplier.normalised_name: supplier.pk for supplier in order}
        suggest_matches({new.normalised_name: new.pk}, existing)
        assert MatchSuggestion.objects.get(supplier=new).candidate == llp


def test_of_two_suppliers_with_one_name_the_verified_one_is_suggested(
    imported, make_supplier
):
    """As a name equal after normalising is matched (the verified supplier, else
    the oldest), so a near one is suggested the same supplier."""
    verified = make_supplier(name="WARDOWN PLUMBING LIMITED", verified=True)
    make_supplier(name="Wardown Plumbing Ltd", verified=False)
    result = imported([], ["Wardown Plumbin Ltd"])
    assert result["Wardown Plumbin Ltd"] == verified


def test_a_candidate_with_another_registered_number_is_not_suggested(make_supplier):
    """QA: the review queue offered "Same: merge" for pairs with two Companies
    House numbers, which the merge then refused: such a candidate is passed
    over for the next best that could be the same organisation."""
    from spend.importer import suggest_matches

    group = make_supplier(
        name="Pennine Print Group Ltd", company_number="01111111", verified=True
    )
    services = make_supplier(name="Pennine Print Group Services Ltd", verified=True)
    new = make_supplier(name="Pennine Print Group plc", company_number="02222222")
    existing = {s.normalised_name: s.pk for s in (group, services)}
    suggest_matches({new.normalised_name: new.pk}, existing)
    assert MatchSuggestion.objects.get(supplier=new).candidate == services
    # With the same number (or none), the nearer name is suggested as before.
    same = make_supplier(name="Pennine Print Group PLC.", company_number="1111111")
    suggest_matches({same.normalised_name: same.pk}, existing)
    assert MatchSuggestion.objects.get(supplier=same).candidate == group
