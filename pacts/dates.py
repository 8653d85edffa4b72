"""The reduced-precision date: a year (`2011`), a month (`2012-06`) or a day (`2012-06-26`).

News reports rarely give a full date for what a government did ("early 2011",
"in May"), so an event's date is a period. A period starts on its first day and
ends on its last; comparisons use the start, and "overdue" uses the end.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date

YEAR, MONTH, DAY = "year", "month", "day"
PRECISIONS = (YEAR, MONTH, DAY)

_PATTERN = re.compile(r"(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?)?")


class PeriodError(ValueError):
    """The text is not a reduced-precision ISO 8601 date."""


@dataclass(frozen=True, order=True)
class Period:
    """A year, month or day, with its first and last day."""

    start: date
    precision: str

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise PeriodError(f"unknown precision {self.precision!r}")
        if self.precision == YEAR and (self.start.month, self.start.day) != (1, 1):
            raise PeriodError("a year starts on 1 January")
        if self.precision == MONTH and self.start.day != 1:
            raise PeriodError("a month starts on its first day")

    @classmethod
    def parse(cls, text):
        """Read `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; anything else is a PeriodError."""
        if not isinstance(text, str):
            raise PeriodError(f"{text!r} is not a date")
        match = _PATTERN.fullmatch(text)
        if not match:
            raise PeriodError(f"{text!r} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)")
        year = int(match["year"])
        month = int(match["month"] or 1)
        day = int(match["day"] or 1)
        try:
            start = date(year, month, day)
        except ValueError:
            raise PeriodError(f"{text!r} is not a date") from None
        precision = DAY if match["day"] else MONTH if match["month"] else YEAR
        return cls(start, precision)

    @property
    def end(self):
        """The last day of the period."""
        if self.precision == YEAR:
            return date(self.start.year, 12, 31)
        if self.precision == MONTH:
            last = calendar.monthrange(self.start.year, self.start.month)[1]
            return self.start.replace(day=last)
        return self.start

    @property
    def iso(self):
        """The ISO 8601 text at this precision, as `<time datetime>` wants it."""
        if self.precision == YEAR:
            return f"{self.start.year:04d}"
        if self.precision == MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        return self.start.isoformat()

    def display(self, short_month=False):
        """`2011`, `June 2012` or `26 June 2012` (`Jun`, with short_month)."""
        month_names = calendar.month_abbr if short_month else calendar.month_name
        month = month_names[self.start.month]
        if self.precision == YEAR:
            return str(self.start.year)
        if self.precision == MONTH:
            return f"{month} {self.start.year}"
        return f"{self.start.day} {month} {self.start.year}"

    def __str__(self):
        return self.iso
