"""The domain: parties, agreements and their events, and the sources that report them."""

from pacts.models.agreement import Agreement, Alias, Relation
from pacts.models.editing import EditConflict
from pacts.models.event import Event
from pacts.models.party import Party
from pacts.models.source import Citation, Publisher, Source
from pacts.models.token import FeedToken

__all__ = [
    "Agreement",
    "Alias",
    "Citation",
    "EditConflict",
    "Event",
    "FeedToken",
    "Party",
    "Publisher",
    "Relation",
    "Source",
]
