"""Factories for the domain models; each makes a valid row with the fewest choices."""

import factory

from pacts.models import Agreement, Citation, Event, Publisher, Source


class PublisherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Publisher
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Publisher {n}")
    country = "KR"
    reliability = "high"


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    key = factory.Sequence(lambda n: f"source-{n}")
    publisher = factory.SubFactory(PublisherFactory)
    headline = factory.Sequence(lambda n: f"Report number {n}")
    published = "2012-06-27"
    language = "en"


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    slug = factory.Sequence(lambda n: f"agreement-{n}")
    title = factory.Sequence(lambda n: f"Agreement number {n}")
    short_name = factory.Sequence(lambda n: f"Agreement {n}")
    kind = "intelligence-sharing"
    legal_form = "executive-agreement"
    entry_into_force = "on-notification"
    party_a_id = "KR"
    party_b_id = "JP"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    agreement = factory.SubFactory(AgreementFactory)
    kind = "cabinet-approval"
    lane = "KR"
    status = "occurred"
    date = "2012-06-26"
    summary = factory.Sequence(lambda n: f"Step number {n}")


class CitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citation

    source = factory.SubFactory(SourceFactory)
    event = factory.SubFactory(EventFactory)
