"""Every real council spend file, end to end through `import_spend --format json`.

The files are described in /work/shared/data/real/SOURCES.md. The expected figures
below do NOT come from our importer. They come from a throwaway oracle that reads
each file with the csv module or openpyxl alone, using hand-picked column numbers
for that file. The oracle decodes the amounts itself (strips "£", thousands commas
and padding; treats a leading or trailing "-" as negative; rounds spreadsheet
floats to the penny with ROUND_HALF_UP), checks every date against the file's own
format, and sums in pence. Those figures were then checked against SOURCES.md's row
counts.

Definitions used by the oracle (what the importer reports in its reconciliation):

* rows_read: non-blank rows below the header: payments plus total/note rows. Header,
  preamble and blank rows (``,,,,``, or Lambeth's ``,††††††,,,,``) are not counted.
* rows_skipped: total rows (labelled "Total" or unlabelled: no date, no supplier,
  only an amount).
* amount_imported: the sum of the payment rows only, totals left out.
* redacted_lines: rows whose payee is a redaction label (e.g. "Redacted Personal
  Information"). None where the oracle cannot say without guessing.

No real file has a row that the oracle finds invalid, so rows_rejected is expected
to be rows_read - rows_imported - rows_skipped (0) for every file.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

REAL_SPEND = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "spend"
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not REAL_SPEND.is_dir(),
        reason=f"the real spend files are not here ({REAL_SPEND}); see SOURCES.md",
    ),
]

TRAFFORD = "trafford_supplier-spend-2026-27.zip"

# file: (rows_read, rows_imported, rows_skipped, amount_imported, redacted_lines)
EXPECTED: dict[str, tuple[int, int, int, str, int | None]] = {
    # csv cols D date / F amount / G supplier, rows 2-4097 = 4,096 as SOURCES.md.
    # Redaction left open: 187 "REDACTED PERSONAL DATA" plus 7 mixed values like
    # "REDACTED PERSONAL DATA Beresford Travel" that name a firm.
    "manchester_dec-2010.csv": (4096, 4096, 0, "58676302.80", None),
    # cp1252, cols D/F/G, rows 2-3676 = 3,675 as stated; 78 "Redacted Personal Information".
    "manchester_feb-2015.csv": (3675, 3675, 0, "41639398.55", 78),
    # cp1252, cols D/F/G, rows 2-3386 = 3,385 as stated; 106 "Redacted Personal Information".
    "manchester_may-2016.csv": (3385, 3385, 0, "59951411.69", 106),
    # cp1252, cols D/F/G, rows 2-3022 = 3,021 as stated; 172 redacted as stated.
    "manchester_april-2021.csv": (3021, 3021, 0, "65033028.95", 172),
    # cp1252, cols D/F/G, rows 2-2662 = 2,661 as stated; 117 redacted as stated.
    "manchester_latest-december-2021.csv": (2661, 2661, 0, "68237531.59", 117),
    # csv sum of column J, rows 2-172 (171 as stated); row 173 is the unlabelled
    # total 726,583.94 which equals the sum, so read 172 = 171 + 1 skipped.
    # 6 payees are "*****************************" (masked).
    "craven_2017-03_payments.csv": (172, 171, 1, "726583.94", 6),
    # utf-8, header on line 10; cols D date / E amount / C supplier, lines 11-3165 =
    # 3,155 payments; line 3167 "Total" 40,292,334.84 equals the sum. SOURCES.md's
    # 3,157 also counts line 3171 ",††††††,,,,", which is padding only: "†" is the
    # NBSP byte 0xA0 read as Mac Roman, so that row is blank. Read = 3,155 + 1.
    "lambeth_2012-06-payments_as-first-committed.csv": (
        3156,
        3155,
        1,
        "40292334.84",
        None,
    ),
    # cols F date (dd/mm/yyyy) / G amount / E name, rows 2-181 = 180 as stated.
    "hyndburn_1701.csv": (180, 180, 0, "538272.19", 0),
    # cols F (dd-Mon-yy) / G / E, rows 2-259 = 258 as stated.
    "hyndburn_1704.csv": (258, 258, 0, "1015268.02", 0),
    # bare CR lines; cols F (both date forms) / G / E, 178 rows as stated.
    "hyndburn_1705.csv": (178, 178, 0, "766376.54", 0),
    # bare CR; F holds Excel serials, G / E; 223 rows as stated.
    "hyndburn_1908.csv": (223, 223, 0, "667772.29", 0),
    # cols F/G/E; 235 rows as stated, the 84 ",,,,,," rows are blank.
    "hyndburn_November-2020.csv": (235, 235, 0, "493499.99", 0),
    # cols F/G/E; 224 rows as stated, the 465 ",,,,,,," rows are blank.
    "hyndburn_October-2021-csv.csv": (224, 224, 0, "436960.25", 0),
    # cols F/G/E, lines 3-16 = 14 as stated (line 2 is blank).
    "hyndburn_September-2022.csv": (14, 14, 0, "14309.72", 0),
    # header on line 2; cols F/G/E; 502 rows as stated, 93 blank rows.
    "hyndburn_April-2023.csv": (502, 502, 0, "1216217.07", 0),
    # BOM + blank line, header on line 2; cols F/G/E; 547 rows as stated.
    "hyndburn_June-23-csv.csv": (547, 547, 0, "1097070.88", 0),
    # cols F ("15 June 2023") / G / E; 473 as stated. "Redactive Publishing Ltd"
    # (2 rows) is a real firm, not a redaction.
    "hyndburn_July-23-csv.csv": (473, 473, 0, "1255544.20", 0),
    # cols G date / H "£…" amount / F name; 658 records as stated (csv module
    # keeps the 24 embedded newlines inside their cells).
    "hyndburn_Spend-over-250.00-Mar-24.csv": (658, 658, 0, "3414673.99", 0),
    # 17-field spacer layout: cols O date / Q amount ("106,396.00-" negative) /
    # L name; 587 rows as stated, the last ",,,," row is blank.
    "hyndburn_Oct-24-CSV.csv": (587, 587, 0, "7466614.05", 0),
    # No header on top: cols O/Q/L, lines 1-888. SOURCES.md's 889 includes line
    # 889, which is the header row written at the bottom, not a payment.
    "hyndburn_March-25-CSV.csv": (888, 888, 0, "10043481.44", 0),
    # cols H (dd/mm/yy) / I / F; 446 rows as stated.
    "hyndburn_January-26-CSV.csv": (446, 446, 0, "9082922.07", 0),
    # cols C date / F amount / D supplier; header 2, 13 cols; 7,012 as stated;
    # 91 payees "REDACTED UNDER DP ACT" as stated.
    "devon_DCCSpendingOver500_201101.csv": (7012, 7012, 0, "28663931.81", 91),
    # BOM; cols C (ISO datetime) / F (floats rounded to the penny) / G; 9,119 as
    # stated; 341 "REDACTED UNDER DP ACT" payees as stated.
    "devon_DCCSpendingOver500_201801.csv": (9119, 9119, 0, "60016757.00", 341),
    # cols C / E (" 1,041.67 ") / F; SOURCES.md's 2,165 = 2,164 payments + the
    # last row ",,,," 38,360,526.29", an unlabelled total equal to the sum.
    "devon_DCCSpendingOver500_202512.csv": (2165, 2164, 1, "38360526.29", 0),
    # cols C / E / F; 3,546 = 3,545 payments + the unlabelled total 57,492,900.67
    # on the last row, which equals the sum.
    "devon_DCCSpendingOver500_202603.csv": (3546, 3545, 1, "57492900.67", 0),
    # openpyxl: rows 2-2744 amount in F (2,743 rows), second header at row 2745,
    # rows 2746-2910 amount in E (165 rows, as stated): 2,908 payments,
    # 13,539,464.68 + 1,555,150.16; 30 "Redacted" payees as stated.
    "lancashire-fire_2022-23.xlsx": (2908, 2908, 0, "15094614.84", 30),
    # openpyxl: B datetime / F amount / D supplier, rows 2-882 = 881 as stated.
    "lancashire-fire_2025-26-q3.xlsx": (881, 881, 0, "5702960.85", 0),
    # openpyxl, 12 sheets, C amount / B date / D supplier: 7,974 rows as stated.
    # Redacted 200 = "THIRD PARTY" 188 + "THIRD PARTY " 11 + "THIRD PARTY SUPPLIER"
    # 1; "THIRD PARTY FORENSIC(S) (SERVICES)" and "THIRD PARTY LTD" are firms.
    "lancashire-pcc_2018-19.xlsx": (7974, 7974, 0, "62208683.77", 200),
    # openpyxl, 10 sheets, C "TOTAL" rounded to the penny: 7,857 rows. Redacted
    # 511 = "THIRD PARTY SUPPLIER" 425 + "THIRD PARTY" 86.
    "lancashire-pcc_2024-25.xlsx": (7857, 7857, 0, "110962284.83", 511),
    # The CSV inside the ZIP: G PaymentDate / I Amount / E BeneficiaryName, rows
    # 2-38,056 = 38,055 as stated; 6,000 "Redacted" payees as stated.
    TRAFFORD: (38055, 38055, 0, "95896941.89", 6000),
}

# Files that state their own total; the oracle found it equal to the payments' sum.
STATES_ITS_TOTAL = {
    "craven_2017-03_payments.csv",
    "lambeth_2012-06-payments_as-first-committed.csv",
    "devon_DCCSpendingOver500_202512.csv",
    "devon_DCCSpendingOver500_202603.csv",
}

# file: what the refusal message must say (all of these patterns, case-insensitive).
REFUSED: dict[str, list[str]] = {
    "gla_2012-13-P8-250_served-as-csv_actually-html.html": [r"web page"],
    "lambeth_2011-01-payments_as-first-committed.csv": [
        r"no payment date",
        r"summary of totals",
    ],
    "lambeth_2011-11-payments_as-first-committed.csv": [
        r"no payment date",
        r"summary of totals",
    ],
}

# Trafford (38k rows, about 10 s per import) runs last, marked "slow" in its test id
# (deselect it with -k "not slow"; no `slow` marker is registered in pyproject.toml).
IMPORTED = [
    pytest.param(name, id=f"{name}-slow" if name == TRAFFORD else name)
    for name in sorted(EXPECTED, key=lambda name: name == TRAFFORD)
]


def import_json(council, name: str) -> tuple[int, dict]:
    """Run `import_spend PATH --council SLUG --format json`: (exit code, JSON)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command(
            "import_spend",
            str(REAL_SPEND / name),
            "--council",
            council.slug,
            "--format",
            "json",
            stdout=out,
            stderr=err,
        )
    except SystemExit as exit_:
        code = exit_.code
    return code, json.loads(out.getvalue())


def assert_reconciles(result: dict) -> None:
    parts = ("rows_imported", "rows_rejected", "rows_duplicate", "rows_skipped")
    assert result["rows_read"] == sum(result[part] for part in parts), result


def test_every_real_file_has_an_expectation():
    present = {path.name for path in REAL_SPEND.iterdir() if path.is_file()}
    assert present == set(EXPECTED) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_real_file_is_refused_with_a_reason(council, name):
    from spend.models import SpendLine

    code, result = import_json(council, name)

    assert code == 1
    assert result["status"] == "refused"
    assert result["rows_imported"] == 0
    message = result["errors"][0]["message"]
    for pattern in REFUSED[name]:
        assert re.search(pattern, message, re.IGNORECASE), message
    assert not SpendLine.objects.exists()


@pytest.mark.parametrize("name", IMPORTED)
def test_real_file_imports_with_the_oracles_rows_and_total(council, name):
    rows_read, rows_imported, rows_skipped, amount, redacted = EXPECTED[name]

    code, first = import_json(council, name)

    assert code == 0, first
    assert first["status"] == "imported", first
    got = (
        first["rows_read"],
        first["rows_imported"],
        first["rows_skipped"],
        first["amount_imported"],
    )
    assert got == (rows_read, rows_imported, rows_skipped, amount)
    assert first["rows_rejected"] == rows_read - rows_imported - rows_skipped == 0, (
        first["errors"][:5]
    )
    assert first["rows_duplicate"] == 0
    assert_reconciles(first)
    if redacted is not None:
        assert first["redacted_lines"] == redacted
    if name in STATES_ITS_TOTAL:
        assert first["file_stated_total"] == first["amount_imported"] == amount
    else:
        assert first["file_stated_total"] is None

    code, again = import_json(council, name)

    assert code == 0, again
    assert again["status"] == "duplicate"
    assert again["rows_imported"] == 0
    assert again["rows_duplicate"] == first["rows_imported"]
    assert again["amount_duplicate"] == first["amount_imported"]
    assert again["rows_read"] == first["rows_read"]
    assert_reconciles(again)


def test_staged_payments_of_one_invoice_in_next_months_file_are_not_a_warning(council):
    """Hyndburn's "HBC Ref No" is shared by the payments of one invoice, which
    fall in different months (£470.33 on 30 June 2023, £855.00 on 6 July): July's
    file after June's is not warned of corrections (a reviewer found the first
    version of the warning firing on 7 of them)."""
    from spend.models import SpendUpload

    for name in ("hyndburn_June-23-csv.csv", "hyndburn_July-23-csv.csv"):
        code, result = import_json(council, name)
        assert code == 0, result
    july = SpendUpload.objects.get(file_name="hyndburn_July-23-csv.csv")
    assert july.warnings == []
