import re
import statistics
from collections import Counter

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    DateField,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    When,
)
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from pacts import revisions, vocabulary
from pacts.access import reader_required
from pacts.dates import Period
from pacts.models import Agreement, Event, Party

TEMPLATE = "pacts/party.html"
CODE = re.compile(r"[A-Z]{2}")
AGREEMENTS_SHOWN = 200
STEPS_SHOWN = 100
EVENT_STATUS_LABELS = dict(vocabulary.EVENT_STATUSES)


class Median(Aggregate):
    """PostgreSQL's continuous median: the mean of the two middle values when their number is even."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class DaysBetween(Func):
    """`later - earlier` for two dates, in days (PostgreSQL subtracts dates to an integer)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


def agreements_of(party):
    return Agreement.objects.filter(Q(party_a=party) | Q(party_b=party))


def agreement_counts(party):
    """`(by_kind, by_status)`: lists of (value, label, count) in vocabulary order, from one GROUP BY query."""
    kinds, statuses = Counter(), Counter()
    for kind, status, count in agreements_of(party).values_list("kind", "status").annotate(count=Count("id")):
        kinds[kind] += count
        statuses[status] += count
    by_kind = [(kind, label, kinds[kind]) for kind, label in vocabulary.AGREEMENT_KINDS if kinds[kind]]
    by_status = [
        (status, label, statuses[status]) for status, label in vocabulary.AGREEMENT_STATUSES if statuses[status]
    ]
    return by_kind, by_status


def counterparts_of(party):
    """The other parties of the party's agreements, as (Party, number of agreements), most first."""
    counterpart = Case(When(party_a=party, then=F("party_b")), default=F("party_a"), output_field=CharField())
    rows = (
        agreements_of(party)
        .values(counterpart=counterpart)
        .annotate(count=Count("id"))
        .order_by("-count", "counterpart")
        .values_list("counterpart", "count")
    )
    return [(Party(code=code), count) for code, count in rows]


def latest_events(party):
    """The party's agreements, latest activity first, each with the date, kind and status of its latest event."""
    latest = Event.objects.filter(agreement=OuterRef("pk"), date_start__isnull=False).order_by(
        "-date_start", "-kind_position", "-id"
    )
    return (
        agreements_of(party)
        .only("slug", "title", "short_name", "kind", "status", "notice", "latest_event_on", "party_a", "party_b")
        .annotate(
            latest_start=Subquery(latest.values("date_start")[:1]),
            latest_kind=Subquery(latest.values("kind")[:1]),
            latest_status=Subquery(latest.values("status")[:1]),
            latest_precision=Subquery(latest.values("date_precision")[:1]),
        )
        .order_by(F("latest_event_on").desc(nulls_last=True), "short_name", "id")
    )


def domestic_steps(party):
    """Events in the party's own lane across all its agreements, newest first, unknown dates last."""
    return (
        Event.objects.filter(lane=party.code)
        .select_related("agreement")
        .only(
            "kind",
            "status",
            "date_start",
            "date_precision",
            "summary",
            "agreement__slug",
            "agreement__short_name",
            "agreement__title",
        )
        .order_by(F("date_start").desc(nulls_last=True), "-kind_position", "-id")
    )


def step_pairs(party):
    """The party's agreements with the three days that its step durations measure.

    `signed_on` and `in_force_on` are stored on the agreement, and `approved_on` is
    the party's own of the two stored approvals: see pacts.durations for which
    events count.
    """
    approved_on = Case(
        When(party_a=party, then=F("party_a_approved_on")), default=F("party_b_approved_on"), output_field=DateField()
    )
    return agreements_of(party).annotate(approved_on=approved_on)


def step_medians(party):
    """Median days and number of pairs: cabinet approval → signature, and signature → entry into force.

    `{"approval_to_signature": (median or None, pairs), "signature_to_entry": (...)}`,
    computed by PostgreSQL in one query; elsewhere (the SQLite demo) from the same
    pairs in Python, which gives the same answer.
    """
    pairs = step_pairs(party)
    if connection.vendor != "postgresql":
        return medians_in_python(pairs)
    result = pairs.aggregate(
        approval_to_signature=Median(DaysBetween("signed_on", "approved_on")),
        approval_pairs=Count("approved_on"),
        signature_to_entry=Median(DaysBetween("in_force_on", "signed_on")),
        entry_pairs=Count("in_force_on"),
    )
    return {
        "approval_to_signature": (result["approval_to_signature"], result["approval_pairs"]),
        "signature_to_entry": (result["signature_to_entry"], result["entry_pairs"]),
    }


def medians_in_python(pairs):
    """What `step_medians` computes in SQL, from the pairs' days read into Python."""
    approval, entry = [], []
    for approved_on, signed_on, in_force_on in pairs.values_list("approved_on", "signed_on", "in_force_on"):
        if approved_on:
            approval.append((signed_on - approved_on).days)
        if in_force_on:
            entry.append((in_force_on - signed_on).days)
    return {
        "approval_to_signature": (float(statistics.median(approval)) if approval else None, len(approval)),
        "signature_to_entry": (float(statistics.median(entry)) if entry else None, len(entry)),
    }


@require_GET
@reader_required
def party(request, code):
    if not CODE.fullmatch(code):
        raise Http404("A party is two capital letters, such as KR.")
    party = get_object_or_404(Party, code=code)
    # Its counts, medians and lists cover all its agreements and grow with them: kept per data version.
    body_html = revisions.kept(
        "party-page", [party.code], lambda: render_to_string(TEMPLATE + "#body", party_context(party), request)
    )
    return render(request, TEMPLATE, {"party": party, "body_html": body_html})


def party_context(party):
    """The party's counts, agreements, counterparts, domestic steps and step durations."""
    list_url = reverse("agreement-list")
    by_kind, by_status = agreement_counts(party)
    agreements = list(latest_events(party)[:AGREEMENTS_SHOWN])
    for agreement in agreements:
        other = agreement.party_b_id if agreement.party_a_id == party.code else agreement.party_a_id
        agreement.counterpart = Party(code=other)
        agreement.latest = None
        if agreement.latest_kind:
            agreement.latest = Period(agreement.latest_start, agreement.latest_precision)
            agreement.latest_kind_label = vocabulary.KIND_LABELS[agreement.latest_kind]
            agreement.latest_status_label = EVENT_STATUS_LABELS[agreement.latest_status]
    medians = step_medians(party)
    return {
        "party": party,
        "total": sum(count for _, _, count in by_kind),
        "by_kind": [
            (label, count, f"{list_url}?{urlencode({'party': party.code, 'kind': kind})}")
            for kind, label, count in by_kind
        ],
        "by_status": [
            (status, label, count, f"{list_url}?{urlencode({'party': party.code, 'status': status})}")
            for status, label, count in by_status
        ],
        "all_url": f"{list_url}?{urlencode({'party': party.code})}",
        "agreements": agreements,
        "agreements_shown": AGREEMENTS_SHOWN,
        "counterparts": counterparts_of(party),
        "steps": list(domestic_steps(party)[:STEPS_SHOWN]),
        "steps_shown": STEPS_SHOWN,
        "durations": [
            ("Cabinet approval", "signature", *medians["approval_to_signature"]),
            ("Signature", "entry into force", *medians["signature_to_entry"]),
        ],
    }
