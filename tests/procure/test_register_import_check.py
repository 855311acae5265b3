"""A contract register import shows what it would do before anything is saved
(QA: 826 contracts updated, and payments moved between contracts, in one click
with no way to see it first)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from procure.models import Contract, Supplier
from tests.procure.test_register_import import GOOD, _csv


@pytest.fixture
def uploads(settings, tmp_path):
    settings.UPLOAD_ROOT = tmp_path


def _url(council):
    return reverse("procure:contract-import", args=[council.slug])


def _columns_page(client, council, rows):
    upload = SimpleUploadedFile("register.csv", _csv(rows), "text/csv")
    return client.post(_url(council), {"step": "upload", "register-file": upload})


class _Forms(HTMLParser):
    """The page's forms: for each, what it sends (hidden and text inputs, checked
    radios, selected options) and its buttons (text, name, value)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None
        self._first_option: str | None = None
        self._button: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"data": {}, "buttons": []})
        if not self.forms:
            return
        data = self.forms[-1]["data"]
        if tag == "input" and attrs.get("name"):
            if attrs.get("type") not in {"radio", "checkbox"} or "checked" in attrs:
                data[attrs["name"]] = attrs.get("value", "")
        elif tag == "select":
            self._select, self._first_option = attrs.get("name"), None
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
                data.setdefault(self._select, value)
            if "selected" in attrs:
                data[self._select] = value
        elif tag == "button":
            self._button = {"text": "", **attrs}
            self.forms[-1]["buttons"].append(self._button)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "button":
            self._button = None

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data


def _form_of(response, button: str) -> dict[str, str]:
    """What pressing `button` on the page sends, as a browser would."""
    parser = _Forms()
    parser.feed(response.content.decode())
    for form in parser.forms:
        for pressed in form["buttons"]:
            if " ".join(pressed["text"].split()) == button:
                data = dict(form["data"])
                if pressed.get("name"):
                    data[pressed["name"]] = pressed.get("value", "")
                return data
    raise AssertionError(f"no form with a {button!r} button")


def _checked(client, council, rows):
    columns = _columns_page(client, council, rows)
    assert columns.status_code == 200
    return client.post(_url(council), _form_of(columns, "Check what importing will do"))


def test_checking_saves_nothing_and_importing_then_does_it_all(
    client, council, council_officer, uploads
):
    client.force_login(council_officer)
    suppliers_before = Supplier.objects.count()
    check = _checked(client, council, GOOD)
    assert check.status_code == 200
    assert "Nothing has been imported yet" in check.content.decode()
    report = check.context["report"]
    assert (report.rows_read, report.created, report.suppliers_created) == (3, 3, 2)
    # Rows checked, suppliers matched and linked: and all of it rolled back.
    assert not Contract.objects.exists()
    assert not Contract.history.exists()
    assert Supplier.objects.count() == suppliers_before

    done = client.post(_url(council), _form_of(check, "Import the contracts"))
    assert done.status_code == 200
    assert "Nothing has been imported yet" not in done.content.decode()
    assert sorted(Contract.objects.values_list("reference", flat=True)) == [
        "LBC-001",
        "LBC-002",
        "LBC-003",
    ]
    assert Supplier.objects.count() == suppliers_before + 2


def test_an_update_says_what_it_changes_before_and_after(
    client, council, council_officer, make_supplier, uploads
):
    supplier = make_supplier(name="Green Spaces Ltd", company_number="01234567")
    held = Contract.objects.create(
        council=council,
        reference="LBC-001",
        title="Grounds maintenance",
        supplier=supplier,
        value=Decimal("100000"),
        start_date=date(2024, 4, 1),
        end_date=date(2026, 3, 31),
        department="Environment",
        cpv_codes="77310000-6",
    )
    client.force_login(council_officer)
    check = _checked(client, council, GOOD[:1])
    report = check.context["report"]
    assert report.updated == 1
    assert report.changes == [
        (
            "LBC-001",
            [
                ("Whole-life value (£)", "£100,000.00", "£120,000.00"),
                ("End date", "31 March 2026", "31 March 2027"),
                ("Procurement route", "blank", "Open procedure"),
            ],
        )
    ]
    page = check.content.decode()
    assert re.search(r"£100,000\.00</td><td[^>]*>£120,000\.00", page)
    held.refresh_from_db()
    assert held.value == Decimal("100000") and held.end_date == date(2026, 3, 31)

    done = client.post(_url(council), _form_of(check, "Import the contracts"))
    held.refresh_from_db()
    assert held.value == Decimal("120000") and held.end_date == date(2027, 3, 31)
    assert done.context["report"].changes == report.changes
    assert "What the updates changed" in done.content.decode()


def test_payments_that_would_move_are_said_and_stay_until_imported(
    client, council, council_officer, make_supplier, make_line, uploads
):
    from procure.linking import link_spend

    supplier = make_supplier(name="Green Spaces Ltd", company_number="01234567")
    older = Contract.objects.create(
        council=council,
        reference="LBC-000",
        title="Grounds maintenance (old)",
        supplier=supplier,
        start_date=date(2023, 4, 1),
        end_date=date(2027, 3, 31),
    )
    line = make_line(
        council, supplier=supplier, payment_date=date(2025, 1, 10), amount=700
    )
    link_spend(council)
    client.force_login(council_officer)
    check = _checked(client, council, GOOD[:1])
    assert check.context["report"].moved == [
        ("LBC-000", "LBC-001", 1, Decimal("700.00"))
    ]
    assert "would be linked to an imported one" in check.content.decode()
    line.refresh_from_db()
    assert line.contract == older

    client.post(_url(council), _form_of(check, "Import the contracts"))
    line.refresh_from_db()
    assert line.contract.reference == "LBC-001"


def test_change_the_columns_goes_back_with_the_columns_chosen(
    client, council, council_officer, uploads
):
    client.force_login(council_officer)
    columns = _columns_page(client, council, GOOD)
    chosen = _form_of(columns, "Check what importing will do")
    chosen["map-department"] = ""  # "Not in the file"
    chosen["rows"] = "all"
    check = client.post(_url(council), chosen)
    back = client.post(_url(council), _form_of(check, "Change the columns"))
    assert back.status_code == 200
    assert "Check the columns" in back.content.decode()
    again = _form_of(back, "Check what importing will do")
    assert again["map-department"] == ""
    assert again["map-title"] == chosen["map-title"]
    assert again["rows"] == "all"
    assert not Contract.objects.exists()


def test_a_file_that_changes_nothing_offers_no_import(
    client, council, council_officer, uploads
):
    client.force_login(council_officer)
    first = _checked(client, council, GOOD)
    client.post(_url(council), _form_of(first, "Import the contracts"))
    again = _checked(client, council, GOOD)
    assert again.context["report"].unchanged == 3
    page = again.content.decode()
    assert "There is nothing to import" in page
    assert "Import the contracts" not in page
    with pytest.raises(AssertionError, match="no form"):
        _form_of(again, "Import the contracts")


def test_an_unknown_step_with_another_councils_file_starts_again(
    client, council, other_council, council_officer, uploads
):
    """Review: any step but the known ones skipped the check that the kept file is
    this council's, and ran a check of another council's file."""
    from spend.storage import keep_file

    theirs = keep_file(other_council, _csv(GOOD), "register.csv")
    client.force_login(council_officer)
    response = client.post(
        _url(council), {"step": "xyz", "kept": theirs, "file_name": "register.csv"}
    )
    assert response.status_code == 200
    assert response.context.get("report") is None
    assert "Upload and check the columns" in response.content.decode()


def test_payments_that_would_lose_their_contract_are_said(
    client, council, council_officer, make_supplier, make_line, uploads
):
    """QA: a file moving a contract's start later took 114 payments off it,
    onto no contract, and the check page said only what would be linked."""
    supplier = make_supplier(name="Green Spaces Ltd", company_number="01234567")
    Contract.objects.create(
        council=council,
        reference="LBC-001",
        title="Grounds maintenance",
        supplier=supplier,
        start_date=date(2023, 4, 1),
        end_date=date(2027, 3, 31),
    )
    from procure.linking import link_spend

    make_line(council, supplier=supplier, payment_date=date(2023, 6, 1), amount=400)
    link_spend(council)
    client.force_login(council_officer)
    check = _checked(client, council, GOOD[:1])  # starts 1 April 2024 now
    assert check.context["report"].unlinked == [("LBC-001", 1, Decimal("400.00"))]
    page = " ".join(check.content.decode().split())
    assert "would be linked to none" in page
    assert "1 payment (£400.00) taken off LBC-001" in page


def test_the_check_names_the_contracts_and_suppliers_it_would_add(
    client, council, council_officer, uploads
):
    client.force_login(council_officer)
    check = _checked(client, council, GOOD)
    report = check.context["report"]
    assert report.added == [
        ("LBC-001", "Grounds maintenance", "Green Spaces Ltd"),
        ("LBC-002", "Agency staff", "Staffing Co Limited"),
        ("LBC-003", "Leisure centre rebuild", ""),
    ]
    assert report.new_suppliers == ["Green Spaces Ltd", "Staffing Co Limited"]
    page = check.content.decode()
    assert "The 3 contracts to add" in page
    assert "The 2 suppliers new to the register" in page


def test_an_import_the_register_changed_under_imports_nothing_and_checks_again(
    client, council, council_officer, uploads
):
    """QA: checked in one tab, the register changed in another, then imported
    from the first: what was imported was not what the page had said."""
    client.force_login(council_officer)
    check = _checked(client, council, GOOD)
    assert check.context["report"].created == 3
    # Meanwhile another officer adds LBC-002 by hand.
    Contract.objects.create(
        council=council,
        reference="LBC-002",
        title="Agency staff (old)",
        start_date=date(2024, 6, 5),
        status="pipeline",
    )
    again = client.post(_url(council), _form_of(check, "Import the contracts"))
    page = again.content.decode()
    assert "Nothing was imported: the register or its payments have changed" in page
    report = again.context["report"]
    assert (report.created, report.updated) == (2, 1)
    assert report.record is None
    assert Contract.objects.count() == 1  # nothing saved
    assert not Contract.history.filter(reference="LBC-001").exists()
    # Pressed on the page as it is now, it imports.
    client.post(_url(council), _form_of(again, "Import the contracts"))
    assert Contract.objects.get(reference="LBC-002").title == "Agency staff"
    assert Contract.objects.count() == 3


def test_an_import_that_cannot_be_undone_says_so_in_the_list(
    client, council, council_officer, uploads
):
    client.force_login(council_officer)
    check = _checked(client, council, GOOD)
    client.post(_url(council), _form_of(check, "Import the contracts"))
    start = client.get(_url(council)).content.decode()
    assert ">Undo<span" in start
    Contract.objects.filter(reference="LBC-002").update(title="Changed by hand")
    start = client.get(_url(council)).content.decode()
    assert ">Undo<span" not in start
    assert "Why it cannot be undone" in start


def test_headings_written_with_a_slash_or_as_companies_house_are_recognised():
    from procure import register_import

    mapping = register_import.recognise(
        ["Reference", "Title", "Tendered / Quoted", "Companies House no"]
    )
    assert mapping["award_method"] == 2
    assert mapping["company_number"] == 3


def test_the_import_button_pressed_twice_says_the_file_was_imported(
    client, council, council_officer, uploads
):
    """Review: a second press (or the page sent again) was told "nothing was
    imported" of an import that had been made, with no way to it."""
    client.force_login(council_officer)
    check = _checked(client, council, GOOD)
    first = client.post(_url(council), _form_of(check, "Import the contracts"))
    record = first.context["report"].record
    second = client.post(_url(council), _form_of(check, "Import the contracts"))
    page = " ".join(second.content.decode().split())
    assert "This file was imported on" in page
    assert "by bob-officer, after the check this button was on" in page
    undo = reverse("procure:contract-import-undo", args=[council.slug, record.pk])
    assert f'href="{undo}"' in page
    assert Contract.objects.count() == 3
