"""Secure by default (PRODUCT.md section 7): the deployment check, the headers and cookies a
browser gets in production, and htmx without eval."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
YEAR = 365 * 24 * 60 * 60


def production_environment(**overrides):
    """The environment of a production app server: pacts.settings itself, not the test settings."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "PACTS_"))}
    environment.pop("DEBUG", None)
    environment.update(
        DJANGO_SETTINGS_MODULE="pacts.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="pacts.example.org",
        DATABASE_URL=os.environ["DATABASE_URL"],
        **overrides,
    )
    return environment


def run_in_production(*args, **overrides):
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=production_environment(**overrides),
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_deployment_check_finds_nothing_in_production():
    result = run_in_production("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_the_deployment_check_would_notice_a_weakened_setting():
    result = run_in_production("manage.py", "check", "--deploy", "--fail-level", "WARNING", SECURE_SSL_REDIRECT="0")
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


def test_only_production_trusts_the_forwarded_address():
    script = "import pacts.settings as s; print(s.PACTS_PROXY_COUNT)"
    assert run_in_production("-c", script).stdout.split() == ["1"]
    assert run_in_production("-c", script, PACTS_PROXY_COUNT="2").stdout.split() == ["2"]
    assert run_in_production("-c", script, DEBUG="1", PACTS_PROXY_COUNT="2").stdout.split() == ["0"]


# Requests as the reverse proxy forwards them: the browser's Host, and TLS ended at the proxy, which says so.
HTTPS = {"Host": "testserver", "X-Forwarded-Proto": "https"}


@pytest.fixture
def production(settings):
    """The test settings are the production ones except for the redirect to HTTPS; put it back."""
    assert not settings.DEBUG
    settings.SECURE_SSL_REDIRECT = True
    return settings


def policy(response):
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = (part.split() for part in response["Content-Security-Policy"].split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def test_plain_http_is_sent_to_https(production, db):
    response = Client().get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"


@pytest.mark.parametrize("signed_in", [False, True], ids=["sign-in page", "agreement list"])
def test_pages_carry_the_security_headers(production, client, analyst, signed_in):
    if signed_in:
        client.force_login(analyst)
    response = client.get("/agreements/" if signed_in else "/accounts/login/", headers=HTTPS)
    assert response.status_code == 200

    hsts = dict(re.findall(r"(\w[\w-]*)(?:=(\d+))?", response["Strict-Transport-Security"]))
    assert int(hsts["max-age"]) >= YEAR
    assert {"includeSubDomains", "preload"} <= hsts.keys()
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"

    csp = policy(response)
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    # Scripts only from the site's own files: no inline script, no nonce that would allow one.
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert "nonce" not in response["Content-Security-Policy"]

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", response.content.decode(), re.S)
    assert len(scripts) >= 2  # htmx and pacts.js
    assert all(re.search(r'\bsrc="/static/[^"]+\.js"', attributes) and not body.strip() for attributes, body in scripts)


@pytest.fixture
def alice_password(make_user):
    make_user("analyst", username="alice")
    return "pw"


def test_cookies_are_secure_and_out_of_scripts_reach(production, alice_password):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/accounts/login/", headers=HTTPS)
    csrf = page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["secure"]
    assert csrf["httponly"]
    assert csrf["samesite"] == "Lax"

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = browser.post(
        "/accounts/login/",
        {"username": "alice", "password": alice_password, "csrfmiddlewaretoken": token},
        headers={**HTTPS, "Origin": "https://testserver"},
    )
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    assert session["max-age"] == settings.SESSION_COOKIE_AGE


def htmx_config(response):
    content = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", response.content.decode())[1]
    return json.loads(content)


def test_htmx_runs_no_code_from_pages(reader):
    config = htmx_config(reader.get("/agreements/"))
    assert config["allowEval"] is False  # also turns off hx-on and js: values
    assert config["allowScriptTags"] is False
    assert config["historyCacheSize"] == 0  # no snapshots of pages in localStorage
    assert config["includeIndicatorStyles"] is False  # an inline style the CSP would refuse
    assert config.get("selfRequestsOnly", True) is True


TEMPLATE_DIRS = [ROOT / "templates", *(ROOT / "pacts").glob("**/templates")]
# What allowEval: false switches off, so a template relying on it would break silently.
EVAL_ONLY = [
    (re.compile(r"\b(?:data-)?hx-on\b"), "hx-on"),
    (re.compile(r"\b(?:data-)?hx-vars\b"), "hx-vars"),
    (re.compile(r"""=\s*(['"])\s*(?:js|javascript):""", re.IGNORECASE), "a js: or javascript: value"),
]


def test_templates_need_no_eval():
    templates = [path for directory in TEMPLATE_DIRS for path in directory.glob("**/*.html")]
    assert len(templates) > 10
    found = [
        f"{path.relative_to(ROOT)}:{number}: {what}"
        for path in templates
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for pattern, what in EVAL_ONLY
        if pattern.search(line)
    ]
    assert not found, found
