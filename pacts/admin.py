from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django_countries import countries
from simple_history.admin import SimpleHistoryAdmin

from pacts.conflicts import last_saved_by
from pacts.dates import PeriodError
from pacts.forms import EVENT_FIELDS, PeriodField
from pacts.models import Agreement, Alias, Citation, EditConflict, Event, Party, Publisher, Relation, Source
from pacts.models.source import normalise_headline, parse_published
from pacts.vocabulary import JOINT, KIND_CHOICES_BY_GROUP

admin.site.site_header = "Pacts administration"
admin.site.site_title = "Pacts"


class RowVersionAdminForm(forms.ModelForm):
    """An admin form that carries the row version it was opened at, like the editors' forms.

    A stale version is a form error (the admin keeps their input and the page
    answers 409); a save racing past that check is refused by the UPDATE itself.
    """

    # Not named row_version: the admin refuses a form field named after a non-editable model field.
    read_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stale = False
        if self.instance.pk:
            read = self.instance.row_version
            if self.instance._state.db is None:
                # An old version rebuilt from history for the admin's "revert": reverting
                # replaces the version stored now, so that is the one this form read.
                stored = self.instance.stored_version()
                read = stored.row_version if stored else read
            self.fields["read_version"].initial = read

    def clean(self):
        cleaned = super().clean()
        read = cleaned.get("read_version")
        if self.instance.pk and read:
            stored = self.instance.stored_version()
            if stored is not None and stored.row_version != read:
                self.stale = True
                entry = last_saved_by(stored)
                who = (
                    f"{entry.history_user or 'someone'} at {entry.history_date:%Y-%m-%d %H:%M} UTC"
                    if entry
                    else "someone"
                )
                raise ValidationError(
                    f"Saved by {who}, after you opened it: your changes were not saved. "
                    "Open it in a new tab to see their version, then save again to replace it.",
                    code="conflict",
                )
            self.instance.row_version = read
        return cleaned


class VersionedAdmin(SimpleHistoryAdmin):
    """Admin pages of `Edited` records: a stale form answers 409, a lost race too."""

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if obj is None or "read_version" in fields else [*fields, "read_version"]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self.refusing_stale(super().changeform_view, request, object_id, form_url, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history's "revert" saves through the same form: the same checks apply.
        return self.refusing_stale(super().history_form_view, request, object_id, version_id, extra_context)

    def render_history_view(self, request, template, context, **kwargs):
        adminform = context.get("adminform")
        if adminform is not None and getattr(adminform.form, "stale", False):
            kwargs["status"] = 409
        return super().render_history_view(request, template, context, **kwargs)

    def refusing_stale(self, view, request, *args):
        try:
            response = view(request, *args)
        except EditConflict:
            problem = (
                "Someone else saved this record at the same moment: your changes were not saved. Reload and try again."
            )
            return render(request, "pacts/problem.html", {"problem": problem}, status=409)
        adminform = (getattr(response, "context_data", None) or {}).get("adminform")
        if adminform is not None and getattr(adminform.form, "stale", False):
            response.status_code = 409
        return response


class AgreementAdminForm(RowVersionAdminForm):
    class Meta:
        model = Agreement
        fields = [
            "slug",
            "title",
            "short_name",
            "summary",
            "kind",
            "legal_form",
            "entry_into_force",
            "party_a",
            "party_b",
        ]

    def clean(self):
        cleaned = super().clean()
        parties = [party.pk for party in (cleaned.get("party_a"), cleaned.get("party_b")) if party]
        if self.instance.pk and len(parties) == 2 and {"party_a", "party_b"} & set(self.changed_data):
            # The database refuses a party change that strands events in a lane as
            # soon as the agreement is saved, before its event rows are.
            stranded = sorted(
                set(self.instance.events.exclude(lane=JOINT).exclude(lane__in=parties).values_list("lane", flat=True))
            )
            if stranded:
                raise ValidationError(f"Move or delete the events in the lane of {', '.join(stranded)} first.")
        return cleaned


class EventAdminForm(RowVersionAdminForm):
    """An event with its reduced-precision date as one text field, checked against its agreement."""

    date = PeriodField(label="Date", help_text="YYYY, YYYY-MM or YYYY-MM-DD; leave empty when unknown.")

    class Meta:
        model = Event
        fields = ["agreement", *(name for name in EVENT_FIELDS if name != "date")]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        kind.choices = [*kind.choices[:1], *KIND_CHOICES_BY_GROUP]
        if self.instance.date:
            self.initial["date"] = self.instance.date

    def clean_lane(self):
        lane = self.cleaned_data["lane"]
        return JOINT if lane.lower() == JOINT else lane.upper()

    def clean_actors(self):
        # An emptied box arrives as None, which the NOT NULL column refuses.
        actors = self.cleaned_data["actors"] or []
        if not isinstance(actors, list) or not all(isinstance(name, str) for name in actors):
            raise ValidationError('Enter a list of names, such as ["Shinzo Abe"].', code="invalid")
        return actors

    def clean(self):
        cleaned = super().clean()
        # Event.clean() checks lane, dates, status and resolves against the agreement.
        if "date" in cleaned:
            self.instance.date = cleaned["date"]
        return cleaned


class SourceAdminForm(RowVersionAdminForm):
    class Meta:
        model = Source
        fields = [
            "key",
            "publisher",
            "headline",
            "published",
            "language",
            "kind",
            "dateline",
            "url",
            "version",
            "story",
        ]

    def clean(self):
        cleaned = super().clean()
        # The natural key compares the normalised headline, which is not a form
        # field, so Django's own constraint check skips it.
        if cleaned.get("url") is None and cleaned.get("publisher") and cleaned.get("headline"):
            try:
                published = parse_published(cleaned["published"])[0] if cleaned.get("published") else None
            except PeriodError:
                return cleaned  # Source.clean names the bad date.
            twin = (
                Source.objects.filter(
                    url__isnull=True,
                    publisher=cleaned["publisher"],
                    headline_key=normalise_headline(cleaned["headline"]),
                    published=published,
                    version=cleaned.get("version", ""),
                )
                .exclude(pk=self.instance.pk)
                .first()
            )
            if twin:
                raise ValidationError(f"“{twin.key}” is already this report, from the same publisher on the same date.")
        return cleaned


class CitationFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        # One citation per source here is a conditional constraint, which Django
        # checks row by row against the database but not between new rows.
        sources = [
            form.cleaned_data["source"]
            for form in self.forms
            if form.cleaned_data.get("source") and not form.cleaned_data.get("DELETE")
        ]
        if len(sources) != len(set(sources)):
            raise ValidationError("Cite each source once.")


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    """Read-only: the parties are every code django-countries knows, created by a migration."""

    list_display = ["code", "name"]
    search_fields = ["code"]
    ordering = ["code"]

    def get_search_results(self, request, queryset, search_term):
        # Names live in django-countries, not in the table, so they are matched here.
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            named = [code for code, name in countries if search_term.casefold() in name.casefold()]
            results |= queryset.filter(code__in=named)
        return results, may_have_duplicates

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = Event
    form = EventAdminForm
    fields = ["kind", "lane", "status", "date", "not_after", "time", "confidence", "summary"]
    extra = 0
    show_change_link = True


class AliasInline(admin.TabularInline):
    model = Alias
    fields = ["title", "language", "note"]
    extra = 0


class RelationInline(admin.TabularInline):
    model = Relation
    fk_name = "agreement"
    fields = ["relation", "other"]
    autocomplete_fields = ["other"]
    extra = 0


class AgreementCitationInline(admin.TabularInline):
    model = Citation
    fk_name = "agreement"
    formset = CitationFormSet
    fields = ["source", "stance", "quote", "note"]
    autocomplete_fields = ["source"]
    extra = 0
    verbose_name_plural = "citations of the agreement as a whole"


class EventCitationInline(admin.TabularInline):
    model = Citation
    fk_name = "event"
    formset = CitationFormSet
    fields = ["source", "stance", "quote", "note"]
    autocomplete_fields = ["source"]
    extra = 0


@admin.register(Agreement)
class AgreementAdmin(VersionedAdmin):
    form = AgreementAdminForm
    list_display = ["short_name", "slug", "party_a", "party_b", "kind", "status", "notice"]
    list_filter = ["kind", "status", "notice", "legal_form", "entry_into_force"]
    list_select_related = ["party_a", "party_b"]
    search_fields = ["slug", "title", "short_name", "aliases__title"]
    ordering = ["short_name"]
    autocomplete_fields = ["party_a", "party_b"]
    readonly_fields = ["status", "notice"]
    inlines = [EventInline, AliasInline, RelationInline, AgreementCitationInline]


@admin.register(Event)
class EventAdmin(VersionedAdmin):
    form = EventAdminForm
    fields = ["agreement", *EVENT_FIELDS, "external_id"]
    list_display = ["agreement", "kind", "lane", "status", "date_display", "confidence", "summary"]
    list_display_links = ["kind"]
    list_filter = ["kind", "status", "confidence", "lane"]
    list_select_related = ["agreement"]
    search_fields = ["summary", "notes", "agreement__slug", "agreement__short_name"]
    ordering = ["agreement__short_name", "date_start", "kind_position", "id"]
    autocomplete_fields = ["agreement", "resolves"]
    inlines = [EventCitationInline]

    def get_readonly_fields(self, request, obj=None):
        # Moving an event would leave the old agreement's status stale and its
        # `resolves` links pointing across agreements.
        return ["agreement", "external_id"] if obj else ["external_id"]

    @admin.display(description="date", ordering="date_start")
    def date_display(self, event):
        return event.date.display() if event.date else "date unknown"


@admin.register(Alias)
class AliasAdmin(SimpleHistoryAdmin):
    list_display = ["title", "language", "agreement", "note"]
    list_filter = ["language"]
    list_select_related = ["agreement"]
    search_fields = ["title", "agreement__slug", "agreement__short_name"]
    ordering = ["agreement__short_name", "title"]
    autocomplete_fields = ["agreement"]


@admin.register(Relation)
class RelationAdmin(SimpleHistoryAdmin):
    list_display = ["agreement", "relation", "other"]
    list_filter = ["relation"]
    list_select_related = ["agreement", "other"]
    search_fields = ["agreement__slug", "agreement__short_name", "other__slug", "other__short_name"]
    ordering = ["agreement__short_name", "relation"]
    autocomplete_fields = ["agreement", "other"]


@admin.register(Publisher)
class PublisherAdmin(VersionedAdmin):
    form = RowVersionAdminForm
    list_display = ["name", "country", "reliability"]
    list_editable = ["reliability"]
    list_filter = ["reliability"]
    search_fields = ["name"]
    ordering = ["name"]


@admin.register(Source)
class SourceAdmin(VersionedAdmin):
    form = SourceAdminForm
    list_display = ["key", "publisher", "headline", "published", "version", "language", "kind"]
    list_filter = ["kind", "language", "publisher__reliability"]
    list_select_related = ["publisher"]
    search_fields = ["key", "headline", "url", "story"]
    ordering = ["-published_on", "key"]
    autocomplete_fields = ["publisher"]


@admin.register(Citation)
class CitationAdmin(VersionedAdmin):
    form = RowVersionAdminForm
    list_display = ["source", "event", "agreement", "stance"]
    list_filter = ["stance"]
    list_select_related = ["source", "event", "agreement"]
    search_fields = ["source__key", "source__headline", "quote", "note"]
    ordering = ["-id"]
    autocomplete_fields = ["source", "event", "agreement"]
