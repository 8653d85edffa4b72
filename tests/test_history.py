"""An agreement's history: who changed what, when and why; and admins restoring from it."""

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pacts import history
from pacts.interchange import import_document
from pacts.models import Agreement, Alias, Citation, Event, Source
from tests.conftest import HTMX
from tests.documents import gsomia_document
from tests.factories import AgreementFactory, CitationFactory, EventFactory

pytestmark = pytest.mark.django_db

HISTORY_MODELS = [m for m in apps.get_app_config("pacts").get_models() if m.__name__.startswith("Historical")]


def history_count():
    return sum(model.objects.count() for model in HISTORY_MODELS)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_editor(editor):
    return signed_in(editor)


@pytest.fixture
def as_admin(admin_user):
    return signed_in(admin_user)


def history_url(agreement):
    return reverse("agreement-history", args=[agreement.slug])


def restore_url(agreement, record, row):
    return reverse("history-restore", args=[agreement.slug, record, row.history_id])


def entries(client, agreement, **params):
    response = client.get(history_url(agreement), params)
    assert response.status_code == 200
    return response.context["page"].entries


def entry_for(found, record, kind, **fields):
    """The one entry about `record` of this kind whose historical row has these field values."""
    matching = [
        entry
        for entry in found
        if entry.record == record
        and entry.kind == kind
        and all(getattr(entry.row, name) == value for name, value in fields.items())
    ]
    assert len(matching) == 1, [(e.record, e.kind, e.name) for e in found]
    return matching[0]


def stamped(instance, user, reason):
    instance._history_user = user
    instance._change_reason = reason
    return instance


# --- Reading ----------------------------------------------------------------------


def test_the_history_lists_an_import_edits_and_deletions_with_who_and_why(as_editor, editor, gsomia):
    jp_cabinet = gsomia.events.get(external_id="jp-cabinet")
    notice = gsomia.events.get(external_id="notice")
    as_editor.post(reverse("event-met", args=[gsomia.slug, jp_cabinet.pk]))
    as_editor.post(reverse("event-delete", args=[gsomia.slug, notice.pk]))

    found = entries(as_editor, gsomia)
    assert [entry.when for entry in found] == sorted((entry.when for entry in found), reverse=True)

    met = entry_for(found, "event", "changed", id=jp_cabinet.pk)
    assert (met.who, met.reason) == ("editor", "expectation met")
    assert met.name == "Cabinet approval, June 2012 (Japan lane)"
    assert [(c.field, c.old, c.new) for c in met.changes] == [("Status", "Expected", "Occurred")]

    deleted = entry_for(found, "event", "deleted", id=notice.pk)
    assert (deleted.who, deleted.reason) == ("editor", "deleted on the timeline")
    assert ("Summary", "Seoul notifies Tokyo that it will end the pact.") in deleted.values
    citations = [e for e in found if e.record == "citation" and e.kind == "deleted"]
    assert len(citations) == 2
    assert {e.reason for e in citations} == {"event deleted"}
    assert all(e.name.endswith("” on Termination notice, 23 August 2019 (South Korea lane)") for e in citations)

    created = entry_for(found, "agreement", "created")
    assert (created.who, created.reason, created.name) == ("import", "import", "Korea–Japan GSOMIA")
    assert {e.record for e in found if e.kind == "created"} == {
        "agreement",
        "alias",
        "relation",
        "event",
        "citation",
        "source",
        "publisher",
    }


def test_the_page_shows_each_entry_with_its_time_reason_and_old_and_new_values(as_editor, gsomia):
    jp_cabinet = gsomia.events.get(external_id="jp-cabinet")
    as_editor.post(reverse("event-met", args=[gsomia.slug, jp_cabinet.pk]))
    html = as_editor.get(history_url(gsomia)).content.decode()
    entry = html[html.index(f'id="event-{jp_cabinet.history.latest().history_id}"') :]
    entry = entry[: entry.index("</li>")]
    assert '<time datetime="' in entry
    assert "by editor" in entry
    assert '<span dir="auto">expectation met</span>' in entry
    assert '<del dir="auto">Expected</del>' in entry
    assert '<ins dir="auto">Occurred</ins>' in entry
    assert "Restore" not in html  # an editor sees no restore buttons


def test_an_import_names_its_user_and_file(editor):
    import_document(gsomia_document(), user=editor, origin="gsomia.json")
    gsomia = Agreement.objects.get(slug="kr-jp-gsomia")
    found = entries(signed_in(editor), gsomia)
    assert {(entry.who, entry.reason) for entry in found} == {("editor", "import gsomia.json")}


def test_changes_made_in_the_django_admin_name_the_admin_and_say_so(as_admin, admin_user, agreement):
    event = EventFactory(agreement=agreement)
    admin_url = reverse("admin:pacts_event_delete", args=[event.pk])
    assert as_admin.post(admin_url, {"post": "yes"}).status_code == 302
    deleted = entry_for(entries(as_admin, agreement), "event", "deleted", id=event.pk)
    assert (deleted.who, deleted.reason) == (admin_user.username, "deleted in the admin")


def test_user_text_is_escaped_and_marked_for_its_own_direction(as_editor, editor, agreement):
    event = EventFactory(agreement=agreement, summary="<script>alert(1)</script>")
    event.summary = "اتفاقية <b>bold</b>"
    stamped(event, editor, "{{ 7|add:7 }} <img src=x onerror=alert(1)>").save()
    html = as_editor.get(history_url(agreement)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<ins dir="auto">اتفاقية &lt;b&gt;bold&lt;/b&gt;</ins>' in html
    assert '<span dir="auto">{{ 7|add:7 }} &lt;img src=x onerror=alert(1)&gt;</span>' in html


def test_internal_and_derived_fields_are_not_shown(editor, agreement):
    event = EventFactory(agreement=agreement, kind="signature", lane="joint")
    event.kind = "cabinet-approval"  # kind_position changes with it
    event.lane = "KR"
    stamped(event, editor, "fixed").save()
    found = entries(signed_in(editor), agreement)
    changed = entry_for(found, "event", "changed", id=event.pk)
    assert [change.field for change in changed.changes] == ["Kind", "Lane"]
    created = entry_for(found, "event", "created", id=event.pk)
    shown = {label for label, _ in created.values}
    assert shown.isdisjoint({"Row version", "Creation key", "Kind position", "External id", "Updated at"})
    assert ("Date", "26 June 2012") in created.values
    assert ("Lane", "joint lane") in created.values
    assert ("Lane", "joint lane", "South Korea lane") in [(c.field, c.old, c.new) for c in changed.changes]


@pytest.mark.parametrize("public_read", [False, True])
def test_only_editors_and_admins_read_history_even_with_public_reading(client, reader, gsomia, settings, public_read):
    settings.PACTS_PUBLIC_READ = public_read
    assert reader.get(history_url(gsomia)).status_code == 403
    anonymous = Client().get(history_url(gsomia))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    assert Client().get(history_url(gsomia), headers=HTMX).status_code == 401


def test_the_timeline_links_to_the_history_for_editors_only(reader, as_editor, gsomia):
    link = f'href="{history_url(gsomia)}"'
    assert link in as_editor.get(gsomia.get_absolute_url()).content.decode()
    assert link not in reader.get(gsomia.get_absolute_url()).content.decode()


def test_a_bad_position_is_a_clear_400_and_an_unknown_one_404(as_editor, gsomia):
    response = as_editor.get(history_url(gsomia), {"before": "<script>"})
    assert response.status_code == 400
    assert "This is not a position in the history." in response.content.decode()
    assert as_editor.get(history_url(gsomia), {"before": "event-999999999"}).status_code == 404


def many_changes(agreement, editor, events=40):
    """Events with citations, each edited once, every third one deleted: several hundred entries."""
    for number in range(events):
        citation = CitationFactory(event=EventFactory(agreement=agreement))
        event = citation.event
        event.summary = f"Edited summary {number}"
        stamped(event, editor, "edited").save()
        if number % 3 == 0:
            stamped(citation, editor, "event deleted").delete()
            stamped(event, editor, "deleted").delete()


def test_the_number_of_queries_does_not_grow_with_the_history(editor, django_assert_num_queries):
    client = signed_in(editor)
    one = AgreementFactory()  # a history of one entry: its creation
    with CaptureQueriesContext(connection) as first_page:
        assert len(entries(client, one)) == 1
    queries = len(first_page)
    many = AgreementFactory()
    many_changes(many, editor)
    with django_assert_num_queries(queries):
        assert len(entries(client, many)) == history.PAGE_SIZE
    # A later page costs one more query, to find where the cursor is.
    older = client.get(history_url(many)).context["page"].older
    with django_assert_num_queries(queries + 1):
        assert len(entries(client, many, before=older)) == history.PAGE_SIZE


@pytest.mark.parametrize("size", [2, 3, 4, 5])
def test_pages_follow_one_another_without_gaps_or_repeats(editor, agreement, monkeypatch, size):
    many_changes(agreement, editor, events=3)
    # Rows of several tables recorded at the same instant: the cursor must still tell them apart.
    same_instant = timezone.now()
    for title in ("one", "two", "three"):
        alias = Alias(agreement=agreement, title=title, language="en")
        alias._history_date = same_instant
        alias.save()
        event = EventFactory.build(agreement=agreement, summary=title)
        event._history_date = same_instant
        event.save()
    client = signed_in(editor)
    everything = [entry.anchor for entry in entries(client, agreement)]
    assert len(everything) > 12

    monkeypatch.setattr(history, "PAGE_SIZE", size)
    walked, before = [], ""
    while True:
        response = client.get(history_url(agreement), {"before": before} if before else {})
        walked += [entry.anchor for entry in response.context["page"].entries]
        before = response.context["page"].older
        if before is None:
            break
        assert 'rel="next"' in response.content.decode()
    assert walked == everything


# --- Restoring --------------------------------------------------------------------


def test_an_admin_restores_an_earlier_version_and_the_status_is_derived_again(as_admin, admin_user, editor, gsomia):
    assert gsomia.status == "in-force"
    stamped(gsomia, editor, "edited")
    gsomia.entry_into_force = "on-notification"
    gsomia.save()
    assert gsomia.status == "signed"
    revision = Agreement.objects.get(pk=gsomia.pk).revision

    imported = entry_for(entries(as_admin, gsomia), "agreement", "created")
    assert imported.restorable
    response = as_admin.post(restore_url(gsomia, "agreement", imported.row))
    assert response.status_code == 302

    gsomia.refresh_from_db()
    assert (gsomia.entry_into_force, gsomia.status) == ("on-signature", "in-force")
    assert gsomia.revision > revision
    found = entries(as_admin, gsomia)
    restored = found[0]
    assert response["Location"].endswith(f"#{restored.anchor}")
    assert (restored.record, restored.kind, restored.who) == ("agreement", "changed", admin_user.username)
    assert restored.reason.startswith("restored the version of ")
    assert [(c.field, c.old, c.new) for c in restored.changes] == [
        ("Entry into force", "On notification (after the parties' notes)", "On signature")
    ]


def test_an_admin_restores_an_event_edit(as_admin, as_editor, gsomia):
    jp_cabinet = gsomia.events.get(external_id="jp-cabinet")
    as_editor.post(reverse("event-met", args=[gsomia.slug, jp_cabinet.pk]))
    before = entry_for(entries(as_admin, gsomia), "event", "created", id=jp_cabinet.pk)
    assert as_admin.post(restore_url(gsomia, "event", before.row)).status_code == 302
    jp_cabinet.refresh_from_db()
    assert jp_cabinet.status == "expected"
    restored = entries(as_admin, gsomia)[0]
    assert (restored.record, restored.row.id, restored.restorable) == ("event", jp_cabinet.pk, False)
    assert [(c.field, c.old, c.new) for c in restored.changes] == [("Status", "Occurred", "Expected")]


def test_an_editors_deletion_is_restored_by_an_admin_with_its_citations(as_admin, admin_user, as_editor, gsomia):
    notice = gsomia.events.get(external_id="notice")
    citations = set(notice.citations.values_list("pk", "source_id", "stance", "note"))
    as_editor.post(reverse("event-delete", args=[gsomia.slug, notice.pk]))
    gsomia.refresh_from_db()
    assert gsomia.notice == "none"

    found = entries(as_admin, gsomia)
    deleted = entry_for(found, "event", "deleted", id=notice.pk)
    assert deleted.restorable
    # Its citations come back with it, not alone.
    assert not any(e.restorable for e in found if e.record == "citation" and e.kind == "deleted")
    assert "Restore this event with its citations" in as_admin.get(history_url(gsomia)).content.decode()
    assert as_admin.post(restore_url(gsomia, "event", deleted.row)).status_code == 302

    restored = Event.objects.get(pk=notice.pk)
    assert (restored.external_id, restored.summary) == ("notice", "Seoul notifies Tokyo that it will end the pact.")
    assert set(restored.citations.values_list("pk", "source_id", "stance", "note")) == citations
    gsomia.refresh_from_db()
    assert (gsomia.status, gsomia.notice) == ("in-force", "pending")
    found = entries(as_admin, gsomia)
    recreated = entry_for(found, "event", "created", id=notice.pk, history_user_id=admin_user.pk)
    assert recreated.reason.startswith("restored after its deletion on ")
    assert len([e for e in found if e.record == "citation" and e.row.history_user_id == admin_user.pk]) == 2
    assert not entry_for(found, "event", "deleted", id=notice.pk).restorable


def test_restoring_a_deleted_event_links_again_the_event_that_resolved_it(as_admin, as_editor, gsomia):
    postponed = gsomia.events.get(external_id="signing-2012")
    resolver = gsomia.events.get(external_id="signing-2016")
    as_editor.post(reverse("event-delete", args=[gsomia.slug, postponed.pk]))
    resolver.refresh_from_db()
    assert resolver.resolves_id is None
    deleted = entry_for(entries(as_admin, gsomia), "event", "deleted", id=postponed.pk)
    assert as_admin.post(restore_url(gsomia, "event", deleted.row)).status_code == 302
    resolver.refresh_from_db()
    assert resolver.resolves_id == postponed.pk


def test_a_citation_an_editor_removed_is_restored_alone(as_admin, as_editor, gsomia):
    notice = gsomia.events.get(external_id="notice")
    citation = notice.citations.get(stance="contradicts")
    kept = (citation.pk, citation.source_id, citation.note)
    as_editor.post(reverse("citation-delete", args=[gsomia.slug, notice.pk, citation.pk]))
    removed = entry_for(entries(as_admin, gsomia), "citation", "deleted", id=citation.pk)
    assert removed.restorable
    assert as_admin.post(restore_url(gsomia, "citation", removed.row)).status_code == 302
    restored = Citation.objects.get(pk=citation.pk)
    assert (restored.pk, restored.source_id, restored.note) == kept


def test_only_citations_deleted_with_the_event_come_back(as_admin, as_editor, gsomia):
    notice = gsomia.events.get(external_id="notice")
    removed_earlier = notice.citations.get(stance="contradicts")
    as_editor.post(reverse("citation-delete", args=[gsomia.slug, notice.pk, removed_earlier.pk]))
    removal = Citation.history.get(id=removed_earlier.pk, history_type="-")
    Citation.history.filter(pk=removal.pk).update(history_date=removal.history_date - history.SAME_ACTION * 2)
    as_editor.post(reverse("event-delete", args=[gsomia.slug, notice.pk]))
    deleted = entry_for(entries(as_admin, gsomia), "event", "deleted", id=notice.pk)
    as_admin.post(restore_url(gsomia, "event", deleted.row))
    assert list(Citation.objects.filter(event_id=notice.pk).values_list("stance", flat=True)) == ["supports"]


def test_a_restore_names_the_restoring_user_and_the_version_even_outside_a_request(admin_user, editor, gsomia):
    alias = gsomia.aliases.get()
    version = alias.history.latest()
    stamped(alias, editor, "renamed")
    alias.title = "GSOMIA"
    alias.save()
    restored = history.restore(gsomia, "alias", version, admin_user)
    assert alias.history.latest() == restored
    assert (restored.title, restored.history_user, restored.history_type) == ("한일 군사정보보호협정", admin_user, "~")
    when = timezone.localtime(version.history_date).strftime("%Y-%m-%d %H:%M")
    assert restored.history_change_reason == f"restored the version of {when}"


def test_editors_and_analysts_cannot_restore_and_get_is_not_allowed(as_admin, as_editor, reader, gsomia):
    notice = gsomia.events.get(external_id="notice")
    as_editor.post(reverse("event-delete", args=[gsomia.slug, notice.pk]))
    deleted = entry_for(entries(as_editor, gsomia), "event", "deleted", id=notice.pk)
    url = restore_url(gsomia, "event", deleted.row)
    count = history_count()
    assert as_editor.post(url).status_code == 403
    assert as_editor.post(url, headers=HTMX).status_code == 403
    assert reader.post(url).status_code == 403
    assert Client().post(url)["Location"].startswith(reverse("login"))
    assert as_admin.get(url).status_code == 405
    assert history_count() == count
    assert not Event.objects.filter(pk=notice.pk).exists()


def test_a_row_of_another_agreements_history_cannot_be_restored_through_this_one(as_admin, gsomia):
    acsa = Agreement.objects.get(slug="kr-jp-acsa")
    row = Event.history.filter(agreement_id=acsa.pk).first()
    assert as_admin.post(restore_url(gsomia, "event", row)).status_code == 404
    assert as_admin.post(reverse("history-restore", args=[gsomia.slug, "party", row.history_id])).status_code == 404


def refuse_when_the_source_was_deleted(gsomia, editor, admin_user):
    """An event whose citations are restored with it cites a source deleted since."""
    event = gsomia.events.get(external_id="kr-cabinet")
    extra = CitationFactory(event=event)
    source = extra.source
    pk = event.pk
    for citation in event.citations.all():
        stamped(citation, editor, "event deleted").delete()
    stamped(event, editor, "deleted").delete()
    stamped(source, admin_user, "no one cites it").delete()
    return "event", Event.history.get(id=pk, history_type="-"), "the source it refers to as source"


def refuse_when_the_resolved_event_was_deleted(gsomia, editor, admin_user):
    """An earlier version of an event resolves an event deleted since."""
    resolver = gsomia.events.get(external_id="signing-2016")
    version = resolver.history.latest()
    stamped(resolver, editor, "edited")
    resolver.summary = "Signed in Seoul."
    resolver.save()
    stamped(gsomia.events.get(external_id="signing-2012"), editor, "deleted").delete()
    return "event", version, "the event it refers to as resolves"


def refuse_when_a_unique_name_clashes(gsomia, editor, admin_user):
    """An alias renamed, then another alias given its old name: the old version would be a duplicate."""
    alias = gsomia.aliases.get()
    version = alias.history.latest()
    stamped(alias, editor, "renamed")
    old_title, alias.title = alias.title, "GSOMIA"
    alias.save()
    stamped(Alias(agreement=gsomia, title=old_title, language="ko"), editor, "added").save()
    return "alias", version, "already exists"


def refuse_when_the_record_exists_again(gsomia, editor, admin_user):
    """A deleted citation that the editor has cited again since."""
    citation = gsomia.citations.get()
    pk = citation.pk
    stamped(citation, editor, "removed").delete()
    stamped(Citation(pk=pk, agreement=gsomia, source=citation.source), editor, "cited again").save()
    return "citation", Citation.history.get(id=pk, history_type="-"), "exists again already"


@pytest.mark.parametrize(
    "setup",
    [
        refuse_when_the_source_was_deleted,
        refuse_when_the_resolved_event_was_deleted,
        refuse_when_a_unique_name_clashes,
        refuse_when_the_record_exists_again,
    ],
)
def test_a_restore_that_cannot_be_done_is_refused_with_a_reason_and_changes_nothing(
    as_admin, editor, admin_user, gsomia, setup
):
    record, row, message = setup(gsomia, editor, admin_user)
    tables = {model: list(model.objects.order_by("pk").values()) for model in (Event, Citation, Alias, Source)}
    count = history_count()
    response = as_admin.post(restore_url(gsomia, record, row))
    assert response.status_code == 409
    html = response.content.decode()
    assert "This cannot be restored" in html
    assert "Nothing was changed." in html
    assert message in response.context["problem"]
    assert history_count() == count
    assert {model: list(model.objects.order_by("pk").values()) for model in tables} == tables
