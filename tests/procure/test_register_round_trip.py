"""The contract register downloaded and imported again changes nothing.

QA (session 13): the contracts list's CSV imported back recorded active contracts
past their end date as ended, gave two contracts to other suppliers of the same
name (and moved their payments), and kept the spreadsheet-safety apostrophe in a
title starting with "-".
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from procure import register_import
from procure.models import Contract, ContractStatus

FIELDS = (
    "reference",
    "title",
    "description",
    "supplier_id",
    "status",
    "start_date",
    "end_date",
    "value",
    "department",
)


def _download(client, user, council, **query) -> bytes:
    client.force_login(user)
    response = client.get(
        reverse("procure:contracts", args=[council.slug]), {"format": "csv", **query}
    )
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _import_again(council, data: bytes, user):
    register = register_import.read(data, "contracts.csv")
    report = register_import.import_register(
        council, register, register.mapping, user=user
    )
    assert report.reconciles and report.rejected == 0, report.rejections
    return report


def _fields(council) -> dict[str, tuple]:
    return {
        c.reference: tuple(getattr(c, name) for name in FIELDS)
        for c in Contract.objects.filter(council=council)
    }


@pytest.fixture
def contracts(council, make_supplier):
    today = timezone.localdate()
    plain = make_supplier(name="Chiltern Cleaning Ltd", company_number="11156174")
    # A verified supplier whose name normalises the same way: the name alone
    # would find it first.
    make_supplier(
        name="Chiltern Cleaning Limited", company_number="10047514", verified=True
    )
    care = make_supplier(name="Northwell Care Limited")
    make_supplier(name="Northwell Care Ltd", verified=True)
    made = [
        Contract.objects.create(
            council=council,
            reference="LBC-QA-001",
            title="Window cleaning",
            supplier=plain,
            status=ContractStatus.ACTIVE,
            start_date=today - timedelta(days=700),
            end_date=today - timedelta(days=20),  # past: shown as ended
            value=12_000,
        ),
        Contract.objects.create(
            council=council,
            reference="LBC-QA-002",
            title="-Interim repairs (pilot)",
            description="=SUM(A1:A2) is not a formula here",
            supplier=care,
            status=ContractStatus.ACTIVE,
            start_date=today - timedelta(days=100),
            end_date=today + timedelta(days=300),
            value=5_000,
            department="+Adults",
        ),
    ]
    return made


def test_the_contracts_download_imported_again_changes_nothing(
    client, council, council_officer, contracts
):
    before = _fields(council)
    history = {c.pk: c.history.count() for c in contracts}
    data = _download(client, council_officer, council)
    assert "Ended" in data.decode("utf-8-sig")  # as the list shows it
    report = _import_again(council, data, council_officer)
    assert report.unchanged == 2 and report.updated == 0
    assert _fields(council) == before
    assert {c.pk: c.history.count() for c in contracts} == history
    first = Contract.objects.get(reference="LBC-QA-001")
    assert first.status == ContractStatus.ACTIVE and first.ended_by_date


def test_an_extension_after_the_round_trip_makes_the_contract_active_again(
    client, council, council_officer, contracts
):
    _import_again(council, _download(client, council_officer, council), council_officer)
    contract = Contract.objects.get(reference="LBC-QA-001")
    contract.end_date = timezone.localdate() + timedelta(days=365)
    contract.save()
    assert contract.current_status == ContractStatus.ACTIVE


def test_a_status_the_file_really_changes_is_still_imported(
    client, council, council_officer, contracts
):
    data = _download(client, council_officer, council).decode("utf-8-sig")
    lines = data.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("LBC-QA-002,"))
    lines[row] = lines[row].replace(",Active,", ",Ended,")
    report = _import_again(council, "\n".join(lines).encode(), council_officer)
    assert report.updated == 1
    assert Contract.objects.get(reference="LBC-QA-002").status == ContractStatus.ENDED


def test_a_row_naming_another_supplier_still_moves_the_contract(
    council, council_officer, contracts, make_supplier
):
    other = make_supplier(name="Elm Print Co", company_number="09999999")
    header = "Contract Reference,Contract Title,Supplier Name,Company Number\n"
    data = (header + "LBC-QA-001,Window cleaning,Elm Print Co,09999999\n").encode()
    report = _import_again(council, data, council_officer)
    assert report.updated == 1
    assert Contract.objects.get(reference="LBC-QA-001").supplier == other


def test_the_exports_page_register_imported_again_changes_nothing(
    client, council, council_officer, contracts
):
    client.force_login(council_officer)
    before = _fields(council)
    response = client.get(
        reverse("procure:export-contracts-csv", args=[council.slug]),
    )
    assert response.status_code == 200
    data = (
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    report = _import_again(council, data, council_officer)
    assert report.updated == 0, report
    assert _fields(council) == before


def test_an_apostrophe_not_put_there_by_a_download_is_kept(council, council_officer):
    header = "Contract Reference,Contract Title,Start Date,Status\n"
    data = (
        header + "LBC-9,'Twas the night (a pantomime),01/12/2026,Pipeline\n"
    ).encode()
    _import_again(council, data, council_officer)
    assert Contract.objects.get(reference="LBC-9").title == (
        "'Twas the night (a pantomime)"
    )
    assert date(2026, 12, 1) == Contract.objects.get(reference="LBC-9").start_date
