"""The pacts/1 interchange format: read, check, import and export.

Import is all-or-nothing. `check_document` reads the whole document first and
collects every error with its place (`agreements[3].events[2].date: "2012-13-01"
is not a date`); only a document without errors is written, in one transaction,
and only the rows that differ from what the database holds are saved, so a second
import of the same file writes nothing. The file is authoritative for the
agreements it contains: their events, aliases, relations and citations that the
file does not list are deleted (and recorded in history).
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_countries import countries

from pacts import vocabulary
from pacts.dates import Period, PeriodError
from pacts.models import Agreement, Alias, Citation, Event, Publisher, Relation, Source
from pacts.models.source import WEB_URL_VALIDATOR, normalise_headline, parse_published
from pacts.text import LONG_TEXT_LENGTH, REASON_LENGTH, refused_character

FORMAT = "pacts/1"

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
SOURCE_KEY = re.compile(r"[A-Za-z0-9_-]+")
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# The latest time zone on Earth: an event dated "today" there has begun somewhere.
LATEST_ZONE = timezone(timedelta(hours=14))


class InterchangeError(Exception):
    """The document cannot be imported; `errors` lists each problem with its place."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def latest_today():
    """Today's date in the latest time zone on Earth (UTC+14)."""
    return datetime.now(LATEST_ZONE).date()


# --- Reading and checking -------------------------------------------------------


class Checker:
    """Collects errors while walking a document, each prefixed with its place."""

    def __init__(self):
        self.errors = []

    def error(self, place, message):
        self.errors.append(f"{place}: {message}")

    def fields(self, place, value, required, optional):
        """Check that `value` is an object with these keys; return it (or {} if not an object)."""
        if not isinstance(value, dict):
            self.error(place, f"expected an object, got {type_name(value)}")
            return {}
        for key in required:
            if key not in value:
                self.error(place, f'"{key}" is missing')
        for key in value:
            if key not in required and key not in optional:
                self.error(f"{place}.{key}", "is not a field of this object")
        return value

    def text(self, place, value, *, max_length, required=False, pattern=None, nullable=False, paragraphs=False):
        """Check a string field; return it, or None when it is absent, null or wrong.

        Only `paragraphs` may hold line breaks; no text may hold the characters pacts.text refuses.
        """
        if value is None:
            if required and not nullable:
                self.error(place, "must not be null")
            return None
        if not isinstance(value, str):
            self.error(place, f"expected a string, got {type_name(value)}")
            return None
        if "\x00" in value:
            self.error(place, "contains a NUL character")
            return None
        if problem := refused_character(value, one_line=not paragraphs):
            self.error(place, problem)
            return None
        if required and not value.strip():
            self.error(place, "must not be empty")
            return None
        if len(value) > max_length:
            self.error(place, f"is {len(value)} characters long; at most {max_length} are allowed")
            return None
        if pattern and value and not pattern.fullmatch(value):
            self.error(place, f"{quoted(value)} is not {pattern_name(pattern)}")
            return None
        return value

    def choice(self, place, value, choices, default=None):
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or value not in choices:
            self.error(place, f"{quoted(value)} is not one of: {', '.join(choices)}")
            return None
        return value

    def array(self, place, value):
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(place, f"expected a list, got {type_name(value)}")
            return []
        return value

    def period(self, place, value):
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(place, f"expected a date string or null, got {type_name(value)}")
            return None
        try:
            return Period.parse(value)
        except PeriodError:
            self.error(place, f"{quoted(value)} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
            return None

    def url(self, place, value, max_length):
        value = self.text(place, value, max_length=max_length, nullable=True)
        if value is None:
            return None
        try:
            WEB_URL_VALIDATOR(value)
        except ValidationError:
            self.error(place, f"{quoted(value)} is not an http or https URL")
            return None
        return value

    def country(self, place, value):
        if not isinstance(value, str) or value not in countries:
            self.error(place, f"{quoted(value)} is not an ISO 3166-1 alpha-2 country code")
            return None
        return value


def quoted(value, limit=60):
    """A value as JSON for an error message, cut short: nobody reads a megabyte in a message."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def type_name(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def pattern_name(pattern):
    return {
        SLUG: "a slug (lowercase letters, digits and single hyphens)",
        SOURCE_KEY: "a key (letters, digits, hyphens and underscores)",
        LANGUAGE_TAG: "a BCP 47 language tag",
    }.get(pattern, "well formed")


def read_document(raw):
    """Parse JSON text (str or bytes) into a document, or raise InterchangeError."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InterchangeError([f"document: not UTF-8 text ({error.reason} at byte {error.start})"]) from None
    if not raw.strip():
        raise InterchangeError(["document: the file is empty"])
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise InterchangeError(
            [f"document: not JSON ({error.msg} at line {error.lineno}, column {error.colno})"]
        ) from None
    except ValueError as error:  # a number with thousands of digits
        raise InterchangeError([f"document: not JSON that can be read ({str(error).split(';')[0]})"]) from None
    except RecursionError:
        raise InterchangeError(["document: lists or objects nested too deeply to be a pacts/1 document"]) from None


@dataclass
class Plan:
    """A checked document, ready to write."""

    publishers: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    agreements: list = field(default_factory=list)


def check_document(document):
    """Check a parsed document against the format and the database; return a Plan.

    Raises InterchangeError listing every problem with its place.
    """
    check = Checker()
    top = check.fields("document", document, required=["format"], optional=["publishers", "sources", "agreements"])
    if "format" in top and top["format"] != FORMAT:
        check.error("format", f'{quoted(top["format"])} is not "{FORMAT}"')
    plan = Plan()
    plan.publishers = check_publishers(check, check.array("publishers", top.get("publishers")))
    publisher_names = {p["name"] for p in plan.publishers} | set(Publisher.objects.values_list("name", flat=True))
    plan.sources = check_sources(check, check.array("sources", top.get("sources")), publisher_names)
    plan.agreements = check_agreements(check, check.array("agreements", top.get("agreements")), plan.sources)
    if check.errors:
        raise InterchangeError(check.errors)
    match_sources(plan.sources, check)
    if check.errors:
        raise InterchangeError(check.errors)
    return plan


def check_publishers(check, items):
    publishers, seen = [], set()
    for index, item in enumerate(items):
        place = f"publishers[{index}]"
        item = check.fields(place, item, required=["name"], optional=["country", "website", "reliability"])
        name = check.text(f"{place}.name", item.get("name"), max_length=200, required=True)
        if name in seen:
            check.error(f"{place}.name", f"{quoted(name)} appears twice")
        seen.add(name)
        country = item.get("country")
        if country is not None:
            country = check.country(f"{place}.country", country)
        publishers.append(
            {
                "name": name,
                "country": country or "",
                "website": check.url(f"{place}.website", item.get("website"), 500) or "",
                "reliability": check.choice(
                    f"{place}.reliability",
                    item.get("reliability"),
                    [c.value for c in Publisher.Reliability],
                    default="unrated",
                ),
            }
        )
    return publishers


def check_sources(check, items, publisher_names):
    sources, keys = [], set()
    for index, item in enumerate(items):
        place = f"sources[{index}]"
        item = check.fields(
            place,
            item,
            required=["key", "publisher", "headline"],
            optional=["published", "url", "version", "story", "dateline", "language", "kind"],
        )
        key = check.text(f"{place}.key", item.get("key"), max_length=200, required=True, pattern=SOURCE_KEY)
        if key in keys:
            check.error(f"{place}.key", f'"{key}" appears twice')
        keys.add(key)
        publisher = check.text(f"{place}.publisher", item.get("publisher"), max_length=200, required=True)
        if publisher is not None and publisher not in publisher_names:
            check.error(f"{place}.publisher", f"{quoted(publisher)} is not a known publisher")
        published = check.text(f"{place}.published", item.get("published"), max_length=40, nullable=True)
        if published:
            try:
                published, _ = parse_published(published)
            except PeriodError:
                check.error(
                    f"{place}.published",
                    f"{quoted(published)} is not a date or a datetime with its offset",
                )
        sources.append(
            {
                "key": key,
                "publisher": publisher,
                "headline": check.text(f"{place}.headline", item.get("headline"), max_length=500, required=True),
                "published": published or None,
                "url": check.url(f"{place}.url", item.get("url"), 1000),
                "version": check.text(f"{place}.version", item.get("version"), max_length=50) or "",
                "story": check.text(f"{place}.story", item.get("story"), max_length=200, pattern=SOURCE_KEY) or "",
                "dateline": check.text(f"{place}.dateline", item.get("dateline"), max_length=100) or "",
                "language": check.text(
                    f"{place}.language", item.get("language", "en"), max_length=35, required=True, pattern=LANGUAGE_TAG
                ),
                "kind": check.choice(f"{place}.kind", item.get("kind"), [c.value for c in Source.Kind], default="news"),
                "place": place,
            }
        )
    seen_urls, seen_natural = {}, {}
    for source in sources:
        if source["url"]:
            other = seen_urls.setdefault((source["url"], source["version"]), source["place"])
            if other != source["place"]:
                check.error(source["place"], f"has the same url and version as {other}")
        elif source["headline"] and source["publisher"]:
            natural = natural_key(source)
            other = seen_natural.setdefault(natural, source["place"])
            if other != source["place"]:
                check.error(source["place"], f"has the same publisher, headline, date and version as {other}")
    return sources


def natural_key(source):
    return (source["publisher"], normalise_headline(source["headline"]), source["published"], source["version"])


def match_sources(sources, check):
    """Find the database row of each file source: by key, then (url, version), then natural key."""
    by_key = Source.objects.select_related("publisher").in_bulk([s["key"] for s in sources], field_name="key")
    for source in sources:
        matches = {}
        if source["key"] in by_key:
            matches["key"] = by_key[source["key"]]
        if source["url"]:
            found = Source.objects.filter(url=source["url"], version=source["version"]).first()
            if found:
                matches["url and version"] = found
        else:
            found = Source.objects.filter(
                publisher__name=source["publisher"],
                headline_key=normalise_headline(source["headline"]),
                published=source["published"],
                version=source["version"],
                url__isnull=True,
            ).first()
            if found:
                matches["publisher, headline, date and version"] = found
        distinct = {row.pk: row for row in matches.values()}
        if len(distinct) > 1:
            described = "; ".join(f"by {how}: {row.key}" for how, row in matches.items())
            check.error(source["place"], f"matches different sources in the database ({described})")
        source["match"] = next(iter(distinct.values()), None)


def check_agreements(check, items, file_sources):
    known_source_keys = {s["key"] for s in file_sources}
    cited_keys = set()
    agreements, slugs = [], set()
    for index, item in enumerate(items):
        place = f"agreements[{index}]"
        item = check.fields(
            place,
            item,
            required=["slug", "title", "kind", "parties"],
            optional=[
                "short_name",
                "aliases",
                "legal_form",
                "entry_into_force",
                "summary",
                "related",
                "citations",
                "events",
                "status",
                "notice",
            ],
        )
        slug = check.text(f"{place}.slug", item.get("slug"), max_length=100, required=True, pattern=SLUG)
        if slug in slugs:
            check.error(f"{place}.slug", f'"{slug}" appears twice')
        slugs.add(slug)
        parties = check_parties(check, f"{place}.parties", item.get("parties"))
        agreement = {
            "place": place,
            "slug": slug,
            "title": check.text(f"{place}.title", item.get("title"), max_length=500, required=True),
            "short_name": check.text(f"{place}.short_name", item.get("short_name"), max_length=200) or "",
            "summary": check.text(f"{place}.summary", item.get("summary"), max_length=LONG_TEXT_LENGTH, paragraphs=True)
            or "",
            "kind": check.choice(f"{place}.kind", item.get("kind"), [k for k, _ in vocabulary.AGREEMENT_KINDS]),
            "legal_form": check.choice(
                f"{place}.legal_form", item.get("legal_form"), [k for k, _ in vocabulary.LEGAL_FORMS], "unknown"
            ),
            "entry_into_force": check.choice(
                f"{place}.entry_into_force",
                item.get("entry_into_force"),
                [k for k, _ in vocabulary.ENTRY_INTO_FORCE_RULES],
                "unknown",
            ),
            "parties": parties,
            "aliases": check_aliases(check, place, item.get("aliases")),
            "related": check_related(check, place, item.get("related")),
            "citations": check_citations(check, f"{place}.citations", item.get("citations"), cited_keys),
            "events": check_events(check, place, item.get("events"), parties, cited_keys),
        }
        agreements.append(agreement)
    known_slugs = slugs | set(
        Agreement.objects.filter(slug__in=relation_slugs(agreements)).values_list("slug", flat=True)
    )
    for agreement in agreements:
        for position, relation in enumerate(agreement["related"]):
            if relation["slug"] and relation["slug"] not in known_slugs:
                check.error(
                    f"{agreement['place']}.related[{position}].slug",
                    f'"{relation["slug"]}" is neither in the file nor in the database',
                )
            if relation["slug"] == agreement["slug"]:
                check.error(f"{agreement['place']}.related[{position}].slug", "an agreement cannot relate to itself")
    stored_keys = set(Source.objects.filter(key__in=cited_keys).values_list("key", flat=True))
    for agreement in agreements:
        for place, key in agreement_citation_places(agreement):
            if key not in known_source_keys and key not in stored_keys:
                check.error(f"{place}.source", f'"{key}" is neither in the file\'s sources nor in the database')
    return agreements


def relation_slugs(agreements):
    return {relation["slug"] for agreement in agreements for relation in agreement["related"] if relation["slug"]}


def agreement_citation_places(agreement):
    for citation in agreement["citations"]:
        yield citation["place"], citation["source"]
    for event in agreement["events"]:
        for citation in event["citations"]:
            yield citation["place"], citation["source"]


def check_parties(check, place, value):
    if not isinstance(value, list):
        check.error(place, f"expected a list of two country codes, got {type_name(value)}")
        return []
    if len(value) != 2:
        check.error(place, f"an agreement has exactly two parties, not {len(value)}")
        return []
    codes = [check.country(f"{place}[{i}]", code) for i, code in enumerate(value)]
    if None in codes:
        return []
    if codes[0] == codes[1]:
        check.error(place, f'"{codes[0]}" appears twice; the two parties must differ')
        return []
    return codes


def check_aliases(check, place, value):
    aliases, seen = [], set()
    for index, item in enumerate(check.array(f"{place}.aliases", value)):
        here = f"{place}.aliases[{index}]"
        item = check.fields(here, item, required=["title", "language"], optional=["note"])
        alias = {
            "title": check.text(f"{here}.title", item.get("title"), max_length=500, required=True),
            "language": check.text(
                f"{here}.language", item.get("language"), max_length=35, required=True, pattern=LANGUAGE_TAG
            ),
            "note": check.text(f"{here}.note", item.get("note"), max_length=200) or "",
        }
        if (alias["title"], alias["language"]) in seen:
            check.error(here, "this alias appears twice")
        seen.add((alias["title"], alias["language"]))
        aliases.append(alias)
    return aliases


def check_related(check, place, value):
    related = []
    for index, item in enumerate(check.array(f"{place}.related", value)):
        here = f"{place}.related[{index}]"
        item = check.fields(here, item, required=["slug", "relation"], optional=[])
        related.append(
            {
                "slug": check.text(f"{here}.slug", item.get("slug"), max_length=100, required=True, pattern=SLUG),
                "relation": check.choice(
                    f"{here}.relation", item.get("relation"), [k for k, _ in vocabulary.RELATIONS]
                ),
            }
        )
    return related


def check_citations(check, place, value, cited_keys):
    citations, seen = [], set()
    for index, item in enumerate(check.array(place, value)):
        here = f"{place}[{index}]"
        item = check.fields(here, item, required=["source"], optional=["stance", "quote", "note"])
        key = check.text(f"{here}.source", item.get("source"), max_length=200, required=True, pattern=SOURCE_KEY)
        if key in seen:
            check.error(f"{here}.source", f'"{key}" is cited twice here; one citation per source')
        seen.add(key)
        if key:
            cited_keys.add(key)
        citations.append(
            {
                "place": here,
                "source": key,
                "stance": check.choice(
                    f"{here}.stance", item.get("stance"), [c.value for c in Citation.Stance], default="supports"
                ),
                "quote": check.text(f"{here}.quote", item.get("quote"), max_length=500, paragraphs=True) or "",
                "note": check.text(f"{here}.note", item.get("note"), max_length=500) or "",
            }
        )
    return citations


EVENT_FIELDS = [
    "id",
    "date",
    "not_after",
    "time",
    "confidence",
    "body",
    "actors",
    "notes",
    "resolves",
    "citations",
]


def check_events(check, place, value, parties, cited_keys):
    events, ids = [], set()
    lanes = [vocabulary.JOINT, *parties]
    today = latest_today()
    for index, item in enumerate(check.array(f"{place}.events", value)):
        here = f"{place}.events[{index}]"
        item = check.fields(here, item, required=["kind", "lane", "status", "summary"], optional=EVENT_FIELDS)
        external_id = check.text(f"{here}.id", item.get("id"), max_length=100) or ""
        if external_id and external_id in ids:
            check.error(f"{here}.id", f'"{external_id}" appears twice in this agreement')
        ids.add(external_id)
        status = check.choice(f"{here}.status", item.get("status"), [k for k, _ in vocabulary.EVENT_STATUSES])
        lane = check.text(f"{here}.lane", item.get("lane"), max_length=5, required=True)
        if lane is not None and parties and lane not in lanes:
            check.error(
                f"{here}.lane", f'"{lane}" is neither "joint" nor a party of this agreement ({", ".join(parties)})'
            )
        period = check.period(f"{here}.date", item.get("date"))
        if period and status == vocabulary.OCCURRED and period.start > today:
            check.error(f"{here}.date", f'"{period.iso}" is in the future, but the event is "occurred"')
        not_after = check_day(check, f"{here}.not_after", item.get("not_after"))
        if not_after and period and not_after < period.start:
            check.error(f"{here}.not_after", f'"{not_after}" is before the date "{period.iso}"')
        actors = check.array(f"{here}.actors", item.get("actors"))
        for position, actor in enumerate(actors):
            check.text(f"{here}.actors[{position}]", actor, max_length=200, required=True)
        events.append(
            {
                "place": here,
                "id": external_id,
                "kind": check.choice(f"{here}.kind", item.get("kind"), vocabulary.EVENT_KINDS),
                "lane": lane,
                "status": status,
                "date": period,
                "not_after": not_after,
                "time": check_time(check, f"{here}.time", item.get("time")),
                "confidence": check.choice(
                    f"{here}.confidence", item.get("confidence"), [k for k, _ in vocabulary.CONFIDENCES], "high"
                ),
                "summary": check.text(f"{here}.summary", item.get("summary"), max_length=300, required=True),
                "body": check.text(f"{here}.body", item.get("body"), max_length=200) or "",
                "actors": [actor for actor in actors if isinstance(actor, str)],
                "notes": check.text(f"{here}.notes", item.get("notes"), max_length=LONG_TEXT_LENGTH, paragraphs=True)
                or "",
                "resolves": check.text(f"{here}.resolves", item.get("resolves"), max_length=100, nullable=True),
                "citations": check_citations(check, f"{here}.citations", item.get("citations"), cited_keys),
            }
        )
    check_resolves(check, events)
    return events


def check_day(check, place, value):
    if value is None:
        return None
    if not isinstance(value, str) or not DAY.fullmatch(value):
        check.error(place, f"{quoted(value)} is not a day (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        check.error(place, f'"{value}" is not a date')
        return None


def check_time(check, place, value):
    if value is None:
        return None
    if not isinstance(value, str) or not TIME.fullmatch(value):
        check.error(place, f"{quoted(value)} is not a local time (HH:MM)")
        return None
    return time.fromisoformat(value)


def check_resolves(check, events):
    by_id = {event["id"]: event for event in events if event["id"]}
    resolver_of = {}
    for event in events:
        target_id = event["resolves"]
        if not target_id:
            continue
        place = f"{event['place']}.resolves"
        target = by_id.get(target_id)
        if target is None:
            check.error(place, f'"{target_id}" is not the id of another event of this agreement')
        elif target is event:
            check.error(place, "an event cannot resolve itself")
        elif target["status"] not in vocabulary.RESOLVABLE_STATUSES:
            check.error(
                place,
                f'"{target_id}" is "{target["status"]}"; '
                "only an expected, postponed or cancelled event can be resolved",
            )
        elif target_id in resolver_of:
            check.error(place, f'"{target_id}" is already resolved by {resolver_of[target_id]}')
        else:
            resolver_of[target_id] = event["place"]
    for event in events:
        seen, current = set(), event
        while current and current["resolves"] and current["id"] not in seen:
            seen.add(current["id"])
            current = by_id.get(current["resolves"])
            if current is event:
                check.error(f"{event['place']}.resolves", "the chain of resolves comes back to this event (a cycle)")
                break


# --- Writing --------------------------------------------------------------------


@dataclass
class Report:
    """What an import wrote (or, in a dry run, would write), by model."""

    created: dict = field(default_factory=dict)
    updated: dict = field(default_factory=dict)
    deleted: dict = field(default_factory=dict)

    def count(self, bucket, instance):
        name = type(instance)._meta.verbose_name_plural
        bucket[name] = bucket.get(name, 0) + 1

    @property
    def writes(self):
        return sum(self.created.values()) + sum(self.updated.values()) + sum(self.deleted.values())

    def __str__(self):
        parts = []
        for label, bucket in (("created", self.created), ("updated", self.updated), ("deleted", self.deleted)):
            if bucket:
                parts.append(f"{label} " + ", ".join(f"{n} {name}" for name, n in sorted(bucket.items())))
        return "; ".join(parts) or "nothing to change"


class _DryRun(Exception):
    pass


def import_document(document, *, user=None, origin="", dry_run=False):
    """Check and write a parsed document in one transaction; return a Report.

    `origin` (a file name) and `user` are recorded in the history of every row
    written. With `dry_run`, everything is done and then rolled back.
    """
    plan = check_document(document)
    # A file name can be longer than the history's reason column.
    writer = Writer(user=user, reason=f"import {origin}".strip()[:REASON_LENGTH])
    try:
        with transaction.atomic():
            writer.write(plan)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except IntegrityError as error:
        # The checks above mirror the database's rules; this is the backstop.
        raise InterchangeError([f"database: {str(error).splitlines()[0]}"]) from None
    return writer.report


class Writer:
    """Saves a Plan, touching only rows whose values differ."""

    def __init__(self, user, reason):
        self.user = user
        self.reason = reason
        self.report = Report()

    def stamp(self, instance):
        instance._history_user = self.user
        instance._change_reason = self.reason
        return instance

    def upsert(self, instance, values):
        """Set `values` on `instance` and save it if it is new or anything changed."""
        changed = instance.pk is None
        for name, value in values.items():
            if changed or getattr(instance, name) != value:
                setattr(instance, name, value)
                changed = True
        if changed:
            self.report.count(self.report.updated if instance.pk else self.report.created, instance)
            self.stamp(instance).save()
        return instance

    def delete(self, instance):
        if isinstance(instance, Event):
            # Delete the citations one by one so their history names the importer too.
            for citation in instance.citations.all():
                self.delete(citation)
        self.report.count(self.report.deleted, instance)
        self.stamp(instance).delete()

    def write(self, plan):
        publishers = {p.name: p for p in Publisher.objects.all()}
        for item in plan.publishers:
            values = {k: item[k] for k in ("country", "website", "reliability")}
            publishers[item["name"]] = self.upsert(publishers.get(item["name"]) or Publisher(name=item["name"]), values)
        sources = {}
        for item in plan.sources:
            values = {k: item[k] for k in ("key", "headline", "published", "url", "version", "story", "dateline")}
            values |= {
                "language": item["language"],
                "kind": item["kind"],
                "publisher_id": publishers[item["publisher"]].pk,
            }
            sources[item["key"]] = self.upsert(item["match"] or Source(), values)
        cited = {key for agreement in plan.agreements for _, key in agreement_citation_places(agreement)}
        sources |= Source.objects.in_bulk([key for key in cited if key not in sources], field_name="key")

        agreements = Agreement.objects.in_bulk([a["slug"] for a in plan.agreements], field_name="slug")
        for item in plan.agreements:
            agreements[item["slug"]] = self.write_agreement(agreements.get(item["slug"]), item, sources)
        for item in plan.agreements:
            self.write_relations(agreements[item["slug"]], item["related"])

    def write_agreement(self, agreement, item, sources):
        values = {k: item[k] for k in ("title", "short_name", "summary", "kind", "legal_form", "entry_into_force")}
        values |= {"party_a_id": item["parties"][0], "party_b_id": item["parties"][1]}
        agreement = self.upsert(agreement or Agreement(slug=item["slug"]), values)
        self.write_aliases(agreement, item["aliases"])
        self.write_citations(agreement.citations.all(), item["citations"], sources, agreement=agreement)
        self.write_events(agreement, item["events"], sources)
        return agreement

    def write_aliases(self, agreement, items):
        existing = {(a.title, a.language): a for a in agreement.aliases.all()}
        for item in items:
            alias = existing.pop((item["title"], item["language"]), None) or Alias(agreement=agreement)
            self.upsert(alias, item)
        for alias in existing.values():
            self.delete(alias)

    def write_relations(self, agreement, items):
        existing = {(r.other.slug, r.relation): r for r in agreement.relations.select_related("other")}
        for item in items:
            if existing.pop((item["slug"], item["relation"]), None) is None:
                other = Agreement.objects.get(slug=item["slug"])
                self.upsert(Relation(agreement=agreement, other=other), {"relation": item["relation"]})
        for relation in existing.values():
            self.delete(relation)

    def write_citations(self, queryset, items, sources, **target):
        existing = {c.source.key: c for c in queryset.select_related("source")}
        for item in items:
            citation = existing.pop(item["source"], None) or Citation(source=sources[item["source"]], **target)
            self.upsert(citation, {k: item[k] for k in ("stance", "quote", "note")})
        for citation in existing.values():
            self.delete(citation)

    def write_events(self, agreement, items, sources):
        stored = list(agreement.events.select_related("resolves"))
        by_id = {e.external_id: e for e in stored if e.external_id}
        by_natural = {(e.lane, e.kind, e.date, e.summary): e for e in stored}
        matched = {}
        for item in items:
            event = by_id.get(item["id"]) if item["id"] else None
            if event is None:
                candidate = by_natural.get((item["lane"], item["kind"], item["date"], item["summary"]))
                if (
                    candidate is not None
                    and candidate not in matched.values()
                    and not (item["id"] and candidate.external_id)
                ):
                    event = candidate
            matched[item["place"]] = event
        keep = {event.pk for event in matched.values() if event is not None}
        for event in stored:
            if event.pk not in keep:
                self.delete(event)
        # Unhook resolves links that will change first, so that no intermediate
        # state breaks the rule that a resolved event is never "occurred".
        for item in items:
            event = matched[item["place"]]
            if event is not None and event.resolves_id and (event.resolves.external_id or None) != item["resolves"]:
                self.upsert(event, {"resolves_id": None})
        saved = {}
        for item in items:
            event = matched[item["place"]] or Event(agreement=agreement)
            values = {k: item[k] for k in ("kind", "lane", "status", "date", "not_after", "time", "confidence")}
            values |= {k: item[k] for k in ("summary", "body", "actors", "notes")}
            values["external_id"] = item["id"] or event.external_id
            # Link to an already saved target now; later targets are linked below.
            target = saved.get(item["resolves"]) if item["resolves"] else None
            values["resolves_id"] = target.pk if target else None if not item["resolves"] else event.resolves_id
            event = self.upsert(event, values)
            saved[item["id"] or item["place"]] = event
            self.write_citations(event.citations.all(), item["citations"], sources, event=event)
        for item in items:
            target = saved[item["resolves"]] if item["resolves"] else None
            event = saved[item["id"] or item["place"]]
            self.upsert(event, {"resolves_id": target.pk if target else None})


# --- Export ---------------------------------------------------------------------


def export_document(agreements=None):
    """The pacts/1 document for these agreements (all of them when None).

    A full export includes every publisher and source, so that importing it into
    an empty database reproduces the database; a partial one only those cited.
    """
    queryset = (agreements if agreements is not None else Agreement.objects.all()).order_by("slug")
    queryset = queryset.prefetch_related(
        "aliases",
        "relations__other",
        "citations__source",
        "events__resolves",
        "events__citations__source",
    )
    agreement_items = [export_agreement(agreement) for agreement in queryset]
    if agreements is None:
        sources = Source.objects.select_related("publisher").order_by("key")
        publishers = Publisher.objects.order_by("name")
    else:
        keys = {c["source"] for a in agreement_items for c in a["citations"]}
        keys |= {c["source"] for a in agreement_items for e in a["events"] for c in e["citations"]}
        sources = Source.objects.filter(key__in=keys).select_related("publisher").order_by("key")
        publishers = Publisher.objects.filter(sources__key__in=keys).distinct().order_by("name")
    exported_slugs = {a["slug"] for a in agreement_items}
    for item in agreement_items:
        item["related"] = [r for r in item["related"] if r["slug"] in exported_slugs]
    return {
        "format": FORMAT,
        "publishers": [export_publisher(p) for p in publishers],
        "sources": [export_source(s) for s in sources],
        "agreements": agreement_items,
    }


def export_publisher(publisher):
    return {
        "name": publisher.name,
        "country": publisher.country.code or None,
        "website": publisher.website or None,
        "reliability": publisher.reliability,
    }


def export_source(source):
    return {
        "key": source.key,
        "publisher": source.publisher.name,
        "headline": source.headline,
        "published": source.published,
        "url": source.url,
        "version": source.version,
        "story": source.story,
        "dateline": source.dateline,
        "language": source.language,
        "kind": source.kind,
    }


def export_citation(citation):
    return {"source": citation.source.key, "stance": citation.stance, "quote": citation.quote, "note": citation.note}


def export_agreement(agreement):
    events = sorted(agreement.events.all(), key=lambda e: (e.date_start is None, e.date_start, e.kind_position, e.pk))
    return {
        "slug": agreement.slug,
        "title": agreement.title,
        "short_name": agreement.short_name,
        "aliases": [{"title": a.title, "language": a.language, "note": a.note} for a in agreement.aliases.all()],
        "kind": agreement.kind,
        "legal_form": agreement.legal_form,
        "entry_into_force": agreement.entry_into_force,
        "parties": [agreement.party_a_id, agreement.party_b_id],
        "summary": agreement.summary,
        "related": [{"slug": r.other.slug, "relation": r.relation} for r in agreement.relations.all()],
        "citations": [export_citation(c) for c in agreement.citations.all()],
        "status": agreement.status,
        "notice": agreement.notice,
        "events": [export_event(event) for event in events],
    }


def export_event(event):
    return {
        "id": event.external_id,
        "kind": event.kind,
        "lane": event.lane,
        "status": event.status,
        "date": event.date.iso if event.date else None,
        "not_after": event.not_after.isoformat() if event.not_after else None,
        "time": event.time.strftime("%H:%M") if event.time else None,
        "confidence": event.confidence,
        "summary": event.summary,
        "body": event.body,
        "actors": list(event.actors),
        "notes": event.notes,
        "resolves": event.resolves.external_id if event.resolves else None,
        "citations": [export_citation(c) for c in event.citations.all()],
    }


def dumps(document):
    """Serialise a document the way export files are written: UTF-8, indented."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
