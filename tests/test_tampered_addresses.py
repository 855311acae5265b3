"""Addresses and forms changed by hand: odd numbers in the query string or the
form get a page (with a message where one is due), never a server error."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from procure.models import Contract

LISTS = [
    "spend:uploads",
    "spend:lines",
    "procure:suppliers",
    "procure:contracts",
    "procure:off-contract",
]


@pytest.fixture
def lines(council, make_supplier, make_line):
    supplier = make_supplier(name="Wardown Plumbing Ltd")
    return [
        make_line(council, supplier=supplier, amount=Decimal(amount))
        for amount in ("100.00", "250.50", "999.99")
    ]


@pytest.mark.parametrize("route", LISTS)
@pytest.mark.parametrize("per_page", ["-1", "0", "99999999999", "1e3", "²"])
def test_a_list_ignores_a_page_size_it_cannot_use(
    client, viewer, council, lines, route, per_page
):
    client.force_login(viewer)
    url = reverse(route, args=[council.slug])
    response = client.get(url, {"per_page": per_page, "page": "-4"})
    assert response.status_code == 200


def test_a_sensible_page_size_is_still_honoured(client, viewer, council, lines):
    client.force_login(viewer)
    url = reverse("spend:lines", args=[council.slug])
    response = client.get(url, {"per_page": "2"})
    assert len(response.context["table"].page.object_list) == 2


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("supplier_id", "99999999999999999999999", "The supplier in this page's"),
        ("upload", "-3", "The upload in this page's address is not one"),
        ("contract", "1.5", "The contract in this page's address is not one"),
        ("amount_max", "1e30", "Enter an amount under £1,000,000,000,000."),
        ("amount_min", "1e28", "Enter an amount under £1,000,000,000,000."),
        ("amount_min", "10.001", "Enter an amount in pounds and pence"),
    ],
)
def test_a_number_the_database_cannot_hold_is_an_invalid_filter(
    client, viewer, council, lines, field, value, message
):
    client.force_login(viewer)
    response = client.get(reverse("spend:lines", args=[council.slug]), {field: value})
    assert response.status_code == 200
    assert message in response.context["filter"].errors[field][0]
    # A filter typed wrong does not narrow the list; a broken link's number
    # (a hidden field) shows no payments, not all of them as if they were the
    # figure followed (QA).
    linked = field in ("supplier_id", "upload", "contract")
    shown = response.context["table"].page.paginator.count
    assert shown == (0 if linked else len(lines))


def test_the_contract_value_filter_is_bounded_too(client, viewer, council):
    client.force_login(viewer)
    url = reverse("procure:contracts", args=[council.slug])
    response = client.get(url, {"value_min": "1e30"})
    assert response.status_code == 200
    assert (
        "Enter an amount under £1,000,000,000,000."
        in (response.context["filter"].errors["value_min"][0])
    )


@pytest.mark.parametrize("sent", ["²", "99999999999999999999", "-1", "x"])
def test_linking_payments_named_by_odd_numbers_links_nothing(
    client, council, council_officer, lines, sent
):
    contract = Contract.objects.create(
        council=council, reference="C1", title="Boilers", start_date="2025-04-01"
    )
    client.force_login(council_officer)
    url = reverse("procure:contract-lines", args=[council.slug, contract.pk])
    response = client.post(url, {"action": "link", "lines": [sent]}, follow=True)
    assert response.status_code == 200
    assert "Choose at least one payment" in response.content.decode()
    assert not contract.spend_lines.exists()


def test_asking_for_rejected_rows_that_are_no_longer_kept_says_so(
    client, council, council_officer
):
    client.force_login(council_officer)
    url = reverse("procure:contract-import", args=[council.slug])
    response = client.post(
        url, {"step": "rejected", "kept": f"{council.slug}/{'a' * 64}.csv"}
    )
    assert response.status_code == 200
    assert "no longer kept" in response.content.decode()


def test_a_download_name_with_quotes_is_escaped():
    from spend.export import csv_response

    response = csv_response('a"b.csv', ["x"], [])
    assert response["Content-Disposition"] == 'attachment; filename="a\\"b.csv"'


@pytest.mark.parametrize(
    "sent, field, message",
    [
        (
            {"date_from": "2025-04-01", "date_to": "2025-03-01"},
            "date_to",
            "must be on or after",
        ),
        ({"amount_min": "50", "amount_max": "10"}, "amount_max", "must be at least"),
    ],
)
def test_a_range_the_wrong_way_round_is_an_error_not_an_empty_list(
    client, viewer, council, lines, sent, field, message
):
    client.force_login(viewer)
    response = client.get(reverse("spend:lines", args=[council.slug]), sent)
    assert message in response.context["filter"].errors[field][0]
    # Only the first end filters: the list is not emptied by the slip.
    assert response.context["table"].page.paginator.count > 0
    assert message in response.content.decode()
