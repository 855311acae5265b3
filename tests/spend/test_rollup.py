"""The dashboard rollups always equal a direct aggregate of the spend lines."""

from __future__ import annotations

import importlib
from collections import defaultdict
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection

from councils.periods import FinancialYear
from procure.merging import merge_suppliers, undo_merge
from procure.models import Supplier
from socialvalue.models import SupplierTag, TagOverride
from socialvalue.tagging import classify_suppliers
from spend import rollup
from spend.importer import import_spend_file, rollback_upload
from spend.models import (
    CouncilDirectorate,
    DirectorateMonth,
    SpendLine,
    SpendUpload,
    SupplierMonth,
    SupplierYear,
    TagMonth,
    year_figures,
    year_months,
)

FILE = (
    b"Date,Supplier,Department,Service Area,Amount,Postcode\n"
    b"31/03/2025,Acme Builders Ltd,Place,Roads,1000.00,LU1 1AA\n"
    b"01/04/2025,Acme Builders Ltd,Place,Roads,250.50,LU1 1AA\n"
    b"15/04/2025,Acme Builders Ltd,,Libraries,99.99,LU1 1AA\n"
    b"30/04/2025,Faraway Consulting LLP,People,Care,5000.00,M1 1AA\n"
    b"02/05/2025,REDACTED PERSONAL DATA,People,Care,700.00,\n"
    b"03/05/2025,Faraway Consulting LLP,People,Care,-120.00,M1 1AA\n"
)


def direct_supplier_months(council) -> dict:
    """The oracle: every line, summed in Python by the rollup's key."""
    sums: dict = defaultdict(lambda: [Decimal("0"), 0, 0])
    for line in SpendLine.objects.filter(council=council):
        key = (
            line.payment_date.replace(day=1),
            line.supplier_id,
            line.department or line.service_area,
            line.redacted,
        )
        sums[key][0] += line.amount
        sums[key][1] += 1
        sums[key][2] += line.amount < 0  # credit notes
    return {key: tuple(value) for key, value in sums.items()}


def rolled_up_supplier_months(council) -> dict:
    rows: dict = defaultdict(lambda: [Decimal("0"), 0, 0])
    for row in SupplierMonth.objects.filter(council=council):
        key = (row.month, row.supplier_id, row.directorate, row.redacted)
        rows[key][0] += row.total
        rows[key][1] += row.lines
        rows[key][2] += row.credits
    return {key: tuple(value) for key, value in rows.items()}


def assert_year_figures_match(council):
    """The overview's figures from the rollup are the lines' own, every year."""
    years = {
        FinancialYear.for_date(day)
        for day in SpendLine.objects.filter(council=council).values_list(
            "payment_date", flat=True
        )
    }
    for fy in years | {FinancialYear(2030)}:  # and a year with no spend
        lines = SpendLine.objects.for_council(council).in_fy(fy)
        assert year_figures(council, fy) == lines.headline(), fy
        assert year_months(council, fy) == lines.monthly_totals(), fy


def direct_tag_months(council) -> dict:
    tags = {
        (tag.supplier_id, tag.kind): tag.value
        for tag in SupplierTag.objects.all()
        if tag.council_id in (None, council.pk)
    }
    verified = dict(Supplier.objects.values_list("pk", "verified"))
    sums: dict = defaultdict(lambda: [Decimal("0"), 0])
    for line in SpendLine.objects.filter(council=council):
        s = line.supplier_id
        key = (
            line.payment_date.replace(day=1),
            line.department or line.service_area,
            tags.get((s, "locality"), "unknown"),
            tags.get((s, "size"), "unknown"),
            tags.get((s, "vcse"), "unknown"),
            tags.get((s, "living_wage"), "unknown"),
            line.redacted,
            verified.get(s, False),
        )
        sums[key][0] += line.amount
        sums[key][1] += 1
    return {key: tuple(value) for key, value in sums.items()}


def rolled_up_tag_months(council, *, all_directorates: bool = False) -> dict:
    rows = {}
    for row in TagMonth.objects.filter(
        council=council, directorate__isnull=all_directorates
    ):
        key = (
            row.month,
            row.directorate,
            row.locality,
            row.size,
            row.vcse,
            row.living_wage,
            row.redacted,
            row.verified,
        )
        assert key not in rows, f"two tag rollup rows for {key}"
        rows[key] = (row.total, row.lines)
    return rows


def direct_supplier_years(council) -> dict:
    """Per financial year and supplier: spend, lines, and the supplier's location
    for this council and whether it is a public body, from the tags."""
    tags = {
        (tag.supplier_id, tag.kind): tag.value
        for tag in SupplierTag.objects.all()
        if tag.council_id in (None, council.pk)
    }
    sums: dict = defaultdict(lambda: [Decimal("0"), 0])
    for line in SpendLine.objects.filter(council=council, supplier__isnull=False):
        s = line.supplier_id
        key = (
            FinancialYear.for_date(line.payment_date).start_year,
            s,
            tags.get((s, "locality"), "unknown"),
            tags.get((s, "size")) == "public_sector",
        )
        sums[key][0] += line.amount
        sums[key][1] += 1
    return {key: tuple(value) for key, value in sums.items()}


def rolled_up_supplier_years(council) -> dict:
    rows = {}
    for row in SupplierYear.objects.filter(council=council):
        key = (row.year, row.supplier_id, row.locality, row.public_sector)
        assert key[:2] not in {k[:2] for k in rows}, f"two yearly rows for {key}"
        rows[key] = (row.total, row.lines)
    return rows


def assert_rollups_match(council):
    assert_year_figures_match(council)
    assert rolled_up_supplier_months(council) == direct_supplier_months(council)
    assert rolled_up_supplier_years(council) == direct_supplier_years(council)
    direct = direct_tag_months(council)
    assert rolled_up_tag_months(council) == direct
    # And the rows for all directorates together: the same, summed over them.
    together: dict = defaultdict(lambda: [Decimal("0"), 0])
    for (month, _, *tags), (total, lines) in direct.items():
        key = (month, None, *tags)
        together[key][0] += total
        together[key][1] += lines
    assert rolled_up_tag_months(council, all_directorates=True) == {
        key: tuple(value) for key, value in together.items()
    }
    # The directorate breakdown: the same, by location, public bodies and redacted
    # payees apart.
    breakdown: dict = defaultdict(lambda: [Decimal("0"), 0])
    for (month, directorate, locality, size, *_, redacted, _v), (
        total,
        lines,
    ) in direct.items():
        key = (month, directorate, locality, size == "public_sector", redacted)
        breakdown[key][0] += total
        breakdown[key][1] += lines
    held = {
        (r.month, r.directorate, r.locality, r.public_sector, r.redacted): (
            r.total,
            r.lines,
        )
        for r in DirectorateMonth.objects.filter(council=council)
    }
    assert held == {key: tuple(value) for key, value in breakdown.items()}
    # The dashboard's directorate list holds the directorates with spend, and
    # only those (a file rolled back takes its directorates with it).
    named = {key[1] for key in direct}
    assert named == set(
        CouncilDirectorate.objects.filter(council=council).values_list(
            "name", flat=True
        )
    )


@pytest.fixture
def imported(council):
    upload = SpendUpload.objects.create(
        council=council, file_name="spend.csv", sha256="a" * 64, status="pending"
    )
    import_spend_file(upload=upload, data=FILE)
    return upload


def test_an_import_fills_both_rollups_and_tags_the_new_suppliers(council, imported):
    assert SpendLine.objects.filter(council=council).count() == 6
    assert_rollups_match(council)
    acme = Supplier.objects.get(name="Acme Builders Ltd")
    # Tagged by the import itself: local to Luton by its postcode.
    assert SupplierTag.objects.get(supplier=acme, kind="locality").value == "local"
    # March 2025 and April 2025 are separate months (and financial years).
    months = set(
        SupplierMonth.objects.filter(council=council).values_list("month", flat=True)
    )
    assert months == {date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1)}
    # The directorate is the department, else the service area.
    assert set(
        SupplierMonth.objects.filter(supplier=acme).values_list(
            "directorate", flat=True
        )
    ) == {"Place", "Libraries"}
    local = TagMonth.objects.filter(
        council=council, locality="local", directorate__isnull=True
    )
    assert sum(row.total for row in local) == Decimal("1350.49")


def test_a_rollback_takes_the_lines_out_of_the_rollups(council, imported, viewer):
    rollback_upload(imported, user=viewer)
    assert not SupplierMonth.objects.filter(council=council).exists()
    assert not TagMonth.objects.filter(council=council).exists()
    assert_rollups_match(council)


def test_a_second_upload_for_the_same_months_is_added_not_replaced(council, imported):
    data = (
        b"Date,Supplier,Department,Amount\n"
        b"20/04/2025,Acme Builders Ltd,Place,10.00\n"
        b"21/06/2025,New Firm Ltd,Place,20.00\n"
    )
    upload = SpendUpload.objects.create(
        council=council, file_name="more.csv", sha256="b" * 64, status="pending"
    )
    import_spend_file(upload=upload, data=data)
    assert_rollups_match(council)
    rollback_upload(upload, user=None)
    assert_rollups_match(council)


def test_an_override_moves_spend_between_tags(council, imported, council_officer):
    faraway = Supplier.objects.get(name="Faraway Consulting LLP")
    TagOverride.objects.create(
        supplier=faraway,
        council=council,
        kind="locality",
        value="local",
        reason="Branch office in Luton town centre",
        created_by=council_officer,
    )
    classify_suppliers(supplier_ids=[faraway.pk], user=council_officer)
    assert_rollups_match(council)
    local = TagMonth.objects.filter(
        council=council, locality="local", directorate__isnull=True
    )
    assert sum(row.total for row in local) == Decimal("1350.49") + Decimal("4880.00")


def test_a_merge_and_its_undoing_keep_the_rollups_equal(
    council, imported, council_officer
):
    acme = Supplier.objects.get(name="Acme Builders Ltd")
    faraway = Supplier.objects.get(name="Faraway Consulting LLP")
    record = merge_suppliers(
        kept=acme, merged=faraway, user=council_officer, council=None
    )
    assert_rollups_match(council)
    assert not SupplierMonth.objects.filter(supplier=faraway).exists()
    undo_merge(record, user=council_officer)
    assert_rollups_match(council)
    assert SupplierMonth.objects.filter(supplier=faraway).exists()


def test_other_councils_rollups_are_untouched(
    council, other_council, imported, make_line
):
    make_line(other_council, amount=Decimal("42.00"), payment_date=date(2025, 4, 2))
    rollup.rebuild(other_council.pk)
    rollup.rebuild(council.pk)
    assert_rollups_match(council)
    assert_rollups_match(other_council)
    assert TagMonth.objects.get(
        council=other_council, directorate__isnull=True
    ).total == Decimal("42.00")


def test_rebuild_rollups_command_recounts_from_the_lines(council, imported):
    from django.core.management import call_command

    SupplierMonth.objects.all().delete()
    TagMonth.objects.all().delete()
    call_command("rebuild_rollups", verbosity=0)
    assert_rollups_match(council)


def test_a_supplier_wide_tag_change_reaches_every_council_that_pays_it(
    council, other_council, imported, make_line, council_officer
):
    acme = Supplier.objects.get(name="Acme Builders Ltd")
    make_line(other_council, supplier=acme, amount=Decimal("42.00"))
    rollup.rebuild(other_council.pk)
    TagOverride.objects.create(
        supplier=acme,
        kind="size",
        value="public_sector",
        reason="An arm's-length company of the council",
        created_by=council_officer,
    )
    # Classified for Luton only: Knowsley pays Acme too, and its rollups follow.
    classify_suppliers(supplier_ids=[acme.pk], councils=[council])
    assert_rollups_match(council)
    assert_rollups_match(other_council)
    assert (
        TagMonth.objects.get(council=other_council, directorate__isnull=True).size
        == "public_sector"
    )


def test_the_migration_counts_the_credit_notes_of_rollups_already_there(
    council, imported
):
    """Rollups made before they counted credit notes get the count from the lines."""
    SupplierMonth.objects.update(credits=0)
    assert rolled_up_supplier_months(council) != direct_supplier_months(council)
    migration = importlib.import_module("spend.migrations.0011_suppliermonth_credits")
    migration.recount(django_apps, SimpleNamespace(connection=connection))
    assert_rollups_match(council)
