"""An agreement's calendar (.ics): expected, postponed and cancelled steps, at their precision and in local time."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from icalendar import Calendar

from pacts.models import Agreement
from tests.factories import AgreementFactory, EventFactory

pytestmark = pytest.mark.django_db


def calendar_of(client, agreement):
    response = client.get(reverse("agreement-calendar", args=[agreement.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def entries(calendar):
    """The calendar's events by summary of the step (the text after the agreement's name)."""
    return {str(entry["summary"]).split(": ", 1)[1]: entry for entry in calendar.walk("VEVENT")}


@pytest.fixture
def expected_steps(agreement):
    """Expected steps at each precision, with and without a time; a cancelled and a postponed one; two left out."""
    steps = {
        "day": {"kind": "cabinet-approval", "lane": "KR", "date": "2030-06-26"},
        "kr-time": {"kind": "legislative-vote", "lane": "KR", "date": "2030-06-27", "time": time(10, 30)},
        "joint-time": {"kind": "signature", "lane": "joint", "date": "2030-06-29", "time": time(16, 0)},
        "month": {"kind": "legislative-consent", "lane": "JP", "date": "2030-07"},
        "year": {"kind": "entry-into-force", "lane": "joint", "date": "2031"},
        "cancelled": {"kind": "exchange-of-notes", "lane": "joint", "date": "2030-08-01", "status": "cancelled"},
        "postponed": {"kind": "ratification", "lane": "JP", "date": "2030-05-01", "status": "postponed"},
        "occurred": {"kind": "negotiation-opened", "lane": "joint", "date": "2011", "status": "occurred"},
        "undated": {"kind": "legal-review", "lane": "JP", "date": None},
    }
    return {
        name: EventFactory(agreement=agreement, summary=name, **{"status": "expected", **fields})
        for name, fields in steps.items()
    }


def test_the_calendar_parses_and_has_the_expected_postponed_and_cancelled_steps(reader, agreement, expected_steps):
    calendar = calendar_of(reader, agreement)
    assert calendar["version"] == "2.0"
    summaries = sorted(str(entry["description"]).split("\n")[0] for entry in calendar.walk("VEVENT"))
    assert summaries == sorted(["day", "kr-time", "joint-time", "month", "year", "cancelled", "postponed"])


def test_a_day_is_an_all_day_event(reader, agreement, expected_steps):
    entry = entries(calendar_of(reader, agreement))["Cabinet approval (expected)"]
    assert entry["dtstart"].dt == date(2030, 6, 26)
    assert entry["dtstart"].params["VALUE"] == "DATE"
    assert entry["dtend"].dt == date(2030, 6, 27)
    assert entry["status"] == "TENTATIVE"


def test_a_known_time_is_local_to_the_lane_party_and_joint_means_party_a(reader, agreement, expected_steps):
    found = entries(calendar_of(reader, agreement))
    vote = found["Legislative vote (expected)"]["dtstart"]
    assert vote.dt == datetime(2030, 6, 27, 10, 30, tzinfo=ZoneInfo("Asia/Seoul"))
    assert vote.params["TZID"] == "Asia/Seoul"
    signature = found["Signature (expected)"]["dtstart"]
    assert signature.dt == datetime(2030, 6, 29, 16, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    assert "VALUE" not in signature.params


def test_the_calendar_describes_its_time_zones(reader, agreement, expected_steps):
    zones = [str(zone["tzid"]) for zone in calendar_of(reader, agreement).walk("VTIMEZONE")]
    assert zones == ["Asia/Seoul"]


def test_a_time_in_a_party_of_unknown_zone_floats(reader):
    fiji = AgreementFactory(party_a_id="FJ", party_b_id="NZ")
    EventFactory(agreement=fiji, lane="FJ", status="expected", date="2030-03-03", time=time(9, 0), summary="floating")
    entry = calendar_of(reader, fiji).walk("VEVENT")[0]
    assert entry["dtstart"].dt == datetime(2030, 3, 3, 9, 0)
    assert entry["dtstart"].dt.tzinfo is None


@pytest.mark.parametrize(
    ("summary", "start", "end"),
    [
        ("Legislative consent (expected)", date(2030, 7, 1), date(2030, 8, 1)),
        ("Entry into force (expected)", date(2031, 1, 1), date(2032, 1, 1)),
    ],
)
def test_a_month_or_a_year_spans_the_whole_period(reader, agreement, expected_steps, summary, start, end):
    entry = entries(calendar_of(reader, agreement))[summary]
    assert (entry["dtstart"].dt, entry["dtend"].dt) == (start, end)
    assert entry["dtstart"].params["VALUE"] == "DATE"


def test_cancelled_and_postponed_steps_are_cancelled_in_the_calendar(reader, agreement, expected_steps):
    found = entries(calendar_of(reader, agreement))
    assert found["Exchange of notes (did not happen)"]["status"] == "CANCELLED"
    assert found["Ratification (postponed)"]["status"] == "CANCELLED"


def test_uids_are_stable_and_each_entry_links_to_its_event(reader, agreement, expected_steps):
    event = expected_steps["day"]
    before = entries(calendar_of(reader, agreement))["Cabinet approval (expected)"]
    event.date = "2030-06-28"
    event.save()
    after = entries(calendar_of(reader, agreement))["Cabinet approval (expected)"]
    assert before["uid"] == after["uid"] == f"event-{event.pk}@pacts"
    assert after["dtstart"].dt == date(2030, 6, 28)
    url = f"http://testserver{agreement.get_absolute_url()}#event-{event.pk}"
    assert url in str(after["description"])
    assert str(after["url"]) == url


def test_the_calendar_of_an_unknown_agreement_is_not_found(reader, db):
    assert reader.get(reverse("agreement-calendar", args=["no-such-agreement"])).status_code == 404


def test_the_calendar_follows_the_read_rules(client, agreement):
    response = client.get(reverse("agreement-calendar", args=[agreement.slug]))
    assert response.status_code == 302


@pytest.mark.parametrize("n", [3, 300])
def test_the_calendar_query_count_is_flat(reader, agreement, django_assert_num_queries, n):
    for i in range(n):
        EventFactory(agreement=agreement, status="expected", date=f"{2030 + i // 12}-{i % 12 + 1:02d}")
    # session, user, groups; the agreement; its events
    with django_assert_num_queries(5):
        calendar = calendar_of(reader, agreement)
    assert len(calendar.walk("VEVENT")) == n


def test_feed_readers_may_ask_for_headers_only(reader, gsomia):
    from django.urls import reverse

    assert reader.head(reverse("agreement-calendar", args=[gsomia.slug])).status_code == 200
    assert reader.head(reverse("saved-search-feed")).status_code == 200


def test_the_calendar_name_is_escaped_as_icalendar_text(reader, gsomia):
    Agreement.objects.filter(pk=gsomia.pk).update(short_name="GSOMIA; old, name")
    response = reader.get(reverse("agreement-calendar", args=[gsomia.slug]))
    assert response.status_code == 200
    assert b"X-WR-CALNAME:GSOMIA\\; old\\, name: expected steps" in response.content
