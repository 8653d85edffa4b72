import pytest
from django.http import QueryDict

from pacts.filters import AgreementFilter
from pacts.models import Agreement
from tests.factories import AgreementFactory, EventFactory

pytestmark = pytest.mark.django_db


def slugs(query):
    selected = AgreementFilter(QueryDict(query), queryset=Agreement.objects.all())
    assert selected.is_valid(), selected.errors
    return set(selected.qs.values_list("slug", flat=True))


@pytest.fixture
def agreements(db):
    kr_jp = AgreementFactory(slug="kr-jp", party_a_id="KR", party_b_id="JP", kind="intelligence-sharing")
    jp_au = AgreementFactory(slug="jp-au", party_a_id="JP", party_b_id="AU", kind="reciprocal-access")
    EventFactory(agreement=kr_jp, kind="signature", lane="joint", date="2016-11-23")
    EventFactory(agreement=kr_jp, kind="termination-notice", lane="KR", date="2019-08-23")
    EventFactory(agreement=jp_au, kind="negotiation-opened", lane="joint", date="2014")
    kr_jp.entry_into_force = "on-signature"
    kr_jp.save()
    return kr_jp, jp_au


def test_party_selects_either_side(agreements):
    assert slugs("party=JP") == {"kr-jp", "jp-au"}
    assert slugs("party=AU") == {"jp-au"}


def test_kind_and_status(agreements):
    assert slugs("kind=reciprocal-access") == {"jp-au"}
    assert slugs("status=in-force") == {"kr-jp"}  # with a termination notice pending


@pytest.mark.parametrize(
    ("query", "expected"),
    [("year_from=2014&year_to=2014", {"jp-au"}), ("year_from=2019", {"kr-jp"}), ("year_to=2015", {"jp-au"})],
)
def test_an_agreement_is_in_a_year_range_when_any_dated_event_overlaps_it(agreements, query, expected):
    assert slugs(query) == expected


def test_an_empty_party_means_any_party(agreements):
    assert slugs("party=") == {"kr-jp", "jp-au"}
    assert slugs("party=&party=AU") == {"jp-au"}


def test_a_search_selects_by_words(agreements):
    assert slugs("q=Agreement") == {"kr-jp", "jp-au"}
    assert slugs("q=zeppelin") == set()


@pytest.mark.parametrize(
    "query",
    [
        "year_from=2020&year_to=2010",
        "party=ZZ",
        "kind=alliance",
        "status=ratified",
        "year_from=abc",
        "year_from=2014.5",
        "year_to=1700",
        "q=" + "x" * 201,
        "q=a%00b",
    ],
)
def test_bad_filters_are_invalid(agreements, query):
    assert not AgreementFilter(QueryDict(query), queryset=Agreement.objects.all()).is_valid()


def test_two_parties_select_the_agreements_between_them(agreements):
    AgreementFactory(slug="kr-au", party_a_id="KR", party_b_id="AU")
    assert slugs("party=JP&party=KR") == {"kr-jp"}
    assert slugs("party=AU&party=JP") == {"jp-au"}
