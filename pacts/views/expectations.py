from django import forms
from django.db.models import F, Q
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_countries import countries

from pacts import expectations as outcomes
from pacts import revisions, vocabulary
from pacts.access import reader_required
from pacts.models import Event

TEMPLATE = "pacts/expectations.html"
# The table shows the expectations with the latest deadlines; the counts and medians cover them all.
ROWS = 200


def kind_choices():
    """Each group of kinds, then its kinds: one field asks for a whole phase or a single kind."""
    choices = [("", "Any kind")]
    for group, label, kinds in vocabulary.KIND_GROUPS:
        choices.append((label, [(f"group:{group}", f"Any {label.lower()} step")] + [(k, n) for k, n, _ in kinds]))
    return choices


class ExpectationFilterForm(forms.Form):
    party = forms.ChoiceField(
        required=False,
        choices=lambda: [("", "Any party"), *countries],
        help_text="Expectations of agreements this state is party to.",
    )
    lane = forms.ChoiceField(
        required=False,
        choices=lambda: [("", "Any lane"), (vocabulary.JOINT, "Joint"), *countries],
        help_text="Whose step it is: a party's own, or joint.",
    )
    kind = forms.ChoiceField(required=False, choices=kind_choices)
    outcome = forms.ChoiceField(required=False, choices=[("", "Any outcome"), *outcomes.OUTCOMES])

    def filter(self, events):
        """Narrow the events to the chosen party, lane, kind or group, and outcome."""
        data = self.cleaned_data
        if data["party"]:
            events = events.filter(Q(agreement__party_a=data["party"]) | Q(agreement__party_b=data["party"]))
        if data["lane"]:
            events = events.filter(lane=data["lane"])
        if data["kind"].startswith("group:"):
            group = data["kind"].removeprefix("group:")
            events = events.filter(kind__in=[k for k in vocabulary.EVENT_KINDS if vocabulary.KIND_GROUP[k] == group])
        elif data["kind"]:
            events = events.filter(kind=data["kind"])
        if data["outcome"]:
            events = events.filter(outcome=data["outcome"])
        return events

    @property
    def is_filtered(self):
        return any(self.cleaned_data.get(name) for name in self.fields)


def lane_label(lane):
    return "Joint" if lane == vocabulary.JOINT else countries.name(lane) or lane


@require_GET
@reader_required
def expectations(request):
    form = ExpectationFilterForm(request.GET)
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form}, status=400)

    today = timezone.localdate()
    # The table and its counts are the page's cost, and grow with the data: kept per data version.
    body_html = revisions.kept(
        "expectations-page",
        [today.isoformat(), request.GET.urlencode()],
        lambda: render_to_string(TEMPLATE + "#body", expectations_context(form, today), request),
    )
    return render(request, TEMPLATE, {"form": form, "body_html": body_html})


def expectations_context(form, today):
    """The rows with the latest deadlines, and the outcome counts and median slippages of all selected."""
    selected = form.filter(outcomes.expectations(Event.objects.all(), today))
    rows = list(
        selected.select_related("agreement", "resolved_by")
        .defer("agreement__search_document")
        .order_by(F("due").desc(nulls_last=True), "-date_start", "-id")[:ROWS]
    )
    for event in rows:
        event.lane_label = lane_label(event.lane)
        event.outcome_label = outcomes.OUTCOME_LABELS[event.outcome]
    counts, medians_by_lane = outcomes.summary(selected)
    medians = sorted(
        ((lane_label(lane), median) for lane, median in medians_by_lane.items()),
        key=lambda pair: (pair[0] == "Joint", pair[0]),
    )
    total = sum(n for _, _, n in counts)
    return {"form": form, "rows": rows, "counts": counts, "medians": medians, "total": total, "cap": ROWS}
