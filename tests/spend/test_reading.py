"""Tests for spend.reading: bytes -> sheets -> header blocks -> columns."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from spend import reading
from spend.reading import (
    FIELDS,
    FileRefused,
    Sheet,
    find_blocks,
    guess_columns,
    layout_key,
    read_sheets,
    recognise_columns,
)
from spend.sheet_extent import grid_size

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "csv"
REAL_SPEND = REPO.parent / "shared" / "data" / "real" / "spend"


def only_sheet(data: bytes, name: str = "x.csv") -> Sheet:
    sheets = read_sheets(data, name)
    assert len(sheets) == 1
    return sheets[0]


def only_block(data: bytes, name: str = "x.csv") -> reading.Block:
    blocks = find_blocks(only_sheet(data, name))
    assert len(blocks) == 1
    return blocks[0]


def xlsx_bytes(tmp_path: Path, sheets: dict[str, list[list[object]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "book.xlsx"
    book.save(path)
    return path.read_bytes()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


HEADER = b"Date,Supplier Name,Amount\r\n"
ONE_ROW = HEADER + b"01/04/2024,Acme Ltd,100.00\r\n"


# --------------------------------------------------------------------------
# read_sheets: CSV text
# --------------------------------------------------------------------------


def test_it_reads_a_plain_csv_as_text_cells_named_after_the_file() -> None:
    sheet = only_sheet(ONE_ROW, "april.csv")
    assert sheet.name == "april.csv"
    assert sheet.rows == [
        ["Date", "Supplier Name", "Amount"],
        ["01/04/2024", "Acme Ltd", "100.00"],
    ]
    assert sheet.row_numbers == [1, 2]


def test_it_strips_a_utf8_byte_order_mark_from_the_first_cell() -> None:
    sheet = only_sheet(b"\xef\xbb\xbf" + ONE_ROW)
    assert sheet.rows[0][0] == "Date"


def test_it_reads_a_windows_1252_pound_sign() -> None:
    sheet = only_sheet(b'Date,Name,Net Amount(\xa3)\n1/1/17,Acme,"\xa31,200.00"\n')
    assert sheet.rows[0][2] == "Net Amount(£)"
    assert sheet.rows[1][2] == "£1,200.00"


def test_it_reads_a_dos_code_page_0x9c_byte_as_a_pound_sign() -> None:
    sheet = read_sheets((FIXTURES / "dos_pound_cr_only.csv").read_bytes(), "1704.csv")
    assert sheet[0].rows[0][-1] == "Net Amount(£)"


def test_it_keeps_0x9c_as_oe_when_the_file_also_has_windows_1252_pounds() -> None:
    sheet = only_sheet(b"Name,Amount\nC\x9cur Ltd,\xa3500\n")
    assert sheet.rows[1] == ["Cœur Ltd", "£500"]


def test_it_reads_a_file_mixing_utf8_and_windows_1252_bytes() -> None:
    sheet = only_sheet("Name,Note\nCafé Ltd,".encode() + b"\xa3100 refund\n")
    assert sheet.rows[1] == ["Café Ltd", "£100 refund"]


def test_it_reads_utf16_with_a_byte_order_mark() -> None:
    sheet = only_sheet("Date\tSupplier\tAmount\n1/4/24\tAcme\t5\n".encode("utf-16"))
    assert sheet.rows[1] == ["1/4/24", "Acme", "5"]


def test_it_splits_rows_on_bare_carriage_returns() -> None:
    sheet = read_sheets((FIXTURES / "dos_pound_cr_only.csv").read_bytes(), "x.csv")[0]
    assert len(sheet.rows) == 3
    assert sheet.rows[2][2] == '7" TABLET'
    assert sheet.rows[2][-1] == "337"


def test_it_keeps_newlines_inside_quoted_cells_and_counts_records() -> None:
    data = HEADER + b'01/04/2024,"Acme\nLtd\r\nUK",1\r\n02/04/2024,Beta,2\r\n'
    sheet = only_sheet(data)
    assert sheet.rows[1][1] == "Acme\nLtd\r\nUK"
    assert sheet.row_numbers == [1, 2, 3]  # records, not physical lines


def test_it_keeps_ragged_rows_and_blank_lines_as_they_are() -> None:
    sheet = only_sheet(b"a,b,c\n1,2\n\n1,2,3,4,\n")
    assert sheet.rows == [["a", "b", "c"], ["1", "2"], [], ["1", "2", "3", "4", ""]]
    assert sheet.row_numbers == [1, 2, 3, 4]


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_it_sniffs_a_tab_semicolon_or_pipe_delimiter(delimiter: str) -> None:
    text = 'Date,Supplier,Amount\n01/04/2024,Acme,"1,000.00"\n02/04/2024,Beta,5\n'
    data = text.replace(",", delimiter).replace('"1' + delimiter, '"1,').encode()
    sheet = only_sheet(data)
    assert sheet.rows[0] == ["Date", "Supplier", "Amount"]
    assert sheet.rows[1] == ["01/04/2024", "Acme", "1,000.00"]


def test_it_keeps_commas_when_only_some_cells_hold_semicolons() -> None:
    data = HEADER + b"01/04/2024,Acme; Beta Ltd,5\r\n02/04/2024,Gamma,6\r\n"
    assert only_sheet(data).rows[1] == ["01/04/2024", "Acme; Beta Ltd", "5"]


# --------------------------------------------------------------------------
# read_sheets: refusals
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"   \r\n\t\n", b"\xef\xbb\xbf", b",,,,\r\n,,,\r\n"], ids=repr
)
def test_it_refuses_an_empty_or_blank_file(data: bytes) -> None:
    with pytest.raises(FileRefused, match='"empty.csv"'):
        read_sheets(data, "empty.csv")


def test_it_refuses_an_html_page_saved_as_csv() -> None:
    page = (
        b"\xef\xbb\xbf\r\n  <!DOCTYPE html>\n<html><head><title>403 - Access "
        b"denied</title></head><body>No</body></html>"
    )
    with pytest.raises(FileRefused) as refused:
        read_sheets(page, "2012-13-P8-250.csv")
    message = str(refused.value)
    assert message.startswith('"2012-13-P8-250.csv" is a web page (HTML)')
    assert "the download probably failed" in message
    assert "403 - Access denied" in message


def test_it_refuses_html_without_a_doctype() -> None:
    with pytest.raises(FileRefused, match="web page"):
        read_sheets(b"\n<html>\n<body>Sorry</body></html>", "x.csv")


def test_it_refuses_an_old_excel_xls_workbook() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200
    with pytest.raises(FileRefused, match="old Excel 97-2003 .xls") as refused:
        read_sheets(ole, "spend.xls")
    assert "save it as .xlsx or CSV" in str(refused.value)


def test_it_refuses_a_pdf() -> None:
    with pytest.raises(FileRefused, match='"spend.csv" is a PDF'):
        read_sheets(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "spend.csv")


def test_it_refuses_binary_bytes_with_nuls() -> None:
    with pytest.raises(FileRefused, match="binary file"):
        read_sheets(b"Date,Amount\n\x00\x01\x02\x03garbage", "x.csv")


def test_it_refuses_an_xml_document() -> None:
    with pytest.raises(FileRefused, match="XML document"):
        read_sheets(b'<?xml version="1.0"?><Workbook></Workbook>', "x.xml")


def _sparse_workbook(*sheets: tuple[str, int, int]) -> bytes:
    """A workbook of a sheet for each (title, row, column): a header, and one "x"
    at that row and column."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, row, column in sheets:
        sheet = book.create_sheet(title)
        sheet.append(["Payment Date", "Supplier Name", "Amount"])
        sheet.cell(row=row, column=column, value="x")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_it_refuses_a_workbook_whose_last_cell_is_too_far_out() -> None:
    """Security review: a 5 KB workbook with one cell at row 200,000 and column
    2,000 made calamine allocate a grid of 400 million cells (12.8 GB) when it
    opened the sheet, and the process aborted, on the preview and again in the
    worker. It is refused from the sheet's XML, before either reader opens it."""
    data = _sparse_workbook(("Spend", 200_000, 2_000))
    assert len(data) < 10_000
    with pytest.raises(FileRefused) as refused:
        read_sheets(data, "far.xlsx")
    assert str(refused.value) == (
        '"far.xlsx": sheet "Spend" runs to cell BXX200000, 400,000,000 cells, more '
        "than the 30,000,000 LocalSpend reads from a workbook. If most of it is "
        "empty, delete the rows and columns after the data (or copy the data to a "
        "new workbook), save it and upload it again."
    )


def test_the_sheets_of_a_workbook_count_together() -> None:
    data = _sparse_workbook(("April", 1_000_000, 20), ("May", 600_000, 20))
    with pytest.raises(FileRefused) as refused:
        read_sheets(data, "year.xlsx")
    assert str(refused.value).startswith(
        '"year.xlsx": sheet "May" runs to cell T600000, 32,000,000 cells with the '
        "sheets before it, more than"
    )
    # Quick bounds (999,999 rows of up to 26 columns each) would pass the limit
    # together; the exact sizes (5,000,000 cells each) do not.
    reading._check_grid_sizes(
        _sparse_workbook(("April", 500_000, 10), ("May", 500_000, 10)), "x"
    )


@pytest.mark.parametrize(
    ("xml", "size"),
    [
        # Every cell and row with its reference: exact when near the limit.
        (
            b'<row r="1"><c r="A1" t="s"><v>1</v></c></row><row r="9"><c r="AB9"/></row>',
            (9, 28),
        ),
        (b'<row r="2"><c r="XFD1048576"/></row>', (1_048_576, 16_384)),
        # Namespaced tags; ref="..." is not a reference to a cell.
        (b'<x:row r="5"><x:c r="B5"><x:f ref="A1:ZZZ9"/></x:c></x:row>', (5, 2)),
        # Rows and cells without references follow those before them: counted
        # on top of the references (an upper bound where both are found).
        (b"<row><c/><c/><c/></row><row><c>1</c></row>", (2, 3)),
        (b'<row r="3"><c r="C3"/><c/></row><row/><row/>', (6, 5)),
    ],
)
def test_the_grid_a_sheet_spans_is_read_from_its_references(xml, size) -> None:
    assert grid_size(b"<sheetData>" + xml + b"</sheetData>", 0) == size


def test_a_sheet_well_within_the_limit_is_measured_by_its_longest_references() -> None:
    # A thousand rows of columns A to J: at most 9,999 rows of 26 columns.
    xml = b"".join(
        b'<row r="%d"><c r="A%d"/><c r="J%d"/></row>' % (n, n, n)
        for n in range(1, 1001)
    )
    assert grid_size(xml, 30_000_000) == (9_999, 26)
    assert grid_size(xml, 1) == (1_000, 10)


def test_it_refuses_a_gzip_archive() -> None:
    with pytest.raises(FileRefused, match="compressed archive"):
        read_sheets(b"\x1f\x8b\x08\x00rest", "x.csv.gz")


# --------------------------------------------------------------------------
# read_sheets: ZIP archives
# --------------------------------------------------------------------------


def test_it_reads_the_one_csv_inside_a_zip_and_names_the_sheet_after_it() -> None:
    data = zip_bytes({"__MACOSX/._spend.csv": b"junk", "spend.csv": ONE_ROW})
    sheet = only_sheet(data, "spend.zip")
    assert sheet.name == "spend.csv"
    assert sheet.rows[1] == ["01/04/2024", "Acme Ltd", "100.00"]


def test_it_reads_an_xlsx_inside_a_zip(tmp_path: Path) -> None:
    book = xlsx_bytes(tmp_path, {"Apr": [["Date", "Supplier", "Amount"]]})
    sheets = read_sheets(zip_bytes({"dir/spend.xlsx": book}), "spend.zip")
    assert [sheet.name for sheet in sheets] == ["Apr"]


def test_it_refuses_a_zip_holding_two_spreadsheets() -> None:
    data = zip_bytes({"a.csv": ONE_ROW, "b.csv": ONE_ROW})
    with pytest.raises(FileRefused, match="holding 2 spreadsheets"):
        read_sheets(data, "two.zip")


def test_it_refuses_a_zip_holding_no_spreadsheet() -> None:
    with pytest.raises(FileRefused, match='no CSV or XLSX.*"readme.pdf"'):
        read_sheets(zip_bytes({"readme.pdf": b"%PDF"}), "x.zip")


def test_it_refuses_a_zip_inside_a_zip() -> None:
    inner = zip_bytes({"spend.csv": ONE_ROW})
    with pytest.raises(FileRefused, match="another archive"):
        read_sheets(zip_bytes({"inner.zip": inner}), "outer.zip")


def test_it_refuses_a_zip_disguised_as_csv_inside_a_zip() -> None:
    inner = zip_bytes({"spend.csv": ONE_ROW})
    with pytest.raises(FileRefused, match="archive inside the ZIP"):
        read_sheets(zip_bytes({"spend.csv": inner}), "outer.zip")


@pytest.mark.parametrize(
    "member", ["../../etc/evil.csv", "/abs/evil.csv", "a\\..\\b.csv"]
)
def test_it_refuses_a_zip_member_with_path_traversal(member: str) -> None:
    with pytest.raises(FileRefused, match="unsafe path"):
        read_sheets(zip_bytes({member: ONE_ROW}), "evil.zip")


def test_it_refuses_a_damaged_zip() -> None:
    with pytest.raises(FileRefused, match="damaged"):
        read_sheets(b"PK\x03\x04" + b"\x00" * 50, "x.zip")


def test_it_names_the_inner_file_when_a_zip_member_is_refused() -> None:
    data = zip_bytes({"page.csv": b"<!DOCTYPE html><html></html>"})
    with pytest.raises(FileRefused, match='"page.csv" \\(inside "x.zip"\\) is a web'):
        read_sheets(data, "x.zip")


# --------------------------------------------------------------------------
# read_sheets: XLSX
# --------------------------------------------------------------------------


def test_it_reads_every_xlsx_sheet_keeping_native_cell_types(tmp_path: Path) -> None:
    rows = [
        ["Transaction Number", "Date", "Supplier Name", "Amount"],
        [107639310, dt.datetime(2022, 4, 1), "Anderton Centre", 7740.5],
        ["6000073", dt.datetime(2025, 10, 21, 19, 1, 14), None, -2.0],
    ]
    data = xlsx_bytes(tmp_path, {"Apr 18": rows, "May 18": rows[:1]})
    sheets = read_sheets(data, "pcc.csv")  # the extension is not trusted
    assert [sheet.name for sheet in sheets] == ["Apr 18", "May 18"]
    first = sheets[0].rows
    assert first[1][0] == 107639310 and isinstance(first[1][0], int)
    assert first[1][1] == dt.date(2022, 4, 1)  # calamine: midnight -> date
    assert first[1][3] == 7740.5
    assert first[2][0] == "6000073"
    assert first[2][1] == dt.datetime(2025, 10, 21, 19, 1, 14)
    assert first[2][2] is None
    assert first[2][3] == -2
    assert sheets[0].row_numbers == [1, 2, 3]


def test_it_numbers_xlsx_rows_as_excel_does_when_data_starts_lower(
    tmp_path: Path,
) -> None:
    data = xlsx_bytes(tmp_path, {"S": [[], [], ["Date", "Supplier", "Amount"]]})
    sheet = only_sheet(data, "x.xlsx")
    block = find_blocks(sheet)[0]
    assert block.header_row == 3


def test_it_falls_back_to_openpyxl_when_calamine_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(data: bytes) -> list[Sheet]:
        raise RuntimeError("calamine cannot read this")

    monkeypatch.setattr(reading, "_read_with_calamine", broken)
    data = xlsx_bytes(
        tmp_path, {"S": [["Date", "Supplier", "Amount"], [None, "A", 1.0]]}
    )
    sheet = only_sheet(data, "x.xlsx")
    assert sheet.rows == [["Date", "Supplier", "Amount"], [None, "A", 1]]


def test_it_refuses_a_workbook_with_no_data(tmp_path: Path) -> None:
    with pytest.raises(FileRefused, match="no data in any sheet"):
        read_sheets(xlsx_bytes(tmp_path, {"Empty": []}), "x.xlsx")


# --------------------------------------------------------------------------
# find_blocks
# --------------------------------------------------------------------------


def test_it_finds_the_header_after_a_preamble_and_drops_blank_rows() -> None:
    data = (FIXTURES / "preamble_blank_rows_total.csv").read_bytes()
    block = only_block(data)
    assert block.header_row == 9
    assert block.header[:3] == ["Body", "Department", "Supplier Name"]
    assert [row[2] for row in block.rows] == [
        "170 Community Project",
        "Acme Arts Ltd",
        "Green Lawns Ltd",
        "",  # the Total row is kept: the importer filters totals
    ]
    assert block.row_numbers == [10, 11, 13, 15]
    # ",,,,," rows and the ",††††,,,," junk row have no letter or digit
    assert block.blank_rows == 4


def test_it_skips_a_first_row_of_78_commas() -> None:
    data = b"," * 78 + b"\r\n" + HEADER.rstrip() + b"," * 76 + b"\r\n1/4/23,A,1\r\n"
    block = only_block(data)
    assert block.header_row == 2
    assert block.header[:3] == ["Date", "Supplier Name", "Amount"]
    assert block.header[3:] == [""] * 76
    assert block.rows == [["1/4/23", "A", "1"]]


def test_it_counts_blank_rows_between_the_data() -> None:
    data = HEADER + b",,\r\n1/4/23,A,1\r\n\r\n,,,,,,,\r\n2/4/23,B,2\r\n"
    block = only_block(data)
    assert block.header_row == 1
    assert block.row_numbers == [3, 6]
    assert block.blank_rows == 3


def test_it_skips_a_junk_line_above_the_real_header() -> None:
    data = b'Sum of Invoice Nett Amount,\rSupplier Name,Total\rAcme,"1,000.00"\r'
    block = only_block(data)
    assert block.header == ["Supplier Name", "Total"]
    assert block.header_row == 2


def test_it_gives_one_block_without_header_when_there_is_none() -> None:
    data = (FIXTURES / "no_header_spacer_columns.csv").read_bytes()
    block = only_block(data)
    assert block.header is None and block.header_row is None
    assert len(block.rows) == 4
    assert block.rows[1][4] == "Agency Costs w/c 27/01/25\nsecond line"
    assert block.rows[2][4] == "Refund of £100 deposit"


def test_it_uses_a_header_written_below_the_data_for_the_rows_above() -> None:
    data = (FIXTURES / "no_header_spacer_columns.csv").read_bytes() + (
        b"Department Area,,Service Area,,Description,,,Line,,HBC Ref No.,,"
        b"Name:  ,,,Payment Date,,Amount Paid\r\n"
    )
    block = only_block(data)
    assert block.header_row == 5
    assert block.header[11] == "Name"
    assert block.row_numbers == [1, 2, 3, 4]


def test_it_keeps_data_above_a_header_as_a_header_less_block() -> None:
    data = b"1/4/23,Acme Ltd,1\r\n2/4/23,Beta Ltd,2\r\n" + ONE_ROW
    blocks = find_blocks(only_sheet(data))
    assert [block.header_row for block in blocks] == [None, 3]
    assert [len(block.rows) for block in blocks] == [2, 1]


def test_it_starts_a_new_block_when_the_header_changes_mid_sheet(
    tmp_path: Path,
) -> None:
    first = [
        "Transaction Number",
        "Date",
        "Expenditure Category",
        "Supplier Name",
        "Supplier Classification",
        "Amount",
    ]
    second = [
        "Transaction Number",
        "Date",
        "Subjective Description",
        "Supplier Name",
        "Amount",
    ]
    rows = [
        first,
        [1, dt.date(2022, 4, 1), "Training", "Anderton Centre", "Training", 7740],
        [2, dt.date(2022, 4, 2), "Fuel", "Shell", "Vehicles", 610.81],
        second,
        ["6000073", dt.date(2022, 11, 30), "Repairs", "Mellor Plant Uk Ltd", 913.22],
    ]
    blocks = find_blocks(only_sheet(xlsx_bytes(tmp_path, {"Data": rows}), "f.xlsx"))
    assert [block.header_row for block in blocks] == [1, 4]
    assert [block.row_numbers for block in blocks] == [[2, 3], [5]]
    assert [block.sheet for block in blocks] == ["Data", "Data"]
    assert recognise_columns(blocks[0].header).columns["amount"] == 5
    assert recognise_columns(blocks[1].header).columns["amount"] == 4


def test_it_cleans_header_texts_but_keeps_the_pound_suffix() -> None:
    data = (
        "* Date , Amount ,Name:  ,Net\xa0Amount  (£),*  SUPPLIER FINAL,Account Code,"
        "Account Code,,\n1/1/24,1,A,1,B,1,C,,\n"
    ).encode()
    assert only_block(data).header == [
        "Date",
        "Amount",
        "Name",
        "Net Amount (£)",
        "SUPPLIER FINAL",
        "Account Code",
        "Account Code",
        "",
        "",
    ]


# --------------------------------------------------------------------------
# recognise_columns
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "date", "amount", "supplier"),
    [
        (
            [
                "Body Name",
                "Service Area",
                "Expenses Type",
                "Invoice Payment Date",
                "Transaction Number",
                "Net Amount",
                "Supplier Name",
            ],
            3,
            5,
            6,
        ),
        (
            [
                "Service Cost Centre",
                "Account Detail",
                "Description",
                "HBC ref no",
                "Name",
                "Payment date",
                "Net Amount(£)",
            ],
            5,
            6,
            4,
        ),
        (
            [
                "Department Area",
                "",
                "Service Area",
                "",
                "Description",
                "",
                "",
                "Line",
                "",
                "HBC Ref No.",
                "",
                "Name",
                "",
                "",
                "Payment Date",
                "",
                "Amount Paid",
            ],
            14,
            16,
            11,
        ),
        (["Expenditure Category", "Date", "TOTAL", "SUPPLIER FINAL"], 1, 2, 3),
        (
            [
                "Expenditure Category",
                "Date",
                "Total Invoice Amount",
                "SUPPLIER",
                "Column1",
            ],
            1,
            2,
            3,
        ),
        (
            [
                "Body",
                "Name of Body",
                "Date",
                "Transaction number",
                "Amount",
                "Supplier name",
                "Supplier ID",
                "VAT reg no",
            ],
            2,
            4,
            5,
        ),
        (
            [
                "OrganisationLabel",
                "EffectiveDate",
                "BeneficiaryName",
                "BeneficiaryOtherID",
                "PaymentDate",
                "Amount",
                "IrrecoverableVATAmount",
            ],
            4,
            5,
            2,
        ),
        (["Transaction Date", "Merchant Name", "AmountExcludingVAT"], 0, 2, 1),
        (["Date Paid", "Vendor Name", "Value"], 0, 2, 1),
        (["Date", "Payee", "Amount (£)"], 0, 2, 1),
        # A small body's hand-made sheet (QA: read as having no header).
        (["When", "Who", "How much", "Ref"], 0, 2, 1),
        (["Ref", "Paid to", "What for", "Cost", "When paid"], 4, 3, 1),
    ],
)
def test_it_recognises_real_date_amount_and_supplier_names(
    header: list[str], date: int, amount: int, supplier: int
) -> None:
    columns = recognise_columns(header).columns
    assert (columns["payment_date"], columns["amount"], columns["supplier_name"]) == (
        date,
        amount,
        supplier,
    )


def test_it_prefers_net_over_gross_and_says_so() -> None:
    mapping = recognise_columns(["Date", "Supplier", "Gross Amount", "Net Amount"])
    assert mapping.columns["amount"] == 3
    assert (
        'Two amount columns: used "Net Amount", not "Gross Amount" (net preferred).'
        in mapping.notes
    )
    assert mapping.unmapped == ["Gross Amount"]


def test_it_says_when_the_only_amount_is_gross() -> None:
    mapping = recognise_columns(["Date", "Supplier", "Amount incl VAT"])
    assert mapping.columns["amount"] == 2
    assert any("gross" in note and "include VAT" in note for note in mapping.notes)


def test_it_prefers_the_payment_date_over_the_invoice_date() -> None:
    mapping = recognise_columns(["Invoice Date", "Payment Date", "Supplier", "Amount"])
    assert mapping.columns["payment_date"] == 1
    assert any("(payment date preferred)" in note for note in mapping.notes)


def test_it_falls_back_to_the_invoice_date_and_says_so() -> None:
    mapping = recognise_columns(
        ["Body", "Supplier Name", "Invoice Creation Date", "Invoice Nett Amount"]
    )
    assert mapping.columns["payment_date"] == 2
    assert mapping.columns["amount"] == 3
    assert any("No payment date column" in note for note in mapping.notes)


def test_it_takes_the_description_of_duplicate_code_columns() -> None:
    header = [
        "Body Name",
        "Transaction No",
        "Supplier ID",
        "Supplier Name",
        "Payment Date",
        "Account Code",
        "Account Code",
        "Cost Centre Code",
        "Cost Centre Code",
        "Amount",
    ]
    mapping = recognise_columns(header)
    assert mapping.columns == {
        "payment_date": 4,
        "amount": 9,
        "supplier_name": 3,
        "service_area": 8,
        "expense_type": 6,
        "transaction_ref": 1,
        "council_supplier_id": 2,
    }
    assert any('named "Account Code": used the last' in n for n in mapping.notes)
    assert any('named "Cost Centre Code": used the last' in n for n in mapping.notes)


def test_it_lists_unmapped_headers_and_missing_required_fields() -> None:
    mapping = recognise_columns(["+", "Account Detail", "Name", "Mystery", ""])
    assert mapping.unmapped == ["+", "Mystery"]
    assert "No date column was recognised." in mapping.notes
    assert "No amount column was recognised." in mapping.notes
    assert set(mapping.columns) <= set(FIELDS)


def test_it_recognises_the_optional_transparency_fields() -> None:
    header = [
        "Supplier Postcode",
        "VAT Registration Number",
        "Irrecoverable VAT",
        "Merchant Category",
        "Directorate",
        "Purpose",
        "Narrative",
    ]
    assert recognise_columns(header).columns == {
        "postcode": 0,
        "vat_number": 1,
        "irrecoverable_vat": 2,
        "procurement_category": 3,
        "department": 4,
        "expense_type": 5,
        "description": 6,
    }


# --------------------------------------------------------------------------
# guess_columns and layout_key
# --------------------------------------------------------------------------


def test_it_guesses_date_amount_and_supplier_of_a_header_less_block() -> None:
    block = only_block((FIXTURES / "no_header_spacer_columns.csv").read_bytes())
    mapping = guess_columns(block.rows)
    assert mapping.columns == {"payment_date": 14, "amount": 16, "supplier_name": 11}
    assert (
        "With no header row, the columns were guessed from the values: dates from "
        "column O, amounts from column Q and supplier names from column L."
    ) in mapping.notes


def test_it_does_not_guess_the_councils_own_name_as_the_supplier() -> None:
    rows = [
        ["Devon County Council", "01/12/2025", name, "519.95"]
        for name in ("A Ltd", "B Ltd", "C Care", "D Services")
    ]
    assert guess_columns(rows).columns["supplier_name"] == 2


def test_it_guesses_excel_serial_numbers_as_dates() -> None:
    rows = [
        ["P-CARD", "EPCOLLEGE", "43658", "910"],
        ["P-CARD", "OFFICE DEPOT LTD", "43659", "502.44"],
        ["P-CARD", "APPLE.COM", "43667", "1349"],
    ]
    columns = guess_columns(rows).columns
    assert (columns["payment_date"], columns["amount"]) == (2, 3)


def test_layout_key_is_casefolded_and_ignores_trailing_empty_columns() -> None:
    short = layout_key(["Body Name", "Net Amount", "Supplier Name"], 3)
    padded = layout_key(["body name", "NET AMOUNT", "Supplier Name", "", ""], 5)
    assert short == padded
    assert layout_key(["A", "", "B"], 3) != layout_key(["A", "B"], 2)
    assert layout_key(None, 17) == "no-header:17"


# --------------------------------------------------------------------------
# Every real file in shared/data/real/spend
# --------------------------------------------------------------------------

# file -> (header row of the first block, non-blank data rows in all blocks or
# None when SOURCES.md states no count). Counts are SOURCES.md's; where ours is
# one more or less the comment says why (the test allows ±1).
REAL_FILES: dict[str, tuple[int | None, int | None]] = {
    "manchester_dec-2010.csv": (1, 4096),
    "manchester_feb-2015.csv": (1, 3675),
    "manchester_may-2016.csv": (1, 3385),
    "manchester_april-2021.csv": (1, 3021),
    "manchester_latest-december-2021.csv": (1, 2661),
    "lambeth_2011-01-payments_as-first-committed.csv": (1, 1072),
    # Not stated in SOURCES.md: 1,014 suppliers + the "Grand Total" row.
    "lambeth_2011-11-payments_as-first-committed.csv": (2, 1015),
    # SOURCES counts 3,157: 3,155 payments, the Total row and the ",†††,,,,"
    # junk row. We read 3,156: the junk row has no letter or digit, so blank.
    "lambeth_2012-06-payments_as-first-committed.csv": (10, 3157),
    # SOURCES says 171; we read 172: the last row is the unlabelled total.
    "craven_2017-03_payments.csv": (1, 171),
    "hyndburn_1701.csv": (1, 180),
    "hyndburn_1704.csv": (1, 258),
    "hyndburn_1705.csv": (1, 178),
    "hyndburn_1908.csv": (1, 223),
    "hyndburn_November-2020.csv": (1, 235),
    "hyndburn_October-2021-csv.csv": (1, 224),
    "hyndburn_September-2022.csv": (1, 14),
    "hyndburn_April-2023.csv": (2, 502),
    "hyndburn_June-23-csv.csv": (2, 547),
    "hyndburn_July-23-csv.csv": (1, 473),
    "hyndburn_Spend-over-250.00-Mar-24.csv": (1, 658),
    "hyndburn_Oct-24-CSV.csv": (1, 587),
    # SOURCES says 889 rows and no header; in fact line 889 is the header
    # (written below the data), so we read 888 data rows headed by row 889.
    "hyndburn_March-25-CSV.csv": (889, 889),
    "hyndburn_January-26-CSV.csv": (1, 446),
    "lancashire-fire_2022-23.xlsx": (1, None),
    "lancashire-fire_2025-26-q3.xlsx": (1, 881),
    "lancashire-pcc_2018-19.xlsx": (1, 7974),
    "lancashire-pcc_2024-25.xlsx": (1, None),
    "devon_DCCSpendingOver500_201101.csv": (1, 7012),
    "devon_DCCSpendingOver500_201801.csv": (1, 9119),
    "devon_DCCSpendingOver500_202512.csv": (1, 2165),
    "devon_DCCSpendingOver500_202603.csv": (1, 3546),
    "trafford_supplier-spend-2026-27.zip": (1, 38055),
}
SUPPLIER_TOTALS = {
    "lambeth_2011-01-payments_as-first-committed.csv",
    "lambeth_2011-11-payments_as-first-committed.csv",
}
HTML_FILE = "gla_2012-13-P8-250_served-as-csv_actually-html.html"

needs_real_files = pytest.mark.skipif(
    not REAL_SPEND.is_dir(), reason=f"real spend files not found at {REAL_SPEND}"
)


def real_file_names() -> list[str]:
    if not REAL_SPEND.is_dir():
        return ["(real spend folder absent)"]
    return sorted(path.name for path in REAL_SPEND.iterdir() if path.is_file())


def read_real(name: str) -> list[reading.Block]:
    data = (REAL_SPEND / name).read_bytes()
    return [block for sheet in read_sheets(data, name) for block in find_blocks(sheet)]


@needs_real_files
@pytest.mark.parametrize("name", real_file_names())
def test_every_real_file_reads_finds_its_header_and_maps_the_key_columns(
    name: str,
) -> None:
    if name == HTML_FILE:
        with pytest.raises(FileRefused, match="web page"):
            read_sheets((REAL_SPEND / name).read_bytes(), name)
        return
    assert name in REAL_FILES, f"new real file {name}: add it to REAL_FILES"
    header_row, expected_rows = REAL_FILES[name]
    blocks = read_real(name)
    assert blocks[0].header_row == header_row
    for block in blocks:
        assert block.header is not None
        columns = recognise_columns(block.header).columns
        assert {"amount", "supplier_name"} <= set(columns)
        assert ("payment_date" in columns) == (name not in SUPPLIER_TOTALS)
    if expected_rows is not None:
        found = sum(len(block.rows) for block in blocks)
        assert abs(found - expected_rows) <= 1, (found, expected_rows)


@needs_real_files
@pytest.mark.parametrize("name", sorted(set(REAL_FILES) - {HTML_FILE}))
def test_guessing_from_values_agrees_with_the_headers_of_real_files(name: str) -> None:
    for block in read_real(name):
        guessed = guess_columns(block.rows).columns
        named = recognise_columns(block.header).columns
        for key in ("amount", "supplier_name", "payment_date"):
            if name.startswith("trafford") and key == "payment_date":
                continue  # EffectiveDate (month end) comes before PaymentDate
            assert guessed.get(key) == named.get(key), key


@needs_real_files
def test_the_fire_workbook_splits_at_the_second_header_on_row_2745() -> None:
    blocks = read_real("lancashire-fire_2022-23.xlsx")
    assert [block.header_row for block in blocks] == [1, 2745]
    assert len(blocks[1].rows) == 165
    second = recognise_columns(blocks[1].header)
    assert second.columns["amount"] == 4
    assert second.columns["expense_type"] == 2


@needs_real_files
def test_hyndburn_march_25_has_the_same_layout_as_october_24() -> None:
    march = read_real("hyndburn_March-25-CSV.csv")[0]
    october = read_real("hyndburn_Oct-24-CSV.csv")[0]
    assert march.row_numbers[0] == 1 and march.row_numbers[-1] == 888
    assert layout_key(march.header, 17) == layout_key(october.header, 17)


@needs_real_files
def test_real_encodings_and_line_endings_survive() -> None:
    assert read_real("hyndburn_1704.csv")[0].header[-1] == "Net Amount(£)"
    assert read_real("hyndburn_June-23-csv.csv")[0].header[-1] == "Net Amount (£)"
    craven = read_real("craven_2017-03_payments.csv")[0]
    assert any("Neville´s Kitchen" in str(cell) for row in craven.rows for cell in row)
    mar24 = read_real("hyndburn_Spend-over-250.00-Mar-24.csv")[0]
    assert mar24.rows[0][-1] == "£322.50"
    assert sum("\n" in str(cell) for row in mar24.rows for cell in row) == 24


@needs_real_files
def test_the_trafford_zip_reads_in_a_few_seconds() -> None:
    started = time.perf_counter()
    blocks = read_real("trafford_supplier-spend-2026-27.zip")
    mapping = recognise_columns(blocks[0].header)
    assert time.perf_counter() - started < 5
    assert blocks[0].sheet == "trafford-supplier-spend-2026-27.csv"
    header = blocks[0].header
    assert header[mapping.columns["payment_date"]] == "PaymentDate"
    assert header[mapping.columns["supplier_name"]] == "BeneficiaryName"
    assert header[mapping.columns["irrecoverable_vat"]] == "IrrecoverableVATAmount"
