"""No lost updates, no duplicates: row versions refuse stale saves, creation keys absorb double submits."""

import re
import threading
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pacts.models import Agreement, Citation, EditConflict, Event, Publisher
from tests.conftest import HTMX
from tests.factories import EventFactory
from tests.test_editing import agreement_data, event_data, url

pytestmark = pytest.mark.django_db


def hidden(response, name):
    """The value of a hidden input in a rendered form."""
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', response.content.decode())
    assert match, f"no hidden {name} in the form"
    return match.group(1)


@pytest.fixture
def second_editor(make_user):
    return make_user("editor", username="second")


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_an_update_names_the_version_it_read_and_a_stale_copy_is_refused(gsomia):
    first, second = Event.objects.get(external_id="jp-cabinet"), Event.objects.get(external_id="jp-cabinet")
    with CaptureQueriesContext(connection) as queries:
        first.summary = "first"
        first.save()
    update = next(q["sql"] for q in queries if q["sql"].startswith('UPDATE "pacts_event"'))
    where = update.split(" WHERE ")[1]
    assert '"pacts_event"."row_version" = 1' in where
    assert f'"pacts_event"."id" = {first.pk}' in where
    assert first.row_version == 2
    second.summary = "second"
    with pytest.raises(EditConflict):
        second.save()
    assert second.row_version == 1  # the refused copy keeps the version it read
    assert Event.objects.get(pk=first.pk).summary == "first"


def test_saving_a_copy_of_a_deleted_record_is_refused_not_reinserted(gsomia):
    event = Event.objects.get(external_id="jp-cabinet")
    Event.objects.filter(pk=event.pk).delete()
    event.summary = "back from the dead"
    with pytest.raises(EditConflict):
        event.save()
    assert not Event.objects.filter(pk=event.pk).exists()


def test_two_editors_on_one_event_the_second_gets_409_with_both_versions_and_keeps_their_input(
    gsomia, editor, second_editor
):
    event = gsomia.events.get(external_id="jp-cabinet")
    address = url("event-edit", gsomia, event.pk)
    first, second = signed_in(editor), signed_in(second_editor)
    read = hidden(first.get(address), "row_version")
    assert hidden(second.get(address), "row_version") == read

    mine = event_data(summary="The cabinet approves, says Kyodo", row_version=read, reason="Kyodo's wording")
    assert first.post(address, mine, headers=HTMX).status_code == 200
    theirs = event_data(summary="The cabinet defers its decision", row_version=read)
    history_before = event.history.count()
    response = second.post(address, theirs, headers=HTMX)

    assert response.status_code == 409
    page = response.content.decode()
    assert "The cabinet approves, says Kyodo" in page
    assert "The cabinet defers its decision" in page
    assert "editor saved this event" in page
    assert 'value="The cabinet defers its decision"' in page  # their input, still in the form
    event.refresh_from_db()
    assert event.summary == "The cabinet approves, says Kyodo"
    assert event.history.count() == history_before
    assert event.history.first().history_change_reason == "Kyodo's wording"

    # Having seen the other version, saving again replaces it on purpose.
    again = event_data(summary="The cabinet defers its decision", row_version=hidden(response, "row_version"))
    assert second.post(address, again, headers=HTMX).status_code == 200
    event.refresh_from_db()
    assert event.summary == "The cabinet defers its decision"
    assert event.row_version == int(read) + 2


def test_an_event_changed_or_deleted_since_the_form_opened_is_not_overwritten(gsomia, editor):
    event = gsomia.events.get(external_id="jp-cabinet")
    client = signed_in(editor)
    address = url("event-edit", gsomia, event.pk)
    data = event_data(row_version=hidden(client.get(address), "row_version"))
    Event.objects.filter(pk=event.pk).update(row_version=99, summary="changed by a script")
    assert client.post(address, data).status_code == 409
    Event.objects.filter(pk=event.pk).delete()
    assert client.post(address, data).status_code == 404
    assert not Event.objects.filter(pk=event.pk).exists()


def test_two_editors_on_one_agreement_the_second_gets_409_with_their_aliases_kept(gsomia, editor, second_editor):
    address = reverse("agreement-edit", args=[gsomia.slug])
    read = hidden(signed_in(editor).get(address), "row_version")
    common = agreement_data(title=gsomia.title, party_a="KR", party_b="JP", row_version=read)
    common.pop("slug")
    assert signed_in(editor).post(address, {**common, "short_name": "GSOMIA (first)"}).status_code == 302
    late = {
        **common,
        "short_name": "GSOMIA (second)",
        "aliases-TOTAL_FORMS": "1",
        "aliases-0-title": "日韓秘密軍事情報保護協定",
        "aliases-0-language": "ja",
    }
    response = signed_in(second_editor).post(address, late)
    assert response.status_code == 409
    page = response.content.decode()
    assert "GSOMIA (first)" in page
    assert "GSOMIA (second)" in page
    assert "日韓秘密軍事情報保護協定" in page
    gsomia.refresh_from_db()
    assert gsomia.short_name == "GSOMIA (first)"
    assert not gsomia.aliases.filter(language="ja").exists()


def test_a_damaged_version_field_is_a_clear_422(gsomia, editor):
    event = gsomia.events.get(external_id="jp-cabinet")
    response = signed_in(editor).post(url("event-edit", gsomia, event.pk), event_data(row_version="three"))
    assert response.status_code == 422
    assert "reload the page" in response.content.decode()


def test_the_admin_refuses_a_stale_change_with_409_and_keeps_the_input(gsomia, admin_user):
    publisher = Publisher.objects.get(name="Yonhap News Agency")
    client = signed_in(admin_user)
    address = reverse("admin:pacts_publisher_change", args=[publisher.pk])
    read = hidden(client.get(address), "read_version")
    publisher.reliability = "low"
    publisher.save()
    data = {"name": "Yonhap", "country": "KR", "website": "", "reliability": "high", "read_version": read}
    response = client.post(address, data)
    assert response.status_code == 409
    assert "after you opened it" in response.content.decode()
    assert 'value="Yonhap"' in response.content.decode()
    publisher.refresh_from_db()
    assert (publisher.name, publisher.reliability) == ("Yonhap News Agency", "low")
    data["read_version"] = publisher.row_version
    assert client.post(address, data).status_code == 302
    publisher.refresh_from_db()
    assert publisher.name == "Yonhap"


def test_a_double_click_on_add_makes_one_event_and_leads_to_it(gsomia, editor):
    client = signed_in(editor)
    key = hidden(client.get(url("event-new", gsomia)), "creation_key")
    data = event_data(creation_key=key)
    first = client.post(url("event-new", gsomia), data)
    second = client.post(url("event-new", gsomia), data)
    event = gsomia.events.get(summary=data["summary"])
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"] == event.get_absolute_url()
    again = client.post(url("event-new", gsomia), data, headers=HTMX)
    assert again.status_code == 200
    assert "event-saved" in again["HX-Trigger"]
    assert gsomia.events.filter(summary=data["summary"]).count() == 1


def test_each_blank_form_gets_its_own_creation_key(gsomia, editor):
    client = signed_in(editor)
    keys = {hidden(client.get(url("event-new", gsomia)), "creation_key") for _ in range(2)}
    assert len(keys) == 2


def test_a_replayed_citation_makes_one_citation(gsomia, editor):
    event = gsomia.events.get(external_id="jp-cabinet")
    data = {"source": "mofa-2016-11-23", "stance": "supports", "quote": "", "note": "", "creation_key": uuid.uuid4()}
    client = signed_in(editor)
    assert client.post(url("citation-new", gsomia, event.pk), data).status_code == 302
    assert client.post(url("citation-new", gsomia, event.pk), data).status_code == 302
    assert Citation.objects.filter(event=event, source__key="mofa-2016-11-23").count() == 1


def test_a_replayed_postponement_makes_one_replacement(gsomia, editor):
    expected = EventFactory(agreement=gsomia, kind="signature", lane="joint", status="expected", date="2016-10")
    data = event_data(kind="signature", lane="joint", date="2016-11-23", summary="Signed", creation_key=uuid.uuid4())
    client = signed_in(editor)
    assert client.post(url("event-postpone", gsomia, expected.pk), data).status_code == 302
    assert client.post(url("event-postpone", gsomia, expected.pk), data).status_code == 302
    assert gsomia.events.filter(summary="Signed").count() == 1


def test_a_replayed_new_agreement_leads_to_the_first_even_though_its_slug_is_taken(editor):
    data = agreement_data(creation_key=uuid.uuid4())
    client = signed_in(editor)
    first, second = client.post(reverse("agreement-new"), data), client.post(reverse("agreement-new"), data)
    assert first.status_code == second.status_code == 302
    assert second["Location"] == Agreement.objects.get(slug="kr-ph-gsomia").get_absolute_url()
    assert Agreement.objects.count() == 1


def test_a_creation_key_of_another_agreement_does_not_lead_there(gsomia, editor):
    other = Event.objects.exclude(agreement=gsomia).first() or EventFactory()
    Event.objects.filter(pk=other.pk).update(creation_key=(key := uuid.uuid4()))
    response = signed_in(editor).post(url("event-new", gsomia), event_data(creation_key=key))
    assert response.status_code == 422
    assert "already submitted" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submits_of_one_form_make_one_event(gsomia, editor):
    agreement = gsomia
    data = event_data(creation_key=uuid.uuid4())
    start = threading.Barrier(2)
    statuses = []

    def submit():
        client = signed_in(editor)
        start.wait()
        try:
            statuses.append(client.post(url("event-new", agreement), data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302, 302]
    assert agreement.events.filter(summary=data["summary"]).count() == 1


def test_saving_an_unchanged_event_writes_no_history(gsomia, editor):
    event = gsomia.events.get(external_id="jp-cabinet")
    client = signed_in(editor)
    address = url("event-edit", gsomia, event.pk)
    form = client.get(address).context["form"]
    unchanged = {name: form[name].value() for name in form.fields}
    unchanged = {name: ("" if value is None else value) for name, value in unchanged.items()}
    unchanged["actors"] = "\n".join(event.actors)
    unchanged["date"] = event.date.iso
    before = event.history.count()
    assert client.post(address, unchanged).status_code == 302
    assert event.history.count() == before


def test_an_admin_reverts_to_an_old_version_in_the_django_admin(gsomia, admin_user):
    publisher = Publisher.objects.get(name="Yonhap News Agency")
    first = publisher.history.first()
    publisher.reliability = "low"
    publisher.save()
    client = signed_in(admin_user)
    address = reverse("admin:pacts_publisher_simple_history", args=[publisher.pk, first.history_id])
    form = client.get(address)
    data = {"name": publisher.name, "country": "KR", "website": "", "reliability": first.reliability}
    data["read_version"] = hidden(form, "read_version")
    assert client.post(address, data).status_code == 302
    publisher.refresh_from_db()
    assert publisher.reliability == first.reliability
    # A change between opening the old version and reverting is still caught.
    form = client.get(address)
    Publisher.objects.get(pk=publisher.pk).save()
    data["read_version"] = hidden(form, "read_version")
    assert client.post(address, data).status_code == 409
