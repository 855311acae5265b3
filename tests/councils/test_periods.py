from datetime import date

import pytest

from councils.periods import FinancialYear


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2024, 3, 31), "2023/24"),
        (date(2024, 4, 1), "2024/25"),
        (date(2000, 1, 15), "1999/00"),
        (date(2026, 12, 31), "2026/27"),
    ],
)
def test_a_financial_year_runs_from_april_to_march(day, label):
    assert FinancialYear.for_date(day).label == label


def test_it_knows_its_first_and_last_day():
    fy = FinancialYear(2023)
    assert (fy.start, fy.end) == (date(2023, 4, 1), date(2024, 3, 31))
    assert date(2024, 3, 31) in fy
    assert date(2024, 4, 1) not in fy


@pytest.mark.parametrize("text", ["2023/24", "2023-24", "2023/2024", " 2023 / 24 "])
def test_it_reads_the_ways_people_write_a_financial_year(text):
    assert FinancialYear.parse(text) == FinancialYear(2023)


@pytest.mark.parametrize("text", ["2023/25", "2023", "23/24", "next year"])
def test_it_rejects_what_is_not_a_financial_year(text):
    with pytest.raises(ValueError, match="not a financial year"):
        FinancialYear.parse(text)


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (date(2023, 4, 1), 1),
        (date(2023, 6, 30), 1),
        (date(2023, 7, 1), 2),
        (date(2023, 12, 31), 3),
        (date(2024, 1, 1), 4),
        (date(2024, 3, 31), 4),
    ],
)
def test_quarter_one_is_april_to_june(day, quarter):
    assert FinancialYear(2023).quarter(day) == quarter
