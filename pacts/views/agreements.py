import re

from django.contrib.postgres.search import SearchHeadline
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import prefetch_related_objects
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_countries import countries

from pacts import revisions
from pacts.access import editor_required, reader_required
from pacts.conflicts import refused_edit
from pacts.filters import (
    SORT_CHOICES,
    AgreementFilter,
    ListPageForm,
    Matches,
    approximate_count,
    page_of,
    ranked_page,
)
from pacts.forms import AgreementCitationFormSet, AgreementForm, AliasFormSet, RelationFormSet
from pacts.models import Agreement, EditConflict
from pacts.models.editing import stamped
from pacts.search import search_words
from pacts.views.timeline import is_partial

# ts_headline's selection markers: characters from the private use area, which the
# texts never contain, so that the highlighted text can be escaped whole first.
MARK_START, MARK_STOP = "\ue000", "\ue001"


TEMPLATE = "pacts/agreement_list.html"


@require_GET
@reader_required
@vary_on_headers("HX-Request")
def agreement_list(request):
    partial = is_partial(request)
    part = "results" if partial else "body"
    # Finding, counting, ranking, highlighting and drawing the rows (and the bound filter form) are the
    # page's cost and grow with the data; the page shows nothing of the viewer, so it is kept per data
    # version, day and query string for every reader. Looked up before the filters are even built
    # (their form alone, with its country choices, takes milliseconds): only valid queries are kept.
    today = timezone.localdate()
    key = revisions.kept_key("agreement-list", [today.isoformat(), part, request.GET.urlencode()])
    if (html := cache.get(key)) is None:
        selected = AgreementFilter(request.GET, queryset=Agreement.objects.for_list())
        filters_valid = selected.is_valid()
        page_form = ListPageForm(request.GET, searching=filters_valid and bool(selected.search_text))
        context = {"form": selected.form, "page_form": page_form, "sort_choices": SORT_CHOICES, "parties": countries}
        if not (page_form.is_valid() and filters_valid):
            return render(request, TEMPLATE + ("#results" if partial else ""), context, status=400)
        context |= list_context(request, selected, page_form, today)
        html = render_to_string(f"{TEMPLATE}#{part}", context, request)
        cache.set(key, html, timeout=revisions.DATA_TIMEOUT)
    return HttpResponse(html) if partial else render(request, TEMPLATE, {"body_html": html})


def list_context(request, selected, page_form, today):
    """The page of agreements the valid filters, sort and cursor ask for, with its count and links."""
    # The filters and sort, for the page links and the exports: without the cursor and empty fields.
    query = urlencode(
        [(k, v) for k, values in request.GET.lists() if k not in ("after", "before") for v in values if v]
    )
    sort = page_form.cleaned_data["sort"]
    cursors = {
        "after_key": page_form.cleaned_data["after"] or None,
        "before_key": page_form.cleaned_data["before"] or None,
    }
    # A search is counted and ranked among its newest matches only: a common word matches nearly everything.
    # Finding them is most of a search's cost, so they are kept per data version for every page and order.
    matches = (
        revisions.kept("search-matches", [query], lambda: Matches.of(selected.narrowed, selected.search_text))
        if selected.search_text
        else None
    )
    if sort == "relevance":
        page = ranked_page(selected.narrowed, matches, **cursors)
    elif matches is not None:
        page = page_of(selected.narrowed.search(selected.search_text, common=matches.unranked), sort, **cursors)
    else:
        page = page_of(selected.qs, sort, **cursors)
    if selected.search_text:
        highlight(page.agreements, selected.search_text)
    count, more = matches.count() if matches else approximate_count(selected.qs)
    return {
        "page": page,
        "sort": sort,
        "count": count,
        "more": more,
        "ranked_only": matches.ranked_only() if matches else None,
        "searching": bool(selected.search_text),
        "filtered": selected.is_filtered,
        # Only an expected event can start after today: an event that occurred cannot.
        "today": today,
        "query": query,
        "sort_label": dict(SORT_CHOICES)[sort],
        "next_url": page_url(request.path, query, "after", page.next_cursor),
        "previous_url": page_url(request.path, query, "before", page.previous_cursor),
    }


def page_url(path, query, name, cursor):
    """The list's address with its filters and a cursor (`after` or `before`); None without a cursor."""
    if cursor is None:
        return None
    return f"{path}?{query}&{urlencode({name: cursor})}" if query else f"{path}?{urlencode({name: cursor})}"


def search_terms(text):
    """The words of a search as typed, without its syntax (quotes, "or", excluded -words)."""
    return [word for word in re.findall(r'[^\s"]+', text) if word.lower() != "or" and not word.startswith("-")]


def mark_terms(text, terms):
    """`text` escaped, with every occurrence of a term (in any case) in <mark>."""
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts += [escape(text[last : match.start()]), "<mark>", escape(match.group()), "</mark>"]
        last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))  # every piece of the text was escaped above


def marked(headline):
    """ts_headline's output escaped, with its selection markers turned into <mark>."""
    escaped = re.sub(f"{MARK_START}(.*?){MARK_STOP}", r"<mark>\1</mark>", str(escape(headline)), flags=re.DOTALL)
    return mark_safe(escaped.replace(MARK_START, "").replace(MARK_STOP, ""))  # escaped whole above


def excerpt(text, terms, width=240):
    """About `width` characters of `text` around the first term found."""
    found = min((i for term in terms if (i := text.lower().find(term.lower())) >= 0), default=0)
    start = max(0, found - width // 3)
    return ("…" if start else "") + Truncator(text[start:]).chars(width)


def highlight(agreements, text):
    """Give each agreement of a page its names and summary with the search's words marked.

    Sets `short_name_marked`, `title_marked`, `summary_marked` and `aliases_marked`
    (the aliases that contain a search word, which is how Korean and Japanese text
    is found). Two queries, whatever the page's size.
    """
    terms = search_terms(text)
    prefetch_related_objects(agreements, "aliases")
    for agreement in agreements:
        agreement.aliases_marked = [
            (alias, mark_terms(alias.title, terms))
            for alias in agreement.aliases.all()
            if any(term.lower() in alias.title.lower() for term in terms)
        ]
    if connection.vendor != "postgresql":
        for agreement in agreements:
            agreement.short_name_marked = mark_terms(agreement.short_name, terms)
            agreement.title_marked = mark_terms(agreement.title, terms)
            agreement.summary_marked = mark_terms(excerpt(agreement.summary, terms), terms)
        return
    # ts_headline finds the stemmed words the search matched ("approves" marks "approval").
    words = search_words(text)
    options = {"config": "english", "start_sel": MARK_START, "stop_sel": MARK_STOP}
    headlines = Agreement.objects.filter(pk__in=[agreement.pk for agreement in agreements]).annotate(
        short_name_marked=SearchHeadline("short_name", words, highlight_all=True, **options),
        title_marked=SearchHeadline("title", words, highlight_all=True, **options),
        # Up to 35 words around the best match. (ts_headline drops what looks like an HTML tag here.)
        summary_marked=SearchHeadline("summary", words, **options),
    )
    rows = {
        row[0]: row[1:] for row in headlines.values_list("pk", "short_name_marked", "title_marked", "summary_marked")
    }
    for agreement in agreements:
        short_name, title, summary = map(marked, rows[agreement.pk])
        agreement.short_name_marked, agreement.title_marked, agreement.summary_marked = short_name, title, summary


def stamp_all(request, instances, reason):
    return [stamped(instance, request.user, reason) for instance in instances]


def edit_agreement(request, agreement, reason):
    """The agreement form and its formsets: all valid and saved in one transaction, or 422 (409 if stale)."""
    data = request.POST if request.method == "POST" else None
    form = AgreementForm(data, instance=agreement)
    formsets = {
        "aliases": AliasFormSet(data, instance=agreement, prefix="aliases"),
        "relations": RelationFormSet(data, instance=agreement, prefix="relations"),
        "citations": AgreementCitationFormSet(data, instance=agreement, prefix="citations"),
    }
    context = {"agreement": agreement if agreement.pk else None}
    if data is None:
        return render(request, "pacts/agreement_form.html", context | {"form": form, "formsets": formsets})
    if earlier := form.already_created():
        return redirect(earlier)  # a double click or a replayed POST
    if form.is_valid() and all(formset.is_valid() for formset in formsets.values()):
        reason = form.reason_or(reason)
        try:
            with transaction.atomic():
                saved = stamp_all(request, [form.save(commit=False)], reason)[0]
                saved.save()
                for formset in formsets.values():
                    formset.instance = saved
                    objects = formset.save(commit=False)
                    for obj in stamp_all(request, objects, reason):
                        obj.save()
                    for obj in stamp_all(request, formset.deleted_objects, reason):
                        obj.delete()
        except EditConflict:
            return refused_edit(request, "pacts/agreement_form.html", context, form=form, formsets=formsets)
        except IntegrityError:
            if earlier := form.already_created():
                return redirect(earlier)
            raise
        return redirect(saved)
    context |= {"form": form, "formsets": formsets}
    return render(request, "pacts/agreement_form.html", context, status=422)


@require_http_methods(["GET", "POST"])
@editor_required
def agreement_new(request):
    return edit_agreement(request, Agreement(), "created")


@require_http_methods(["GET", "POST"])
@editor_required
def agreement_edit(request, slug):
    agreement = get_object_or_404(Agreement.objects.select_related("party_a", "party_b"), slug=slug)
    return edit_agreement(request, agreement, "edited")
