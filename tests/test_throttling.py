"""Sign-in throttling (django-axes, pacts/throttling.py): real POSTs to the sign-in page."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pacts.throttling import client_address

LOGIN = "/accounts/login/"


@pytest.fixture
def alice(make_user):
    return make_user("analyst", username="alice")


def sign_in(client, password, username="alice", forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(LOGIN, {"username": username, "password": password}, headers=headers)


def signed_in(client):
    return "_auth_user_id" in client.session


def fail(client, times, username="alice", forwarded=None):
    return [sign_in(client, "wrong", username, forwarded).status_code for _ in range(times)]


def wait(minutes):
    """Move every recorded failure into the past, as if that much time had passed."""
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=minutes))


def test_five_wrong_passwords_lock_the_username_and_address(client, alice):
    assert fail(client, 4) == [200] * 4  # the form again, with its error
    fifth = sign_in(client, "wrong")
    assert fifth.status_code == 429
    response = sign_in(client, "pw")
    assert response.status_code == 429
    assert not signed_in(client)
    page = response.content.decode()
    assert "Too many failed sign-ins" in page
    assert "Try again in 15 minutes" in page
    assert "ask an admin to unlock" in page
    assert response["Retry-After"] == "900"
    assert '<link rel="stylesheet"' in page  # the styled page, not a bare message


def test_a_lockout_leaves_other_addresses_and_other_users_alone(client, alice, make_user):
    make_user("analyst", username="bob")
    fail(client, 5)
    assert sign_in(client, "pw").status_code == 429

    elsewhere = Client(REMOTE_ADDR="198.51.100.20")
    assert sign_in(elsewhere, "pw").status_code == 302
    assert signed_in(elsewhere)

    assert sign_in(client, "pw", username="bob").status_code == 302


def test_the_admin_sign_in_counts_too(client, alice):
    for _ in range(5):
        client.post("/admin/login/", {"username": "alice", "password": "wrong"})
    assert sign_in(client, "pw").status_code == 429


def test_the_lockout_ends_after_the_cool_off(client, alice):
    fail(client, 5)
    wait(minutes=14)
    assert sign_in(client, "pw").status_code == 429  # and this attempt starts the wait again
    wait(minutes=16)
    response = sign_in(client, "pw")
    assert response.status_code == 302
    assert signed_in(client)


def test_a_correct_password_clears_the_count(client, alice):
    fail(client, 4)
    assert sign_in(client, "pw").status_code == 302
    assert not AccessAttempt.objects.exists()
    client.post(reverse("logout"))
    assert fail(client, 4) == [200] * 4
    assert sign_in(client, "pw").status_code == 302


def test_an_admin_unlocks_a_locked_out_user(client, alice, admin_user):
    fail(client, 5)
    attempt = AccessAttempt.objects.get(username="alice")
    admin = Client()
    admin.force_login(admin_user)
    listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert "alice" in listing.content.decode()

    response = admin.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert sign_in(client, "pw").status_code == 302


def test_editors_cannot_unlock(client, alice, editor):
    fail(client, 5)
    attempt = AccessAttempt.objects.get(username="alice")
    client.force_login(editor)
    response = client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(client, alice, settings):
    settings.PACTS_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    fail(Client(**proxy), 5, forwarded="203.0.113.7")

    # Whatever the client puts in front, the proxy's own entry decides.
    assert sign_in(Client(**proxy), "pw", forwarded="198.51.100.9, 203.0.113.7").status_code == 429
    # Another client behind the same proxy is not locked out, nor one claiming the locked address.
    assert sign_in(Client(**proxy), "pw", forwarded="198.51.100.9").status_code == 302
    assert sign_in(Client(**proxy), "pw", forwarded="203.0.113.7, 198.51.100.10").status_code == 302


def test_without_a_proxy_the_forwarded_header_is_ignored(client, alice, settings):
    settings.PACTS_PROXY_COUNT = 0
    fail(client, 5, forwarded="203.0.113.7")
    assert sign_in(client, "pw", forwarded="198.51.100.9").status_code == 429


@pytest.mark.parametrize(
    ("proxies", "forwarded", "address"),
    [
        (0, "203.0.113.7", "192.0.2.1"),
        (1, "", "192.0.2.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.9 , 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.9, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "192.0.2.1"),  # fewer entries than proxies: a misconfiguration, trust the connection
        (1, "not-an-address", "192.0.2.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address(rf, settings, proxies, forwarded, address):
    settings.PACTS_PROXY_COUNT = proxies
    request = rf.post(LOGIN, REMOTE_ADDR="192.0.2.1", headers={"X-Forwarded-For": forwarded} if forwarded else {})
    assert client_address(request) == address
