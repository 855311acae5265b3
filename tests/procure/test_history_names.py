"""One rule names people in every history a council reads (councils.access.People):
Settings → History and a contract's page say the same of the same person."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from councils.access import People, history_who
from councils.models import Membership
from procure.models import Contract


@pytest.fixture
def people(council, other_council, other_council_officer, django_user_model):
    former = django_user_model.objects.create_user("fred-former")
    Membership.objects.create(user=former, council=council, role="procurement")
    Membership.objects.get(user=former, council=council).delete()
    # Left Luton for Knowsley: still named to Luton for what was done at Luton.
    Membership.objects.create(user=former, council=other_council, role="procurement")
    return {
        "former": former,
        # A superuser who is not staff acts as administrator at every council.
        "root": django_user_model.objects.create_user(
            "root-operator", is_superuser=True
        ),
        "outsider": other_council_officer,
        "staff": django_user_model.objects.create_user("sam-staff", is_staff=True),
    }


EXPECTED = {
    "former": "fred-former",
    "root": "a LocalSpend administrator",
    "outsider": "someone who is not a member of Luton",
    "staff": "someone who is not a member of Luton",
}


def _text(response) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_settings_history_and_a_contracts_history_name_people_alike(
    client, council, council_admin, people
):
    contract = Contract.objects.create(
        council=council,
        reference="LBC-7",
        title="Title 0",
        start_date=date(2025, 4, 1),
        status="pipeline",
    )
    for n, (key, user) in enumerate(people.items(), start=1):
        council.public_pages_enabled = not council.public_pages_enabled
        council._history_user = user
        council.save()
        contract.title = f"Title {n} by {key}"
        contract._history_user = user
        contract.save()
    client.force_login(council_admin)
    settings_page = _text(
        client.get(reverse("councils:settings-history", args=[council.slug]))
    )
    contract_page = _text(client.get(contract.get_absolute_url()))
    for n, key in enumerate(people, start=1):
        words = EXPECTED[key]
        switched = "on" if n % 2 else "off"
        assert f"{words} Switched the public pages {switched}" in settings_page, key
        assert re.search(
            rf"changed by {words} .{{0,200}}Title {n} by {key}", contract_page
        ), key
    for hidden in ("root-operator", "oscar-outsider", "sam-staff", "Knowsley"):
        assert hidden not in settings_page and hidden not in contract_page


def test_history_who_is_the_rule_for_what_was_done_here(council, people):
    who, rule = history_who(council), People(council)
    for key, user in people.items():
        record = council.history.model(history_user=user)
        record.history_user_id = user.pk
        assert who(record) == rule.name(user.pk, user, here=True) == EXPECTED[key]
    assert who(council.history.model()) == "the system"


def test_on_what_every_council_shares_a_former_member_is_not_named(
    client, council, council_officer, people, make_supplier, make_line
):
    supplier = make_supplier(name="Wardown Care Ltd")
    make_line(council, supplier=supplier)
    for user in people.values():
        supplier.employees = (supplier.employees or 0) + 1
        supplier._history_user = user
        supplier.save()
    rule = People(council)
    shared = {key: rule.name(u.pk, u, here=False) for key, u in people.items()}
    assert shared == {
        # Since leaving, they may have changed it for another council: unnamed.
        "former": "a former member of Luton",
        "root": "a LocalSpend administrator",
        "outsider": "someone at another council",
        "staff": "someone at another council",
    }
    client.force_login(council_officer)
    page = _text(
        client.get(reverse("procure:supplier-detail", args=[council.slug, supplier.pk]))
    )
    assert "changed by a LocalSpend administrator" in page
    assert "changed by a former member of Luton" in page
    assert page.count("changed by someone at another council") == 2
    for hidden in ("fred-former", "root-operator", "oscar-outsider", "sam-staff"):
        assert hidden not in page


def test_targets_social_value_and_uploads_name_people_by_the_same_rule(
    client, council, council_admin, people, make_upload
):
    """The target history, a contract's social value history and the upload
    pages name a superuser, a former member and an outsider as settings do."""
    from socialvalue.models import Commitment, Measure, Target

    contract = Contract.objects.create(
        council=council, reference="LBC-8", title="Care", start_date=date(2025, 4, 1)
    )
    measure = Measure.objects.get(code="LS-JOBS-03")
    uploads = {}
    for n, (key, user) in enumerate(people.items(), start=1):
        target = Target(
            council=council,
            metric="local",
            baseline_year=2010 + 2 * n,
            baseline_share=20,
            target_year=2011 + 2 * n,
            target_share=30,
        )
        target._history_user = user
        target.save()
        commitment = Commitment(
            contract=contract,
            measure=measure,
            quantity=n,
            period_start=date(2025, 4, 1),
            period_end=date(2026, 3, 31),
        )
        commitment._history_user = user
        commitment.save()
        uploads[key] = make_upload(council, file_name=f"{key}.csv", uploaded_by=user)
    client.force_login(council_admin)
    targets = _text(client.get(reverse("socialvalue:targets", args=[council.slug])))
    social = _text(
        client.get(reverse("socialvalue:contract", args=[council.slug, contract.pk]))
    )
    listed = _text(client.get(reverse("spend:uploads", args=[council.slug])))
    for key, words in EXPECTED.items():
        assert f"by {words}" in targets, key
        assert words in social, key
        assert f"by {words}" in listed, key
        upload = uploads[key]
        page = _text(
            client.get(reverse("spend:upload-detail", args=[council.slug, upload.pk]))
        )
        assert f"by {words}." in page, key
    for hidden in ("root-operator", "oscar-outsider", "sam-staff"):
        assert hidden not in targets + social + listed


def test_a_former_members_shared_decision_says_so_and_keeps_its_reason_back(
    client, council, council_officer, people, make_supplier, make_line
):
    """A size decision by someone who has since left: "a former member of Luton",
    not "someone at another council", and the reason held back without saying
    it was given at another council."""
    from socialvalue.models import TagOverride
    from socialvalue.tagging import classify_suppliers

    supplier = make_supplier(name="Wardown Care Ltd")
    make_line(council, supplier=supplier)
    TagOverride.objects.create(
        supplier=supplier,
        council=None,
        kind="size",
        value="small",
        reason="Accounts for 2024 seen",
        created_by=people["former"],
    )
    # The run is the system's: the location tag it writes is Luton's own.
    classify_suppliers(supplier_ids=[supplier.pk])
    client.force_login(council_officer)
    page = _text(
        client.get(reverse("procure:supplier-detail", args=[council.slug, supplier.pk]))
    )
    assert "Set by a former member of Luton on" in page
    assert "for a reason not shown here" in page
    assert "Accounts for 2024 seen" not in page
    assert "fred-former" not in page
    form = _text(
        client.get(
            reverse(
                "socialvalue:tag-override", args=[council.slug, supplier.pk, "size"]
            )
        )
    )
    assert "Set by a former member of Luton" in form
    assert "for a reason not shown here" in form
    assert "reason given there" not in form


def test_a_merges_history_names_suppliers_without_record_numbers(
    client, council, council_officer, make_supplier, make_line
):
    """QA: "(Supplier Ashcroft Joinery Services (#276) merged into Ashcroft
    Joinery LLP)" and "Merge into Ashcroft Joinery LLP (#31) undone": internal
    ids on the supplier's and the contract's pages."""
    from procure.models import SupplierMerge

    kept = make_supplier(name="Ashcroft Joinery LLP")
    dupe = make_supplier(name="Ashcroft Joinery Services")
    make_line(council, supplier=dupe)
    make_line(council, supplier=kept)
    contract = Contract.objects.create(
        council=council,
        reference="QA-701",
        title="Joinery",
        supplier=dupe,
        start_date=date(2025, 4, 1),
    )
    client.force_login(council_officer)
    client.post(
        reverse("procure:supplier-merge", args=[council.slug, dupe.pk, kept.pk]),
        {"reason": "Same firm"},
    )
    record = SupplierMerge.objects.get()
    client.post(reverse("procure:merge-undo", args=[council.slug, record.pk]))
    supplier_page = _text(
        client.get(reverse("procure:supplier-detail", args=[council.slug, dupe.pk]))
    )
    contract_page = _text(
        client.get(reverse("procure:contract-detail", args=[council.slug, contract.pk]))
    )
    for page in (supplier_page, contract_page):
        assert "(#" not in page
    assert "Merge into Ashcroft Joinery LLP undone" in supplier_page
    assert (
        "Supplier Ashcroft Joinery Services merged into Ashcroft Joinery LLP"
        in contract_page
    )
