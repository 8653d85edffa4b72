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
AGREEMENT_INLINES = ["events", "aliases", "relations", "citations"]


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
    for prefix in AGREEMENT_INLINES:
        data.update(
            inline_rows(prefix, events if prefix == "events" else (), initial_events if prefix == "events" else 0)
        )
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
    [events] = [formset for formset in response.context["inline_admin_formsets"] if formset.formset.prefix == "events"]
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
