"""The rules that must always hold are enforced by the database itself."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from councils.models import Membership
from procure.models import Contract
from socialvalue.models import Target
from spend.models import SpendLine


def _fails(make) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_a_spend_line_needs_a_council(make_upload, council):
    upload = make_upload(council)
    _fails(
        lambda: SpendLine.objects.create(
            upload=upload,
            source_row=2,
            payment_date=date(2025, 4, 1),
            amount=Decimal("1"),
            supplier_name="X",
        )
    )


@pytest.mark.parametrize("row", [0, -1])
def test_a_spend_line_row_number_starts_at_one(make_line, council, row):
    _fails(lambda: make_line(council, source_row=row))


def test_a_redacted_line_never_points_at_a_supplier(make_line, make_supplier, council):
    supplier = make_supplier()
    _fails(lambda: make_line(council, supplier=supplier, redacted=True))


def test_the_same_file_is_held_once_per_council(make_upload, council, other_council):
    make_upload(council, sha256="a" * 64)
    make_upload(other_council, sha256="a" * 64)  # another council may hold it
    _fails(lambda: make_upload(council, sha256="a" * 64))


def test_a_rolled_back_file_can_be_uploaded_again(make_upload, council):
    make_upload(council, sha256="b" * 64, status="rolled_back")
    assert make_upload(council, sha256="b" * 64, status="pending").pk


def test_an_upload_cannot_count_more_rows_than_it_read(make_upload, council):
    _fails(lambda: make_upload(council, rows_read=3, rows_imported=2, rows_rejected=2))


def test_a_contract_cannot_end_before_it_starts(council):
    _fails(
        lambda: Contract.objects.create(
            council=council,
            reference="C1",
            title="Late",
            start_date=date(2025, 4, 1),
            end_date=date(2025, 3, 31),
        )
    )


def test_a_contract_value_must_be_positive(council):
    _fails(
        lambda: Contract.objects.create(
            council=council,
            reference="C2",
            title="Free",
            value=Decimal("-1"),
            start_date=date(2025, 4, 1),
        )
    )


def test_contract_references_are_unique_within_a_council(council, other_council):
    for c in (council, other_council):
        Contract.objects.create(
            council=c, reference="R1", title="A", start_date=date(2025, 1, 1)
        )
    _fails(
        lambda: Contract.objects.create(
            council=council, reference="R1", title="B", start_date=date(2025, 1, 1)
        )
    )


@pytest.mark.parametrize(
    ("baseline_year", "target_year", "baseline", "target"),
    [
        (2023, 2023, "10", "20"),
        (2024, 2023, "10", "20"),
        (2020, 2023, "-1", "20"),
        (2020, 2023, "10", "100.01"),
    ],
)
def test_targets_need_a_later_year_and_real_percentages(
    council, baseline_year, target_year, baseline, target
):
    _fails(
        lambda: Target.objects.create(
            council=council,
            metric="local",
            baseline_year=baseline_year,
            target_year=target_year,
            baseline_share=Decimal(baseline),
            target_share=Decimal(target),
        )
    )


def test_a_user_has_one_role_per_council(council_officer, council):
    _fails(
        lambda: Membership.objects.create(
            user=council_officer, council=council, role="viewer"
        )
    )


def test_a_membership_role_must_be_a_known_role(council_officer, other_council):
    _fails(
        lambda: Membership.objects.create(
            user=council_officer, council=other_council, role="mayor"
        )
    )


def test_suppliers_with_the_same_company_number_are_one_supplier(make_supplier):
    make_supplier(company_number="01234567")
    _fails(lambda: make_supplier(company_number="01234567"))


def test_a_charity_number_needs_its_register(make_supplier):
    _fails(lambda: make_supplier(charity_number="1100001"))
