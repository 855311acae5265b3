"""The contract register downloaded and imported again changes nothing.

QA (session 13): the contracts list's CSV imported back recorded active contracts
past their end date as ended, gave two contracts to other suppliers of the same
name (and moved their payments), and kept the spreadsheet-safety apostrophe in a
title starting with "-".
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

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


def test_review_date_extension_annual_value_vat_and_award_method_are_read(
    council, council_officer, contracts
):
    """QA: a change to these columns of LocalSpend's own file was "already up
    to date"; moving the end date and the extended end date together was
    refused, the file's extended end date unread."""
    header = (
        "Reference number,Title of agreement,End date,Review date,"
        "End date if extended,Estimated annual value (£),Irrecoverable VAT (£),"
        "Tendered or quoted\n"
    )
    data = header + (
        "LBC-QA-002,-Interim repairs (pilot),31/01/2032,30/06/2027,31/01/2033,"
        '"£1,234.50",12.00,Quoted\n'
    )
    report = _import_again(council, data.encode(), council_officer)
    assert report.updated == 1
    contract = Contract.objects.get(reference="LBC-QA-002")
    assert (
        contract.end_date,
        contract.review_date,
        contract.extension_end_date,
        contract.annual_value,
        contract.irrecoverable_vat,
        contract.award_method,
    ) == (
        date(2032, 1, 31),
        date(2027, 6, 30),
        date(2033, 1, 31),
        Decimal("1234.50"),
        Decimal("12.00"),
        "quoted",
    )


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        ("Tendered or quoted", "Maybe", '"Maybe" is neither "Tendered" nor "Quoted"'),
        ("Estimated annual value", "lots", "lots"),
        ("Review date", "31/02/2027", "31/02/2027"),
    ],
)
def test_a_bad_cell_in_those_columns_rejects_its_row_naming_the_column(
    council, council_officer, contracts, column, cell, message
):
    data = f"Reference,Title,{column}\nLBC-QA-002,Repairs,{cell}\n".encode()
    register = register_import.read(data, "contracts.csv")
    report = register_import.import_register(
        council, register, register.mapping, user=council_officer
    )
    assert report.rejected == 1 and report.reconciles
    text = report.rejections[0].message("contracts.csv")
    assert f'"contracts.csv" row 2, column "{column}"' in text, text
    assert message in text


def test_the_preview_names_the_columns_it_will_not_read(
    client, council, council_officer
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(council_officer)
    data = (
        b"Reference number,Title of agreement,Start date,SME,Contract manager notes\n"
        b"LBC-9,Repairs,01/04/2026,Yes,Call Sam\n"
    )
    upload = SimpleUploadedFile("register.csv", data, "text/csv")
    preview = client.post(
        reverse("procure:contract-import", args=[council.slug]),
        {"step": "upload", "register-file": upload},
    )
    assert preview.status_code == 200
    text = " ".join(preview.content.decode().split())
    assert (
        "These 2 columns are not read, so nothing in them is imported: “SME”, "
        "“Contract manager notes”." in text
    )
