"""Classifying the register in bulk, and officers' overrides."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from procure.models import Contract, SupplierAlias
from socialvalue import classify, tagging
from socialvalue.loaders import load_postcodes
from socialvalue.models import (
    LivingWageEmployer,
    LivingWageSnapshot,
    Postcode,
    SupplierTag,
    TagKind,
    TagOverride,
)
from socialvalue.tagging import classify_suppliers
from spend.values import normalise_name


@pytest.fixture
def luton_firm(council, other_council, make_supplier):
    """A Luton plumber that both councils pay."""
    firm = make_supplier(
        name="Wardown Plumbing Ltd",
        postcode="LU2 7AB",
        organisation_type="private_company",
        employees=12,
        turnover=Decimal("900000"),
    )
    for c in (council, other_council):
        SupplierAlias.objects.create(supplier=firm, council=c, name=firm.name)
    return firm


def tag(supplier, kind, council=None):
    return SupplierTag.objects.get(supplier=supplier, kind=kind, council=council)


def test_location_is_decided_per_council(council, other_council, luton_firm):
    classify_suppliers()
    assert tag(luton_firm, "locality", council).value == "local"
    assert tag(luton_firm, "locality", other_council).value == "uk"
    assert "LU2" in tag(luton_firm, "locality", council).evidence


def test_size_vcse_and_living_wage_belong_to_the_supplier(luton_firm):
    classify_suppliers()
    assert tag(luton_firm, "size").value == "small"
    assert tag(luton_firm, "vcse").value == "no"
    assert tag(luton_firm, "living_wage").value == "unknown"
    assert SupplierTag.objects.filter(supplier=luton_firm).count() == 5


def test_a_supplier_no_council_deals_with_gets_no_location(make_supplier, council):
    stranger = make_supplier(name="Stranger Ltd", postcode="LU1 1AA")
    classify_suppliers()
    assert not SupplierTag.objects.filter(supplier=stranger, kind="locality").exists()
    assert SupplierTag.objects.filter(supplier=stranger, kind="size").exists()


def test_running_twice_changes_nothing_and_writes_no_history(luton_firm):
    classify_suppliers()
    before = SupplierTag.history.count()
    result = classify_suppliers()
    assert (result.created, result.changed) == (0, 0)
    assert SupplierTag.history.count() == before


def test_new_facts_change_the_tag_and_history_keeps_both(luton_firm, council):
    classify_suppliers()
    luton_firm.postcode = "M1 1AA"
    luton_firm.save()
    classify_suppliers()
    assert tag(luton_firm, "locality", council).value == "uk"
    values = list(
        SupplierTag.history.filter(
            supplier_id=luton_firm.pk, kind="locality", council_id=council.pk
        )
        .order_by("history_date")
        .values_list("value", flat=True)
    )
    assert values == ["local", "uk"]


def test_an_override_wins_and_survives_reclassification(
    luton_firm, council, council_officer
):
    classify_suppliers()
    TagOverride.objects.create(
        supplier=luton_firm,
        kind="size",
        value="medium",
        reason="Accounts for 2025 show 80 staff",
        created_by=council_officer,
    )
    classify_suppliers()
    size = tag(luton_firm, "size")
    assert (size.value, size.source) == ("medium", "officer_override")
    assert "80 staff" in size.evidence and "bob-officer" not in size.evidence
    luton_firm.employees = 3
    luton_firm.save()
    classify_suppliers()
    assert tag(luton_firm, "size").value == "medium"


def test_an_officer_overrides_a_tag_with_a_reason_through_the_page(
    client, council_officer, council, luton_firm
):
    classify_suppliers()
    client.force_login(council_officer)
    url = reverse(
        "socialvalue:tag-override", args=[council.slug, luton_firm.pk, "locality"]
    )
    response = client.post(url, {"value": "wider"})
    assertContains(response, "Enter the reason for the override")
    response = client.post(
        url, {"value": "wider", "reason": "Trades from Dunstable depot"}
    )
    assert response.status_code == 302
    assert tag(luton_firm, "locality", council).value == "wider"
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, luton_firm.pk])
    )
    assertContains(page, "Trades from Dunstable depot")
    assertContains(page, "Officer decision")
    # Beside the decision, what the rules alone would say now.
    assertContains(page, "Without this decision the rules would say <strong>Local")
    # Once the rules agree (the officer's fact recorded), the page says the
    # decision could go.
    luton_firm.postcode = "LU6 1AA"  # Dunstable: Central Bedfordshire, next door
    luton_firm.save()
    client.post(url, {"value": "wider", "reason": "Trades from Dunstable depot"})
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, luton_firm.pk])
    )
    assertContains(page, "The rules now say the same (Wider area")
    assertContains(page, "The decision could be removed.")


def test_a_decision_from_a_page_opened_before_anothers_is_refused(
    client, council_officer, council, luton_firm
):
    """QA: two tabs on one size tag: A decided "Small", then B, whose page still
    said "Size unknown", decided "Large" and silently undid A's decision, for
    every council."""
    classify_suppliers()
    client.force_login(council_officer)
    url = reverse(
        "socialvalue:tag-override", args=[council.slug, luton_firm.pk, "size"]
    )
    page = client.get(url)
    seen_b = page.context["form"]["seen"].value()
    assertContains(page, f'<input type="hidden" name="seen" value="{seen_b}"')
    seen_a = client.get(url).context["form"]["seen"].value()
    assert seen_a == seen_b and seen_a
    said = {"value": "small", "reason": "Accounts show 20 staff", "seen": seen_a}
    assert client.post(url, said).status_code == 302
    response = client.post(
        url, {"value": "large", "reason": "Part of a big group", "seen": seen_b}
    )
    assert response.status_code == 200
    assertContains(
        response,
        f"Nothing was saved: {council_officer.username} decided “Small business”",
    )
    assert TagOverride.objects.get().value == "small"
    # The token holds a digest, not the decision's reason: signing does not
    # hide it, and another council's officer's reason is not shown (review).
    from django.core import signing

    held = signing.loads(
        response.context["form"]["seen"].value(),
        salt="localspend.tag-override.seen",
    )
    assert len(held) == 64 and "Accounts" not in held
    # The page now shows the decision as it is; saving again is this
    # officer's informed choice, and stands.
    form = response.context["form"]
    assert form["value"].value() == "large"
    again = {
        "value": "large",
        "reason": "Part of a big group",
        "seen": form["seen"].value(),
    }
    assert client.post(url, again).status_code == 302
    assert TagOverride.objects.get().value == "large"


def test_removing_the_override_lets_the_rules_decide_again(
    client, council_officer, council, luton_firm
):
    classify_suppliers()
    TagOverride.objects.create(
        supplier=luton_firm,
        council=council,
        kind="locality",
        value="wider",
        reason="Depot",
        created_by=council_officer,
    )
    classify_suppliers()
    client.force_login(council_officer)
    url = reverse(
        "socialvalue:tag-override-remove",
        args=[council.slug, luton_firm.pk, "locality"],
    )
    # A reason is asked for, as for setting it: without one nothing is removed.
    page = client.post(url, {"remove-reason": " "})
    assertContains(page, "Enter the reason for removing the override")
    assert TagOverride.objects.exists()
    client.post(url, {"remove-reason": "The depot  closed in\nMarch"})
    assert not TagOverride.objects.exists()
    assert tag(luton_firm, "locality", council).value == "local"
    removal = TagOverride.history.get(history_type="-")
    # Who removed it is the record's user; the reason is theirs, tidied.
    assert removal.history_user == council_officer
    assert removal.history_change_reason == "The depot closed in March"
    # Removed already (another tab): said, nothing else recorded.
    page = client.post(url, {"remove-reason": "The depot closed in March"}, follow=True)
    assertContains(page, "There is no override to remove")
    assert TagOverride.history.filter(history_type="-").count() == 1


@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_only_officers_may_override(client, role_users, council, luton_firm, role):
    client.force_login(role_users[role])
    url = reverse(
        "socialvalue:tag-override", args=[council.slug, luton_firm.pk, "size"]
    )
    assert (
        client.post(url, {"value": "large", "reason": "because I say so"}).status_code
        == 403
    )
    assert not TagOverride.objects.exists()


def test_an_unknown_tag_kind_is_404(client, council_officer, council, luton_firm):
    client.force_login(council_officer)
    url = reverse(
        "socialvalue:tag-override", args=[council.slug, luton_firm.pk, "colour"]
    )
    assert client.get(url).status_code == 404


def test_the_supplier_page_explains_every_tag(client, viewer, council, luton_firm):
    classify_suppliers()
    client.force_login(viewer)
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, luton_firm.pk])
    )
    assertContains(page, "Local")
    assertContains(page, "Small business")
    assertContains(page, "Living Wage status unknown")
    assert b"Override" not in page.content  # a viewer cannot change tags


# ------------------------------------------------------------------------ in bulk


@pytest.fixture
def register(council, other_council, make_supplier):
    """Suppliers linked to the councils by aliases and contracts, and one not."""
    firms = [
        make_supplier(name=f"Firm {n} Ltd", postcode=postcode, employees=staff)
        for n, (postcode, staff) in enumerate(
            [
                ("LU2 7AB", 3),
                ("L34 1AA", 80),
                ("LU2 7AB", 3),
                ("", None),
                ("M1 1AA", 12),
            ]
        )
    ]
    for firm in firms[:3]:
        SupplierAlias.objects.create(supplier=firm, council=council, name=firm.name)
    SupplierAlias.objects.create(
        supplier=firms[0], council=other_council, name="Firm Nought"
    )
    Contract.objects.create(
        council=other_council,
        reference="K1",
        title="Grounds",
        supplier=firms[1],
        start_date=date(2025, 4, 1),
    )
    return firms


def _tags() -> list[tuple]:
    return sorted(
        SupplierTag.objects.values_list(
            "supplier_id", "council_id", "kind", "value", "source", "evidence"
        ),
        key=str,
    )


@pytest.mark.parametrize("few", [0, 10**6])  # many ids: one query; few: chunks
def test_council_links_are_the_same_whichever_way_they_are_read(
    monkeypatch, register, council, other_council, few
):
    monkeypatch.setattr(tagging, "FEW", few)
    monkeypatch.setattr(tagging, "CHUNK", 2)
    firms = [firm.pk for firm in register]
    pairs = {
        (firms[0], council.pk),
        (firms[1], council.pk),
        (firms[2], council.pk),
        (firms[0], other_council.pk),
        (firms[1], other_council.pk),
    }
    both = [council, other_council]
    assert tagging.council_links(firms[:4], both) == pairs
    assert tagging.council_links(firms[1:2], both) == {
        (firms[1], council.pk),
        (firms[1], other_council.pk),
    }
    assert tagging.council_links(None, [other_council]) == {
        (firms[0], other_council.pk),
        (firms[1], other_council.pk),
    }
    assert tagging.council_links(firms, []) == set()


def test_many_suppliers_are_classified_as_a_few_are(monkeypatch, register):
    some = [firm.pk for firm in register[:3]]
    monkeypatch.setattr(tagging, "CHUNK", 2)
    monkeypatch.setattr(tagging, "FEW", 10**6)
    chunked = classify_suppliers(supplier_ids=some)
    by_chunks = _tags()
    assert {row[0] for row in by_chunks} == set(some)
    SupplierTag.history.all().delete()
    SupplierTag.objects.all().delete()
    monkeypatch.setattr(tagging, "FEW", 0)
    whole = classify_suppliers(supplier_ids=some)
    assert _tags() == by_chunks
    assert (whole.created, whole.by_value) == (chunked.created, chunked.by_value)
    again = classify_suppliers(supplier_ids=some)
    assert (again.created, again.changed, again.unchanged) == (0, 0, len(by_chunks))


def test_every_new_and_changed_tag_has_its_history_row(register, council_officer):
    first = classify_suppliers(user=council_officer)
    tags = {tag.pk: tag for tag in SupplierTag.objects.all()}
    added = SupplierTag.history.filter(history_type="+")
    assert first.created == len(tags) == added.count() == SupplierTag.history.count()
    fields = [*tagging.KEY_FIELDS, *tagging.SAVED, "decided_at", "decided_by_id"]
    for row in added:
        tag = tags[row.id]
        assert [getattr(row, f) for f in fields] == [getattr(tag, f) for f in fields]
        assert row.history_date == tag.decided_at
        assert row.history_user == council_officer == tag.decided_by
        assert row.history_change_reason is None
    register[0].postcode = "M1 1AA"
    register[0].employees = 400
    register[0].save()
    second = classify_suppliers()
    changed = SupplierTag.history.filter(history_type="~")
    assert second.changed == changed.count() == 3  # size, Luton and Knowsley
    assert second.created == 0
    for row in changed:
        tag = SupplierTag.objects.get(pk=row.id)
        assert tag.supplier_id == register[0].pk
        assert [getattr(row, f) for f in fields] == [getattr(tag, f) for f in fields]
        assert row.history_date == tag.decided_at > tags[row.id].decided_at
        assert row.history_user is None is tag.decided_by


def test_rows_fetched_straight_from_the_cursor_are_the_orms(register):
    classify_suppliers()
    rows = SupplierTag.objects.order_by("pk").values_list(
        "pk", *tagging.KEY_FIELDS, *tagging.SAVED
    )
    assert tagging._fetch(rows) == list(rows)
    assert tagging._fetch(rows.filter(supplier_id__in=[])) == []


def test_a_big_sqlite_write_gets_a_bigger_page_cache_for_a_while(register):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("a SQLite setting")
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size = -1")  # 1 KiB: any write is big
        result = classify_suppliers()
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone() == (-1,)
        cursor.execute("PRAGMA cache_size = -2000")
    assert result.created == SupplierTag.history.count() == 20


# ------------------------------------------------- the ONS postcode directory

REFERENCE = Path(__file__).resolve().parents[2] / "fixtures" / "reference"


@pytest.fixture
def central_bedfordshire(db):
    from councils.models import Council

    return Council.objects.create(
        slug="central-bedfordshire",
        name="Central Bedfordshire Council",
        short_name="Central Bedfordshire",
        gss_code="E06000056",
        local_districts=["LU5", "LU6", "LU7", "SG15", "SG16", "SG17", "SG18"],
    )


@pytest.fixture
def caddington_firm(council, central_bedfordshire, make_supplier):
    """A firm in Caddington: postcode district LU1, counted local to Luton, but the
    village is in Central Bedfordshire. Both councils pay it."""
    firm = make_supplier(name="Caddington Joinery Ltd", postcode="lu1 4da")
    for c in (council, central_bedfordshire):
        SupplierAlias.objects.create(supplier=firm, council=c, name=firm.name)
    return firm


def test_a_straddling_district_decides_until_the_directory_has_the_postcode(
    council, central_bedfordshire, caddington_firm
):
    load_postcodes(REFERENCE / "onspd_sample.csv")  # no LU1 4DA in it
    classify_suppliers()
    luton = tag(caddington_firm, "locality", council)
    beds = tag(caddington_firm, "locality", central_bedfordshire)
    assert (luton.value, beds.value) == ("local", "uk")
    assert "district LU1" in luton.evidence
    assert "is not in the ONS postcode directory as loaded" in luton.evidence

    Postcode.objects.create(postcode="LU1 4DA", district="LU1", authority="E06000056")
    result = classify_suppliers()
    assert result.changed == 2
    luton = tag(caddington_firm, "locality", council)
    beds = tag(caddington_firm, "locality", central_bedfordshire)
    assert (luton.value, beds.value) == ("wider", "local")
    assert (luton.confidence, beds.confidence) == ("high", "high")
    assert beds.evidence == (
        "The ONS postcode directory places LU1 4DA in local authority E06000056 "
        "(Central Bedfordshire), inside Central Bedfordshire's local area."
    )
    assert luton.evidence.startswith(
        "The ONS postcode directory places LU1 4DA in local authority E06000056, "
        "outside Luton's local area"
    )


def test_the_sample_directory_places_a_luton_postcode_exactly(
    council, other_council, luton_firm
):
    classify_suppliers()
    before = tag(luton_firm, "locality", council)
    assert "ONS" not in before.evidence  # no directory: the district decides
    load_postcodes(REFERENCE / "onspd_sample.csv")  # LU2 7AB is Luton, E06000032
    classify_suppliers()
    luton = tag(luton_firm, "locality", council)
    knowsley = tag(luton_firm, "locality", other_council)
    assert (luton.value, luton.confidence) == ("local", "high")
    assert luton.evidence == (
        "The ONS postcode directory places LU2 7AB in local authority E06000032 "
        "(Luton), inside Luton's local area."
    )
    assert knowsley.value == "uk" and "E06000032" in knowsley.evidence


def test_the_directory_is_read_in_one_query_whatever_the_number_of_suppliers(
    council, make_supplier
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    load_postcodes(REFERENCE / "onspd_sample.csv")
    for n in range(30):
        firm = make_supplier(name=f"Firm {n} Ltd", postcode=f"LU{n % 4 + 1} {n}AB")
        SupplierAlias.objects.create(supplier=firm, council=council, name=firm.name)
    with CaptureQueriesContext(connection) as queries:
        classify_suppliers()
    table = Postcode._meta.db_table
    assert len([q for q in queries if table in q["sql"]]) == 2  # loaded? and rows


def test_postcode_authorities_reads_full_postcodes_however_written(db):
    assert tagging.postcode_authorities(["LU1 2EY"]) is None  # nothing loaded
    load_postcodes(REFERENCE / "onspd_sample.csv")
    many = [f"ZZ{n % 99 + 1} {n % 9 + 1}AB" for n in range(40_000)]  # not listed
    found = tagging.postcode_authorities(
        ["lu12ey", " LU2  7AB ", "LU1", "", None, "BX1 1LT", "JE2 4WE", *many]
    )
    assert found == {
        "LU1 2EY": "E06000032",
        "LU2 7AB": "E06000032",
        "BX1 1LT": "E99999999",
        "JE2 4WE": "L99999999",
    }
    assert tagging.postcode_authorities(["LU1", ""]) is None  # no full postcode


# ------------------------------------------------------------- merged suppliers


def test_a_merged_supplier_is_not_classified(council, make_supplier, luton_firm):
    twin = make_supplier(name="Wardown Plumbing", postcode="LU2 7AB")
    SupplierAlias.objects.create(supplier=twin, council=council, name=twin.name)
    TagOverride.objects.create(
        supplier=twin, council=council, kind="locality", value="uk", reason="Moved"
    )
    twin.merged_into = luton_firm
    twin.save()
    result = classify_suppliers()
    assert not SupplierTag.objects.filter(supplier=twin).exists()
    assert result.suppliers == 1
    only_twin = classify_suppliers(supplier_ids=[twin.pk])
    assert (only_twin.suppliers, only_twin.created, only_twin.removed) == (0, 0, 0)


def test_a_merged_supplier_loses_tags_left_from_before(
    council, make_supplier, luton_firm
):
    twin = make_supplier(name="Wardown Plumbing", postcode="LU2 7AB")
    SupplierAlias.objects.create(supplier=twin, council=council, name=twin.name)
    classify_suppliers()
    assert SupplierTag.objects.filter(supplier=twin).count() == 4
    twin.merged_into = luton_firm  # not through merge_suppliers: tags stay
    twin.save()
    result = classify_suppliers(supplier_ids=[twin.pk, luton_firm.pk])
    assert result.removed == 4
    assert not SupplierTag.objects.filter(supplier=twin).exists()
    removed = SupplierTag.history.filter(supplier_id=twin.pk, history_type="-")
    assert removed.count() == 4
    assert SupplierTag.objects.filter(supplier=luton_firm).count() == 5
    assert classify_suppliers().removed == 0


def test_merging_and_undoing_leaves_the_merged_supplier_tagged_only_when_apart(
    council, make_supplier, make_line, luton_firm, council_officer
):
    from procure.merging import merge_suppliers, undo_merge

    twin = make_supplier(name="Wardown Plumbing", postcode="LU2 7AB", employees=4)
    make_line(council, supplier=twin)
    classify_suppliers()
    assert SupplierTag.objects.filter(supplier=twin).count() == 4
    record = merge_suppliers(
        kept=luton_firm, merged=twin, user=council_officer, council=None
    )
    classify_suppliers()  # a later run over the whole register
    assert not SupplierTag.objects.filter(supplier=twin).exists()
    undo_merge(record, user=council_officer)
    assert tag(twin, "locality", council).value == "local"
    assert tag(twin, "size").value == "micro"
    assert SupplierTag.objects.filter(supplier=twin).count() == 4


def test_the_override_form_starts_from_the_tag_and_hints_for_its_kind(
    client, council_officer, council, luton_firm
):
    classify_suppliers()
    client.force_login(council_officer)
    size = tag(luton_firm, "size")
    page = client.get(
        reverse("socialvalue:tag-override", args=[council.slug, luton_firm.pk, "size"])
    )
    assert page.context["form"]["value"].value() == size.value
    assertContains(page, f'value="{size.value}" checked', html=False)
    assertContains(page, "Companies House")
    assertNotContains(page, "LU1 3AA")
    locality = client.get(
        reverse(
            "socialvalue:tag-override",
            args=[council.slug, luton_firm.pk, "locality"],
        )
    )
    assertContains(locality, "LU1 3AA")


# --- What the rules alone say, beside an officer's decision -------------------------


def _full_list_verdict(supplier):
    """The Living Wage verdict as a run gives it: the rule over the whole list."""
    facts = tagging.facts_of(
        {name: getattr(supplier, name) for name in tagging.FACT_FIELDS}
    )
    return classify.living_wage_rule(tagging.accredited_names())(facts)


def _living_wage_list(names: list[str], taken_on=date(2025, 6, 1)):
    snapshot = LivingWageSnapshot.objects.create(taken_on=taken_on, file_name="lw.csv")
    LivingWageEmployer.objects.bulk_create(
        LivingWageEmployer(snapshot=snapshot, name=n, normalised_name=normalise_name(n))
        for n in names
    )
    return snapshot


@pytest.fixture
def living_wage_suppliers(make_supplier):
    return [
        make_supplier(name="Wardown Plumbing Ltd"),  # on the list as written
        make_supplier(name="Marsh Farm Scaffolding Ltd"),  # listed without "Ltd"
        make_supplier(name="Stopsley Cleaning Ltd"),  # not on the list
        make_supplier(name="Leagrave Care", living_wage_accredited=True),  # declared
    ]


def test_the_living_wage_verdict_is_the_runs_without_reading_the_whole_list(
    council, living_wage_suppliers
):
    def verdicts():
        return [
            tagging.rules_verdict(s, council, TagKind.LIVING_WAGE)
            for s in living_wage_suppliers
        ]

    # No list loaded, then an empty one: "no list is loaded" either way.
    assert verdicts() == [_full_list_verdict(s) for s in living_wage_suppliers]
    assert {v.source for v in verdicts()} == {"no_data", "declaration"}
    _living_wage_list([], taken_on=date(2025, 1, 1))
    assert verdicts() == [_full_list_verdict(s) for s in living_wage_suppliers]
    # A list, then a newer one: the newest is read, as a run reads it.
    _living_wage_list(["Wardown Plumbing", "Stopsley Cleaning Ltd"])
    _living_wage_list(
        ["Wardown Plumbing Ltd", "Marsh Farm Scaffolding"], taken_on=date(2025, 9, 1)
    )
    got = verdicts()
    assert got == [_full_list_verdict(s) for s in living_wage_suppliers]
    assert [(v.value, v.confidence) for v in got] == [
        ("yes", "high"),
        ("yes", "medium"),
        ("unknown", "low"),
        ("yes", "medium"),
    ]
    assert "of 1 September 2025" in got[0].evidence
    assert "list of 1 September 2025" in got[2].evidence


@pytest.mark.parametrize("length", [10, 2000])
def test_the_living_wage_verdict_reads_only_the_suppliers_names_from_the_list(
    council, make_supplier, length
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    names = [f"Accredited Employer {n} Ltd" for n in range(length)]
    _living_wage_list(names)
    listed = make_supplier(name="Accredited Employer 7 Ltd")
    unlisted = make_supplier(name="Nowhere Near Ltd")
    for supplier, value in ((listed, "yes"), (unlisted, "unknown")):
        with CaptureQueriesContext(connection) as queries:
            verdict = tagging.rules_verdict(supplier, council, TagKind.LIVING_WAGE)
        assert verdict.value == value
        assert len(queries) <= 3  # the latest list, the names, is anyone on it
        for query in queries.captured_queries:
            sql = query["sql"]
            if "livingwageemployer" in sql.split(" FROM ", 1)[-1].lower():
                # Each read of the list is by the supplier's names, or one row.
                where = sql.split("WHERE", 1)[1]
                assert "normalised_name" in where or "LIMIT 1" in sql
