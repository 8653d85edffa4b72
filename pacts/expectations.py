"""What became of each expectation: met on time, met late, postponed, did not happen, pending, overdue.

An expectation is an event whose status is `expected`, `postponed` or `cancelled`
(one met on schedule was simply edited to `occurred` and is not an expectation any
more). Its deadline is `not_after`, else the end of its period; what became of it
is read from the event that resolves it, if any. The outcome and the slippage are
SQL expressions, so the page can filter, count and take medians in the database.
"""

import statistics

from django.db import connection, models
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from pacts.vocabulary import RESOLVABLE_STATUSES

MET_ON_TIME = "met-on-time"
MET_LATE = "met-late"
MET = "met"  # met, but a date is missing, so how late cannot be told
POSTPONED = "postponed"
RESCHEDULED = "rescheduled"
DID_NOT_HAPPEN = "did-not-happen"
PENDING = "pending"
OVERDUE = "overdue"

OUTCOMES = (
    (MET_ON_TIME, "Met on time"),
    (MET_LATE, "Met late"),
    (MET, "Met, date unknown"),
    (RESCHEDULED, "Rescheduled"),
    (POSTPONED, "Postponed"),
    (DID_NOT_HAPPEN, "Did not happen"),
    (PENDING, "Pending"),
    (OVERDUE, "Overdue"),
)
OUTCOME_LABELS = dict(OUTCOMES)


class DaysBetween(models.Func):
    """Whole days from `earlier` to `later`, an integer (negative when `later` comes first)."""

    output_field = models.IntegerField()

    def __init__(self, later, earlier):
        super().__init__(later, earlier)

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


class Median(models.Aggregate):
    """The median, interpolated between the two middle values as statistics.median does (PostgreSQL only)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = models.FloatField()


def expectations(events, today=None):
    """Expected, postponed and cancelled events, annotated with `due` (the deadline), `outcome` and `slippage`.

    Met means resolved by an occurred event of the same kind. `slippage` is the
    days from the deadline to the start of that event, never below zero (met on
    time is 0); None unless met.
    """
    today = today or timezone.localdate()
    resolver_start = F("resolved_by__date_start")
    # A step of another kind that settles an expectation replaced it: a suspended
    # termination notice averts the expiry, it does not meet it.
    met = Q(resolved_by__status="occurred", resolved_by__kind=F("kind"))
    return (
        events.filter(status__in=RESOLVABLE_STATUSES)
        .annotate(due=Coalesce("not_after", "date_end"))
        .annotate(
            outcome=Case(
                When(met & Q(due__isnull=False, resolved_by__date_start__lte=F("due")), then=Value(MET_ON_TIME)),
                When(met & Q(due__isnull=False, resolved_by__date_start__gt=F("due")), then=Value(MET_LATE)),
                When(met, then=Value(MET)),
                When(resolved_by__status__in=["occurred", "cancelled"], then=Value(DID_NOT_HAPPEN)),
                When(resolved_by__isnull=False, then=Value(RESCHEDULED)),
                When(status="postponed", then=Value(POSTPONED)),
                When(status="cancelled", then=Value(DID_NOT_HAPPEN)),
                When(due__lt=today, then=Value(OVERDUE)),
                default=Value(PENDING),
                output_field=models.CharField(),
            ),
            slippage=Case(
                When(
                    met & Q(due__isnull=False, resolved_by__date_start__isnull=False),
                    then=Greatest(Value(0), DaysBetween(resolver_start, F("due"))),
                ),
                default=None,
                output_field=models.IntegerField(),
            ),
        )
    )


def outcome_counts(expectations):
    """`[(outcome, label, number)]` for every outcome, zeros included, in one query."""
    # Grouped by the outcome, each row's outcome is worked out once rather than once per count.
    counts = dict(expectations.order_by().values_list("outcome").annotate(n=Count("pk")))
    return [(key, label, counts.get(key, 0)) for key, label in OUTCOMES]


def median_slippage_by_lane(expectations, in_sql=None):
    """`{lane: median days late}` over the met expectations, for each lane that has any.

    PostgreSQL computes the median in SQL; other databases (the SQLite demo) read
    the slippages and take the same median in Python. `in_sql=False` forces the
    latter, so tests can compare the two.
    """
    if in_sql is None:
        in_sql = connection.vendor == "postgresql"
    # Only a met expectation has a slippage, and it has a resolver: asking for one makes the join
    # an inner one, which PostgreSQL starts from the few resolvers rather than every expectation.
    met = expectations.filter(resolved_by__isnull=False, slippage__isnull=False).order_by()
    if in_sql:
        rows = met.values("lane").annotate(median=Median("slippage")).values_list("lane", "median")
        return dict(rows)
    by_lane = {}
    for lane, days in met.values_list("lane", "slippage"):
        by_lane.setdefault(lane, []).append(days)
    return {lane: float(statistics.median(days)) for lane, days in by_lane.items()}


def summary(expectations):
    """`(outcome_counts(expectations), median_slippage_by_lane(expectations))`.

    Both aggregate every expectation selected, so they grow with the data: the page
    that shows them is kept per data version (pacts.views.expectations).
    """
    return outcome_counts(expectations), median_slippage_by_lane(expectations)
