"""Editors' inline editing of a timeline: events, their citations, expectations met or postponed.

Each form renders into the editor panel beside the lanes (htmx) or as a page of its
own (no JavaScript). An invalid form answers 422 with its errors; a saved one
answers with an empty panel and the `event-saved` trigger, on which the lanes and
the header refresh themselves.
"""

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from pacts import vocabulary
from pacts.access import editor_required, reader_required
from pacts.conflicts import refused_edit
from pacts.forms import CitationForm, EventForm, PostponeForm, SourceForm, SourceSearchForm
from pacts.interchange import latest_today
from pacts.models import Agreement, Citation, EditConflict, Source
from pacts.models.editing import stamped
from pacts.views.timeline import is_partial

EDITOR = "pacts/event_form.html"


def agreement_for(slug):
    return get_object_or_404(Agreement.objects.select_related("party_a", "party_b"), slug=slug)


def event_for(agreement, pk):
    # The event must belong to the agreement in the URL: no editing through another's address.
    return get_object_or_404(agreement.events.select_related("resolves", "resolved_by"), pk=pk)


def stamp(instance, request, reason):
    return stamped(instance, request.user, reason)


def saved(request, agreement, event=None):
    """After a successful write: close the panel and tell the page to refresh."""
    if not request.htmx:
        anchor = f"#event-{event.pk}" if event is not None and event.pk else ""
        return redirect(agreement.get_absolute_url() + anchor)
    response = HttpResponse("")
    return trigger_client_event(response, "event-saved", {"event": event.pk if event is not None else None})


def panel_template(request, template):
    """The form as a fragment for the editor panel, or as a page of its own."""
    return template + "#panel" if is_partial(request) else template


def panel(request, template, context, status=200):
    return render(request, panel_template(request, template), context, status=status)


@require_http_methods(["GET", "POST"])
@editor_required
@vary_on_headers("HX-Request")
def event_new(request, slug):
    agreement = agreement_for(slug)
    initial = {"lane": request.GET.get("lane", vocabulary.JOINT), "status": "occurred", "confidence": "high"}
    form = EventForm(request.POST or None, agreement=agreement, initial=initial)
    if request.method == "POST":
        if earlier := form.already_created(agreement.events.all()):
            return saved(request, agreement, earlier)  # a double click or a replayed POST
        if form.is_valid():
            try:
                with transaction.atomic():
                    event = stamp(form.save(commit=False), request, "added on the timeline")
                    event.save()
            except IntegrityError:
                # The same form submitted twice at once: the creation key let one through.
                if earlier := form.already_created(agreement.events.all()):
                    return saved(request, agreement, earlier)
                raise
            return saved(request, agreement, event)
        return panel(request, EDITOR, {"agreement": agreement, "form": form, "action": "new"}, status=422)
    return panel(request, EDITOR, {"agreement": agreement, "form": form, "action": "new"})


@require_http_methods(["GET", "POST"])
@editor_required
@vary_on_headers("HX-Request")
def event_edit(request, slug, pk):
    agreement = agreement_for(slug)
    event = event_for(agreement, pk)
    form = EventForm(request.POST or None, instance=event, agreement=agreement)
    context = {"agreement": agreement, "form": form, "event": event, "action": "edit"}
    if request.method == "POST":
        if form.is_valid() and not form.has_changed():
            return saved(request, agreement, event)  # nothing to write, nothing to put in the history
        if form.is_valid():
            try:
                with transaction.atomic():
                    stamp(form.save(commit=False), request, form.reason_or("edited on the timeline")).save()
            except EditConflict:
                return refused_edit(request, panel_template(request, EDITOR), context, form=form)
            return saved(request, agreement, event)
        return panel(request, EDITOR, context, status=422)
    return panel(request, EDITOR, context)


@require_http_methods(["GET", "POST"])
@editor_required
@vary_on_headers("HX-Request")
def event_delete(request, slug, pk):
    agreement = agreement_for(slug)
    event = event_for(agreement, pk)
    if request.method == "POST":
        with transaction.atomic():
            # Citations go one by one so that history keeps each with its author.
            for citation in event.citations.all():
                stamp(citation, request, "event deleted").delete()
            stamp(event, request, "deleted on the timeline").delete()
        return saved(request, agreement)
    return panel(request, "pacts/event_delete.html", {"agreement": agreement, "event": event})


@require_POST
@editor_required
def event_met(request, slug, pk):
    """An expectation met on schedule becomes the occurred event itself."""
    agreement = agreement_for(slug)
    event = event_for(agreement, pk)
    problem = None
    if event.status != "expected":
        problem = "Only an expected event can be marked as met."
    elif event.date_start and event.date_start > latest_today():
        problem = "This expectation is dated in the future; it cannot have been met yet."
    if problem:
        return render(request, "pacts/problem.html", {"agreement": agreement, "problem": problem}, status=422)
    with transaction.atomic():
        event.status = "occurred"
        stamp(event, request, "expectation met").save()
    return saved(request, agreement, event)


@require_http_methods(["GET", "POST"])
@editor_required
@vary_on_headers("HX-Request")
def event_postpone(request, slug, pk):
    """A slipped expectation: mark it postponed and record what happened instead, resolving it."""
    agreement = agreement_for(slug)
    expectation = event_for(agreement, pk)
    initial = {
        "kind": expectation.kind,
        "lane": expectation.lane,
        "status": "expected",
        "confidence": expectation.confidence,
        "summary": expectation.summary,
        "body": expectation.body,
        "actors": expectation.actors,
    }
    form = PostponeForm(request.POST or None, agreement=agreement, expectation=expectation, initial=initial)
    if earlier := form.already_created(agreement.events.all()):
        return saved(request, agreement, earlier)  # a double click: the first one postponed it
    if expectation.status not in vocabulary.RESOLVABLE_STATUSES or expectation.resolver is not None:
        problem = "Only an expectation that nothing resolves yet can be postponed."
        return render(request, "pacts/problem.html", {"agreement": agreement, "problem": problem}, status=422)
    context = {"agreement": agreement, "form": form, "event": expectation, "action": "postpone"}
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    if expectation.status == "expected":
                        expectation.status = "postponed"
                        stamp(expectation, request, "postponed").save()
                    event = stamp(form.save(commit=False), request, "replaces a postponed expectation")
                    event.save()
            except IntegrityError:
                if earlier := form.already_created(agreement.events.all()):
                    return saved(request, agreement, earlier)
                raise
            return saved(request, agreement, event)
        return panel(request, EDITOR, context, status=422)
    return panel(request, EDITOR, context)


@require_GET
@reader_required
@vary_on_headers("HX-Request")
def event_citations(request, slug, pk):
    """An event's sources in full; expanded in place, or a page of its own without JavaScript."""
    agreement = agreement_for(slug)
    event = event_for(agreement, pk)
    citations = event.citations.select_related("source__publisher").order_by("stance", "id")
    template = "pacts/citations.html#citations" if is_partial(request) else "pacts/citations.html"
    return render(request, template, {"agreement": agreement, "event": event, "citations": citations})


@require_http_methods(["GET", "POST"])
@editor_required
@vary_on_headers("HX-Request")
def citation_new(request, slug, pk):
    """Cite an existing source (found by search) or a new one created in place."""
    agreement = agreement_for(slug)
    event = event_for(agreement, pk)
    form = CitationForm(request.POST or None, event=event)
    chosen = [key for key in request.POST.getlist("source") if key.strip()]
    wants_new_source = request.method == "POST" and not chosen
    source_form = SourceForm(request.POST if wants_new_source else None, prefix="new")
    context = {"agreement": agreement, "event": event, "form": form, "source_form": source_form}
    if form.already_created(event.citations.all()):
        return saved(request, agreement, event)  # a double click: the first one cited it
    if request.method == "POST":
        if form.is_valid() and (not wants_new_source or source_form.is_valid()):
            existing = form.cleaned_data["source"]
            if existing is None or form.check_not_cited(existing):
                try:
                    with transaction.atomic():
                        source = existing
                        if source is None:
                            source = stamp(source_form.save(commit=False), request, "cited on the timeline")
                            source.save()
                        citation = form.save(commit=False)
                        citation.source = source
                        stamp(citation, request, "cited on the timeline").save()
                    return saved(request, agreement, event)
                except IntegrityError:
                    if form.already_created(event.citations.all()):
                        return saved(request, agreement, event)
                    # Two editors creating the same source at once: the database keeps one.
                    source_form.add_error(None, "A source with this URL and version, or this headline, already exists.")
        return panel(request, "pacts/citation_form.html", context, status=422)
    return panel(request, "pacts/citation_form.html", context)


@require_POST
@editor_required
def citation_delete(request, slug, pk, citation_pk):
    agreement = agreement_for(slug)
    event = event_for(agreement, pk)
    citation = get_object_or_404(Citation, pk=citation_pk, event=event)
    with transaction.atomic():
        stamp(citation, request, "removed on the timeline").delete()
    return saved(request, agreement, event)


@require_GET
@editor_required
def source_search(request):
    """Search-as-you-type for the citation form: sources by headline, key or publisher."""
    form = SourceSearchForm(request.GET)
    if not form.is_valid():
        return render(request, "pacts/source_search.html", {"form": form, "sources": []}, status=400)
    sources = Source.objects.matching(form.cleaned_data["q"])[:10] if len(form.cleaned_data["q"]) >= 2 else []
    return render(request, "pacts/source_search.html", {"form": form, "sources": sources})
