"""Editors change agreements, events and citations; everyone else cannot."""

import pytest
from django.urls import reverse

from pacts.models import Agreement, Citation, Event, Source
from tests.conftest import HTMX
from tests.factories import AgreementFactory, EventFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_editor(client, editor):
    client.force_login(editor)
    return client


def event_data(**changes):
    data = {
        "kind": "cabinet-approval",
        "lane": "JP",
        "status": "occurred",
        "date": "2016-11-22",
        "confidence": "high",
        "summary": "Japan's cabinet approves the pact",
        "body": "Cabinet",
        "actors": "Shinzo Abe\n",
        "notes": "",
    }
    return {**data, **changes}


def url(name, agreement, *args):
    return reverse(name, args=[agreement.slug, *args])


def test_an_editor_adds_an_event_and_the_page_is_told_to_refresh(as_editor, gsomia, editor):
    response = as_editor.post(url("event-new", gsomia), event_data(), headers=HTMX)
    assert response.status_code == 200
    assert "event-saved" in response["HX-Trigger"]
    event = gsomia.events.get(summary="Japan's cabinet approves the pact")
    assert event.actors == ["Shinzo Abe"]
    assert event.history.get().history_user == editor
    assert Agreement.objects.get(pk=gsomia.pk).revision > gsomia.revision


def test_without_javascript_a_saved_event_leads_back_to_it(as_editor, gsomia):
    response = as_editor.post(url("event-new", gsomia), event_data())
    event = gsomia.events.get(summary="Japan's cabinet approves the pact")
    assert response.status_code == 302
    assert response["Location"] == f"{gsomia.get_absolute_url()}#event-{event.pk}"


def test_the_add_button_of_a_lane_preselects_it(as_editor, gsomia):
    response = as_editor.get(url("event-new", gsomia) + "?lane=JP", headers=HTMX)
    assert '<option value="JP" selected>Japan</option>' in response.content.decode()
    assert not response.content.startswith(b"<!doctype")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"date": "2012-13-01"}, "date", "is not a date"),
        ({"date": "June 2012"}, "date", "is not a date"),
        ({"lane": "US"}, "lane", "Select a valid choice"),
        ({"date": "2999-01-01"}, "date", "cannot start after today"),
        (
            {"status": "expected", "date": "2016-11", "not_after": "2016-10-31"},
            "not_after",
            "Cannot be before the date",
        ),
        ({"summary": ""}, "summary", "This field is required"),
        ({"summary": "x" * 301}, "summary", "at most 300 characters"),
        ({"kind": "coup"}, "kind", "Select a valid choice"),
        ({"time": "afternoon"}, "time", "Enter a valid time"),
        ({"summary": "bad\x00byte"}, "summary", "Null characters are not allowed"),
    ],
)
def test_an_invalid_event_answers_422_with_the_error_by_its_field_and_saves_nothing(
    as_editor, gsomia, changes, field, message
):
    before = Event.objects.count()
    response = as_editor.post(url("event-new", gsomia), event_data(**changes), headers=HTMX)
    assert response.status_code == 422
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    content = response.content.decode()
    assert f'class="field has-error field-{field}"' in content
    assert Event.objects.count() == before


def test_editing_an_event_stores_the_derived_status(as_editor, gsomia):
    notice = gsomia.events.get(external_id="notice")
    data = event_data(kind="termination-notice-suspended", lane="KR", date="2019-11-22", summary="Suspended")
    as_editor.post(url("event-edit", gsomia, notice.pk), data)
    gsomia.refresh_from_db()
    assert (gsomia.status, gsomia.notice) == ("in-force", "suspended")


def test_an_event_cannot_be_edited_through_another_agreements_address(as_editor, gsomia):
    other = AgreementFactory(slug="kr-us-other", party_a_id="KR", party_b_id="US")
    event = gsomia.events.get(external_id="notice")
    assert as_editor.get(url("event-edit", other, event.pk)).status_code == 404
    assert as_editor.post(url("event-delete", other, event.pk)).status_code == 404
    assert Event.objects.filter(pk=event.pk).exists()


def test_a_resolved_event_cannot_be_marked_occurred(as_editor, gsomia):
    postponed = gsomia.events.get(external_id="signing-2012")
    data = event_data(kind="signature", lane="joint", status="occurred", date="2012-06-29", summary="Signed")
    response = as_editor.post(url("event-edit", gsomia, postponed.pk), data)
    assert response.status_code == 422
    assert "resolves this event" in response.context["form"].errors["status"][0]


def test_deleting_an_event_asks_first_then_removes_it_with_its_citations(as_editor, gsomia):
    notice = gsomia.events.get(external_id="notice")
    confirm = as_editor.get(url("event-delete", gsomia, notice.pk))
    assert "Delete this step?" in confirm.content.decode()
    assert Event.objects.filter(pk=notice.pk).exists()
    as_editor.post(url("event-delete", gsomia, notice.pk), headers=HTMX)
    assert not Event.objects.filter(pk=notice.pk).exists()
    assert not Citation.objects.filter(event_id=notice.pk).exists()
    gsomia.refresh_from_db()
    assert gsomia.notice == "none"


def test_an_expectation_met_on_schedule_becomes_occurred(as_editor, gsomia):
    expected = EventFactory(agreement=gsomia, status="expected", lane="JP", date="2016-11")
    response = as_editor.post(url("event-met", gsomia, expected.pk), headers=HTMX)
    assert response.status_code == 200
    expected.refresh_from_db()
    assert expected.status == "occurred"


def test_only_an_expected_event_can_be_marked_met(as_editor, gsomia):
    occurred = gsomia.events.get(external_id="kr-cabinet")
    assert as_editor.post(url("event-met", gsomia, occurred.pk)).status_code == 422


def test_a_slipped_expectation_is_postponed_and_resolved_by_a_new_event(as_editor, gsomia):
    expected = EventFactory(agreement=gsomia, kind="signature", lane="joint", status="expected", date="2016-10")
    data = event_data(kind="signature", lane="joint", status="occurred", date="2016-11-23", summary="Signed at last")
    response = as_editor.post(url("event-postpone", gsomia, expected.pk), data, headers=HTMX)
    assert response.status_code == 200
    expected.refresh_from_db()
    assert expected.status == "postponed"
    assert expected.resolved_by.summary == "Signed at last"


def test_a_postponement_with_a_bad_date_changes_nothing(as_editor, gsomia):
    expected = EventFactory(agreement=gsomia, kind="signature", lane="joint", status="expected", date="2016-10")
    data = event_data(kind="signature", lane="joint", date="2016-13-01")
    assert as_editor.post(url("event-postpone", gsomia, expected.pk), data).status_code == 422
    expected.refresh_from_db()
    assert expected.status == "expected"


def test_citing_an_existing_source_by_key(as_editor, gsomia):
    event = gsomia.events.get(external_id="jp-cabinet")
    data = {"source": "mofa-2016-11-23", "stance": "contradicts", "quote": "", "note": "says it never met"}
    response = as_editor.post(url("citation-new", gsomia, event.pk), data, headers=HTMX)
    assert response.status_code == 200
    assert event.citations.get(source__key="mofa-2016-11-23").stance == "contradicts"


def test_the_search_radio_wins_over_an_empty_key_box(as_editor, gsomia):
    event = gsomia.events.get(external_id="jp-cabinet")
    data = {"source": ["mofa-2016-11-23", ""], "stance": "supports", "quote": "", "note": ""}
    as_editor.post(url("citation-new", gsomia, event.pk), data)
    assert event.citations.filter(source__key="mofa-2016-11-23").exists()


def test_citing_a_new_source_created_in_place(as_editor, gsomia):
    event = gsomia.events.get(external_id="jp-cabinet")
    data = {
        "source": "",
        "stance": "supports",
        "quote": "Japan's cabinet approved the pact on Friday morning.",
        "note": "",
        "new-publisher_name": "Kyodo News",
        "new-headline": "Japan cabinet OKs intel pact with S. Korea",
        "new-published": "2012-06-29",
        "new-url": "",
        "new-language": "en",
        "new-kind": "news",
    }
    response = as_editor.post(url("citation-new", gsomia, event.pk), data, headers=HTMX)
    assert response.status_code == 200, response.content.decode()
    source = Source.objects.get(headline="Japan cabinet OKs intel pact with S. Korea")
    assert source.publisher.name == "Kyodo News"
    assert source.publisher.reliability == "unrated"
    assert event.citations.filter(source=source).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"source": "yonhap-2012-06-27-gsomia-3ld"}, "source"),  # already cited
        ({"source": "nowhere"}, "source"),
        ({"source": "mofa-2016-11-23", "quote": "x" * 501}, "quote"),
        ({"source": "", "new-headline": "", "new-publisher_name": "Kyodo"}, "headline"),
        ({"source": "", "new-headline": "A", "new-publisher_name": "K", "new-url": "javascript:alert(1)"}, "url"),
    ],
)
def test_a_bad_citation_answers_422_and_writes_nothing(as_editor, gsomia, data, field):
    event = gsomia.events.get(external_id="jp-cabinet")
    before = (Citation.objects.count(), Source.objects.count())
    payload = {"stance": "supports", "quote": "", "note": "", "new-language": "en", "new-kind": "news", **data}
    response = as_editor.post(url("citation-new", gsomia, event.pk), payload)
    assert response.status_code == 422
    errors = response.context["form"].errors | response.context["source_form"].errors
    assert field in errors
    assert (Citation.objects.count(), Source.objects.count()) == before


def test_removing_a_citation(as_editor, gsomia):
    event = gsomia.events.get(external_id="notice")
    citation = event.citations.get(stance="contradicts")
    as_editor.post(url("citation-delete", gsomia, event.pk, citation.pk))
    assert not Citation.objects.filter(pk=citation.pk).exists()


def test_source_search_finds_by_headline_key_or_publisher(as_editor, gsomia):
    SourceFactory(headline="Unrelated report")
    response = as_editor.get(reverse("source-search"), {"q": "military"})
    content = response.content.decode()
    assert 'value="yonhap-2012-06-27-gsomia-3ld"' in content
    assert "Unrelated report" not in content
    assert 'value="mofa-2016-11-23"' in as_editor.get(reverse("source-search"), {"q": "mofa"}).content.decode()


def test_source_search_refuses_a_query_over_200_characters(as_editor):
    assert as_editor.get(reverse("source-search"), {"q": "x" * 201}).status_code == 400


def agreement_data(**changes):
    data = {
        "title": "Agreement on the Security of Information",
        "short_name": "Korea–Philippines GSOMIA",
        "slug": "kr-ph-gsomia",
        "kind": "intelligence-sharing",
        "legal_form": "executive-agreement",
        "entry_into_force": "on-signature",
        "party_a": "KR",
        "party_b": "PH",
        "summary": "",
    }
    for prefix in ("aliases", "relations", "citations"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    return {**data, **changes}


def test_an_editor_creates_an_agreement(as_editor, editor):
    data = agreement_data(
        **{"aliases-TOTAL_FORMS": "1", "aliases-0-title": "한-필리핀 군사정보보호협정", "aliases-0-language": "ko"}
    )
    response = as_editor.post(reverse("agreement-new"), data)
    agreement = Agreement.objects.get(slug="kr-ph-gsomia")
    assert response.status_code == 302
    assert response["Location"] == agreement.get_absolute_url()
    assert agreement.aliases.get().title == "한-필리핀 군사정보보호협정"
    assert agreement.history.get().history_user == editor


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"party_b": "KR"}, "party_b"),
        ({"party_b": "ZZ"}, "party_b"),
        ({"slug": "KR PH"}, "slug"),
        ({"slug": "new"}, "slug"),
        ({"title": ""}, "title"),
        ({"kind": "alliance"}, "kind"),
    ],
)
def test_an_invalid_agreement_answers_422_and_creates_nothing(as_editor, changes, field):
    response = as_editor.post(reverse("agreement-new"), agreement_data(**changes))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert not Agreement.objects.exists()


def test_a_duplicate_slug_is_refused(as_editor, gsomia):
    response = as_editor.post(reverse("agreement-new"), agreement_data(slug="kr-jp-gsomia"))
    assert response.status_code == 422
    assert "slug" in response.context["form"].errors


def test_editing_an_agreement_with_relations_and_its_own_citations(as_editor, gsomia):
    data = agreement_data(
        title=gsomia.title,
        short_name=gsomia.short_name,
        party_a="KR",
        party_b="JP",
        entry_into_force="on-notification",
        **{
            "relations-TOTAL_FORMS": "1",
            "relations-0-relation": "supersedes",
            "relations-0-other": "kr-jp-acsa",
            "citations-TOTAL_FORMS": "1",
            "citations-0-source": "mofa-2016-11-23",
            "citations-0-stance": "supports",
        },
    )
    data.pop("slug")
    response = as_editor.post(reverse("agreement-edit", args=[gsomia.slug]), data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert gsomia.relations.filter(relation="supersedes", other__slug="kr-jp-acsa").exists()
    assert gsomia.citations.filter(source__key="mofa-2016-11-23").exists()
    gsomia.refresh_from_db()
    assert gsomia.entry_into_force == "on-notification"
    assert gsomia.status == "signed"  # a signature no longer means in force


def test_a_party_whose_lane_has_events_cannot_be_replaced(as_editor, gsomia):
    data = agreement_data(title=gsomia.title, party_a="KR", party_b="US")
    data.pop("slug")
    response = as_editor.post(reverse("agreement-edit", args=[gsomia.slug]), data)
    assert response.status_code == 422
    assert "has events in its lane" in response.context["form"].errors["party_b"][0]


@pytest.mark.parametrize("name", ["event-new", "agreement-edit"], ids=["add an event", "edit the agreement"])
def test_analysts_cannot_open_or_post_editing_forms(client, analyst, gsomia, name):
    client.force_login(analyst)
    target = reverse(name, args=[gsomia.slug])
    assert client.get(target).status_code == 403
    assert client.post(target, event_data(), headers=HTMX).status_code == 403
    assert gsomia.events.count() == 6


def test_anonymous_htmx_requests_to_edit_are_sent_to_sign_in(client, gsomia):
    response = client.get(url("event-new", gsomia), headers=HTMX)
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["event-met", "citation-delete"])
def test_get_on_a_mutating_url_is_405(as_editor, gsomia, name):
    event = gsomia.events.get(external_id="notice")
    args = [gsomia.slug, event.pk] + ([event.citations.first().pk] if name == "citation-delete" else [])
    assert as_editor.get(reverse(name, args=args)).status_code == 405
