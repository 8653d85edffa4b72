import uuid

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models, transaction
from django.db.models.functions import Coalesce, Length
from django.db.models.lookups import LessThanOrEqual
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from simple_history.models import HistoricalRecords

from pacts import vocabulary
from pacts.dates import PRECISIONS, Period
from pacts.models.editing import Edited, EditedQuerySet
from pacts.text import LONG_TEXT_LENGTH, text_constraint


class EventQuerySet(EditedQuerySet):
    def in_date_order(self):
        """Dated events by start, then kind order; unknown dates last."""
        return self.order_by(models.F("date_start").asc(nulls_last=True), "kind_position", "id")

    def for_timeline(self):
        return (
            self.in_date_order()
            .select_related("resolves", "resolved_by")
            .prefetch_related("citations__source__publisher")
        )

    def overdue(self, today=None):
        """Expected events with no resolver whose deadline (`not_after`, else the period's end) has passed."""
        today = today or timezone.localdate()
        return self.annotate(due=Coalesce("not_after", "date_end")).filter(
            ~models.Exists(Event.objects.filter(resolves=models.OuterRef("pk"))), status="expected", due__lt=today
        )

    def with_first_reported(self):
        """Annotate `first_reported`: the earliest publication date among supporting sources."""
        return self.annotate(
            first_reported=models.Min("citations__source__published_on", filter=models.Q(citations__stance="supports"))
        )


class Event(Edited):
    """One step in an agreement's life, in a party's lane or the joint lane.

    The date is a reduced-precision period (`date`, stored as its first day, last
    day and precision) or unknown. Saving or deleting an event stores the
    agreement's derived status in the same transaction.
    """

    agreement = models.ForeignKey("pacts.Agreement", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40, choices=[(k, vocabulary.KIND_LABELS[k]) for k in vocabulary.EVENT_KINDS])
    # Denormalised from the vocabulary so the database can sort same-day events.
    kind_position = models.PositiveSmallIntegerField(editable=False)
    lane = models.CharField(max_length=5, help_text="“joint” or the code of one of the agreement's parties.")
    status = models.CharField(max_length=10, choices=vocabulary.EVENT_STATUSES, default="occurred")
    date_start = models.DateField(null=True, blank=True, editable=False)
    date_end = models.DateField(null=True, blank=True, editable=False)
    date_precision = models.CharField(max_length=5, blank=True, editable=False)
    not_after = models.DateField(null=True, blank=True, help_text="The latest day an expectation allows (“this week”).")
    time = models.TimeField(null=True, blank=True, help_text="Local time at the place of the act.")
    confidence = models.CharField(max_length=6, choices=vocabulary.CONFIDENCES, default="high")
    summary = models.CharField(max_length=300)
    body = models.CharField(max_length=200, blank=True, help_text="Cabinet, National Security Council, House of…")
    actors = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    resolves = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resolved_by"
    )
    external_id = models.CharField(
        max_length=100, blank=True, help_text="The event's id in the interchange format, unique within the agreement."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EventQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["kind_position", "updated_at"])

    class Meta:
        ordering = [models.F("date_start").asc(nulls_last=True), "kind_position", "id"]
        indexes = [
            models.Index(fields=["agreement", "date_start"], name="event_agreement_date"),
            # A party's domestic steps across agreements; feeds of the latest changes.
            models.Index(fields=["lane", "date_start"], name="event_lane_date"),
            models.Index(fields=["-updated_at", "-id"], name="event_latest_change"),
            # The dashboard's recent events, newest first.
            models.Index(
                models.F("date_start").desc(),
                models.F("kind_position").desc(),
                models.F("id").desc(),
                name="event_by_date",
            ),
            # Open expectations by deadline (the dashboard's upcoming and overdue), walked until the list is full.
            models.Index(
                Coalesce("not_after", "date_end"),
                "id",
                condition=models.Q(status="expected"),
                name="event_expected_due",
            ),
            # The expectations page's indexes and the party page's event_lane_latest are in migration 0010,
            # PostgreSQL only (NULLS LAST and INCLUDE).
        ]
        constraints = [
            text_constraint("summary", "event_summary_is_text", one_line=True),
            text_constraint("body", "event_body_is_text", one_line=True),
            text_constraint("notes", "event_notes_is_text"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("notes"), LONG_TEXT_LENGTH), name="event_notes_length"
            ),
            # Target of the composite foreign key (agreement, resolves) that keeps
            # `resolves` inside the agreement; added in SQL by a migration.
            models.UniqueConstraint(fields=["agreement", "id"], name="event_unique_agreement_id"),
            models.UniqueConstraint(
                fields=["agreement", "external_id"],
                condition=~models.Q(external_id=""),
                name="event_unique_external_id",
            ),
            models.CheckConstraint(condition=~models.Q(resolves=models.F("id")), name="event_not_resolving_itself"),
            models.CheckConstraint(
                condition=models.Q(date_start__isnull=True, date_end__isnull=True, date_precision="")
                | models.Q(
                    date_start__isnull=False,
                    date_end__gte=models.F("date_start"),
                    date_precision__in=PRECISIONS,
                ),
                name="event_date_is_period_or_unknown",
            ),
            models.CheckConstraint(
                condition=models.Q(not_after__isnull=True)
                | models.Q(date_start__isnull=True)
                | models.Q(not_after__gte=models.F("date_start")),
                name="event_not_after_not_before_date",
            ),
            models.CheckConstraint(condition=models.Q(kind__in=vocabulary.EVENT_KINDS), name="event_kind_valid"),
            models.CheckConstraint(
                condition=models.Q(status__in=[k for k, _ in vocabulary.EVENT_STATUSES]), name="event_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(confidence__in=[k for k, _ in vocabulary.CONFIDENCES]),
                name="event_confidence_valid",
            ),
        ]

    def __str__(self):
        when = self.date.display() if self.date else "date unknown"
        return f"{self.get_kind_display()} ({when})"

    def save(self, *args, **kwargs):
        self.kind_position = vocabulary.KIND_POSITION[self.kind]
        if not self.external_id:
            # Every event gets an id the interchange format can refer to.
            self.external_id = f"{self.kind}-{uuid.uuid4().hex[:10]}"
        with transaction.atomic():
            super().save(*args, **kwargs)
            self.agreement.store_status()

    def get_absolute_url(self):
        return f"{self.agreement.get_absolute_url()}#event-{self.pk}"

    def get_kind_display(self):
        """The kind's label. Django's own builds a hashable copy of all forty choices on every call:
        a third of the time the latest feed took to draw its fifty items."""
        return vocabulary.KIND_LABELS.get(self.kind, self.kind)

    def clean(self):
        """The rules PostgreSQL enforces across tables, as messages on the fields."""
        from pacts.interchange import latest_today

        errors = {}
        try:
            agreement = self.agreement  # in an admin inline, possibly an agreement not saved yet
        except ObjectDoesNotExist:
            agreement = None
        if agreement and self.lane and None not in agreement.lanes and self.lane not in agreement.lanes:
            errors["lane"] = (
                f"Use “joint” or a party of this agreement: {agreement.party_a_id} or {agreement.party_b_id}."
            )
        if self.date_start and self.status == vocabulary.OCCURRED and self.date_start > latest_today():
            errors["date"] = "An event that occurred cannot start after today."
        if self.date_start and self.not_after and self.not_after < self.date_start:
            errors["not_after"] = f"Cannot be before the date, which starts on {self.date_start.isoformat()}."
        if self.status == vocabulary.OCCURRED and self.pk and self.resolver is not None:
            errors["status"] = f"The {self.resolver} resolves this event, so it did not occur as announced."
        if self.resolves_id and (problem := self.resolves_problem()):
            errors["resolves"] = problem
        if errors:
            raise ValidationError(errors)

    def resolves_problem(self):
        target = self.resolves
        if self.agreement_id and target.agreement_id != self.agreement_id:
            return "Choose an event of the same agreement."
        if target.status not in vocabulary.RESOLVABLE_STATUSES:
            return "Only an expected, postponed or cancelled event can be resolved."
        if Event.objects.filter(resolves=target).exclude(pk=self.pk).exists():
            return "Another event already resolves that one."
        while target is not None:
            if self.pk and target.pk == self.pk:
                return "Events cannot resolve each other in a circle."
            target = target.resolves
        return None

    @property
    def date(self):
        """The event's Period, or None when the date is unknown."""
        if self.date_start is None:
            return None
        return Period(self.date_start, self.date_precision)

    @date.setter
    def date(self, value):
        if isinstance(value, str):
            value = Period.parse(value) if value else None
        if value is None:
            self.date_start, self.date_end, self.date_precision = None, None, ""
        else:
            self.date_start, self.date_end, self.date_precision = value.start, value.end, value.precision

    @property
    def kind_help(self):
        return vocabulary.KIND_HELP[self.kind]

    @property
    def kind_group(self):
        return vocabulary.KIND_GROUP[self.kind]

    @property
    def resolver(self):
        """The event that settles this one, or None."""
        return getattr(self, "resolved_by", None)

    @property
    def deadline(self):
        return self.not_after or self.date_end

    def is_overdue(self, today=None):
        """Mirror of `EventQuerySet.overdue` for one event already in memory."""
        today = today or timezone.localdate()
        return (
            self.status == "expected" and self.deadline is not None and self.deadline < today and self.resolver is None
        )


@receiver(post_delete, sender=Event)
def store_status_after_delete(sender, instance, origin=None, **kwargs):
    # Deletion runs inside the collector's transaction, so this is atomic with it.
    # When the agreement itself is being deleted there is nothing left to derive.
    if not isinstance(origin, type(instance.agreement)):
        instance.agreement.store_status()
