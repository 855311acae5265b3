import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

DATA = {
    "name": "Wardown Plumbing Ltd",
    "organisation_type": "private_company",
    "company_number": "1234567",
    "postcode": "lu1  2ab",
    "employees": "12",
    "part_of_large_group": "unknown",
    "living_wage_accredited": "unknown",
}


@pytest.fixture
def supplier(council, make_supplier, make_line):
    supplier = make_supplier(name="Wardown Plumbing")
    make_line(council, supplier=supplier)
    return supplier


def test_an_officer_corrects_a_supplier_and_history_keeps_who(
    client, council_officer, council, supplier
):
    client.force_login(council_officer)
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    response = client.post(url, DATA)
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert (supplier.company_number, supplier.postcode) == ("01234567", "LU1 2AB")
    assert supplier.normalised_name == "wardown plumbing ltd"
    assert supplier.history.first().history_user == council_officer


@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_finance_and_cabinet_cannot_edit_suppliers(
    client, role_users, council, supplier, role
):
    client.force_login(role_users[role])
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    assert client.post(url, DATA).status_code == 403
    supplier.refresh_from_db()
    assert supplier.name == "Wardown Plumbing"


def test_a_bad_company_number_is_explained(client, council_officer, council, supplier):
    client.force_login(council_officer)
    url = reverse("procure:supplier-edit", args=[council.slug, supplier.pk])
    response = client.post(url, DATA | {"company_number": "12-345/678"})
    assertContains(response, "Enter a Companies House number")


def test_a_supplier_this_council_never_dealt_with_is_not_shown(
    client, council_officer, council, make_supplier
):
    stranger = make_supplier(name="Stranger Ltd")
    client.force_login(council_officer)
    url = reverse("procure:supplier-detail", args=[council.slug, stranger.pk])
    assert client.get(url).status_code == 404
