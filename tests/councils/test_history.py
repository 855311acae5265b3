"""Settings → History: who changed the council's local area, public pages and
members, and when, as a council administrator reads it in the app; and who entered,
changed or removed the proxy values. Saving a setting unchanged records nothing."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from councils import views
from councils.access import history_who
from councils.models import Membership
from socialvalue.models import Measure, ProxyValue, SupplierTag
from socialvalue.tagging import classify_suppliers


def url(name: str, council, *args) -> str:
    return reverse(name, args=[council.slug, *args])


HISTORY = "councils:settings-history"


@pytest.fixture
def admin_client(client, council_admin):
    client.force_login(council_admin)
    return client


def area_data(council, **changes) -> dict:
    """The local area form as it shows the council now, with `changes`."""
    data = {
        "local_districts": ", ".join(council.local_districts),
        "local_authority_codes": ", ".join(council.local_authority_codes),
        "wider_kind": council.wider_kind,
        "wider_label": council.wider_label,
        "wider_districts": ", ".join(council.wider_districts),
        "wider_authority_codes": ", ".join(council.wider_authority_codes),
        "wider_region": council.wider_region,
        "wider_radius_miles": council.wider_radius_miles or "",
        "wider_centre_district": council.wider_centre_district,
        "area_notes": council.area_notes,
    }
    data.update(changes)
    return data


def rows(response) -> list[str]:
    """The history table's rows, as text, newest first."""
    assert response.status_code == 200
    page = response.content.decode()
    body = page[page.index("<tbody") : page.index("</tbody>")]
    cells = body.split('<tr class="govuk-table__row">')[1:]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in cells]


# --- Who may read it ----------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(client, council):
    response = client.get(url(HISTORY, council))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("who", ["viewer", "council_officer", "finance_officer"])
def test_only_administrators_read_the_history(client, council, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url(HISTORY, council)).status_code == 403


def test_another_councils_administrator_gets_404(
    client, council, other_council_officer
):
    client.force_login(other_council_officer)
    assert client.get(url(HISTORY, council)).status_code == 404


def test_the_settings_pages_link_the_history(admin_client, council):
    history = url(HISTORY, council)
    for name in ("councils:settings", "councils:settings-members"):
        assertContains(admin_client.get(url(name, council)), f'href="{history}"')
    page = admin_client.get(history)
    assertContains(page, f'href="{history}" aria-current="page"')


# --- What it says -------------------------------------------------------------------


def test_area_public_pages_and_member_changes_are_listed_newest_first(
    admin_client, council, council_admin, council_officer
):
    admin_client.post(
        url("councils:settings-area", council),
        area_data(
            council,
            local_districts="LU1, LU2, LU3, LU4, LU5",
            wider_label="Bedfordshire",
            area_notes="Dunstable counts as local.",
        ),
    )
    admin_client.post(
        url("councils:settings-public", council), {"public_pages_enabled": "yes"}
    )
    officer = Membership.objects.get(user=council_officer, council=council)
    admin_client.post(
        url("councils:settings-member-role", council),
        {"member": officer.pk, "role": "finance"},
    )
    admin_client.post(
        url("councils:settings-member-remove", council), {"member": officer.pk}
    )

    found = rows(admin_client.get(url(HISTORY, council)))
    assert "alice-admin Removed bob-officer, who was finance officer" in found[0]
    assert (
        "alice-admin Changed bob-officer’s role from procurement officer to "
        "finance officer" in found[1]
    )
    assert "alice-admin Switched the public pages on" in found[2]
    assert "Public pages: off → on" in found[2]
    area = found[3]
    assert "alice-admin Changed the local area" in area
    assert (
        "Local postcode districts: LU1, LU2, LU3, LU4 → LU1, LU2, LU3, LU4, LU5 "
        "(added LU5)" in area
    )
    assert "Name of the wider area: — → Bedfordshire" in area
    assert "Notes on the area: — → Dunstable counts as local." in area
    # The council and the fixture's members, made by no one (the system), last.
    assert "the system Set up the council in LocalSpend" in found[-1]
    assert "the system Added alice-admin as council administrator" in found[-2]
    assert "the system Added bob-officer as procurement officer" in found[-3]


def test_a_radius_and_a_change_of_kind_read_in_words(admin_client, council):
    admin_client.post(
        url("councils:settings-area", council),
        area_data(
            council,
            wider_kind="radius",
            wider_radius_miles="20",
            wider_centre_district="LU1",
        ),
    )
    (area, *_) = rows(admin_client.get(url(HISTORY, council)))
    assert (
        "How the wider area is defined: A list of postcode districts → "
        "A radius around a centre" in area
    )
    assert "Radius of the wider area: — → 20 miles" in area
    assert "Centre of the wider area: — → LU1" in area
    assert area.index("How the wider area") < area.index("Radius")  # form order


def test_a_long_list_of_codes_says_what_was_added_and_removed(council):
    change = views._list_change(
        "Local postcode districts",
        [f"MK{n}" for n in range(1, 20)],
        [f"MK{n}" for n in range(2, 21)],
    )
    assert change == {
        "field": "Local postcode districts",
        "old": "19 codes",
        "new": "19 codes",
        "note": "added MK20; removed MK1",
    }
    assert views._list_change("x", ["LU1", "LU2"], ["LU2", "LU1"])["note"] == (
        "the same codes, in another order"
    )


def test_other_councils_people_and_changes_are_never_shown(
    admin_client, council, other_council, other_council_officer, django_user_model
):
    # A change to Luton's members made by someone who is not a Luton member (as
    # if through the Django admin), and by a superuser.
    newcomer = django_user_model.objects.create_user("nina-newcomer")
    membership = Membership(user=newcomer, council=council, role="viewer")
    membership._history_user = other_council_officer
    membership.save()
    root = django_user_model.objects.create_superuser("root-operator")
    membership.role = "finance"
    membership._history_user = root
    membership.save()
    # Knowsley's own changes.
    kim = django_user_model.objects.create_user("kim-knowsley")
    Membership.objects.create(user=kim, council=other_council, role="viewer")
    other_council.public_pages_enabled = True
    other_council.save()

    response = admin_client.get(url(HISTORY, council))
    found = rows(response)
    assert (
        "a LocalSpend administrator Changed nina-newcomer’s role from cabinet "
        "member or councillor (read only) to finance officer" in found[0]
    )
    assert "someone who is not a member of Luton Added nina-newcomer" in found[1]
    for hidden in ("oscar-outsider", "root-operator", "kim-knowsley", "Knowsley"):
        assertNotContains(response, hidden)


def test_a_former_member_is_still_named_for_what_they_did(
    client, council, council_admin, django_user_model
):
    former = django_user_model.objects.create_user("fred-former")
    Membership.objects.create(user=former, council=council, role="admin")
    client.force_login(former)
    client.post(
        url("councils:settings-public", council), {"public_pages_enabled": "yes"}
    )
    Membership.objects.get(user=former).delete()
    client.force_login(council_admin)
    found = rows(client.get(url(HISTORY, council)))
    assert "fred-former Switched the public pages on" in found[1]


def test_the_history_is_paginated(admin_client, council, django_user_model):
    for n in range(30):
        user = django_user_model.objects.create_user(f"user-{n:02d}")
        Membership.objects.create(user=user, council=council, role="viewer")
    # 33 changes: the council set up, its administrator, these 30 and one more.
    admin_client.post(
        url("councils:settings-public", council), {"public_pages_enabled": "yes"}
    )
    first = admin_client.get(url(HISTORY, council))
    assertContains(first, "Changes 1 to 25 of 33")
    assert "Switched the public pages on" in rows(first)[0]
    assertContains(first, 'href="?page=2" rel="next"')
    second = admin_client.get(url(HISTORY, council), {"page": "2"})
    assertContains(second, "Changes 26 to 33 of 33")
    assert "Set up the council in LocalSpend" in rows(second)[-1]
    for odd in ("999", "nonsense", "-1"):  # a page out of range: one that exists
        assert admin_client.get(url(HISTORY, council), {"page": odd}).status_code == 200


def test_the_page_reads_the_history_in_a_few_queries(
    admin_client, council, django_user_model, django_assert_max_num_queries
):
    for n in range(20):
        user = django_user_model.objects.create_user(f"user-{n:02d}")
        Membership.objects.create(user=user, council=council, role="viewer")
        council.wider_label = f"Area {n}"
        council.save()
    with django_assert_max_num_queries(20):
        admin_client.get(url(HISTORY, council))


# --- Saving unchanged records nothing -----------------------------------------------


@pytest.fixture
def tagged(council, make_supplier, make_line):
    firm = make_supplier(name="Dunstable Joinery Ltd", postcode="LU5 4AB")
    make_line(council, supplier=firm)
    classify_suppliers(councils=[council])
    return firm


def test_saving_the_local_area_unchanged_writes_no_history_and_reclassifies_no_one(
    admin_client, council, tagged, monkeypatch
):
    def refuse(**kwargs):
        raise AssertionError("reclassified with nothing changed")

    monkeypatch.setattr(views, "classify_suppliers", refuse)
    before = council.history.count()
    tags = SupplierTag.history.count()
    # Typed differently (lower case, new lines), but the same area.
    data = area_data(council, local_districts="lu1\nlu2\nlu3\nlu4")
    response = admin_client.post(
        url("councils:settings-area", council), data, follow=True
    )
    assert response.redirect_chain[-1][0] == url("councils:settings", council)
    assertContains(response, "Nothing changed: Luton’s local area is as it was")
    assert council.history.count() == before
    assert SupplierTag.history.count() == tags


def test_changing_only_the_notes_is_recorded_without_reclassifying(
    admin_client, council, tagged, monkeypatch
):
    def refuse(**kwargs):
        raise AssertionError("reclassified for a note")

    monkeypatch.setattr(views, "classify_suppliers", refuse)
    before = council.history.count()
    response = admin_client.post(
        url("councils:settings-area", council),
        area_data(council, area_notes="Agreed by cabinet in May."),
        follow=True,
    )
    assertContains(response, "Saved the notes on the area")
    council.refresh_from_db()
    assert council.area_notes == "Agreed by cabinet in May."
    assert council.history.count() == before + 1


def test_saving_the_public_pages_unchanged_writes_no_history(admin_client, council):
    before = council.history.count()
    response = admin_client.post(
        url("councils:settings-public", council),
        {"public_pages_enabled": "no"},
        follow=True,
    )
    assertContains(response, "Nothing changed: the public pages were already off.")
    assert council.history.count() == before


# --- Proxy values -------------------------------------------------------------------


def test_the_proxy_values_page_says_who_entered_changed_and_removed_each(
    admin_client, council, other_council, other_council_officer
):
    measure = Measure.objects.order_by("code").first()
    new = url("socialvalue:proxy-value-new", council)
    admin_client.post(
        new,
        {"measure": measure.pk, "year": "2025/26", "value": "12.5", "source": "TOMs"},
    )
    value = ProxyValue.objects.get(council=council)
    admin_client.post(
        url("socialvalue:proxy-value-edit", council, value.pk),
        {
            "measure": measure.pk,
            "year": "2025/26",
            "value": "14",
            "source": "TOMs 2024",
        },
    )
    admin_client.post(url("socialvalue:proxy-value-remove", council, value.pk))
    knowsley = ProxyValue(
        council=other_council, measure=measure, year=2025, value=9, source="Own"
    )
    knowsley._history_user = other_council_officer
    knowsley.save()

    response = admin_client.get(url("socialvalue:proxy-values", council))
    page = " ".join(response.content.decode().split())
    label = f"{measure.code} in 2025/26"
    removed = page.index(f"Removed {label}, which was £14.00")
    changed = page.index(f"Changed {label}, by alice-admin")
    entered = page.index(f"Entered {label}: £12.50")
    assert removed < changed < entered  # newest first
    assert "Value: £12.50" in page and "→ £14.00" in page
    assert "Source: TOMs → TOMs 2024" in page
    assert page.count("by alice-admin") == 3
    assert "oscar-outsider" not in page and "£9.00" not in page


def test_the_proxy_values_page_says_when_nothing_has_changed(admin_client, council):
    response = admin_client.get(url("socialvalue:proxy-values", council))
    assertContains(response, "No changes recorded yet.")


def test_history_who_names_members_only(council, council_admin, other_council_officer):
    who = history_who(council)
    record = council.history.model(history_user=council_admin)
    record.history_user_id = council_admin.pk
    assert who(record) == "alice-admin"
    record = council.history.model(history_user=other_council_officer)
    record.history_user_id = other_council_officer.pk
    assert who(record) == "someone who is not a member of Luton"
    assert who(council.history.model()) == "the system"
    assert get_user_model().objects.filter(username="oscar-outsider").exists()


def test_a_value_saved_by_a_script_is_put_to_whoever_it_names(
    admin_client, council, council_admin
):
    measure = Measure.objects.order_by("code").first()
    ProxyValue.objects.create(  # as load_demo does: no request, no history user
        council=council,
        measure=measure,
        year=2025,
        value=5,
        source="Demo",
        entered_by=council_admin,
    )
    response = admin_client.get(url("socialvalue:proxy-values", council))
    page = " ".join(response.content.decode().split())
    assert f"Entered {measure.code} in 2025/26: £5.00" in page
    assert "by alice-admin" in page and "by the system" not in page
