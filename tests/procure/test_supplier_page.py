"""The supplier page's spend: by financial year, each year leading to its
payments (QA: a cabinet member reached the page from the dashboard and found an
all-years total, 20 payments and no way to the rest)."""

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains


def test_spend_by_year_links_to_each_years_payments(
    client, viewer, council, other_council, make_supplier, make_line
):
    supplier = make_supplier(name="Wardown Plumbing")
    for day, amount in [
        (date(2025, 3, 31), "100.00"),  # 2024/25
        (date(2025, 4, 1), "200.00"),  # 2025/26
        (date(2026, 3, 31), "-50.00"),  # 2025/26
        (date(2026, 4, 1), "400.00"),  # 2026/27
    ]:
        make_line(council, supplier=supplier, payment_date=day, amount=Decimal(amount))
    make_line(other_council, supplier=supplier, amount=Decimal("9999.00"))
    client.force_login(viewer)
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    )
    years = page.context["years"]
    assert [(y["fy"].label, y["lines"], y["total"]) for y in years] == [
        ("2026/27", 1, Decimal("400.00")),
        ("2025/26", 2, Decimal("150.00")),
        ("2024/25", 1, Decimal("100.00")),
    ]
    # Each year's link lists exactly that year's payments, totalling the same.
    for year in years:
        assertContains(page, f'href="{year["url"]}"'.replace("&", "&amp;"))
        url = urlsplit(year["url"])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        listed = client.get(url.path, query)
        assert listed.context["figures"]["lines"] == year["lines"]
        assert listed.context["figures"]["total"] == year["total"]
    everything = reverse("spend:lines", args=[council.slug])
    assertContains(page, f'href="{everything}?supplier_id={supplier.pk}">4 payments')


def test_the_latest_payments_say_where_the_rest_are(
    client, viewer, council, make_supplier, make_line
):
    supplier = make_supplier(name="Wardown Plumbing")
    for _ in range(21):
        make_line(council, supplier=supplier)
    client.force_login(viewer)
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    )
    assertContains(page, "The latest 20 of 21:")
    assertContains(page, f"see all 21 payments to {supplier.name}")


def test_tag_history_leaves_out_records_that_only_reworded_the_evidence(
    client, viewer, council, make_supplier, make_line, make_tag
):
    """QA: renaming the wider area rewrote the evidence of every wider tag, and
    the history said "Location: Elsewhere in the UK" again with nothing changed."""
    from tests.procure.test_supplier_edit import _tag_history

    supplier = make_supplier(name="Wardown Plumbing")
    make_line(council, supplier=supplier)
    tag = make_tag(supplier, "locality", "wider", council=council)
    tag.evidence = "Within Bedfordshire and Luton, renamed."
    tag.save()
    tag.value = "uk"
    tag.save()
    client.force_login(viewer)
    locations = [h for h in _tag_history(client, council, supplier) if "Location" in h]
    assert len(locations) == 2, locations
    assert "was Wider area" in locations[0]


def test_the_supplier_list_shows_short_tags_under_its_headings(
    client, viewer, council, make_supplier, make_line, make_tag
):
    """QA: at 1280 pixels the spend column was cut off, the tag cells reading
    "Living Wage status unknown" in full under the "Living Wage" heading."""
    supplier = make_supplier(name="Wardown Plumbing")
    make_line(council, supplier=supplier)
    make_tag(supplier, "living_wage", "yes")
    make_tag(supplier, "vcse", "unknown")
    client.force_login(viewer)
    page = client.get(reverse("procure:suppliers", args=[council.slug]))
    assertContains(
        page, '<strong class="govuk-tag govuk-tag--blue">Accredited</strong>'
    )
    assertContains(page, '<strong class="govuk-tag govuk-tag--grey">Unknown</strong>')
    assertNotContains(page, "VCSE status unknown</strong>")


def test_a_supplier_with_no_payments_says_so_without_a_zero_total(
    client, viewer, council, make_supplier
):
    """QA: after a rollback, "No payments totalling £0.00."."""
    from procure.models import SupplierAlias

    supplier = make_supplier(name="Wardown Plumbing")
    SupplierAlias.objects.create(
        council=council, supplier=supplier, name="WARDOWN PLUMBING"
    )
    client.force_login(viewer)
    page = client.get(
        reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    )
    assertContains(page, "No payments by Luton are held.")
    assertNotContains(page, "totalling")
