"""Security review: a council administrator could add any account to their
council (Settings → Members → Add) and so read another council's officer's name,
email and last sign-in, and their reasons on shared decisions; and the form's
answers told which usernames existed and which were switched off.

Now only an account that is the council's alone can be added by its
administrator, with one answer for every refusal; a LocalSpend administrator (a
superuser) may add any account. And a member who is, or was, also a member of
another council has their reasons on shared decisions held back: the record does
not say which council they were written for."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from councils.forms import MemberAddForm
from councils.models import Membership
from socialvalue.models import TagOverride
from socialvalue.tagging import classify_suppliers

REFUSAL = "can be added here. Check the spelling, or create a new account for them"
# What the form said before, each telling something of another council's account.
PRECISE = ("There is no LocalSpend account", "” is switched off", "already a member")


def add_url(council) -> str:
    return reverse("councils:settings-member-add", args=[council.slug])


def add(client, council, username: str, role: str = "viewer"):
    return client.post(
        add_url(council),
        {"account": "existing", "existing_username": username, "role": role},
    )


def errors_of(response) -> str:
    page = response.content.decode()
    assert response.status_code == 200
    start = page.index("govuk-error-summary")
    return page[start : page.index("</ul>", start)]


@pytest.fixture
def admin_client(client, council_admin):
    client.force_login(council_admin)
    return client


@pytest.fixture
def accounts(other_council, other_council_officer, django_user_model):
    """Accounts a Luton administrator may not add, whatever the reason."""
    users = django_user_model.objects
    left = users.create_user("kim-left-knowsley")
    Membership.objects.create(user=left, council=other_council, role="viewer")
    Membership.objects.get(user=left).delete()
    return {
        "knowsley's officer": other_council_officer,
        "switched off": users.create_user("sid-switched-off", is_active=False),
        "a LocalSpend administrator": users.create_user(
            "root-operator", is_superuser=True
        ),
        "a former member of Knowsley": left,
    }


def test_another_councils_officer_cannot_be_added_by_a_council_administrator(
    admin_client, council, other_council_officer
):
    response = add(admin_client, council, "oscar-outsider")
    summary = errors_of(response)
    assert REFUSAL in summary
    assert "only by a LocalSpend administrator" in summary
    assert not Membership.objects.filter(
        user=other_council_officer, council=council
    ).exists()
    members = admin_client.get(
        reverse("councils:settings-members", args=[council.slug])
    )
    assertNotContains(members, "oscar-outsider")


def test_every_refusal_is_the_same_answer(admin_client, council, accounts):
    """No account, switched off, another council's (now or before), a
    LocalSpend administrator's: one answer, so no username can be probed."""
    answers = {}
    for username in ["no-such-person", *(u.username for u in accounts.values())]:
        summary = errors_of(add(admin_client, council, username))
        for words in PRECISE:
            assert words not in summary, (username, summary)
        answers[username] = re.sub(r"“[^”]*”", "“…”", summary.replace(username, "…"))
    assert len(set(answers.values())) == 1, answers
    assert REFUSAL in next(iter(answers.values()))
    assert Membership.objects.filter(council=council).count() == 1  # alice only


def test_the_councils_own_accounts_can_still_be_added(
    admin_client, council, council_officer, django_user_model
):
    """Re-adding a member removed from this council, and adding an account made
    without a council, work as before."""
    Membership.objects.get(user=council_officer, council=council).delete()
    fresh = django_user_model.objects.create_user("nina-new")
    for user, role in ((council_officer, "procurement"), (fresh, "finance")):
        response = add(admin_client, council, user.username.upper(), role)
        assert response.status_code == 302, errors_of(response)
        assert Membership.objects.get(user=user, council=council).role == role
    # A member already: told so (the list of members shows them anyway).
    summary = errors_of(add(admin_client, council, "bob-officer"))
    assert "bob-officer is already a member of Luton" in summary


def test_a_localspend_administrator_may_add_any_account_and_is_told_why_not(
    council, other_council_officer, accounts, django_user_model
):
    root = accounts["a LocalSpend administrator"]

    def form(username):
        data = {"account": "existing", "existing_username": username, "role": "viewer"}
        return MemberAddForm(data, council=council, by=root)

    added = form("oscar-outsider")
    assert added.is_valid(), added.errors
    assert added.user == other_council_officer
    assert "There is no LocalSpend account with the username “nobody”" in str(
        form("nobody").errors
    )
    assert "is switched off" in str(form("sid-switched-off").errors)
    # Anyone else, or no one said: refused.
    for by in (None, django_user_model.objects.create_user("ann-other")):
        refused = MemberAddForm(
            {"account": "existing", "existing_username": "oscar-outsider"},
            council=council,
            by=by,
        )
        assert not refused.is_valid()
        assert REFUSAL in str(refused.errors["existing_username"])


# --- Reasons on shared decisions by a member of two councils ------------------


def _supplier_page(client, council, supplier) -> str:
    return client.get(
        reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    ).content.decode()


def _override_page(client, council, supplier) -> str:
    return client.get(
        reverse("socialvalue:tag-override", args=[council.slug, supplier.pk, "size"])
    ).content.decode()


def test_a_reason_by_a_member_of_two_councils_is_shown_at_neither(
    client,
    council,
    other_council,
    council_officer,
    other_council_officer,
    make_supplier,
    make_line,
):
    """Bob, Luton's officer, is also made a member of Knowsley (by a LocalSpend
    administrator). His size decision, shared by every council, may have been
    made for Luton: Knowsley is not shown its reason, though he is a member there
    too. Knowsley-only decisions stay readable to Knowsley."""
    supplier = make_supplier(name="Beacon Cleaning Ltd")
    make_line(council, supplier=supplier)
    make_line(other_council, supplier=supplier)
    TagOverride.objects.create(
        supplier=supplier,
        kind="size",
        value="small",
        reason="Luton's confidential note: per the director",
        created_by=council_officer,
    )
    classify_suppliers(supplier_ids=[supplier.pk])
    client.force_login(other_council_officer)
    before = _supplier_page(client, other_council, supplier)
    assert "Set by someone at another council on" in before
    assert "for a reason given there" in before
    Membership.objects.create(
        user=council_officer, council=other_council, role="viewer"
    )
    for page in (
        _supplier_page(client, other_council, supplier),
        _override_page(client, other_council, supplier),
    ):
        assert "Luton&#x27;s confidential note" not in page
        assert "Set by bob-officer on" in page
        assert "for a reason not shown here" in page
    # A decision by a member of Knowsley alone: Knowsley reads its reason.
    TagOverride.objects.filter(supplier=supplier).update(
        created_by=other_council_officer, reason="Knowsley checked the accounts"
    )
    assertContains(
        client.get(
            reverse("procure:supplier-detail", args=[other_council.slug, supplier.pk])
        ),
        "Knowsley checked the accounts",
    )
