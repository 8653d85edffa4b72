"""The sources: a searchable, filterable list, and one source with what cites it and its story's versions."""

import pytest
from django.test import override_settings
from django.urls import reverse

from pacts.models import Citation, Source
from pacts.views.sources import headline_diff, version_number
from tests.conftest import HTMX
from tests.factories import AgreementFactory, CitationFactory, EventFactory, PublisherFactory, SourceFactory

pytestmark = pytest.mark.django_db


def source_url(source):
    return reverse("source-detail", args=[source.key])


def listed_keys(response):
    return [source.key for source in response.context["page"]]


@pytest.fixture
def library(db):
    yonhap = PublisherFactory(name="Yonhap News Agency", reliability="high")
    asahi = PublisherFactory(name="The Asahi Shimbun", reliability="high")
    return {
        "accord": SourceFactory(key="yonhap-accord", publisher=yonhap, headline="Seoul, Tokyo to sign military accord"),
        "cabinet": SourceFactory(
            key="asahi-cabinet", publisher=asahi, headline="閣議決定", language="ja", kind="official-record"
        ),
        "delay": SourceFactory(key="asahi-delay", publisher=asahi, headline="Signing delayed", published="2012-06-29"),
    }


def test_the_list_shows_every_source_newest_first(reader, library):
    response = reader.get(reverse("source-list"))
    assert response.status_code == 200
    assert listed_keys(response) == ["asahi-delay", "asahi-cabinet", "yonhap-accord"]
    content = response.content.decode()
    assert f'href="{source_url(library["cabinet"])}" lang="ja"' in content
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("military", ["yonhap-accord"]),  # headline
        ("asahi-del", ["asahi-delay"]),  # key
        ("yonhap news", ["yonhap-accord"]),  # publisher
        ("nothing like it", []),
    ],
)
def test_the_list_searches_headline_key_and_publisher(reader, library, q, expected):
    assert listed_keys(reader.get(reverse("source-list"), {"q": q})) == expected


def test_the_list_filters_by_publisher_language_and_kind(reader, library):
    asahi = library["cabinet"].publisher
    url = reverse("source-list")
    assert listed_keys(reader.get(url, {"publisher": asahi.pk})) == ["asahi-delay", "asahi-cabinet"]
    assert listed_keys(reader.get(url, {"language": "ja"})) == ["asahi-cabinet"]
    assert listed_keys(reader.get(url, {"kind": "news"})) == ["asahi-delay", "yonhap-accord"]
    assert listed_keys(reader.get(url, {"publisher": asahi.pk, "kind": "news"})) == ["asahi-delay"]


@pytest.mark.parametrize(
    "query",
    [{"q": "x" * 201}, {"q": "a\x00b"}, {"kind": "rumour"}, {"publisher": "999999"}, {"language": "xx"}, {"page": "0"}],
)
def test_invalid_filters_answer_400_with_a_message(reader, library, query):
    response = reader.get(reverse("source-list"), query)
    assert response.status_code == 400
    assert "Some of the filters in this address are not valid" in response.content.decode()


def test_the_list_pages_by_fifty(reader, db):
    SourceFactory.create_batch(51, published="2012-06-27")
    first = reader.get(reverse("source-list"))
    assert len(first.context["page"]) == 50
    assert 'rel="next" href="?page=2"' in first.content.decode()
    second = reader.get(reverse("source-list"), {"page": 2})
    assert len(second.context["page"]) == 1
    assert set(listed_keys(first)).isdisjoint(listed_keys(second))


def test_the_list_counts_what_matches(reader, library):
    assert "1 source matches these filters." in reader.get(reverse("source-list"), {"q": "military"}).content.decode()
    assert "2 sources match these filters." in reader.get(reverse("source-list"), {"q": "asahi"}).content.decode()
    assert "3 sources." in reader.get(reverse("source-list")).content.decode()


def test_the_pages_keep_the_filters(reader, db):
    SourceFactory.create_batch(51, language="ko")
    content = reader.get(reverse("source-list"), {"language": "ko"}).content.decode()
    assert 'href="?language=ko&amp;page=2"' in content


def test_an_htmx_request_gets_only_the_results(reader, library):
    response = reader.get(reverse("source-list"), {"q": "military"}, headers=HTMX)
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="results">')
    assert "Seoul, Tokyo to sign military accord" in content


def test_reading_sources_needs_sign_in(client, library):
    for url in (reverse("source-list"), source_url(library["accord"])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@override_settings(PACTS_PUBLIC_READ=True)
def test_anyone_reads_sources_when_public_reading_is_on(client, library):
    assert client.get(reverse("source-list")).status_code == 200
    assert client.get(source_url(library["accord"])).status_code == 200


def test_the_editors_source_search_still_answers_at_its_own_address(client, editor, library):
    client.force_login(editor)
    response = client.get(reverse("source-search"), {"q": "military"})
    assert response.status_code == 200
    assert 'name="source" value="yonhap-accord"' in response.content.decode()


def test_the_detail_shows_the_source_with_its_publisher_rating(reader, db):
    source = SourceFactory(
        key="mofa-ja",
        publisher=PublisherFactory(name="Ministry of Foreign Affairs of Japan", reliability="medium"),
        headline="日韓秘密軍事情報保護協定",
        url="https://www.mofa.go.jp/press/2016/11/23.html",
        published="2016-11-23T15:00:00+09:00",
        language="ja",
        dateline="TOKYO",
        version="2nd LD",
    )
    content = reader.get(source_url(source)).content.decode()
    assert (
        '<h1 lang="ja" dir="auto"><a href="https://www.mofa.go.jp/press/2016/11/23.html" '
        'rel="noopener noreferrer nofollow">日韓秘密軍事情報保護協定</a></h1>'
    ) in content
    assert "Ministry of Foreign Affairs of Japan" in content
    assert '<span class="reliability reliability-medium" title="Publisher reliability">Medium</span>' in content
    assert '<time datetime="2016-11-23T15:00:00+09:00">23 November 2016, 15:00 +09:00</time>' in content
    assert '<dd dir="auto">TOKYO</dd>' in content
    assert '<dd dir="auto">2nd LD</dd>' in content


def test_a_headline_without_address_is_not_a_link(reader, library):
    content = reader.get(source_url(library["accord"])).content.decode()
    assert '<h1 lang="en" dir="auto">Seoul, Tokyo to sign military accord</h1>' in content


def test_an_unknown_key_is_not_found(reader, db):
    assert reader.get(reverse("source-detail", args=["no-such-source"])).status_code == 404


def test_the_detail_lists_what_cites_it_with_links_to_the_timeline(reader, library):
    source = library["accord"]
    agreement = AgreementFactory(short_name="Korea–Japan GSOMIA")
    event = EventFactory(agreement=agreement, kind="cabinet-approval", date="2012-06-26", summary="Cabinet approves")
    CitationFactory(event=event, source=source, stance="contradicts", quote="the cabinet did not vote", note="26 Oct")
    Citation.objects.create(agreement=agreement, source=source, quote="the pact as a whole")
    content = reader.get(source_url(source)).content.decode()
    assert f'<a href="{agreement.get_absolute_url()}#event-{event.pk}">Cabinet approval, ' in content
    assert '<time datetime="2012-06-26">26 June 2012</time>' in content
    assert '<span class="stance">Contradicts</span>' in content
    assert "Cabinet approves" in content
    assert "“the cabinet did not vote”" in content
    assert 'Note: <span dir="auto">26 Oct</span>' in content
    assert f'<a href="{agreement.get_absolute_url()}" dir="auto">Korea–Japan GSOMIA</a></h3>' in content
    assert f'<a href="{agreement.get_absolute_url()}">The agreement as a whole</a>' in content
    assert "Nothing cites this source yet" not in content


def test_the_citations_are_grouped_by_agreement_its_own_first_then_its_events_by_date(reader, library):
    source = library["accord"]
    acsa, gsomia = AgreementFactory(short_name="Korea–Japan ACSA"), AgreementFactory(short_name="Korea–Japan GSOMIA")
    for agreement in (gsomia, acsa):
        later = EventFactory(agreement=agreement, kind="signature", lane="joint", date="2016-11-23")
        earlier = EventFactory(agreement=agreement, kind="negotiation-opened", lane="joint", date="2011")
        CitationFactory(event=later, source=source)
        CitationFactory(event=earlier, source=source)
    Citation.objects.create(agreement=gsomia, source=source)
    content = reader.get(source_url(source)).content.decode()
    order = [
        ">Korea–Japan ACSA</a></h3>",
        "Negotiation opened, ",
        "Signature, ",
        ">Korea–Japan GSOMIA</a></h3>",
        "The agreement as a whole",
        "Negotiation opened, ",
        "Signature, ",
    ]
    positions, start = [], 0
    for text in order:
        start = content.index(text, start)
        positions.append(start)
    assert positions == sorted(positions)


def test_the_story_versions_run_in_order_with_what_changed(reader, db):
    yonhap = PublisherFactory(name="Yonhap News Agency")
    story = {"publisher": yonhap, "story": "yonhap-gsomia", "published": "2012-06-27"}
    third = SourceFactory(
        key="v3", version="3rd LD", headline="S. Korea, Japan to sign first military accord soon", **story
    )
    tenth = SourceFactory(key="v10", version="10th LD", headline="S. Korea, Japan postpone military accord", **story)
    first = SourceFactory(key="v1", version="", headline="S. Korea, Japan to sign military accord", **story)
    second = SourceFactory(key="v2", version="2nd LD", headline="S. Korea, Japan to sign military accord", **story)
    next_day = SourceFactory(
        key="v0", version="1st LD", headline="Accord signing delayed", **story | {"published": "2012-06-28"}
    )
    SourceFactory(key="other-story", story="another", headline="Unrelated")

    response = reader.get(source_url(third))
    versions = response.context["versions"]
    assert [v.source.key for v in versions] == [first.key, second.key, third.key, tenth.key, next_day.key]
    content = response.content.decode()
    section = content[content.index('<ol class="story-versions">') :]
    assert 'class="current" aria-current="page"' in section
    assert f'<a href="{source_url(tenth)}">S. Korea, Japan postpone military accord</a>' in section
    assert "Same headline as the version before." in section
    assert "to sign <ins>first</ins> military accord <ins>soon</ins>" in section
    assert "<del>to sign first</del> <ins>postpone</ins> military accord <del>soon</del>" in section
    assert "Unrelated" not in section


def test_a_source_without_a_story_shows_no_versions(reader, library):
    assert "Versions of this story" not in reader.get(source_url(library["accord"])).content.decode()


def test_the_headline_diff_is_escaped(reader, db):
    story = {"story": "tricky", "published": "2012-06-27"}
    SourceFactory(key="plain", version="", headline="Accord signed", **story)
    later = SourceFactory(key="script", version="2nd LD", headline="Accord <script>alert(1)</script> signed", **story)
    content = reader.get(source_url(later)).content.decode()
    assert "<script>alert(1)" not in content
    assert "<ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>" in content


def test_the_headline_diff_works_word_by_word():
    assert headline_diff("Seoul to sign pact", "Seoul delays pact") == [
        ("equal", "Seoul"),
        ("delete", "to sign"),
        ("insert", "delays"),
        ("equal", "pact"),
    ]


@pytest.mark.parametrize(("label", "number"), [("", 0), ("LEAD", 0), ("1st LD", 1), ("3rd LD", 3), ("10th LD", 10)])
def test_versions_sort_by_their_leading_number(label, number):
    assert version_number(label) == number


@pytest.mark.parametrize(
    ("published", "label"),
    [(None, "date unknown"), ("2011", "2011"), ("2012-06", "June 2012"), ("2012-06-27", "27 June 2012")],
)
def test_publication_dates_read_at_their_precision(published, label):
    assert Source(published=published).published_display == label


@pytest.mark.parametrize("n", [3, 300])
def test_the_source_list_query_count_is_flat(reader, django_assert_num_queries, n):
    publishers = PublisherFactory.create_batch(3)
    for i in range(n):
        CitationFactory(source=SourceFactory(publisher=publishers[i % 3]))
    # session, user, groups; the form's languages; the page's count and rows; the publisher select
    with django_assert_num_queries(7):
        response = reader.get(reverse("source-list"), {"q": "report", "kind": "news"})
    assert response.status_code == 200
    assert len(response.context["page"]) == min(n, 50)


@pytest.mark.parametrize("n", [3, 300])
def test_the_source_detail_query_count_is_flat(reader, django_assert_num_queries, n):
    source = SourceFactory(story="long-story", version="1st LD")
    for i in range(n):
        event = EventFactory()
        CitationFactory(source=source, event=event)
        Citation.objects.create(source=source, agreement=event.agreement)
        SourceFactory(story="long-story", version=f"{i + 2}th LD")
    # session, user, groups; the source; its citations; its story's versions
    with django_assert_num_queries(6):
        response = reader.get(source_url(source))
    assert response.status_code == 200
    assert response.content.decode().count('<span class="stance">') == 2 * n
