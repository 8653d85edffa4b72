"""An agreement's timeline as it stood on a day: lanes, years, progress per party.

The view loads the events; this module decides how each one reads on that day
(an expectation whose resolver came later still reads "expected"), which are
overdue, disputed or unsourced, where the years begin, which older years fold
away, and how far each party has gone through its domestic procedure.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import ExtractYear
from django.utils import timezone

from pacts import vocabulary
from pacts.vocabulary import JOINT, KIND_GROUP

# More events than this and the oldest years fold, each opened on demand.
FOLD_ABOVE = 150
# Each party's progress lists its latest steps; the lanes below hold the rest.
PROGRESS_STEPS = 12

NEGOTIATION_STARTS = ("negotiation-opened", "negotiation-resumed")
# Progress shows the procedure to be bound; talks, later life, exit and commentary show in the lanes.
NOT_PROCEDURE = {"negotiation", "life", "exit", "context"}


def lane_position(agreement, lane):
    """ "a", "joint" or "b": the column an event's lane takes."""
    if lane == JOINT:
        return "joint"
    return "a" if lane == agreement.party_a_id else "b"


def lane_name(agreement, lane):
    if lane == JOINT:
        return "Joint"
    return (agreement.party_a if lane == agreement.party_a_id else agreement.party_b).name


@dataclass
class Progress:
    """One party's domestic steps since talks last (re)started."""

    party: object
    steps: list = field(default_factory=list)
    earlier: int = 0  # older steps left to the lanes


@dataclass
class ProgressStep:
    event: object
    mark: str  # "done", "expected", "overdue", "not-required", "postponed", "cancelled"


def read_events(events, as_of=None, today=None):
    """Annotate each event with how it reads on `as_of` (or now); drop what had not happened yet.

    Sets on each event: `shown_status`, `shown_resolver`, `overdue`, `supporting`,
    `contradicting`, `disputed`, `unsourced` and `first_reported`.
    """
    today = as_of or today or timezone.localdate()
    shown = []
    for event in events:
        if as_of and (event.date_start is None or event.date_start > as_of):
            continue
        resolver = event.resolver
        # On a past day, an expectation settled later still reads as it stood: expected.
        settled_later = resolver is not None and as_of and (resolver.date_start is None or resolver.date_start > as_of)
        event.shown_resolver = None if settled_later else resolver
        event.shown_status = "expected" if settled_later else event.status
        resolver = event.shown_resolver
        deadline = event.not_after or event.date_end
        event.overdue = (
            event.shown_status == "expected" and resolver is None and deadline is not None and deadline < today
        )
        citations = [
            c
            for c in event.citations.all()
            if not as_of or c.source.published_on is None or c.source.published_on <= as_of
        ]
        event.supporting = [c for c in citations if c.stance == "supports"]
        event.contradicting = [c for c in citations if c.stance == "contradicts"]
        event.source_count = len(citations)
        event.disputed = bool(event.contradicting)
        event.unsourced = not event.supporting
        published = [c.source.published_on for c in event.supporting if c.source.published_on]
        event.first_reported = min(published, default=None)
        shown.append(event)
    return shown


def place_in_lanes(agreement, events):
    """Set `position`, `lane_label`, `year` and `year_start` for the grid, in display order.

    Dated events come by year; events with an unknown date come last, as one group.
    """
    previous_year = object()
    for event in events:
        event.position = lane_position(agreement, event.lane)
        event.lane_label = lane_name(agreement, event.lane)
        event.year = event.date_start.year if event.date_start else None
        event.year_start = event.year != previous_year
        previous_year = event.year
    return events


def progress(agreement, events, as_of=None, today=None):
    """Each party's domestic steps since the latest negotiation-opened or -resumed."""
    today = as_of or today or timezone.localdate()
    events = [e for e in events if not as_of or (e.date_start is not None and e.date_start <= as_of)]
    starts = [e.date_start for e in events if e.kind in NEGOTIATION_STARTS and e.status == "occurred" and e.date_start]
    since = max(starts, default=None)
    result = []
    for party in agreement.parties:
        steps = []
        for event in events:
            if event.lane != party.code or KIND_GROUP[event.kind] in NOT_PROCEDURE:
                continue
            if since and (event.date_start is None or event.date_start < since):
                continue
            resolver = event.resolver
            if resolver is not None and (not as_of or (resolver.date_start and resolver.date_start <= as_of)):
                continue  # the resolving event shows instead
            steps.append(ProgressStep(event, progress_mark(event, today)))
        earlier = max(len(steps) - PROGRESS_STEPS, 0)
        result.append(Progress(party, steps[earlier:], earlier))
    return result


def progress_mark(event, today):
    if event.kind == "legislative-consent-not-required":
        return "not-required"
    if event.status == "expected":
        deadline = event.not_after or event.date_end
        return "overdue" if deadline and deadline < today else "expected"
    return {"occurred": "done"}.get(event.status, event.status)


def progress_events(agreement):
    """The events `progress` needs: talks starting and each party's own steps."""
    procedure = [k for k in vocabulary.EVENT_KINDS if KIND_GROUP[k] not in NOT_PROCEDURE]
    return (
        agreement.events.filter(
            Q(kind__in=NEGOTIATION_STARTS)
            | Q(lane__in=[agreement.party_a_id, agreement.party_b_id], kind__in=procedure)
        )
        .select_related("resolved_by")
        .in_date_order()
    )


@dataclass
class Fold:
    """Years folded away on a long timeline, and those the reader opened."""

    folded: list  # [(year, number of events)] still closed, oldest first
    cutoff: int | None  # years before this are folded unless opened
    opened: list

    @property
    def active(self):
        return self.cutoff is not None


def fold_years(events, opened=(), limit=FOLD_ABOVE):
    """Decide which older years to fold so that at most about `limit` events show."""
    counts = dict(
        events.filter(date_start__isnull=False)
        .annotate(year=ExtractYear("date_start"))
        .values_list("year")
        .annotate(n=Count("id"))
        .values_list("year", "n")
    )
    if sum(counts.values()) <= limit:
        return Fold([], None, [])
    shown, cutoff = 0, None
    for year in sorted(counts, reverse=True):
        if shown + counts[year] > limit and shown:
            break
        shown += counts[year]
        cutoff = year
    opened = sorted(y for y in set(opened) if y in counts and y < cutoff)
    folded = [(y, counts[y]) for y in sorted(counts) if y < cutoff and y not in opened]
    return Fold(folded, cutoff, opened)


def unfolded(events, fold):
    """Only the events of years that are not folded (and those with unknown dates)."""
    if not fold.active:
        return events
    return events.filter(
        Q(date_start__isnull=True) | Q(date_start__gte=date(fold.cutoff, 1, 1)) | Q(date_start__year__in=fold.opened)
    )
