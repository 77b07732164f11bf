"""Reporting periods: a month (2025-09), a quarter (2025-Q3) or a year (2025)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from db.errors import ValidationError

QUARTER_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}
_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})-[Qq]([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})$"), "year"),
)


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period. ``number`` is the month (1-12), the quarter (1-4) or 0."""

    year: int
    kind: str  # 'month' | 'quarter' | 'year'
    number: int = 0

    @staticmethod
    def parse(text: str) -> Period:
        """Parse ``2025-09``, ``2025-Q3`` or ``2025``.

        Raises:
            ValidationError: anything else, with the accepted forms in the message.
        """
        text = text.strip()
        for pattern, kind in _PATTERNS:
            m = pattern.match(text)
            if not m:
                continue
            year = int(m.group(1))
            number = int(m.group(2)) if kind != "year" else 0
            if not 1900 <= year <= 2999 or (kind == "month" and not 1 <= number <= 12):
                break
            return Period(year, kind, number)
        raise ValidationError(
            f"报表期“{text}”格式不对：月份写 2025-09，季度写 2025-Q3，全年写 2025", field="报表期"
        )

    @staticmethod
    def month_of(day: dt.date) -> Period:
        return Period(day.year, "month", day.month)

    @property
    def months(self) -> range:
        """The months (1-12) this period covers."""
        if self.kind == "month":
            return range(self.number, self.number + 1)
        if self.kind == "quarter":
            return range(3 * self.number - 2, 3 * self.number + 1)
        return range(1, 13)

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.months[0], 1)

    @property
    def end(self) -> dt.date:
        last = self.months[-1]
        return dt.date(self.year, last, calendar.monthrange(self.year, last)[1])

    @property
    def year_start(self) -> dt.date:
        return dt.date(self.year, 1, 1)

    @property
    def key(self) -> str:
        """The canonical text form: ``2025-09``, ``2025-Q3``, ``2025``."""
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        return str(self.year)

    @property
    def label(self) -> str:
        """The Chinese label: 2025年9月, 2025年第三季度, 2025年."""
        if self.kind == "month":
            return f"{self.year}年{self.number}月"
        if self.kind == "quarter":
            return f"{self.year}年第{QUARTER_NAMES[self.number]}季度"
        return f"{self.year}年"

    def __str__(self) -> str:
        return self.key


def month_key(day: dt.date) -> str:
    """The month a date belongs to, as stored in ``period.month``."""
    return f"{day.year}-{day.month:02d}"
