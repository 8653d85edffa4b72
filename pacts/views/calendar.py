"""An agreement's expected steps as an iCalendar feed (`calendar.ics`), for calendar applications.

A date is a period, so a day is an all-day event and a month or a year an all-day
span over the whole period. A known time is the local time at the place of the
act, in the time zone of the lane's party (party A's for the joint lane).
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe
from icalendar import Calendar, vText
from icalendar import Event as CalendarEvent

from pacts import vocabulary
from pacts.access import feed_reader_required
from pacts.models import Agreement

# Where a party's acts take place: the zone of its capital. Parties not listed get
# floating times (see `starts_at`).
PARTY_ZONES = {
    "AU": "Australia/Sydney",  # Canberra
    "CA": "America/Toronto",  # Ottawa
    "CN": "Asia/Shanghai",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "GB": "Europe/London",
    "ID": "Asia/Jakarta",
    "IN": "Asia/Kolkata",
    "IT": "Europe/Rome",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland",
    "PH": "Asia/Manila",
    "PL": "Europe/Warsaw",
    "RU": "Europe/Moscow",
    "SG": "Asia/Singapore",
    "TH": "Asia/Bangkok",
    "TW": "Asia/Taipei",
    "UA": "Europe/Kyiv",
    "US": "America/New_York",  # Washington
    "VN": "Asia/Ho_Chi_Minh",
}

SHOWN_STATUSES = ("expected", "postponed", "cancelled")
# A postponed date will not hold either; its replacement is an expected event of its own.
CALENDAR_STATUS = {"expected": "TENTATIVE", "postponed": "CANCELLED", "cancelled": "CANCELLED"}


def zone_of(agreement, lane):
    """The time zone of the lane's party (party A's for the joint lane), or None when we do not know it."""
    code = agreement.party_a_id if lane == vocabulary.JOINT else lane
    return ZoneInfo(PARTY_ZONES[code]) if code in PARTY_ZONES else None


def starts_at(event, agreement):
    """A day with a time: that local time in the lane party's zone.

    For a party whose zone we do not know, a floating time (no zone): a calendar
    shows it at that clock time wherever the reader is, which is right at the place
    of the act and never shifted by a wrong guess.
    """
    return datetime.combine(event.date_start, event.time, tzinfo=zone_of(agreement, event.lane))


def calendar_event(event, agreement, timeline_url):
    entry = CalendarEvent()
    entry.add("uid", f"event-{event.pk}@pacts")
    entry.add("dtstamp", event.updated_at)
    entry.add("created", event.created_at)
    entry.add("last-modified", event.updated_at)
    label = event.get_status_display() if event.status != "expected" else "Expected"
    entry.add("summary", f"{agreement}: {event.get_kind_display()} ({label.lower()})")
    description = [event.summary]
    if event.not_after:
        description.append(f"Expected by {event.not_after.day} {event.not_after:%B %Y}.")
    description.append(timeline_url)
    entry.add("description", "\n\n".join(description))
    entry.add("url", timeline_url)
    entry.add("status", CALENDAR_STATUS[event.status])
    if event.time and event.date_precision == "day":
        entry.add("dtstart", starts_at(event, agreement))
    else:
        # All-day, over the whole period: DTEND is the day after its last day.
        entry.add("dtstart", event.date_start)
        entry.add("dtend", event.date_end + timedelta(days=1))
    return entry


@require_safe
@feed_reader_required
def agreement_calendar(request, slug):
    """`/agreements/<slug>/calendar.ics`: the agreement's expected, postponed and cancelled steps with a date."""
    agreement = get_object_or_404(Agreement, slug=slug)
    events = agreement.events.filter(status__in=SHOWN_STATUSES, date_start__isnull=False).in_date_order()
    calendar = Calendar()
    calendar.add("prodid", "-//Pacts//Expected steps//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    # An x-property goes out as given unless it is vText, which escapes ; and , and backslashes and line breaks.
    calendar.add("x-wr-calname", vText(f"{agreement}: expected steps"))
    for event in events:
        calendar.add_component(calendar_event(event, agreement, request.build_absolute_uri(event.get_absolute_url())))
    calendar.add_missing_timezones()
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{agreement.slug}.ics"'
    return response
