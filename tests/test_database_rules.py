"""Every invariant the forms and the importer check also holds in PostgreSQL.

Each test writes a row with raw SQL, past the ORM and the forms, and expects the
database itself to refuse it.
"""

import pytest
from django.db import DataError, IntegrityError, connection, transaction

from pacts.models import Agreement, Citation, Event, Source
from tests.factories import AgreementFactory, CitationFactory, EventFactory, SourceFactory

pytestmark = pytest.mark.django_db


def insert_like(model, pk, **changes):
    """INSERT a copy of row `pk` of `model` with some columns changed; return the new id."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        columns = [c.name for c in connection.introspection.get_table_description(cursor, table) if c.name != "id"]
        values = ", ".join("%s" if column in changes else column for column in columns)
        params = [changes[column] for column in columns if column in changes]
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM {table} WHERE id = %s RETURNING id",
            [*params, pk],
        )
        return cursor.fetchone()[0]


def execute(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def attempt(write):
    with transaction.atomic():
        execute("SET CONSTRAINTS ALL IMMEDIATE")
        write()


def refused(write):
    """Assert the database refuses `write`, checking deferred constraints at once."""
    with pytest.raises((IntegrityError, DataError)):
        attempt(write)


def test_the_copy_helper_itself_writes_when_nothing_is_wrong(agreement):
    new_id = insert_like(Agreement, agreement.pk, slug="a-valid-copy")
    assert Agreement.objects.filter(pk=new_id).exists()


def test_the_two_parties_differ(agreement):
    refused(lambda: insert_like(Agreement, agreement.pk, slug="same-party", party_b_id="KR"))


def test_a_party_must_be_a_known_state(agreement):
    refused(lambda: insert_like(Agreement, agreement.pk, slug="unknown-party", party_b_id="ZZ"))


def test_agreement_slugs_are_unique(agreement):
    refused(lambda: insert_like(Agreement, agreement.pk))


def test_an_event_lane_is_joint_or_a_party(agreement):
    event = EventFactory(agreement=agreement, lane="KR")
    insert_like(Event, event.pk, lane="joint", external_id="joint-ok")
    insert_like(Event, event.pk, lane="JP", external_id="jp-ok")
    refused(lambda: insert_like(Event, event.pk, lane="US", external_id="us-lane"))


def test_an_agreement_cannot_drop_a_party_whose_lane_has_events(agreement):
    EventFactory(agreement=agreement, lane="JP")
    refused(lambda: execute("UPDATE pacts_agreement SET party_b_id = 'US' WHERE id = %s", [agreement.pk]))


def test_resolves_stays_inside_the_agreement(agreement):
    expected = EventFactory(agreement=agreement, status="expected", date="2012-06")
    elsewhere = EventFactory(agreement=AgreementFactory(party_a_id="KR", party_b_id="US"), lane="KR")
    refused(lambda: execute("UPDATE pacts_event SET resolves_id = %s WHERE id = %s", [expected.pk, elsewhere.pk]))


def test_an_event_has_at_most_one_resolver(agreement):
    expected = EventFactory(agreement=agreement, status="postponed", kind="signature", lane="joint")
    EventFactory(agreement=agreement, kind="signature", lane="joint", date="2016-11-23", resolves=expected)
    second = EventFactory(agreement=agreement, kind="signature", lane="joint", date="2016-11-24")
    refused(lambda: execute("UPDATE pacts_event SET resolves_id = %s WHERE id = %s", [expected.pk, second.pk]))


def test_an_occurred_event_cannot_be_resolved(agreement):
    occurred = EventFactory(agreement=agreement)
    other = EventFactory(agreement=agreement, date="2012-06-27")
    refused(lambda: execute("UPDATE pacts_event SET resolves_id = %s WHERE id = %s", [occurred.pk, other.pk]))


def test_a_resolved_event_cannot_become_occurred(agreement):
    postponed = EventFactory(agreement=agreement, status="postponed", kind="signature", lane="joint")
    EventFactory(agreement=agreement, kind="signature", lane="joint", date="2016-11-23", resolves=postponed)
    refused(lambda: execute("UPDATE pacts_event SET status = 'occurred' WHERE id = %s", [postponed.pk]))


def test_resolves_cannot_form_a_cycle(agreement):
    first = EventFactory(agreement=agreement, status="postponed")
    second = EventFactory(agreement=agreement, status="postponed", resolves=first)
    third = EventFactory(agreement=agreement, status="postponed", resolves=second)
    refused(lambda: execute("UPDATE pacts_event SET resolves_id = %s WHERE id = %s", [third.pk, first.pk]))
    refused(lambda: execute("UPDATE pacts_event SET resolves_id = id WHERE id = %s", [first.pk]))


def test_event_dates_are_whole_periods(agreement):
    event = EventFactory(agreement=agreement)
    refused(lambda: insert_like(Event, event.pk, date_precision="", external_id="no-precision"))
    refused(lambda: insert_like(Event, event.pk, date_end="2012-01-01", external_id="end-before-start"))


def test_not_after_is_not_before_the_date(agreement):
    event = EventFactory(agreement=agreement, status="expected", date="2012-06")
    refused(lambda: execute("UPDATE pacts_event SET not_after = '2012-05-31' WHERE id = %s", [event.pk]))


def test_event_kinds_and_statuses_come_from_the_vocabulary(agreement):
    event = EventFactory(agreement=agreement)
    refused(lambda: insert_like(Event, event.pk, kind="coup", external_id="bad-kind"))
    refused(lambda: insert_like(Event, event.pk, status="rumoured", external_id="bad-status"))


def test_source_keys_are_unique():
    source = SourceFactory()
    refused(lambda: insert_like(Source, source.pk, url="https://example.org/other"))


def test_url_and_version_are_unique_together():
    source = SourceFactory(url="https://example.org/a", version="3rd LD")
    insert_like(Source, source.pk, key="other-version", version="4th LD")
    refused(lambda: insert_like(Source, source.pk, key="same-version"))


def test_natural_source_key_treats_unknown_dates_as_equal():
    source = SourceFactory(published=None, url=None)
    refused(lambda: insert_like(Source, source.pk, key="same-report-again"))


def test_source_urls_are_http_or_https_only():
    source = SourceFactory(url="https://example.org/a")
    refused(lambda: insert_like(Source, source.pk, key="script", url="javascript:alert(1)"))
    refused(lambda: insert_like(Source, source.pk, key="ftp", url="ftp://example.org/a"))


def test_one_citation_per_event_and_source():
    citation = CitationFactory()
    refused(lambda: insert_like(Citation, citation.pk))


def test_a_quote_is_at_most_500_characters():
    citation = CitationFactory()
    refused(lambda: execute("UPDATE pacts_citation SET quote = %s WHERE id = %s", ["x" * 501, citation.pk]))
    execute("UPDATE pacts_citation SET quote = %s WHERE id = %s", ["x" * 500, citation.pk])


def test_a_citation_cites_an_event_or_an_agreement_never_both(agreement):
    citation = CitationFactory(event=EventFactory(agreement=agreement))
    refused(lambda: execute("UPDATE pacts_citation SET agreement_id = %s WHERE id = %s", [agreement.pk, citation.pk]))
    refused(lambda: execute("UPDATE pacts_citation SET event_id = NULL WHERE id = %s", [citation.pk]))


@pytest.mark.parametrize(
    ("table", "column", "text"),
    [
        ("pacts_agreement", "title", "GSOMIA \u202eesrever"),  # a bidi override
        ("pacts_agreement", "short_name", "GSO\u200bMIA"),  # a zero-width space
        ("pacts_agreement", "title", "two\nlines"),  # a one-line column
        ("pacts_event", "summary", "bell\x07"),  # a control character
        ("pacts_event", "notes", "\ufeffnotes"),  # a byte-order mark, even in paragraphs
        ("pacts_source", "headline", "a\u2066b"),  # an isolate
        ("pacts_citation", "quote", "a\u2060b"),  # a word joiner
    ],
)
def test_text_holds_no_hidden_or_control_characters(agreement, table, column, text):
    event = EventFactory(agreement=agreement)
    citation = CitationFactory(event=event)
    row = {"pacts_agreement": agreement.pk, "pacts_event": event.pk, "pacts_source": citation.source_id}
    pk = row.get(table, citation.pk)
    with pytest.raises(IntegrityError):
        attempt(lambda: execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [text, pk]))


def test_paragraphs_keep_their_line_breaks_and_long_text_stops_at_20000(agreement):
    execute("UPDATE pacts_agreement SET summary = %s WHERE id = %s", ["First.\n\nSecond.", agreement.pk])
    with pytest.raises(IntegrityError):
        attempt(lambda: execute("UPDATE pacts_agreement SET summary = %s WHERE id = %s", ["x" * 20_001, agreement.pk]))
