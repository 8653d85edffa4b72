"""Keeping sources tidy: editors correct them; admins merge duplicates, link versions, find what no one cites."""

import pytest
from django.urls import reverse

from pacts.models import Agreement, Citation, Source
from tests.factories import CitationFactory, EventFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def duplicates(db):
    """Two records of one report; an event cites both, another event only the duplicate."""
    kept, duplicate = SourceFactory(key="yonhap-kept"), SourceFactory(key="yonhap-dup")
    both = EventFactory()
    CitationFactory(source=kept, event=both, quote="short")
    CitationFactory(source=duplicate, event=both, quote="the longer quote, which stays")
    only = EventFactory(agreement=both.agreement)
    CitationFactory(source=duplicate, event=only, quote="")
    return kept, duplicate, both, only


def source_data(source, **changes):
    data = {
        "publisher_name": source.publisher.name,
        "headline": source.headline,
        "published": source.published or "",
        "url": source.url or "",
        "version": source.version,
        "story": source.story,
        "dateline": source.dateline,
        "language": source.language,
        "kind": source.kind,
        "row_version": source.row_version,
    }
    return {**data, **changes}


def test_an_editor_corrects_a_headline_and_the_key_stays(client, editor):
    source = SourceFactory(key="kyodo-2012")
    client.force_login(editor)
    data = source_data(source, headline="Japan cabinet OKs pact", reason="typo in the headline")
    response = client.post(reverse("source-edit", args=[source.key]), data)
    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.key, source.headline) == ("kyodo-2012", "Japan cabinet OKs pact")
    entry = source.history.first()
    assert (entry.history_user, entry.history_change_reason) == (editor, "typo in the headline")


def test_a_stale_source_edit_answers_409(client, editor):
    source = SourceFactory()
    data = source_data(source, headline="Mine")
    Source.objects.get(pk=source.pk).save()  # someone else saved meanwhile
    client.force_login(editor)
    response = client.post(reverse("source-edit", args=[source.key]), data)
    assert response.status_code == 409
    assert Source.objects.get(pk=source.pk).headline != "Mine"


def test_an_edit_that_duplicates_another_source_is_a_clear_422(client, editor):
    first = SourceFactory(url="https://example.com/a")
    second = SourceFactory(url="https://example.com/b")
    client.force_login(editor)
    response = client.post(reverse("source-edit", args=[second.key]), source_data(second, url="https://example.com/a"))
    assert response.status_code == 422
    assert "Another source already has this address and version." in response.content.decode()
    second.refresh_from_db()
    assert second.url == "https://example.com/b"
    assert first.url == "https://example.com/a"


def test_editors_cannot_merge_or_link(client, editor, duplicates):
    kept, duplicate, *_ = duplicates
    client.force_login(editor)
    merge = {"into": kept.key, "confirm": "merge"}
    assert client.post(reverse("source-merge", args=[duplicate.key]), merge).status_code == 403
    link = {"keys": kept.key}
    assert client.post(reverse("source-versions", args=[duplicate.key]), link).status_code == 403
    assert Source.objects.filter(key=duplicate.key).exists()
    assert Source.objects.get(key=kept.key).story == ""


def test_the_merge_preview_says_what_happens_to_each_citation_and_changes_nothing(client, admin_user, duplicates):
    kept, duplicate, *_ = duplicates
    client.force_login(admin_user)
    response = client.post(reverse("source-merge", args=[duplicate.key]), {"into": kept.key})
    assert response.status_code == 200
    outcomes = sorted(outcome for _, outcome in response.context["moves"])
    assert outcomes == ["kept", "moves"]
    assert Citation.objects.filter(source=duplicate).count() == 2


def test_an_admin_merges_a_duplicate_keeping_the_longer_quote(client, admin_user, duplicates):
    kept, duplicate, both, only = duplicates
    revision = Agreement.objects.get(pk=both.agreement_id).revision
    client.force_login(admin_user)
    response = client.post(reverse("source-merge", args=[duplicate.key]), {"into": kept.key, "confirm": "merge"})
    assert response.status_code == 302
    assert response["Location"] == kept.get_absolute_url()
    assert not Source.objects.filter(key="yonhap-dup").exists()
    assert [c.quote for c in both.citations.all()] == ["the longer quote, which stays"]
    assert both.citations.get().source == kept
    assert only.citations.get().source == kept
    # The dropped citation and the deleted source are in the history, by the admin, for an undo.
    dropped = Citation.history.filter(history_type="-", quote="short").get()
    assert dropped.history_user == admin_user
    assert "merged yonhap-dup into yonhap-kept" in dropped.history_change_reason
    assert Source.history.filter(history_type="-", key="yonhap-dup").exists()
    assert Agreement.objects.get(pk=both.agreement_id).revision > revision


@pytest.mark.parametrize("into", ["yonhap-dup", "no-such-source", ""])
def test_a_bad_merge_target_is_a_422_and_changes_nothing(client, admin_user, duplicates, into):
    client.force_login(admin_user)
    response = client.post(reverse("source-merge", args=["yonhap-dup"]), {"into": into, "confirm": "merge"})
    assert response.status_code == 422
    assert response.context["form"].errors["into"]
    assert Citation.objects.filter(source__key="yonhap-dup").count() == 2


def test_an_admin_links_versions_into_one_story(client, admin_user):
    first = SourceFactory(key="yonhap-1", version="")
    later = [SourceFactory(key="yonhap-2", version="2nd LD"), SourceFactory(key="yonhap-3", version="3rd LD")]
    client.force_login(admin_user)
    response = client.post(reverse("source-versions", args=[first.key]), {"keys": "yonhap-2\nyonhap-3 yonhap-2"})
    assert response.status_code == 302
    assert set(Source.objects.values_list("story", flat=True)) == {"yonhap-1"}
    page = client.get(first.get_absolute_url()).content.decode()
    for source in later:
        assert reverse("source-detail", args=[source.key]) in page


def test_linking_unknown_keys_names_them(client, admin_user):
    source = SourceFactory()
    client.force_login(admin_user)
    response = client.post(reverse("source-versions", args=[source.key]), {"keys": "nope-1 nope-2"})
    assert response.status_code == 422
    assert "nope-1, nope-2" in response.content.decode()


def test_the_source_list_finds_sources_no_one_cites(reader, duplicates):
    lonely = SourceFactory(key="lonely")
    response = reader.get(reverse("source-list"), {"cited": "no"})
    assert [source.key for source in response.context["page"]] == [lonely.key]
    cited = reader.get(reverse("source-list"), {"cited": "yes"})
    assert {source.key for source in cited.context["page"]} == {"yonhap-kept", "yonhap-dup"}


def test_only_admins_see_the_merge_and_link_actions(client, editor, admin_user):
    source = SourceFactory()
    client.force_login(editor)
    page = client.get(source.get_absolute_url()).content.decode()
    assert reverse("source-edit", args=[source.key]) in page
    assert reverse("source-merge", args=[source.key]) not in page
    client.force_login(admin_user)
    assert reverse("source-merge", args=[source.key]) in client.get(source.get_absolute_url()).content.decode()


def test_the_merge_page_suggests_the_same_report(client, admin_user):
    source = SourceFactory(key="one", headline="Seoul signs the pact")
    twin = SourceFactory(key="two", headline="Seoul  signs the PACT")
    SourceFactory(key="unrelated", headline="Something else", published="2001")
    client.force_login(admin_user)
    response = client.get(reverse("source-merge", args=[source.key]))
    assert [candidate.key for candidate in response.context["candidates"]] == [twin.key]
    preview = client.get(reverse("source-merge", args=[source.key]), {"into": twin.key})
    assert preview.context["survivor"] == twin
