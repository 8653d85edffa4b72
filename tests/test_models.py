"""Stored status, overdue and first reported on the models."""

from datetime import date

import pytest

from pacts.models import Agreement, Event
from tests.factories import CitationFactory, EventFactory, SourceFactory

pytestmark = pytest.mark.django_db


def stored_equals_computed():
    return all((a.status, a.notice) == a.compute_status() for a in Agreement.objects.all())


def test_termination_notice_qualifies_but_keeps_in_force(agreement):
    agreement.entry_into_force = "on-signature"
    agreement.save()
    agreement.events.create(kind="signature", lane="joint", status="occurred", date="2016-11-23", summary="Signed")
    agreement.events.create(kind="termination-notice", lane="KR", status="occurred", date="2019-08-23", summary="Note")
    agreement.refresh_from_db()
    assert (agreement.status, agreement.notice) == ("in-force", "pending")


def test_saving_an_event_stores_the_status(agreement):
    event = EventFactory(agreement=agreement, kind="negotiation-opened", lane="joint", date="2011")
    agreement.refresh_from_db()
    assert agreement.status == "negotiating"
    event.kind = "text-initialled"
    event.save()
    agreement.refresh_from_db()
    assert agreement.status == "initialled"
    assert stored_equals_computed()


def test_deleting_an_event_stores_the_status(agreement):
    EventFactory(agreement=agreement, kind="negotiation-opened", lane="joint", date="2011")
    signature = EventFactory(agreement=agreement, kind="signature", lane="joint", date="2016-11-23")
    signature.delete()
    agreement.refresh_from_db()
    assert agreement.status == "negotiating"
    Event.objects.filter(agreement=agreement).delete()
    agreement.refresh_from_db()
    assert agreement.status == "proposed"


def test_changing_the_entry_into_force_rule_stores_the_status(agreement):
    EventFactory(agreement=agreement, kind="signature", lane="joint", date="2016-11-23")
    agreement.refresh_from_db()
    assert agreement.status == "signed"
    agreement.entry_into_force = "on-signature"
    agreement.save()
    assert Agreement.objects.get(pk=agreement.pk).status == "in-force"


def test_status_as_of_a_past_day(agreement):
    EventFactory(agreement=agreement, kind="text-initialled", lane="joint", date="2016-11-14")
    EventFactory(agreement=agreement, kind="signature", lane="joint", date="2016-11-23")
    assert agreement.compute_status(as_of=date(2016, 11, 20)) == ("initialled", "none")


@pytest.mark.parametrize(
    ("fields", "overdue"),
    [
        ({"date": "2012-06", "not_after": None}, True),
        ({"date": "2012-06", "not_after": date(2012, 6, 30)}, True),
        ({"date": "2999-06", "not_after": None}, False),
        ({"date": "2012-06", "not_after": date(2999, 1, 1)}, False),
        ({"date": None, "not_after": None}, False),
    ],
)
def test_an_expected_event_is_overdue_once_its_deadline_has_passed(agreement, fields, overdue):
    event = EventFactory(agreement=agreement, status="expected", **fields)
    assert (event in Event.objects.overdue()) == overdue
    assert event.is_overdue() == overdue


def test_a_resolved_expectation_is_not_overdue(agreement):
    postponed = EventFactory(agreement=agreement, status="expected", kind="signature", lane="joint", date="2012-06")
    EventFactory(agreement=agreement, kind="signature", lane="joint", date="2016-11-23", resolves=postponed)
    assert not Event.objects.overdue().exists()
    assert not Event.objects.select_related("resolved_by").get(pk=postponed.pk).is_overdue()


def test_overdue_is_judged_against_the_deadline_day(agreement):
    event = EventFactory(agreement=agreement, status="expected", date="2012-06", not_after=date(2012, 6, 30))
    assert event in Event.objects.overdue(today=date(2012, 7, 1))
    assert event not in Event.objects.overdue(today=date(2012, 6, 30))


def test_first_reported_is_the_earliest_supporting_source(agreement):
    event = EventFactory(agreement=agreement)
    CitationFactory(event=event, source=SourceFactory(published="2012-06-28"))
    CitationFactory(event=event, source=SourceFactory(published="2012-06-27T09:00:00+09:00"))
    CitationFactory(event=event, source=SourceFactory(published="2012-06-20"), stance="contradicts")
    assert Event.objects.with_first_reported().get(pk=event.pk).first_reported == date(2012, 6, 27)


def test_every_event_gets_an_interchange_id(agreement):
    assert EventFactory(agreement=agreement, kind="signature", lane="joint").external_id.startswith("signature-")
