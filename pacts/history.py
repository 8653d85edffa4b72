"""An agreement's history: every recorded change to it and to what hangs off it, and restoring one.

django-simple-history keeps a historical row for every save and delete of the
agreement, its aliases and relations, its events, their citations, and the sources
and publishers those cite. The rows of a deleted event still carry its agreement's
id, so the history is read from the historical tables by agreement id, never
through live objects.

A page of entries costs the same number of queries however long the history: one
for the page's keys across the seven tables, one per table for the page's rows
with the rows before them (to show what changed), and one for the names of the
agreement's events.
"""

from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import cache

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_countries import countries
from simple_history.models import HistoricalRecords

from pacts import vocabulary
from pacts.dates import Period
from pacts.models import Agreement, Alias, Citation, Event, Publisher, Relation, Source

PAGE_SIZE = 100

# What an entry can be about, by the name its URLs and cursors use.
RECORDS = {
    "agreement": Agreement,
    "alias": Alias,
    "relation": Relation,
    "event": Event,
    "citation": Citation,
    "source": Source,
    "publisher": Publisher,
}

# Bookkeeping, and columns derived from others: never shown, never restored.
INTERNAL = frozenset(
    {
        "created_at",
        "updated_at",
        "row_version",
        "creation_key",
        "search_document",
        "kind_position",
        "headline_key",
        "published_on",
    }
)
# Also never shown: the rest of an event's period (shown as one date) and ids no one reads.
NOT_SHOWN = INTERNAL | {"date_end", "date_precision", "external_id"}

KINDS = {"+": "created", "~": "changed", "-": "deleted"}

# Citations deleted by the same user at most this long before their event count as
# deleted with it (every write path deletes them in the same transaction, just before).
SAME_ACTION = timedelta(seconds=10)


ADMIN_REASONS = {"+": "added in the admin", "~": "changed in the admin", "-": "deleted in the admin"}


def reason_for_admin_changes(sender, history_instance, **kwargs):
    """Give writes made through the Django admin, whose forms ask for no reason, one that says where they came from.

    Connected to simple-history's pre_create_historical_record in PactsConfig.ready;
    the admin's user is recorded already (SimpleHistoryAdmin and the history middleware).
    """
    request = getattr(HistoricalRecords.context, "request", None)
    match = getattr(request, "resolver_match", None)
    if history_instance.history_change_reason or match is None or match.namespace != "admin":
        return
    if match.url_name.endswith("_simple_history"):  # simple-history's own "revert to this version"
        history_instance.history_change_reason = "reverted in the admin"
    else:
        history_instance.history_change_reason = ADMIN_REASONS[history_instance.history_type]


class RestoreRefused(Exception):
    """A restore that cannot be done as things stand now; nothing was changed."""


@cache
def historical(model):
    """The model's historical model (reading `Model.history` builds a new manager class every time)."""
    return model.history.model


def internal_fields(model):
    return INTERNAL | getattr(model, "DERIVED_FIELDS", frozenset())


def tracked_fields(model):
    """The model's fields that history records, its primary key aside."""
    return [f for f in historical(model).tracked_fields if not f.primary_key]


@cache
def shown_fields(model):
    hidden = NOT_SHOWN | internal_fields(model)
    return [f for f in tracked_fields(model) if f.name not in hidden]


@cache
def restored_fields(model):
    hidden = internal_fields(model)
    return [f for f in tracked_fields(model) if f.name not in hidden]


def histories(agreement_id):
    """Per record name, the historical rows that belong to an agreement's history."""
    events = historical(Event).objects.filter(agreement_id=agreement_id).values("id")
    citations = historical(Citation).objects.filter(Q(agreement_id=agreement_id) | Q(event_id__in=events))
    sources = historical(Source).objects.filter(id__in=citations.values("source_id"))
    return {
        "agreement": historical(Agreement).objects.filter(id=agreement_id),
        "alias": historical(Alias).objects.filter(agreement_id=agreement_id),
        "relation": historical(Relation).objects.filter(Q(agreement_id=agreement_id) | Q(other_id=agreement_id)),
        "event": historical(Event).objects.filter(agreement_id=agreement_id),
        "citation": citations,
        "source": sources,
        "publisher": historical(Publisher).objects.filter(id__in=sources.values("publisher_id")),
    }


def later_rows(model):
    """Rows recorded after the outer row, of the same record."""
    return historical(model).objects.filter(id=OuterRef("id"), history_id__gt=OuterRef("history_id"))


def latest_name(model, field, ref):
    """`field` of the record whose id is in the outer row's `ref`: as it is now, else as last recorded."""
    now = model.objects.filter(pk=OuterRef(ref)).values(field)[:1]
    recorded = historical(model).objects.filter(id=OuterRef(ref)).order_by("-history_id").values(field)[:1]
    return Coalesce(Subquery(now), Subquery(recorded))


# Names of the records an entry's foreign keys point to, fetched with its rows.
NAMES = {
    "relation": lambda: {
        "agreement_name": latest_name(Agreement, "short_name", "agreement_id"),
        "other_name": latest_name(Agreement, "short_name", "other_id"),
    },
    "citation": lambda: {
        "source_name": latest_name(Source, "headline", "source_id"),
        # A citation of a deleted event comes back with its event, not alone.
        "event_live": Exists(Event.objects.filter(pk=OuterRef("event_id"))),
    },
    "source": lambda: {"publisher_name": latest_name(Publisher, "name", "publisher_id")},
}


def lane_name(lane):
    return "joint lane" if lane == vocabulary.JOINT else f"{countries.name(lane) or lane} lane"


def event_name(row):
    """`Cabinet approval, 26 June 2012 (Republic of Korea lane)`, from an event or its historical row."""
    when = Period(row.date_start, row.date_precision).display() if row.date_start else "date unknown"
    return f"{vocabulary.KIND_LABELS.get(row.kind, row.kind)}, {when} ({lane_name(row.lane)})"


def event_names(agreement_id):
    """Every event the agreement has had, deleted ones included, by id: its name as last recorded."""
    rows = historical(Event).objects.filter(agreement_id=agreement_id).filter(~Exists(later_rows(Event)))
    return {row.id: event_name(row) for row in rows.only("id", "kind", "date_start", "date_precision", "lane")}


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class Entry:
    """One historical row, as the history page shows it."""

    record: str
    row: models.Model
    name: str
    changes: list
    values: list

    @property
    def kind(self):
        return KINDS[self.row.history_type]

    @property
    def label(self):
        return RECORDS[self.record]._meta.verbose_name.capitalize()

    @property
    def when(self):
        return self.row.history_date

    @property
    def reason(self):
        return self.row.history_change_reason or ""

    @property
    def who(self):
        """The user's name; for rows without one, "import" or "system"."""
        if self.row.history_user is not None:
            return self.row.history_user.get_username()
        return "import" if self.reason.startswith("import") else "system"

    @property
    def anchor(self):
        return f"{self.record}-{self.row.history_id}"

    @property
    def restorable(self):
        """Whether there is anything to restore: an older version of a live record, or the latest deletion."""
        if self.row.history_type == "-":
            orphan = self.record == "citation" and self.row.event_id is not None and not self.row.event_live
            return not self.row.live and self.row.latest and not orphan
        return self.row.live and not self.row.latest


class Namer:
    """Names an agreement's records and the values of their fields, for one page of entries."""

    def __init__(self, agreement):
        self.agreement = agreement
        self.events = event_names(agreement.pk)

    def agreement_name(self, pk, row, attribute):
        if pk == self.agreement.pk:
            return str(self.agreement)
        return getattr(row, attribute, None) or f"agreement #{pk}"

    def record(self, record, row):
        """What the entry is about: `Cabinet approval, 26 June 2012 (Republic of Korea lane)`."""
        if record == "agreement":
            return row.short_name or row.title
        if record == "alias":
            return f"{row.title} ({row.language})"
        if record == "relation":
            relation = dict(vocabulary.RELATIONS).get(row.relation, row.relation).lower()
            agreement = self.agreement_name(row.agreement_id, row, "agreement_name")
            return f"{agreement} {relation} {self.agreement_name(row.other_id, row, 'other_name')}"
        if record == "event":
            return event_name(row)
        if record == "citation":
            cited = "the agreement" if row.agreement_id else self.event(row.event_id)
            return f"“{row.source_name or f'source #{row.source_id}'}” on {cited}"
        if record == "source":
            return row.headline
        return row.name

    def event(self, pk):
        return self.events.get(pk, f"event #{pk}")

    def value(self, field, row):
        """A field's value in a historical row as a reader wants to see it; "" when empty."""
        if field.name == "date_start":
            return Period(row.date_start, row.date_precision).display() if row.date_start else "date unknown"
        if field.model is Event and field.name == "lane":
            return lane_name(row.lane)
        value = getattr(row, field.attname)
        if value is None or value == "" or value == []:
            return ""
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if field.is_relation:
            return self.related(field, value, row)
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        if isinstance(value, time):
            return value.strftime("%H:%M")
        if isinstance(value, date):
            return Period(value, "day").display()
        return str(value)

    def related(self, field, pk, row):
        target = field.related_model
        if target is Event:
            return self.event(pk)
        if target is Agreement:
            return self.agreement_name(pk, row, f"{field.name}_name")
        if target is Source:
            return row.source_name or f"source #{pk}"
        if target is Publisher:
            return row.publisher_name or f"publisher #{pk}"
        return countries.name(pk) or str(pk)  # a party

    def label(self, field):
        return "Date" if field.name == "date_start" else field.verbose_name.capitalize()

    def entry(self, record, row, previous):
        model = RECORDS[record]
        changes, values = [], []
        if row.history_type == "~" and previous is not None:
            for field in shown_fields(model):
                old, new = self.value(field, previous), self.value(field, row)
                if old != new:
                    changes.append(Change(self.label(field), old, new))
        else:
            for field in shown_fields(model):
                if field.attname == "agreement_id" and row.agreement_id == self.agreement.pk:
                    continue  # the agreement whose history this is
                if value := self.value(field, row):
                    values.append((self.label(field), value))
        return Entry(record, row, self.record(record, row), changes, values)


@dataclass
class Page:
    entries: list
    older: str | None  # the cursor of the next page, older entries


def cursor(entry):
    return f"{entry.record}-{entry.row.history_id}"


def older_than(position, record):
    """Rows after `position` (history_date, record, history_id) in newest-first order, for one table."""
    if position is None:
        return Q()
    when, position_record, history_id = position
    earlier = Q(history_date__lt=when)
    if record < position_record:
        return earlier | Q(history_date=when)
    if record == position_record:
        return earlier | Q(history_date=when, history_id__lt=history_id)
    return earlier


def page(agreement, before=None, size=None):
    """The `size` (PAGE_SIZE) newest entries of the agreement's history, older than the entry `before`.

    `before` is a cursor (`event-123`) as `Page.older` gives it; None when it names no
    entry of this history.
    """
    size = size or PAGE_SIZE
    scope = histories(agreement.pk)
    position = None
    if before:
        record, history_id = before.rsplit("-", 1)
        if record not in RECORDS:
            return None
        when = scope[record].filter(history_id=history_id).values_list("history_date", flat=True).first()
        if when is None:
            return None
        position = (when, record, int(history_id))
    keyed = [
        rows.filter(older_than(position, record))
        .order_by()
        .annotate(record=Value(record, output_field=models.CharField()))
        .values_list("history_date", "record", "history_id")
        for record, rows in scope.items()
    ]
    keys = list(keyed[0].union(*keyed[1:], all=True).order_by("-history_date", "-record", "-history_id")[: size + 1])
    more, keys = len(keys) > size, keys[:size]
    if not keys:
        return Page([], None)

    newest, oldest = keys[0][0], keys[-1][0]
    namer = Namer(agreement)
    fetched = {}
    for record, rows in scope.items():
        model = RECORDS[record]
        window = rows.filter(history_date__range=(oldest, newest))
        previous = Subquery(
            historical(model)
            .objects.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
            .order_by("-history_id")
            .values("history_id")[:1]
        )
        wanted = Q(history_id__in=window.values("history_id")) | Q(
            history_id__in=window.annotate(previous=previous).values("previous")
        )
        rows = (
            historical(model)
            .objects.filter(wanted)
            .select_related("history_user")
            .annotate(
                previous_id=previous,
                latest=~Exists(later_rows(model)),
                live=Exists(model.objects.filter(pk=OuterRef("id"))),
                **NAMES.get(record, dict)(),
            )
        )
        fetched[record] = {row.history_id: row for row in rows}
    entries = []
    for _, record, history_id in keys:
        row = fetched[record][history_id]
        entries.append(namer.entry(record, row, fetched[record].get(row.previous_id)))
    return Page(entries, cursor(entries[-1]) if more else None)


# --- Restoring ---------------------------------------------------------------------


def recorded(agreement, record, history_id):
    """A historical row of the agreement's history, or None."""
    if record not in RECORDS:
        return None
    return histories(agreement.pk)[record].filter(history_id=history_id).first()


def restore(agreement, record, row, user):
    """Bring back what `row` recorded, in one transaction that is itself in history; return the new row.

    A deletion's row recreates the record with its primary key (a deleted event with
    the citations deleted with it, and the links of the events that resolved it);
    any other row sets the live record's fields back to the values it holds. The
    agreement's status is derived again. Raises RestoreRefused, having changed
    nothing, when the past no longer fits the present.
    """
    model = RECORDS[record]
    when = timezone.localtime(row.history_date).strftime("%Y-%m-%d %H:%M")
    try:
        with transaction.atomic():
            if row.history_type == "-":
                instance = restore_deleted(model, row, user, reason=f"restored after its deletion on {when}")
            else:
                instance = restore_version(model, row, user, reason=f"restored the version of {when}")
            agreement.refresh_from_db()
            agreement.store_status()
    except IntegrityError as error:
        # The checks below mirror the database's rules; this is the backstop.
        raise RestoreRefused(f"The database refuses it: {str(error).splitlines()[0]}") from None
    return historical(model).objects.filter(id=instance.pk).latest()


def restore_version(model, row, user, reason):
    label = model._meta.verbose_name
    live = model.objects.select_for_update().filter(pk=row.id).first()
    if live is None:
        raise RestoreRefused(f"This {label} has been deleted since; restore it from the entry of its deletion first.")
    for field in restored_fields(model):
        setattr(live, field.attname, getattr(row, field.attname))
    # The live row_version is kept, so the save passes the lost-update check.
    save_checked(live, user, reason)
    return live


def restore_deleted(model, row, user, reason):
    label = model._meta.verbose_name
    if model.objects.filter(pk=row.id).exists():
        raise RestoreRefused(f"This {label} exists again already: it was restored or recreated since.")
    instance = recreated(model, row)
    save_checked(instance, user, reason, force_insert=True)
    if model is Event:
        for citation in deleted_with(row):
            save_checked(recreated(Citation, citation), user, reason, force_insert=True)
        # Deleting the event unset these links without a history row; their last rows still name it.
        last_resolving = (
            historical(Event).objects.filter(resolves_id=row.id).filter(~Exists(later_rows(Event))).values("id")
        )
        for resolver in Event.objects.filter(pk__in=last_resolving, resolves__isnull=True):
            resolver.resolves_id = row.id
            save_checked(resolver, user, reason)
    return instance


def recreated(model, row):
    return model(pk=row.id, **{f.attname: getattr(row, f.attname) for f in restored_fields(model)})


def deleted_with(event_row):
    """The deleted event's citations that were deleted in the same action: by the same user, just before it."""
    return (
        historical(Citation)
        .objects.filter(
            event_id=event_row.id,
            history_type="-",
            history_user_id=event_row.history_user_id,
            history_date__range=(event_row.history_date - SAME_ACTION, event_row.history_date),
        )
        .filter(~Exists(later_rows(Citation)))
    )


def last_known(model, pk):
    """What a record was called, live or as last recorded."""
    row = historical(model).objects.filter(id=pk).order_by("-history_id").first() if hasattr(model, "history") else None
    return f"“{row.instance}”" if row is not None else f"#{pk}"


def check_references(instance):
    """Refuse a record whose foreign keys point to records deleted since."""
    label = type(instance)._meta.verbose_name.capitalize()
    for field in instance._meta.concrete_fields:
        pk = getattr(instance, field.attname) if field.many_to_one or field.one_to_one else None
        if pk is not None and not field.related_model._base_manager.filter(pk=pk).exists():
            target = field.related_model._meta.verbose_name
            raise RestoreRefused(
                f"{label}: the {target} it refers to as {field.verbose_name}, {last_known(field.related_model, pk)}, "
                f"no longer exists. Restore that {target} first."
            )


def save_checked(instance, user, reason, **kwargs):
    """Validate as a form would (constraints included) and save in the restoring user's name."""
    check_references(instance)
    try:
        instance.full_clean(exclude=[f.name for f in instance._meta.fields if not f.editable])
    except ValidationError as error:
        label = type(instance)._meta.verbose_name.capitalize()
        raise RestoreRefused(f"{label} {instance}: {' '.join(error.messages)}") from None
    instance._history_user = user
    instance._change_reason = reason
    instance.save(**kwargs)
