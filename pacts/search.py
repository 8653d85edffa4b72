"""Full-text search over agreements: a stored, weighted document per agreement.

On PostgreSQL each agreement keeps a `search_document` (tsvector) built by the SQL
function `pacts_search_document(id)` (migration 0006) from, by weight:

  A  title, short name, aliases      C  event summaries and notes
  B  summary                         D  citation quotes and source headlines

It is rebuilt in the same statement that takes an agreement's new revision
(`Agreement.store_status` and `AgreementQuerySet.touch`), so every write that
changes any of those texts rebuilds it in its own transaction. Korean and Japanese
write long words without spaces, so aliases are also matched by substring through
a pg_trgm index. The SQLite demo has none of this and matches plain substrings.
"""

from datetime import date

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import F, FloatField, Func, Q, Value
from django.db.models.functions import Cast

# Migration 0006 creates this function; a change here needs a migration that runs it again.
SEARCH_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION pacts_search_document(agreement bigint) RETURNS tsvector
LANGUAGE sql STABLE AS $$
SELECT
    setweight(to_tsvector('english', a.title || ' ' || a.short_name), 'A')
    || setweight(to_tsvector('simple', coalesce(
        (SELECT string_agg(title, ' ') FROM pacts_alias WHERE agreement_id = a.id), '')), 'A')
    || setweight(to_tsvector('english', a.summary), 'B')
    || setweight(to_tsvector('english', coalesce(
        (SELECT string_agg(summary || ' ' || notes, ' ') FROM pacts_event WHERE agreement_id = a.id), '')), 'C')
    || setweight(to_tsvector('english', coalesce(
        (SELECT string_agg(c.quote || ' ' || s.headline, ' ')
         FROM (SELECT source_id, quote FROM pacts_citation WHERE agreement_id = a.id
               UNION ALL
               SELECT c.source_id, c.quote FROM pacts_citation c
               JOIN pacts_event e ON e.id = c.event_id WHERE e.agreement_id = a.id) AS c
         JOIN pacts_source s ON s.id = c.source_id), '')), 'D')
FROM pacts_agreement a WHERE a.id = agreement
$$;
"""


class SearchDocumentField(SearchVectorField):
    """A tsvector on PostgreSQL; plain text (unused) on the SQLite demo."""

    def db_type(self, connection):
        return "tsvector" if connection.vendor == "postgresql" else "text"


def rebuilt_document():
    """The expression that recomputes an agreement's search document, or None off PostgreSQL."""
    if connection.vendor != "postgresql":
        return None
    return Func(F("id"), function="pacts_search_document", output_field=SearchDocumentField())


def search_words(text):
    """The search as a tsquery: English stems, or plain words for names in any language."""
    return SearchQuery(text, config="english", search_type="websearch") | SearchQuery(
        text, config="simple", search_type="websearch"
    )


def search(agreements, text, common=False):
    """Agreements matching `text`, annotated with `rank` (higher is better).

    PostgreSQL: the weighted document (English stemming, and plain words for
    names in any language), or an alias containing the text anywhere, which is
    how a Korean or Japanese substring such as 군사정보 finds 한일군사정보보호협정.
    Elsewhere: a plain case-insensitive substring of the title, short name,
    summary or an alias.

    `common` says that the text matches many agreements (see `newest_matches`): the
    two lookups are then joined by OR, so that PostgreSQL walks the index of the
    list's order and stops after a page instead of collecting every match.
    """
    from pacts.models import Agreement, Alias

    aliased = Alias.objects.filter(title__icontains=text).values("agreement_id")
    if connection.vendor != "postgresql":
        return agreements.filter(
            Q(title__icontains=text) | Q(short_name__icontains=text) | Q(summary__icontains=text) | Q(pk__in=aliased)
        ).annotate(rank=Value(0.0))
    words = search_words(text)
    rank = SearchRank(F("search_document"), words)
    if common:
        return agreements.filter(Q(search_document=words) | Q(pk__in=aliased)).annotate(rank=rank)
    # A union of two indexed lookups (GIN on the document, trigram GIN on aliases);
    # an OR across them would read every agreement for a rare word.
    document_hits = Agreement.objects.filter(search_document=words).values("pk")
    return agreements.filter(pk__in=document_hits.union(aliased)).annotate(rank=rank)


def newest_matches(agreements, text, limit):
    """`(pk, rank)` of the `limit` newest of `agreements` matching `text`, newest first; one query.

    Newest is by latest event (undated last), then id. On PostgreSQL the document
    and the aliases are searched apart, each newest first and cut at `limit`, and
    the two merged here: for a common word PostgreSQL walks the latest-event index
    and stops after `limit` matches, for a rare one it asks the GIN index, so
    neither reads every agreement. Only these rows are ranked.
    """
    from pacts.models import Alias

    newest = (F("latest_event_on").desc(nulls_last=True), F("id").desc())
    if connection.vendor != "postgresql":
        rows = search(agreements, text).order_by(*newest).values_list("pk", "latest_event_on", "rank")[:limit]
        return [(pk, rank) for pk, _, rank in rows]
    words = search_words(text)
    # ts_rank gives a real; as a double it reads back exactly, so a cursor compares equal to its row.
    rank = Cast(SearchRank(F("search_document"), words), FloatField())
    aliased = Alias.objects.filter(title__icontains=text).values("agreement_id")
    arms = [
        agreements.filter(condition).order_by(*newest).values_list("pk", "latest_event_on", rank)[:limit]
        for condition in (Q(search_document=words), Q(pk__in=aliased))
    ]
    found = {pk: (latest, rank) for pk, latest, rank in arms[0].union(arms[1], all=True).order_by()}

    def newness(row):
        pk, (latest, _) = row
        return (latest is not None, latest or date.min, pk)

    return [(pk, rank) for pk, (_, rank) in sorted(found.items(), key=newness, reverse=True)[:limit]]
