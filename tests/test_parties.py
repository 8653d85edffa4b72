"""The party page: a party's agreements by kind and status, its counterparts, its domestic steps and their durations."""

import importlib
from datetime import date

import pytest
from django.db import connection

from pacts import synthetic, vocabulary
from pacts.models import Agreement, Event, Party
from pacts.views.parties import medians_in_python, step_medians, step_pairs
from tests.factories import AgreementFactory, EventFactory

JAPAN = Party(code="JP")


def steps(agreement, *rows):
    for kind, lane, day, *status in rows:
        EventFactory(agreement=agreement, kind=kind, lane=lane, date=day, status=status[0] if status else "occurred")


@pytest.fixture
def japan(db):
    """Three agreements of Japan's, two of them measured: 10 and 20 days to signature, 30 and 40 to entry into force."""
    gsomia = AgreementFactory(slug="kr-jp-gsomia", short_name="GSOMIA", party_a_id="KR", party_b_id="JP")
    steps(
        gsomia,
        ("cabinet-approval", "JP", "2019-12-01"),  # an earlier approval: the latest before signing counts
        ("cabinet-approval", "JP", "2020-01-01"),
        ("cabinet-approval", "KR", "2020-01-05"),  # Korea's, not Japan's
        ("signature", "joint", "2020-01-11"),
        ("entry-into-force", "joint", "2020-02-10"),
        ("cabinet-approval", "JP", "2020-03-01"),  # after signing: not paired
    )
    raa = AgreementFactory(
        slug="jp-au-raa", short_name="Japan–Australia RAA", kind="reciprocal-access", party_a_id="JP", party_b_id="AU"
    )
    steps(
        raa,
        ("cabinet-approval", "JP", "2021-03-01"),
        ("signature", "joint", "2021-03-05", "expected"),  # did not happen then
        ("signature", "joint", "2021-03-21"),
        ("entry-into-force", "joint", "2021-04-30"),
    )
    acsa = AgreementFactory(
        slug="kr-jp-acsa", short_name="ACSA", kind="logistics", party_a_id="KR", party_b_id="JP", title="Logistics"
    )
    steps(
        acsa,
        ("cabinet-approval", "JP", "2015-05-01"),  # approved a text that was then renegotiated
        ("negotiation-resumed", "joint", "2016-01"),
        ("cabinet-approval", "JP", "2016-05"),  # known only to the month
        ("signature", "joint", "2016-06-01"),
        ("statement", "JP", None),
    )
    AgreementFactory(slug="kr-us-other", party_a_id="KR", party_b_id="US", kind="other")
    return {"gsomia": gsomia, "raa": raa, "acsa": acsa}


def make_agreements_of_japan(count):
    """`count` agreements of Japan's, each with a cabinet approval, signature and entry into force, in two INSERTs."""
    others = ["AU", "GB", "IN", "KR", "PH", "US"]
    agreements = Agreement.objects.bulk_create(
        Agreement(
            slug=f"bulk-{n}",
            title=f"Bulk agreement {n}",
            short_name=f"Bulk {n}",
            kind=vocabulary.AGREEMENT_KINDS[n % 6][0],
            status=vocabulary.AGREEMENT_STATUSES[n % 10][0],
            party_a_id="JP",
            party_b_id=others[n % len(others)],
            latest_event_on=date(2010 + n % 15, 3, 25),
        )
        for n in range(count)
    )
    events = []
    for n, agreement in enumerate(agreements):
        for kind, lane, day in (
            ("cabinet-approval", "JP", 1),
            ("signature", "joint", 2 + n % 20),
            ("entry-into-force", "joint", 25),
        ):
            events.append(
                Event(
                    agreement=agreement,
                    kind=kind,
                    kind_position=vocabulary.KIND_POSITION[kind],
                    lane=lane,
                    date=f"20{10 + n % 15}-03-{day:02d}",
                    summary=f"{kind} {n}",
                )
            )
    Event.objects.bulk_create(events)


def section(content, heading_id):
    start = content.index(f'id="{heading_id}"')
    return content[start : content.index("</section>", start)]


def test_agreements_are_counted_by_kind_and_by_status_with_links_to_the_list(reader, japan):
    content = reader.get("/parties/JP/").content.decode()
    kinds = section(content, "by-kind")
    assert '<a href="/agreements/?party=JP&amp;kind=intelligence-sharing">Intelligence sharing</a>' in kinds
    assert 'Intelligence sharing</a> <span class="count">1</span>' in kinds
    assert (
        '<a href="/agreements/?party=JP&amp;kind=reciprocal-access">Reciprocal access</a> <span class="count">1</span>'
        in kinds
    )
    assert "Other" not in kinds  # Korea and the US's agreement
    statuses = section(content, "by-status")
    assert '<a href="/agreements/?party=JP&amp;status=in-force">' in statuses
    assert 'In force</span></a> <span class="count">2</span>' in statuses
    assert 'Signed</span></a> <span class="count">1</span>' in statuses
    assert '<a href="/agreements/?party=JP">3 agreements</a> with 2 counterparts' in content


def test_counterparts_are_the_other_parties_with_their_number_of_agreements(reader, japan):
    counterparts = section(reader.get("/parties/JP/").content.decode(), "counterparts")
    assert '<li><a href="/parties/KR/">South Korea</a> <span class="count">2</span></li>' in counterparts
    assert '<li><a href="/parties/AU/">Australia</a> <span class="count">1</span></li>' in counterparts
    assert counterparts.index("South Korea") < counterparts.index("Australia")
    assert "United States" not in counterparts


def test_each_agreement_shows_its_counterpart_status_and_latest_event(reader, japan):
    table = section(reader.get("/parties/JP/").content.decode(), "agreements")
    rows = table.split("<tr>")[2:]
    assert [row.split("</a>")[0].rsplit(">", 1)[1] for row in rows] == ["Japan–Australia RAA", "GSOMIA", "ACSA"]
    gsomia = rows[1]
    assert '<a href="/parties/KR/">South Korea</a>' in gsomia
    assert '<span class="badge status-in-force">In force</span>' in gsomia
    assert 'Cabinet approval <time datetime="2020-03-01">1 March 2020</time>' in gsomia
    assert 'Entry into force <time datetime="2021-04-30">30 April 2021</time>' in rows[0]
    assert "(expected)" not in table


def test_domestic_steps_are_the_partys_own_lane_newest_first_linking_to_the_timeline(reader, japan):
    content = reader.get("/parties/JP/").content.decode()
    listed = section(content, "steps")
    japanese = Event.objects.filter(lane="JP")
    assert listed.count("<li ") == japanese.count() == 7
    assert "2020-01-05" not in listed  # Korea's cabinet approval
    assert (
        listed.index('datetime="2021-03-01"')
        < listed.index('datetime="2020-03-01"')
        < listed.index('datetime="2015-05-01"')
    )
    assert listed.rindex("<li ") < listed.index("date unknown")
    for event in japanese:
        assert f'href="{event.get_absolute_url()}"' in listed
    assert f'href="/agreements/kr-jp-gsomia/#event-{japanese.filter(date_start="2020-01-01").get().pk}"' in listed


def test_medians_pair_each_approval_with_the_next_signature_and_entry_into_force(japan):
    assert step_medians(JAPAN) == {"approval_to_signature": (15.0, 2), "signature_to_entry": (35.0, 2)}


def test_an_approval_followed_by_renewed_talks_or_known_only_to_the_month_is_not_paired(japan):
    pairs = {
        row[0]: row[1:] for row in step_pairs(JAPAN).values_list("slug", "approved_on", "signed_on", "in_force_on")
    }
    assert pairs["kr-jp-acsa"][0] is None
    assert str(pairs["kr-jp-acsa"][1]) == "2016-06-01"
    assert [str(day) for day in pairs["kr-jp-gsomia"]] == ["2020-01-01", "2020-01-11", "2020-02-10"]


def test_postgresql_computes_both_medians_in_one_query(japan, django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        step_medians(JAPAN)
    assert captured.captured_queries[0]["sql"].count("percentile_cont(0.5) WITHIN GROUP") == 2


def test_the_python_fallback_gives_the_same_medians_as_postgresql(japan):
    steps(japan["acsa"], ("cabinet-approval", "JP", "2016-05-22"), ("entry-into-force", "joint", "2016-07-01"))
    expected = {"approval_to_signature": (10.0, 3), "signature_to_entry": (30.0, 3)}
    assert step_medians(JAPAN) == expected
    assert medians_in_python(step_pairs(JAPAN)) == expected


def test_the_page_shows_each_median_with_its_number_of_pairs(reader, japan):
    durations = section(reader.get("/parties/JP/").content.decode(), "durations")
    assert "<strong>15 days</strong> median" in durations
    assert "<strong>35 days</strong> median" in durations
    assert durations.count("(n = 2 agreements)") == 2


def test_a_party_without_measured_steps_says_so(reader, db):
    AgreementFactory(party_a_id="KR", party_b_id="US")
    content = reader.get("/parties/US/").content.decode()
    assert section(content, "durations").count("not measured") == 2
    assert "No domestic steps recorded." in content


@pytest.mark.parametrize("code", ["ZZ", "jp", "Jp", "JPN", "J1", "%00"])
def test_unknown_and_lowercase_codes_are_404(reader, db, code):
    assert reader.get(f"/parties/{code}/").status_code == 404


def test_the_party_page_needs_a_reader(client, settings, db):
    settings.PACTS_PUBLIC_READ = False
    response = client.get("/parties/JP/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("agreements", [3, 300])
def test_the_page_runs_a_constant_number_of_queries(reader, django_assert_num_queries, agreements):
    make_agreements_of_japan(agreements)
    # session, user, groups; party, the data version; counts, agreements, medians, counterparts, steps
    with django_assert_num_queries(10):
        response = reader.get("/parties/JP/")
    assert response.status_code == 200
    with django_assert_num_queries(5):  # the rest is kept until the data changes
        again = reader.get("/parties/JP/")
    assert again.content.decode().split("<main")[1] == response.content.decode().split("<main")[1]


def test_long_lists_are_capped_and_point_to_the_whole_list(reader, db):
    make_agreements_of_japan(300)
    content = reader.get("/parties/JP/").content.decode()
    assert section(content, "agreements").count("<tr>") == 1 + 200
    assert '<a href="/agreements/?party=JP">see all 300 in the list</a>' in content
    assert section(content, "steps").count("<li ") == 100
    assert "(the 100 newest)" in content


# The step dates are stored on the agreement by every write, by the migration and by the bulk seed


STEP_DATES = ("signed_on", "in_force_on", "party_a_approved_on", "party_b_approved_on")


def stored_step_dates():
    return {row[0]: row[1:] for row in Agreement.objects.order_by("slug").values_list("slug", *STEP_DATES)}


def test_every_write_to_the_events_stores_the_step_dates(japan):
    gsomia = Agreement.objects.get(slug="kr-jp-gsomia")
    assert [str(day) for day in (gsomia.signed_on, gsomia.in_force_on)] == ["2020-01-11", "2020-02-10"]
    approvals = (gsomia.party_a_approved_on, gsomia.party_b_approved_on)
    assert [str(day) for day in approvals] == ["2020-01-05", "2020-01-01"]  # Korea's, then Japan's
    acsa = Agreement.objects.get(slug="kr-jp-acsa")
    assert (str(acsa.signed_on), acsa.in_force_on, acsa.party_b_approved_on) == ("2016-06-01", None, None)

    signature = gsomia.events.get(kind="signature")
    signature.date = "2020-01-21"
    signature.save()
    assert Agreement.objects.get(slug="kr-jp-gsomia").signed_on == date(2020, 1, 21)
    signature.delete()
    assert Agreement.objects.values_list(*STEP_DATES).get(slug="kr-jp-gsomia") == (None, None, None, None)


def test_the_migration_fills_the_step_dates_as_store_status_does(japan):
    migration = importlib.import_module("pacts.migrations.0010_derived_step_dates_and_dashboard_indexes")
    stored = stored_step_dates()
    assert sum(day is not None for days in stored.values() for day in days) == 8
    Agreement.objects.update(**dict.fromkeys(STEP_DATES))
    with connection.cursor() as cursor:
        for sql in (migration.SIGNED_ON, migration.IN_FORCE_ON, migration.APPROVED_ON):
            cursor.execute(sql)
    assert stored_step_dates() == stored


def test_the_bulk_seed_stores_the_step_dates_store_status_would(db):
    synthetic.seed(agreements=80, events_per_agreement=8, seed=3, today=date(2026, 11, 30))
    seeded = stored_step_dates()
    assert sum(days[0] is not None for days in seeded.values()) > 10
    assert sum(days[2] is not None or days[3] is not None for days in seeded.values()) > 5
    for agreement in Agreement.objects.all():
        agreement.store_status()
    assert stored_step_dates() == seeded


def test_the_kept_page_shows_a_new_agreement_or_step_at_once(reader, db):
    make_agreements_of_japan(2)
    assert "2 agreements" in reader.get("/parties/JP/").content.decode()
    agreement = AgreementFactory(party_a_id="JP", party_b_id="FR", short_name="Paris accord")
    content = reader.get("/parties/JP/").content.decode()
    assert "3 agreements" in content
    assert "Paris accord" in content
    EventFactory(agreement=agreement, kind="cabinet-approval", lane="JP", date="2025-01-10", summary="Tokyo approves")
    assert "Tokyo approves" in reader.get("/parties/JP/").content.decode()
