"""The dashboard: recent, new, upcoming and overdue events, agreements by status and kind, newest sources."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pacts.dates import Period
from pacts.models import Agreement, Citation, Event, Publisher, Source
from pacts.vocabulary import AGREEMENT_KINDS, AGREEMENT_STATUSES, KIND_POSITION
from tests.factories import AgreementFactory, EventFactory, PublisherFactory, SourceFactory

pytestmark = pytest.mark.django_db


def bulk_agreements(n):
    """`n` agreements with one event of every sort the dashboard, expectations and worklist show.

    Written with bulk_create to stay fast at hundreds of agreements; the derived
    status is set directly, as store_status would have.
    """
    today = timezone.localdate()
    statuses = [value for value, _ in AGREEMENT_STATUSES]
    kinds = [value for value, _ in AGREEMENT_KINDS]
    agreements = Agreement.objects.bulk_create(
        Agreement(
            slug=f"bulk-{i}",
            title=f"Bulk agreement {i}",
            short_name=f"Bulk {i}",
            kind=kinds[i % len(kinds)],
            status=statuses[i % len(statuses)],
            party_a_id="KR",
            party_b_id="JP",
        )
        for i in range(n)
    )
    low = Publisher.objects.create(name="Rumour Mill", reliability="low")
    unrated = Publisher.objects.bulk_create(Publisher(name=f"Unrated {i}", reliability="unrated") for i in range(n))
    sources = Source.objects.bulk_create(
        Source(key=f"bulk-{i}", publisher=publisher, headline=f"Bulk report {i}", headline_key=f"bulk report {i}")
        for i, publisher in enumerate(unrated)
    )
    low_source = Source.objects.create(key="rumour", publisher=low, headline="Word is")

    def event(agreement, kind, status, date, **fields):
        period = Period.parse(date.isoformat() if not isinstance(date, str) else date)
        return Event(
            agreement=agreement,
            kind=kind,
            kind_position=KIND_POSITION[kind],
            lane=fields.pop("lane", "KR"),
            status=status,
            date_start=period.start,
            date_end=period.end,
            date_precision=period.precision,
            summary=f"{kind} of {agreement.slug}",
            external_id=fields.pop("external_id", f"{kind}-{status}-{agreement.pk}"),
            **fields,
        )

    expectations = []
    others = []
    for agreement in agreements:
        expectations += [
            event(agreement, "signature", "postponed", "2020-03-01", lane="joint"),
            event(agreement, "cabinet-approval", "expected", today + timedelta(days=20), lane="JP"),
            event(agreement, "legislative-consent", "expected", "2022-01"),
            event(agreement, "ratification", "cancelled", "2021-05-05"),
        ]
        others += [
            event(agreement, "statement", "occurred", today - timedelta(days=3)),
            event(agreement, "public-reaction", "occurred", "2019-07-01", confidence="low"),
        ]
    Event.objects.bulk_create(expectations)
    postponed = [e for e in expectations if e.status == "postponed"]
    resolvers = [
        event(e.agreement, "signature", "occurred", "2020-03-11", lane="joint", resolves=e, external_id=f"r-{e.pk}")
        for e in postponed
    ]
    Event.objects.bulk_create(others + resolvers)
    Citation.objects.bulk_create(
        [Citation(event=e, source=low_source) for e in others if e.kind == "statement"]
        + [Citation(event=e, source=s, stance="contradicts") for e, s in zip(resolvers, sources, strict=True)]
    )
    return agreements


def day(offset=0):
    """The day `offset` days from today, as an event's date."""
    return Period(timezone.localdate() + timedelta(days=offset), "day")


def section(content, heading_id):
    """The HTML of the dashboard section labelled by `heading_id`."""
    start = content.index(f'aria-labelledby="{heading_id}"')
    return content[start : content.index("</section>", start)]


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_dashboard_is_the_home_page(reader):
    response = reader.get("/")
    assert response.status_code == 200
    assert "pacts/dashboard.html" in [template.name for template in response.templates]


def test_the_kept_dashboard_shows_a_change_at_once(reader, agreement):
    EventFactory(agreement=agreement, date=day(-2), summary="Two days ago")
    assert "Yesterday" not in section(reader.get("/").content.decode(), "recent-heading")
    EventFactory(agreement=agreement, date=day(-1), summary="Yesterday")
    assert "Yesterday" in section(reader.get("/").content.decode(), "recent-heading")


def test_recent_events_are_those_whose_period_overlaps_the_last_30_days(reader, agreement):
    today = timezone.localdate()
    EventFactory(agreement=agreement, date=day(-2), summary="Two days ago")
    EventFactory(agreement=agreement, date=Period(today.replace(month=1, day=1), "year"), summary="This year")
    EventFactory(agreement=agreement, date=day(-45), summary="Six weeks ago")
    EventFactory(agreement=agreement, date=None, summary="Some day")
    recent = section(reader.get("/").content.decode(), "recent-heading")
    assert "Two days ago" in recent
    assert "This year" in recent
    assert "Six weeks ago" not in recent
    assert "Some day" not in recent


def test_each_event_links_to_its_place_on_the_timeline(reader, agreement):
    event = EventFactory(agreement=agreement, date=day(), summary="Signed today")
    recent = section(reader.get("/").content.decode(), "recent-heading")
    assert f'href="/agreements/{agreement.slug}/#event-{event.pk}"' in recent
    assert f'<time datetime="{event.date.iso}">{event.date.display()}</time>' in recent


def test_newly_entered_events_come_newest_first_and_say_whether_edited(reader, agreement):
    first = EventFactory(agreement=agreement, date="2011", summary="Entered first")
    EventFactory(agreement=agreement, date="2012", summary="Entered second")
    Event.objects.filter(pk=first.pk).update(updated_at=timezone.now() + timedelta(minutes=5))
    new = section(reader.get("/").content.decode(), "new-heading")
    assert new.index("Entered first") < new.index("Entered second")
    assert "edited" in new[: new.index("Entered first")]
    assert "added" in new[new.index("Entered first") :]
    assert '<time datetime="2011">2011</time>' in new


def test_upcoming_lists_expectations_due_from_today_soonest_first(reader, agreement):
    today = timezone.localdate()
    EventFactory(agreement=agreement, status="expected", date=day(40), summary="Later")
    EventFactory(agreement=agreement, status="expected", date=day(), summary="Today")
    EventFactory(
        agreement=agreement,
        status="expected",
        date=day(-9),
        not_after=today + timedelta(days=5),
        summary="This fortnight",
    )
    EventFactory(agreement=agreement, status="expected", date="2015-06", summary="Long past")
    upcoming = section(reader.get("/").content.decode(), "upcoming-heading")
    assert upcoming.index("Today") < upcoming.index("This fortnight") < upcoming.index("Later")
    assert "Long past" not in upcoming


def test_overdue_lists_unresolved_expectations_past_their_deadline(reader, agreement):
    overdue = EventFactory(agreement=agreement, status="expected", date="2015-06", summary="Should have happened")
    settled = EventFactory(agreement=agreement, status="expected", date="2014-06", summary="Settled later")
    EventFactory(agreement=agreement, date="2014-09", resolves=settled, summary="It happened")
    EventFactory(agreement=agreement, status="expected", date="2099", summary="Far off")
    content = section(reader.get("/").content.decode(), "overdue-heading")
    assert "Should have happened" in content
    assert 'datetime="2015-06-30"' in content
    assert f"#event-{overdue.pk}" in content
    assert "Settled later" not in content
    assert "Far off" not in content


def test_charts_count_agreements_by_status_and_kind_and_link_to_the_list(reader):
    AgreementFactory.create_batch(2, kind="logistics")
    AgreementFactory(kind="other")
    content = reader.get("/").content.decode()
    by_kind = section(content, "kind-heading")
    assert 'href="/agreements/?kind=logistics"' in by_kind
    assert "Logistics: 2; " in by_kind
    assert "Reciprocal access: 0; " in by_kind
    by_status = section(content, "status-heading")
    assert 'href="/agreements/?status=proposed"' in by_status
    assert "Proposed: 3; " in by_status


def test_charts_are_accessible_svg_with_the_numbers_also_in_a_table(reader):
    AgreementFactory.create_batch(2, kind="logistics")
    by_kind = section(reader.get("/").content.decode(), "kind-heading")
    svg = re.search(r"<svg [^>]*>", by_kind).group(0)
    assert 'aria-labelledby="by-kind-title"' in svg
    assert '<title id="by-kind-title">Agreements by kind</title>' in by_kind
    assert '<desc id="by-kind-desc">Intelligence sharing: 0; Logistics: 2; ' in by_kind
    # Each bar is a link named by its label and number.
    assert re.search(
        r'<a href="/agreements/\?kind=logistics">\s*<g role="img" aria-label="Logistics: 2 agreements">', by_kind
    )
    assert "style=" not in by_kind  # the CSP forbids inline styles
    # The longest bar spans the whole track.
    assert re.search(r'<rect class="bar" x="200" y="\d+" width="180"', by_kind)
    table = by_kind[by_kind.index("<table>") :]
    assert '<th scope="row">Logistics</th><td>2</td>' in table


def test_newest_sources_come_first(reader):
    older = SourceFactory(headline="Older report")
    SourceFactory(headline="Newer report", publisher=PublisherFactory(name="Kyodo News"))
    Source.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))
    sources = section(reader.get("/").content.decode(), "sources-heading")
    assert sources.index("Newer report") < sources.index("Older report")
    assert "Kyodo News" in sources


def test_long_lists_are_cut_with_a_link_to_more(reader, agreement):
    for n in range(13):
        EventFactory(agreement=agreement, status="expected", date="2015-06", summary=f"Overdue {n}")
    overdue = section(reader.get("/").content.decode(), "overdue-heading")
    assert overdue.count("<li") == 12
    assert f"{reverse('expectations')}?outcome=overdue" in overdue


@pytest.mark.parametrize("agreements", [3, 300])
def test_the_dashboard_runs_a_constant_number_of_queries(reader, django_assert_num_queries, agreements):
    bulk_agreements(agreements)
    # session, user, groups; the data version; recent, new, upcoming, overdue events; the data
    # version again, the status and kind counts (kept apart: they outlive the page); sources
    with django_assert_num_queries(11):
        response = reader.get("/")
    assert response.status_code == 200
    with django_assert_num_queries(4):  # the page kept under the data version
        again = reader.get("/")
    assert section(again.content.decode(), "recent-heading") == section(response.content.decode(), "recent-heading")
