"""QA (finance): discarding or forgetting twice (two tabs, Back) says so; the
column choices remembered tell their layouts apart and ask before forgetting."""

from __future__ import annotations

from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from spend.models import RememberedMapping, SpendUpload
from tests.spend.test_column_choices import APRIL, HEADER, _confirm, _upload


def test_discarding_twice_says_it_was_discarded_already(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    _upload(client, council, APRIL, "april.csv")
    upload = SpendUpload.objects.get()
    url = reverse("spend:upload-discard", args=[council.slug, upload.pk])
    assertRedirects(client.post(url), reverse("spend:uploads", args=[council.slug]))
    for again in (client.post(url), client.get(url)):  # another tab; Back
        assert again.status_code == 404
        assertContains(again, "april.csv was discarded", status_code=404)
        assertContains(again, "by fay-finance", status_code=404)
        assertNotContains(again, "No SpendUpload matches", status_code=404)


def _remembered(client, council, data: bytes, name: str) -> RememberedMapping:
    _upload(client, council, data, name)
    _confirm(client, council, SpendUpload.objects.get(file_name=name))
    return RememberedMapping.objects.order_by("-pk").first()


def test_forget_asks_first_naming_the_layout_and_its_last_file(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    mapping = _remembered(client, council, APRIL, "april.csv")
    listed = reverse("spend:mappings", args=[council.slug])
    # The list's Forget asks first, on the list (QA: it acted at once).
    assertContains(client.get(listed), f'href="?forget={mapping.pk}#forget"')
    assertNotContains(client.get(listed), "Forget this column choice?")
    page = client.get(listed, {"forget": mapping.pk})
    assertContains(page, "Forget this column choice?")
    assertContains(page, "5 columns")
    assertContains(page, "Amount from C")
    assertContains(page, "april.csv")
    url = reverse("spend:mapping-forget", args=[council.slug, mapping.pk])
    assertContains(page, f'action="{url}"')
    assert RememberedMapping.objects.filter(pk=mapping.pk).exists()

    response = client.post(url, follow=True)
    assertContains(
        response,
        "Forgot the column choice for files of 5 columns headed Payment Date, "
        "Supplier Name, Net Amount, Gross Amount, Department, last used by "
        "april.csv.",
    )
    assert not RememberedMapping.objects.filter(pk=mapping.pk).exists()


def test_forgetting_twice_says_it_was_forgotten_already(
    client, finance_officer, council
):
    client.force_login(finance_officer)
    mapping = _remembered(client, council, APRIL, "april.csv")
    url = reverse("spend:mapping-forget", args=[council.slug, mapping.pk])
    client.post(url)
    asked = reverse("spend:mappings", args=[council.slug]) + f"?forget={mapping.pk}"
    for again in (client.post(url, follow=True), client.get(asked, follow=True)):
        assert again.status_code == 200
        assertContains(again, "was already forgotten, by fay-finance on")
        assertContains(again, "“Payment Date”")
        assertNotContains(again, "Forget this column choice?")
    # Only once in the history.
    assert RememberedMapping.history.filter(history_type="-").count() == 1


def test_forgetting_an_unknown_choice_is_not_found(client, finance_officer, council):
    client.force_login(finance_officer)
    response = client.post(reverse("spend:mapping-forget", args=[council.slug, 999]))
    assert response.status_code == 404
    asked = client.get(
        reverse("spend:mappings", args=[council.slug]), {"forget": 999}, follow=True
    )
    assertContains(asked, "That column choice is not among those remembered.")


def test_a_viewer_is_not_asked_to_forget(client, viewer, finance_officer, council):
    client.force_login(finance_officer)
    mapping = _remembered(client, council, APRIL, "april.csv")
    client.force_login(viewer)
    listed = reverse("spend:mappings", args=[council.slug])
    page = client.get(listed, {"forget": mapping.pk})
    assertNotContains(page, "Forget this column choice?")
    assertNotContains(page, "?forget=")


def test_layouts_of_the_same_headings_are_told_apart(client, finance_officer, council):
    client.force_login(finance_officer)
    _remembered(client, council, APRIL, "april.csv")
    # The same headings with an empty spacer column between two of them.
    spaced = (
        HEADER.replace("Supplier Name,", "Supplier Name,,")
        + "01/05/2025,Wardown Plumbing Ltd,,10.00,12.00,Housing\n"
    ).encode()
    _remembered(client, council, spaced, "may.csv")
    page = client.get(reverse("spend:mappings", args=[council.slug]))
    assertContains(page, "5 columns</dt>")
    assertContains(page, "6 columns, 1 with no heading</dt>")
    # Which column letter holds what, the spacer included.
    assertContains(page, "Reads payment date from A, amount from C, supplier from B")
    assertContains(
        page,
        "Reads payment date from A, amount from D, supplier from B, department from F",
    )
    assertContains(page, "(no heading)")
    # Each Forget link is named for its own layout and file.
    assertContains(page, "the column choice for 5 columns, last used by april.csv")
    assertContains(
        page, "the column choice for 6 columns, 1 with no heading, last used by may.csv"
    )
