"""The agreement list's filters, shared by the list, its feed (a saved search) and the exports."""

from datetime import date

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django_countries import countries

from pacts import vocabulary
from pacts.models import Agreement, Event


class AgreementFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        first, last = data.get("year_from"), data.get("year_to")
        if first is not None and last is not None and first > last:
            self.add_error("year_to", "“To year” cannot be before “From year”.")
        return data


class AgreementFilter(django_filters.FilterSet):
    """`q`, `party`, `kind`, `status`, `year_from`, `year_to`; invalid input makes `is_valid()` false."""

    q = django_filters.CharFilter(
        label="Search", method="filter_q", max_length=200, widget=forms.TextInput(attrs={"type": "search"})
    )
    party = django_filters.MultipleChoiceFilter(label="Party", choices=lambda: list(countries), method="filter_party")
    kind = django_filters.MultipleChoiceFilter(choices=vocabulary.AGREEMENT_KINDS)
    status = django_filters.MultipleChoiceFilter(
        choices=vocabulary.AGREEMENT_STATUSES,
        help_text="In force includes agreements with a termination notice given or suspended.",
    )
    year_from = django_filters.NumberFilter(label="From year", method="filter_years", min_value=1800, max_value=2200)
    year_to = django_filters.NumberFilter(label="To year", method="filter_years", min_value=1800, max_value=2200)

    class Meta:
        model = Agreement
        form = AgreementFilterForm
        fields = ["q", "party", "kind", "status", "year_from", "year_to"]

    def filter_q(self, queryset, name, value):
        return queryset.search(value.strip()) if value.strip() else queryset

    def filter_party(self, queryset, name, value):
        return queryset.filter(Q(party_a__in=value) | Q(party_b__in=value)) if value else queryset

    def filter_years(self, queryset, name, value):
        # Both bounds are applied once, together, from cleaned_data (see filter_queryset).
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        first, last = self.form.cleaned_data.get("year_from"), self.form.cleaned_data.get("year_to")
        if first is None and last is None:
            return queryset
        # An agreement is in the range when any of its dated events overlaps it.
        events = Event.objects.filter(agreement=OuterRef("pk"), date_start__isnull=False)
        if last is not None:
            events = events.filter(date_start__lte=date(int(last), 12, 31))
        if first is not None:
            events = events.filter(date_end__gte=date(int(first), 1, 1))
        return queryset.filter(Exists(events))
