from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from pacts.access import reader_required
from pacts.models import Agreement


@require_GET
@reader_required
@vary_on_headers("HX-Request")
def agreement_list(request):
    agreements = Agreement.objects.for_list()
    return render(request, "pacts/agreement_list.html", {"agreements": agreements})


@require_GET
@reader_required
@vary_on_headers("HX-Request")
def timeline(request, slug):
    agreement = get_object_or_404(Agreement.objects.select_related("party_a", "party_b"), slug=slug)
    events = agreement.events.for_timeline().with_first_reported()
    context = {
        "agreement": agreement,
        "events": events,
        "aliases": agreement.aliases.all(),
        "citations": agreement.citations.select_related("source__publisher"),
    }
    return render(request, "pacts/timeline.html", context)
