"""Sources: the searchable list, one source with what cites it and the other versions of its story,
and their upkeep: editors correct a source, admins merge duplicates and link versions."""

import difflib
import re
from datetime import date
from itertools import groupby
from typing import NamedTuple

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from pacts.access import admin_required, editor_required, reader_required
from pacts.conflicts import refused_edit
from pacts.forms import SourceForm, SourceLinkForm, SourceMergeForm
from pacts.models import Citation, EditConflict, Publisher, Source
from pacts.models.editing import stamped
from pacts.views.timeline import is_partial

PAGE_SIZE = 50


class SourceFilterForm(forms.Form):
    """The source list's query string: text, publisher, language, kind and page."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Headline, key or publisher"}),
    )
    publisher = forms.ModelChoiceField(
        queryset=Publisher.objects.only("pk", "name"), required=False, empty_label="Any publisher"
    )
    language = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Source.Kind.choices])
    cited = forms.ChoiceField(
        label="Cited",
        required=False,
        choices=[("", "Cited or not"), ("yes", "Cited"), ("no", "Cited by no one")],
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        languages = Source.objects.order_by("language").values_list("language", flat=True).distinct()
        self.fields["language"].choices = [("", "Any language"), *((code, code) for code in languages)]

    def filter(self, sources):
        """Narrow a source queryset to the chosen publisher, language and kind."""
        data = self.cleaned_data
        if data["publisher"]:
            sources = sources.filter(publisher=data["publisher"])
        if data["language"]:
            sources = sources.filter(language=data["language"])
        if data["kind"]:
            sources = sources.filter(kind=data["kind"])
        if data["cited"]:
            cited = Citation.objects.filter(source=OuterRef("pk"))
            sources = sources.filter(Exists(cited) if data["cited"] == "yes" else ~Exists(cited))
        return sources

    @property
    def is_filtered(self):
        return any(self.cleaned_data.get(name) for name in ("q", "publisher", "language", "kind", "cited"))


def version_number(label):
    """The leading number of a wire-story version label: `3rd LD` → 3; none (the first take) → 0."""
    match = re.match(r"\D*?(\d+)", label)
    return int(match[1]) if match else 0


def version_order(source):
    """Versions of a story in the order they ran: by day, then by version number (`2nd LD` before `10th LD`)."""
    return (source.published_on or date.max, version_number(source.version), source.version.casefold(), source.key)


def headline_diff(old, new):
    """What changed from one headline to the next, word by word: `[("equal"|"delete"|"insert", text), …]`."""
    before, after = old.split(), new.split()
    changes = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            changes.append(("delete", " ".join(before[i1:i2])))
        if op in ("insert", "replace"):
            changes.append(("insert", " ".join(after[j1:j2])))
        if op == "equal":
            changes.append(("equal", " ".join(before[i1:i2])))
    return changes


class StoryVersion(NamedTuple):
    source: Source
    published: str
    changes: list | None  # the headline diff from the version before: [] when unchanged, None for the first


def story_versions(source):
    """Every version of the source's story (itself included) in order, each with its headline diff."""
    if not source.story:
        return []
    versions = sorted(Source.objects.filter(story=source.story), key=version_order)
    rows = []
    for before, version in zip([None, *versions], versions, strict=False):
        changes = None
        if before is not None:
            diff = headline_diff(before.headline, version.headline)
            changes = diff if any(op != "equal" for op, _ in diff) else []
        rows.append(StoryVersion(version, version.published_display, changes))
    return rows


@require_GET
@reader_required
@vary_on_headers("HX-Request")
def source_list(request):
    form = SourceFilterForm(request.GET)
    template = "pacts/source_list.html#results" if is_partial(request) else "pacts/source_list.html"
    if not form.is_valid():
        return render(request, template, {"form": form, "page": None}, status=400)
    # An empty search matches every source, in the same order.
    sources = form.filter(Source.objects.matching(form.cleaned_data["q"].strip()))
    sources = sources.annotate(citation_count=Count("citations"))
    page = Paginator(sources, PAGE_SIZE).get_page(form.cleaned_data["page"])
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, template, {"form": form, "page": page, "query": query.urlencode()})


def cited_by(source):
    """The source's citations by agreement: `[(agreement, citations)]`, its own citation first, then its events'."""
    citations = source.citations.select_related("event__agreement", "agreement").order_by(
        Coalesce("event__agreement__short_name", "agreement__short_name"),
        Coalesce("event__agreement_id", "agreement_id"),
        F("agreement_id").asc(nulls_last=True),
        F("event__date_start").asc(nulls_last=True),
        "event__kind_position",
        "id",
    )
    by_agreement = groupby(citations, key=lambda citation: citation.agreement or citation.event.agreement)
    return [(agreement, list(group)) for agreement, group in by_agreement]


@require_GET
@reader_required
def source_detail(request, key):
    source = get_object_or_404(Source.objects.select_related("publisher"), key=key)
    context = {
        "source": source,
        "published": source.published_display,
        "cited_by": cited_by(source),
        "versions": story_versions(source),
    }
    return render(request, "pacts/source_detail.html", context)


def source_for(key):
    return get_object_or_404(Source.objects.select_related("publisher"), key=key)


@require_http_methods(["GET", "POST"])
@editor_required
def source_edit(request, key):
    """Correct a source's headline, date, address, version or story; its key stays."""
    source = source_for(key)
    form = SourceForm(request.POST or None, instance=source)
    context = {"source": source, "form": form}
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    stamped(form.save(commit=False), request.user, form.reason_or("edited")).save()
            except EditConflict:
                return refused_edit(request, "pacts/source_form.html", context, form=form)
            except IntegrityError:
                form.add_error(None, "Another source already has this address and version, or this headline and date.")
            else:
                return redirect(source)
        return render(request, "pacts/source_form.html", context, status=422)
    return render(request, "pacts/source_form.html", context)


@require_http_methods(["GET", "POST"])
@admin_required
def source_merge(request, key):
    """Fold a duplicate into the source that stays; the first POST previews, the confirmed one merges."""
    duplicate = source_for(key)
    # A GET with ?into= previews too, so a merge can be linked to from elsewhere.
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = SourceMergeForm(data, duplicate=duplicate)
    context = {"source": duplicate, "form": form}
    if not form.is_bound:
        context["candidates"] = duplicate_candidates(duplicate)
        return render(request, "pacts/source_merge.html", context)
    if not form.is_valid():
        return render(request, "pacts/source_merge.html", context, status=422)
    survivor = form.cleaned_data["into"]
    if request.method == "POST" and request.POST.get("confirm") == "merge":
        duplicate.merge_into(survivor, user=request.user)
        messages.success(request, f"“{duplicate.headline}” was merged into this source.")
        return redirect(survivor)
    context |= {"survivor": survivor, "moves": merge_preview(duplicate, survivor)}
    return render(request, "pacts/source_merge.html", context)


def duplicate_candidates(source, limit=10):
    """Sources that may be the same report: the same headline, or the same publisher on the same day."""
    same = Q(headline_key=source.headline_key)
    if source.published_on:
        same |= Q(publisher=source.publisher_id, published_on=source.published_on)
    return Source.objects.select_related("publisher").filter(same).exclude(pk=source.pk).order_by("key")[:limit]


def merge_preview(duplicate, survivor):
    """What a merge would do to each of the duplicate's citations: `[(citation, "moves"|"kept"|"dropped")]`."""
    theirs = {(c.event_id, c.agreement_id): c for c in survivor.citations.all()}
    preview = []
    for citation in duplicate.citations.select_related("event__agreement", "agreement"):
        twin = theirs.get((citation.event_id, citation.agreement_id))
        if twin is None:
            preview.append((citation, "moves"))
        else:
            preview.append((citation, "kept" if len(citation.quote) > len(twin.quote) else "dropped"))
    return preview


@require_http_methods(["GET", "POST"])
@admin_required
def source_versions(request, key):
    """Record other sources as versions of this one's story."""
    source = source_for(key)
    form = SourceLinkForm(request.POST or None, source=source)
    context = {"source": source, "form": form, "versions": story_versions(source)}
    if request.method == "POST":
        if form.is_valid():
            story = source.link_versions(form.cleaned_data["keys"], user=request.user)
            messages.success(request, f"Linked {len(form.cleaned_data['keys'])} source(s) into the story “{story}”.")
            return redirect(source)
        return render(request, "pacts/source_versions.html", context, status=422)
    return render(request, "pacts/source_versions.html", context)
