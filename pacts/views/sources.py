"""Sources: the searchable list, and one source with what cites it and the other versions of its story."""

import difflib
import re
from datetime import date
from itertools import groupby
from typing import NamedTuple

from django import forms
from django.core.paginator import Paginator
from django.db.models import Count, F
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from pacts.access import reader_required
from pacts.models import Publisher, Source
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
        return sources

    @property
    def is_filtered(self):
        return any(self.cleaned_data.get(name) for name in ("q", "publisher", "language", "kind"))


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
