"""The published JSON Schema of the pacts/1 interchange format (docs/pacts-1.schema.json).

Plain tests, no database: the schema must be a valid draft 2020-12 schema, accept a
small GSOMIA-like document and reject each of many documents that differ from it by
one wrong value.
"""

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from pacts import vocabulary

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "pacts-1.schema.json").read_text(encoding="utf-8"))
DEMO = ROOT / "pacts" / "demo" / "agreements.json"
VALIDATOR = Draft202012Validator(SCHEMA)

SOURCE_KEY = "yonhap-2012-06-27-gsomia-3ld"
CITATION = {
    "source": SOURCE_KEY,
    "stance": "supports",
    "quote": "South Korea and Japan will sign the military information pact as early as this week.",
    "note": "",
}
GSOMIA = {
    "format": "pacts/1",
    "publishers": [
        {"name": "Yonhap News Agency", "country": "KR", "website": "https://en.yna.co.kr", "reliability": "high"},
    ],
    "sources": [
        {
            "key": SOURCE_KEY,
            "publisher": "Yonhap News Agency",
            "headline": "S. Korea, Japan to sign first military accord soon: official",
            "published": "2012-06-27",
            "url": "https://en.yna.co.kr/view/AEN20120627000353315",
            "version": "3rd LD",
            "story": "yonhap-2012-06-27-gsomia",
            "dateline": "SEOUL",
            "language": "en",
            "kind": "news",
        },
    ],
    "agreements": [
        {
            "slug": "kr-jp-gsomia",
            "title": (
                "Agreement between the Government of the Republic of Korea and the Government of Japan"
                " on the Protection of Military Information"
            ),
            "short_name": "Korea–Japan GSOMIA",
            "aliases": [{"title": "한일 군사정보보호협정", "language": "ko", "note": "common Korean name"}],
            "kind": "intelligence-sharing",
            "legal_form": "executive-agreement",
            "entry_into_force": "on-signature",
            "parties": ["KR", "JP"],
            "summary": "Lets the two governments share classified military information.",
            "related": [{"slug": "kr-jp-acsa", "relation": "negotiated-with"}],
            "citations": [copy.deepcopy(CITATION)],
            "events": [
                {
                    "id": "e1",
                    "kind": "signature",
                    "lane": "joint",
                    "status": "postponed",
                    "date": "2012-06-29",
                    "not_after": None,
                    "time": "16:00",
                    "confidence": "high",
                    "summary": "Signing in Tokyo called off shortly before the ceremony",
                    "body": "",
                    "actors": [],
                    "notes": "scheduled",
                    "resolves": None,
                    "citations": [copy.deepcopy(CITATION)],
                },
                {
                    "id": "e2",
                    "kind": "signature",
                    "lane": "joint",
                    "status": "occurred",
                    "date": "2016-11-23",
                    "not_after": None,
                    "time": None,
                    "confidence": "high",
                    "summary": "Agreement signed in Seoul",
                    "body": "",
                    "actors": ["Han Min-koo", "Yasumasa Nagamine"],
                    "notes": "",
                    "resolves": "e1",
                    "citations": [],
                },
            ],
            "status": "in-force",
            "notice": "none",
        },
    ],
}

AGREEMENT = ("agreements", 0)
EVENT = (*AGREEMENT, "events", 0)
SOURCE = ("sources", 0)
DELETE = object()


def changed(path, value):
    """A copy of the GSOMIA document with the value at `path` replaced (or deleted, with DELETE)."""
    document = copy.deepcopy(GSOMIA)
    *parents, last = path
    target = document
    for step in parents:
        target = target[step]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return document


def error_places(document):
    """Where in the document each schema error is, as tuples of keys and indexes."""
    return sorted(tuple(error.absolute_path) for error in VALIDATOR.iter_errors(document))


def case(name, path, value, fails_at=None):
    """One invalid document: `value` at `path`, rejected at `fails_at` (by default `path` itself)."""
    return pytest.param(path, value, path if fails_at is None else fails_at, id=name)


def test_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] == "https://pacts.invalid/schema/pacts-1.schema.json"


def test_gsomia_document_with_a_resolved_event_is_valid():
    assert error_places(GSOMIA) == []


def test_document_with_only_the_format_tag_is_valid():
    assert error_places({"format": "pacts/1"}) == []


def test_agreement_with_only_its_required_fields_is_valid():
    agreement = {"slug": "kr-jp-acsa", "title": "Acquisition and Cross-Servicing Agreement", "kind": "logistics"}
    agreement["parties"] = ["KR", "JP"]
    agreement["events"] = [{"kind": "negotiation-opened", "lane": "joint", "status": "occurred", "summary": "Talks"}]
    assert error_places({"format": "pacts/1", "agreements": [agreement]}) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param((*SOURCE, "published"), None, id="unknown-publication-date"),
        pytest.param((*SOURCE, "published"), "2012", id="publication-year"),
        pytest.param((*SOURCE, "published"), "2012-06-27T09:41:00+09:00", id="publication-datetime-with-offset"),
        pytest.param((*SOURCE, "published"), "2012-06-27T00:41Z", id="publication-datetime-in-utc"),
        pytest.param((*SOURCE, "url"), None, id="no-url"),
        pytest.param((*SOURCE, "story"), "", id="no-story"),
        pytest.param((*SOURCE, "language"), "zh-Hant", id="language-with-script"),
        pytest.param(("publishers", 0, "country"), None, id="publisher-without-country"),
        pytest.param(("publishers", 0, "website"), None, id="publisher-without-website"),
        pytest.param((*EVENT, "date"), None, id="unknown-event-date"),
        pytest.param((*EVENT, "date"), "2011", id="event-year"),
        pytest.param((*EVENT, "date"), "2012-06", id="event-month"),
        pytest.param((*EVENT, "not_after"), "2012-06-30", id="event-not-after-a-day"),
        pytest.param((*EVENT, "time"), "23:59", id="last-minute-of-the-day"),
        pytest.param((*EVENT, "lane"), "KR", id="event-in-a-party-lane"),
        pytest.param((*AGREEMENT, "parties"), ["XK", "SU"], id="kosovo-and-historical-codes"),
    ],
)
def test_document_with_an_accepted_variant_is_valid(path, value):
    assert error_places(changed(path, value)) == []


@pytest.mark.parametrize(
    ("path", "value", "fails_at"),
    [
        case("wrong-format-tag", ("format",), "pacts/2"),
        case("missing-format-tag", ("format",), DELETE, fails_at=()),
        case("unknown-top-level-key", ("comment",), "hand-edited", fails_at=()),
        case("unknown-event-kind", (*EVENT, "kind"), "ceasefire"),
        case("unknown-event-status", (*EVENT, "status"), "rumoured"),
        case("unknown-confidence", (*EVENT, "confidence"), "certain"),
        case("unknown-agreement-kind", (*AGREEMENT, "kind"), "alliance"),
        case("unknown-legal-form", (*AGREEMENT, "legal_form"), "convention"),
        case("unknown-entry-into-force-rule", (*AGREEMENT, "entry_into_force"), "on-ratification"),
        case("unknown-derived-status", (*AGREEMENT, "status"), "ratified"),
        case("unknown-notice", (*AGREEMENT, "notice"), "given"),
        case("unknown-relation", (*AGREEMENT, "related", 0, "relation"), "replaces"),
        case("unknown-stance", (*EVENT, "citations", 0, "stance"), "disputes"),
        case("unknown-reliability", ("publishers", 0, "reliability"), "excellent"),
        case("unknown-source-kind", (*SOURCE, "kind"), "blog"),
        case("three-parties", (*AGREEMENT, "parties"), ["KR", "JP", "US"]),
        case("one-party-twice", (*AGREEMENT, "parties"), ["KR", "KR"]),
        case("lowercase-country-code", (*AGREEMENT, "parties", 0), "kr"),
        case("lane-neither-joint-nor-a-country", (*EVENT, "lane"), "both"),
        case("month-name-as-date", (*EVENT, "date"), "June 2012"),
        case("month-as-not-after", (*EVENT, "not_after"), "2012-06"),
        case("free-text-time", (*EVENT, "time"), "morning"),
        case("hour-24", (*EVENT, "time"), "24:00"),
        case("published-datetime-without-offset", (*SOURCE, "published"), "2012-06-27T09:41:00"),
        case("quote-of-501-characters", (*AGREEMENT, "citations", 0, "quote"), "x" * 501),
        case("event-summary-of-301-characters", (*EVENT, "summary"), "x" * 301),
        case("empty-headline", (*SOURCE, "headline"), ""),
        case("javascript-url", (*SOURCE, "url"), "javascript:alert(1)"),
        case("ftp-website", ("publishers", 0, "website"), "ftp://en.yna.co.kr"),
        case("nul-in-title", (*AGREEMENT, "title"), "Korea–Japan\x00GSOMIA"),
        case("nul-in-actor", (*AGREEMENT, "events", 1, "actors", 0), "Han\x00Min-koo"),
        case("list-instead-of-headline", (*SOURCE, "headline"), ["S. Korea, Japan to sign first military accord"]),
        case("number-instead-of-resolves-id", (*AGREEMENT, "events", 1, "resolves"), 1),
        case("missing-title", (*AGREEMENT, "title"), DELETE, fails_at=AGREEMENT),
        case("missing-event-summary", (*EVENT, "summary"), DELETE, fails_at=EVENT),
        case(
            "alias-without-language",
            (*AGREEMENT, "aliases", 0, "language"),
            DELETE,
            fails_at=(*AGREEMENT, "aliases", 0),
        ),
        case("unknown-event-key", (*EVENT, "location"), "Tokyo", fails_at=EVENT),
        case("slug-with-capitals", (*AGREEMENT, "slug"), "KR-JP-GSOMIA"),
        case("source-key-with-space", (*EVENT, "citations", 0, "source"), "yonhap 2012"),
        case("language-as-english-word", (*SOURCE, "language"), "Korean"),
    ],
)
def test_document_with_one_wrong_value_is_rejected_at_that_value(path, value, fails_at):
    document = changed(path, value)
    assert error_places(document) == [fails_at]


@pytest.mark.parametrize(
    ("definition", "field", "words"),
    [
        ("event", "kind", vocabulary.EVENT_KINDS),
        ("event", "status", [code for code, _ in vocabulary.EVENT_STATUSES]),
        ("event", "confidence", [code for code, _ in vocabulary.CONFIDENCES]),
        ("agreement", "kind", [code for code, _ in vocabulary.AGREEMENT_KINDS]),
        ("agreement", "legal_form", [code for code, _ in vocabulary.LEGAL_FORMS]),
        ("agreement", "entry_into_force", [code for code, _ in vocabulary.ENTRY_INTO_FORCE_RULES]),
        ("agreement", "status", [code for code, _ in vocabulary.AGREEMENT_STATUSES]),
        ("agreement", "notice", [code for code, _ in vocabulary.NOTICES]),
        ("relation", "relation", [code for code, _ in vocabulary.RELATIONS]),
    ],
)
def test_enum_lists_the_vocabulary_in_its_order(definition, field, words):
    assert SCHEMA["$defs"][definition]["properties"][field]["enum"] == list(words)


def test_demo_data_follows_the_schema():
    if not DEMO.exists():
        pytest.skip(f"no demo data at {DEMO.relative_to(ROOT)}")
    demo = json.loads(DEMO.read_text(encoding="utf-8"))
    assert [f"{list(error.absolute_path)}: {error.message}" for error in VALIDATOR.iter_errors(demo)] == []
