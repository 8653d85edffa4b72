"""The agreement list's filters, shared by the list, its feed (a saved search) and the exports;
and the list's sort orders and cursor pages.

A page is found by its position, not its number: a cursor holds the sort key and
id of the row next to it, signed so that nobody can make one up. Positions stay
put when rows are added elsewhere, and a page deep in the list costs what the
first one does.
"""

from dataclasses import dataclass
from datetime import date
from functools import cached_property

import django_filters
from django import forms
from django.core import signing
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Value, When
from django_countries import countries

from pacts import vocabulary
from pacts.models import Agreement, Event
from pacts.search import newest_matches

PAGE_SIZE = 50
# Relevance is ranked among this many of the newest matches: ranking every match of
# a common word reads every search document. Sorting by latest event lists them all.
RANKED_MATCHES = 1000
# Counting stops here; the list says "1,000+" beyond.
COUNT_LIMIT = 1000

CURSOR_SALT = "pacts.filters.cursor"


class AgreementFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        first, last = data.get("year_from"), data.get("year_to")
        if first is not None and last is not None and first > last:
            self.add_error("year_to", "“To year” cannot be before “From year”.")
        return data


class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class ChoicesField(django_filters.fields.MultipleChoiceField):
    def to_python(self, value):
        # The list's single "Party" menu sends an empty value for "Any party".
        return [choice for choice in super().to_python(value) if choice]


class ChoicesFilter(django_filters.MultipleChoiceFilter):
    field_class = ChoicesField


class AgreementFilter(django_filters.FilterSet):
    """`q`, `party`, `kind`, `status`, `year_from`, `year_to`; invalid input makes `is_valid()` false."""

    q = django_filters.CharFilter(
        label="Search", method="filter_q", max_length=200, widget=forms.TextInput(attrs={"type": "search"})
    )
    party = ChoicesFilter(label="Party", choices=lambda: list(countries), method="filter_party")
    # distinct=False: these are columns of the agreement itself, so no row can repeat, and a
    # DISTINCT would make PostgreSQL sort every match before it could stop at the page's end.
    kind = django_filters.MultipleChoiceFilter(
        choices=vocabulary.AGREEMENT_KINDS, widget=forms.CheckboxSelectMultiple, distinct=False
    )
    status = django_filters.MultipleChoiceFilter(
        choices=vocabulary.AGREEMENT_STATUSES,
        distinct=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="In force includes agreements with a termination notice given or suspended.",
    )
    year_from = YearFilter(label="From year", method="filter_years", min_value=1800, max_value=2200)
    year_to = YearFilter(label="To year", method="filter_years", min_value=1800, max_value=2200)

    class Meta:
        model = Agreement
        form = AgreementFilterForm
        fields = ["q", "party", "kind", "status", "year_from", "year_to"]

    @property
    def is_filtered(self):
        """Whether any filter narrows the selection (only meaningful once valid)."""
        return any(self.form.cleaned_data.get(name) not in (None, "", []) for name in self.Meta.fields)

    @property
    def search_text(self):
        return (self.form.cleaned_data.get("q") or "").strip()

    def filter_q(self, queryset, name, value):
        # Applied last, in filter_queryset: a search's newest matches are taken from the narrowed selection.
        return queryset

    def filter_party(self, queryset, name, value):
        # Each chosen party must be one of the two: one party selects its agreements,
        # two select the agreements between them (the network's edges link so).
        for code in value:
            queryset = queryset.filter(Q(party_a=code) | Q(party_b=code))
        return queryset

    def filter_years(self, queryset, name, value):
        # Both bounds are applied once, together, from cleaned_data (see filter_queryset).
        return queryset

    def filter_queryset(self, queryset):
        queryset = self.without_search(queryset)
        return queryset.search(self.search_text) if self.search_text else queryset

    @cached_property
    def narrowed(self):
        """The selection by every filter but the search (only once valid)."""
        return self.without_search(self.queryset.all())

    def without_search(self, queryset):
        queryset = super().filter_queryset(queryset)
        first, last = self.form.cleaned_data.get("year_from"), self.form.cleaned_data.get("year_to")
        if first is None and last is None:
            return queryset
        # An agreement is in the range when any of its dated events overlaps it.
        events = Event.objects.filter(agreement=OuterRef("pk"), date_start__isnull=False)
        if last is not None:
            events = events.filter(date_start__lte=date(last, 12, 31))
        if first is not None:
            events = events.filter(date_end__gte=date(first, 1, 1))
        return queryset.filter(Exists(events))


# --- Sorting and cursor pages -----------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One column of a sort order, and the type of its values; `nullable` keys put their nulls last."""

    name: str
    type: type = int
    descending: bool = False
    nullable: bool = False

    def ordering(self, backwards=False):
        expression = F(self.name)
        if self.descending != backwards:
            return expression.desc(nulls_last=True) if self.nullable else expression.desc()
        return expression.asc(nulls_first=True) if self.nullable else expression.asc()

    def beyond(self, value, backwards=False):
        """Rows strictly after `value` in this order (strictly before it, going backwards)."""
        if value is None:
            # Nulls come last: nothing follows them, everything else precedes them.
            return Q(**{f"{self.name}__isnull": False}) if backwards else Q(pk__in=[])
        lookup = "lt" if self.descending != backwards else "gt"
        condition = Q(**{f"{self.name}__{lookup}": value})
        if self.nullable and not backwards:
            condition |= Q(**{f"{self.name}__isnull": True})
        return condition

    def at(self, value):
        return Q(**{f"{self.name}__isnull": True}) if value is None else Q(**{self.name: value})

    def dump(self, value):
        return value.isoformat() if self.type is date and value is not None else value

    def load(self, value):
        """A value back from a cursor's JSON; ValueError when it is not one of this key's."""
        if value is None and self.nullable:
            return None
        if self.type is date and isinstance(value, str):
            return date.fromisoformat(value)
        if self.type is float and type(value) in (int, float):
            return float(value)
        if type(value) is self.type:
            return value
        raise ValueError(f"{self.name}: {value!r} is not a {self.type.__name__}")


SORTS = {
    "relevance": (Key("rank", float, descending=True), Key("id", descending=True)),
    "name": (Key("short_name", str), Key("id")),
    "latest": (Key("latest_event_on", date, descending=True, nullable=True), Key("id", descending=True)),
    "status": (Key("status_rank"), Key("short_name", str), Key("id")),
}
SORT_CHOICES = [
    ("name", "Name"),
    ("latest", "Latest event"),
    ("status", "Status"),
    ("relevance", "Relevance"),
]


def after(keys, values, backwards=False):
    """Rows past the row whose sort key is `values`, in the lexical order of `keys`."""
    condition = keys[-1].beyond(values[-1], backwards)
    for key, value in zip(reversed(keys[:-1]), reversed(values[:-1]), strict=True):
        condition = key.beyond(value, backwards) | (key.at(value) & condition)
    return condition


def make_cursor(sort, agreement):
    """A signed cursor naming `agreement`'s position in `sort`."""
    keys = SORTS[sort]
    return signing.dumps(
        {"sort": sort, "key": [key.dump(getattr(agreement, key.name)) for key in keys]},
        salt=CURSOR_SALT,
        compress=True,
    )


def read_cursor(cursor, sort):
    """The sort key in a cursor made by `make_cursor`; ValidationError if it was not."""
    invalid = forms.ValidationError(
        "This page link is not valid (perhaps cut short when copied); start again from the first page.",
        code="invalid",
    )
    try:
        data = signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature:
        raise invalid from None
    if not isinstance(data, dict) or not isinstance(data.get("key"), list):
        raise invalid
    if data.get("sort") != sort:
        raise forms.ValidationError(
            "This page link belongs to another sort order; start again from the first page.", code="other-sort"
        )
    keys = SORTS[sort]
    if len(data["key"]) != len(keys):
        raise invalid
    try:
        return [key.load(value) for key, value in zip(keys, data["key"], strict=True)]
    except (TypeError, ValueError):
        raise invalid from None


class ListPageForm(forms.Form):
    """Which order, and which page of it: `sort`, and `after` or `before` a cursor."""

    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)
    after = forms.CharField(required=False, max_length=1000)
    before = forms.CharField(required=False, max_length=1000)

    def __init__(self, *args, searching=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.searching = searching

    def clean_sort(self):
        """Relevance when searching, name otherwise; relevance without a search means name."""
        sort = self.cleaned_data["sort"]
        if not sort or (sort == "relevance" and not self.searching):
            return "relevance" if self.searching else "name"
        return sort

    def clean(self):
        data = super().clean()
        sort = data.get("sort")
        if data.get("after") and data.get("before"):
            raise forms.ValidationError("Ask for the page after a row or before it, not both.")
        for name in ("after", "before"):
            if sort and data.get(name):
                try:
                    data[name] = read_cursor(data[name], sort)
                except forms.ValidationError as error:
                    self.add_error(name, error)
        return data


def status_rank():
    """The position of the status in the agreement's life, for sorting."""
    return Case(
        *[When(status=status, then=Value(n)) for n, (status, _) in enumerate(vocabulary.AGREEMENT_STATUSES)],
        output_field=IntegerField(),
    )


def newest_first(agreements):
    return agreements.order_by(F("latest_event_on").desc(nulls_last=True), "-id")


def sorted_by(agreements, sort):
    """`agreements` annotated with what `sort` needs, in its order (relevance: see `ranked_page`)."""
    if sort == "status":
        agreements = agreements.annotate(status_rank=status_rank())
    return agreements.order_by(*[key.ordering() for key in SORTS[sort]])


@dataclass
class Page:
    """One page of the list, with cursors to its neighbours (None at either end)."""

    agreements: list
    next_cursor: str | None
    previous_cursor: str | None


def page_of(agreements, sort, after_key=None, before_key=None, size=PAGE_SIZE):
    """The `size` agreements after `after_key` (or before `before_key`) in `sort`; one query.

    Not for relevance, which ranks a search's newest matches: see `ranked_page`.
    """
    keys = SORTS[sort]
    ordered = sorted_by(agreements, sort)
    if before_key is not None:
        backwards = ordered.filter(after(keys, before_key, backwards=True))
        rows = list(backwards.order_by(*[key.ordering(backwards=True) for key in keys])[: size + 1])
        more_before, rows = len(rows) > size, rows[:size][::-1]
        more_after = True
    else:
        if after_key is not None:
            ordered = ordered.filter(after(keys, after_key))
        rows = list(ordered[: size + 1])
        more_after, rows = len(rows) > size, rows[:size]
        more_before = after_key is not None
    return Page(
        agreements=rows,
        next_cursor=make_cursor(sort, rows[-1]) if rows and more_after else None,
        previous_cursor=make_cursor(sort, rows[0]) if rows and more_before else None,
    )


def approximate_count(agreements):
    """How many agreements, exactly up to COUNT_LIMIT; `(count, more)`, one query."""
    count = agreements.order_by().values("pk")[: COUNT_LIMIT + 1].count()
    return min(count, COUNT_LIMIT), count > COUNT_LIMIT


@dataclass
class Matches:
    """A search's newest matches, `(pk, rank)` newest first: enough to count them and to rank them."""

    rows: list

    @classmethod
    def of(cls, agreements, text):
        """The matches of `text` among `agreements` (not yet searched); one query, bounded whatever the data."""
        return cls(newest_matches(agreements, text, limit=max(RANKED_MATCHES, COUNT_LIMIT + 1)))

    def count(self):
        """`(count, more)` as `approximate_count` gives them."""
        return min(len(self.rows), COUNT_LIMIT), len(self.rows) > COUNT_LIMIT

    @property
    def unranked(self):
        """Whether some matches are older than the ranked ones."""
        return len(self.rows) > RANKED_MATCHES

    def ranked_only(self):
        """How many matches relevance ranks, when some older ones are left out; else None."""
        return RANKED_MATCHES if self.unranked else None


def ranked_page(agreements, matches, after_key=None, before_key=None, size=PAGE_SIZE):
    """A page of the newest matches by relevance (rank, then id, both descending); one query.

    The order is found here among at most RANKED_MATCHES rows; only the page's rows are read.
    """
    ranked = sorted(((rank, pk) for pk, rank in matches.rows[:RANKED_MATCHES]), reverse=True)
    if before_key is not None:
        earlier = [key for key in ranked if key > tuple(before_key)]
        more_before, chosen, more_after = len(earlier) > size, earlier[-size:], True
    else:
        later = [key for key in ranked if after_key is None or key < tuple(after_key)]
        more_after, chosen, more_before = len(later) > size, later[:size], after_key is not None
    rows = agreements.in_bulk([pk for _, pk in chosen])
    page = []
    for rank, pk in chosen:
        if (agreement := rows.get(pk)) is not None:  # deleted since the matches were read
            agreement.rank = rank
            page.append(agreement)
    return Page(
        agreements=page,
        next_cursor=make_cursor("relevance", page[-1]) if page and more_after else None,
        previous_cursor=make_cursor("relevance", page[0]) if page and more_before else None,
    )
