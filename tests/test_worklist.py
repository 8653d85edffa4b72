"""The editors' worklist: unsourced, disputed, low-confidence, overdue and weakly sourced events; unrated publishers."""

import pytest
from django.urls import reverse

from tests.factories import CitationFactory, EventFactory, PublisherFactory, SourceFactory
from tests.test_dashboard import bulk_agreements

pytestmark = pytest.mark.django_db

URL = "/worklist/"


@pytest.fixture
def worker(client, editor):
    client.force_login(editor)
    return client


def section(content, key):
    start = content.index(f'<section id="{key}"')
    return content[start : content.index("</section>", start)]


def sourced(event, reliability="high", stance="supports"):
    publisher = PublisherFactory(name=f"{reliability} publisher", reliability=reliability)
    return CitationFactory(event=event, source=SourceFactory(publisher=publisher), stance=stance)


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_analysts_may_not_see_the_worklist(client, analyst):
    client.force_login(analyst)
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_editors_and_admins_see_the_worklist(client, make_user, role):
    client.force_login(make_user(role))
    assert client.get(URL).status_code == 200


def test_unsourced_events_are_those_no_citation_supports(worker, agreement):
    bare = EventFactory(agreement=agreement, summary="Nobody says so")
    only_contradicted = EventFactory(agreement=agreement, summary="Only denied")
    sourced(only_contradicted, stance="contradicts")
    sourced(EventFactory(agreement=agreement, summary="Well sourced"))
    unsourced = section(worker.get(URL).content.decode(), "unsourced")
    assert "Nobody says so" in unsourced
    assert "Only denied" in unsourced
    assert "Well sourced" not in unsourced
    assert f'href="{reverse("event-edit", args=[agreement.slug, bare.pk])}"' in unsourced
    assert f'href="/agreements/{agreement.slug}/#event-{bare.pk}"' in unsourced


def test_disputed_events_have_a_contradicting_citation(worker, agreement):
    disputed = EventFactory(agreement=agreement, summary="Sources disagree")
    sourced(disputed)
    sourced(disputed, reliability="medium", stance="contradicts")
    sourced(EventFactory(agreement=agreement, summary="Agreed by all"))
    content = section(worker.get(URL).content.decode(), "disputed")
    assert "Sources disagree" in content
    assert "Agreed by all" not in content


def test_low_confidence_events(worker, agreement):
    EventFactory(agreement=agreement, confidence="low", summary="Hazy")
    EventFactory(agreement=agreement, confidence="medium", summary="Fairly sure")
    content = section(worker.get(URL).content.decode(), "low-confidence")
    assert "Hazy" in content
    assert "Fairly sure" not in content


def test_overdue_events(worker, agreement):
    EventFactory(agreement=agreement, status="expected", date="2015-06", summary="Long due")
    EventFactory(agreement=agreement, status="expected", date="2099", summary="Not yet")
    content = section(worker.get(URL).content.decode(), "overdue")
    assert "Long due" in content
    assert "Not yet" not in content


def test_events_backed_only_by_low_reliability_publishers(worker, agreement):
    sourced(EventFactory(agreement=agreement, summary="Only tabloids"), reliability="low")
    mixed = EventFactory(agreement=agreement, summary="Tabloid and agency")
    sourced(mixed, reliability="low")
    sourced(mixed, reliability="high")
    weak_but_denied_by_agency = EventFactory(agreement=agreement, summary="Tabloid, denied")
    sourced(weak_but_denied_by_agency, reliability="low")
    sourced(weak_but_denied_by_agency, reliability="high", stance="contradicts")
    EventFactory(agreement=agreement, summary="No sources at all")
    content = section(worker.get(URL).content.decode(), "low-reliability")
    assert "Only tabloids" in content
    assert "Tabloid, denied" in content
    assert "Tabloid and agency" not in content
    assert "No sources at all" not in content


def test_unrated_publishers_link_admins_to_their_admin_page(client, admin_user, editor):
    unrated = PublisherFactory(name="New Outlet", reliability="unrated")
    SourceFactory.create_batch(2, publisher=unrated)
    PublisherFactory(name="Rated Outlet", reliability="medium")
    client.force_login(admin_user)
    content = section(client.get(URL).content.decode(), "unrated-publishers")
    assert "New Outlet" in content
    assert "2 sources" in content
    assert "Rated Outlet" not in content
    assert f'href="/admin/pacts/publisher/{unrated.pk}/change/"' in content
    # Editors may not rate publishers, so they get no link to a page that would refuse them.
    client.force_login(editor)
    content = section(client.get(URL).content.decode(), "unrated-publishers")
    assert "New Outlet" in content
    assert "/admin/pacts/publisher/" not in content


def test_sections_are_capped_but_count_everything(worker, agreement, monkeypatch):
    monkeypatch.setattr("pacts.views.worklist.SECTION_LENGTH", 3)
    for n in range(5):
        EventFactory(agreement=agreement, confidence="low", summary=f"Hazy {n}")
    content = section(worker.get(URL).content.decode(), "low-confidence")
    assert content.count("<li>") == 3
    assert '<span class="count">5</span>' in content
    assert "3 of 5 shown" in content


@pytest.mark.parametrize("agreements", [3, 300])
def test_the_worklist_runs_a_constant_number_of_queries(worker, django_assert_num_queries, agreements):
    bulk_agreements(agreements)
    # session, user, groups; five event sections; unrated publishers
    with django_assert_num_queries(9):
        response = worker.get(URL)
    content = response.content.decode()
    # Per agreement: six events no source supports, one disputed, one low-confidence, one overdue,
    # one backed only by a low-rated publisher, and one unrated publisher.
    expected = {"unsourced": 6, "disputed": 1, "low-confidence": 1, "overdue": 1, "low-reliability": 1}
    for key, per_agreement in expected.items() | {("unrated-publishers", 1)}:
        heading = section(content, key).split("</h2>")[0]
        assert heading.endswith(f'<span class="count">{per_agreement * agreements}</span>'), key
