"""The authorization matrix (tests/authorization.py) against every URL pattern of the URLconf.

Every pattern × role (anonymous, analyst, editor, admin, an analyst's feed token) × GET/POST ×
PACTS_PUBLIC_READ off/on is requested and its status compared with the table. Each test
function covers one role and one setting and reports all its mismatches at once.

Each request runs in a savepoint that is rolled back, so an allowed write (an editor
deleting an event) cannot change what the next request sees, and a denied write is
checked to change nothing. The Django test client skips CSRF checks unless asked
(enforce_csrf_checks=False by default), so POSTs need no token: what is tested is the
views' own authorization, not the CSRF middleware.
"""

import re
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from pacts.models import Agreement, FeedToken, Relation
from pacts.roles import ADMIN, ANALYST, EDITOR
from tests.authorization import KNOWN_DEFECTS, MATRIX, ROLES, SIGN_IN, feed
from tests.conftest import HTMX

PUBLIC_READ = {False: "private", True: "public"}


def walk(patterns, prefix=""):
    """Every (route string, pattern) of the URLconf, nested resolvers (the admin) included."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield prefix + str(pattern.pattern), pattern


def routes():
    return [route for route, _ in walk(get_resolver().url_patterns)]


def test_every_pattern_has_a_row():
    found = routes()
    assert len(found) == len(set(found)), "two patterns share a route string"
    missing = [route for route in found if route not in MATRIX]
    stale = [route for route in MATRIX if route not in found]
    assert not missing, f"URL patterns without a row in tests/authorization.py: {missing}"
    assert not stale, f"rows in tests/authorization.py for no URL pattern: {stale}"


# Kwargs builders named by the table's "kwargs"; each takes the data namespace.
def _admin_object(model_name):
    def build(data):
        obj = getattr(data, model_name)
        kwargs = {"object_id": obj.pk}
        if hasattr(obj, "history"):
            kwargs["_args"] = (obj.pk, obj.history.first().history_id)
        return kwargs

    return build


KWARGS = {
    None: lambda data: {},
    "agreement": lambda data: {"slug": data.agreement.slug},
    "event": lambda data: {"slug": data.agreement.slug, "pk": data.event.pk},
    "citation": lambda data: {"slug": data.agreement.slug, "pk": data.event.pk, "citation_pk": data.citation.pk},
    "history_entry": lambda data: {
        "slug": data.agreement.slug,
        "record": "event",
        "history_id": data.event.history.first().history_id,
    },
    "party": lambda data: {"code": "KR"},
    "source": lambda data: {"key": data.source.key},
    "view_on_site": lambda data: {
        "content_type_id": ContentType.objects.get_for_model(Agreement).pk,
        "object_id": data.agreement.pk,
    },
    "app_label": lambda data: {"app_label": "pacts"},
    "catch_all": lambda data: {"url": "no-such-page/"},
    "user_id": lambda data: {"id": data.user.pk},
    **{
        f"admin:{name}": _admin_object(name)
        for name in ("group", "user", "party", "agreement", "event", "alias", "relation", "publisher", "source")
    },
    "admin:citation": _admin_object("citation"),
    **{f"admin:{name}": _admin_object(name) for name in ("accessattempt", "accesslog", "accessfailurelog")},
}


def url_for(route, kwargs):
    """Fill a route string with kwargs (path converters, named and positional regex groups)."""
    args = iter(kwargs.get("_args", ()))
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m[1]]), route)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m[1]]), url)
    url = re.sub(r"\(\[\^/\]\+\)", lambda m: str(next(args)), url)
    return "/" + url.replace("^", "").replace("$", "")


@pytest.fixture
def data(gsomia, make_user):
    """GSOMIA and one user per role, an analyst's feed token, and an object of each admin model."""
    users = {role: make_user(role) for role in (ANALYST, EDITOR, ADMIN)}
    event = gsomia.events.filter(citations__isnull=False).first()
    citation = event.citations.first()
    return SimpleNamespace(
        agreement=gsomia,
        event=event,
        citation=citation,
        source=citation.source,
        publisher=citation.source.publisher,
        alias=gsomia.aliases.first(),
        relation=Relation.objects.filter(agreement=gsomia).first() or Relation.objects.first(),
        party=gsomia.party_a,
        group=Group.objects.get(name=ANALYST),
        user=users[ANALYST],
        users=users,
        token=FeedToken.objects.issue(users[ANALYST]),
        **sign_in_records(),
    )


def sign_in_records():
    """One record of each kind django-axes keeps, for its admin pages."""
    record = {"username": "someone", "ip_address": "203.0.113.7", "user_agent": "test", "http_accept": "*/*"}
    return {
        "accessattempt": AccessAttempt.objects.create(
            **record, path_info="/accounts/login/", get_data="", post_data="", failures_since_start=1
        ),
        "accesslog": AccessLog.objects.create(**record, path_info="/accounts/login/"),
        "accessfailurelog": AccessFailureLog.objects.create(**record, path_info="/accounts/login/"),
    }


# Every table a write could touch: the domain, history, users and tokens, counted in one query.
WATCHED = [
    *(
        model
        for model in apps.get_app_config("pacts").get_models()
        if model.__name__.startswith("Historical")
        or model.__name__ in {"Agreement", "Event", "Citation", "Source", "Alias", "Relation", "Publisher", "Party"}
    ),
    FeedToken,
    apps.get_model("auth", "User"),
    Group,
]


def counts():
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f'(SELECT count(*) FROM "{m._meta.db_table}")' for m in WATCHED))
        return dict(zip((m.__name__ for m in WATCHED), cursor.fetchone(), strict=True))


SIGN_IN_PATHS = (resolve_url(django_settings.LOGIN_URL), "/admin/login/")


def outcome(response):
    """The response as the table spells it: "sign-in" for a redirect to a sign-in page (or htmx's 401 with
    HX-Redirect to one), else the status code."""
    if response.status_code in (301, 302) and response["Location"].startswith(SIGN_IN_PATHS):
        return SIGN_IN
    if response.status_code == 401 and response.get("HX-Redirect", "").startswith(SIGN_IN_PATHS):
        return SIGN_IN
    return response.status_code


def kind(result):
    """Allowed or which denial: what an HX-Request header must never change."""
    return result if result in (SIGN_IN, 403, 405) else "allowed"


def expected_status(route, method, role, public_read):
    expected = MATRIX[route][method][role]
    return expected[public_read] if isinstance(expected, tuple) else expected


def denied(status):
    return status in (SIGN_IN, 401, 403, 405)


class Requester:
    """Sends one request for a role and reports its outcome, in a savepoint that is rolled back."""

    def __init__(self, role, data):
        self.role = role
        self.data = data
        self.client = Client()  # enforce_csrf_checks=False: CSRF is not what is tested here
        if role in (ANALYST, EDITOR, ADMIN):
            self.client.force_login(data.users[role])
        self.cookies = self.client.cookies.output()

    def url(self, route):
        url = url_for(route, KWARGS[MATRIX[route]["kwargs"]](self.data))
        if self.role == "token":
            url += f"?token={self.data.token}"
        return url

    def send(self, route, method, headers=None):
        """(outcome, the counts of WATCHED changed by the request)."""
        url = self.url(route)
        with transaction.atomic():
            before = counts()
            response = getattr(self.client, method.lower())(url, headers=headers or {})
            after = counts()
            transaction.set_rollback(True)
        # Signing out (or the admin's sign-in) may have replaced the session cookie: restore it.
        self.client.cookies.clear()
        self.client.cookies.load(self.cookies.replace("Set-Cookie: ", "").replace("\r\n", "; "))
        changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
        return outcome(response), changed


def check_route(requester, route, method, public_read):
    """The problems of one cell of the matrix: wrong status, a denied write that wrote, htmx changing the outcome."""
    role = requester.role
    expected = expected_status(route, method, role, public_read)
    actual, changed = requester.send(route, method)
    problems = []
    if actual != expected:
        problems.append(f"{method} {route}: expected {expected}, got {actual}")
    if method == "POST" and denied(actual) and changed:
        problems.append(f"POST {route}: denied ({actual}) but changed {changed}")
    # The Django admin does not speak htmx; checking it again would double the time for nothing.
    if not route.startswith("admin/"):
        htmx, _ = requester.send(route, method, headers=HTMX)
        if kind(htmx) != kind(actual):
            problems.append(f"{method} {route}: HX-Request changes the outcome from {actual} to {htmx}")
    return problems


def cells():
    """(route, method) for every row of the table that is not skipped, in URLconf order."""
    return [(route, method) for route in routes() if "skip" not in MATRIX[route] for method in ("GET", "POST")]


@pytest.mark.parametrize("role", ROLES)
def test_matrix(role, data, settings):
    """Every cell for one role, with public reading off and on; all mismatches are reported together."""
    mismatches = []
    for public_read in (False, True):
        settings.PACTS_PUBLIC_READ = public_read
        requester = Requester(role, data)
        for route, method in cells():
            if (route, method, role, public_read) in KNOWN_DEFECTS:
                continue  # test_known_defects_still_present checks these
            problems = check_route(requester, route, method, public_read)
            mismatches.extend(f"[{PUBLIC_READ[public_read]} reading] {problem}" for problem in problems)
    assert not mismatches, f"{len(mismatches)} mismatches for {role}:\n" + "\n".join(mismatches)


def test_known_defects_still_present(data, settings):
    """Each KNOWN_DEFECTS entry still differs from the table; once the app is fixed, remove the entry."""
    fixed = []
    for defect in sorted(KNOWN_DEFECTS, key=repr):
        route, method, role, public_read = defect
        settings.PACTS_PUBLIC_READ = public_read
        actual, _ = Requester(role, data).send(route, method)
        if actual == expected_status(route, method, role, public_read):
            fixed.append(defect)
    assert not fixed, f"fixed, so remove from KNOWN_DEFECTS: {fixed}"


def test_urls_resolve_to_their_pattern(data):
    """The kwargs built for each row reach that row's pattern (not an earlier one that also matches)."""
    requester = Requester("anonymous", data)
    wrong = {}
    for route in routes():
        if "skip" in MATRIX[route]:
            continue
        match = resolve(requester.url(route))
        if match.route.replace("^", "") != route.replace("^", ""):
            wrong[route] = match.route
    assert not wrong


def test_bad_token_refused_on_feeds(data, settings):
    """A wrong token is refused (403) on every feed and calendar, even with public reading on."""
    feeds = [route for route in routes() if MATRIX[route].get("GET") == feed()]
    assert len(feeds) == 6
    anonymous = Requester("anonymous", data)
    refused = {}
    for public_read in (False, True):
        settings.PACTS_PUBLIC_READ = public_read
        for route in feeds:
            response = anonymous.client.get(anonymous.url(route), {"token": "not-a-token"})
            refused[route, public_read] = response.status_code
    assert set(refused.values()) == {403}, refused
