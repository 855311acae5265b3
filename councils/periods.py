"""Council financial years: 1 April to 31 March, written 2023/24."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_LABEL = re.compile(r"^\s*(\d{4})\s*[/-]\s*(\d{2}|\d{4})\s*$")


@dataclass(frozen=True, order=True)
class FinancialYear:
    start_year: int  # 2023 for 2023/24

    @classmethod
    def for_date(cls, day: date) -> FinancialYear:
        return cls(day.year if day.month >= 4 else day.year - 1)

    @classmethod
    def parse(cls, text: str) -> FinancialYear:
        """Read “2023/24”, “2023-24” or “2023/2024”."""
        match = _LABEL.match(text)
        if not match:
            raise ValueError(f"not a financial year: “{text}” (write it like 2023/24)")
        start, end = int(match[1]), match[2]
        expected = str(start + 1)
        if end not in (expected, expected[-2:]):
            raise ValueError(
                f"not a financial year: “{text}” (the years must follow on)"
            )
        return cls(start)

    @property
    def start(self) -> date:
        return date(self.start_year, 4, 1)

    @property
    def end(self) -> date:
        return date(self.start_year + 1, 3, 31)

    @property
    def label(self) -> str:
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    def __str__(self) -> str:
        return self.label

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def previous(self) -> FinancialYear:
        return FinancialYear(self.start_year - 1)

    def quarter(self, day: date) -> int:
        """Quarter of the financial year: Q1 is April to June."""
        if day not in self:
            raise ValueError(f"{day} is not in {self.label}")
        return (day.month - 4) % 12 // 3 + 1


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def add_months(first: date, months: int) -> date:
    """The first day of the month `months` after `first`'s (negative: before)."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
