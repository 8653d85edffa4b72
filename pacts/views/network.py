from django import forms
from django.core.paginator import Paginator
from django.db.models import Case, CharField, Count, F, Value, When
from django.db.models.functions import Greatest, Least
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from pacts import network as layout
from pacts import revisions, vocabulary
from pacts.access import reader_required
from pacts.models import Agreement, Party
from pacts.network import Link
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
    """Each (pair, kind) with its number of agreements, strongest first: one GROUP BY query.

    A queryset of (a, b, kind, count) rows, to be sliced or paged: at 100,000 agreements
    there are some 30,000 pairs and kinds, and holding them all cost a worker 14 MB for
    a page that shows 550. The pair is put in code order in SQL, so KR–JP and JP–KR
    agreements count together, and the rows come in `pacts.network.strongest`'s order.
    """
    kind_position = Case(
        *(When(kind=kind, then=Value(position)) for kind, position in layout.KIND_POSITION.items()),
        default=Value(len(layout.KIND_POSITION)),
    )
    return (
        agreements.values(
            a=Least("party_a", "party_b", output_field=CharField()),
            b=Greatest("party_a", "party_b", output_field=CharField()),
            link_kind=F("kind"),
        )
        .annotate(count=Count("*"))
        .order_by("-count", "a", "b", kind_position)
        .values_list("a", "b", "link_kind", "count")
    )


def agreements_per_party(agreements):
    """{party code: its number of agreements}, in either lane, counted in one query."""
    lanes = [
        agreements.order_by().values(code=F(lane)).annotate(n=Count("*")).values_list("code", "n")
        for lane in ("party_a", "party_b")
    ]
    counts = {}
    for code, count in lanes[0].union(lanes[1], all=True).order_by():
        counts[code] = counts.get(code, 0) + count
    return counts


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
    """What the drawing and the table show, for the filters of `form`: only the links they show are read."""
    agreements = form.filter(Agreement.objects.all())
    links = links_between_parties(agreements)
    per_party = agreements_per_party(agreements)
    names = {code: Party(code=code).name for code in per_party}
    table = Paginator(links, TABLE_ROWS).get_page(request.GET.get("page"))
    table.object_list = layout.rows([Link(*row) for row in table.object_list], names)
    other_pages = request.GET.copy()
    other_pages.pop("page", None)
    strongest = [Link(*row) for row in links[: layout.LINKS_DRAWN]]
    return {
        "form": form,
        "drawing": layout.draw(strongest, names, party_counts=per_party, link_count=table.paginator.count),
        "table": table,
        "page_query": other_pages.urlencode(),
        "legend": [(kind, label, layout.PALETTE[kind]) for kind, label in vocabulary.AGREEMENT_KINDS],
        "total": sum(per_party.values()) // 2,  # each agreement counts for both its parties
        "list_url": reverse("agreement-list"),
        # One reverse() for every party link, not one per link: the page has thousands.
        "party_url": reverse("party", args=["XX"]).removesuffix("XX/"),
    }
