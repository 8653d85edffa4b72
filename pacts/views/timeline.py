import hashlib
import re

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache, caches
from django.db.models import Prefetch
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from pacts import revisions
from pacts import timeline as layout
from pacts.access import reader_required
from pacts.caching import reads_ahead
from pacts.forms import TimelineFilterForm
from pacts.models import Agreement, Citation
from pacts.roles import ADMIN, EDITOR, role_of

TEMPLATE = "pacts/timeline.html"
KEPT_SECONDS = 60 * 60

# The indented blank lines the template's tags leave: a tenth of a long timeline's bytes.
# Whitespace with a line break in it shows as one space anyway, and a reader's timeline
# holds no <pre> or <textarea> (an editor's forms do, and are never kept).
LINE_BREAKS = re.compile(r"\s*\n\s*")


def is_partial(request):
    """A fragment for htmx's own requests; the whole page for boosts and history restores.

    The headers are read as django-htmx reads them (`request.htmx`), but from `request.META`:
    `request.headers` copies every header first, about 30 of the timeline poll's 600 µs.
    """
    meta = request.META
    return (
        meta.get("HTTP_HX_REQUEST") == "true"
        and meta.get("HTTP_HX_BOOSTED") != "true"
        and meta.get("HTTP_HX_HISTORY_RESTORE_REQUEST") != "true"
    )


def timeline_etag(agreement, request, partial):
    """Covers the data (revision), who looks (role) and what they asked for (query string).

    `agreement` may be an Agreement or the `Revision` known from the cache.
    """
    query = request.GET.urlencode()
    key = f"{agreement.pk}:{agreement.revision}:{role_of(request.user)}:{partial}:{query}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def fragment_key(agreement, request, partial):
    """Where a rendered timeline is cached: a new revision, another role, query or day is another key.

    Nothing is ever invalidated: a change to the agreement makes a new revision,
    so its old fragments are simply never asked for again and age out. The query
    is the one asked (without the poll's `since`), so that a cached page is found
    before the agreement is read; only pages of valid queries are ever stored.
    """
    today = timezone.localdate().isoformat()  # "overdue" depends on the day
    query = urlencode(
        sorted((name, value) for name, values in request.GET.lists() if name != "since" for value in values)
    )
    key = f"{agreement.pk}:{agreement.revision}:{role_of(request.user)}:{partial}:{query}:{today}"
    # "timeline-bytes": entries of an earlier release held text, which timeline_response no longer takes.
    return "timeline-bytes:" + hashlib.sha256(key.encode()).hexdigest()


def filter_query(form):
    """The query string of the chosen filters, without the poll's `since`."""
    data = form.cleaned_data
    pairs = [(name, value) for name in ("group", "lane", "status", "open") for value in data.get(name) or []]
    if data.get("as_of"):
        pairs.append(("as_of", data["as_of"].isoformat()))
    return urlencode(pairs)


@reads_ahead(lambda slug: [revisions.key(slug)])
@require_GET
@reader_required
@vary_on_headers("HX-Request")
def timeline(request, slug):
    partial = is_partial(request)
    # Editors' fragments carry forms with their own CSRF token: never shared, never cached.
    cacheable = role_of(request.user) not in {EDITOR, ADMIN}
    if (known := revisions.known(slug)) is not None:
        # The open page's poll, revalidation and cached page, answered without reading a table.
        if partial and request.GET.get("since") == str(known.revision):
            return HttpResponse(status=204)
        etag = timeline_etag(known, request, partial)
        if not_modified := get_conditional_response(request, etag=etag):
            return revalidated(not_modified, etag)
        if cacheable and (page := kept_page(fragment_key(known, request, partial))):
            return timeline_response(request, partial, page, etag)
    agreement = get_object_or_404(Agreement.objects.select_related("party_a", "party_b"), slug=slug)
    revisions.learn(agreement)
    form = TimelineFilterForm(request.GET, agreement=agreement)
    if form.is_valid() and partial and form.cleaned_data["since"] == agreement.revision:
        return HttpResponse(status=204)  # nothing changed since the page was drawn
    etag = timeline_etag(agreement, request, partial)
    if not_modified := get_conditional_response(request, etag=etag):
        return revalidated(not_modified, etag)
    if not form.is_valid():
        context = {"agreement": agreement, "form": form, "events": [], "aliases": agreement.aliases.all()}
        return render(request, TEMPLATE, context, status=400)

    key = fragment_key(agreement, request, partial)
    page = kept_page(key) if cacheable else None
    if page is None:
        context = timeline_context(request, agreement, form, partial)
        html = render_to_string(TEMPLATE + ("#live" if partial else "#body"), context, request)
        if cacheable:
            html = LINE_BREAKS.sub("\n", html)
        # Kept and sent as UTF-8: the largest timelines are hundreds of kilobytes, and
        # decoding them from the cache and encoding them again cost a third of their time.
        page = {"title": agreement.short_name or agreement.title, "html": html.encode()}
        if cacheable:
            cache.set(key, page, timeout=KEPT_SECONDS)
            caches["fragments"].set(key, page, timeout=KEPT_SECONDS)
    return timeline_response(request, partial, page, etag)


def kept_page(key):
    """A rendered timeline kept under `key`: from this worker's memory if it has read it before.

    The key names the agreement's revision, so a copy can never differ from the
    shared cache's (settings.CACHES["fragments"]).
    """
    if (page := caches["fragments"].get(key)) is None and (page := cache.get(key)) is not None:
        caches["fragments"].set(key, page, timeout=KEPT_SECONDS)
    return page


# Where the page drawn around a kept fragment is cut to take it, and its CSRF token. Everything
# else the page draws is escaped, so "<!--" appears nowhere else in it.
BODY_SLOT = mark_safe("<!-- pacts:timeline-body -->")
TOKEN_SLOT = mark_safe("<!-- pacts:csrf-token -->")


def timeline_response(request, partial, page, etag):
    """The rendered fragment as it is (htmx), or inside the page; revalidated on every use."""
    if partial:
        response = HttpResponse(page["html"])
    else:
        before, after = page_around(request, page["title"])
        # Masked anew for every response, as Django's own {% csrf_token %} is (BREACH).
        token = get_token(request).encode()
        response = HttpResponse(b"".join([token.join(before), page["html"], token.join(after)]))
    return revalidated(response, etag)


def revalidated(response, etag):
    """`response` (the page or its 304) with its ETag, to be checked with it on every use.

    A 304 carries both, as the page would: RFC 9110 (15.4.5) asks it of every 304, and a
    cache refreshes the page it keeps with the headers the 304 brings.
    """
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def page_around(request, title):
    """The page drawn around a timeline's body, as the bytes before and after the body.

    Each is a list of pieces to join with the request's CSRF token. A signed-in viewer's
    page around a title only changes with their name, role or staff flag, so each worker
    keeps it under those (a new release restarts the workers). Drawn anew when flash
    messages wait, which it shows once, and for anonymous readers (public reading), whose
    sign-in link names the path asked.
    """
    user = request.user
    keep = user.is_authenticated and not len(get_messages(request))
    if keep:
        viewer = f"{title}\0{user.pk}\0{user.get_username()}\0{user.is_staff}\0{role_of(user)}"
        key = "timeline-around:" + hashlib.sha256(viewer.encode()).hexdigest()
        if (kept := caches["process"].get(key)) is not None:
            return kept
    context = {"page_title": title, "body_html": BODY_SLOT, "csrf_token": TOKEN_SLOT}
    before, after = render_to_string(TEMPLATE, context, request).split(BODY_SLOT, 1)
    around = (before.encode().split(TOKEN_SLOT.encode()), after.encode().split(TOKEN_SLOT.encode()))
    if keep:
        caches["process"].set(key, around, timeout=KEPT_SECONDS)
    return around


def timeline_context(request, agreement, form, partial):
    """Everything the timeline's lanes and header show: the queries a cached fragment saves."""
    as_of = form.cleaned_data["as_of"]
    events = agreement.events.all()
    fold = layout.fold_years(events, opened=form.cleaned_data["open"])
    events = form.filter(layout.unfolded(events, fold))
    events = events.in_date_order().select_related("resolves", "resolved_by")
    events = events.prefetch_related(Prefetch("citations", Citation.objects.select_related("source__publisher")))
    shown = layout.place_in_lanes(agreement, layout.read_events(events, as_of=as_of))
    procedure = list(layout.progress_events(agreement))
    if as_of:
        agreement.status, agreement.notice = agreement.compute_status(as_of=as_of)
    query = filter_query(form)
    return {
        "agreement": agreement,
        "form": form,
        "events": shown,
        "aliases": agreement.aliases.all(),
        "progress": layout.progress(agreement, procedure, as_of=as_of),
        "fold": fold,
        "as_of": as_of,
        "query": query,
        "live_url": f"{agreement.get_absolute_url()}?{query}" if query else agreement.get_absolute_url(),
        "refresh_seconds": settings.PACTS_REFRESH_SECONDS,
        # A fragment also carries the header, swapped out of band: status and progress change with the events.
        "oob": partial,
    }
