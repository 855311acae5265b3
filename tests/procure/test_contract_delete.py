"""Deleting a contract entered by mistake.

QA (session 13): a contract added by mistake could be corrected but not removed;
setting it to "pipeline" to get rid of it still published it in the OCDS file.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from procure.linking import link_lines, link_spend
from procure.models import Contract, ContractKPI
from socialvalue.models import Commitment, Measure
from spend.models import SpendLine


@pytest.fixture
def elm(make_supplier):
    return make_supplier(name="Elm Design LLP")


@pytest.fixture
def genuine(council, elm):
    return Contract.objects.create(
        council=council,
        reference="LBC-C-0011",
        title="Design services",
        supplier=elm,
        start_date=date(2025, 1, 1),
        end_date=date(2027, 12, 31),
    )


@pytest.fixture
def mistake(council, elm, genuine, make_line):
    """A later contract to the same supplier: it takes the payments it covers
    from the genuine one, one of them linked by hand too."""
    contract = Contract.objects.create(
        council=council,
        reference="LBC-QA-005",
        title="Printing (entered by mistake)",
        supplier=elm,
        start_date=date(2025, 6, 1),
        end_date=date(2025, 12, 31),
    )
    for day in (date(2025, 7, 1), date(2025, 8, 1), date(2026, 2, 1)):
        make_line(council, supplier=elm, payment_date=day, amount=Decimal("250.00"))
    link_spend(council, [genuine, contract])
    early = make_line(council, supplier=elm, payment_date=date(2025, 3, 1))
    link_spend(council, [genuine])
    link_lines(contract, [early.pk])
    return contract


def _url(council, contract) -> str:
    return reverse("procure:contract-delete", args=[council.slug, contract.pk])


def test_an_officer_deletes_a_mistaken_contract_and_its_payments_go_back_to_the_rule(
    client, council, council_officer, genuine, mistake
):
    assert SpendLine.objects.filter(contract=mistake).count() == 3
    client.force_login(council_officer)
    page = client.get(_url(council, mistake))
    assertContains(page, "Delete this contract?")
    assertContains(page, "3 payments, £1,500.00")
    response = client.post(
        _url(council, mistake),
        {"reason": "  Entered by mistake:\n the real one is C-0011 "},
        follow=True,
    )
    assert not Contract.objects.filter(pk=mistake.pk).exists()
    # Every payment, the one linked by hand too, is the genuine contract's again.
    assert SpendLine.objects.filter(contract=genuine).count() == 4
    assert not SpendLine.objects.filter(contract_link_manual=True).exists()
    assertContains(
        response,
        "Deleted contract LBC-QA-005, Printing (entered by mistake). Its 3 payments "
        "went back to the linking rule: 3 to contract LBC-C-0011.",
    )
    # Its history keeps who deleted it and why; the genuine contract's says
    # what it gained.
    record = Contract.history.get(id=mistake.pk, history_type="-")
    assert record.history_user == council_officer
    # The officer's words, then what became of its payments (audit: nothing
    # lasting said how many, or for how much).
    assert record.history_change_reason == (
        "Entered by mistake: the real one is C-0011\n3 payments (£1,500.00) went "
        "back to the linking rule when contract LBC-QA-005 was deleted: 3 "
        "(£1,500.00) moved to contract LBC-C-0011."
    )
    assert genuine.link_changes.filter(
        what__contains="when contract LBC-QA-005 was deleted"
    ).exists()
    assertContains(response, "1 deleted contract")
    listed = client.get(reverse("procure:contracts-deleted", args=[council.slug]))
    assertContains(listed, "LBC-QA-005")
    assertContains(listed, "Entered by mistake: the real one is C-0011")
    assertContains(listed, "by bob-officer")
    assert client.get(mistake.get_absolute_url()).status_code == 404


def test_a_reason_is_needed(client, council, council_officer, mistake):
    client.force_login(council_officer)
    response = client.post(_url(council, mistake), {"reason": "   "})
    assert response.status_code == 200
    assertContains(response, "Say why you are deleting the contract.")
    assert Contract.objects.filter(pk=mistake.pk).exists()


def test_its_kpis_go_with_it(client, council, council_officer, mistake):
    ContractKPI.objects.create(contract=mistake, name="On time", target="95%")
    client.force_login(council_officer)
    assertContains(client.get(_url(council, mistake)), "Its 1 KPI and their ratings")
    client.post(_url(council, mistake), {"reason": "Twice in the register"})
    assert not ContractKPI.objects.filter(contract_id=mistake.pk).exists()


def test_a_contract_with_social_value_commitments_is_not_deleted(
    client, council, council_officer, mistake
):
    Commitment.objects.create(
        contract=mistake,
        measure=Measure.objects.first(),
        quantity=Decimal("10"),
        period_start=date(2025, 6, 1),
        period_end=date(2025, 12, 31),
    )
    client.force_login(council_officer)
    page = client.get(_url(council, mistake))
    assertContains(page, "This contract cannot be deleted")
    assertNotContains(page, "Delete contract LBC-QA-005</button>")
    response = client.post(_url(council, mistake), {"reason": "Mistake"})
    assert response.status_code == 409
    assert Contract.objects.filter(pk=mistake.pk).exists()


def test_only_those_who_keep_the_register_may_delete(
    client, council, viewer, finance_officer, other_council_officer, mistake
):
    url = _url(council, mistake)
    assert client.post(url, {"reason": "x"}).status_code == 302  # to sign in
    for user in (viewer, finance_officer, other_council_officer):
        client.force_login(user)
        assert client.post(url, {"reason": "x"}).status_code in (403, 404)
        assert client.get(url).status_code in (403, 404)
    assert Contract.objects.filter(pk=mistake.pk).exists()


def test_the_detail_page_offers_deletion_only_to_editors(
    client, council, council_officer, viewer, mistake
):
    client.force_login(viewer)
    assertNotContains(client.get(mistake.get_absolute_url()), "Delete this contract")
    client.force_login(council_officer)
    assertContains(client.get(mistake.get_absolute_url()), "Delete this contract")


def test_payments_taken_off_the_deleted_contract_by_hand_go_back_to_the_rule(
    client, council, council_officer, genuine, mistake
):
    """Security review: a payment an officer took off the mistaken contract was
    held off every contract for good once it was deleted (its decision deleted
    with it), never given to the genuine one."""
    from procure.linking import unlink_lines

    line = SpendLine.objects.filter(
        contract=mistake, contract_link_manual=False
    ).first()
    unlink_lines(mistake, [line.pk], user=council_officer)
    line.refresh_from_db()
    assert (line.contract_id, line.contract_link_manual) == (None, True)
    client.force_login(council_officer)
    client.post(_url(council, mistake), {"reason": "Entered by mistake"})
    line.refresh_from_db()
    assert (line.contract_id, line.contract_link_manual) == (genuine.pk, False)


def test_a_deleted_contracts_old_address_says_it_was_deleted(
    client, council, other_council, council_officer, viewer, mistake
):
    """QA: the old address (a bookmark, a link in an email) gave a bare "Not
    found"."""
    client.force_login(council_officer)
    client.post(_url(council, mistake), {"reason": "Entered twice: see LBC-1"})
    client.force_login(viewer)
    page = client.get(mistake.get_absolute_url())
    assert page.status_code == 404
    assertContains(page, f"Contract {mistake.reference} was deleted", status_code=404)
    assertContains(
        page,
        f"by {council_officer.username}: “Entered twice: see LBC-1”",
        status_code=404,
    )
    assertContains(
        page, reverse("procure:contracts-deleted", args=[council.slug]), status_code=404
    )
    # Another council's address for it says nothing of it.
    elsewhere = reverse(
        "procure:contract-detail", args=[other_council.slug, mistake.pk]
    )
    other_page = client.get(elsewhere)
    assert other_page.status_code in (403, 404)
    assertNotContains(other_page, mistake.reference, status_code=other_page.status_code)
