"""An officer adds a name a supplier goes by in the council's spend files."""

from __future__ import annotations

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from procure.models import Supplier, SupplierAlias
from spend.importer import import_spend_file
from spend.models import SpendLine, SpendUpload


@pytest.fixture
def supplier(council, make_supplier, make_line):
    supplier = make_supplier(name="Wardown Care Services Ltd")
    make_line(council, supplier=supplier)
    return supplier


def _url(council, supplier) -> str:
    return reverse("procure:supplier-name-add", args=[council.slug, supplier.pk])


def test_a_name_added_takes_the_next_files_payments_so_named(
    client, council_officer, council, supplier
):
    """QA: only a merge of two suppliers already held could teach LocalSpend
    that "Wardown Care Svcs" is Wardown Care Services: next month's file made a
    new supplier to check."""
    client.force_login(council_officer)
    detail = reverse("procure:supplier-detail", args=[council.slug, supplier.pk])
    assertContains(client.get(detail), f'href="{_url(council, supplier)}"')
    response = client.post(
        _url(council, supplier),
        {"name": "  Wardown Care  Svcs ", "council_supplier_id": "S-1042"},
    )
    assert response.status_code == 302
    alias = SupplierAlias.objects.get(council=council, supplier=supplier)
    assert (alias.name, alias.council_supplier_id) == ("Wardown Care Svcs", "S-1042")
    record = alias.history.get()
    assert record.history_user == council_officer
    assert record.history_change_reason == "Added by an officer on the supplier's page"
    page = client.get(detail)
    assertContains(page, "Wardown Care Svcs (supplier ID S-1042)")
    assertContains(
        page,
        f"“Wardown Care Svcs” added by {council_officer.username} (Added by an "
        "officer on the supplier&#x27;s page)",
    )

    data = b"Date,Supplier,Amount\n03/06/2025,WARDOWN CARE SVCS.,520.00\n"
    upload = SpendUpload.objects.create(
        council=council, file_name="june.csv", sha256="e" * 64
    )
    result = import_spend_file(upload=upload, data=data)
    assert (result.rows_imported, result.new_suppliers) == (1, 0)
    assert SpendLine.objects.get(upload=upload).supplier == supplier


def test_a_name_that_means_another_supplier_is_refused_with_the_merge_offered(
    client, council_officer, council, supplier, make_supplier, make_line
):
    other = make_supplier(name="Wardown Care Svcs")
    make_line(council, supplier=other)
    SupplierAlias.objects.create(supplier=other, council=council, name=other.name)
    client.force_login(council_officer)
    response = client.post(_url(council, supplier), {"name": "wardown care svcs"})
    assert response.status_code == 200
    assertContains(
        response,
        "“Wardown Care Svcs” is already how Luton&#x27;s files name Wardown Care "
        "Svcs. If that is the same organisation, merge Wardown Care Svcs into "
        "Wardown Care Services Ltd instead",
    )
    merge = reverse(
        "procure:supplier-merge", args=[council.slug, other.pk, supplier.pk]
    )
    assertContains(response, f'href="{merge}"')
    assert not SupplierAlias.objects.filter(supplier=supplier).exists()


@pytest.mark.parametrize(
    ("name", "council_supplier_id", "error"),
    [
        ("—", "", "Enter a name with at least one letter or number."),
        (
            "REDACTED PERSONAL DATA",
            "",
            "“REDACTED PERSONAL DATA” is how files hide a payee&#x27;s name",
        ),
        ("Wardown Care", "S-9", "Luton&#x27;s supplier ID S-9 is Beacon Ltd&#x27;s"),
    ],
)
def test_a_name_that_cannot_be_the_suppliers_is_explained(
    client,
    council_officer,
    council,
    supplier,
    make_supplier,
    name,
    council_supplier_id,
    error,
):
    beacon = make_supplier(name="Beacon Ltd")
    SupplierAlias.objects.create(
        supplier=beacon, council=council, name="Beacon Ltd", council_supplier_id="s-9"
    )
    client.force_login(council_officer)
    response = client.post(
        _url(council, supplier),
        {"name": name, "council_supplier_id": council_supplier_id},
    )
    assert response.status_code == 200
    assertContains(response, error)
    assert not SupplierAlias.objects.filter(supplier=supplier).exists()


def test_a_name_it_already_has_is_said(client, council_officer, council, supplier):
    SupplierAlias.objects.create(supplier=supplier, council=council, name="WCS Ltd")
    client.force_login(council_officer)
    response = client.post(_url(council, supplier), {"name": "W.C.S. Limited"})
    assertContains(
        response, "“WCS Ltd” is already one of its names in Luton&#x27;s files."
    )
    assert SupplierAlias.objects.filter(supplier=supplier).count() == 1


@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_finance_and_cabinet_cannot_add_names(
    client, role_users, council, supplier, role
):
    client.force_login(role_users[role])
    assert client.post(_url(council, supplier), {"name": "WCS"}).status_code == 403
    assert not SupplierAlias.objects.exists()
    assert Supplier.objects.count() == 1


def test_a_name_another_supplier_of_the_register_has_is_refused(
    client, council_officer, council, supplier, make_supplier
):
    """Review: a supplier known from a contract register (no spelling in this
    council's files yet) or to other councils is matched by its name: adding
    that name to another supplier would send its payments there, unsaid."""
    make_supplier(name="Acme Builders Ltd")
    client.force_login(council_officer)
    response = client.post(_url(council, supplier), {"name": "ACME BUILDERS LIMITED"})
    assert response.status_code == 200
    assertContains(
        response,
        "Another supplier in the register is called Acme Builders Ltd: payments in "
        "that name go to it.",
    )
    assert not SupplierAlias.objects.exists()


def test_a_name_too_long_once_normalised_is_refused_not_a_server_error(
    client, council_officer, council, supplier
):
    client.force_login(council_officer)
    name = "A & " * 74 + "B"  # 297 characters; "and" for each "&" makes 445
    response = client.post(_url(council, supplier), {"name": name})
    assert response.status_code == 200
    assertContains(response, "Enter a shorter name.")
