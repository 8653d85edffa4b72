"""Atom and RSS feeds of events: valid, newest change first, and scoped to an agreement, a party or a saved search."""

from datetime import timedelta

import feedparser
import pytest
from django.urls import reverse
from django.utils import timezone

from pacts.models import Event
from tests.factories import AgreementFactory, EventFactory

pytestmark = pytest.mark.django_db

FEEDS = ["latest-atom", "latest-rss"]


def parsed(response):
    assert response.status_code == 200, response.content[:500]
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def titles(feed):
    return [entry.title for entry in feed.entries]


def changed(event, minutes_ago):
    """Pretend the event was last saved `minutes_ago`."""
    Event.objects.filter(pk=event.pk).update(updated_at=timezone.now() - timedelta(minutes=minutes_ago))


@pytest.mark.parametrize("name", FEEDS)
def test_the_latest_feed_is_valid_with_one_entry_per_event(reader, gsomia, name):
    response = reader.get(reverse(name))
    feed = parsed(response)
    expected_type = "application/atom+xml" if name.endswith("atom") else "application/rss+xml"
    assert response["Content-Type"].startswith(expected_type)
    assert len(feed.entries) == Event.objects.count()
    assert len({entry.id for entry in feed.entries}) == len(feed.entries)


def test_an_entry_names_the_agreement_kind_and_date_and_links_to_the_event(reader, gsomia):
    event = gsomia.events.get(external_id="kr-cabinet")
    entry = next(e for e in parsed(reader.get(reverse("latest-atom"))).entries if e.link.endswith(f"#event-{event.pk}"))
    assert entry.title == "Korea–Japan GSOMIA: Cabinet approval (26 June 2012)"
    assert entry.link == f"http://testserver{gsomia.get_absolute_url()}#event-{event.pk}"
    assert event.summary in entry.summary
    assert "Status: occurred" in entry.summary
    assert entry.published_parsed[:6] == event.created_at.utctimetuple()[:6]
    assert entry.updated_parsed[:6] == event.updated_at.utctimetuple()[:6]


def test_user_text_in_an_entry_is_escaped(reader, agreement):
    EventFactory(agreement=agreement, summary="Talks <b>resume</b> & stall")
    response = reader.get(reverse("latest-atom"))
    assert "<b>resume" not in parsed(response).entries[0].summary
    assert "&lt;b&gt;resume&lt;/b&gt; &amp; stall" in parsed(response).entries[0].summary


def test_an_event_of_unknown_date_says_so(reader, agreement):
    EventFactory(agreement=agreement, kind="legal-review", date=None)
    entry = parsed(reader.get(reverse("latest-atom"))).entries[0]
    assert entry.title.endswith(": Legal review (date unknown)")


def test_feeds_are_ordered_by_last_change_so_a_backfilled_event_comes_first(reader, agreement):
    recent = EventFactory(agreement=agreement, kind="signature", lane="joint", date="2016-11-23")
    old = EventFactory(agreement=agreement, kind="negotiation-opened", lane="joint", date="2011-01")
    changed(recent, minutes_ago=10)
    changed(old, minutes_ago=60)
    old.summary = "Talks opened in January 2011 (corrected)"
    old.save()
    for url in (reverse("latest-atom"), reverse("agreement-feed", args=[agreement.slug])):
        assert titles(parsed(reader.get(url)))[:2] == [
            f"{agreement}: Negotiation opened (January 2011)",
            f"{agreement}: Signature (23 November 2016)",
        ]


def test_the_kept_latest_feed_shows_a_change_at_once_and_links_to_the_address_asked(reader, agreement, settings):
    settings.ALLOWED_HOSTS = ["testserver", "pacts.example.org"]
    EventFactory(agreement=agreement, kind="signature", summary="Signed")
    assert len(parsed(reader.get(reverse("latest-atom"))).entries) == 1
    event = EventFactory(agreement=agreement, kind="legal-review", summary="Reviewed")
    feed = parsed(reader.get(reverse("latest-atom")))
    assert feed.entries[0].link == f"http://testserver{event.get_absolute_url()}"
    assert "Reviewed" in feed.entries[0].summary
    elsewhere = parsed(reader.get(reverse("latest-atom"), HTTP_HOST="pacts.example.org"))
    assert elsewhere.entries[0].link == f"http://pacts.example.org{event.get_absolute_url()}"


def test_the_feed_is_capped_at_fifty_entries(reader, agreement):
    for _ in range(51):
        EventFactory(agreement=agreement)
    assert len(parsed(reader.get(reverse("latest-atom"))).entries) == 50


def test_an_agreement_feed_has_only_its_events(reader, gsomia, agreement_pair):
    feed = parsed(reader.get(reverse("agreement-feed", args=[gsomia.slug])))
    assert feed.feed.title == "Korea–Japan GSOMIA: events"
    assert all(title.startswith("Korea–Japan GSOMIA: ") for title in titles(feed))
    assert len(feed.entries) == gsomia.events.count()
    assert reader.get(reverse("agreement-feed", args=["no-such-agreement"])).status_code == 404


@pytest.fixture
def agreement_pair(db):
    """Two agreements with one event each: Philippines–United States logistics, India–United States intelligence."""
    edca = AgreementFactory(short_name="EDCA", party_a_id="PH", party_b_id="US", kind="logistics")
    beca = AgreementFactory(short_name="BECA", party_a_id="IN", party_b_id="US", kind="intelligence-sharing")
    EventFactory(agreement=edca, lane="PH", summary="Senate concurs")
    EventFactory(agreement=beca, lane="IN", summary="Cabinet clears BECA")
    return edca, beca


def test_a_party_feed_has_the_events_of_its_agreements_as_party_a_or_b(reader, agreement_pair):
    assert sorted(titles(parsed(reader.get(reverse("party-feed", args=["US"]))))) == [
        "BECA: Cabinet approval (26 June 2012)",
        "EDCA: Cabinet approval (26 June 2012)",
    ]
    assert titles(parsed(reader.get(reverse("party-feed", args=["PH"])))) == ["EDCA: Cabinet approval (26 June 2012)"]
    assert reader.get(reverse("party-feed", args=["ZZ"])).status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=logistics", ["EDCA"]),
        ("party=IN", ["BECA"]),
        ("party=PH&party=IN", []),  # two parties: the agreements between them
        ("status=proposed&kind=intelligence-sharing", ["BECA"]),
        ("year_from=2013", []),
        ("", ["BECA", "EDCA"]),
    ],
)
def test_the_saved_search_feed_honours_the_list_filters(reader, agreement_pair, query, expected):
    feed = parsed(reader.get(f"{reverse('saved-search-feed')}?{query}"))
    assert sorted(title.split(":")[0] for title in titles(feed)) == expected


def test_the_saved_search_feed_links_back_to_the_list_with_its_filters(reader, agreement_pair):
    feed = parsed(reader.get(f"{reverse('saved-search-feed')}?kind=logistics"))
    assert feed.feed.link == f"http://testserver{reverse('agreement-list')}?kind=logistics"


@pytest.mark.parametrize("query", ["kind=rumour", "year_from=abc", "year_from=2015&year_to=2012", "q=" + "x" * 201])
def test_the_saved_search_feed_refuses_invalid_filters(reader, agreement_pair, query):
    response = reader.get(f"{reverse('saved-search-feed')}?{query}")
    assert response.status_code == 400
    assert b"These filters are not valid" in response.content


def test_the_saved_search_feed_does_not_shadow_an_agreement_slug(reader, gsomia):
    assert reader.get(gsomia.get_absolute_url()).status_code == 200
    assert reverse("saved-search-feed") == "/agreements/feed.atom"


def test_feeds_follow_the_read_rules_without_a_token(client, gsomia, settings):
    assert client.get(reverse("latest-atom")).status_code == 302
    settings.PACTS_PUBLIC_READ = True
    parsed(client.get(reverse("latest-atom")))


def many_agreements(n):
    for i in range(n):
        agreement = AgreementFactory(party_a_id="KR", party_b_id="JP" if i % 2 else "US")
        EventFactory(agreement=agreement)


# Beyond the session, the user and their groups: the events, and the agreement or party a feed is about;
# for the latest changes, the data version they are kept under.
QUERY_BUDGETS = {
    "/feeds/latest.atom": 5,
    "/feeds/latest.rss": 5,
    "/parties/KR/feed.atom": 5,
    "/agreements/agreement-0/feed.atom": 5,
    "/agreements/feed.atom?party=KR&kind=intelligence-sharing&year_from=2010": 4,
}


@pytest.mark.parametrize("n", [3, 300])
def test_feed_query_counts_are_flat(reader, django_assert_num_queries, n):
    AgreementFactory.reset_sequence(0)
    many_agreements(n)
    for url, queries in QUERY_BUDGETS.items():
        with django_assert_num_queries(queries):
            feed = parsed(reader.get(url))
        assert len(feed.entries) == (1 if "agreement-0" in url else min(n, 50))
    for url in ("/feeds/latest.atom", "/feeds/latest.rss"):
        with django_assert_num_queries(4):  # kept: the data version, and no event read
            assert len(parsed(reader.get(url)).entries) == min(n, 50)
