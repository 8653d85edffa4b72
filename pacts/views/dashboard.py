from collections import Counter
from datetime import timedelta

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET
from django_countries import countries

from pacts import revisions, vocabulary
from pacts.access import reader_required
from pacts.models import Agreement, Event, Source

RECENT_DAYS = 30
# A period is at most a year long, so one that reaches into the last days began at most a year before them.
LONGEST_PERIOD = timedelta(days=366)
LIST_LENGTH = 12
TEMPLATE = "pacts/dashboard.html"
KEPT_SECONDS = 60
# Geometry of the bar charts, in SVG user units.
BAR_LEFT, BAR_WIDTH, BAR_HEIGHT, ROW_HEIGHT, COUNT_WIDTH = 200, 180, 16, 22, 36


def recent(events, today, days=RECENT_DAYS):
    """Events whose period overlaps the last `days` days, newest first; expectations are listed apart."""
    since = today - timedelta(days=days)
    return (
        events.exclude(status="expected")
        .filter(date_start__lte=today, date_start__gte=since - LONGEST_PERIOD, date_end__gte=since)
        .order_by("-date_start", "-kind_position", "-id")
    )


def newly_entered(events):
    """Events by their last change, newest first; `edited` tells a change from an addition."""
    # auto_now_add and auto_now read the clock separately, so a new row's two stamps differ slightly.
    edited = ExpressionWrapper(Q(updated_at__gt=F("created_at") + timedelta(seconds=1)), output_field=BooleanField())
    return events.annotate(edited=edited).order_by("-updated_at", "-id")


def upcoming(events, today):
    """Expected events, not yet settled, whose deadline is today or later, soonest first."""
    # NOT EXISTS rather than a left join on the resolver: PostgreSQL then walks the
    # deadline index and stops when the list is full, instead of sorting every expectation.
    return (
        events.filter(~Exists(Event.objects.filter(resolves=OuterRef("pk"))), status="expected")
        .annotate(due=Coalesce("not_after", "date_end"))
        .filter(due__gte=today)
        .order_by("due", "id")
    )


def head(queryset, length=LIST_LENGTH):
    """The first `length` items, and whether there are more, in one query."""
    items = list(queryset[: length + 1])
    for event in items:
        if isinstance(event, Event):
            event.lane_label = "Joint" if event.lane == vocabulary.JOINT else countries.name(event.lane)
    return items[:length], len(items) > length


def bar_chart(counts, choices, parameter):
    """One bar per choice, zeros included, in the vocabulary's order, each linking to the filtered list."""
    longest = max(counts.values(), default=0) or 1
    bars = []
    for row, (value, label) in enumerate(choices):
        count = counts.get(value, 0)
        width = round(BAR_WIDTH * count / longest)
        bars.append(
            {
                "value": value,
                "label": label,
                "count": count,
                "url": reverse("agreement-list") + "?" + urlencode({parameter: value}),
                "y": row * ROW_HEIGHT,
                "text_y": row * ROW_HEIGHT + BAR_HEIGHT - 4,
                "width": width,
                "count_x": BAR_LEFT + width + 6,
            }
        )
    return {
        "bars": bars,
        "width": BAR_LEFT + BAR_WIDTH + COUNT_WIDTH,
        "height": len(bars) * ROW_HEIGHT,
        "label_x": BAR_LEFT - 8,
        "bar_x": BAR_LEFT,
        "bar_width": BAR_WIDTH,
        "bar_height": BAR_HEIGHT,
    }


def agreement_counts():
    """`(by_status, by_kind)`: the number of agreements of each, from one grouped query."""
    # COUNT(*) rather than of the ids: the status and kind are in an index, so it is read alone.
    by_status, by_kind = Counter(), Counter()
    for status, kind, count in Agreement.objects.order_by().values_list("status", "kind").annotate(n=Count("*")):
        by_status[status] += count
        by_kind[kind] += count
    return by_status, by_kind


@require_GET
@reader_required
def dashboard(request):
    today = timezone.localdate()
    # The lists and counts are the page's cost and show nothing of the viewer: drawn once per data
    # version and day, and kept a minute at most, since "edited 3 minutes ago" ages without a write.
    body_html = revisions.kept(
        "dashboard",
        [today.isoformat()],
        lambda: render_to_string(f"{TEMPLATE}#body", dashboard_context(today), request),
        timeout=KEPT_SECONDS,
    )
    return render(request, TEMPLATE, {"body_html": body_html})


def dashboard_context(today):
    """The latest, upcoming, overdue and newly entered events, the counts and the newest sources."""
    # The agreement's search document holds every text of its events; select_related would fetch it.
    events = Event.objects.select_related("agreement").defer("agreement__search_document")
    recent_events, more_recent = head(recent(events, today))
    new_events, more_new = head(newly_entered(events))
    upcoming_events, more_upcoming = head(upcoming(events, today))
    overdue_events, more_overdue = head(events.overdue(today).order_by("-due", "-id"))
    # Counting every agreement grows with the data; the counts change only with a write.
    by_status, by_kind = revisions.kept("agreement-counts", [], agreement_counts)
    sources, more_sources = head(Source.objects.select_related("publisher").order_by("-created_at", "-id"))
    return {
        "today": today,
        "recent_days": RECENT_DAYS,
        "recent_events": recent_events,
        "more_recent": more_recent,
        "new_events": new_events,
        "more_new": more_new,
        "upcoming_events": upcoming_events,
        "more_upcoming": more_upcoming,
        "overdue_events": overdue_events,
        "more_overdue": more_overdue,
        "sources": sources,
        "more_sources": more_sources,
        "by_status": bar_chart(by_status, vocabulary.AGREEMENT_STATUSES, "status"),
        "by_kind": bar_chart(by_kind, vocabulary.AGREEMENT_KINDS, "kind"),
    }
