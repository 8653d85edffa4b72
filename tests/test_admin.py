import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from pacts.dates import Period
from pacts.models import Agreement, Alias, Citation, Event, Party, Publisher, Relation, Source
from tests.factories import AgreementFactory, CitationFactory, EventFactory, PublisherFactory, SourceFactory

pytestmark = pytest.mark.django_db

MODELS = [Agreement, Alias, Citation, Event, Party, Publisher, Relation, Source]
EDITABLE_MODELS = [model for model in MODELS if model is not Party]


def admin_url(model, view, *args):
    return reverse(f"admin:pacts_{model._meta.model_name}_{view}", args=args)


def inline_rows(prefix, rows=(), initial=0):
    """POST data for one inline formset: its management form and its rows."""
    data = {
        f"{prefix}-TOTAL_FORMS": len(rows),
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


def agreement_form(events=(), initial_events=0, **fields):
    """POST data for the agreement admin: a KR–JP agreement with these event rows and no other rows."""
    data = {
        "slug": "kr-jp-gsomia",
        "title": "General Security of Military Information Agreement",
        "short_name": "Korea–Japan GSOMIA",
        "summary": "",
        "kind": "intelligence-sharing",
        "legal_form": "executive-agreement",
        "entry_into_force": "on-signature",
        "party_a": "KR",
        "party_b": "JP",
        "_save": "Save",
    }
    data |= inline_rows("events", events, initial_events)
    for prefix in ("aliases", "relations", "citations"):
        data |= inline_rows(prefix)
    return data | fields


def event_row(**fields):
    return {
        "kind": "cabinet-approval",
        "lane": "KR",
        "status": "occurred",
        "date": "2012-06-26",
        "not_after": "",
        "time": "",
        "confidence": "high",
        "summary": "Cabinet approves the agreement",
    } | fields


def event_form(**fields):
    """POST data for the event admin, with no citation rows."""
    return event_row(body="", actors="[]", notes="", resolves="", _save="Save") | inline_rows("citations") | fields


@pytest.fixture
def admin_client(client, admin_user):
    """Signed in as a member of the admin group, who is staff but not a superuser."""
    client.force_login(admin_user)
    return client


@pytest.fixture
def rows(agreement):
    """One row of every model, linked so that every inline has something to show."""
    event = EventFactory(agreement=agreement)
    citation = CitationFactory(event=event)
    Citation.objects.create(agreement=agreement, source=citation.source)
    return {
        Agreement: agreement,
        Alias: Alias.objects.create(agreement=agreement, title="한일 군사정보보호협정", language="ko"),
        Citation: citation,
        Event: event,
        Party: Party.objects.get(code="KR"),
        Publisher: citation.source.publisher,
        Relation: Relation.objects.create(agreement=agreement, other=AgreementFactory(), relation="negotiated-with"),
        Source: citation.source,
    }


@pytest.fixture
def signed_agreement(db):
    agreement = AgreementFactory(entry_into_force="on-signature")
    EventFactory(agreement=agreement, kind="signature", lane="joint", date="2016-11-23")
    agreement.refresh_from_db()
    assert agreement.status == "in-force"
    return agreement


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.model_name)
def test_every_changelist_answers_an_admin(admin_client, model):
    assert admin_client.get(admin_url(model, "changelist")).status_code == 200


@pytest.mark.parametrize("model", EDITABLE_MODELS, ids=lambda model: model._meta.model_name)
def test_every_add_page_answers_an_admin(admin_client, model):
    assert admin_client.get(admin_url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.model_name)
def test_every_change_page_shows_its_row(admin_client, rows, model):
    row = rows[model]
    response = admin_client.get(admin_url(model, "change", row.pk))
    assert response.status_code == 200
    assert escape(str(row)) in response.content.decode()


@pytest.mark.parametrize("role", ["analyst", "editor"])
def test_analysts_and_editors_are_sent_away_from_the_admin(client, request, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_parties_come_from_django_countries_and_cannot_be_added_or_changed(admin_client):
    assert admin_client.get(admin_url(Party, "add")).status_code == 403
    response = admin_client.get(admin_url(Party, "change", "KR"))
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert admin_client.post(admin_url(Party, "change", "KR"), {"code": "KX"}).status_code == 403
    assert Party.objects.filter(code="KR").exists()


def test_parties_are_found_by_code_and_by_name(admin_client):
    by_code = admin_client.get(admin_url(Party, "changelist"), {"q": "jp"})
    by_name = admin_client.get(admin_url(Party, "changelist"), {"q": "japan"})
    assert [party.code for party in by_code.context["cl"].result_list] == ["JP"]
    assert "JP" in [party.code for party in by_name.context["cl"].result_list]


def test_the_event_form_shows_the_stored_date_at_its_precision(admin_client):
    event = EventFactory(date="2012-06")
    response = admin_client.get(admin_url(Event, "change", event.pk))
    assert response.context["adminform"].form["date"].value() == "2012-06"


def test_the_event_list_shows_dates_at_their_precision(admin_client):
    EventFactory(date="2012-06")
    EventFactory(date="")
    html = admin_client.get(admin_url(Event, "changelist")).content.decode()
    assert '<td class="field-date_display">June 2012</td>' in html
    assert '<td class="field-date_display">date unknown</td>' in html


def test_event_kinds_are_offered_under_their_phase(admin_client):
    html = admin_client.get(admin_url(Event, "add")).content.decode()
    kinds = html[html.index('name="kind"') :]
    assert kinds.index('<option value="" selected>') < kinds.index('<optgroup label="Negotiation">')
    assert kinds.index('<optgroup label="Exit">') < kinds.index('value="termination-notice"')


def test_adding_an_agreement_with_event_rows_stores_them_and_the_derived_status(admin_client):
    events = [
        event_row(kind="signature", lane="joint", date="2016-11-23", summary="Signed in Seoul"),
        event_row(kind="cabinet-approval", lane="kr", date="2016-11", summary="Cabinet approves"),
    ]
    response = admin_client.post(admin_url(Agreement, "add"), agreement_form(events))
    assert response.status_code == 302
    agreement = Agreement.objects.get(slug="kr-jp-gsomia")
    assert [(event.kind, event.lane, event.date) for event in agreement.events.all()] == [
        ("cabinet-approval", "KR", Period.parse("2016-11")),
        ("signature", "joint", Period.parse("2016-11-23")),
    ]
    assert (agreement.status, agreement.notice) == agreement.compute_status() == ("in-force", "none")


def test_editing_an_event_into_a_termination_notice_gives_notice_and_records_the_user(
    admin_client, admin_user, signed_agreement
):
    event = EventFactory(agreement=signed_agreement, kind="statement", status="expected", date="2019-08")
    data = event_form(kind="termination-notice", status="occurred", date="2019-08-23", summary="Notice given")
    response = admin_client.post(admin_url(Event, "change", event.pk), data)
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.kind, event.status, event.date) == ("termination-notice", "occurred", Period.parse("2019-08-23"))
    signed_agreement.refresh_from_db()
    assert (signed_agreement.status, signed_agreement.notice) == ("in-force", "pending")
    assert Event.history.latest().history_user == admin_user


def test_an_event_stays_with_its_agreement(admin_client, agreement):
    event = EventFactory(agreement=agreement)
    response = admin_client.post(admin_url(Event, "change", event.pk), event_form(agreement=AgreementFactory().pk))
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.agreement == agreement


def test_deleting_an_event_in_the_admin_derives_the_status_again(admin_client, signed_agreement):
    signature = signed_agreement.events.get()
    response = admin_client.post(admin_url(Event, "delete", signature.pk), {"post": "yes"})
    assert response.status_code == 302
    signed_agreement.refresh_from_db()
    assert not signed_agreement.events.exists()
    assert signed_agreement.status == "proposed"


def test_deleting_an_event_row_of_an_agreement_derives_the_status_again(admin_client, signed_agreement):
    signature = signed_agreement.events.get()
    row = event_row(id=signature.pk, kind="signature", lane="joint", date="2016-11-23", DELETE="on")
    data = agreement_form([row], initial_events=1, slug=signed_agreement.slug, party_a="KR", party_b="JP")
    response = admin_client.post(admin_url(Agreement, "change", signed_agreement.pk), data)
    assert response.status_code == 302
    signed_agreement.refresh_from_db()
    assert not signed_agreement.events.exists()
    assert signed_agreement.status == "proposed"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date", "2012-13-01", "“2012-13-01” is not a date: use YYYY, YYYY-MM or YYYY-MM-DD."),
        ("lane", "US", "Use “joint” or a party of this agreement: KR or JP."),
        ("not_after", "2012-06-25", "Cannot be before the date, which starts on 2012-06-26."),
    ],
)
def test_a_bad_event_is_shown_again_with_the_error_beside_its_field(admin_client, agreement, field, value, message):
    data = event_form(agreement=agreement.pk, date="2012-06-26") | {field: value}
    response = admin_client.post(admin_url(Event, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: [message]}
    html = response.content.decode()
    field_row = html[html.index(f"field-{field}") : html.index(f'id="id_{field}"')]
    assert escape(message) in field_row
    assert not Event.objects.exists()


def test_an_event_row_in_a_lane_that_is_not_a_party_saves_nothing(admin_client):
    response = admin_client.post(admin_url(Agreement, "add"), agreement_form([event_row(lane="US")]))
    assert response.status_code == 200
    [events] = [inline for inline in response.context["inline_admin_formsets"] if inline.formset.prefix == "events"]
    assert events.formset.errors == [{"lane": ["Use “joint” or a party of this agreement: KR or JP."]}]
    assert not Agreement.objects.exists()
    assert not Event.objects.exists()


def test_an_event_cannot_resolve_an_event_of_another_agreement(admin_client, agreement):
    elsewhere = EventFactory(status="expected")
    response = admin_client.post(admin_url(Event, "add"), event_form(agreement=agreement.pk, resolves=elsewhere.pk))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"resolves": ["Choose an event of the same agreement."]}
    assert not agreement.events.exists()


def test_an_event_can_resolve_an_expectation_of_its_own_agreement(admin_client, agreement):
    expected = EventFactory(agreement=agreement, status="postponed", date="2012-06")
    response = admin_client.post(admin_url(Event, "add"), event_form(agreement=agreement.pk, resolves=expected.pk))
    assert response.status_code == 302
    assert agreement.events.get(resolves=expected).date == Period.parse("2012-06-26")


def test_an_event_cannot_resolve_one_that_occurred(admin_client, agreement):
    occurred = EventFactory(agreement=agreement, status="occurred")
    response = admin_client.post(admin_url(Event, "add"), event_form(agreement=agreement.pk, resolves=occurred.pk))
    assert response.context["adminform"].form.errors == {
        "resolves": ["Only an expected, postponed or cancelled event can be resolved."]
    }
    assert agreement.events.count() == 1


def test_events_cannot_resolve_each_other_in_a_circle(admin_client, agreement):
    first = EventFactory(agreement=agreement, status="expected", date="2012-06")
    EventFactory(agreement=agreement, status="postponed", date="2012-07", resolves=first)
    second = agreement.events.get(resolves=first)
    data = event_form(status="expected", date="2012-06", resolves=second.pk)
    response = admin_client.post(admin_url(Event, "change", first.pk), data)
    assert response.context["adminform"].form.errors == {"resolves": ["Events cannot resolve each other in a circle."]}
    first.refresh_from_db()
    assert first.resolves is None


def test_an_event_another_one_resolves_cannot_be_marked_occurred(admin_client, agreement):
    postponed = EventFactory(agreement=agreement, status="postponed", date="2012-06")
    EventFactory(agreement=agreement, resolves=postponed)
    response = admin_client.post(admin_url(Event, "change", postponed.pk), event_form(date="2012-06"))
    assert response.context["adminform"].form.errors == {
        "status": ["The Cabinet approval (26 June 2012) resolves this event, so it did not occur as announced."]
    }
    postponed.refresh_from_db()
    assert postponed.status == "postponed"


def test_an_emptied_actors_box_saves_no_actors(admin_client):
    event = EventFactory(actors=["Shinzo Abe"])
    response = admin_client.post(admin_url(Event, "change", event.pk), event_form(actors=""))
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.actors == []


def test_changing_a_party_that_still_has_events_is_refused_with_a_message(admin_client, agreement):
    EventFactory(agreement=agreement, lane="JP")
    data = agreement_form(slug=agreement.slug, party_b="US")
    response = admin_client.post(admin_url(Agreement, "change", agreement.pk), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Move or delete the events in the lane of JP first."
    ]
    agreement.refresh_from_db()
    assert agreement.party_b_id == "JP"


def test_a_source_cited_twice_by_one_event_is_refused(admin_client):
    event, source = EventFactory(), SourceFactory()
    citation = {"source": source.pk, "stance": "supports", "quote": "", "note": ""}
    data = event_form() | inline_rows("citations", [citation, citation])
    response = admin_client.post(admin_url(Event, "change", event.pk), data)
    assert response.status_code == 200
    [citations] = response.context["inline_admin_formsets"]
    assert citations.formset.non_form_errors() == ["Cite each source once."]
    assert not Citation.objects.exists()


def test_a_source_cited_twice_by_a_new_agreement_is_refused(admin_client):
    source = SourceFactory()
    citation = {"source": source.pk, "stance": "supports", "quote": "", "note": ""}
    data = agreement_form() | inline_rows("citations", [citation, citation])
    response = admin_client.post(admin_url(Agreement, "add"), data)
    assert response.status_code == 200
    [citations] = [
        inline for inline in response.context["inline_admin_formsets"] if inline.formset.prefix == "citations"
    ]
    assert citations.formset.non_form_errors() == ["Cite each source once."]
    assert not Agreement.objects.exists()


def test_a_source_without_url_that_repeats_another_is_refused(admin_client):
    first = SourceFactory(headline="Seoul, Tokyo sign military pact", published="2016-11-23")
    data = {
        "key": "the-same-again",
        "publisher": first.publisher.pk,
        "headline": "SEOUL,  Tokyo sign military pact",
        "published": "2016-11-23",
        "language": "en",
        "kind": "news",
        "_save": "Save",
    }
    response = admin_client.post(admin_url(Source, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        f"“{first.key}” is already this report, from the same publisher on the same date."
    ]
    assert Source.objects.count() == 1


def test_admins_rate_publishers_from_the_list(admin_client):
    publisher = PublisherFactory(reliability="unrated")
    data = {
        "form-TOTAL_FORMS": 1,
        "form-INITIAL_FORMS": 1,
        "form-0-id": publisher.pk,
        "form-0-reliability": "low",
        "_save": "Save",
    }
    response = admin_client.post(admin_url(Publisher, "changelist"), data)
    assert response.status_code == 302
    publisher.refresh_from_db()
    assert publisher.reliability == "low"


ROW_BUILDERS = {
    Agreement: lambda index: AgreementFactory(),
    Alias: lambda index: Alias.objects.create(agreement=AgreementFactory(), title=f"Alias {index}", language="ko"),
    # Half cite an event, half an agreement as a whole, so both links are listed.
    Citation: lambda index: (
        CitationFactory() if index % 2 else CitationFactory(event=None, agreement=AgreementFactory())
    ),
    Event: lambda index: EventFactory(),
    Publisher: lambda index: PublisherFactory(),
    Relation: lambda index: Relation.objects.create(
        agreement=AgreementFactory(), other=AgreementFactory(), relation="amends"
    ),
    Source: lambda index: SourceFactory(),
}


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", ROW_BUILDERS, ids=lambda model: model._meta.model_name)
def test_changelist_queries_do_not_grow_with_its_rows(admin_client, model):
    build, url = ROW_BUILDERS[model], admin_url(model, "changelist")
    for index in range(3):
        build(index)
    with_3_rows = count_queries(admin_client, url)
    for index in range(3, 30):
        build(index)
    with_30_rows = count_queries(admin_client, url)
    assert model.objects.count() == 30
    assert with_30_rows == with_3_rows


def test_the_admin_refuses_hidden_characters_with_a_message_not_a_500(admin_client):
    publisher = PublisherFactory(name="Yonhap")
    data = {"name": "Yon\u202ehap", "country": "KR", "website": "", "reliability": "high"}
    response = admin_client.post(admin_url(Publisher, "change", publisher.pk), data)
    assert response.status_code == 200
    assert "cannot hold hidden or control characters" in response.content.decode()
    publisher.refresh_from_db()
    assert publisher.name == "Yonhap"
