"""The derived status and notice of PRODUCT.md section 2, as a pure function."""

from datetime import date
from itertools import count

import pytest

from pacts.vocabulary import STATUS_SET_BY, Step, derive_status

ids = count(1)


def step(kind, when, status="occurred"):
    return Step(kind, status, when, next(ids))


def status_of(*steps, rule="on-notification", as_of=None):
    return derive_status(steps, rule, as_of=as_of)


def test_no_events_means_proposed():
    assert status_of() == ("proposed", "none")


@pytest.mark.parametrize(("kind", "expected"), sorted(STATUS_SET_BY.items()))
def test_each_kind_in_the_table_sets_its_status(kind, expected):
    assert status_of(step(kind, date(2012, 1, 1)))[0] == expected


@pytest.mark.parametrize("kind", ["cabinet-approval", "statement", "legislative-consent", "ratification", "renewal"])
def test_other_kinds_never_change_the_status(kind):
    assert status_of(step("signature", date(2012, 1, 1)), step(kind, date(2013, 1, 1))) == ("signed", "none")


def test_signature_means_in_force_when_the_agreement_enters_into_force_on_signature():
    assert status_of(step("signature", date(2016, 11, 23)), rule="on-signature") == ("in-force", "none")


@pytest.mark.parametrize(
    "kind", ["negotiation-opened", "negotiation-round", "negotiation-suspended", "text-initialled"]
)
def test_talks_after_the_first_signature_do_not_change_the_status(kind):
    signed = step("signature", date(2016, 11, 23))
    assert status_of(signed, step(kind, date(2018, 1, 1)))[0] == "signed"


def test_talks_before_the_first_signature_do_change_the_status():
    assert (
        status_of(step("negotiation-opened", date(2011, 1, 1)), step("negotiation-suspended", date(2012, 7, 1)))[0]
        == "stalled"
    )


def test_only_occurred_events_count():
    for status in ("expected", "postponed", "cancelled"):
        assert status_of(step("signature", date(2012, 6, 29), status=status))[0] == "proposed"


def test_events_with_unknown_dates_are_ignored():
    assert status_of(step("negotiation-opened", date(2011, 1, 1)), step("termination", None))[0] == "negotiating"


def test_same_day_events_apply_in_vocabulary_order_not_input_order():
    # The vocabulary puts signature before entry-into-force, whatever order they come in.
    signed = Step("signature", "occurred", date(2016, 11, 23), 2)
    in_force = Step("entry-into-force", "occurred", date(2016, 11, 23), 1)
    assert status_of(in_force, signed)[0] == "in-force"
    suspended = Step("suspension-of-operation", "occurred", date(2020, 1, 1), 9)
    lifted = Step("suspension-lifted", "occurred", date(2020, 1, 1), 3)
    assert status_of(lifted, suspended)[0] == "in-force"


def test_precision_does_not_matter_only_the_start_of_the_period():
    # "2012" starts on 1 January, before the signature on 29 June.
    year = step("text-initialled", date(2012, 1, 1))
    day = step("signature", date(2012, 6, 29))
    assert status_of(day, year)[0] == "signed"


def test_as_of_counts_only_events_starting_on_or_before_the_day():
    signed = step("signature", date(2016, 11, 23))
    initialled = step("text-initialled", date(2016, 11, 14))
    assert status_of(signed, initialled, as_of=date(2016, 11, 22))[0] == "initialled"
    assert status_of(signed, initialled, as_of=date(2016, 11, 23))[0] == "signed"


@pytest.mark.parametrize(
    ("kind", "notice"),
    [
        ("termination-notice", "pending"),
        ("termination-notice-suspended", "suspended"),
        ("termination-notice-withdrawn", "none"),
        ("termination", "none"),
        ("expiry", "none"),
        ("superseded", "none"),
    ],
)
def test_notice_follows_its_own_table(kind, notice):
    given = step("termination-notice", date(2019, 8, 23))
    if kind == "termination-notice":
        assert status_of(given)[1] == notice
    else:
        assert status_of(given, step(kind, date(2019, 11, 22)))[1] == notice


def test_a_notice_qualifies_but_keeps_in_force():
    steps = (step("signature", date(2016, 11, 23)), step("termination-notice", date(2019, 8, 23)))
    assert status_of(*steps, rule="on-signature") == ("in-force", "pending")


GSOMIA = (
    step("negotiation-opened", date(2011, 1, 1)),
    step("text-initialled", date(2012, 6, 1)),
    step("signature", date(2012, 6, 29), status="postponed"),
    step("negotiation-resumed", date(2016, 10, 1)),
    step("text-initialled", date(2016, 11, 14)),
    step("signature", date(2016, 11, 23)),
    step("termination-decision", date(2019, 8, 22)),
    step("termination-notice", date(2019, 8, 23)),
    step("termination-notice-suspended", date(2019, 11, 22)),
    step("termination-notice-withdrawn", date(2023, 3, 21)),
)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2010, 12, 31), ("proposed", "none")),
        (date(2011, 3, 1), ("negotiating", "none")),
        (date(2012, 6, 30), ("initialled", "none")),
        (date(2016, 10, 15), ("negotiating", "none")),
        (date(2016, 11, 14), ("initialled", "none")),
        (date(2016, 11, 23), ("in-force", "none")),
        (date(2019, 8, 22), ("in-force", "none")),
        (date(2019, 8, 23), ("in-force", "pending")),
        (date(2019, 11, 22), ("in-force", "suspended")),
        (date(2023, 3, 21), ("in-force", "none")),
    ],
)
def test_gsomia_whole_path(day, expected):
    assert status_of(*GSOMIA, rule="on-signature", as_of=day) == expected
