"""Payments and uploads are shown in the Django admin, never added or changed
there (QA: an amount edited in the admin left the dashboards' rollups and the
upload's reconciliation disagreeing with the payments)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_payment_is_shown_but_not_changed_in_the_admin(
    admin_client, council, make_line
):
    line = make_line(council, amount=Decimal("250.00"))
    url = reverse("admin:spend_spendline_change", args=[line.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "250.00" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    response = admin_client.post(url, {"amount": "999.00"})
    assert response.status_code == 403
    line.refresh_from_db()
    assert line.amount == Decimal("250.00")
    assert admin_client.get(reverse("admin:spend_spendline_add")).status_code == 403


def test_an_upload_is_shown_but_not_changed_in_the_admin(
    admin_client, council, make_line
):
    upload = make_line(council).upload
    url = reverse("admin:spend_spendupload_change", args=[upload.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"rows_read": "99"})
    assert response.status_code == 403
    upload.refresh_from_db()
    assert upload.rows_read != 99
    assert admin_client.get(reverse("admin:spend_spendupload_add")).status_code == 403


def test_an_uploads_history_form_saves_nothing(admin_client, council, make_line):
    """Review: django-simple-history's form of an old version saved on POST."""
    from spend.models import SpendUpload

    upload = make_line(council).upload
    upload.file_name = "renamed.csv"
    upload.save()
    version = SpendUpload.history.filter(id=upload.pk).earliest("history_date")
    url = reverse(
        "admin:spend_spendupload_simple_history", args=[upload.pk, version.pk]
    )
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url, {"file_name": "tampered.csv", "amount_imported": "1.00"}
    )
    assert response.status_code == 403
    upload.refresh_from_db()
    assert upload.file_name == "renamed.csv"


def test_payments_are_not_deleted_one_by_one_in_the_admin(
    admin_client, council, make_line
):
    line = make_line(council)
    url = reverse("admin:spend_spendline_delete", args=[line.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:spend_spendline_changelist")
    page = admin_client.get(changelist).content.decode()
    assert "delete_selected" not in page
    line.refresh_from_db()  # still there


def test_a_council_deleted_in_the_admin_takes_its_spend(
    admin_client, other_council, make_line
):
    from spend.models import SpendLine

    make_line(other_council)
    url = reverse("admin:councils_council_delete", args=[other_council.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not SpendLine.objects.filter(council_id=other_council.pk).exists()


def test_a_merges_history_form_saves_nothing(
    admin_client, council, council_officer, make_supplier
):
    """Review: the admin shows merges read-only, but simple-history's form of an
    old version saved what was posted to it (what undoing a merge relies on)."""
    from procure.merging import merge_suppliers
    from procure.models import SupplierMerge

    merge = merge_suppliers(
        kept=make_supplier(name="Wardown Plumbing Ltd"),
        merged=make_supplier(name="Wardown Plumbing Limited"),
        user=council_officer,
        council=None,
        reason="The same firm",
    )
    version = SupplierMerge.history.filter(id=merge.pk).latest("history_date")
    url = reverse(
        "admin:procure_suppliermerge_simple_history", args=[merge.pk, version.pk]
    )
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"reason": "tampered"}).status_code == 403
    merge.refresh_from_db()
    assert merge.reason == "The same firm"
