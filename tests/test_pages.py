"""The first pages: the agreement list, the timeline, health and sign-in."""

import pytest
from django.db import DatabaseError
from django.test import override_settings
from django.urls import reverse

from tests.factories import AgreementFactory, CitationFactory, EventFactory

pytestmark = pytest.mark.django_db


def test_reading_needs_sign_in_when_public_reading_is_off(client, gsomia):
    for url in (reverse("agreement-list"), gsomia.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_an_expired_session_on_an_htmx_request_redirects_the_page(client, gsomia):
    response = client.get(gsomia.get_absolute_url(), headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(reverse("login"))


@override_settings(PACTS_PUBLIC_READ=True)
def test_anyone_reads_when_public_reading_is_on(client, gsomia):
    assert client.get(reverse("agreement-list")).status_code == 200
    assert client.get(gsomia.get_absolute_url()).status_code == 200


def test_a_signed_in_user_without_a_role_is_refused(client, make_user, gsomia):
    client.force_login(make_user())
    assert client.get(reverse("agreement-list")).status_code == 403


def test_the_list_shows_each_agreement_with_its_status(client, analyst, gsomia):
    client.force_login(analyst)
    response = client.get(reverse("agreement-list"))
    assert response.status_code == 200
    assert response.headers["Vary"].count("HX-Request") == 1
    content = response.content.decode()
    assert "Korea–Japan GSOMIA" in content
    assert "In force · termination notice given" in content
    assert "Korea–Japan ACSA" in content


def test_the_timeline_lists_events_in_date_order_with_their_dates(client, analyst, gsomia):
    client.force_login(analyst)
    content = client.get(gsomia.get_absolute_url()).content.decode()
    lanes = content[content.index('<ol class="lanes"') :]
    positions = [lanes.index(f'datetime="{day}') for day in ("2011", "2012-06", "2012-06-26", "2016-11-23")]
    assert positions == sorted(positions)
    assert "26 June 2012" in content
    assert '<span lang="ko" title="common Korean name" dir="auto">한일 군사정보보호협정</span>' in content
    assert "First reported 27 Jun 2012" in content


def test_the_timeline_escapes_user_text(client, analyst):
    agreement = AgreementFactory(title="<script>alert(1)</script>")
    EventFactory(agreement=agreement, summary='<img src=x onerror="alert(1)">')
    client.force_login(analyst)
    content = client.get(agreement.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in content
    assert "&lt;img src=x onerror=" in content


def test_an_unknown_agreement_is_404(client, analyst):
    client.force_login(analyst)
    assert client.get(reverse("timeline", args=["no-such-pact"])).status_code == 404


def test_the_list_runs_a_constant_number_of_queries(client, analyst, django_assert_num_queries):
    client.force_login(analyst)
    AgreementFactory.create_batch(3)
    with django_assert_num_queries(6):  # session, user, groups, data version, count, agreements
        client.get(reverse("agreement-list"))
    AgreementFactory.create_batch(30)  # a new data version: the page is drawn again
    with django_assert_num_queries(6):
        client.get(reverse("agreement-list"))


@pytest.mark.parametrize("events", [5, 50])
def test_the_timeline_runs_a_constant_number_of_queries(client, analyst, django_assert_num_queries, events):
    agreement = AgreementFactory()
    for day in range(events):
        CitationFactory(event=EventFactory(agreement=agreement, date=f"2012-06-{day % 28 + 1:02d}"))
    client.force_login(analyst)
    # session, user, groups, agreement, aliases, events, citations, sources, publishers
    with django_assert_num_queries(9):
        client.get(agreement.get_absolute_url())


def test_the_navigation_offers_editing_to_editors_only(client, analyst, editor):
    worklist, new = reverse("worklist"), reverse("agreement-new")
    pages = []
    for user in (editor, analyst, editor):  # each worker keeps the navigation per role: none leaks to another
        client.force_login(user)
        pages.append(client.get(reverse("dashboard")).content.decode())
    assert f'href="{worklist}"' in pages[0]
    assert f'href="{new}"' in pages[0]
    assert f'href="{worklist}"' not in pages[1]
    assert f'href="{new}"' not in pages[1]
    assert pages[2].count(f'href="{worklist}"') == 1
    assert f'href="{reverse("agreement-list")}"' in pages[1]


def test_healthz_answers_ok(client):
    response = client.get(reverse("healthz"))
    assert (response.status_code, response.content) == (200, b"ok\n")


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("pacts.views.health.connection.cursor", broken)
    assert client.get(reverse("healthz")).status_code == 503


def test_sign_in_and_out(client, analyst):
    response = client.post(reverse("login"), {"username": "analyst", "password": "pw"})
    assert response.status_code == 302
    assert client.get(reverse("agreement-list")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("agreement-list")).status_code == 302


def test_a_wrong_password_is_refused_with_a_message(client, analyst):
    response = client.post(reverse("login"), {"username": "analyst", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_error_pages_look_like_the_rest_of_the_site(client, analyst):
    client.force_login(analyst)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    content = response.content.decode()
    assert "Page not found" in content
    assert 'class="site-header"' in content


def test_the_500_page_renders_without_a_request_context(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_the_system_checks_pass():
    from django.core.management import call_command

    call_command("check", fail_level="WARNING")


def run_without_a_key(*args):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}}
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120)


def test_release_steps_run_without_the_secret_key():
    result = run_without_a_key("manage.py", "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr


def test_serving_refuses_to_start_without_the_secret_key():
    result = run_without_a_key("-c", "import pacts.wsgi")
    assert result.returncode != 0
    assert "Set SECRET_KEY in the environment before serving" in result.stderr
