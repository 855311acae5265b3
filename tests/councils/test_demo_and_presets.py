import re
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from councils.demo import demo_months, load_demo
from councils.models import Council, Membership
from councils.periods import FinancialYear
from procure.models import Contract, Supplier
from socialvalue.models import Target
from spend.models import RememberedMapping, SpendLine, SpendUpload


@pytest.fixture
def presets(db):
    call_command("load_councils", verbosity=0)


def _snapshot() -> dict:
    return {
        "suppliers": sorted(
            Supplier.objects.values_list("name", "postcode", "company_number")
        ),
        "lines": SpendLine.objects.aggregate(n=Count("id"), total=Sum("amount")),
        "line_keys": sorted(
            SpendLine.objects.values_list("transaction_ref", "amount", "supplier_name")
        ),
        "uploads": sorted(SpendUpload.objects.values_list("file_name", "sha256")),
        "contracts": sorted(Contract.objects.values_list("reference", "value")),
        "targets": sorted(
            Target.objects.values_list("metric", "target_year", "target_share")
        ),
        "memberships": sorted(Membership.objects.values_list("user__username", "role")),
    }


def test_the_presets_load_twice_to_the_same_four_councils(presets):
    call_command("load_councils", verbosity=0)
    assert sorted(Council.objects.values_list("slug", flat=True)) == [
        "knowsley",
        "luton",
        "milton-keynes",
        "preston",
    ]
    luton = Council.objects.get(slug="luton")
    assert "LU1" in luton.local_districts and "LU5" not in luton.local_districts
    assert set(luton.local_districts) <= set(luton.wider_districts)
    target = Target.objects.get(council=luton, metric="local")
    assert target.share_for(FinancialYear(2017)) == Decimal("25.0")
    assert target.share_for(FinancialYear(2023)) == Decimal("70.0")
    mk = Council.objects.get(slug="milton-keynes")
    assert mk.wider_kind == "radius" and mk.wider_radius_miles == Decimal("20.0")


def test_load_demo_twice_leaves_the_same_data(presets):
    kwargs = {
        "council_slug": "luton",
        "today": date(2026, 11, 23),
        "months": 3,
        "lines_per_month": 150,
    }
    load_demo(**kwargs)
    first = _snapshot()
    load_demo(**kwargs)
    assert _snapshot() == first
    assert first["lines"]["n"] == 450


def test_the_demo_has_every_kind_of_supplier_and_payee(presets):
    load_demo(
        council_slug="luton", today=date(2026, 11, 23), months=2, lines_per_month=400
    )
    types = set(Supplier.objects.values_list("organisation_type", flat=True))
    assert {
        "private_company",
        "plc",
        "charity",
        "cic",
        "public_body",
        "unknown",
    } <= types
    postcodes = Supplier.objects.values_list("postcode", flat=True)
    assert any(p.startswith("LU1 ") for p in postcodes)  # local
    assert any(p.startswith("MK40 ") for p in postcodes)  # wider area
    assert "" in postcodes  # location unknown
    assert SpendLine.objects.filter(redacted=True, supplier__isnull=True).exists()
    assert SpendLine.objects.filter(amount__lt=0).exists()  # credit notes
    assert Membership.objects.filter(
        user__username="demo-cabinet", role="viewer"
    ).exists()


def test_the_demo_says_truthfully_what_it_loaded(presets):
    out = StringIO()
    call_command("load_demo", months=2, lines_per_month=200, stdout=out)
    text = out.getvalue()
    lines = int(re.search(r"(\d+) spend lines", text)[1])
    total = Decimal(re.search(r"total £([\d,]+\.\d\d)", text)[1].replace(",", ""))
    # SQLite sums decimals as floats: to the penny is exact enough and what counts.
    penny = Decimal("0.01")
    figures = SpendLine.objects.aggregate(n=Count("id"), total=Sum("amount"))
    assert (lines, total) == (figures["n"], figures["total"].quantize(penny))
    assert lines == 400
    for upload in SpendUpload.objects.all():
        held = upload.lines.aggregate(n=Count("id"), total=Sum("amount"))
        assert (upload.rows_imported, upload.amount_imported) == (
            held["n"],
            held["total"].quantize(penny),
        )
    assert "demo-cabinet" in text and "localspend-demo" in text


def test_demo_months_are_the_whole_months_before_today():
    assert demo_months(date(2026, 1, 15), 3) == [
        date(2025, 10, 1),
        date(2025, 11, 1),
        date(2025, 12, 1),
    ]


def test_the_demo_files_were_read_with_a_remembered_column_choice(presets, client):
    load_demo(
        council_slug="luton", today=date(2026, 11, 23), months=2, lines_per_month=50
    )
    mapping = RememberedMapping.objects.get(council__slug="luton")
    assert mapping.updated_by.username == "demo-finance"
    # The first month's columns were checked on the preview, the next remembered.
    first, second = SpendUpload.objects.order_by("period_start")
    assert [m["source"] for m in first.mappings + second.mappings] == [
        "chosen",
        "remembered",
    ]
    assert {m["layout"] for m in second.mappings} == {mapping.layout}
    client.force_login(mapping.updated_by)
    page = client.get(f"/c/luton/uploads/{second.pk}/")
    assert "without asking" in page.content.decode()
    # Loaded again, the choice is left as it is: no second record, no history.
    load_demo(
        council_slug="luton", today=date(2026, 11, 23), months=2, lines_per_month=50
    )
    assert RememberedMapping.history.count() == 1


def test_loading_the_presets_again_keeps_what_administrators_changed(presets):
    """QA: `make run` ran `loaddata councils`, which wrote the presets back over
    each council and Luton's target on every start: an administrator's local
    area, public pages and target were undone, with nothing in the history."""
    from councils.models import PRESET_LOADED

    luton = Council.objects.get(slug="luton")
    assert [(h.history_type, h.history_change_reason) for h in luton.history.all()] == [
        ("+", PRESET_LOADED)
    ]
    (target,) = Target.objects.filter(council=luton)
    assert target.history.get().history_change_reason == PRESET_LOADED
    luton.local_districts = ["LU1"]
    luton.public_pages_enabled = True
    luton.save()
    target.target_share = Decimal("75.00")
    target.save()
    load_demo(
        council_slug="luton", today=date(2026, 11, 23), months=1, lines_per_month=5
    )
    demo_officer = Membership.objects.get(council=luton, user__username="demo-officer")
    demo_officer.role = "viewer"
    demo_officer.save()
    Membership.objects.get(council=luton, user__username="demo-finance").delete()
    edited = Supplier.objects.filter(postcode__startswith="LU1 ").first()
    edited.postcode = "SW1A 1AA"
    edited.save()
    Target.objects.get(council=luton, metric="sme").delete()
    counts = (
        Council.history.count(),
        Target.history.count(),
        Membership.history.count(),
        Supplier.history.filter(id=edited.pk).count(),
    )

    out = StringIO()
    call_command("load_councils", stdout=out)
    load_demo(
        council_slug="luton", today=date(2026, 11, 23), months=1, lines_per_month=5
    )

    luton.refresh_from_db()
    assert (luton.local_districts, luton.public_pages_enabled) == (["LU1"], True)
    assert Target.objects.get(pk=target.pk).target_share == Decimal("75.00")
    assert not Target.objects.filter(council=luton, metric="sme").exists()
    demo_officer.refresh_from_db()
    assert demo_officer.role == "viewer"
    # A removed demo member stays removed; an edited demo supplier keeps its edit.
    assert not Membership.objects.filter(
        council=luton, user__username="demo-finance"
    ).exists()
    edited.refresh_from_db()
    assert edited.postcode == "SW1A 1AA"
    assert (
        Council.history.count(),
        Target.history.count(),
        Membership.history.count(),
        Supplier.history.filter(id=edited.pk).count(),
    ) == counts
    assert "left as they are: luton, milton-keynes, knowsley, preston" in out.getvalue()


def test_a_council_loaded_before_its_history_gets_a_first_record(db, client):
    """Councils loaded by `loaddata` have no history: the first change to their
    local area could not say what it was before. `load_councils` records how
    each stands, once."""
    from django.contrib.auth import get_user_model

    from councils.models import FIRST_RECORDED

    call_command("loaddata", "councils", verbosity=0)
    luton = Council.objects.get(slug="luton")
    assert not luton.history.exists()
    call_command("load_councils", verbosity=0)
    call_command("load_councils", verbosity=0)
    (first,) = luton.history.all()
    assert (first.history_type, first.history_change_reason) == ("+", FIRST_RECORDED)
    assert first.local_districts == luton.local_districts

    admin = get_user_model().objects.create_user("ada-admin")
    Membership.objects.create(user=admin, council=luton, role="admin")
    luton.local_districts = [*luton.local_districts, "LU5"]
    luton._change_reason = "Local area changed"
    luton.save()
    client.force_login(admin)
    page = client.get(f"/c/{luton.slug}/settings/history/").content.decode()
    assert "what it was before is not recorded" not in page
    assert "(added LU5)" in page
    assert "Recorded the council’s settings as they stood" in page
    # With the settings it started with (QA: not listed).
    assert "Local postcode districts: LU1, LU2, LU3, LU4</li>" in page
    assert "Public pages: off</li>" in page


def test_the_demo_has_near_matches_to_review_and_keeps_decisions(presets):
    """QA: the demo's review queue said "No possible duplicates to check", so the
    feature could not be seen without uploading a file."""
    from django.utils import timezone

    from procure.models import MatchSuggestion

    kwargs = {
        "council_slug": "luton",
        "today": date(2026, 11, 23),
        "months": 1,
        "lines_per_month": 50,
    }
    load_demo(**kwargs)
    suggestions = MatchSuggestion.objects.select_related("supplier", "candidate")
    assert suggestions.count() >= 5
    for suggestion in suggestions:
        assert not suggestion.supplier.verified and suggestion.candidate.verified
    dismissed = suggestions.first()
    dismissed.dismissed_at = timezone.now()
    dismissed.save()
    records = MatchSuggestion.history.count()
    load_demo(**kwargs)
    dismissed.refresh_from_db()
    assert dismissed.dismissed_at is not None
    assert MatchSuggestion.history.count() == records  # nothing written again


def test_the_demo_logins_printed_are_the_roles_as_they_are(presets):
    """QA: `make run` printed the demo roles from the code after an administrator
    had changed one."""
    call_command("load_demo", months=1, lines_per_month=20, stdout=StringIO())
    officer = Membership.objects.get(user__username="demo-officer")
    officer.role = "admin"
    officer.save()
    Membership.objects.get(user__username="demo-finance").delete()
    out = StringIO()
    call_command("load_demo", months=1, lines_per_month=20, stdout=out)
    text = out.getvalue()
    assert re.search(r"demo-officer +Council administrator", text)
    assert re.search(r"demo-finance +no longer a member of Luton", text)
    assert re.search(r"demo-cabinet +Cabinet member or councillor \(read only\)", text)
