from django.db.models import Count, Exists, OuterRef, Q, Window
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_countries import countries

from pacts import vocabulary
from pacts.access import editor_required
from pacts.models import Citation, Event, Publisher

SECTION_LENGTH = 50


def supporting(**conditions):
    return Citation.objects.filter(event=OuterRef("pk"), stance="supports", **conditions)


def unsourced(events):
    """Events without a supporting citation."""
    return events.filter(~Exists(supporting()))


def disputed(events):
    """Events that a citation contradicts."""
    return events.filter(Exists(Citation.objects.filter(event=OuterRef("pk"), stance="contradicts")))


def low_confidence(events):
    return events.filter(confidence="low")


def backed_only_by_low_reliability(events):
    """Sourced events whose every supporting citation comes from a publisher rated low."""
    return events.filter(Exists(supporting()), ~Exists(supporting().filter(~Q(source__publisher__reliability="low"))))


def section(queryset):
    """The first rows and how many there are in all, in one query (the count is a window function)."""
    rows = list(queryset.annotate(total=Window(Count("pk")))[:SECTION_LENGTH])
    return {"rows": rows, "total": rows[0].total if rows else 0}


def event_section(key, title, help_text, events):
    found = section(events)
    for event in found["rows"]:
        event.lane_label = "Joint" if event.lane == vocabulary.JOINT else countries.name(event.lane)
        event.edit_url = reverse("event-edit", args=[event.agreement.slug, event.pk])
    return {"key": key, "title": title, "help": help_text, **found}


@require_GET
@editor_required
def worklist(request):
    events = Event.objects.select_related("agreement").order_by("-updated_at", "-id")
    today = timezone.localdate()
    sections = [
        event_section("unsourced", "Unsourced", "No source supports these events.", unsourced(events)),
        event_section("disputed", "Disputed", "A source contradicts these events.", disputed(events)),
        event_section(
            "low-confidence",
            "Low confidence",
            "Recorded with low confidence; confirm or correct.",
            low_confidence(events),
        ),
        event_section(
            "overdue",
            "Overdue",
            "Expected events whose deadline has passed: did they happen, slip or fall through?",
            events.overdue(today).order_by("due", "id"),
        ),
        event_section(
            "low-reliability",
            "Backed only by low-reliability publishers",
            "Every supporting source comes from a publisher rated low; look for a better one.",
            backed_only_by_low_reliability(events),
        ),
    ]
    publishers = section(
        Publisher.objects.filter(reliability=Publisher.Reliability.UNRATED)
        .annotate(sources_count=Count("sources"))
        .order_by("-sources_count", "name")
    )
    for publisher in publishers["rows"]:
        publisher.admin_url = reverse("admin:pacts_publisher_change", args=[publisher.pk])
    return render(
        request, "pacts/worklist.html", {"sections": sections, "publishers": publishers, "limit": SECTION_LENGTH}
    )
