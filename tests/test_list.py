"""The agreement list: filters, sorts, cursor pages, search with highlights, fragments and query budgets."""

import re
from datetime import date

import pytest
from django.core import signing
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pacts import filters, vocabulary
from pacts.filters import CURSOR_SALT
from pacts.models import Agreement, Alias, Event
from tests.conftest import HTMX
from tests.factories import AgreementFactory, CitationFactory, EventFactory

pytestmark = pytest.mark.django_db

LIST = reverse("agreement-list")


def make_agreements(count, *, name="Pact", dated=True):
    """`count` agreements with a signature each (some undated), made in bulk; status and search document right."""
    agreements = Agreement.objects.bulk_create(
        Agreement(
            slug=f"{name.lower()}-{n}",
            title=f"Agreement on {name} {n}",
            short_name=f"{name} {n % 7}",  # names repeat, so the id breaks ties
            kind="logistics",
            party_a_id="KR",
            party_b_id="JP",
            entry_into_force="on-signature" if n % 3 else "on-notification",
        )
        for n in range(count)
    )
    Event.objects.bulk_create(
        Event(
            agreement=agreement,
            kind="signature",
            kind_position=vocabulary.KIND_POSITION["signature"],
            lane="joint",
            summary="Signed",
            external_id=f"signature-{n}",
            # Every fourth agreement has no dated event; the others share years, so dates tie.
            **({} if n % 4 == 0 or not dated else {"date": f"{2000 + n % 9}"}),
        )
        for n, agreement in enumerate(agreements)
    )
    for agreement in agreements:
        agreement.store_status()
    return agreements


def names_in(response):
    """The agreements' slugs in the order the page lists them."""
    return re.findall(r'href="/agreements/([a-z0-9-]+)/"', response.content.decode())


def cursor_of(response, rel):
    match = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return match and match.group(1).replace("&amp;", "&")


def walk(reader, first_url):
    """Follow `Next` from `first_url` to the end; the slugs of each page."""
    pages, url = [], first_url
    while url and len(pages) < 10:
        response = reader.get(url)
        assert response.status_code == 200
        pages.append(names_in(response))
        url = cursor_of(response, "next")
    return pages


def expected_order(sort):
    agreements = Agreement.objects.all()
    rank = {status: n for n, (status, _) in enumerate(vocabulary.AGREEMENT_STATUSES)}
    rows = list(agreements)
    if sort == "name":
        rows.sort(key=lambda a: a.id)
        rows.sort(key=lambda a: a.short_name)
    elif sort == "latest":
        rows.sort(key=lambda a: (a.latest_event_on is None, -(a.latest_event_on or date.min).toordinal(), -a.id))
    elif sort == "status":
        rows.sort(key=lambda a: (rank[a.status], a.short_name, a.id))
    return [a.slug for a in rows]


# --- Pages and fragments ----------------------------------------------------------


def test_a_plain_request_gets_the_whole_page_with_filters_and_results(reader, gsomia):
    response = reader.get(LIST)
    content = response.content.decode()
    assert response.status_code == 200
    assert content.startswith("<!doctype html>")
    assert '<form id="filters"' in content
    assert 'id="results"' in content
    assert response["Vary"].count("HX-Request") == 1


def test_an_htmx_request_gets_only_the_results(reader, gsomia):
    response = reader.get(f"{LIST}?party=KR", headers=HTMX)
    content = response.content.decode().lstrip()
    assert content.startswith('<section id="results"')
    assert "<form" not in content
    assert "Korea–Japan GSOMIA" in content
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("header", ["HX-Boosted", "HX-History-Restore-Request"])
def test_boosts_and_history_restores_get_the_whole_page(reader, gsomia, header):
    response = reader.get(f"{LIST}?party=KR", headers={**HTMX, header: "true"})
    assert response.content.startswith(b"<!doctype html>")


def test_the_filter_form_updates_the_results_in_place_and_the_address(reader, gsomia):
    content = reader.get(LIST).content.decode()
    form = content[content.index('<form id="filters"') : content.index(">", content.index('<form id="filters"'))]
    assert 'method="get"' in form
    assert 'hx-target="#results"' in form
    assert 'hx-push-url="true"' in form


def test_filters_select_agreements_and_are_kept_in_the_form(reader, gsomia):
    AgreementFactory(slug="jp-au-raa", short_name="Japan–Australia RAA", party_a_id="JP", party_b_id="AU")
    response = reader.get(f"{LIST}?party=AU&kind=intelligence-sharing")
    assert names_in(response) == ["jp-au-raa"]
    content = response.content.decode()
    assert '<option value="AU" selected>Australia</option>' in content
    assert re.search(r'<input type="checkbox" name="kind" value="intelligence-sharing"[^>]*checked', content)


def test_the_filter_form_as_a_browser_sends_it_selects_everything(reader, gsomia):
    response = reader.get(f"{LIST}?q=&sort=name&party=&year_from=&year_to=", headers=HTMX)
    assert response.status_code == 200
    assert set(names_in(response)) == {"kr-jp-gsomia", "kr-jp-acsa"}


def test_the_results_link_to_the_exports_with_the_same_filters(reader, gsomia):
    content = reader.get(f"{LIST}?party=KR&status=in-force").content.decode()
    assert f'href="{reverse("export-agreements")}?party=KR&amp;status=in-force"' in content
    assert f'href="{reverse("export-events")}?party=KR&amp;status=in-force"' in content


def test_the_list_needs_read_access(client, make_user, gsomia):
    assert client.get(LIST).status_code == 302
    client.force_login(make_user())
    assert client.get(LIST).status_code == 403


# --- Bad input ----------------------------------------------------------------------


def test_invalid_filters_answer_400_with_the_error_beside_the_field(reader, gsomia):
    response = reader.get(f"{LIST}?year_from=2020&year_to=2010")
    assert response.status_code == 400
    content = response.content.decode()
    field = content[content.index('id="id_year_to"') :]
    errors = field.index('<ul class="errors" id="id_year_to_errors"><li>“To year” cannot be before “From year”.</li>')
    assert errors < field.index("</fieldset>")


@pytest.mark.parametrize(
    "query",
    ["q=a%00b", "party=K%00R", "sort=name%00", "sort=alphabet", "q=" + "x" * 201, "year_from=1066", "after=%00"],
)
def test_bad_query_parameters_answer_400_not_500(reader, gsomia, query):
    assert reader.get(f"{LIST}?{query}").status_code == 400


def test_a_nul_character_in_the_search_is_refused_with_a_message(reader, gsomia):
    content = reader.get(f"{LIST}?q=gsomia%00").content.decode()
    assert "Null characters are not allowed." in content


def test_a_forged_cursor_answers_400_with_a_message(reader, gsomia):
    forged = signing.dumps({"sort": "name", "key": ["A", 1]}, salt="another salt")
    response = reader.get(f"{LIST}?after={forged}")
    assert response.status_code == 400
    assert "This page link is not valid" in response.content.decode()


def test_a_cut_short_cursor_answers_400(reader, gsomia):
    cursor = signing.dumps({"sort": "name", "key": ["A", 1]}, salt=CURSOR_SALT, compress=True)
    assert reader.get(f"{LIST}?after={cursor}").status_code == 200
    assert reader.get(f"{LIST}?after={cursor[:-3]}").status_code == 400


def test_a_cursor_of_another_sort_answers_400(reader, gsomia):
    cursor = signing.dumps({"sort": "name", "key": ["A", 1]}, salt=CURSOR_SALT, compress=True)
    response = reader.get(f"{LIST}?sort=latest&after={cursor}")
    assert response.status_code == 400
    assert "belongs to another sort order" in response.content.decode()


def test_a_signed_cursor_with_a_value_of_the_wrong_type_answers_400(reader, gsomia):
    cursor = signing.dumps({"sort": "latest", "key": ["not a date", 1]}, salt=CURSOR_SALT, compress=True)
    assert reader.get(f"{LIST}?sort=latest&after={cursor}").status_code == 400


def test_asking_for_after_and_before_at_once_answers_400(reader, gsomia):
    cursor = signing.dumps({"sort": "name", "key": ["A", 1]}, salt=CURSOR_SALT, compress=True)
    assert reader.get(f"{LIST}?after={cursor}&before={cursor}").status_code == 400


# --- Sorting and cursor pages -----------------------------------------------------


@pytest.mark.parametrize("sort", ["name", "latest", "status"])
def test_next_pages_list_every_agreement_once_in_the_sort_order(reader, sort):
    make_agreements(130)
    pages = walk(reader, f"{LIST}?sort={sort}")
    assert [len(page) for page in pages] == [50, 50, 30]
    assert sum(pages, []) == expected_order(sort)


@pytest.mark.parametrize("sort", ["name", "latest", "status"])
def test_previous_pages_lead_back_through_the_same_pages(reader, sort):
    make_agreements(130)
    forward = walk(reader, f"{LIST}?sort={sort}")
    url, backward = cursor_of(reader.get(f"{LIST}?sort={sort}"), "next"), []
    last = reader.get(cursor_of(reader.get(url), "next"))
    url = cursor_of(last, "prev")
    while url and len(backward) < 10:
        response = reader.get(url)
        backward.insert(0, names_in(response))
        url = cursor_of(response, "prev")
    assert backward == forward[:-1]


def test_the_first_page_has_no_previous_link_and_the_last_no_next(reader):
    make_agreements(60)
    first = reader.get(LIST)
    assert cursor_of(first, "prev") is None
    last = reader.get(cursor_of(first, "next"))
    assert cursor_of(last, "next") is None
    assert names_in(last) == expected_order("name")[50:]


def test_a_cursor_page_loaded_directly_is_the_page_htmx_showed(reader):
    make_agreements(60)
    url = cursor_of(reader.get(f"{LIST}?sort=latest"), "next")
    assert names_in(reader.get(url, headers=HTMX)) == names_in(reader.get(url))


def test_latest_event_puts_undated_agreements_last(reader):
    make_agreements(8)
    slugs = names_in(reader.get(f"{LIST}?sort=latest"))
    undated = {a.slug for a in Agreement.objects.filter(latest_event_on__isnull=True)}
    assert set(slugs[-len(undated) :]) == undated


def test_status_sort_follows_the_lifecycle_not_the_alphabet(reader):
    AgreementFactory(slug="signed", short_name="A signed one").events.create(
        kind="signature", lane="joint", date="2016"
    )
    AgreementFactory(slug="proposed", short_name="Z proposed one")
    assert names_in(reader.get(f"{LIST}?sort=status")) == ["proposed", "signed"]


def test_the_count_is_exact_up_to_the_limit_then_says_so(reader, monkeypatch):
    make_agreements(5)
    assert "<strong>5</strong>\n      agreements" in reader.get(LIST).content.decode()
    monkeypatch.setattr(filters, "COUNT_LIMIT", 4)
    cache.clear()  # as a release would: pages drawn under the old limit are kept per data version
    assert "<strong>1,000+</strong>" in reader.get(LIST).content.decode()


# --- Search -------------------------------------------------------------------------


def test_a_search_is_sorted_by_relevance_by_default(reader):
    AgreementFactory(title="Submarine cooperation agreement", slug="subs", short_name="Subs")
    in_quote = AgreementFactory(title="Logistics agreement", slug="logistics", short_name="Aaa logistics")
    CitationFactory(event=EventFactory(agreement=in_quote), quote="They also discussed a submarine.")
    response = reader.get(f"{LIST}?q=submarine")
    assert names_in(response) == ["subs", "logistics"]
    assert "sorted by relevance" in response.content.decode()


def test_relevance_without_a_search_sorts_by_name(reader):
    AgreementFactory(slug="b", short_name="B")
    AgreementFactory(slug="a", short_name="A")
    response = reader.get(f"{LIST}?sort=relevance")
    assert names_in(response) == ["a", "b"]
    assert "sorted by name" in response.content.decode()


def test_relevance_is_ranked_among_the_newest_matches_only(reader, monkeypatch):
    strong = AgreementFactory(slug="old", title="Submarine submarine submarine")
    EventFactory(agreement=strong, date="1990")
    for n, year in enumerate(["2010", "2020"]):
        EventFactory(agreement=AgreementFactory(slug=f"new-{n}", summary="A submarine"), date=year)
    assert names_in(reader.get(f"{LIST}?q=submarine"))[0] == "old"
    monkeypatch.setattr(filters, "RANKED_MATCHES", 2)
    cache.clear()  # as a release would: pages drawn under the old bound are kept per data version
    response = reader.get(f"{LIST}?q=submarine")
    assert names_in(response) == ["new-1", "new-0"]  # equally relevant: the newer id first
    assert "relevance ranks the 2 newest matches; sort by latest event" in response.content.decode()
    assert names_in(reader.get(f"{LIST}?q=submarine&sort=latest")) == ["new-1", "new-0", "old"]


def test_a_common_word_is_counted_and_ranked_within_bounds(reader, monkeypatch, django_assert_num_queries):
    for n in range(6):
        EventFactory(agreement=AgreementFactory(slug=f"sub-{n}", summary="A submarine"), date=f"20{10 + n}")
    AgreementFactory(slug="other", summary="A frigate")
    monkeypatch.setattr(filters, "COUNT_LIMIT", 3)
    monkeypatch.setattr(filters, "RANKED_MATCHES", 4)
    with django_assert_num_queries(BUDGETS["search"]):
        response = reader.get(f"{LIST}?q=submarine")
    content = response.content.decode()
    assert "<strong>1,000+</strong>" in content
    assert sorted(names_in(response)) == ["sub-2", "sub-3", "sub-4", "sub-5"]  # the four newest, ranked
    # Other orders list every match, walking the matches the way they walk the list.
    for sort in ("name", "latest", "status"):
        assert len(names_in(reader.get(f"{LIST}?q=submarine&sort={sort}"))) == 6


def test_an_alias_match_counts_among_the_newest_matches(reader, gsomia, monkeypatch):
    Alias.objects.create(agreement=gsomia, title="한일군사정보보호협정", language="ko")
    EventFactory(agreement=gsomia, date="2030")
    for n in range(3):
        EventFactory(agreement=AgreementFactory(slug=f"old-{n}", summary="군사정보 older"), date="1990")
    monkeypatch.setattr(filters, "RANKED_MATCHES", 2)
    # The newest two: the alias match (whose document does not rank it) and the newest document match.
    assert names_in(reader.get(f"{LIST}?q=군사정보")) == ["old-2", "kr-jp-gsomia"]


def test_relevance_pages_follow_each_other(reader):
    make_agreements(70, name="Submarine")
    pages = walk(reader, f"{LIST}?q=submarine")
    assert [len(page) for page in pages] == [50, 20]
    assert len(set(sum(pages, []))) == 70


def test_matched_words_are_marked_and_everything_else_escaped(reader):
    AgreementFactory(slug="subs", short_name="<b>Submarine</b> pact", summary="Two <i>submarines</i> & more.")
    content = reader.get(f"{LIST}?q=submarine").content.decode()
    assert "&lt;b&gt;<mark>Submarine</mark>&lt;/b&gt; pact" in content
    assert re.search(r"Two\s+<mark>submarines</mark>\s+&amp; more", content)
    assert "<b>" not in content
    assert "<i>" not in content


def test_a_korean_substring_finds_the_alias_and_marks_it(reader, gsomia):
    Alias.objects.create(agreement=gsomia, title="한일군사정보보호협정", language="ko")
    content = reader.get(f"{LIST}?q=군사정보").content.decode()
    assert names_in(reader.get(f"{LIST}?q=군사정보")) == ["kr-jp-gsomia"]
    assert '<span lang="ko" dir="auto">한일<mark>군사정보</mark>보호협정</span>' in content


def test_kept_matches_follow_every_change(reader, gsomia):
    assert names_in(reader.get(f"{LIST}?q=submarine")) == []
    AgreementFactory(slug="subs", summary="A submarine")
    assert names_in(reader.get(f"{LIST}?q=submarine")) == ["subs"]
    EventFactory(agreement=gsomia, summary="Submarine patrols", date="2020")
    assert sorted(names_in(reader.get(f"{LIST}?q=submarine"))) == ["kr-jp-gsomia", "subs"]


def test_filters_on_the_agreement_itself_need_no_distinct(reader):
    make_agreements(3)
    with CaptureQueriesContext(connection) as queries:
        response = reader.get(f"{LIST}?party=JP&kind=logistics&kind=intelligence-sharing&status=signed")
    assert response.status_code == 200
    assert not [query for query in queries if "DISTINCT" in query["sql"]]


def test_a_search_that_finds_nothing_says_so(reader, gsomia):
    assert "No agreements match these filters." in reader.get(f"{LIST}?q=zeppelin").content.decode()


# --- Query budgets ------------------------------------------------------------------

# session, user, groups; the count; the page. A search finds its newest matches (kept per data
# version, so it reads the version too), then the page, its aliases and headlines.
BUDGETS = {"first page": 6, "filtered": 6, "by cursor": 6, "search": 9}


@pytest.mark.parametrize("size", [3, 300])
@pytest.mark.parametrize("case", list(BUDGETS))
def test_the_list_runs_the_same_number_of_queries_whatever_the_size(reader, django_assert_num_queries, size, case):
    make_agreements(size)
    Alias.objects.create(agreement=Agreement.objects.first(), title="다른 이름", language="ko")
    url = {
        "first page": f"{LIST}?sort=latest",
        "filtered": f"{LIST}?party=JP&status=signed&status=in-force&year_from=2001&sort=status",
        "by cursor": f"{LIST}?sort=name&after="
        + signing.dumps({"sort": "name", "key": ["Pact 1", 1]}, salt=CURSOR_SALT, compress=True),
        "search": f"{LIST}?q=pact",
    }[case]
    with django_assert_num_queries(BUDGETS[case]):
        response = reader.get(url)
    assert response.status_code == 200
    assert names_in(response)
    with django_assert_num_queries(4):  # session, user, groups, data version: the page comes from the cache
        assert names_in(reader.get(url)) == names_in(response)


# --- The drawn page, kept per data version -----------------------------------------------


def test_the_drawn_page_is_shared_by_every_reader_until_the_data_changes(
    client, analyst, editor, django_assert_num_queries
):
    make_agreements(3)
    url = f"{LIST}?q=pact&sort=name"
    client.force_login(analyst)
    first = client.get(url).content.decode()
    client.force_login(editor)
    with django_assert_num_queries(4):  # session, user, groups, data version
        again = client.get(url).content.decode()
    main = [page.split('<main id="main">')[1] for page in (first, again)]
    assert main[0] == main[1]
    assert 'href="/agreements/pact-0/"' in again
    fragment = client.get(url, headers=HTMX).content.decode()
    assert fragment.lstrip().startswith('<section id="results"')  # the fragment is kept apart from the page
    AgreementFactory(slug="pact-new", title="Pact newly signed")  # a new data version
    assert "pact-new" in names_in(client.get(url))
    assert "pact-new" in names_in(client.get(url, headers=HTMX))


def test_a_deleted_agreement_leaves_the_kept_page_at_once(reader):
    make_agreements(3)
    url = f"{LIST}?sort=name"
    assert "pact-1" in names_in(reader.get(url))
    # A deletion stores no changed_at anywhere: the version sees it through the history row.
    Agreement.objects.get(slug="pact-1").delete()
    assert "pact-1" not in names_in(reader.get(url))
    assert "pact-1" not in names_in(reader.get(url, headers=HTMX))


def test_a_bad_query_is_answered_400_every_time_and_never_kept(reader):
    make_agreements(2)
    for _ in range(2):
        response = reader.get(f"{LIST}?sort=sideways")
        assert response.status_code == 400
        assert "Sort by:" in response.content.decode()
        fragment = reader.get(f"{LIST}?sort=sideways", headers=HTMX)
        assert fragment.status_code == 400
        assert fragment.content.decode().lstrip().startswith('<section id="results"')
