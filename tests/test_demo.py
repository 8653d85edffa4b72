"""The bundled demo data: real agreements, every step sourced, GSOMIA's whole path."""

import io
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from pacts.models import Agreement, Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())


def test_the_demo_loads_once_and_a_second_load_changes_nothing(demo):
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert out.getvalue().strip() == "Demo data: nothing to change"


def test_the_demo_has_gsomia_and_at_least_five_other_agreements(demo):
    assert Agreement.objects.filter(slug="kr-jp-gsomia").exists()
    assert Agreement.objects.exclude(slug="kr-jp-gsomia").count() >= 5


def test_the_demo_includes_a_legislatures_consent(demo):
    assert Event.objects.filter(kind="legislative-consent", status="occurred").exists()


def test_every_demo_event_cites_a_supporting_source(demo):
    assert not Event.objects.exclude(citations__stance="supports").exists()


def test_gsomia_starts_from_the_seed_report(demo):
    gsomia = Agreement.objects.get(slug="kr-jp-gsomia")
    cabinet = gsomia.events.with_first_reported().get(kind="cabinet-approval", lane="KR", date_start=date(2012, 6, 26))
    assert cabinet.first_reported == date(2012, 6, 27)
    assert cabinet.citations.filter(source__key="yonhap-2012-06-27-gsomia-3ld").exists()
    called_off = gsomia.events.get(kind="signature", date_start=date(2012, 6, 29))
    assert called_off.status == "postponed"
    assert called_off.resolved_by.date_start == date(2016, 11, 23)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2011, 6, 1), ("negotiating", "none")),
        (date(2012, 7, 1), ("initialled", "none")),
        (date(2016, 10, 31), ("negotiating", "none")),
        (date(2016, 11, 14), ("initialled", "none")),
        (date(2016, 11, 23), ("in-force", "none")),
        (date(2019, 8, 23), ("in-force", "pending")),
        (date(2019, 11, 22), ("in-force", "suspended")),
        (date(2023, 3, 21), ("in-force", "none")),
    ],
)
def test_gsomia_follows_its_documented_path(demo, day, expected):
    assert Agreement.objects.get(slug="kr-jp-gsomia").compute_status(as_of=day) == expected


def test_demo_users_are_refused_without_debug(demo):
    with pytest.raises(CommandError, match="only with DEBUG"):
        call_command("load_demo", "--users", stdout=io.StringIO())


@override_settings(DEBUG=True)
def test_demo_users_get_one_account_per_role(demo):
    out = io.StringIO()
    call_command("load_demo", "--users", stdout=out)
    for role in ("analyst", "editor", "admin"):
        user = get_user_model().objects.get(username=role)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.check_password(f"{role}-demo")
        assert f"{role} / {role}-demo" in out.getvalue()
    assert get_user_model().objects.get(username="admin").is_staff


def test_every_demo_timeline_renders_one_time_element_per_dated_event(demo, client, analyst):
    client.force_login(analyst)
    for agreement in Agreement.objects.all():
        content = client.get(agreement.get_absolute_url()).content.decode()
        lanes = content[content.index('<ol class="lanes"') : content.index("</ol>", content.index('<ol class="lanes"'))]
        dated = agreement.events.filter(date_start__isnull=False).count()
        assert lanes.count("<time datetime=") == dated, agreement.slug
        assert lanes.count('<li id="event-') == agreement.events.count(), agreement.slug
