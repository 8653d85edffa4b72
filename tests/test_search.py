"""Full-text search on PostgreSQL, with Korean and Japanese substrings of aliases."""

import pytest
from django.db import connection

from pacts.models import Agreement, Alias, Source
from tests.factories import AgreementFactory, CitationFactory, EventFactory, SourceFactory

pytestmark = pytest.mark.django_db


def slugs(text):
    return set(Agreement.objects.search(text).values_list("slug", flat=True))


@pytest.mark.parametrize(
    "text",
    ["military information", "classified", "GSOMIA", "cabinet approves", "military accord", "military pacts"],
)
def test_words_from_titles_events_quotes_and_headlines_find_the_agreement(gsomia, text):
    assert "kr-jp-gsomia" in slugs(text)


def test_an_absent_word_finds_nothing(gsomia):
    assert slugs("submarine") == set()


@pytest.mark.parametrize("substring", ["군사정보", "정보보호", "한일"])
def test_a_korean_substring_of_an_alias_finds_it_inside_an_unspaced_word(gsomia, substring):
    Alias.objects.create(agreement=gsomia, title="한일군사정보보호협정", language="ko")
    assert "kr-jp-gsomia" in slugs(substring)


@pytest.mark.parametrize("substring", ["軍事情報", "日韓"])
def test_a_japanese_substring_of_an_alias_finds_it(gsomia, substring):
    Alias.objects.create(agreement=gsomia, title="日韓秘密軍事情報保護協定", language="ja")
    assert "kr-jp-gsomia" in slugs(substring)


def test_the_database_locale_yields_trigrams_for_hangul(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT show_trgm('군사정보')")
        trigrams = cursor.fetchone()[0]
    # Four letters make five trigrams ("  군", " 군사", "군사정", "사정보", "정보 ") only when the
    # locale counts Hangul as letters; otherwise there would be none. Multibyte ones print hashed.
    assert len(trigrams) == 5


def test_a_title_match_ranks_above_a_quote_match(db):
    AgreementFactory(title="Submarine cooperation agreement", slug="subs")
    in_quote = AgreementFactory(title="Logistics agreement", slug="logistics")
    CitationFactory(event=EventFactory(agreement=in_quote), quote="They also discussed a submarine.")
    ranked = list(Agreement.objects.search("submarine").order_by("-rank").values_list("slug", flat=True))
    assert ranked == ["subs", "logistics"]


def test_the_document_is_rebuilt_when_an_event_changes(gsomia):
    event = gsomia.events.first()
    event.notes = "A hovercraft was mentioned."
    event.save()
    assert "kr-jp-gsomia" in slugs("hovercraft")


def test_the_document_is_rebuilt_when_a_cited_sources_headline_changes(gsomia):
    source = Source.objects.get(key="mofa-2016-11-23")
    source.headline = "Zeppelin talks conclude"
    source.save()
    assert "kr-jp-gsomia" in slugs("zeppelin")


def test_the_document_is_rebuilt_when_an_alias_is_added(gsomia):
    Alias.objects.create(agreement=gsomia, title="Pacte de renseignement", language="fr")
    assert "kr-jp-gsomia" in slugs("renseignement")


def test_the_search_uses_the_gin_index(db):
    AgreementFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would otherwise be scanned whole
        plan = Agreement.objects.search("treaty").explain()
    assert "Bitmap Index Scan on agreement_search_document" in plan


def test_alias_substrings_use_the_trigram_index(db):
    agreement = AgreementFactory()
    Alias.objects.bulk_create(Alias(agreement=agreement, title=f"Other name {n}", language="en") for n in range(3000))
    Alias.objects.create(agreement=agreement, title="한일군사정보보호협정", language="ko")
    with connection.cursor() as cursor:
        # Rows inserted after the index was built wait in GIN's pending list until a
        # vacuum; the planner prices that in. Flush it as autovacuum would.
        cursor.execute("SELECT gin_clean_pending_list('alias_title_trigram')")
        cursor.execute("ANALYZE pacts_alias")
        plan = Alias.objects.filter(title__icontains="군사정보").order_by().values("agreement_id").explain()
    assert "Bitmap Index Scan on alias_title_trigram" in plan


def test_an_unused_source_is_found_by_nothing(gsomia):
    SourceFactory(headline="Blimp procurement")
    assert slugs("blimp") == set()
