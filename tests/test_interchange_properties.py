"""Property-based round trips: whatever valid document goes in comes back out."""

import string
from datetime import date

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacts import vocabulary
from pacts.interchange import export_document, import_document
from pacts.text import HIDDEN_CHARACTERS
from tests.test_interchange import canonical

pytestmark = pytest.mark.django_db

# Any text a person may type on one line, in any script: no lone surrogates, and none of the control,
# line-break and invisible characters the importer refuses (pacts/text.py).
text = st.text(
    st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"], blacklist_characters=HIDDEN_CHARACTERS), max_size=40
)
line = text.filter(str.strip)
periods = st.one_of(
    st.none(),
    st.integers(1950, 2025).map(str),
    st.tuples(st.integers(1950, 2025), st.integers(1, 12)).map(lambda ym: f"{ym[0]}-{ym[1]:02d}"),
    st.dates(min_value=date(1950, 1, 1), max_value=date(2025, 12, 31)).map(lambda d: d.isoformat()),
)
times = st.one_of(st.none(), st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"{t[0]:02d}:{t[1]:02d}"))


@st.composite
def events(draw, index, parties):
    return {
        "id": f"e{index}",
        "kind": draw(st.sampled_from(vocabulary.EVENT_KINDS)),
        "lane": draw(st.sampled_from(["joint", *parties])),
        "status": draw(st.sampled_from([s for s, _ in vocabulary.EVENT_STATUSES])),
        "date": draw(periods),
        "not_after": None,
        "time": draw(times),
        "confidence": draw(st.sampled_from([c for c, _ in vocabulary.CONFIDENCES])),
        "summary": draw(line),
        "body": draw(text),
        "actors": draw(st.lists(line, max_size=3)),
        "notes": draw(text),
        "resolves": None,
        "citations": [
            {
                "source": "s0",
                "stance": draw(st.sampled_from(["supports", "contradicts"])),
                "quote": draw(text),
                "note": "",
            }
        ],
    }


@st.composite
def documents(draw):
    parties = draw(
        st.lists(
            st.sampled_from(["KR", "JP", "US", "PH", "AU", "GB", "IN", "XK", "SU"]), min_size=2, max_size=2, unique=True
        )
    )
    event_list = [draw(events(i, parties)) for i in range(draw(st.integers(0, 6)))]
    return {
        "format": "pacts/1",
        "publishers": [{"name": draw(line), "country": None, "website": None, "reliability": "unrated"}],
        "sources": [],
        "agreements": [
            {
                "slug": draw(st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=20)),
                "title": draw(line),
                "short_name": draw(text),
                "aliases": [
                    {"title": t, "language": "ko", "note": ""} for t in draw(st.lists(line, max_size=2, unique=True))
                ],
                "kind": draw(st.sampled_from([k for k, _ in vocabulary.AGREEMENT_KINDS])),
                "legal_form": draw(st.sampled_from([k for k, _ in vocabulary.LEGAL_FORMS])),
                "entry_into_force": draw(st.sampled_from([k for k, _ in vocabulary.ENTRY_INTO_FORCE_RULES])),
                "parties": parties,
                "summary": draw(text),
                "related": [],
                "citations": [],
                "events": event_list,
            }
        ],
    }


def with_source(document):
    publisher = document["publishers"][0]["name"]
    document["sources"] = [
        {
            "key": "s0",
            "publisher": publisher,
            "headline": "A report",
            "published": None,
            "url": None,
            "version": "",
            "story": "",
            "dateline": "",
            "language": "en",
            "kind": "news",
        }
    ]
    return document


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents().map(with_source))
def test_export_of_any_valid_import_reproduces_it(document):
    with transaction.atomic():
        import_document(document)
        exported = export_document()
        assert canonical(exported) == canonical(document)
        assert import_document(exported).writes == 0
        transaction.set_rollback(True)
