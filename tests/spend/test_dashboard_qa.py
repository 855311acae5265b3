"""Findings of a QA pass on the cabinet dashboard, each checked here.

The data is small and made by hand (`first_quarter`); every expected figure is
worked out in the comments beside it. The page is seen on 15 November 2025.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from councils.periods import FinancialYear
from socialvalue.models import TAG_VALUES, LivingWageSnapshot, Target
from spend import dashboard as figures
from spend import rollup
from spend.dashboard_views import DOWNLOADS

D = Decimal
TODAY = date(2025, 11, 15)


@pytest.fixture
def first_quarter(council, make_supplier, make_line, make_tag, monkeypatch):
    """2025/26 for Luton, seen on 15 November 2025, spend in April, May, June
    and August 2025 only:

    Here Ltd: local, micro, not VCSE, Living Wage:   £100 a month
    There plc: elsewhere in the UK, large, not VCSE: £800 a month
    Nobody Ltd: no tags (unknown everything):        £100 a month
    Bedford Borough Council, public, wider area:     £1,000 in May 2025
    a redacted payee:                                £50 in May 2025

    Counted (public body and redacted payee left out): £1,000 a month, £4,000.
    Local target: 25% in 2017/18 to 70% by 2023/24 (its date has passed).
    SME target: 30% in 2022/23 to 45% by 2027/28.
    Living Wage target: 10% in 2023/24 to 25% by 2028/29: 16% for 2025/26.
    """
    monkeypatch.setattr(timezone, "localdate", lambda *args: TODAY)
    here = make_supplier(name="Here Ltd", verified=True)
    there = make_supplier(name="There plc", verified=True)
    nobody = make_supplier(name="Nobody Ltd", verified=True)
    public = make_supplier(name="Bedford Borough Council", verified=True)
    for supplier, values in (
        (
            here,
            {"locality": "local", "size": "micro", "vcse": "no", "living_wage": "yes"},
        ),
        (there, {"locality": "uk", "size": "large", "vcse": "no"}),
        (public, {"locality": "wider", "size": "public_sector", "vcse": "no"}),
    ):
        for kind, value in values.items():
            make_tag(supplier, kind, value, council)
    for month in (4, 5, 6, 8):
        day = date(2025, month, 10)
        for supplier, amount in ((here, "100"), (there, "800"), (nobody, "100")):
            make_line(
                council,
                supplier=supplier,
                amount=D(amount),
                payment_date=day,
                department="Place",
            )
    make_line(
        council,
        supplier=public,
        amount=D("1000"),
        payment_date=date(2025, 5, 5),
        department="Place",
    )
    make_line(
        council,
        supplier=None,
        supplier_name="REDACTED PERSONAL DATA",
        redacted=True,
        amount=D("50"),
        payment_date=date(2025, 5, 6),
        department="People",
    )
    for metric, baseline_year, baseline_share, target_year, target_share in (
        ("local", 2017, "25", 2023, "70"),
        ("sme", 2022, "30", 2027, "45"),
        ("living_wage", 2023, "10", 2028, "25"),
    ):
        Target.objects.create(
            council=council,
            metric=metric,
            baseline_year=baseline_year,
            baseline_share=D(baseline_share),
            target_year=target_year,
            target_share=D(target_share),
        )
    rollup.rebuild(council.pk)
    return {"here": here, "there": there, "nobody": nobody}


def page(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(
        reverse("spend:dashboard", args=["luton"]), {"year": "2025", **params}
    )
    assert response.status_code == 200
    return response.content.decode()


def words(fragment: str) -> str:
    """An HTML fragment as it reads: tags dropped, spaces squeezed."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", fragment))
    return re.sub(r"\s+([.,:;)])", r"\1", re.sub(r"\s+", " ", text)).strip()


def block(page_html: str, css_class: str) -> str:
    """The first element with `css_class`, to its closing tag (no nesting of
    the same element inside)."""
    found = re.search(
        rf'<(\w+) class="[^"]*\b{css_class}\b[^"]*"[^>]*>(.*?)</\1>', page_html, re.S
    )
    assert found, f"no {css_class}"
    return found[2]


def tiles_html(page_html: str) -> str:
    start = page_html.index('class="ls-dashboard-tiles"')
    return page_html[start : page_html.index('class="govuk-details"', start)]


def download(client, user, which: str, **params) -> list[list[str]]:
    client.force_login(user)
    response = client.get(
        reverse("spend:dashboard", args=["luton"]),
        {"year": "2025", "download": which, **params},
    )
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


# ------------------------------------- 1 and 2: tables scroll, not the page


def test_every_table_on_the_dashboard_scrolls_in_its_own_wrapper(
    client, viewer, first_quarter
):
    """The charts' tables ("view as a table"), the largest suppliers and "how
    complete the picture is": each in a wrapper that scrolls sideways, so the
    page itself does not (the widths are measured in a real browser in
    test_dashboard_qa_layout)."""
    shown = page(client, viewer)
    tables = [m.start() for m in re.finditer(r"<table\b", shown)]
    # Trend, every measure month by month, directorates, two supplier lists,
    # quality.
    assert len(tables) == 6
    for start in tables:
        before = shown[:start].rstrip()
        assert before.endswith('<div class="ls-table-wrapper">'), before[-200:]


# --------------------------------------------- 3: the period, said once


def test_a_period_is_named_once_without_brackets_inside_brackets(council):
    fy = FinancialYear(2025)
    q2 = figures.Scope(council, fy, date(2025, 7, 1), date(2025, 9, 1))
    assert q2.label == "Q2 2025/26 (July to September 2025)"  # the heading
    assert q2.short_label == "Q2 2025/26"
    assert q2.describe()[0] == "Period: Q2 2025/26 (1 July 2025 to 30 September 2025)"
    year = figures.Scope(council, fy, fy.start, date(2026, 3, 1))
    assert year.describe()[0] == "Period: 2025/26 (1 April 2025 to 31 March 2026)"
    # A range of months is its dates: not "May 2025 to August 2025 (1 May …)".
    months = figures.Scope(council, fy, date(2025, 5, 1), date(2025, 8, 1))
    assert months.describe()[0] == "Period: 1 May 2025 to 31 August 2025"


def test_the_page_and_its_downloads_never_double_the_brackets(
    client, viewer, first_quarter
):
    shown = page(client, viewer, period="q2")
    stated = words(block(shown, "ls-stated-filters"))
    assert (
        "Showing: Period: Q2 2025/26 (1 July 2025 to 30 September 2025); "
        "Directorate: all;"
    ) in stated
    # July and September 2025 are over and have no spend imported.
    assert (
        "no spend has been imported for July 2025 and September 2025 (2 months "
        "of Q2 2025/26)"
    ) in stated
    text = words(shown[shown.index("<main") :])
    assert ") (" not in text and "))" not in text
    for which in DOWNLOADS:
        preamble = download(client, viewer, which, period="q2")[:8]
        assert ") (" not in str(preamble) and "))" not in str(preamble), which


# ------------------------------------------ 4: a period with no spend yet


def test_a_period_not_begun_says_so_not_that_spend_is_missing(
    client, viewer, first_quarter
):
    shown = page(client, viewer, period="q4")
    empty = words(block(shown, "ls-empty-period"))
    assert empty == (
        "Q4 2025/26 has not begun yet: it runs from 1 January 2026 to 31 March "
        "2026, so there is no spend to show. Choose another period to see spend."
    )
    assert "No spend has been imported" not in shown
    assert "href" not in block(shown, "ls-empty-period")
    assert "This period has not begun, so no month of it is missing yet." in shown
    assert "Spend has been imported for every month" not in shown
    # QA: "£0.00 in 0 payments is counted below. See the payments counted."
    assert "No payment is counted in this period." in shown
    assert "in 0 payments" not in shown
    total = block(shown, "ls-tile--total")
    assert "No payment counted." in total and "href" not in total


def test_a_read_only_member_is_not_offered_an_upload(
    client, viewer, council_officer, first_quarter
):
    upload = reverse("spend:upload", args=["luton"])
    uploads = reverse("spend:uploads", args=["luton"])
    # October 2025 alone: over, and no spend imported.
    october = {"period": "months", "month_from": "7", "month_to": "7"}
    seen = block(page(client, viewer, **october), "ls-empty-period")
    assert words(seen) == (
        "! Warning No spend has been imported for October 2025. Choose another "
        "period to see spend."
    )
    assert upload not in seen and uploads not in seen
    # A member who may upload is offered the upload page itself.
    offered = block(page(client, council_officer, **october), "ls-empty-period")
    assert f'href="{upload}"' in offered
    assert "Upload a spend file" in offered


def test_a_period_not_over_says_its_spend_is_not_in_yet(client, viewer, first_quarter):
    shown = page(client, viewer, period="q3")  # October to December 2025
    assert words(block(shown, "ls-empty-period")) == (
        "! Warning No spend has been imported yet for Q3 2025/26, which runs to "
        "31 December 2025. Choose another period to see spend."
    )


def test_the_tiles_of_an_empty_period_use_only_the_keys_words(
    client, viewer, first_quarter
):
    shown = page(client, viewer, period="q4")
    tiles = tiles_html(shown)
    key = {label for _, label, _ in figures.status_key()}
    tags = re.findall(r'class="govuk-tag[^"]*">([^<]+)</strong>', tiles)
    assert set(tags) <= key, tags
    read = words(tiles)
    assert "No figure to judge" not in read
    assert "—" not in read and "(£0)" not in read  # no "Unknown: — of spend (£0)"
    # Local, SME and Living Wage have targets: none is judged, and each says why.
    assert (
        read.count(
            "Not judged against the target: no spend is counted in this period yet."
        )
        == 3
    )
    assert "No spend imported for the same months a year earlier" not in read
    # The headline figures' CSV says the same, in the same words.
    rows = download(client, viewer, "tiles", period="q4")
    header = next(row for row in rows if row and row[0] == "Measure")
    status = {
        row[0]: row[header.index("Status")] for row in rows[rows.index(header) + 1 :]
    }
    assert status["Local"] == "Not judged: no spend counted"
    assert status["Wider area (including local)"] == "No target"


# ----------------------------- 5: the Living Wage status and the status key


def test_the_status_key_states_the_rule_the_living_wage_tile_follows(
    client, viewer, council, first_quarter
):
    """Living Wage is unknown for 90% of the spend counted (all but Here Ltd's
    £400 of £4,000), and is judged all the same: its share is of all spend, as
    accreditation is never ruled out. The key, on the page and in the CSV,
    says so; the other measures follow the half-unknown rule."""
    fy = FinancialYear(2025)
    headline = figures.tiles(
        figures.Scope(council, fy, fy.start, date(2026, 3, 1)),
        figures.Targets(council),
        TODAY,
    )
    living_wage = next(t for t in headline["tiles"] if t.metric.key == "living_wage")
    assert living_wage.unknown_share == D("90.0")
    assert living_wage.share == D("10.0")  # 400 / 4,000
    assert living_wage.target == D("16.0")  # 10 + (25 − 10) × 2/5
    assert living_wage.status == "red"  # judged, not "too little known"
    assert living_wage.judged_although_unknown

    grey = dict((label, when) for _, label, when in figures.status_key())[
        "Too little known to judge"
    ]
    assert "more than half" in grey
    assert "The Living Wage share is judged however much is unknown" in grey

    shown = page(client, viewer)
    key = words(block(shown, "ls-status-legend"))
    assert f"Too little known to judge: {grey}." in key
    tile = tiles_html(shown).split("Real Living Wage employers")[1]
    assert "Judged although most is unknown" in words(tile)
    assert (
        "Unknown: 90.0% of the spend counted (£3,600), with suppliers not known to "
        "be accredited"
    ) in words(tile)
    # Where its "yes" comes from (QA: read as checked against the Foundation's
    # list, when none was loaded).
    assert (
        "No Living Wage Foundation accredited-employer list is loaded: “yes” comes "
        "from suppliers' recorded details and officers' decisions only."
    ) in words(tile).replace("&#x27;", "'")
    LivingWageSnapshot.objects.create(taken_on=date(2026, 3, 2), file_name="lw.csv")
    tile = tiles_html(page(client, viewer)).split("Real Living Wage employers")[1]
    assert (
        "“Yes” comes from the Living Wage Foundation's accredited-employer list of "
        "2 March 2026, suppliers' recorded details and officers' decisions."
    ) in words(tile).replace("&#x27;", "'")
    rows = download(client, viewer, "tiles")
    assert [f"Too little known to judge: {grey}."] in rows
    header = next(row for row in rows if row and row[0] == "Measure")
    lw = next(row for row in rows if row and row[0] == "Real Living Wage employers")
    assert lw[header.index("Status")] == "Below target"


# ------------------------------------- 6: which spend an unknown share is of


def test_each_unknown_share_says_which_spend_it_is_of(client, viewer, first_quarter):
    """Nobody Ltd's £400 is 10.0% of the £4,000 counted (the tiles), and 7.4%
    of all £5,050 spend, the public body and redacted payee included: 7.9% (how
    complete the picture is)."""
    shown = page(client, viewer)
    local = tiles_html(shown).split(">Local</h3>")[1].split("</div>")[0]
    assert words(block(local, "ls-unknown")) == (
        "Unknown: 10.0% of the spend counted (£400)"
    )
    quality = shown[shown.index('id="quality"') :]
    assert (
        "The shares here are of all spend, £5,050.00, payments to public sector "
        "bodies and redacted payees included: not of the £4,000.00 counted "
        "towards the targets, which the tiles' unknown shares are of."
    ) in words(quality)
    row = re.search(r"Named suppliers whose location is unknown.*?</tr>", quality, re.S)
    assert words(row[0]).endswith("£400.00 7.9%")


# ------------------------------- 7: the data quality CSV says what it counts


def test_the_data_quality_csv_says_it_counts_what_the_page_leaves_out(
    client, viewer, first_quarter
):
    rows = download(client, viewer, "quality")
    assert rows[3] == ["Payments to public sector bodies: included"]
    assert rows[4] == ["Payments to redacted payees: included"]
    header = rows.index(
        ["What", "Spend (£)", next(r for r in rows if r and r[0] == "What")[2]]
    )
    body = {row[0]: row[1:] for row in rows[header + 1 :]}
    # The rows do count the redacted payee's £50 and the public body's £1,000.
    assert body["Redacted payees"] == ["50.00", "1.0%"]  # 50 / 5,050
    assert any(
        "whatever the dashboard's other figures leave out" in r[0]
        for r in rows[:header]
        if r
    )
    # With both included on the page, the header is the page's own.
    both = download(client, viewer, "quality", public="include", redacted="include")
    assert both[3:5] == [
        ["Payments to public sector bodies: included"],
        ["Payments to redacted payees: included"],
    ]


# --------------------------------------------- 8: words, not stored codes


def test_the_supplier_lists_csv_names_locations_as_the_page_does(
    client, viewer, first_quarter
):
    non_local = download(client, viewer, "non-local")
    header = non_local.index(
        ["Supplier", "Register id", "Location", "Spend (£)", "Payments"]
    )
    assert non_local[header + 1][:1] + non_local[header + 1][2:4] == [
        "There plc",
        "Elsewhere in the UK",
        "3200.00",
    ]
    local = download(client, viewer, "local")
    assert local[local.index(non_local[header]) + 1][2] == "Local"


def test_no_download_holds_a_stored_tag_code(client, viewer, first_quarter):
    codes = {code for values in TAG_VALUES.values() for code in values}
    for which in DOWNLOADS:
        rows = download(client, viewer, which)
        cells = {cell for row in rows for cell in row}
        assert not cells & codes, (which, cells & codes)


# ----------------------------------------- 9: the status key sits cleanly


def test_the_status_key_is_a_status_a_line(client, viewer, first_quarter):
    key = block(page(client, viewer), "ls-status-legend")
    items = re.findall(r"<li>(.*?)</li>", key, re.S)
    assert [re.search(r">([^<]+)</strong>", item)[1] for item in items] == [
        label for _, label, _ in figures.status_key()
    ]
    css = (
        __import__("pathlib").Path(__file__).parents[2]
        / "static/localspend/localspend.css"
    ).read_text()
    # GOV.UK's tags stop at 160px: the key's and the tiles' may be wider.
    rule = re.search(
        r"\.ls-status-key \.govuk-tag,\s*\.ls-tile \.govuk-tag \{([^}]*)\}", css
    )
    assert rule and "max-width: none" in rule[1]


# ------------------------------ 10: a target whose date has passed, said so


def test_a_target_whose_year_has_passed_is_not_called_a_trajectory(
    client, viewer, council, first_quarter
):
    targets = figures.Targets(council)
    local = targets.governing("local", FinancialYear(2025))
    assert figures.target_note(local, FinancialYear(2025)) == (
        "the target was 70.0% by 2023/24, from 25.0% in 2017/18; that date has "
        "passed, so 2025/26 is judged against it"
    )
    # In its own year the trajectory ends: still a trajectory, to this year.
    assert figures.target_note(local, FinancialYear(2023)) == (
        "trajectory to 70.0% by 2023/24, from 25.0% in 2017/18"
    )
    read = words(tiles_html(page(client, viewer)))
    assert "trajectory to 70.0% by 2023/24" not in read
    assert (
        "Target for 2025/26: 70.0% (the target was 70.0% by 2023/24, from 25.0% "
        "in 2017/18; that date has passed, so 2025/26 is judged against it)"
    ) in read
    assert (
        "Target for 2025/26: 39.0% (trajectory to 45.0% by 2027/28, from 30.0% in "
        "2022/23)"
    ) in read
    rows = download(client, viewer, "tiles")
    header = next(row for row in rows if row and row[0] == "Measure")
    local_row = next(row for row in rows if row and row[0] == "Local")
    assert local_row[header.index("About the target")].endswith(
        "that date has passed, so 2025/26 is judged against it"
    )
