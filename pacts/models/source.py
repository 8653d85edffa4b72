import re
import unicodedata
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.urls import reverse
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from pacts.dates import Period, PeriodError
from pacts.models.editing import Edited, EditedQuerySet, stamped
from pacts.text import text_constraint

WEB_URL_VALIDATOR = URLValidator(schemes=["http", "https"])
WEB_URL = models.Q(url__startswith="http://") | models.Q(url__startswith="https://")


def normalise_headline(headline):
    """The form of a headline used to recognise the same report twice."""
    folded = unicodedata.normalize("NFKC", headline).casefold()
    return re.sub(r"\s+", " ", folded).strip()


def parse_published(text):
    """Read a publication date: a reduced-precision date or an ISO datetime with offset.

    Returns `(canonical text, the local calendar date it starts on)`.
    """
    if "T" not in text:
        period = Period.parse(text)
        return period.iso, period.start
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"{text!r} is not a date or a datetime") from None
    if instant.tzinfo is None:
        raise PeriodError(f"{text!r} has no UTC offset")
    return instant.isoformat(), instant.date()


class Publisher(Edited):
    """Who publishes sources, with the reliability admins give it."""

    class Reliability(models.TextChoices):
        HIGH = "high"
        MEDIUM = "medium"
        LOW = "low"
        UNRATED = "unrated"

    name = models.CharField(max_length=200, unique=True)
    country = CountryField(blank=True)
    website = models.URLField(blank=True, max_length=500, validators=[WEB_URL_VALIDATOR])
    reliability = models.CharField(max_length=8, choices=Reliability, default=Reliability.UNRATED)

    objects = EditedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            text_constraint("name", "publisher_name_is_text", one_line=True),
            models.CheckConstraint(
                condition=models.Q(reliability__in=["high", "medium", "low", "unrated"]),
                name="publisher_reliability_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(website="")
                | models.Q(website__startswith="http://")
                | models.Q(website__startswith="https://"),
                name="publisher_website_is_web_url",
            ),
        ]

    def __str__(self):
        return self.name


class SourceQuerySet(EditedQuerySet):
    def matching(self, text):
        """Sources whose headline, key or publisher contains `text`, newest first."""
        return (
            self.select_related("publisher")
            .filter(
                models.Q(headline__icontains=text)
                | models.Q(key__icontains=text)
                | models.Q(publisher__name__icontains=text)
            )
            .order_by(models.F("published_on").desc(nulls_last=True), "key")
        )


class Source(Edited):
    """A news report or official document that events and agreements cite."""

    class Kind(models.TextChoices):
        NEWS = "news"
        OFFICIAL_STATEMENT = "official-statement"
        OFFICIAL_RECORD = "official-record"
        OTHER = "other"

    key = models.SlugField(max_length=200, unique=True, help_text="Stable identifier used by the interchange format.")
    publisher = models.ForeignKey(Publisher, on_delete=models.PROTECT, related_name="sources")
    headline = models.CharField(max_length=500)
    headline_key = models.CharField(max_length=500, editable=False)
    published = models.CharField(
        max_length=40,
        null=True,
        blank=True,
        help_text="YYYY, YYYY-MM, YYYY-MM-DD, or an ISO datetime with its UTC offset.",
    )
    published_on = models.DateField(null=True, blank=True, editable=False)
    language = models.CharField(max_length=35, default="en", help_text="BCP 47 tag: en, ko, ja, zh-Hant…")
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.NEWS)
    dateline = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=1000, null=True, blank=True, validators=[WEB_URL_VALIDATOR])
    version = models.CharField(max_length=50, blank=True, help_text="Wire-story version label, such as “3rd LD”.")
    story = models.SlugField(max_length=200, blank=True, help_text="Groups the versions of one story.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SourceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-published_on", "key"]
        # The dashboard's newest sources.
        indexes = [models.Index(models.F("created_at").desc(), models.F("id").desc(), name="source_latest_created")]
        constraints = [
            text_constraint("headline", "source_headline_is_text", one_line=True),
            text_constraint("version", "source_version_is_text", one_line=True),
            text_constraint("dateline", "source_dateline_is_text", one_line=True),
            models.UniqueConstraint(
                fields=["url", "version"],
                condition=models.Q(url__isnull=False),
                name="source_unique_url_version",
                violation_error_message="Another source already has this address and version.",
            ),
            models.UniqueConstraint(
                fields=["publisher", "headline_key", "published", "version"],
                condition=models.Q(url__isnull=True),
                nulls_distinct=False,
                name="source_unique_natural_key",
                violation_error_message="Another source from this publisher has this headline, date and version.",
            ),
            models.CheckConstraint(condition=models.Q(url__isnull=True) | WEB_URL, name="source_url_is_web_url"),
            models.CheckConstraint(
                condition=models.Q(kind__in=["news", "official-statement", "official-record", "other"]),
                name="source_kind_valid",
            ),
            models.CheckConstraint(condition=~models.Q(headline=""), name="source_headline_not_empty"),
        ]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        self.headline_key = normalise_headline(self.headline)
        if self.published:
            self.published, self.published_on = parse_published(self.published)
        else:
            self.published, self.published_on = None, None
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("source-detail", args=[self.key])

    @property
    def published_display(self):
        """`2011`, `June 2012`, `27 June 2012` or `27 June 2012, 09:05 +09:00`."""
        if not self.published:
            return "date unknown"
        if "T" not in self.published:
            return Period.parse(self.published).display()
        instant = datetime.fromisoformat(self.published)
        offset = instant.strftime("%z")
        return f"{Period(instant.date(), 'day').display()}, {instant:%H:%M} {offset[:3]}:{offset[3:]}"

    def merge_into(self, survivor, user=None):
        """Fold this duplicate into `survivor`: its citations move over, then it is deleted.

        Where an event (or agreement) cites both, one citation stays, the one
        with the longer quote, and the other is deleted. Every change is a
        history entry by `user`, so an admin can undo any of it.
        """
        if survivor.pk == self.pk:
            raise ValueError("A source cannot be merged into itself.")
        reason = f"merged {self.key} into {survivor.key}"
        with transaction.atomic():
            theirs = {(c.event_id, c.agreement_id): c for c in survivor.citations.select_for_update()}
            for citation in self.citations.select_for_update():
                twin = theirs.get((citation.event_id, citation.agreement_id))
                if twin is not None:
                    keep, drop = (citation, twin) if len(citation.quote) > len(twin.quote) else (twin, citation)
                    stamped(drop, user, reason).delete()
                    if keep is twin:
                        continue
                citation.source = survivor
                stamped(citation, user, reason).save()
            stamped(self, user, reason).delete()

    def link_versions(self, others, user=None):
        """Make `others` versions of this source's story (named after its key if it has none)."""
        story = self.story or self.key
        reason = f"linked into the story {story}"
        with transaction.atomic():
            for source in [self, *others]:
                if source.story != story:
                    source.story = story
                    stamped(source, user, reason).save()
        return story

    def clean(self):
        # Computed here too, so that model validation can check the natural key.
        self.headline_key = normalise_headline(self.headline or "")
        if self.published:
            try:
                parse_published(self.published)
            except PeriodError as error:
                raise ValidationError({"published": str(error)}) from None


class Citation(Edited):
    """A source backing (or contradicting) one event, or an agreement as a whole."""

    class Stance(models.TextChoices):
        SUPPORTS = "supports"
        CONTRADICTS = "contradicts"

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations")
    event = models.ForeignKey("pacts.Event", null=True, blank=True, on_delete=models.CASCADE, related_name="citations")
    agreement = models.ForeignKey(
        "pacts.Agreement", null=True, blank=True, on_delete=models.CASCADE, related_name="citations"
    )
    stance = models.CharField(max_length=12, choices=Stance, default=Stance.SUPPORTS)
    quote = models.CharField(max_length=500, blank=True, help_text="A short quote, never the whole article.")
    note = models.CharField(max_length=500, blank=True, help_text="For instance: “gives 26 Oct”.")

    objects = EditedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            text_constraint("note", "citation_note_is_text", one_line=True),
            text_constraint("quote", "citation_quote_is_text"),
            models.CheckConstraint(
                condition=models.Q(event__isnull=True, agreement__isnull=False)
                | models.Q(event__isnull=False, agreement__isnull=True),
                name="citation_cites_event_or_agreement",
            ),
            models.UniqueConstraint(
                fields=["event", "source"],
                condition=models.Q(event__isnull=False),
                name="citation_one_per_event_source",
            ),
            models.UniqueConstraint(
                fields=["agreement", "source"],
                condition=models.Q(agreement__isnull=False),
                name="citation_one_per_agreement_source",
            ),
            models.CheckConstraint(condition=LessThanOrEqual(Length("quote"), 500), name="citation_quote_at_most_500"),
            models.CheckConstraint(
                condition=models.Q(stance__in=["supports", "contradicts"]), name="citation_stance_valid"
            ),
        ]

    def __str__(self):
        return f"{self.source} ({self.stance})"


@receiver([post_save, post_delete], sender=Citation)
def touch_citing_agreement(sender, instance, **kwargs):
    from pacts.models import Agreement

    agreements = Agreement.objects.filter(
        models.Q(pk=instance.agreement_id) | models.Q(events__pk=instance.event_id)
    ).distinct()
    agreements.touch()


@receiver(post_save, sender=Source)
@receiver(post_save, sender=Publisher)
def touch_agreements_citing(sender, instance, created, **kwargs):
    # A corrected headline or a new reliability rating shows on every timeline citing it.
    from pacts.models import Agreement

    if not created:
        sources = [instance] if sender is Source else instance.sources.all()
        Agreement.objects.citing(sources).touch()
