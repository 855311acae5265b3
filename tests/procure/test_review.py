from decimal import Decimal

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from procure.models import MatchSuggestion
from socialvalue.tagging import classify_suppliers


@pytest.fixture
def queue(council, make_supplier, make_line):
    big = make_supplier(name="Mystery Holdings")  # no postcode, no type: unknowns
    small = make_supplier(name="Tiny Unknown Co")
    known = make_supplier(
        name="Known Plumbing Ltd",
        postcode="LU1 1AA",
        organisation_type="private_company",
        employees=5,
        turnover=Decimal("100000"),
    )
    make_line(council, supplier=big, amount=Decimal("90000"))
    make_line(council, supplier=small, amount=Decimal("600"))
    make_line(council, supplier=known, amount=Decimal("50000"))
    twin = make_supplier(name="Mystery Holdings Group")
    suggestion = MatchSuggestion.objects.create(supplier=big, candidate=twin, score=93)
    classify_suppliers()
    return {"big": big, "small": small, "known": known, "suggestion": suggestion}


def test_unknowns_come_biggest_spend_first(client, viewer, council, queue):
    client.force_login(viewer)
    page = client.get(reverse("procure:review", args=[council.slug]))
    text = page.content.decode()
    assert text.index("Mystery Holdings") < text.index("Tiny Unknown Co")
    assertContains(page, "£90,000.00")
    assertNotContains(page, "Known Plumbing Ltd")


def test_an_officer_says_two_similar_names_are_different(
    client, council_officer, council, queue
):
    client.force_login(council_officer)
    suggestion = queue["suggestion"]
    url = reverse("procure:suggestion-dismiss", args=[council.slug, suggestion.pk])
    client.post(url)
    suggestion.refresh_from_db()
    assert suggestion.dismissed_by == council_officer
    page = client.get(reverse("procure:review", args=[council.slug]))
    assertContains(page, "No possible duplicates to check.")


def test_a_viewer_sees_the_queue_but_cannot_dismiss(client, viewer, council, queue):
    client.force_login(viewer)
    url = reverse(
        "procure:suggestion-dismiss", args=[council.slug, queue["suggestion"].pk]
    )
    assert client.post(url).status_code == 403
