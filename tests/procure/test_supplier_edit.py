import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from procure.models import Supplier

DATA = {
    "name": "Wardown Plumbing Ltd",
    "organisation_type": "private_company",
    "company_number": "1234567",
    "postcode": "lu1  2ab",
    "employees": "12",
    "part_of_large_group": "unknown",
    "living_wage_accredited": "unknown",
}


@pytest.fixture
def supplier(council, make_supplier, make_line):
    supplier = make_supplier(name="Wardown Plumbing")
    make_line(council, supplier=supplier)
    return supplier


def test_an_officer_corrects_a_supplier_and_history_keeps_who(
    client, council_officer, council, supplier
):
    client.force_login(council_officer)
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    response = client.post(url, DATA)
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert (supplier.company_number, supplier.postcode) == ("01234567", "LU1 2AB")
    assert supplier.normalised_name == "wardown plumbing ltd"
    assert supplier.history.first().history_user == council_officer


def test_a_rename_to_another_suppliers_name_is_refused(
    client, council_officer, council, supplier, make_supplier
):
    """QA: renaming a supplier to another's exact name was accepted without a
    word; payments in that name would then go to one of the two."""
    make_supplier(name="Falcon IT Services Ltd")
    merged_away = make_supplier(name="Old Name Limited")
    merged_away.merged_into = make_supplier(name="Old Name Holdings")
    merged_away.save()
    client.force_login(council_officer)
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    page = client.post(url, DATA | {"name": "FALCON I.T. SERVICES LIMITED"})
    assertContains(page, "Another supplier is already called Falcon IT Services Ltd.")
    supplier.refresh_from_db()
    assert supplier.name == "Wardown Plumbing"
    # A merged supplier's name is no one else's: it may be taken.
    assert client.post(url, DATA | {"name": "Old Name Ltd"}).status_code == 302
    # Nor is a name kept unchanged checked (duplicates from imports can be edited).
    make_supplier(name="Old Name Ltd.")
    assert client.post(url, DATA | {"name": "Old Name Ltd"}).status_code == 302


@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_finance_and_cabinet_cannot_edit_suppliers(
    client, role_users, council, supplier, role
):
    client.force_login(role_users[role])
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    assert client.post(url, DATA).status_code == 403
    supplier.refresh_from_db()
    assert supplier.name == "Wardown Plumbing"


def test_a_bad_company_number_is_explained(client, council_officer, council, supplier):
    client.force_login(council_officer)
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    response = client.post(url, DATA | {"company_number": "12-345/678"})
    assertContains(response, "Enter a Companies House number")


def test_a_supplier_this_council_never_dealt_with_is_not_shown(
    client, council_officer, council, make_supplier
):
    stranger = make_supplier(name="Stranger Ltd")
    client.force_login(council_officer)
    url = reverse("procure:supplier-detail", args=[council.slug, stranger.pk])
    assert client.get(url).status_code == 404


def _edit(client, officer, council, supplier, **changes):
    client.force_login(officer)
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    return client.post(url, DATA | changes)


@pytest.mark.parametrize("name", ["—", "...", " - / ' "])
def test_a_name_of_punctuation_alone_is_refused(
    client, council_officer, council, supplier, name
):
    response = _edit(client, council_officer, council, supplier, name=name)
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [
        "Enter a supplier name with at least one letter or number."
    ]
    supplier.refresh_from_db()
    assert supplier.name == "Wardown Plumbing"


def test_a_company_number_another_supplier_has_is_explained_on_the_field(
    client, council_officer, council, supplier, make_supplier
):
    make_supplier(name="Wardown Plumbing and Heating", company_number="01234567")
    response = _edit(client, council_officer, council, supplier)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["company_number"] == [
        "Another supplier, Wardown Plumbing and Heating, already has company "
        "number 01234567. If they are the same organisation, merge the two "
        "suppliers instead of entering it twice."
    ]
    assert not form.non_field_errors()
    assertNotContains(response, "supplier_company_number_unique")


def test_a_company_number_kept_by_a_merged_supplier_is_explained(
    client, council_officer, council, supplier, make_supplier
):
    make_supplier(
        name="Wardown Plumbing Old", company_number="01234567", merged_into=supplier
    )
    response = _edit(client, council_officer, council, supplier)
    assert response.context["form"].errors["company_number"] == [
        "Wardown Plumbing Old, which was merged into this supplier, keeps company "
        "number 01234567 so that the merge can be undone. Leave it off this "
        "supplier."
    ]


def test_a_charity_number_another_supplier_has_is_explained_on_the_field(
    client, council_officer, council, supplier, make_supplier
):
    make_supplier(
        name="Wardown Trust", charity_register="GB-CHC", charity_number="100001"
    )
    response = _edit(
        client,
        council_officer,
        council,
        supplier,
        charity_register="GB-CHC",
        charity_number="100001",
    )
    form = response.context["form"]
    assert form.errors["charity_number"] == [
        "Another supplier, Wardown Trust, already has charity number 100001 on "
        "that register. If they are the same organisation, merge the two "
        "suppliers instead of entering it twice."
    ]
    assert not form.non_field_errors()
    # The same number on another register is another charity.
    response = _edit(
        client,
        council_officer,
        council,
        supplier,
        charity_register="GB-NIC",
        charity_number="100001",
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("register", "typed", "kept"),
    [
        ("GB-CHC", "1123456", "1123456"),
        ("GB-CHC", " 212 345 ", "212345"),
        ("GB-CHC", "1123456-1", "1123456-1"),
        ("GB-SC", "sc012345", "SC012345"),
        ("GB-SC", "012345", "SC012345"),
        ("GB-NIC", "NIC100002", "100002"),
        ("GB-NIC", "100002", "100002"),
    ],
)
def test_a_charity_number_is_kept_as_its_register_writes_it(
    client, council_officer, council, supplier, register, typed, kept
):
    response = _edit(
        client,
        council_officer,
        council,
        supplier,
        charity_register=register,
        charity_number=typed,
    )
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert (supplier.charity_register, supplier.charity_number) == (register, kept)


@pytest.mark.parametrize(
    ("register", "typed", "said"),
    [
        (
            "GB-CHC",
            "abc12",
            "Enter the charity number as the Charity Commission (England and Wales) "
            "writes it: 6 or 7 digits, like 1123456 (a linked charity's ends in its "
            "own number, like 1123456-1).",
        ),
        ("GB-CHC", "99999999999", "6 or 7 digits"),
        ("GB-SC", "1234567", "SC and 6 digits, like SC012345"),
        ("GB-NIC", "hello", "6 digits, like 100002 (or NIC100002)"),
    ],
)
def test_a_charity_number_not_of_its_registers_form_is_refused(
    client, council_officer, council, supplier, register, typed, said
):
    """QA: "abc12" and "99999999999" were saved as charity numbers, and the
    supplier tagged a VCSE "with high confidence" from them."""
    response = _edit(
        client,
        council_officer,
        council,
        supplier,
        charity_register=register,
        charity_number=typed,
    )
    assert response.status_code == 200
    (error,) = response.context["form"].errors["charity_number"]
    assert said in error
    supplier.refresh_from_db()
    assert supplier.charity_number == ""


def test_a_charity_number_kept_from_before_does_not_stop_other_edits(
    client, council_officer, council, supplier
):
    supplier.charity_register, supplier.charity_number = "GB-CHC", "12"
    supplier.save()
    response = _edit(
        client,
        council_officer,
        council,
        supplier,
        charity_register="GB-CHC",
        charity_number="12",
        name="Wardown Plumbing Co",
    )
    assert response.status_code == 302


def test_a_negative_turnover_is_explained_on_the_field(
    client, council_officer, council, supplier
):
    response = _edit(client, council_officer, council, supplier, turnover="-1")
    form = response.context["form"]
    assert form.errors["turnover"] == [
        "Enter the turnover as £0 or more, or leave it blank if it is not known."
    ]
    assert not form.non_field_errors()
    assertNotContains(response, "supplier_turnover_not_negative")


@pytest.mark.parametrize(
    ("typed", "saved"),
    [("lu12ab", "LU1 2AB"), (" Lu1 2aB ", "LU1 2AB"), ("LU1", "LU1"), ("", "")],
)
def test_a_postcode_is_tidied(client, council_officer, council, supplier, typed, saved):
    response = _edit(client, council_officer, council, supplier, postcode=typed)
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert supplier.postcode == saved


@pytest.mark.parametrize("typed", ["HELLO", "LU1 2A", "12345", "BFPO 105"])
def test_a_postcode_that_is_not_one_is_refused(
    client, council_officer, council, supplier, typed
):
    response = _edit(client, council_officer, council, supplier, postcode=typed)
    assert response.status_code == 200
    assert response.context["form"].errors["postcode"] == [
        "Enter a UK postcode, like LU1 2AB, or leave it blank if it is not known."
    ]
    assertContains(response, "Enter a UK postcode")


def test_every_supplier_constraint_explains_itself_in_plain_english():
    for constraint in Supplier._meta.constraints:
        message = constraint.get_violation_error_message()
        assert constraint.name not in message, message
        assert message != constraint.default_violation_error_message % {
            "name": constraint.name
        }


def test_the_supplier_page_says_what_each_change_was_and_who_made_it(
    client, council_officer, council, supplier
):
    client.force_login(council_officer)
    client.post(
        reverse("procure:supplier-edit", args=[council.slug, supplier.pk]), DATA
    )
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    ).content.decode()
    assert "changed by bob-officer" in page
    assert "Name: Wardown Plumbing → Wardown Plumbing Ltd" in page
    assert "Postcode: — → LU1 2AB" in page
    assert "Normalised name" not in page and "Updated at" not in page


def test_people_of_other_councils_are_not_named_on_a_shared_supplier(
    client, council_officer, other_council_officer, council, supplier
):
    supplier._history_user = other_council_officer
    supplier.postcode = "L34 1AA"
    supplier.save()
    client.force_login(council_officer)
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    ).content.decode()
    assert other_council_officer.username not in page
    assert "changed by someone at another council" in page


def test_tag_history_reads_in_words_not_codes(client, viewer, council, supplier):
    from django.utils import timezone

    from socialvalue.models import SupplierTag

    SupplierTag.objects.create(
        supplier=supplier,
        council=council,
        kind="locality",
        value="non_uk",
        source="no_data",
        confidence="high",
        decided_at=timezone.now(),
    )
    client.force_login(viewer)
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    ).content.decode()
    assert "Outside the UK" in page and "non_uk" not in page


def test_saving_a_supplier_works_its_tags_out_again(
    client, council_officer, council, supplier
):
    from socialvalue.models import SupplierTag
    from socialvalue.tagging import classify_suppliers

    classify_suppliers(supplier_ids=[supplier.pk])
    locality = SupplierTag.objects.get(supplier=supplier, kind="locality")
    assert locality.value == "unknown"  # no postcode yet
    client.force_login(council_officer)
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    response = client.post(url, DATA, follow=True)  # postcode LU1 2AB, 12 staff
    locality.refresh_from_db()
    assert locality.value == "local"
    said = [str(m) for m in response.context["messages"]][0]
    assert "Its tags were worked out again: Location: Location unknown → Local" in said
    assert locality.history.first().history_user == council_officer


def test_a_negative_balance_sheet_total_is_explained_on_the_field(
    client, council_officer, council, supplier
):
    response = _edit(
        client, council_officer, council, supplier, balance_sheet_total="-100"
    )
    assert response.context["form"].errors["balance_sheet_total"] == [
        "Enter the balance sheet total as £0 or more, or leave it blank if it is "
        "not known."
    ]


def test_tag_history_says_when_a_tag_was_removed(client, viewer, council, supplier):
    from django.utils import timezone

    from socialvalue.models import SupplierTag

    tag = SupplierTag.objects.create(
        supplier=supplier,
        council=council,
        kind="locality",
        value="local",
        source="postcode_rule",
        confidence="high",
        decided_at=timezone.now(),
    )
    tag.delete()
    client.force_login(viewer)
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    ).content.decode()
    assert "Location: Local removed" in page
    assert "Location: Local (postcode rule)" in page


def test_the_migration_tidies_vat_numbers_and_leaves_placeholders(make_supplier):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "procure.migrations.0008_tidy_supplier_vat_numbers"
    )
    spaced = make_supplier(name="Spaced Ltd", vat_number="gb 123 4567 89")
    placeholder = make_supplier(name="Placeholder Ltd", vat_number="N/A")
    migration.tidy(apps, None)
    spaced.refresh_from_db()
    placeholder.refresh_from_db()
    assert (spaced.vat_number, placeholder.vat_number) == ("GB123456789", "N/A")


def test_a_company_number_of_only_zeros_is_refused_not_saved_blank(
    client, council_officer, council, supplier
):
    client.force_login(council_officer)
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    response = client.post(url, DATA | {"company_number": "00000000"})
    assertContains(response, "a number of only zeros is not one")
    assert client.post(url, DATA | {"company_number": ""}).status_code == 302


def test_the_migration_writes_short_company_numbers_in_full(make_supplier):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "procure.migrations.0011_company_numbers_in_full"
    )
    scottish = make_supplier(name="Glasgow Ltd", company_number="SC12345")
    digits = make_supplier(name="Digits Ltd", company_number="123456")
    zeros = make_supplier(name="Zeros Ltd", company_number="0000")
    full = make_supplier(name="Full Ltd", company_number="NI012345")
    # Written in full, this one is the Full Ltd's: left for an officer to merge.
    twin = make_supplier(name="Full Twin Ltd", company_number="NI12345")
    migration.in_full(apps, None)
    numbers = {}
    for supplier in (scottish, digits, zeros, full, twin):
        supplier.refresh_from_db()
        numbers[supplier.name] = supplier.company_number
    # Each change is in the supplier's history, as LocalSpend's own.
    record = scottish.history.first()
    assert (record.company_number, record.history_user) == ("SC012345", None)
    assert record.history_change_reason.startswith("Company number written in full")
    assert twin.history.first().company_number == "NI12345"  # unchanged: no record
    assert numbers == {
        "Glasgow Ltd": "SC012345",
        "Digits Ltd": "00123456",
        "Zeros Ltd": "",
        "Full Ltd": "NI012345",
        "Full Twin Ltd": "NI12345",
    }


def _tag_history(client, council, supplier) -> list[str]:
    """The supplier page's tag history lines, in words."""
    import re
    from html import unescape

    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    ).content.decode()
    section = page.split('<h3 class="govuk-heading-s">Tags</h3>')[1]
    items = re.findall(r"<li><strong>[^<]*</strong>: (.*?)</li>", section)
    return [unescape(item) for item in items]


def test_tag_history_tells_an_officers_decision_its_reason_and_its_removal(
    client, council_officer, viewer, council, supplier
):
    """QA: the history left out the override's reason, and a removed override
    read as the rules' value with no word of the removal."""
    client.force_login(council_officer)
    url = reverse("socialvalue:tag-override", args=[council.slug, supplier.pk, "vcse"])
    reason = "Registered charity 1234567, checked on the Charity Commission site"
    client.post(url, {"value": "yes", "reason": reason})
    client.post(url, {"value": "no", "reason": "Became a trading company in May"})
    client.post(
        reverse(
            "socialvalue:tag-override-remove", args=[council.slug, supplier.pk, "vcse"]
        ),
        {"remove-reason": "Its charity registration was withdrawn"},
    )
    client.force_login(viewer)
    vcse = [h for h in _tag_history(client, council, supplier) if h.startswith("VCSE")]
    assert vcse[:4] == [
        "VCSE: VCSE status unknown, was Not a VCSE (no data, bob-officer)",
        "VCSE: bob-officer removed the officer's decision (Not a VCSE), because "
        "“Its charity registration was withdrawn”: the rules decide again",
        "VCSE: bob-officer changed the officer's decision: Not a VCSE, because "
        "“Became a trading company in May”",
        f"VCSE: set to VCSE by bob-officer, overriding the rules, because “{reason}”",
    ]
    # The tag rows written for the decisions are not repeated as "officer override".
    assert not any("(officer override" in h for h in vcse)


def test_tag_history_withholds_another_councils_reason(
    client, council, other_council, council_officer, other_council_officer, supplier
):
    from socialvalue.models import TagOverride

    with_user = TagOverride(
        supplier=supplier,
        kind="size",
        value="small",
        reason="Knowsley's own phone call",
        created_by=other_council_officer,
    )
    with_user._history_user = other_council_officer
    with_user.save()
    client.force_login(council_officer)
    history = _tag_history(client, council, supplier)
    assert (
        "Size: set to Small business by someone at another council, overriding the rules, "
        "for a reason given there"
    ) in history
    assert not any("phone call" in h for h in history)
    # Nor is their reason for removing it.
    with_user._history_user = other_council_officer
    with_user._change_reason = "Knowsley's second phone call"
    with_user.delete()
    history = _tag_history(client, council, supplier)
    assert (
        "Size: someone at another council removed the officer's decision (Small "
        "business), for a reason given there: the rules decide again"
    ) in history
    assert not any("phone call" in h for h in history)


def test_a_rules_tag_is_not_said_to_be_a_persons_decision(
    client, council_admin, viewer, council, supplier
):
    """QA: after an area change, a tag the postcode rule set read "decided 24 Nov
    2026 by demo-admin", as if the administrator had decided it."""
    from socialvalue.tagging import classify_suppliers

    supplier.postcode = "LU1 2AB"
    supplier.save()
    classify_suppliers(
        supplier_ids=[supplier.pk], councils=[council], user=council_admin
    )
    client.force_login(viewer)
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    ).content.decode()
    assert "worked out by the rules (version " in page
    assert ", after a change by alice-admin." in page
    assert "by alice-admin." not in page.replace(", after a change by alice-admin.", "")


def test_a_large_staff_count_is_written_with_thousands_separators(
    client, viewer, council, supplier
):
    supplier.employees = 18343
    supplier.save()
    client.force_login(viewer)
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    )
    assertContains(page, '<dd class="govuk-summary-list__value">18,343</dd>')


def test_saving_an_override_unchanged_records_nothing(
    client, council_officer, council, supplier
):
    """QA: saving the same decision again wrote "changed the officer's decision"."""
    from socialvalue.models import TagOverride

    client.force_login(council_officer)
    url = reverse("socialvalue:tag-override", args=[council.slug, supplier.pk, "vcse"])
    decision = {"value": "yes", "reason": "Registered charity 1234567"}
    client.post(url, decision)
    override = TagOverride.objects.get(supplier=supplier, kind="vcse")
    records = override.history.count()
    response = client.post(url, decision, follow=True)
    assertContains(
        response, "Nothing changed: your decision on Wardown Plumbing stands."
    )
    assert override.history.count() == records


def test_tag_history_says_what_a_tag_was_before(client, viewer, council, supplier):
    """QA: after the local area grew, a supplier's history said only "Location:
    Local (postcode rule)", not that it had been in the wider area."""
    from django.utils import timezone

    from socialvalue.models import SupplierTag

    tag = SupplierTag.objects.create(
        supplier=supplier,
        council=council,
        kind="locality",
        value="wider",
        source="postcode_rule",
        confidence="high",
        decided_at=timezone.now(),
    )
    tag.value = "local"
    tag.save()
    client.force_login(viewer)
    history = _tag_history(client, council, supplier)
    assert history[:2] == [
        "Location: Local, was Wider area (postcode rule)",
        "Location: Wider area (postcode rule)",
    ]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("£1,200,000", "1200000"), ("1200000.50", "1200000.50"), (" £ 950 ", "950")],
)
def test_a_turnover_is_taken_as_people_write_it(
    client, council_officer, council, supplier, typed, kept
):
    """QA: "£1,200,000" was refused; only plain digits were taken."""
    from decimal import Decimal

    client.force_login(council_officer)
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    response = client.post(url, DATA | {"turnover": typed})
    assert response.status_code == 302, response.context["form"].errors
    supplier.refresh_from_db()
    assert supplier.turnover == Decimal(kept)


def test_commas_out_of_place_are_not_read_as_thousands(
    client, council_officer, council, supplier
):
    client.force_login(council_officer)
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    response = client.post(url, DATA | {"turnover": "1,2,3"})
    assertContains(response, "Enter the turnover in pounds, like 120000")


def test_the_living_wage_question_names_the_accreditation(
    client, council_officer, council, supplier
):
    """QA: the edit form's label read "Living wage accredited"."""
    client.force_login(council_officer)
    page = client.get(
        reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    )
    assertContains(page, "Accredited real Living Wage employer")
    assertNotContains(page, "Living wage accredited")


# --- A page opened before someone else's save --------------------------------


def _as_shown(form) -> dict:
    """Each field of `form` as its page shows it: what a save sends back
    unchanged."""
    return {
        name: "" if form[name].value() is None else form[name].value()
        for name in form.fields
    }


def _opened(client, user, url) -> dict:
    """What the edit page, opened by `user`, would send back unchanged: each
    field as shown, and the hidden `seen`."""
    client.force_login(user)
    page = client.get(url)
    form = page.context["form"]
    assert f'name="seen" value="{form["seen"].value()}"' in page.content.decode()
    return _as_shown(form)


def _errors(response) -> str:
    from html import unescape

    page = response.content.decode()
    start = page.index("govuk-error-summary")
    return unescape(page[start : page.index("</ul>", start)])


def _saved_in_two_tabs(client, url, first, second):
    """The edit page at `url` opened by `second` (a user and their change),
    then by `first`; `first` saves their change, then `second` saves theirs
    from the page opened before it. The response to that second save, and what
    its page held."""
    (first_user, first_change), (second_user, second_change) = first, second
    tab_b = _opened(client, second_user, url)
    tab_a = _opened(client, first_user, url)
    assert tab_a["seen"] and tab_b["seen"]
    assert client.post(url, tab_a | first_change).status_code == 302

    client.force_login(second_user)
    response = client.post(url, tab_b | second_change)
    assert response.status_code == 200
    return response, tab_b


def _refused_under_lock(form_class, instance, council, change, meanwhile) -> str:
    """A `form_class` save of `change` from a page of `instance`, validated,
    then `meanwhile` saved by someone else before the lock: checked again
    (refuse_if_stale) on the row as it now is, it is refused. Its error."""
    model = type(instance)
    page = form_class(instance=instance, council=council)
    form = form_class(
        _as_shown(page) | change,
        instance=model.objects.get(pk=instance.pk),
        council=council,
    )
    assert form.is_valid()
    other = model.objects.get(pk=instance.pk)
    for name, value in meanwhile.items():
        setattr(other, name, value)
    other.save()
    assert form.refuse_if_stale(model.objects.get(pk=instance.pk))
    return form.non_field_errors()[0]


def _refused_after_a_save_in_between(
    client, user, url, change, *, form_class, meanwhile, monkeypatch
) -> str:
    """`user` saves `change` from the edit page at `url`, and `meanwhile()`
    saves between the `form_class` form's validation and its save: the page's
    error."""
    tab = _opened(client, user, url)
    validate = form_class.is_valid

    def valid_then_another_save(form):
        valid = validate(form)
        meanwhile()
        return valid

    monkeypatch.setattr(form_class, "is_valid", valid_then_another_save)
    response = client.post(url, tab | change)
    assert response.status_code == 200
    return _errors(response)


@pytest.fixture
def dan(council, django_user_model):
    from councils.models import Membership

    user = django_user_model.objects.create_user("dan-officer")
    Membership.objects.create(user=user, council=council, role="procurement")
    return user


def test_a_save_from_a_page_opened_before_anothers_save_is_refused_not_applied(
    client, council_officer, dan, council, supplier
):
    """QA: with the supplier open in two tabs, the postcode set in one and the
    employees in the other, the second save put the postcode back to blank."""
    import re

    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    response, tab_b = _saved_in_two_tabs(
        client,
        url,
        (council_officer, {"postcode": "LU1 1AA"}),
        (dan, {"employees": "40"}),
    )
    said = _errors(response)
    assert re.search(
        r"Nothing was saved: bob-officer \(at \d\d:\d\d on \d{1,2} \w+ \d{4}\) "
        r"changed Postcode after you opened this page\. Your change to Employees "
        r"is kept in the form; the rest now shows the supplier as it is\. Check "
        r"it, then save again\.",
        said,
    ), said
    supplier.refresh_from_db()
    assert (supplier.postcode, supplier.employees) == ("LU1 1AA", None)
    assert supplier.history.count() == 2  # created, then bob's postcode
    # What was typed stays, and the rest shows the supplier as it is now:
    # saving again keeps both changes.
    form = response.context["form"]
    assert form["employees"].value() == "40"
    assert form["postcode"].value() == "LU1 1AA"
    assert form["seen"].value() != tab_b["seen"]
    assert client.post(url, _as_shown(form)).status_code == 302
    supplier.refresh_from_db()
    assert (supplier.postcode, supplier.employees) == ("LU1 1AA", 40)


def test_the_refusal_does_not_name_another_councils_officer(
    client, council_officer, other_council_officer, council, supplier
):
    """Suppliers are shared: someone at another council is named as the
    supplier's history names them, not by name."""
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    tab = _opened(client, council_officer, url)
    supplier._history_user = other_council_officer
    supplier.postcode = "LU1 1AA"
    supplier.save()
    response = client.post(url, tab | {"employees": "40"})
    said = _errors(response)
    assert "Nothing was saved: someone at another council (at " in said
    assert other_council_officer.username not in said
    supplier.refresh_from_db()
    assert (supplier.postcode, supplier.employees) == ("LU1 1AA", None)


def test_a_change_to_what_the_form_does_not_show_does_not_stop_a_save(
    client, council_officer, council, supplier
):
    """Only the fields the page shows count: Companies House details refreshed
    meanwhile are not undone by the save (the form does not hold them)."""
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    tab = _opened(client, council_officer, url)
    supplier.company_status = "active"
    supplier.save()
    assert client.post(url, tab | {"employees": "40"}).status_code == 302
    supplier.refresh_from_db()
    assert (supplier.company_status, supplier.employees) == ("active", 40)


def test_a_save_from_a_page_with_no_seen_is_not_checked(
    client, council_officer, council, supplier
):
    """A page from before `seen` (or a script): saved as before."""
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    tab = _opened(client, council_officer, url)
    supplier.postcode = "LU1 1AA"
    supplier.save()
    del tab["seen"]
    assert client.post(url, tab | {"employees": "40"}).status_code == 302
    supplier.refresh_from_db()
    assert supplier.employees == 40


def test_a_supplier_save_that_comes_in_between_is_caught_under_the_lock(
    council, supplier
):
    """The check as the form validates and the save are locked together by
    the view's check again (refuse_if_stale) on the locked row."""
    from procure.forms import SupplierForm

    said = _refused_under_lock(
        SupplierForm, supplier, council, {"employees": "40"}, {"postcode": "LU1 1AA"}
    )
    assert "Nothing was saved" in said
    assert "changed Postcode" in said


def test_the_edit_page_checks_again_under_the_lock(
    client, council_officer, council, supplier, monkeypatch
):
    """A save landing between this one's validation and its save is caught by
    the view's check on the locked row."""
    from procure.forms import SupplierForm

    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    said = _refused_after_a_save_in_between(
        client,
        council_officer,
        url,
        {"employees": "40"},
        form_class=SupplierForm,
        meanwhile=lambda: Supplier.objects.filter(pk=supplier.pk).update(
            postcode="LU1 1AA"
        ),
        monkeypatch=monkeypatch,
    )
    assert "changed Postcode after you opened this page" in said
    supplier.refresh_from_db()
    assert (supplier.postcode, supplier.employees) == ("LU1 1AA", None)


def test_a_changed_decision_needs_a_reason_of_its_own(
    client, council_officer, council, supplier
):
    """QA: changing a decision, the form kept the old reason, and the new answer
    was saved with the reason given for the old one."""
    from socialvalue.models import TagOverride

    client.force_login(council_officer)
    url = reverse("socialvalue:tag-override", args=[council.slug, supplier.pk, "vcse"])
    reason = "Registered charity 1234567, checked on the Charity Commission site"
    client.post(url, {"value": "yes", "reason": reason})
    response = client.post(url, {"value": "no", "reason": f"  {reason} "})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == [
        "Say why the decision changes: this is the reason given for “VCSE”."
    ]
    assert TagOverride.objects.get(supplier=supplier).value == "yes"
    # The same answer with the same reason is "nothing changed", as before; a
    # new reason saves the new answer.
    client.post(url, {"value": "no", "reason": "Became a trading company in May"})
    assert TagOverride.objects.get(supplier=supplier).value == "no"


def test_saving_a_supplier_unchanged_records_nothing(
    client, council_officer, council, supplier
):
    """QA: sending the form back as shown, or with a postcode typed as it is
    held but in another case ("lu1 2ab "), added an empty "changed by" entry."""
    client.force_login(council_officer)
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    client.post(url, DATA)
    records = supplier.history.count()
    response = client.post(url, {**DATA, "postcode": "lu1 2ab "}, follow=True)
    assertContains(response, "Nothing was changed: Wardown Plumbing Ltd is as it was.")
    assert supplier.history.count() == records
    client.post(url, {**DATA, "employees": "13"})
    assert supplier.history.count() == records + 1


def test_a_charity_register_needs_its_number(
    client, council_officer, council, supplier
):
    """QA: a register chosen with no number was saved, telling nothing."""
    response = _edit(
        client, council_officer, council, supplier, charity_register="GB-CHC"
    )
    assert response.status_code == 200
    assert response.context["form"].errors["charity_number"] == [
        "Enter the charity's number on that register, or choose “Not a registered "
        "charity”."
    ]
    supplier.refresh_from_db()
    assert supplier.charity_register == ""
    assertContains(
        client.get(reverse("procure:supplier-edit", args=[council.slug, supplier.pk])),
        '<option value="" selected>Not a registered charity</option>',
        html=True,
    )


def test_ticking_checked_moves_the_supplier_out_of_the_dashboards_not_yet_checked(
    client, council_officer, council, supplier
):
    """QA: ticking "Checked" changed no tag, so the tag rollup, which the
    dashboard's "Named suppliers not yet checked" reads, was not recounted: the
    figure stayed as it was and no longer matched the payments it links to."""
    from django.db.models import Sum

    from spend import rollup
    from spend.models import SpendLine, TagMonth

    _edit(client, council_officer, council, supplier)  # tags settle first
    rollup.rebuild(council.pk)

    def unchecked():
        rows = TagMonth.objects.filter(
            council=council, directorate__isnull=True, redacted=False
        )
        return rows.filter(verified=False).aggregate(s=Sum("total"))["s"]

    assert unchecked() == SpendLine.objects.get().amount
    response = _edit(client, council_officer, council, supplier, verified="on")
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert supplier.verified
    assert unchecked() is None


def test_a_supplier_edited_in_the_django_admin_is_tagged_again(
    rf, admin_user, council, supplier
):
    """Staff correcting a postcode in the admin left its location tag, and the
    dashboards, as they were."""
    from django.contrib.admin.sites import site
    from django.forms.models import model_to_dict

    from socialvalue.models import SupplierTag, TagKind

    def located():
        tag = SupplierTag.objects.filter(
            supplier=supplier, council=council, kind=TagKind.LOCALITY
        ).first()
        return tag.value if tag else None

    request = rf.post("/admin/")
    request.user = admin_user
    model_admin = site._registry[Supplier]
    data = {
        key: value
        for key, value in model_to_dict(supplier).items()
        if value is not None
    }
    form = model_admin.get_form(request, supplier)(
        data | {"postcode": "LU1 2AB"}, instance=supplier
    )
    assert form.is_valid(), form.errors
    model_admin.save_model(request, form.save(commit=False), form, True)
    assert located() == "local"
