"""How long a party's steps take: the days of one agreement that the party page's medians measure.

Plain Python, no Django. `Agreement.store_status` stores these dates with every
write (and `seed_synthetic` at bulk load), so a party's medians are one aggregate
over columns of the agreements rather than subqueries into every agreement's events.
"""

from typing import NamedTuple

from pacts.dates import DAY
from pacts.vocabulary import OCCURRED

# What came before talks opened or resumed was approved for other talks.
REOPENING_KINDS = ("negotiation-opened", "negotiation-resumed")


class Dated(NamedTuple):
    """What the step dates need to know of one event."""

    kind: str
    status: str
    lane: str
    start: object  # datetime.date, or None when the date is unknown
    precision: str


class StepDates(NamedTuple):
    signed_on: object
    in_force_on: object
    party_a_approved_on: object
    party_b_approved_on: object


def step_dates(events, party_a, party_b):
    """The days an agreement's step durations measure, each a date or None.

    `signed_on`: its first occurred signature. `in_force_on`: the first occurred
    entry into force on or after that signature. `party_a_approved_on` (and B's):
    the party's latest occurred cabinet approval, in its own lane, on or before the
    signature, unless talks opened or resumed after it (it approved a text that was
    then renegotiated). Only events dated to the day count: a month or a year
    cannot be measured in days.
    """
    events = [Dated(*event) for event in events]
    exact = [e for e in events if e.status == OCCURRED and e.precision == DAY]
    signed_on = min((e.start for e in exact if e.kind == "signature"), default=None)
    if signed_on is None:
        return StepDates(None, None, None, None)
    in_force_on = min((e.start for e in exact if e.kind == "entry-into-force" and e.start >= signed_on), default=None)
    reopened = [
        e.start
        for e in events
        if e.kind in REOPENING_KINDS and e.status == OCCURRED and e.start and e.start <= signed_on
    ]

    def approved_on(party):
        approvals = (
            e.start
            for e in exact
            if e.kind == "cabinet-approval" and e.lane == party and e.start <= signed_on
            if not any(day > e.start for day in reopened)
        )
        return max(approvals, default=None)

    return StepDates(signed_on, in_force_on, approved_on(party_a), approved_on(party_b))
