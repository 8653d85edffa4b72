from datetime import date

import pytest

from pacts.dates import Period, PeriodError


@pytest.mark.parametrize(
    ("text", "start", "end", "precision", "shown"),
    [
        ("2011", date(2011, 1, 1), date(2011, 12, 31), "year", "2011"),
        ("2012-06", date(2012, 6, 1), date(2012, 6, 30), "month", "June 2012"),
        ("2012-02", date(2012, 2, 1), date(2012, 2, 29), "month", "February 2012"),
        ("2012-06-26", date(2012, 6, 26), date(2012, 6, 26), "day", "26 June 2012"),
    ],
)
def test_a_period_knows_its_first_and_last_day_and_reads_at_its_precision(text, start, end, precision, shown):
    period = Period.parse(text)
    assert (period.start, period.end, period.precision, period.display(), period.iso) == (
        start,
        end,
        precision,
        shown,
        text,
    )


def test_short_month_names_for_compact_displays():
    assert Period.parse("2016-11-23").display(short_month=True) == "23 Nov 2016"


@pytest.mark.parametrize(
    "text",
    [
        "2012-13-01",
        "2012-02-30",
        "June 2012",
        "12-06-26",
        "2012/06/26",
        "2012-6-1",
        " 2012",
        "2012-06-26T10:00",
        "",
        "0000",
    ],
)
def test_anything_but_a_reduced_precision_iso_date_is_refused(text):
    with pytest.raises(PeriodError):
        Period.parse(text)


def test_non_strings_are_refused():
    with pytest.raises(PeriodError):
        Period.parse(2012)


def test_a_month_period_must_start_on_the_first():
    with pytest.raises(PeriodError):
        Period(date(2012, 6, 2), "month")
