"""`seed_synthetic`: plausible data at scale, deterministic for a seed, loaded in bulk.

Small scales only; the 100,000-agreement load is measured by `make bench`, never here.
"""

import json
import random
from collections import Counter
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from jsonschema import Draft202012Validator

from pacts import synthetic
from pacts.interchange import dumps, export_document
from pacts.models import Agreement, Alias, Citation, Event, Publisher, Relation, Source

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 30)
SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "docs" / "pacts-1.schema.json").read_text())
MODELS = (Agreement, Alias, Relation, Event, Source, Publisher, Citation)
# A search document's words, each with its weights: "approv:BCC".
WORDS = """(SELECT array_agg(lexeme || ':' || array_to_string(ARRAY(SELECT unnest(weights) ORDER BY 1), '')
ORDER BY lexeme) FROM unnest({}))"""


def seed(agreements=60, events_per_agreement=8, seed=1):
    return synthetic.seed(agreements=agreements, events_per_agreement=events_per_agreement, seed=seed, today=TODAY)


def wipe():
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(model._meta.db_table for model in MODELS)}")


def test_same_seed_gives_the_same_export_and_another_seed_another():
    seed(seed=7)
    first = dumps(export_document())
    wipe()
    seed(seed=7)
    again = dumps(export_document())
    wipe()
    seed(seed=8)
    other = dumps(export_document())

    assert first == again
    assert first != other


def test_stored_status_search_document_and_latest_event_are_what_a_save_would_store():
    seed(agreements=80)

    for agreement in Agreement.objects.all():
        steps = agreement.steps()
        assert (agreement.status, agreement.notice) == agreement.compute_status(), agreement.slug
        assert agreement.latest_event_on == max((s.start for s in steps if s.start), default=None)
    # Same words with the same weights as the search function gives now. Positions are
    # left out: the function's string_agg has no ORDER BY, so they follow the query plan.
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT count(*) FROM pacts_agreement
            WHERE {WORDS.format("search_document")} IS DISTINCT FROM {WORDS.format("pacts_search_document(id)")}
        """)
        assert cursor.fetchone()[0] == 0


def test_seeded_data_passes_the_interchange_schema_and_model_validation():
    seed(agreements=60)
    sample = random.Random(0).sample(list(Agreement.objects.values_list("pk", flat=True)), 20)

    document = export_document(Agreement.objects.filter(pk__in=sample))

    assert not list(Draft202012Validator(SCHEMA).iter_errors(document))
    for model in MODELS:
        rows = list(model.objects.order_by("pk")[:200])
        assert rows or model is Relation, model  # a pair seldom repeats among 60 agreements
        for row in random.Random(1).sample(rows, min(len(rows), 40)):
            row.full_clean()


def test_no_history_is_written():
    seed(agreements=20)

    assert Agreement.objects.count() == 20
    for model in MODELS:
        assert model.history.model.objects.count() == 0, model


def test_long_tail_and_the_mix_of_a_moderate_seed():
    seed(agreements=200, events_per_agreement=20)

    per_agreement = sorted(Agreement.objects.annotate(n=Count("events")).values_list("n", flat=True))
    assert len([n for n in per_agreement if 500 <= n <= 2000]) == 2  # 1% of 200
    assert 16 <= sum(per_agreement) / len(per_agreement) <= 24
    assert per_agreement[len(per_agreement) // 2] < 20  # most agreements are small
    precisions = Counter(Event.objects.values_list("date_precision", flat=True))
    assert {"day", "month", "year", ""} <= set(precisions)  # "" is an unknown date
    assert precisions["day"] > precisions["month"] > precisions["year"]
    assert Event.objects.filter(resolves__isnull=False).exists()
    assert set(Event.objects.values_list("status", flat=True)) == {"occurred", "expected", "postponed", "cancelled"}
    assert set(Event.objects.values_list("confidence", flat=True)) == {"high", "medium", "low"}
    assert Citation.objects.filter(stance="contradicts").exists()
    assert set(Event.objects.annotate(n=Count("citations")).values_list("n", flat=True)) == {1, 2, 3}
    assert Source.objects.exclude(story="").values("story").annotate(n=Count("id")).filter(n__gte=2).exists()
    assert {"ko", "ja", "ar"} <= set(Alias.objects.values_list("language", flat=True))
    assert {"ko", "ja", "ar"} <= set(Source.objects.values_list("language", flat=True))
    assert len(set(Publisher.objects.values_list("reliability", flat=True))) >= 3
    statuses = Counter(Agreement.objects.values_list("status", flat=True))
    assert statuses.most_common(1)[0][0] == "in-force"  # as in the demo
    assert len(statuses) >= 6
    # A report cited for an event that has happened came out about when it happened, not decades before.
    cited = Citation.objects.filter(event__date_start__lte=TODAY).values_list(
        "event__date_start", "source__published_on"
    )
    gaps = [(published - start).days for start, published in cited]
    assert min(gaps) >= -synthetic.REUSE_DAYS
    assert max(gaps) <= synthetic.REUSE_DAYS
    assert Citation.objects.values("source").annotate(n=Count("id")).filter(n__gte=2).count() > 100  # reports reused
    # ...and citing an old one is never traded for citing fewer: the demo's 1, 2 or 3 per event.
    wanted = sum(n * share for n, share in zip((1, 2, 3), synthetic.demo_mix().citation_counts, strict=True))
    assert abs(Citation.objects.filter(event__isnull=False).count() / Event.objects.count() - wanted) < 0.1


def test_seeding_checks_the_rules_the_bypassed_triggers_enforce():
    seed(agreements=10)
    event = Event.objects.exclude(lane="joint").select_related("agreement").first()
    third_party = next(code for code in ("FR", "DE", "BR") if code not in event.agreement.lanes)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE pacts_event SET lane = %s WHERE id = %s", [third_party, event.pk])
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")

        with pytest.raises(RuntimeError, match="event lane is joint or a party"):
            synthetic.check_rules(cursor, dict.fromkeys(synthetic.TABLES, 1))


def test_command_seeds_and_reports():
    out = StringIO()

    call_command("seed_synthetic", "--agreements=30", "--events-per-agreement=5", "--today=2026-11-30", stdout=out)

    assert "Seeded 30 agreements" in out.getvalue()
    assert Agreement.objects.count() == 30


def test_command_refuses_a_database_that_holds_data(agreement):
    with pytest.raises(CommandError, match="already holds data"):
        call_command("seed_synthetic", "--agreements=5", stdout=StringIO())


def test_command_appends_when_asked(agreement):
    call_command("seed_synthetic", "--agreements=5", "--append", "--today=2026-11-30", stdout=StringIO())

    assert Agreement.objects.count() == 6


def test_command_refuses_sqlite(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(CommandError, match="PostgreSQL COPY"):
        call_command("seed_synthetic", "--agreements=5", stdout=StringIO())


def test_copy_text_escapes_what_copy_would_misread():
    assert synthetic.copy_text("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"
    assert synthetic.copy_text("한일 군사정보보호협정") == "한일 군사정보보호협정"
