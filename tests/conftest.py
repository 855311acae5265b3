"""Shared fixtures: two councils, a user per role in the first, an outsider in the second."""

from __future__ import annotations

import importlib
import itertools
from datetime import date
from decimal import Decimal

import pytest

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, with the measures catalogue its migrations load.

    A transactional test empties every table when it ends (pytest-django runs
    them last), so a database kept for the next run (--reuse-db, on PostgreSQL)
    starts without the catalogue: load it again, as the migration does.
    """
    from django.apps import apps

    catalogue = importlib.import_module("socialvalue.migrations.0006_measure_catalogue")
    with django_db_blocker.unblock():
        if not apps.get_model("socialvalue", "Measure").objects.exists():
            catalogue.load_catalogue(apps, None)


@pytest.fixture
def council(db):
    from councils.models import Council

    return Council.objects.create(
        slug="luton",
        name="Luton Borough Council",
        short_name="Luton",
        gss_code="E06000032",
        local_districts=["LU1", "LU2", "LU3", "LU4"],
        wider_kind="districts",
        wider_districts=["LU1", "LU2", "LU3", "LU4", "LU5", "LU6", "LU7"],
    )


@pytest.fixture
def other_council(db):
    from councils.models import Council

    return Council.objects.create(
        slug="knowsley",
        name="Knowsley Council",
        short_name="Knowsley",
        gss_code="E08000011",
        local_districts=["L34", "L36"],
    )


def _member(council, role: str, username: str):
    from django.contrib.auth import get_user_model

    from councils.models import Membership

    user = get_user_model().objects.create_user(username, password="a-long-password-1")
    Membership.objects.create(user=user, council=council, role=role)
    return user


@pytest.fixture
def council_admin(council):
    return _member(council, "admin", "alice-admin")


@pytest.fixture
def council_officer(council):
    return _member(council, "procurement", "bob-officer")


@pytest.fixture
def finance_officer(council):
    return _member(council, "finance", "fay-finance")


@pytest.fixture
def viewer(council):
    return _member(council, "viewer", "carol-cabinet")


@pytest.fixture
def other_council_officer(other_council):
    return _member(other_council, "admin", "oscar-outsider")


@pytest.fixture
def role_users(council_admin, council_officer, finance_officer, viewer):
    return {
        "admin": council_admin,
        "procurement": council_officer,
        "finance": finance_officer,
        "viewer": viewer,
    }


@pytest.fixture
def make_supplier(db):
    def make(**kwargs):
        from procure.models import Supplier

        kwargs.setdefault("name", f"Supplier {next(_counter)} Ltd")
        return Supplier.objects.create(**kwargs)

    return make


@pytest.fixture
def make_upload(db):
    def make(council, **kwargs):
        from spend.models import SpendUpload

        kwargs.setdefault("file_name", "spend.csv")
        kwargs.setdefault("sha256", f"{next(_counter):064x}")
        kwargs.setdefault("status", "imported")
        return SpendUpload.objects.create(council=council, **kwargs)

    return make


@pytest.fixture
def make_line(db, make_upload):
    uploads = {}

    def make(council, **kwargs):
        from spend.models import SpendLine

        if "upload" not in kwargs:
            if council.pk not in uploads:
                uploads[council.pk] = make_upload(council)
            kwargs["upload"] = uploads[council.pk]
        kwargs.setdefault("source_row", next(_counter) + 1)
        kwargs.setdefault("payment_date", date(2025, 5, 1))
        kwargs.setdefault("amount", Decimal("1000.00"))
        supplier = kwargs.get("supplier")
        kwargs.setdefault("supplier_name", supplier.name if supplier else "Redacted")
        return SpendLine.objects.create(council=council, **kwargs)

    return make


def new_tag(supplier, kind, value, council=None):
    """A tag as the rules would set it (a location is the council's; size, VCSE
    and Living Wage the supplier's). Needs the database (`make_tag`)."""
    from django.utils import timezone

    from socialvalue.models import SupplierTag

    return SupplierTag.objects.create(
        supplier=supplier,
        council=council if kind == "locality" else None,
        kind=kind,
        value=value,
        source="no_data",
        evidence="Set by the test.",
        confidence="high",
        decided_at=timezone.now(),
    )


@pytest.fixture
def make_tag(db):
    """`make_tag(supplier, kind, value, council)`: `new_tag`, with the database."""
    return new_tag
