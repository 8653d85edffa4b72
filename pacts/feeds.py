"""Atom and RSS feeds of events: across all agreements, one agreement, one party, a saved search.

Feeds are ordered by the events' last change, not by their dates, so that a 2011
event entered (or corrected) today reaches feed readers today. Every feed is
wrapped in `feed_reader_required`: a `?token=` opens it for a feed reader.
"""

from django.contrib.syndication.views import Feed
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import format_html
from django.views.decorators.http import require_safe

from pacts import revisions
from pacts.access import feed_reader_required
from pacts.filters import AgreementFilter
from pacts.models import Agreement, Event, Party

ITEMS = 50


class EventFeed(Feed):
    """An event per item, newest change first; subclasses say which events in `events(obj)`."""

    feed_type = Atom1Feed

    def events(self, obj):
        return Event.objects.all()

    def items(self, obj):
        # The agreement's search document holds the text of all its events: the item titles need its name only.
        events = self.events(obj).select_related("agreement").defer("agreement__search_document")
        return events.order_by("-updated_at", "-id")[:ITEMS]

    def item_title(self, event):
        when = event.date.display() if event.date else "date unknown"
        return f"{event.agreement}: {event.get_kind_display()} ({when})"

    def item_description(self, event):
        # Feed readers render descriptions as HTML: the summary is user text.
        return format_html("<p>{}</p><p>Status: {}.</p>", event.summary, event.get_status_display().lower())

    def item_link(self, event):
        return event.get_absolute_url()

    def item_pubdate(self, event):
        return event.created_at

    def item_updateddate(self, event):
        return event.updated_at

    def item_categories(self, event):
        return [event.get_kind_display()]


class LatestFeed(EventFeed):
    title = "Pacts: latest changes"
    description = "New and edited events across all agreements."

    def link(self):
        return reverse("agreement-list")

    def __call__(self, request, *args, **kwargs):
        """The same fifty changes for every reader: drawn once per data version (and address the links take)."""

        def draw():
            response = super(LatestFeed, self).__call__(request, *args, **kwargs)
            return response.content, dict(response.headers)

        content, headers = revisions.kept("latest-feed", [type(self).__name__, request.build_absolute_uri("/")], draw)
        return HttpResponse(content, headers=headers)


class LatestRssFeed(LatestFeed):
    feed_type = Rss201rev2Feed


class AgreementFeed(EventFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Agreement, slug=slug)

    def title(self, agreement):
        return f"{agreement}: events"

    def description(self, agreement):
        return f"New and edited events of the {agreement.title}."

    def link(self, agreement):
        return agreement.get_absolute_url()

    def events(self, agreement):
        return agreement.events.all()


class PartyFeed(EventFeed):
    def get_object(self, request, code):
        return get_object_or_404(Party, code=code)

    def title(self, party):
        return f"{party.name}: events of its agreements"

    def description(self, party):
        return f"New and edited events of the agreements {party.name} is party to."

    def link(self, party):
        return party.get_absolute_url()

    def events(self, party):
        return Event.objects.filter(Q(agreement__party_a=party) | Q(agreement__party_b=party))


class SavedSearchFeed(EventFeed):
    """The events of the agreements a list URL selects; the view validates the filters first."""

    title = "Pacts: events of a saved search"
    description = "New and edited events of the agreements these filters select."

    def get_object(self, request, filterset):
        return filterset

    def link(self, filterset):
        query = filterset.form.data.copy()
        query.pop("token", None)  # the feed's own secret never goes into the XML
        return f"{reverse('agreement-list')}?{query.urlencode()}" if query else reverse("agreement-list")

    def events(self, filterset):
        return Event.objects.filter(agreement__in=filterset.qs.values("pk"))


latest_atom = require_safe(feed_reader_required(LatestFeed()))
latest_rss = require_safe(feed_reader_required(LatestRssFeed()))
agreement_feed = require_safe(feed_reader_required(AgreementFeed()))
party_feed = require_safe(feed_reader_required(PartyFeed()))
_saved_search_feed = SavedSearchFeed()


@require_safe
@feed_reader_required
def saved_search_feed(request):
    """`/agreements/feed.atom?…`: the list's filters, validated like the list's; invalid ones answer 400."""
    filterset = AgreementFilter(request.GET, queryset=Agreement.objects.all())
    if not filterset.is_valid():
        errors = [f"{field}: {error}" for field, messages in filterset.errors.items() for error in messages]
        return HttpResponseBadRequest("\n".join(["These filters are not valid:", *errors]), content_type="text/plain")
    return _saved_search_feed(request, filterset=filterset)
