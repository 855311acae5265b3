"""Tables whose foreign keys the database does not check row by row (spend lines,
supplier-month rollups, supplier tags) rely on `hold_rows`: the rows they point at
are checked once per batch and kept from being deleted until the writer commits.
Deleting through Django still removes what points at the deleted row."""

from __future__ import annotations

import io
import json
import threading
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from councils.models import Council
from procure.models import Supplier
from socialvalue import tagging
from socialvalue.models import SupplierTag
from socialvalue.tagging import classify_suppliers
from spend.importer import import_spend_file
from spend.models import SpendLine, SpendUpload, SupplierMonth, hold_rows
from spend.storage import sha256_of
from tests.spend.test_concurrency import (
    TIMEOUT,
    _run,
    _until_blocked_or_done,
    needs_postgresql,
    spend_csv,
)


def test_holding_rows_that_exist_passes_and_a_missing_one_is_named(db, council):
    firms = [Supplier.objects.create(name=f"Held Firm {i} Ltd") for i in range(3)]
    with transaction.atomic():
        hold_rows(Supplier, [firm.pk for firm in firms] + [None])
        hold_rows(Council, [council.pk])
        hold_rows(Supplier, [])
    gone = max(firm.pk for firm in firms) + 1000
    with transaction.atomic(), pytest.raises(Supplier.DoesNotExist, match="supplier"):
        hold_rows(Supplier, [firms[0].pk, gone])
    with transaction.atomic(), pytest.raises(Council.DoesNotExist, match="council"):
        hold_rows(Council, [council.pk + 1000])


def test_a_classification_of_a_supplier_deleted_meanwhile_writes_no_tag(
    db, council, monkeypatch
):
    """The run read the supplier's facts; the supplier went before it wrote."""
    firm = Supplier.objects.create(name="Vanishing Ltd", postcode="LU1 1AA")
    real = Supplier.objects.create(name="Staying Ltd", postcode="LU2 1AA")
    load = tagging._load

    def load_then_delete(queryset, *args, **kwargs):
        rows = load(queryset, *args, **kwargs)
        if queryset.model is Supplier:
            # Gone after its facts were read, before its tags are written.
            Supplier.objects.filter(pk=firm.pk).delete()
        return rows

    monkeypatch.setattr(tagging, "_load", load_then_delete)
    with pytest.raises(Supplier.DoesNotExist):
        classify_suppliers(supplier_ids=[firm.pk, real.pk])
    assert not SupplierTag.objects.exists()  # all or nothing


def test_deleting_a_supplier_removes_its_tags_and_rollups(db, council):
    data = spend_csv(date(2025, 4, 1), 20, 40, [("Gone Soon Ltd", "LU1 1AA")])
    upload = SpendUpload.objects.create(
        council=council, file_name="april.csv", sha256=sha256_of(data)
    )
    import_spend_file(upload=upload, data=data)
    firm = Supplier.objects.get(name="Gone Soon Ltd")
    assert SupplierTag.objects.filter(supplier=firm).count() == 4
    assert SupplierMonth.objects.filter(supplier=firm).exists()
    SpendLine.objects.filter(supplier=firm).delete()  # PROTECTed by its lines
    firm.delete()
    assert not SupplierTag.objects.filter(supplier_id=firm.pk).exists()
    assert not SupplierMonth.objects.filter(supplier_id=firm.pk).exists()
    council.delete()
    assert not SupplierMonth.objects.exists()


@needs_postgresql
def test_a_supplier_being_tagged_cannot_be_deleted_until_the_run_commits(
    transactional_db, council, monkeypatch
):
    """Another session's delete waits for the classification run's lock, as it
    would for a foreign key check, until the run has committed its tags."""
    firm = Supplier.objects.create(name="Contested Ltd", postcode="LU1 1AA")
    errors: list = []
    written, deleted = threading.Event(), threading.Event()
    save = tagging._save
    seen: dict[str, bool] = {}

    def save_then_hold(*args, **kwargs):
        result = save(*args, **kwargs)
        written.set()
        _until_blocked_or_done(deleted)
        seen["delete waited"] = not deleted.is_set()
        return result

    monkeypatch.setattr(tagging, "_save", save_then_hold)

    def delete_the_supplier():
        try:
            assert written.wait(TIMEOUT)
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '30s'")
                cursor.execute("DELETE FROM procure_supplier WHERE id = %s", [firm.pk])
        finally:
            deleted.set()

    thread = _run(delete_the_supplier, errors)
    result = classify_suppliers(supplier_ids=[firm.pk], councils=[council])
    thread.join(TIMEOUT * 2)
    assert not thread.is_alive()
    assert not errors, errors
    assert result.created == 3  # size, VCSE, Living Wage (no link to a council)
    assert seen == {"delete waited": True}
    assert not Supplier.objects.filter(pk=firm.pk).exists()  # then it ran


def test_spend_totals_counts_keys_that_point_at_nothing(db, council):
    """The unchecked keys' safety net: rows left pointing at nothing by a delete
    made outside Django are counted and named."""
    data = spend_csv(date(2025, 4, 1), 20, 40, [("Kept Ltd", "LU1 1AA")])
    upload = SpendUpload.objects.create(
        council=council, file_name="april.csv", sha256=sha256_of(data)
    )
    import_spend_file(upload=upload, data=data)

    def totals(format: str = "json"):
        out = io.StringIO()
        call_command("spend_totals", "--format", format, stdout=out)
        return out.getvalue()

    clean = json.loads(totals())["dangling"]
    assert set(clean.values()) == {0} and "spendline.supplier" in clean
    gone = Supplier.objects.order_by("-pk").first().pk + 1000
    line = SpendLine.objects.filter(supplier__isnull=False).first()
    with connection.cursor() as cursor:  # as SQL typed into psql might
        cursor.execute(
            "UPDATE spend_spendline SET supplier_id = %s WHERE id = %s",
            [gone, line.pk],
        )
        cursor.execute(
            "UPDATE spend_suppliermonth SET council_id = %s", [council.pk + 1000]
        )
    months = SupplierMonth.objects.count()
    found = json.loads(totals())["dangling"]
    assert found["spendline.supplier"] == 1
    assert found["suppliermonth.council"] == months > 0
    assert sum(found.values()) == 1 + months
    assert "1 spendline.supplier point at nothing" in totals("text")
