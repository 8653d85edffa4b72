"""The timeline page: fragments, live refresh, ETags, as-of, filters, folding and query budgets."""

import re
from datetime import date

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pacts.models import Agreement
from pacts.timeline import FOLD_ABOVE, PROGRESS_STEPS
from tests.conftest import HTMX
from tests.factories import AgreementFactory, CitationFactory, EventFactory, SourceFactory

pytestmark = pytest.mark.django_db


def lanes_of(response):
    content = response.content.decode()
    return content[content.index('<ol class="lanes"') : content.index("</ol>", content.index('<ol class="lanes"'))]


def test_a_plain_request_gets_the_whole_page(reader, gsomia):
    response = reader.get(gsomia.get_absolute_url())
    assert response.status_code == 200
    assert response.content.startswith(b"<!doctype html>")
    assert "HX-Request" in response["Vary"]


def test_an_htmx_request_gets_the_lanes_and_the_header_out_of_band(reader, gsomia):
    response = reader.get(gsomia.get_absolute_url(), headers=HTMX)
    content = response.content.decode()
    assert not content.lstrip().startswith("<!doctype")
    assert content.lstrip().startswith('<div id="live"')
    assert 'id="live-header" hx-swap-oob="true"' in content
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("header", ["HX-Boosted", "HX-History-Restore-Request"])
def test_boosted_requests_and_history_restores_get_the_whole_page(reader, gsomia, header):
    response = reader.get(gsomia.get_absolute_url(), headers={**HTMX, header: "true"})
    assert response.content.startswith(b"<!doctype html>")


def test_the_poll_answers_204_with_one_query_beyond_authentication(reader, gsomia, django_assert_num_queries):
    url = f"{gsomia.get_absolute_url()}?since={gsomia.revision}"
    with django_assert_num_queries(4):  # session, user, groups; then the agreement's revision
        response = reader.get(url, headers=HTMX)
    assert response.status_code == 204
    assert response.content == b""


def test_the_poll_returns_the_new_lanes_once_something_changed(reader, gsomia):
    seen = gsomia.revision
    EventFactory(agreement=gsomia, kind="statement", lane="JP", date="2012-06-28", summary="Tokyo comments")
    response = reader.get(f"{gsomia.get_absolute_url()}?since={seen}", headers=HTMX)
    assert response.status_code == 200
    assert "Tokyo comments" in response.content.decode()


def test_a_citation_edit_also_counts_as_a_change(reader, gsomia):
    seen = Agreement.objects.get(pk=gsomia.pk).revision
    citation = gsomia.events.get(external_id="kr-cabinet").citations.get()
    citation.note = "kept secret for a day"
    citation.save()
    assert Agreement.objects.get(pk=gsomia.pk).revision > seen


def test_the_full_page_answers_304_to_its_etag_without_rendering(reader, gsomia, django_assert_num_queries):
    first = reader.get(gsomia.get_absolute_url())
    etag = first["ETag"]
    assert first["Cache-Control"] == "private, no-cache"
    with django_assert_num_queries(4):
        response = reader.get(gsomia.get_absolute_url(), headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert (response["ETag"], response["Cache-Control"]) == (etag, "private, no-cache")


def test_the_etag_covers_the_data_the_role_and_the_query(client, gsomia, analyst, editor):
    client.force_login(analyst)
    base = client.get(gsomia.get_absolute_url())["ETag"]
    assert client.get(gsomia.get_absolute_url() + "?lane=KR")["ETag"] != base
    EventFactory(agreement=gsomia, kind="statement", lane="KR", date="2012-07-01")
    changed = client.get(gsomia.get_absolute_url())["ETag"]
    assert changed != base
    client.force_login(editor)
    assert client.get(gsomia.get_absolute_url())["ETag"] != changed


def test_as_of_shows_the_agreement_as_it_stood(reader, gsomia):
    response = reader.get(gsomia.get_absolute_url() + "?as_of=2012-06-30")
    content = response.content.decode()
    assert '<span class="badge status-negotiating">Negotiating</span>' in content
    lanes = lanes_of(response)
    assert "Signed in Seoul" not in lanes
    assert "2016-11-23" not in lanes
    # The 2012 signing, postponed and resolved in 2016, still reads as expected on that day.
    signing = gsomia.events.get(external_id="signing-2012")
    item = lanes[lanes.index(f'<li id="event-{signing.pk}"') :].split("</li>")[0]
    assert "status-expected" in item
    assert "flag-postponed" not in item
    assert "resolved by" not in lanes


def test_as_of_after_the_resolution_shows_both_ends(reader, gsomia):
    lanes = lanes_of(reader.get(gsomia.get_absolute_url()))
    assert "Postponed; resolved by" in lanes
    assert "the signature of 23 November 2016" in lanes
    assert "Resolves" in lanes
    assert "the postponed signature of 29 June 2012" in lanes


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ("lane=JP", "Japan&#x27;s cabinet expected", "Cabinet approves the pact"),
        ("group=exit", "Seoul notifies Tokyo", "Cabinet approves the pact"),
        ("status=postponed", "Signing in Tokyo called off", "Signed in Seoul"),
        ("lane=KR&lane=joint", "Cabinet approves the pact", "Japan&#x27;s cabinet expected"),
    ],
)
def test_filters_narrow_the_lanes(reader, gsomia, query, present, absent):
    lanes = lanes_of(reader.get(f"{gsomia.get_absolute_url()}?{query}"))
    assert present in lanes
    assert absent not in lanes


@pytest.mark.parametrize(
    "query",
    ["as_of=2012-13-01", "as_of=June+2012", "lane=US", "status=rumoured", "group=coups", "since=-1", "as_of=%00"],
)
def test_bad_filters_get_a_400_with_a_message(reader, gsomia, query):
    response = reader.get(f"{gsomia.get_absolute_url()}?{query}")
    assert response.status_code == 400
    assert "Some of the filters in this address are not valid" in response.content.decode()


def test_marks_for_expected_overdue_disputed_and_unsourced(reader, gsomia):
    EventFactory(
        agreement=gsomia, kind="cabinet-approval", lane="JP", status="expected", date="2016-11", confidence="low"
    )
    lanes = lanes_of(reader.get(gsomia.get_absolute_url()))
    assert "flag-overdue" in lanes
    assert "flag-low" in lanes
    assert "flag-disputed" in lanes  # the notice, which a source dates differently
    assert "flag-unsourced" in lanes  # the new event cites nothing
    assert "gives 22 Aug" in lanes


def test_progress_shows_each_partys_steps_since_talks_began(reader, gsomia):
    content = reader.get(gsomia.get_absolute_url()).content.decode()
    header = content[: content.index('<ol class="lanes"')]
    assert "Cabinet approval" in header
    assert "26 June 2012" in header
    assert "mark-expected" not in header  # Japan's expected approval passed its deadline long ago
    assert "mark-overdue" in header


def test_progress_lists_each_partys_latest_steps_and_counts_the_earlier_ones(reader):
    agreement = AgreementFactory()
    for n in range(PROGRESS_STEPS + 3):
        EventFactory(agreement=agreement, kind="legislative-committee-report", lane="KR", date=f"{2000 + n}-03-01")
    EventFactory(agreement=agreement, kind="cabinet-approval", lane="JP", date="2001-05-01")
    content = reader.get(agreement.get_absolute_url()).content.decode()
    header = content[: content.index('<ol class="lanes"')]
    korea, japan = header.split('aria-label="Japan: domestic steps"')
    assert korea.count('<li class="mark-done">') == PROGRESS_STEPS
    assert "3 earlier steps in the lanes below" in korea
    assert 'datetime="2014-03-01"' in korea
    assert 'datetime="2002-03-01"' not in korea
    assert japan.count('<li class="mark-done">') == 1
    assert "earlier step" not in japan
    assert len(re.findall(r'<li id="event-', lanes_of(reader.get(agreement.get_absolute_url())))) == PROGRESS_STEPS + 4


def test_each_event_has_one_time_element_and_a_permalink(reader, gsomia):
    lanes = lanes_of(reader.get(gsomia.get_absolute_url()))
    assert lanes.count('<li id="event-') == 6
    assert lanes.count("<time datetime=") == 6
    for event in gsomia.events.all():
        assert f'href="#event-{event.pk}"' in lanes


def test_an_event_with_an_unknown_date_comes_last(reader, gsomia):
    EventFactory(agreement=gsomia, kind="statement", lane="JP", date=None, summary="Undated remark")
    lanes = lanes_of(reader.get(gsomia.get_absolute_url()))
    assert lanes.rindex("Undated remark") > lanes.rindex("<time datetime=")
    assert "Date unknown" in lanes


def make_long_timeline(events):
    agreement = AgreementFactory()
    source = SourceFactory()
    for n in range(events):
        event = EventFactory(
            agreement=agreement, kind="statement", lane="joint", date=f"{1990 + n // 25}-01-{n % 25 + 1:02d}"
        )
        CitationFactory(event=event, source=source)
    return agreement


def test_a_long_timeline_folds_its_oldest_years(reader):
    agreement = make_long_timeline(FOLD_ABOVE + 20)  # 25 events a year from 1990
    content = reader.get(agreement.get_absolute_url()).content.decode()
    assert "Earlier years, folded:" in content
    assert "open=1990" in content
    assert lanes_of(reader.get(agreement.get_absolute_url())).count("<li id=") <= FOLD_ABOVE
    opened = lanes_of(reader.get(agreement.get_absolute_url() + "?open=1990"))
    assert 'datetime="1990-01-01"' in opened


@pytest.mark.parametrize("events", [5, 500])
def test_the_page_runs_a_constant_number_of_queries(reader, django_assert_num_queries, events):
    agreement = make_long_timeline(events)
    # session, user, groups, agreement, year counts, events, citations, progress events, aliases
    with django_assert_num_queries(9):
        reader.get(agreement.get_absolute_url())


@pytest.mark.parametrize("events", [5, 500])
def test_the_fragment_runs_a_constant_number_of_queries(reader, django_assert_num_queries, events):
    agreement = make_long_timeline(events)
    with django_assert_num_queries(9):
        reader.get(agreement.get_absolute_url() + "?since=0", headers=HTMX)


def test_the_citations_expand_in_place_or_as_a_page(reader, gsomia):
    event = gsomia.events.get(external_id="notice")
    url = reverse("event-citations", args=[gsomia.slug, event.pk])
    page = reader.get(url)
    assert page.content.startswith(b"<!doctype html>")
    fragment = reader.get(url, headers=HTMX).content.decode()
    assert '<div class="citation-list">' in fragment
    assert "Yonhap News Agency" in fragment
    assert "High" in fragment
    assert "contradicts" in fragment
    assert "gives 22 Aug" in fragment


def test_first_reported_is_shown_beside_the_event(reader, gsomia):
    lanes = lanes_of(reader.get(gsomia.get_absolute_url()))
    assert "First reported 27 Jun 2012" in lanes


def test_status_as_of_a_day_matches_the_model(gsomia):
    assert gsomia.compute_status(as_of=date(2019, 8, 23)) == ("in-force", "pending")


def test_a_second_reader_gets_the_cached_timeline_without_its_queries(client, gsomia, make_user):
    first, second = make_user("analyst", "first"), make_user("analyst", "second")
    client.force_login(first)
    drawn = client.get(gsomia.get_absolute_url()).content.decode()
    client.force_login(second)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(gsomia.get_absolute_url()).content.decode()
    assert len(queries) == 4  # session, user, groups, the agreement: no events, citations or sources
    assert again.split('<main id="main">')[1] == drawn.split('<main id="main">')[1]


def test_a_change_shows_at_once_despite_the_cache(reader, gsomia):
    reader.get(gsomia.get_absolute_url())
    EventFactory(agreement=gsomia, kind="statement", lane="JP", date="2012-06-28", summary="Tokyo comments")
    assert "Tokyo comments" in reader.get(gsomia.get_absolute_url()).content.decode()


def test_editors_pages_are_never_cached_and_carry_their_own_csrf_token(client, gsomia, make_user):
    tokens = []
    for name in ("first-editor", "second-editor"):
        client.force_login(make_user("editor", name))
        page = client.get(gsomia.get_absolute_url()).content.decode()
        tokens.append(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
    assert tokens[0]
    assert not set(tokens[0]) & set(tokens[1])


TOKENS = re.compile(r'"X-CSRFToken": "([^"]+)"|name="csrfmiddlewaretoken" value="([^"]+)"')


def tokens_of(page):
    return [header or field for header, field in TOKENS.findall(page)]


def test_the_page_around_a_timeline_is_kept_per_viewer_with_a_token_masked_anew(client, gsomia, make_user):
    first, second = make_user("analyst", "first-reader"), make_user("analyst", "second-reader")
    client.force_login(first)
    pages = [client.get(gsomia.get_absolute_url()).content.decode() for _ in range(2)]
    tokens = [tokens_of(page) for page in pages]
    # The body's hx-headers and the sign-out form: one token per page, masked anew each time.
    assert [len(found) for found in tokens] == [2, 2]
    assert len(set(tokens[0])) == len(set(tokens[1])) == 1
    assert tokens[0][0] != tokens[1][0]
    assert pages[1].replace(tokens[1][0], tokens[0][0]) == pages[0]
    assert "pacts:csrf-token" not in pages[1]
    assert ">first-reader<" in pages[1]
    # Another viewer gets their own page around the same title, and a renamed one their new name.
    client.force_login(second)
    assert ">second-reader<" in client.get(gsomia.get_absolute_url()).content.decode()
    second.username = "renamed-reader"
    second.save()
    assert ">renamed-reader<" in client.get(gsomia.get_absolute_url()).content.decode()


def test_the_token_of_a_kept_page_around_a_timeline_is_accepted(client, gsomia, analyst):
    client.force_login(analyst)
    client.get(gsomia.get_absolute_url())
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    token = tokens_of(strict.get(gsomia.get_absolute_url()).content.decode())[0]
    assert strict.post(reverse("logout")).status_code == 403
    assert strict.post(reverse("logout"), {"csrfmiddlewaretoken": token}).status_code == 302


def test_a_flash_message_shows_once_on_a_timeline_whose_page_around_is_kept(reader, gsomia):
    reader.get(gsomia.get_absolute_url())
    storage = CookieStorage(RequestFactory().get("/"))
    reader.cookies[CookieStorage.cookie_name] = storage._encode([Message(constants.SUCCESS, "Saved for the test")])
    assert "Saved for the test" in reader.get(gsomia.get_absolute_url()).content.decode()
    assert "Saved for the test" not in reader.get(gsomia.get_absolute_url()).content.decode()


# --- With a cache shared by every worker (Redis in production) ----------------------


@pytest.fixture
def shared_cache(settings):
    """What REDIS_URL turns on; the tests' in-memory cache is shared, there being one process."""
    settings.PACTS_SHARED_CACHE = True
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


def signed_in(client, user):
    """Signed in long after the user was made: the marks the making left in the cache are gone."""
    cache.clear()
    client.force_login(user)  # after shared_cache, so that the session is in the cache too
    return client


def test_with_a_shared_cache_the_poll_reads_no_table(client, analyst, gsomia, shared_cache):
    reader = signed_in(client, analyst)
    url = f"{gsomia.get_absolute_url()}?since={gsomia.revision}"
    reader.get(url, headers=HTMX)  # the first one learns the revision, the user and its role
    with CaptureQueriesContext(connection) as queries:
        response = reader.get(url, headers=HTMX)
    assert response.status_code == 204
    assert len(queries) == 0


def test_with_a_shared_cache_the_304_reads_no_table(client, analyst, gsomia, shared_cache):
    reader = signed_in(client, analyst)
    etag = reader.get(gsomia.get_absolute_url())["ETag"]
    with CaptureQueriesContext(connection) as queries:
        response = reader.get(gsomia.get_absolute_url(), headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert len(queries) == 0
    assert (response["ETag"], response["Cache-Control"]) == (etag, "private, no-cache")


def test_with_a_shared_cache_a_cached_page_reads_no_table(client, analyst, gsomia, shared_cache):
    reader = signed_in(client, analyst)
    first = reader.get(f"{gsomia.get_absolute_url()}?status=occurred&lane=KR")
    assert first.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        # The same filters in another order: the same page, from the cache.
        again = reader.get(f"{gsomia.get_absolute_url()}?lane=KR&status=occurred")
    assert again.status_code == 200
    assert len(queries) == 0
    main = [response.content.decode().split('<main id="main">')[1] for response in (first, again)]
    assert main[0] == main[1]
    assert f"<title>{gsomia.short_name} · Pacts</title>" in again.content.decode()
    # The kept fragment (UTF-8 bytes) goes where the page was cut for it, and only there.
    page = again.content.decode()
    assert "pacts:timeline-body" not in page
    assert page.count('<main id="main">') == 1
    assert page.index("<header") < page.index('<ol class="lanes"') < page.index("</main>")
    assert "한일 군사정보보호협정" in page
    # Kept without the blank lines the template's tags leave.
    fragment = page[page.index('<nav class="breadcrumbs"') : page.index("</main>")].rstrip()
    assert re.search(r"\n\s*\n", fragment) is None


def test_with_a_shared_cache_a_bad_query_is_never_served_from_the_cache(client, analyst, gsomia, shared_cache):
    reader = signed_in(client, analyst)
    for _ in range(2):
        response = reader.get(f"{gsomia.get_absolute_url()}?status=bogus")
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()


def test_with_a_shared_cache_a_new_event_ends_the_204_at_once(client, analyst, gsomia, shared_cache):
    reader = signed_in(client, analyst)
    seen = gsomia.revision
    url = f"{gsomia.get_absolute_url()}?since={seen}"
    assert reader.get(url, headers=HTMX).status_code == 204
    etag = reader.get(gsomia.get_absolute_url())["ETag"]
    EventFactory(agreement=gsomia, kind="statement", lane="JP", date="2012-06-28", summary="Tokyo comments")
    response = reader.get(url, headers=HTMX)
    assert response.status_code == 200
    assert "Tokyo comments" in response.content.decode()
    assert reader.get(gsomia.get_absolute_url(), headers={"If-None-Match": etag}).status_code == 200


def test_with_a_shared_cache_a_touch_from_a_source_ends_the_204(client, analyst, gsomia, shared_cache):
    reader = signed_in(client, analyst)
    url = f"{gsomia.get_absolute_url()}?since={gsomia.revision}"
    assert reader.get(url, headers=HTMX).status_code == 204
    Agreement.objects.filter(pk=gsomia.pk).touch()  # what an edit of a cited source does
    assert reader.get(url, headers=HTMX).status_code == 200


def test_with_a_shared_cache_a_deleted_or_renamed_agreement_is_gone_at_once(client, analyst, gsomia, shared_cache):
    reader = signed_in(client, analyst)
    old = gsomia.get_absolute_url()
    url = f"{old}?since={gsomia.revision}"
    etag = reader.get(old)["ETag"]
    assert reader.get(url, headers=HTMX).status_code == 204
    gsomia.slug = "kr-jp-gsomia-2016"
    gsomia.save()
    assert reader.get(url, headers=HTMX).status_code == 404
    assert reader.get(old, headers={"If-None-Match": etag}).status_code == 404
    renamed = Agreement.objects.get(pk=gsomia.pk)
    assert reader.get(f"{renamed.get_absolute_url()}?since={renamed.revision}", headers=HTMX).status_code == 204
    renamed.delete()
    assert reader.get(f"{renamed.get_absolute_url()}?since={renamed.revision}", headers=HTMX).status_code == 404


def test_without_a_shared_cache_nothing_is_kept_across_requests(reader, gsomia, settings):
    settings.PACTS_SHARED_CACHE = False
    cache.clear()
    reader.get(f"{gsomia.get_absolute_url()}?since={gsomia.revision}", headers=HTMX)
    assert cache.get(f"agreement-revision:{gsomia.slug}") is None
