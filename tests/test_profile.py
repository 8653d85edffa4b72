"""The profile page and feed tokens: shown once, regenerated, revoked; they open feeds and calendars, nothing else."""

import re

import pytest
from django.urls import reverse

from pacts.models import FeedToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, analyst):
    client.force_login(analyst)
    return client


def new_token(client):
    """Ask the profile page for a new token and read it from the page, as a person would copy it."""
    response = client.post(reverse("profile"), {"action": "issue"})
    assert response.status_code == 200
    return re.search(r'<code class="secret">([\w-]+)</code>', response.content.decode())[1]


def test_the_profile_needs_sign_in(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_profile_links_to_the_password_change(signed_in):
    content = signed_in.get(reverse("profile")).content.decode()
    assert f'href="{reverse("password_change")}"' in content
    assert "You have no feed token." in content


def test_the_password_change_works(client, analyst):
    client.force_login(analyst)
    response = client.post(
        reverse("password_change"),
        {"old_password": "pw", "new_password1": "a-longer pass phrase", "new_password2": "a-longer pass phrase"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    analyst.refresh_from_db()
    assert analyst.check_password("a-longer pass phrase")


def test_a_new_token_is_shown_once_and_stored_hashed(signed_in, analyst):
    secret = new_token(signed_in)
    stored = FeedToken.objects.get(user=analyst)
    assert stored.token_hash != secret
    assert stored.token_hash == FeedToken.hash(secret)
    later = signed_in.get(reverse("profile")).content.decode()
    assert secret not in later
    assert "You have a token, created" in later


def test_the_page_showing_a_token_is_never_cached(signed_in):
    response = signed_in.post(reverse("profile"), {"action": "issue"})
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_a_new_token_replaces_the_old_one(client, signed_in, gsomia):
    old = new_token(signed_in)
    new = new_token(signed_in)
    client.logout()
    assert client.get(reverse("latest-atom"), {"token": old}).status_code == 403
    assert client.get(reverse("latest-atom"), {"token": new}).status_code == 200


def test_a_revoked_token_is_refused(client, signed_in, analyst, gsomia):
    secret = new_token(signed_in)
    response = signed_in.post(reverse("profile"), {"action": "revoke"})
    assert "You have no feed token." in response.content.decode()
    assert not FeedToken.objects.filter(user=analyst).exists()
    client.logout()
    assert client.get(reverse("latest-atom"), {"token": secret}).status_code == 403


def test_an_unknown_action_is_refused(signed_in):
    assert signed_in.post(reverse("profile"), {"action": "steal"}).status_code == 400


@pytest.fixture
def token(analyst):
    return FeedToken.objects.issue(analyst)


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/latest.atom",
        "/feeds/latest.rss",
        "/agreements/kr-jp-gsomia/feed.atom",
        "/agreements/kr-jp-gsomia/calendar.ics",
        "/parties/KR/feed.atom",
        "/agreements/feed.atom?party=KR",
    ],
)
def test_a_token_opens_feeds_and_calendars_without_a_session(client, gsomia, token, url):
    separator = "&" if "?" in url else "?"
    response = client.get(f"{url}{separator}token={token}")
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("url", ["/agreements/", "/agreements/kr-jp-gsomia/", "/sources/", "/accounts/profile/"])
def test_a_token_does_not_open_pages(client, gsomia, token, url):
    response = client.get(url, {"token": token})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("secret", ["wrong", "", "x" * 500])
def test_a_bad_token_is_refused_even_with_public_reading(client, gsomia, settings, secret):
    settings.PACTS_PUBLIC_READ = True
    assert client.get(reverse("latest-atom")).status_code == 200
    for url in (reverse("latest-atom"), reverse("agreement-calendar", args=[gsomia.slug])):
        response = client.get(url, {"token": secret})
        assert response.status_code == 403
        assert "private" in response["Cache-Control"]


def test_a_token_of_a_user_without_a_role_or_inactive_is_refused(client, gsomia, make_user, analyst, token):
    roleless = FeedToken.objects.issue(make_user())
    assert client.get(reverse("latest-atom"), {"token": roleless}).status_code == 403
    analyst.is_active = False
    analyst.save()
    assert client.get(reverse("latest-atom"), {"token": token}).status_code == 403


def test_feed_responses_are_private_with_a_session_too(client, analyst, gsomia):
    client.force_login(analyst)
    for url in (reverse("latest-atom"), reverse("latest-rss"), reverse("agreement-calendar", args=[gsomia.slug])):
        assert "private" in client.get(url)["Cache-Control"]
