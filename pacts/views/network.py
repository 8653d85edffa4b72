from django import forms
from django.core.paginator import Paginator
from django.db.models import CharField, Count, F
from django.db.models.functions import Greatest, Least
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from pacts import revisions, vocabulary
from pacts.access import reader_required
from pacts.models import Agreement, Party
from pacts.network import PALETTE, Link, draw, rows
from pacts.views.timeline import is_partial

TEMPLATE = "pacts/network.html"
TABLE_ROWS = 250


class NetworkFilterForm(forms.Form):
    """The network's query string: which kinds and statuses of agreement to draw."""

    kind = forms.MultipleChoiceField(
        label="Kind", required=False, choices=vocabulary.AGREEMENT_KINDS, widget=forms.CheckboxSelectMultiple
    )
    status = forms.MultipleChoiceField(
        label="Status", required=False, choices=vocabulary.AGREEMENT_STATUSES, widget=forms.CheckboxSelectMultiple
    )

    def filter(self, agreements):
        if kinds := self.cleaned_data["kind"]:
            agreements = agreements.filter(kind__in=kinds)
        if statuses := self.cleaned_data["status"]:
            agreements = agreements.filter(status__in=statuses)
        return agreements

    def is_filtered(self):
        return any(self.cleaned_data.values())


def links_between_parties(agreements):
    """One Link per (pair, kind) with its number of agreements, counted in one GROUP BY query.

    The pair is put in code order in SQL, so KR–JP and JP–KR agreements count together.
    """
    rows = (
        agreements.values(
            a=Least("party_a", "party_b", output_field=CharField()),
            b=Greatest("party_a", "party_b", output_field=CharField()),
            link_kind=F("kind"),
        )
        .annotate(count=Count("*"))
        .order_by("a", "b", "link_kind")
        .values_list("a", "b", "link_kind", "count")
    )
    return [Link(*row) for row in rows]


@require_GET
@reader_required
@vary_on_headers("HX-Request")
def network(request):
    form = NetworkFilterForm(request.GET)
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form}, status=400)
    # Drawing thousands of links is the page's cost: the drawing is kept per data version.
    html = revisions.kept(
        "network",
        [request.GET.urlencode()],
        lambda: render_to_string(TEMPLATE + "#network", network_context(request, form), request),
    )
    if is_partial(request):
        return HttpResponse(html)
    return render(request, TEMPLATE, {"form": form, "network_html": html})


def network_context(request, form):
    """What the drawing and the table show, for the filters of `form`."""
    links = links_between_parties(form.filter(Agreement.objects.all()))
    codes = {code for link in links for code in (link.a, link.b)}
    names = {code: Party(code=code).name for code in codes}
    table = Paginator(rows(links, names), TABLE_ROWS).get_page(request.GET.get("page"))
    other_pages = request.GET.copy()
    other_pages.pop("page", None)
    return {
        "form": form,
        "drawing": draw(links, names),
        "table": table,
        "page_query": other_pages.urlencode(),
        "legend": [(kind, label, PALETTE[kind]) for kind, label in vocabulary.AGREEMENT_KINDS],
        "total": sum(link.count for link in links),
        "list_url": reverse("agreement-list"),
        # One reverse() for every party link, not one per link: the page has thousands.
        "party_url": reverse("party", args=["XX"]).removesuffix("XX/"),
    }
