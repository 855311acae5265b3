"""Security review: an officer at one council edited a supplier another council
also pays, and moved that council's figures, with nothing on the form saying so.
The form now says how many other councils deal with the supplier."""

from __future__ import annotations

from django.urls import reverse

WARNING = (
    "also deals with Thornbury Training Ltd (payments, contracts or its name in "
    "their spend files): what you save here changes its tags"
)


def _edit(client, council, supplier):
    return client.get(
        reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    ).content.decode()


def test_the_form_says_when_another_council_pays_the_supplier(
    client, council, other_council, council_officer, make_supplier, make_line
):
    supplier = make_supplier(name="Thornbury Training Ltd")
    make_line(council, supplier=supplier)
    client.force_login(council_officer)
    assert "other council" not in _edit(client, council, supplier)

    make_line(other_council, supplier=supplier)
    page = _edit(client, council, supplier)
    assert "1 other council on LocalSpend " + WARNING in " ".join(page.split())


def test_a_decision_held_elsewhere_is_offered_to_see_not_to_change(
    client,
    council,
    other_council,
    council_officer,
    other_council_officer,
    make_supplier,
    make_line,
):
    """QA: "Change decision" led to a refusal for a decision made elsewhere."""
    from socialvalue.models import TagOverride
    from socialvalue.tagging import classify_suppliers

    supplier = make_supplier(name="Thornbury Training Ltd")
    make_line(council, supplier=supplier)
    make_line(other_council, supplier=supplier)
    TagOverride.objects.create(
        supplier=supplier,
        kind="size",
        value="small",
        reason="Checked the accounts",
        created_by=other_council_officer,
    )
    classify_suppliers(supplier_ids=[supplier.pk])
    client.force_login(council_officer)
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    ).content.decode()
    assert 'See decision<span class="govuk-visually-hidden"> Size' in page
    assert "Change decision" not in page
