"""Sessions: a new key at sign-in, an end a working day later, and signing out ends them on the server."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

LOGIN = "/accounts/login/"
PRIVATE = "/accounts/profile/"


@pytest.fixture
def alice(make_user):
    return make_user("analyst", username="alice")


def sign_in(client):
    response = client.post(LOGIN, {"username": "alice", "password": "pw"})
    assert response.status_code == 302
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def is_signed_in(session_key):
    """Whether a browser presenting this session cookie is signed in."""
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return browser.get(PRIVATE).status_code == 200


def test_signing_in_replaces_the_session_key(client, alice):
    # A key the visitor had before signing in (one an attacker could have planted) is not the signed-in one.
    session = client.session
    session["seen"] = True
    session.save()
    planted = session.session_key

    signed_in = sign_in(client)
    assert signed_in != planted
    assert not Session.objects.filter(session_key=planted).exists()
    assert not is_signed_in(planted)
    assert is_signed_in(signed_in)


def test_a_session_lasts_a_working_day(client, alice):
    key = sign_in(client)
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 12 * 60 * 60
    expires = Session.objects.get(session_key=key).expire_date
    assert abs(expires - (timezone.now() + timedelta(hours=12))) < timedelta(minutes=5)

    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert not is_signed_in(key)


def test_signing_out_ends_the_session_on_the_server(client, alice):
    key = sign_in(client)
    assert is_signed_in(key)
    assert client.post(reverse("logout")).status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    # The old cookie, replayed from a copy, no longer signs anyone in.
    assert not is_signed_in(key)


def test_signing_out_takes_a_post(client, alice):
    key = sign_in(client)
    assert client.get(reverse("logout")).status_code == 405
    assert is_signed_in(key)
