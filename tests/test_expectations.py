"""Expected versus what happened: outcomes, slippage per party, filters and query budgets."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from pacts import expectations as outcomes
from pacts.dates import Period
from pacts.models import Event
from tests.factories import AgreementFactory, EventFactory
from tests.test_dashboard import bulk_agreements

pytestmark = pytest.mark.django_db

URL = "/expectations/"


def expect(agreement, date, status="expected", met_on=None, lane="KR", kind="cabinet-approval", **fields):
    """An expectation, and the occurred event that met it on `met_on` if given."""
    expectation = EventFactory(agreement=agreement, kind=kind, lane=lane, status=status, date=date, **fields)
    if met_on:
        EventFactory(agreement=agreement, kind=kind, lane=lane, date=met_on, resolves=expectation, summary="Met")
    return expectation


@pytest.fixture
def every_outcome(agreement):
    """One expectation of each outcome, in Korea's lane unless said otherwise."""
    future = Period(timezone.localdate() + timedelta(days=30), "day")
    moved = expect(agreement, "2019", status="postponed", summary="Moved")
    EventFactory(agreement=agreement, lane="KR", status="expected", date="2099", resolves=moved)
    return {
        "met-on-time": expect(agreement, "2020-05", met_on="2020-05-20", summary="Early enough"),
        "met-late": expect(agreement, "2021-03-01", status="postponed", met_on="2021-03-11", summary="Ten days late"),
        "postponed": expect(agreement, "2021-06", status="postponed", summary="Put off"),
        "did-not-happen": expect(agreement, "2021-07-07", status="cancelled", summary="Called off"),
        "pending": expect(agreement, future, summary="Not yet due"),
        "overdue": expect(agreement, "2022-01", summary="Should have happened"),
        "rescheduled": moved,
    }


def row_of(content, event):
    """The table row of an expectation."""
    start = content.rindex("<tr", 0, content.index(f'#event-{event.pk}"'))
    return content[start : content.index("</tr>", start)]


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_each_expectation_shows_what_became_of_it(reader, agreement, every_outcome):
    EventFactory(agreement=agreement, summary="Simply happened")
    content = reader.get(URL).content.decode()
    labels = {
        "met-on-time": "Met on time",
        "met-late": "Met late by 10 days",
        "postponed": "Postponed",
        "did-not-happen": "Did not happen",
        "pending": "Pending",
        "overdue": "Overdue",
        "rescheduled": "Rescheduled",
    }
    for outcome, event in every_outcome.items():
        row = row_of(content, event)
        assert f'<tr class="outcome-{outcome}">' in row
        assert labels[outcome] in row
    assert "Simply happened" not in content


def test_an_expectation_settled_by_a_step_of_another_kind_did_not_happen(agreement):
    expiry = expect(agreement, "2019-11-23", kind="expiry", lane="joint")
    EventFactory(agreement=agreement, kind="termination-notice-suspended", date="2019-11-22", resolves=expiry)
    row = outcomes.expectations(Event.objects.all()).get(pk=expiry.pk)
    assert (row.outcome, row.slippage) == ("did-not-happen", None)


def test_the_resolver_is_shown_and_linked(reader, agreement, every_outcome):
    content = reader.get(URL).content.decode()
    resolver = every_outcome["met-late"].resolved_by
    row = row_of(content, every_outcome["met-late"])
    assert f'href="/agreements/{agreement.slug}/#event-{resolver.pk}"' in row
    assert "11 March 2021" in row


def test_the_deadline_is_not_after_or_else_the_end_of_the_period(agreement):
    by_the_fifth = expect(agreement, "2021-03-01", not_after=Period.parse("2021-03-05").start, met_on="2021-03-04")
    in_june = expect(agreement, "2021-06", met_on="2021-07-02")
    rows = {e.pk: e for e in outcomes.expectations(Event.objects.all())}
    assert (rows[by_the_fifth.pk].outcome, rows[by_the_fifth.pk].slippage) == ("met-on-time", 0)
    assert (rows[in_june.pk].outcome, rows[in_june.pk].slippage) == ("met-late", 2)


def test_the_median_slippage_of_each_party(reader, agreement):
    for met_on in ("2020-01-31", "2020-02-10", "2020-03-01"):  # 0, 10 and 30 days late
        expect(agreement, "2020-01", met_on=met_on)
    for met_on in ("2020-01-05", "2020-01-07"):  # 4 and 6 days late
        expect(agreement, "2020-01-01", status="postponed", met_on=met_on, lane="JP")
    expect(agreement, "2020-01", status="cancelled", lane="JP")
    medians = outcomes.median_slippage_by_lane(outcomes.expectations(Event.objects.all()))
    assert medians == {"KR": 10, "JP": 5}
    content = reader.get(URL).content.decode()
    slippage = content[content.index('<table class="slippage">') : content.index("</table>")]
    assert re.search(r"<th scope=\"row\">South Korea</th><td>10 days</td>", slippage)
    assert re.search(r"<th scope=\"row\">Japan</th><td>5 days</td>", slippage)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="percentile_cont is PostgreSQL's")
def test_the_median_in_sql_equals_the_median_in_python(agreement):
    for n, met_on in enumerate(("2020-02-03", "2020-02-10", "2020-03-01", "2020-06-30")):
        expect(agreement, "2020-01", met_on=met_on, lane="KR" if n % 2 else "JP")
    expect(agreement, "2020", met_on="2021-01-02", lane="joint", kind="signature")
    events = outcomes.expectations(Event.objects.all())
    in_sql = outcomes.median_slippage_by_lane(events, in_sql=True)
    assert in_sql == outcomes.median_slippage_by_lane(events, in_sql=False)
    assert in_sql == {"JP": 16.5, "KR": 80.5, "joint": 2}


def test_outcome_counts_cover_every_outcome(agreement, every_outcome):
    counts = {key: n for key, _, n in outcomes.outcome_counts(outcomes.expectations(Event.objects.all()))}
    # The step expected in 2099 that the rescheduled one now waits for is pending too.
    assert counts == dict.fromkeys(every_outcome, 1) | {"pending": 2, "met": 0}


def test_filter_by_party_of_the_agreement(reader, agreement):
    expect(agreement, "2022-01", summary="Korea and Japan")
    other = AgreementFactory(party_a_id="US", party_b_id="PH")
    expect(other, "2022-01", lane="PH", summary="US and the Philippines")
    content = reader.get(URL + "?party=JP").content.decode()
    assert "Korea and Japan" in content
    assert "US and the Philippines" not in content


def test_filter_by_lane_and_kind_or_group(reader, agreement):
    expect(agreement, "2022-01", lane="JP", summary="Japan's cabinet")
    expect(agreement, "2022-01", lane="KR", summary="Korea's cabinet")
    expect(agreement, "2022-01", lane="joint", kind="signature", summary="The signing")
    content = reader.get(URL + "?lane=JP").content.decode()
    assert "Japan&#x27;s cabinet" in content
    assert "Korea&#x27;s cabinet" not in content
    content = reader.get(URL + "?kind=group:signature").content.decode()
    assert "The signing" in content
    assert "cabinet" not in content.split("<tbody>")[-1]
    content = reader.get(URL + "?kind=cabinet-approval&party=KR").content.decode()
    assert "The signing" not in content


def test_filter_by_outcome(reader, agreement, every_outcome):
    content = reader.get(URL + "?outcome=overdue").content.decode()
    assert "Should have happened" in content
    assert "Not yet due" not in content


@pytest.mark.parametrize(
    "query", ["party=ZZ", "lane=XX", "kind=coup", "kind=group:coups", "outcome=maybe", "party=%00"]
)
def test_bad_filters_get_a_400_with_a_message(reader, query):
    response = reader.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert "Some of the filters in this address are not valid" in response.content.decode()


def test_the_table_is_capped_with_the_latest_deadlines_first(reader, agreement, monkeypatch):
    monkeypatch.setattr("pacts.views.expectations.ROWS", 2)
    expect(agreement, "2020-01", summary="Oldest")
    expect(agreement, "2021-01", summary="Middle")
    expect(agreement, "2022-01", summary="Newest")
    content = reader.get(URL).content.decode()
    assert content.index("Newest") < content.index("Middle")
    assert "Oldest" not in content
    assert "The 2 latest deadlines of 3 expectations" in content


@pytest.mark.parametrize("agreements", [3, 300])
def test_the_page_runs_a_constant_number_of_queries(reader, django_assert_num_queries, agreements):
    bulk_agreements(agreements)
    # session, user, groups; the data version; rows, outcome counts, medians
    with django_assert_num_queries(7):
        response = reader.get(URL)
    assert response.status_code == 200
    assert response.content.decode().count('<tr class="outcome-') == min(4 * agreements, 200)
    with django_assert_num_queries(4):  # the rows, counts and medians now come from the cache
        again = reader.get(URL)
    assert shown_counts(again.content.decode()) == shown_counts(response.content.decode())


def shown_counts(content):
    """The outcome counts as the page shows them: {outcome: number}."""
    pattern = r'<li class="outcome-([a-z-]+)">.*?<span class="count">(\d+)</span>'
    return {key: int(n) for key, n in re.findall(pattern, content)}


def test_the_counts_are_cached_until_any_agreement_or_event_changes(reader, agreement, every_outcome):
    assert shown_counts(reader.get(URL).content.decode())["overdue"] == 1
    expect(agreement, "2022-02", summary="Another overdue")  # saving an event stores a new changed_at
    assert shown_counts(reader.get(URL).content.decode())["overdue"] == 2
    AgreementFactory(party_a_id="US", party_b_id="JP")
    # A bulk delete, no store_status: the new agreement's history row tells.
    Event.objects.filter(summary="Another overdue").delete()
    assert shown_counts(reader.get(URL).content.decode())["overdue"] == 1


def test_the_kept_page_tells_filters_and_days_apart(reader, every_outcome, django_assert_num_queries, monkeypatch):
    assert sum(shown_counts(reader.get(URL).content.decode()).values()) == 8
    assert sum(shown_counts(reader.get(f"{URL}?lane=JP").content.decode()).values()) == 0
    with django_assert_num_queries(4):  # kept: session, user, groups, the data version
        assert sum(shown_counts(reader.get(URL).content.decode()).values()) == 8
    # A day later the page is made again: a pending expectation may be overdue by then.
    tomorrow = timezone.localdate() + timedelta(days=1)
    monkeypatch.setattr("pacts.views.expectations.timezone.localdate", lambda: tomorrow)
    with django_assert_num_queries(7):
        reader.get(URL)
