"""Downloads of what the list selects: the pacts/1 document and the events as CSV."""

import codecs
import csv
import io
import json

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from pacts.interchange import dumps, export_document, import_document
from pacts.models import Agreement, Event, Publisher, Source
from tests.factories import AgreementFactory, CitationFactory, EventFactory, SourceFactory
from tests.test_list import make_agreements

pytestmark = pytest.mark.django_db

JSON = reverse("export-agreements")
CSV = reverse("export-events")


def body(response):
    return b"".join(response.streaming_content).decode("utf-8")


def rows(response):
    text = body(response)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# --- JSON ---------------------------------------------------------------------------


def test_the_json_export_is_the_interchange_document_written_as_it_streams(reader, gsomia):
    response = reader.get(JSON)
    assert response.streaming
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert body(response) == dumps(export_document())


def test_a_filtered_json_export_is_export_document_of_the_selection(reader, gsomia):
    AgreementFactory(slug="jp-au-raa", party_a_id="JP", party_b_id="AU", kind="reciprocal-access")
    selection = Agreement.objects.filter(slug="kr-jp-gsomia")
    assert body(reader.get(f"{JSON}?kind=intelligence-sharing")) == dumps(export_document(selection))


def test_a_filtered_json_export_leaves_out_relations_and_sources_of_other_agreements(reader, gsomia):
    acsa = Agreement.objects.get(slug="kr-jp-acsa")
    only_acsa = SourceFactory(key="only-acsa")
    CitationFactory(event=EventFactory(agreement=acsa), source=only_acsa)
    document = json.loads(body(reader.get(f"{JSON}?kind=intelligence-sharing")))
    assert [a["slug"] for a in document["agreements"]] == ["kr-jp-gsomia"]
    assert document["agreements"][0]["related"] == []
    assert "only-acsa" not in {s["key"] for s in document["sources"]}


def test_the_json_export_imports_into_an_empty_database_and_reproduces_it(reader, gsomia):
    EventFactory(agreement=gsomia, kind="statement", lane="KR", date="2019-08-22", summary='=HYPERLINK("x")')
    before = export_document()
    text = body(reader.get(JSON))
    for model in (Agreement, Source, Publisher):
        model.objects.all().delete()
    import_document(json.loads(text))
    assert export_document() == before


def test_the_json_export_is_an_attachment(reader, gsomia):
    disposition = reader.get(JSON)["Content-Disposition"]
    assert disposition.startswith('attachment; filename="pacts-agreements-')
    assert disposition.endswith('.json"')


def test_an_empty_selection_is_still_a_valid_document(reader, gsomia):
    document = json.loads(body(reader.get(f"{JSON}?q=zeppelin")))
    assert document == {"format": "pacts/1", "publishers": [], "sources": [], "agreements": []}


# --- CSV ----------------------------------------------------------------------------


def test_the_csv_has_a_bom_a_header_and_one_row_per_event(reader, gsomia):
    response = reader.get(CSV)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(reader.get(CSV).streaming_content).startswith(codecs.BOM_UTF8)
    table = rows(response)
    assert table[0][:5] == ["slug", "short_name", "party_a", "party_b", "event_id"]
    assert len(table) - 1 == Event.objects.count()


def test_a_csv_row_carries_the_event_its_sources_and_first_report(reader, gsomia):
    table = rows(reader.get(f"{CSV}?q=GSOMIA"))
    row = dict(zip(table[0], next(r for r in table if r[4] == "kr-cabinet"), strict=True))
    assert row["slug"] == "kr-jp-gsomia"
    assert row["short_name"] == "Korea–Japan GSOMIA"
    assert (row["party_a"], row["party_b"], row["lane"], row["kind"]) == ("KR", "JP", "KR", "cabinet-approval")
    assert row["date"] == "2012-06-26"
    assert row["sources"] == "yonhap-2012-06-27-gsomia-3ld"
    assert row["first_reported"] == "2012-06-27"


def test_csv_cells_that_could_run_as_formulas_are_neutralised(reader):
    agreement = AgreementFactory(short_name="@SUM(A1)")
    EventFactory(
        agreement=agreement, summary='=HYPERLINK("http://evil")', body="+1", notes="-2", actors=["\tTab", "Ann"]
    )
    row = rows(reader.get(CSV))[1]
    assert row[1] == "'@SUM(A1)"
    assert row[12:16] == ['\'=HYPERLINK("http://evil")', "'+1", "'\tTab; Ann", "'-2"]


def test_csv_keeps_korean_text_intact(reader):
    EventFactory(agreement=AgreementFactory(short_name="한일 군사정보보호협정"), summary="국무회의 의결")
    row = rows(reader.get(CSV))[1]
    assert (row[1], row[12]) == ("한일 군사정보보호협정", "국무회의 의결")


def test_csv_honours_the_lists_filters(reader, gsomia):
    AgreementFactory(slug="jp-au-raa", party_a_id="JP", party_b_id="AU").events.create(
        kind="signature", lane="joint", date="2022-01-06", summary="Signed in a video call"
    )
    assert {row[0] for row in rows(reader.get(f"{CSV}?party=AU"))[1:]} == {"jp-au-raa"}


def test_the_csv_is_an_attachment(reader, gsomia):
    disposition = reader.get(CSV)["Content-Disposition"]
    assert disposition.startswith('attachment; filename="pacts-events-')
    assert disposition.endswith('.csv"')


# --- Access and bad input -----------------------------------------------------------


@pytest.mark.parametrize("url", [JSON, CSV])
def test_exports_need_read_access(client, make_user, gsomia, url):
    assert client.get(url).status_code == 302
    client.force_login(make_user())
    assert client.get(url).status_code == 403


@override_settings(PACTS_PUBLIC_READ=True)
@pytest.mark.parametrize("url", [JSON, CSV])
def test_exports_are_public_when_reading_is(client, gsomia, url):
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", [JSON, CSV])
@pytest.mark.parametrize("query", ["year_from=2020&year_to=2010", "q=a%00b", "kind=alliance"])
def test_invalid_filters_answer_400_with_the_reason(reader, gsomia, url, query):
    response = reader.get(f"{url}?{query}")
    assert response.status_code == 400
    assert response.content.decode().startswith("These filters are not valid:")


# --- Query budgets ------------------------------------------------------------------


@pytest.mark.parametrize("size", [3, 300])
@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # session, user, groups; the snapshot's transaction (here a savepoint) begun and ended; and then
        # publishers, sources; agreements, their aliases, relations, citations, events, the events' citations
        (JSON, 13),
        (f"{JSON}?party=JP", 13),
        # session, user, groups; savepoint, release; events, their citations
        (CSV, 7),
    ],
)
def test_exports_run_the_same_number_of_queries_whatever_the_size(
    reader, django_assert_num_queries, size, url, queries
):
    agreements = make_agreements(size)
    for agreement in agreements[:3]:
        CitationFactory(event=agreement.events.get())
    with django_assert_num_queries(queries):
        response = reader.get(url)
        content = b"".join(response.streaming_content)
    assert content.count(b"signature-") >= size


# serialized_rollback: the flush after this test would remove the parties and roles the migrations made.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_outside_a_transaction_an_export_reads_one_repeatable_read_snapshot(client, make_user, monkeypatch):
    client.force_login(make_user("analyst"))
    EventFactory(summary="Before the export")
    levels = []
    original = csv.writer

    def spy(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SHOW transaction_isolation")
            levels.append(cursor.fetchone()[0])
        return original(*args, **kwargs)

    monkeypatch.setattr("pacts.views.exports.csv.writer", spy)
    table = rows(client.get(CSV))
    assert levels == ["repeatable read"]
    assert table[1][12] == "Before the export"
