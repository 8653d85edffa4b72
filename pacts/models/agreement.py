from django.db import models, transaction
from django.db.models.functions import Length, Now
from django.db.models.lookups import LessThanOrEqual
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from pacts import revisions, vocabulary
from pacts.durations import step_dates
from pacts.models.editing import Edited, EditedQuerySet
from pacts.search import SearchDocumentField, rebuilt_document
from pacts.text import LONG_TEXT_LENGTH, text_constraint
from pacts.vocabulary import Step, derive_status


def derived_columns(**values):
    """A new revision, and the search document rebuilt from the texts now stored."""
    values |= {"revision": models.F("revision") + 1, "changed_at": Now()}
    if (document := rebuilt_document()) is not None:
        values["search_document"] = document
    return values


STEP_DATE_FIELDS = ("signed_on", "in_force_on", "party_a_approved_on", "party_b_approved_on")


class AgreementQuerySet(EditedQuerySet):
    def for_list(self):
        return self.select_related("party_a", "party_b").order_by("short_name", "title")

    def touch(self):
        """Give these agreements a new revision: open timelines refresh and cached pages miss."""
        touched = self.update(**derived_columns())
        revisions.remember(self)
        return touched

    def search(self, text, common=False):
        """Matching agreements, annotated with `rank`; see pacts.search."""
        from pacts.search import search

        return search(self, text, common)

    def citing(self, sources):
        """Agreements that cite any of these sources, directly or through an event."""
        return self.filter(
            models.Q(citations__source__in=sources) | models.Q(events__citations__source__in=sources)
        ).distinct()


class AgreementManager(models.Manager.from_queryset(AgreementQuerySet)):
    def get_queryset(self):
        # The search document holds every text of every event (large for a long
        # timeline); only SQL reads it, so pages never fetch it.
        return super().get_queryset().defer("search_document")


class Agreement(Edited):
    """A bilateral defence agreement between exactly two parties.

    `party_a` and `party_b` are the lane order of the timeline. `status` and
    `notice` are derived from the events (see `vocabulary.derive_status`) and
    stored by `store_status`, which every write to the events calls in the same
    transaction.
    """

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=500, help_text="The fullest official English title.")
    short_name = models.CharField(max_length=200, help_text="Unique enough to tell agreements apart in a list.")
    summary = models.TextField(blank=True)
    kind = models.CharField(max_length=30, choices=vocabulary.AGREEMENT_KINDS)
    legal_form = models.CharField(max_length=30, choices=vocabulary.LEGAL_FORMS, default="unknown")
    entry_into_force = models.CharField(
        max_length=20, choices=vocabulary.ENTRY_INTO_FORCE_RULES, default="unknown", verbose_name="entry into force"
    )
    party_a = models.ForeignKey("pacts.Party", on_delete=models.PROTECT, related_name="+", verbose_name="party A")
    party_b = models.ForeignKey("pacts.Party", on_delete=models.PROTECT, related_name="+", verbose_name="party B")
    status = models.CharField(
        max_length=20, choices=vocabulary.AGREEMENT_STATUSES, default=vocabulary.PROPOSED, editable=False
    )
    notice = models.CharField(max_length=10, choices=vocabulary.NOTICES, default=vocabulary.NO_NOTICE, editable=False)
    # Goes up with every change to the agreement, its events, citations or their
    # sources: the version an open timeline compares, and part of its ETag.
    revision = models.PositiveIntegerField(default=1, editable=False)
    changed_at = models.DateTimeField(default=timezone.now, editable=False)
    latest_event_on = models.DateField(
        null=True, blank=True, editable=False, help_text="Start of the latest dated event."
    )
    # The days a party's step durations measure (pacts.durations), so its medians are one aggregate.
    signed_on = models.DateField(null=True, blank=True, editable=False)
    in_force_on = models.DateField(null=True, blank=True, editable=False)
    party_a_approved_on = models.DateField(null=True, blank=True, editable=False)
    party_b_approved_on = models.DateField(null=True, blank=True, editable=False)
    search_document = SearchDocumentField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Written only by store_status() and touch(), never from a possibly stale instance.
    DERIVED_FIELDS = frozenset(
        {"status", "notice", "revision", "changed_at", "latest_event_on", "search_document", *STEP_DATE_FIELDS}
    )

    objects = AgreementManager()
    history = HistoricalRecords(
        excluded_fields=[
            "status",
            "notice",
            "revision",
            "changed_at",
            "latest_event_on",
            *STEP_DATE_FIELDS,
            "search_document",
            "updated_at",
        ]
    )

    class Meta:
        ordering = ["title"]
        # The list's sorts, walked by cursor (the latest-event one is in migration 0007, PostgreSQL only).
        indexes = [
            models.Index(fields=["short_name", "id"], name="agreement_by_name"),
            # The network's count per pair and kind, read from the index alone.
            models.Index(fields=["party_a", "party_b", "kind", "status"], name="agreement_pair_kind"),
            # The newest change of all, part of the key of cached summaries (pacts.revisions.data_version).
            models.Index(fields=["changed_at"], name="agreement_changed_at"),
        ]
        constraints = [
            text_constraint("title", "agreement_title_is_text", one_line=True),
            text_constraint("short_name", "agreement_short_name_is_text", one_line=True),
            text_constraint("summary", "agreement_summary_is_text"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("summary"), LONG_TEXT_LENGTH), name="agreement_summary_length"
            ),
            models.CheckConstraint(
                condition=~models.Q(party_a=models.F("party_b")), name="agreement_two_distinct_parties"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=[k for k, _ in vocabulary.AGREEMENT_KINDS]), name="agreement_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(legal_form__in=[k for k, _ in vocabulary.LEGAL_FORMS]),
                name="agreement_legal_form_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(entry_into_force__in=[k for k, _ in vocabulary.ENTRY_INTO_FORCE_RULES]),
                name="agreement_entry_into_force_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[k for k, _ in vocabulary.AGREEMENT_STATUSES]),
                name="agreement_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(notice__in=[k for k, _ in vocabulary.NOTICES]), name="agreement_notice_valid"
            ),
            models.CheckConstraint(condition=~models.Q(title=""), name="agreement_title_not_empty"),
            models.CheckConstraint(
                condition=models.Q(slug__regex=r"^[a-z0-9]+(-[a-z0-9]+)*$"), name="agreement_slug_form"
            ),
        ]

    def __str__(self):
        return self.short_name or self.title

    def save(self, *args, **kwargs):
        # The entry-into-force rule changes what a signature means, so the status
        # is derived again with every save, in the same transaction.
        if self.pk and not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name not in self.DERIVED_FIELDS
            ]
        with transaction.atomic():
            super().save(*args, **kwargs)
            self.store_status()

    def get_absolute_url(self):
        return reverse("timeline", args=[self.slug])

    @property
    def parties(self):
        return (self.party_a, self.party_b)

    @property
    def lanes(self):
        """Lane codes in display order: party A, joint, party B."""
        return (self.party_a_id, vocabulary.JOINT, self.party_b_id)

    @property
    def status_label(self):
        """The badge text: "In force · termination notice suspended"."""
        label = self.get_status_display()
        if self.notice != vocabulary.NO_NOTICE:
            label += " · " + self.get_notice_display().lower()
        return label

    def steps(self):
        return [Step(*row) for row in self.events.values_list("kind", "status", "date_start", "id")]

    def compute_status(self, as_of=None):
        """`(status, notice)` from the events now in the database, as they stood on `as_of`."""
        return derive_status(self.steps(), self.entry_into_force, as_of=as_of)

    def store_status(self):
        """Derive and store the status and notice, and take a new revision.

        The one code path every write to the agreement or its events calls, in the
        same transaction as the write.
        """
        rows = list(self.events.values_list("kind", "status", "lane", "date_start", "date_precision", "id"))
        steps = [Step(row[0], row[1], row[3], row[5]) for row in rows]
        status, notice = derive_status(steps, self.entry_into_force)
        latest = max((step.start for step in steps if step.start), default=None)
        dates = step_dates((row[:5] for row in rows), self.party_a_id, self.party_b_id)._asdict()
        Agreement.objects.filter(pk=self.pk).update(
            **derived_columns(status=status, notice=notice, latest_event_on=latest, **dates)
        )
        revisions.remember(Agreement.objects.filter(pk=self.pk))
        self.status, self.notice, self.latest_event_on = status, notice, latest
        for name, value in dates.items():
            setattr(self, name, value)


class Alias(models.Model):
    """Another name of an agreement, in the language it is written in."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="aliases")
    title = models.CharField(max_length=500)
    language = models.CharField(max_length=35, help_text="BCP 47 tag: ko, ja, en…")
    note = models.CharField(max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "aliases"
        constraints = [
            text_constraint("title", "alias_title_is_text", one_line=True),
            text_constraint("note", "alias_note_is_text", one_line=True),
            models.UniqueConstraint(fields=["agreement", "title", "language"], name="alias_unique_per_agreement"),
            models.CheckConstraint(condition=~models.Q(title=""), name="alias_title_not_empty"),
        ]

    def __str__(self):
        return self.title


class Relation(models.Model):
    """One agreement's link to another: negotiated with (symmetric), supersedes, amends."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="relations")
    other = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="inverse_relations")
    relation = models.CharField(max_length=20, choices=vocabulary.RELATIONS)

    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "other", "relation"], name="relation_unique"),
            models.CheckConstraint(condition=~models.Q(agreement=models.F("other")), name="relation_not_to_itself"),
            models.CheckConstraint(
                condition=models.Q(relation__in=[k for k, _ in vocabulary.RELATIONS]), name="relation_valid"
            ),
        ]

    def __str__(self):
        return f"{self.agreement} {self.get_relation_display().lower()} {self.other}"


@receiver([post_save, post_delete], sender=Alias)
@receiver([post_save, post_delete], sender=Relation)
def touch_agreement(sender, instance, **kwargs):
    Agreement.objects.filter(pk=instance.agreement_id).touch()
