"""A contract's supplier is found by typing part of its name (GOV.UK's
accessible-autocomplete over the <select>; QA: a real council's hundreds of
suppliers were one long list), and emptying the box leaves the contract with no
supplier, as a pipeline contract may be."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_supplier_is_found_by_any_words_of_its_name_and_can_be_emptied(
    page, live_server, demo, log_in, watch
):
    from procure.models import Contract, ContractStatus

    # One that may go back to the pipeline: no social value delivered, no
    # payments linked by hand (procure.forms.ContractForm).
    contract = (
        Contract.objects.filter(council__slug="luton", supplier__isnull=False)
        .exclude(commitments__returns__isnull=False)
        .exclude(spend_lines__contract_link_manual=True)
        .order_by("reference")[0]
    )
    current = contract.supplier
    log_in(page, live_server.url, "demo-officer")
    page.goto(f"{live_server.url}/c/luton/contracts/{contract.pk}/edit/")
    box = page.get_by_label("Supplier", exact=True)
    expect(box).to_have_value(current.name)  # the supplier held, as its name

    # Two words of another supplier's name, in any order and any case.
    other = (
        Contract.objects.filter(council__slug="luton")
        .exclude(supplier=current)
        .exclude(supplier=None)[0]
        .supplier
    )
    words = other.name.split()
    typed = " ".join(reversed(words[:2])).upper()
    box.fill(typed)
    # The field's hint is read out with the box while one types, as with a list.
    assert "id_supplier-hint" in box.get_attribute("aria-describedby").split()
    page.get_by_role("option", name=other.name, exact=True).click()
    expect(box).to_have_value(other.name)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(contract.title)
    contract.refresh_from_db()
    assert contract.supplier == other

    # Emptied, for a contract still in the pipeline: saved with no supplier.
    page.goto(f"{live_server.url}/c/luton/contracts/{contract.pk}/edit/")
    page.get_by_label("Supplier", exact=True).fill("")
    page.get_by_label("Status").select_option(ContractStatus.PIPELINE)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(contract.title)
    contract.refresh_from_db()
    assert contract.supplier is None
    assert not watch.errors


def test_a_name_no_supplier_has_says_so(page, live_server, demo, log_in):
    log_in(page, live_server.url, "demo-officer")
    page.goto(f"{live_server.url}/c/luton/contracts/new/")
    page.get_by_label("Supplier", exact=True).fill("zzqx no such supplier")
    none_found = page.get_by_text("No supplier of this council has that name")
    expect(none_found).to_be_visible()
    # In the page's font, not the browser's default serif.
    font = none_found.evaluate("e => getComputedStyle(e).fontFamily")
    assert font.lower().startswith("arial"), font


def test_a_name_typed_over_a_chosen_supplier_is_not_saved_as_it(
    page, live_server, demo, log_in
):
    """QA: a name typed over the supplier chosen (matching none) saved the one
    chosen before, unseen; leaving the box picked the first name listed."""
    from procure.models import Contract

    contract = Contract.objects.filter(
        council__slug="luton", supplier__isnull=False
    ).order_by("reference")[0]
    held = contract.supplier
    log_in(page, live_server.url, "demo-officer")
    page.goto(f"{live_server.url}/c/luton/contracts/{contract.pk}/edit/")
    box = page.get_by_label("Supplier", exact=True)
    box.fill("Totally New Firm Ltd")
    box.press("Tab")
    expect(box).to_have_value("Totally New Firm Ltd")  # not a name picked for it
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "“Totally New Firm Ltd” is not a supplier Luton deals with"
    )
    contract.refresh_from_db()
    assert contract.supplier == held

    # Punctuation, accents and "&" aside, a name is found as written.
    words = held.name.split()
    page.get_by_label("Supplier", exact=True).fill(
        ", ".join(word.upper() for word in words[:2]) + "’"
    )
    expect(page.get_by_role("option", name=held.name, exact=True)).to_be_visible()


def test_back_to_the_page_sends_the_supplier_the_box_shows(
    page, live_server, demo, log_in
):
    """Review: chosen, then away and Back, the box showed the supplier held while
    the form sent the one chosen before leaving."""
    from procure.models import Contract

    contract = Contract.objects.filter(
        council__slug="luton", supplier__isnull=False
    ).order_by("reference")[0]
    held = contract.supplier
    other = (
        Contract.objects.filter(council__slug="luton")
        .exclude(supplier=held)
        .exclude(supplier=None)[0]
        .supplier
    )
    log_in(page, live_server.url, "demo-officer")
    page.goto(f"{live_server.url}/c/luton/contracts/{contract.pk}/edit/")
    box = page.get_by_label("Supplier", exact=True)
    box.fill(other.name)
    page.get_by_role("option", name=other.name, exact=True).click()
    page.goto(f"{live_server.url}/c/luton/contracts/")
    page.go_back()
    box = page.get_by_label("Supplier", exact=True)
    shown = box.input_value()
    sent = page.locator("select[name=supplier]").input_value()
    names = {str(held.pk): held.name, str(other.pk): other.name}
    assert names.get(sent) == shown


def _renamed_supplier(name: str):
    """A supplier Luton deals with, renamed (the demo's names vary)."""
    from procure.models import Contract

    supplier = (
        Contract.objects.filter(council__slug="luton", supplier__isnull=False)
        .order_by("reference")[0]
        .supplier
    )
    supplier.name = name
    supplier.save()
    return supplier


def _listed(page) -> list[str]:
    return page.locator(".autocomplete__menu [role=option]").all_inner_texts()


def test_legal_forms_and_hyphens_are_ignored_and_near_names_offered(
    page, live_server, demo, log_in, watch
):
    """QA: "Ashcroft Joinery Ltd", "ashcroft joinery limited" and
    "ashcroft-joinery" found nothing though "Ashcroft Joinery LLP" exists, nor did
    a slip ("ashcrft joinery")."""
    _renamed_supplier("Quennell Joinery LLP")
    log_in(page, live_server.url, "demo-officer")
    page.goto(f"{live_server.url}/c/luton/contracts/new/")
    box = page.get_by_label("Supplier", exact=True)
    near = page.get_by_text("No exact match. Did you mean one of the names")
    option = page.get_by_role("option", name="Quennell Joinery LLP", exact=True)
    for typed in [
        "Quennell Joinery Ltd",
        "quennell joinery limited",
        "quennell-joinery",
        "The Quennell Joinery Company",
    ]:
        box.fill(typed)
        expect(option).to_be_visible()
        assert _listed(page) == ["Quennell Joinery LLP"], typed
        expect(near).to_be_hidden()
    # A letter left out, added, changed or two swapped: offered as near names.
    for typed in ["quenell joinery", "quennell joinnery", "quennell jionery"]:
        box.fill(typed)
        expect(option).to_be_visible()
        assert _listed(page) == ["Quennell Joinery LLP"], typed
        expect(near).to_be_visible()
    option.click()
    expect(box).to_have_value("Quennell Joinery LLP")
    expect(near).to_be_hidden()
    # Two slips in one word are not near.
    box.fill("qunel joinery")
    expect(
        page.get_by_text("No supplier of this council has that name")
    ).to_be_visible()
    assert not watch.errors


def test_a_name_matching_no_supplier_is_kept_and_quoted_on_the_error_page(
    page, live_server, demo, log_in
):
    """QA: the error page came back with the supplier box empty."""
    from procure.models import Contract

    before = Contract.objects.count()
    log_in(page, live_server.url, "demo-officer")
    page.goto(f"{live_server.url}/c/luton/contracts/new/")
    page.get_by_label("Supplier", exact=True).fill("Ashcrft Joinery 100% <b>")
    page.get_by_role("button", name="Add contract").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "“Ashcrft Joinery 100% <b>” is not a supplier Luton deals with: choose one "
        "from the list, or leave it empty for a pipeline contract."
    )
    box = page.get_by_label("Supplier", exact=True)
    expect(box).to_have_value("Ashcrft Joinery 100% <b>")
    # Sent again as it is, it is refused again, not taken for no supplier.
    page.get_by_role("button", name="Add contract").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "“Ashcrft Joinery 100% <b>” is not a supplier Luton deals with"
    )
    assert Contract.objects.count() == before


def test_a_supplier_name_is_listed_as_text_not_html(page, live_server, demo, log_in):
    _renamed_supplier("Quennell <i>Joinery</i> LLP")
    log_in(page, live_server.url, "demo-officer")
    page.goto(f"{live_server.url}/c/luton/contracts/new/")
    page.get_by_label("Supplier", exact=True).fill("quennell")
    expect(
        page.get_by_role("option", name="Quennell <i>Joinery</i> LLP", exact=True)
    ).to_be_visible()


def test_letters_with_no_accent_are_found_as_typed_without_them(
    page, live_server, demo, log_in, watch
):
    """Review: "ß", "æ", "ø" and the like were made spaces in the box, while the
    supplier list (Python's casefold) finds "Straße" by "strasse"."""
    supplier = _renamed_supplier("Quennell Straße Ærøskøbing Łódź Ltd")
    log_in(page, live_server.url, "demo-officer")
    page.goto(f"{live_server.url}/c/luton/contracts/new/")
    box = page.get_by_label("Supplier", exact=True)
    name = "Quennell Straße Ærøskøbing Łódź Ltd"
    for typed in ["strasse", "STRASSE", "Straße", "aeroskobing", "lodz ltd"]:
        box.fill(typed)
        expect(page.get_by_role("option", name=name, exact=True)).to_be_visible()
        assert _listed(page) == [name], typed
    # Typed in full without the letters, it is the supplier: no need to pick it.
    box.fill("quennell strasse aeroskobing lodz ltd")
    box.press("Escape")
    sent = page.locator("select[name=supplier]").input_value()
    assert sent == str(supplier.pk)
    assert not watch.errors
