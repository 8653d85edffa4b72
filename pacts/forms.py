"""Every input goes through a form: the timeline's query parameters and the editors' forms.

Forms check what the database also enforces (lanes, resolves, quote length) so that
editors see a message next to the field instead of an error page.
"""

import re
import uuid

from django import forms
from django.db.models import Q
from django.utils.text import Truncator, slugify

from pacts import vocabulary
from pacts.dates import Period, PeriodError
from pacts.interchange import LANGUAGE_TAG
from pacts.models import Agreement, Alias, Citation, Event, Party, Publisher, Relation, Source
from pacts.models.source import parse_published
from pacts.text import LONG_TEXT_LENGTH, REASON_LENGTH, refused_character

# What an editor sets on an event, in the order the forms show it (here and in the admin).
EVENT_FIELDS = [
    "kind",
    "lane",
    "status",
    "date",
    "not_after",
    "time",
    "confidence",
    "summary",
    "body",
    "actors",
    "notes",
    "resolves",
]


class PeriodField(forms.CharField):
    """A reduced-precision date typed as 2011, 2012-06 or 2012-06-26; empty when unknown."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "2011, 2012-06 or 2012-06-26; leave empty when unknown.")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return value.iso if isinstance(value, Period) else value

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "maxlength": "10"}

    def to_python(self, value):
        text = super().to_python(value).strip()
        if not text:
            return None
        try:
            if len(text) > 10:
                raise PeriodError(text)
            return Period.parse(text)
        except PeriodError:
            raise forms.ValidationError(
                "“%(text)s” is not a date: use YYYY, YYYY-MM or YYYY-MM-DD.",
                code="invalid",
                params={"text": Truncator(text).chars(20)},
            ) from None


class DayField(forms.DateField):
    """A day as ISO 8601 writes it, 2012-06-26: not 26/06/2012, which reads differently in another country."""

    default_error_messages = {"invalid": "Enter a valid date as YYYY-MM-DD, such as 2012-06-26."}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        super().__init__(**kwargs)


class LocalTimeField(forms.TimeField):
    """A local time as HH:MM on the 24-hour clock; the interchange format has no seconds."""

    default_error_messages = {"invalid": "Enter a valid time as HH:MM on the 24-hour clock, such as 09:30."}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("input_formats", ["%H:%M"])
        kwargs.setdefault("widget", forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
        super().__init__(**kwargs)


def text_validator(one_line):
    """Refuse the characters pacts.text refuses, as the importer does; line breaks too, in `one_line` text."""

    def validate(value):
        if isinstance(value, str) and (problem := refused_character(value, one_line)):
            raise forms.ValidationError("This text %(problem)s.", code="refused-character", params={"problem": problem})

    return validate


def language_tag(value):
    if value and not LANGUAGE_TAG.fullmatch(value):
        raise forms.ValidationError("Enter a BCP 47 language tag, such as en, ko or zh-Hant.", code="invalid")
    return value


class VisibleTextForm(forms.ModelForm):
    """A model form whose text fields refuse invisible and control characters (and line breaks, unless typed
    in a text area), and follow the direction of their text.

    NUL Django refuses already; see pacts.text for the others.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(text_validator(one_line=not isinstance(field.widget, forms.Textarea)))
                if type(field.widget) in (forms.TextInput, forms.Textarea):
                    field.widget.attrs.setdefault("dir", "auto")

    def clean(self):
        data = super().clean()
        if any(self.fields[name].widget.is_hidden for name in self.errors if name in self.fields):
            # Hidden fields have nowhere to show a message; the form as a whole does.
            self.add_error(None, "This form is damaged or out of date: reload the page and enter your change again.")
        return data


def open_year_choices():
    # A callable, so that each form copies a reference instead of 400 choices.
    return [(str(year), str(year)) for year in range(1800, 2200)]


class TimelineFilterForm(forms.Form):
    """The timeline's query string: kind groups, lanes, statuses, a past day, opened years."""

    group = forms.MultipleChoiceField(
        label="Steps",
        required=False,
        choices=[(group, label) for group, label, _ in vocabulary.KIND_GROUPS],
        widget=forms.CheckboxSelectMultiple,
    )
    lane = forms.MultipleChoiceField(label="Lanes", required=False, widget=forms.CheckboxSelectMultiple)
    status = forms.MultipleChoiceField(
        label="Status", required=False, choices=vocabulary.EVENT_STATUSES, widget=forms.CheckboxSelectMultiple
    )
    as_of = DayField(label="As of")
    open = forms.TypedMultipleChoiceField(
        required=False,
        coerce=int,
        choices=open_year_choices,
        widget=forms.MultipleHiddenInput,
    )
    since = forms.IntegerField(required=False, min_value=0, max_value=2**31, widget=forms.HiddenInput)

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lane"].choices = [
            (agreement.party_a_id, agreement.party_a.name),
            (vocabulary.JOINT, "Joint"),
            (agreement.party_b_id, agreement.party_b.name),
        ]

    def filter(self, events):
        """Narrow an event queryset to the chosen groups, lanes and statuses."""
        data = self.cleaned_data
        if data["group"]:
            events = events.filter(
                kind__in=[k for k in vocabulary.EVENT_KINDS if vocabulary.KIND_GROUP[k] in data["group"]]
            )
        if data["lane"]:
            events = events.filter(lane__in=data["lane"])
        if data["status"]:
            events = events.filter(status__in=data["status"])
        return events

    @property
    def is_filtered(self):
        return any(self.cleaned_data.get(name) for name in ("group", "lane", "status", "as_of"))


class EditedForm(VisibleTextForm):
    """A form for an `Edited` record.

    Editing, it carries the row version it was read at, so that saving over
    someone else's change raises `EditConflict`; creating, it carries a creation
    key, so that submitting it twice makes one record. Either way the editor may
    say why, for the history.
    """

    row_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    creation_key = forms.UUIDField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        max_length=REASON_LENGTH,
        help_text="Optional; shown in the history.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["creation_key"]
            self.fields["row_version"].initial = self.instance.row_version
        else:
            del self.fields["row_version"], self.fields["reason"]
            # A callable initial: every rendering of a blank form gets a fresh key.
            self.fields["creation_key"].initial = uuid.uuid4

    def clean(self):
        data = super().clean()  # a damaged row_version or creation_key has its message there
        if data.get("creation_key") and self._meta.model.objects.filter(creation_key=data["creation_key"]).exists():
            # Its record exists, but not where this form was sent: a forged or misdirected replay.
            self.add_error(None, "This form was already submitted once; reload the page to start a new one.")
        return data

    def _post_clean(self):
        super()._post_clean()
        data = getattr(self, "cleaned_data", {})
        if data.get("row_version"):
            self.instance.row_version = data["row_version"]
        if data.get("creation_key"):
            self.instance.creation_key = data["creation_key"]

    def already_created(self, within=None):
        """The record an earlier submission of this same form made (among `within`), or None."""
        if "creation_key" not in self.fields or not self.is_bound:
            return None
        try:
            key = self.fields["creation_key"].clean(self.data.get(self.add_prefix("creation_key")))
        except forms.ValidationError:
            return None
        records = self._meta.model.objects.all() if within is None else within
        return records.created_with(key)

    def reason_or(self, default):
        """The editor's reason if given, else what the view calls the change."""
        return getattr(self, "cleaned_data", {}).get("reason") or default

    def compare_with(self, stored):
        """Rows of (label, stored value, this form's value, differs) for a 409 page."""
        theirs = type(self)(**self.conflict_kwargs(stored))
        rows = []
        for name, field in self.fields.items():
            if field.widget.is_hidden or name == "reason":
                continue
            stored_value = shown(field, theirs[name].value())
            input_value = shown(field, self[name].value())
            rows.append((self[name].label, stored_value, input_value, stored_value != input_value))
        return rows

    def conflict_kwargs(self, stored):
        """How to build this form for the stored record; forms with extra arguments extend it."""
        return {"instance": stored}


def shown(field, value):
    """A form value as a person reads it: choice labels, one line per list item, a dash for nothing."""
    if isinstance(value, list | tuple):
        return "; ".join(shown(field, item) for item in value) or "—"
    if hasattr(field, "choices") and value not in (None, ""):
        labels = {}
        for key, label in field.choices:
            # Grouped choices (kinds by group) nest their (key, label) pairs under the group's name.
            labels |= {str(k): v for k, v in label} if isinstance(label, list | tuple) else {str(key): label}
        value = labels.get(str(value), value)
    if hasattr(value, "display"):
        value = value.display()
    text = "" if value is None else str(value)
    return text.strip() or "—"


class EventForm(EditedForm):
    """Add or edit one event of an agreement."""

    date = PeriodField(widget=forms.TextInput(attrs={"placeholder": "YYYY-MM-DD", "autocomplete": "off"}))
    not_after = DayField(help_text=Event._meta.get_field("not_after").help_text)
    time = LocalTimeField(help_text=Event._meta.get_field("time").help_text)
    actors = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), help_text="One name per line."
    )
    notes = forms.CharField(required=False, max_length=LONG_TEXT_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = Event
        fields = EVENT_FIELDS
        help_texts = {"resolves": "The expectation this event settles (it slipped, and this is what happened)."}

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.agreement = agreement
        self.instance.agreement = agreement
        self.fields["kind"].choices = vocabulary.KIND_CHOICES_BY_GROUP
        self.fields["lane"] = forms.ChoiceField(
            choices=[
                (agreement.party_a_id, agreement.party_a.name),
                (vocabulary.JOINT, "Joint"),
                (agreement.party_b_id, agreement.party_b.name),
            ],
            help_text="A party's own domestic step, or a joint act such as a signature.",
        )
        unsettled = agreement.events.filter(status__in=vocabulary.RESOLVABLE_STATUSES).filter(
            Q(resolved_by__isnull=True) | Q(resolved_by=self.instance.pk)
        )
        if self.instance.pk:
            unsettled = unsettled.exclude(pk=self.instance.pk)
        self.fields["resolves"].queryset = unsettled.in_date_order()
        if self.instance.pk:
            self.initial.setdefault("date", self.instance.date)
        if isinstance(self.initial.get("actors"), list):
            # The model holds a list; the box shows one name per line.
            self.initial["actors"] = "\n".join(self.initial["actors"])

    def clean_actors(self):
        actors = [line.strip() for line in self.cleaned_data["actors"].splitlines() if line.strip()]
        if any(len(actor) > 200 for actor in actors):
            raise forms.ValidationError("Each name can be at most 200 characters.")
        return actors

    def clean(self):
        data = super().clean()
        # The model's clean() checks the date against the status and `not_after`.
        self.instance.date = data.get("date")
        return data

    def conflict_kwargs(self, stored):
        return {"instance": stored, "agreement": self.agreement}


class PostponeForm(EventForm):
    """The event that replaces a slipped expectation; saving marks the old one postponed."""

    def __init__(self, *args, expectation, **kwargs):
        super().__init__(*args, **kwargs)
        self.expectation = expectation
        del self.fields["resolves"]

    def save(self, commit=True):
        self.instance.resolves = self.expectation
        return super().save(commit)


class FirstFilledInput(forms.TextInput):
    """A text input that shares its name with search-result radio buttons: the first filled value wins."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        return next((value for value in values if value and value.strip()), "")


class SourceKeyField(forms.CharField):
    """A source chosen by its key (search-as-you-type fills it in)."""

    widget = FirstFilledInput

    def prepare_value(self, value):
        if isinstance(value, Source):
            return value.key
        if isinstance(value, int):
            return Source.objects.filter(pk=value).values_list("key", flat=True).first() or ""
        return value

    def clean(self, value):
        key = super().clean(value)
        if not key:
            return None
        source = Source.objects.filter(key=key).first()
        if source is None:
            raise forms.ValidationError("There is no source with the key “%(key)s”.", params={"key": key})
        return source


class CitationForm(EditedForm):
    """Cite a source, chosen by key, for an event or an agreement."""

    source = SourceKeyField(
        required=False,
        max_length=200,
        label="Source",
        help_text="Search by headline or key, or create a new source below.",
    )

    class Meta:
        model = Citation
        fields = ["source", "stance", "quote", "note"]
        widgets = {"quote": forms.Textarea(attrs={"rows": 3, "maxlength": 500})}

    def __init__(self, *args, event=None, agreement=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.event, self.instance.agreement = event, agreement if event is None else None

    def validate_unique(self):
        # The source may still be created by the SourceForm; checked in the view's transaction.
        pass

    def check_not_cited(self, source):
        cited = Citation.objects.filter(source=source)
        cited = (
            cited.filter(event=self.instance.event)
            if self.instance.event
            else cited.filter(agreement=self.instance.agreement)
        )
        if cited.exclude(pk=self.instance.pk).exists():
            self.add_error("source", "This source is already cited here.")
            return False
        return True


class SourceSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, strip=True)


class SourceForm(EditedForm):
    """A source: created in place while citing it, or corrected later by an editor."""

    publisher_name = forms.CharField(
        label="Publisher",
        max_length=200,
        help_text="An existing publisher, or a new one (unrated until an admin rates it).",
    )

    class Meta:
        model = Source
        fields = ["publisher_name", "headline", "published", "url", "version", "story", "dateline", "language", "kind"]
        widgets = {"url": forms.URLInput(attrs={"placeholder": "https://…"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("publisher_name", self.instance.publisher.name)

    def clean_language(self):
        return language_tag(self.cleaned_data["language"])

    def clean_published(self):
        text = (self.cleaned_data.get("published") or "").strip()
        if not text:
            return None
        try:
            return parse_published(text)[0]
        except PeriodError:
            raise forms.ValidationError(
                "Use 2012, 2012-06, 2012-06-27 or a date and time with its offset (2012-06-27T09:00+09:00)."
            ) from None

    def clean(self):
        data = super().clean()
        if data.get("headline") and data.get("publisher_name") and not self.instance.pk:
            data["key"] = self.unique_key(data)  # a source keeps its key for life: links and imports use it
        return data

    @staticmethod
    def unique_key(data):
        base = slugify(f"{data['publisher_name']}-{data.get('published') or ''}-{data['headline']}")[:80].strip("-")
        base = base or "source"
        key, n = base, 1
        while Source.objects.filter(key=key).exists():
            n += 1
            key = f"{base}-{n}"
        return key

    def save(self, commit=True):
        publisher, _ = Publisher.objects.get_or_create(name=self.cleaned_data["publisher_name"].strip())
        self.instance.publisher = publisher
        if not self.instance.pk:
            self.instance.key = self.cleaned_data["key"]
        return super().save(commit)


class SourceMergeForm(forms.Form):
    """Which source a duplicate folds into."""

    into = SourceKeyField(
        label="Keep this source",
        max_length=200,
        help_text="The key of the source that stays; this one's citations move to it and this one is deleted.",
    )

    def __init__(self, *args, duplicate, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicate = duplicate

    def clean_into(self):
        survivor = self.cleaned_data["into"]
        if survivor is None:
            raise forms.ValidationError("Enter the key of the source to keep.")
        if survivor.pk == self.duplicate.pk:
            raise forms.ValidationError("Choose another source: a source cannot be merged into itself.")
        return survivor


class SourceLinkForm(forms.Form):
    """Other sources to record as versions of one story."""

    keys = forms.CharField(
        label="Other versions",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Source keys, one per line or separated by spaces.",
    )

    def __init__(self, *args, source, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source

    def clean_keys(self):
        keys = list(dict.fromkeys(self.cleaned_data["keys"].replace(",", " ").split()))
        if len(keys) > 50:
            raise forms.ValidationError("Link at most 50 sources at a time.")
        found = {source.key: source for source in Source.objects.filter(key__in=keys)}
        missing = [key for key in keys if key not in found]
        if missing:
            raise forms.ValidationError("No source has the key %(keys)s.", params={"keys": ", ".join(missing)})
        others = [found[key] for key in keys if found[key].pk != self.source.pk]
        if not others:
            raise forms.ValidationError("Name at least one other source.")
        return others


class AgreementForm(EditedForm):
    """An agreement's own fields; aliases, relations and citations are formsets beside it."""

    party_a = forms.ModelChoiceField(queryset=Party.objects.none(), label="Party A", help_text="Its lane comes first.")
    party_b = forms.ModelChoiceField(queryset=Party.objects.none(), label="Party B")
    summary = forms.CharField(required=False, max_length=LONG_TEXT_LENGTH, widget=forms.Textarea(attrs={"rows": 4}))

    class Meta:
        model = Agreement
        fields = [
            "title",
            "short_name",
            "slug",
            "kind",
            "legal_form",
            "entry_into_force",
            "party_a",
            "party_b",
            "summary",
        ]
        help_texts = {"slug": "Lowercase words joined by hyphens, such as kr-jp-gsomia; it becomes the address."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parties = sorted(Party.objects.all(), key=lambda party: party.name)
        for name in ("party_a", "party_b"):
            self.fields[name].queryset = Party.objects.all()
            self.fields[name].choices = [("", "---------")] + [(p.code, f"{p.name} ({p.code})") for p in parties]
        if self.instance.pk:
            del self.fields["slug"]

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug):
            raise forms.ValidationError("Use lowercase letters, digits and single hyphens.")
        if slug == "new":
            raise forms.ValidationError("“new” is the address of the form for a new agreement; choose another slug.")
        return slug

    def clean(self):
        data = super().clean()
        a, b = data.get("party_a"), data.get("party_b")
        if a and b and a == b:
            self.add_error("party_b", "The two parties must differ.")
        if self.instance.pk and a and b:
            used = set(self.instance.events.exclude(lane=vocabulary.JOINT).values_list("lane", flat=True))
            for name, code in (("party_a", self.instance.party_a_id), ("party_b", self.instance.party_b_id)):
                if code in used and code not in {a.code, b.code}:
                    self.add_error(name, f"{Party(code=code).name} has events in its lane; move or delete them first.")
        return data


class AgreementSlugField(forms.CharField):
    """Another agreement, named by its slug (a select of every agreement would not scale)."""

    def prepare_value(self, value):
        if isinstance(value, int):
            return Agreement.objects.filter(pk=value).values_list("slug", flat=True).first() or ""
        return value.slug if isinstance(value, Agreement) else value

    def clean(self, value):
        slug = super().clean(value)
        if not slug:
            return None
        agreement = Agreement.objects.filter(slug=slug).first()
        if agreement is None:
            raise forms.ValidationError("There is no agreement “%(slug)s”.", params={"slug": slug})
        return agreement


class RelationForm(VisibleTextForm):
    other = AgreementSlugField(label="Other agreement", max_length=100, help_text="Its slug, such as kr-jp-acsa.")

    class Meta:
        model = Relation
        fields = ["relation", "other"]


class AgreementCitationForm(VisibleTextForm):
    source = SourceKeyField(label="Source key", max_length=200)

    class Meta:
        model = Citation
        fields = ["source", "stance", "quote", "note"]
        widgets = {"quote": forms.Textarea(attrs={"rows": 2, "maxlength": 500})}


class AliasForm(VisibleTextForm):
    class Meta:
        model = Alias
        fields = ["title", "language", "note"]

    def clean_language(self):
        return language_tag(self.cleaned_data["language"])


AliasFormSet = forms.inlineformset_factory(Agreement, Alias, form=AliasForm, extra=1, can_delete=True)
RelationFormSet = forms.inlineformset_factory(
    Agreement, Relation, form=RelationForm, fk_name="agreement", extra=1, can_delete=True
)
AgreementCitationFormSet = forms.inlineformset_factory(
    Agreement, Citation, form=AgreementCitationForm, fk_name="agreement", extra=1, can_delete=True
)
