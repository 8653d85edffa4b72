"""Downloads of what the list selects: the pacts/1 document and one CSV row per event.

Both are written while they are sent, a chunk of agreements or events at a time,
so that memory and the number of queries stay flat as the database grows.
"""

import csv
import json

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F, Prefetch
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from pacts.access import reader_required
from pacts.filters import AgreementFilter
from pacts.interchange import FORMAT, export_agreement, export_publisher, export_source
from pacts.models import Agreement, Citation, Event, Publisher, Relation, Source

# Rows fetched per query; each chunk also runs one query per prefetched relation.
AGREEMENT_CHUNK = 500
EVENT_CHUNK = 2000

EVENT_COLUMNS = [
    "slug",
    "short_name",
    "party_a",
    "party_b",
    "event_id",
    "kind",
    "lane",
    "status",
    "date",
    "not_after",
    "time",
    "confidence",
    "summary",
    "body",
    "actors",
    "notes",
    "resolves",
    "sources",
    "first_reported",
]

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def selection(request):
    """The list's filters from the query string; an invalid one is an error response instead."""
    selected = AgreementFilter(request.GET, queryset=Agreement.objects.all())
    if selected.is_valid():
        return selected, None
    lines = [f"{name}: {error}" for name, errors in selected.errors.items() for error in errors]
    return None, HttpResponse(
        "These filters are not valid:\n" + "\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8"
    )


def attachment(response, name, extension):
    today = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="pacts-{name}-{today}.{extension}"'
    return response


@require_GET
@reader_required
def export_agreements(request):
    """`/export/agreements.json`: the pacts/1 document of the agreements the list's filters select."""
    selected, problem = selection(request)
    if problem:
        return problem
    chunks = one_snapshot(document_chunks(selected.qs, complete=not selected.is_filtered))
    response = StreamingHttpResponse(chunks, content_type="application/json; charset=utf-8")
    return attachment(response, "agreements", "json")


@require_GET
@reader_required
def export_events(request):
    """`/export/events.csv`: one row per event of the agreements the list's filters select."""
    selected, problem = selection(request)
    if problem:
        return problem
    response = StreamingHttpResponse(one_snapshot(csv_lines(selected.qs)), content_type="text/csv; charset=utf-8")
    return attachment(response, "events", "csv")


def one_snapshot(chunks):
    """Run a generator's queries in one transaction that sees the database as it was at the first.

    Without it each chunk would see the writes made since the previous one: a
    document could cite a source written after the sources were listed.
    """
    # The snapshot is taken where the reads go: the replica, when there is one.
    using = router.db_for_read(Agreement)
    connection = connections[using]
    postgresql = connection.vendor == "postgresql"
    # Under an outer transaction (tests) the snapshot is the caller's business.
    repeatable = postgresql and not connection.in_atomic_block
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            if repeatable:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            if postgresql and settings.PACTS_WEB:
                # A large export takes longer than the web requests' statement timeout allows.
                cursor.execute("SET LOCAL statement_timeout = 0")
        yield from chunks


# --- The pacts/1 document, streamed -----------------------------------------------


def document_chunks(agreements, complete):
    """The text of `interchange.dumps(export_document(...))`, one agreement at a time.

    A `complete` export (nothing filtered) carries every publisher and source, as
    `export_document()` does; otherwise only those the agreements cite.
    """
    selected = agreements.values("pk")
    if complete:
        sources = Source.objects.all()
        relations = Relation.objects.all()
    else:
        cited = Citation.objects.filter(agreement__in=selected).values("source_id")
        cited = cited.union(Citation.objects.filter(event__agreement__in=selected).values("source_id"))
        sources = Source.objects.filter(pk__in=cited)
        # Relations to agreements left out of the file would not import.
        relations = Relation.objects.filter(other__in=selected)
    publishers = (
        Publisher.objects.all() if complete else Publisher.objects.filter(pk__in=sources.values("publisher_id"))
    )
    citations = Citation.objects.select_related("source")
    agreements = agreements.order_by("slug").prefetch_related(
        "aliases",
        Prefetch("relations", relations.select_related("other")),
        Prefetch("citations", citations),
        Prefetch("events", Event.objects.select_related("resolves").prefetch_related(Prefetch("citations", citations))),
    )
    yield f'{{\n  "format": {json.dumps(FORMAT)},\n  "publishers": '
    publishers = publishers.order_by("name").iterator(chunk_size=EVENT_CHUNK)
    yield from json_array(export_publisher(publisher) for publisher in publishers)
    yield ',\n  "sources": '
    sources = sources.select_related("publisher").order_by("key").iterator(chunk_size=EVENT_CHUNK)
    yield from json_array(export_source(source) for source in sources)
    yield ',\n  "agreements": '
    yield from json_array(export_agreement(agreement) for agreement in agreements.iterator(chunk_size=AGREEMENT_CHUNK))
    yield "\n}\n"


def json_array(items):
    """A JSON array one item at a time, laid out as `interchange.dumps` lays it out in a document."""
    empty = True
    for item in items:
        text = json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n    ")
        yield ("[\n    " if empty else ",\n    ") + text
        empty = False
    yield "[]" if empty else "\n  ]"


# --- Events as CSV ----------------------------------------------------------------


class Echo:
    """A file-like object whose write() returns what it was given, for csv.writer."""

    def write(self, value):
        return value


def csv_lines(agreements):
    """A byte-order mark (so that Excel reads UTF-8), the header, then one line per event."""
    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow(EVENT_COLUMNS)
    events = (
        Event.objects.filter(agreement__in=agreements.values("pk"))
        .select_related("agreement", "resolves")
        .prefetch_related(Prefetch("citations", Citation.objects.select_related("source")))
        .order_by("agreement__slug", F("date_start").asc(nulls_last=True), "kind_position", "id")
    )
    for event in events.iterator(chunk_size=EVENT_CHUNK):
        yield writer.writerow([neutralised(value) for value in event_row(event)])


def event_row(event):
    agreement, citations = event.agreement, event.citations.all()
    reported = [c.source.published_on for c in citations if c.stance == "supports" and c.source.published_on]
    return [
        agreement.slug,
        agreement.short_name,
        agreement.party_a_id,
        agreement.party_b_id,
        event.external_id,
        event.kind,
        event.lane,
        event.status,
        event.date.iso if event.date else "",
        event.not_after.isoformat() if event.not_after else "",
        event.time.strftime("%H:%M") if event.time else "",
        event.confidence,
        event.summary,
        event.body,
        "; ".join(event.actors),
        event.notes,
        event.resolves.external_id if event.resolves else "",
        "; ".join(citation.source.key for citation in citations),
        min(reported).isoformat() if reported else "",
    ]


def neutralised(value):
    """A cell a spreadsheet shows as text: one that starts like a formula gets a leading apostrophe."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
