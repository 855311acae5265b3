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


def test_saying_different_again_from_a_stale_tab_records_nothing_more(
    client, council_officer, council, queue
):
    """QA: "Different" from a second tab said "Noted" again and wrote a second
    identical history line."""
    client.force_login(council_officer)
    suggestion = queue["suggestion"]
    url = reverse("procure:suggestion-dismiss", args=[council.slug, suggestion.pk])
    client.post(url)
    page = client.post(url, follow=True)
    assertContains(page, "Already noted by bob-officer on ")
    assert suggestion.history.count() == 2  # created, then dismissed once


def test_a_pair_with_two_registered_numbers_is_not_offered_to_merge(
    client, council_officer, council, queue
):
    """QA: the queue's "Same: merge" led to "cannot be merged" for pairs whose
    Companies House numbers differ (numbers added after the suggestion)."""
    big, twin = queue["suggestion"].supplier, queue["suggestion"].candidate
    big.company_number, twin.company_number = "01111111", "02222222"
    big.save()
    twin.save()
    client.force_login(council_officer)
    page = client.get(reverse("procure:review", args=[council.slug]))
    assertContains(page, "Not the same: Mystery Holdings and Mystery Holdings Group")
    assertContains(page, "Companies House numbers 01111111 and 02222222")
    merge = reverse("procure:supplier-merge", args=[council.slug, big.pk, twin.pk])
    assertNotContains(page, merge)
    assertContains(page, "Different<span")


def test_a_viewer_sees_the_queue_but_cannot_dismiss(client, viewer, council, queue):
    client.force_login(viewer)
    url = reverse(
        "procure:suggestion-dismiss", args=[council.slug, queue["suggestion"].pk]
    )
    assert client.post(url).status_code == 403


def test_suggestions_come_biggest_spend_with_the_new_name_first(
    client, viewer, council, other_council, queue, make_supplier, make_line
):
    """Spend decides the order, then the score; another council's spend with the
    same supplier does not count."""
    pricey = make_supplier(name="Pricey Newcomer Ltd")
    make_line(council, supplier=pricey, amount=Decimal("150000.25"))
    make_line(council, supplier=pricey, amount=Decimal("0.50"))
    make_line(other_council, supplier=queue["small"], amount=Decimal("999999"))
    MatchSuggestion.objects.create(
        supplier=pricey, candidate=make_supplier(name="Pricey Ltd"), score=71
    )
    MatchSuggestion.objects.create(
        supplier=queue["small"],
        candidate=make_supplier(name="Tiny Unknown Company"),
        score=99,
    )
    MatchSuggestion.objects.create(
        supplier=queue["big"],
        candidate=make_supplier(name="Mystery Holding"),
        score=95,
    )
    client.force_login(viewer)
    page = client.get(reverse("procure:review", args=[council.slug]))
    rows = [
        (s.supplier.name, s.candidate.name, s.spend)
        for s in page.context["suggestions"]
    ]
    assert rows == [
        ("Pricey Newcomer Ltd", "Pricey Ltd", Decimal("150000.75")),
        ("Mystery Holdings", "Mystery Holding", Decimal("90000")),  # 95 before 93
        ("Mystery Holdings", "Mystery Holdings Group", Decimal("90000")),
        ("Tiny Unknown Co", "Tiny Unknown Company", Decimal("600")),
    ]
    assertContains(page, "£150,000.75")
    assertContains(page, "£600.00")
    assertNotContains(page, "£999,999")


def test_the_review_queue_links_to_the_suppliers_not_yet_checked(
    client, viewer, council, queue
):
    client.force_login(viewer)
    page = client.get(reverse("procure:review", args=[council.slug]))
    url = reverse("procure:suppliers", args=[council.slug]) + "?verified=false"
    assertContains(page, f'href="{url}"')


def test_a_different_organisations_decision_can_be_undone(
    client,
    council_officer,
    viewer,
    other_council_officer,
    council,
    other_council,
    queue,
    make_line,
):
    client.force_login(council_officer)
    suggestion = queue["suggestion"]
    make_line(council, supplier=suggestion.candidate)  # both are Luton's suppliers
    client.post(
        reverse("procure:suggestion-dismiss", args=[council.slug, suggestion.pk])
    )
    # Both suppliers' pages say what was decided, by whom and when.
    big = client.get(
        reverse("procure:supplier-detail", args=[council.slug, queue["big"].pk])
    )
    assertContains(big, "Decided to be different organisations")
    assertContains(big, "Mystery Holdings Group</a>, by bob-officer")
    twin = client.get(
        reverse("procure:supplier-detail", args=[council.slug, suggestion.candidate_id])
    )
    assertContains(twin, "Mystery Holdings</a>, by bob-officer")
    restore = reverse("procure:suggestion-restore", args=[council.slug, suggestion.pk])
    # Neither a viewer nor another council may undo it.
    client.force_login(viewer)
    assertNotContains(
        client.get(
            reverse("procure:supplier-detail", args=[council.slug, queue["big"].pk])
        ),
        restore,
    )
    assert client.post(restore).status_code == 403
    client.force_login(other_council_officer)
    other = reverse(
        "procure:suggestion-restore", args=[other_council.slug, suggestion.pk]
    )
    assert client.post(other).status_code == 404
    suggestion.refresh_from_db()
    assert suggestion.dismissed_at is not None

    client.force_login(council_officer)
    response = client.post(restore, follow=True)
    assertContains(response, "are in the review queue again")
    suggestion.refresh_from_db()
    assert suggestion.dismissed_at is None and suggestion.dismissed_by is None
    undone = suggestion.history.first()
    assert undone.history_user == council_officer
    assert undone.history_change_reason.startswith("Undone")
    page = client.get(reverse("procure:review", args=[council.slug]))
    assertContains(page, "Mystery Holdings Group")
    # The supplier's history tells both decisions, and who made them.
    supplier_page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, queue["big"].pk])
    )
    text = supplier_page.content.decode()
    undone_at = text.index(
        "Undone: may be the same as Mystery Holdings Group after all"
    )
    decided_at = text.index(
        "Decided to be a different organisation from Mystery Holdings Group "
        "(bob-officer)"
    )
    suggested_at = text.index(
        "Suggested as possibly the same as Mystery Holdings Group (words 93% alike)"
    )
    assert undone_at < decided_at < suggested_at  # newest first
    # Undone once: a second undo finds nothing to undo.
    assert client.post(restore).status_code == 404


def test_the_candidate_links_to_its_page_when_this_council_deals_with_it(
    client, viewer, council, queue, make_supplier, make_line
):
    """QA: "Already in the register" was plain text, so the candidate could not
    be checked before merging; a candidate no one here deals with stays text
    (its page would be a 404)."""
    suggestion = queue["suggestion"]
    make_line(council, supplier=suggestion.candidate, amount=Decimal("700"))
    client.force_login(viewer)
    url = reverse("procure:review", args=[council.slug])
    link = reverse(
        "procure:supplier-detail", args=[council.slug, suggestion.candidate_id]
    )
    assert (
        f'href="{link}">Mystery Holdings Group</a>' in client.get(url).content.decode()
    )
    stranger = make_supplier(name="Twin Plumbing Holdings")
    suggestion.candidate = stranger
    suggestion.save()
    page = client.get(url).content.decode()
    assert "Twin Plumbing Holdings" in page
    assert (
        reverse("procure:supplier-detail", args=[council.slug, stranger.pk]) not in page
    )


def test_the_queue_says_what_its_score_measures(client, viewer, council, queue):
    """QA: "Alike 100%" for "Falcon Signs and Graphics Ltd" and "Falcon Signs
    Ltd" read as "identical"."""
    client.force_login(viewer)
    page = client.get(reverse("procure:review", args=[council.slug]))
    assertContains(page, "Words alike")
    assertContains(page, "100% means every word of the shorter name is in the other")
