"""The authorization matrix: who may use which URL, with which method (PRODUCT.md section 4).

One row per URL pattern, keyed by its route string as the resolver walk in
tests/test_authorization.py spells it (admin routes carry their "admin/" prefix).
A row holds:

    "kwargs":  the name of a builder in KWARGS (tests/test_authorization.py) that makes
               the pattern's kwargs from the GSOMIA fixture, or None for a pattern without any;
    "GET", "POST": the expected status per role.

The roles are the columns of ROLES. An expected status is an int, or a pair
(PACTS_PUBLIC_READ off, PACTS_PUBLIC_READ on) when the setting matters. "token" is a
request without a session that carries an analyst's feed token as `?token=`.

A row may instead be {"skip": "reason"} for a pattern whose kwargs cannot be built.

Statuses of allowed requests are those of the app with an empty or minimal POST body
(an editor's empty form answers 422, an invalid filter 400); what the matrix is about
is denied (302 to sign-in, 403, 405) versus anything else.
"""

ROLES = ("anonymous", "analyst", "editor", "admin", "token")

# Shorthands for a role -> status mapping.
SIGN_IN = "sign-in"  # a 302 to a sign-in page (for htmx requests, 401 with HX-Redirect to it)


def everyone(status):
    """The same answer for every role, whatever the setting (e.g. 405, or a public page)."""
    return dict.fromkeys(ROLES, status)


def reader(status=200):
    """Reading: signed-in users with a role; anonymous visitors (and a token, which opens no HTML page,
    so counts as anonymous) only when public reading is on."""
    return {
        "anonymous": (SIGN_IN, status),
        "analyst": status,
        "editor": status,
        "admin": status,
        "token": (SIGN_IN, status),
    }


def feed(status=200):
    """Feeds and calendars: like reading, and an analyst's token opens them whatever the setting."""
    return {**reader(status), "token": status}


def editor(status):
    """Writing (and the editor's tools): editors and admins; never anonymous visitors, whatever the setting."""
    return {"anonymous": SIGN_IN, "analyst": 403, "editor": status, "admin": status, "token": SIGN_IN}


def signed_in(status):
    """Any signed-in user (their own profile and password); a token is no sign-in."""
    return {"anonymous": SIGN_IN, "analyst": status, "editor": status, "admin": status, "token": SIGN_IN}


def staff(status):
    """The Django admin: only the admin role (is_staff follows it); everyone else is sent to the admin's sign-in."""
    return {"anonymous": SIGN_IN, "analyst": SIGN_IN, "editor": SIGN_IN, "admin": status, "token": SIGN_IN}


def admin_only(status):
    """The admin role's own tools outside the Django admin: editors and analysts are refused."""
    return {"anonymous": SIGN_IN, "analyst": 403, "editor": 403, "admin": status, "token": SIGN_IN}


NO = everyone(405)  # the method is not allowed, before any authorization check

MATRIX = {
    # Browse
    "": {"kwargs": None, "GET": reader(), "POST": NO},
    "agreements/": {"kwargs": None, "GET": reader(), "POST": NO},
    "agreements/<slug:slug>/": {"kwargs": "agreement", "GET": reader(), "POST": NO},
    "agreements/<slug:slug>/events/<int:pk>/citations/": {"kwargs": "event", "GET": reader(), "POST": NO},
    "export/agreements.json": {"kwargs": None, "GET": reader(), "POST": NO},
    "export/events.csv": {"kwargs": None, "GET": reader(), "POST": NO},
    "expectations/": {"kwargs": None, "GET": reader(), "POST": NO},
    "parties/<str:code>/": {"kwargs": "party", "GET": reader(), "POST": NO},
    "network/": {"kwargs": None, "GET": reader(), "POST": NO},
    "sources/": {"kwargs": None, "GET": reader(), "POST": NO},
    "sources/<slug:key>/": {"kwargs": "source", "GET": reader(), "POST": NO},
    # Editing
    "agreements/new/": {"kwargs": None, "GET": editor(200), "POST": editor(422)},
    "agreements/<slug:slug>/edit/": {"kwargs": "agreement", "GET": editor(200), "POST": editor(422)},
    # History always needs sign-in, even with public reading; restoring is the admin's (the event's latest version).
    "agreements/<slug:slug>/history/": {"kwargs": "agreement", "GET": editor(200), "POST": NO},
    "agreements/<slug:slug>/history/<str:record>/<int:history_id>/restore/": {
        "kwargs": "history_entry",
        "GET": NO,
        "POST": admin_only(302),
    },
    "agreements/<slug:slug>/events/new/": {"kwargs": "agreement", "GET": editor(200), "POST": editor(422)},
    "agreements/<slug:slug>/events/<int:pk>/edit/": {"kwargs": "event", "GET": editor(200), "POST": editor(422)},
    "agreements/<slug:slug>/events/<int:pk>/delete/": {"kwargs": "event", "GET": editor(200), "POST": editor(302)},
    "agreements/<slug:slug>/events/<int:pk>/met/": {"kwargs": "event", "GET": NO, "POST": editor(422)},
    "agreements/<slug:slug>/events/<int:pk>/postpone/": {"kwargs": "event", "GET": editor(422), "POST": editor(422)},
    "agreements/<slug:slug>/events/<int:pk>/citations/new/": {
        "kwargs": "event",
        "GET": editor(200),
        "POST": editor(422),
    },
    "agreements/<slug:slug>/events/<int:pk>/citations/<int:citation_pk>/delete/": {
        "kwargs": "citation",
        "GET": NO,
        "POST": editor(302),
    },
    "sources/search/": {"kwargs": None, "GET": editor(200), "POST": NO},
    "sources/<slug:key>/edit/": {"kwargs": "source", "GET": editor(200), "POST": editor(422)},
    "sources/<slug:key>/merge/": {"kwargs": "source", "GET": admin_only(200), "POST": admin_only(422)},
    "sources/<slug:key>/versions/": {"kwargs": "source", "GET": admin_only(200), "POST": admin_only(422)},
    "worklist/": {"kwargs": None, "GET": editor(200), "POST": NO},
    # Feeds and calendars
    "feeds/latest.atom": {"kwargs": None, "GET": feed(), "POST": NO},
    "feeds/latest.rss": {"kwargs": None, "GET": feed(), "POST": NO},
    "agreements/feed.atom": {"kwargs": None, "GET": feed(), "POST": NO},
    "agreements/<slug:slug>/feed.atom": {"kwargs": "agreement", "GET": feed(), "POST": NO},
    "agreements/<slug:slug>/calendar.ics": {"kwargs": "agreement", "GET": feed(), "POST": NO},
    "parties/<str:code>/feed.atom": {"kwargs": "party", "GET": feed(), "POST": NO},
    # Accounts
    "accounts/profile/": {"kwargs": None, "GET": signed_in(200), "POST": signed_in(400)},
    "accounts/password/": {"kwargs": None, "GET": signed_in(200), "POST": signed_in(200)},
    "accounts/password/done/": {"kwargs": None, "GET": signed_in(200), "POST": signed_in(405)},
    "accounts/login/": {"kwargs": None, "GET": everyone(200), "POST": everyone(200)},
    # Signing out ends on the sign-in page (LOGOUT_REDIRECT_URL), which the test cannot tell from a refusal.
    "accounts/logout/": {"kwargs": None, "GET": NO, "POST": everyone(SIGN_IN)},
    # Plumbing
    "healthz": {"kwargs": None, "GET": everyone(200), "POST": NO},
    "favicon.ico": {"kwargs": None, "GET": everyone(301), "POST": everyone(301)},
    # The Django admin: a few site-wide views, then the same views for every registered model.
    # Django's admin index, history and login views answer any method; a POST there writes nothing.
    "admin/": {"kwargs": None, "GET": staff(200), "POST": staff(200)},
    "admin/login/": {
        "kwargs": None,
        # Signed-in users without is_staff see the form with "you are not authorised"; an admin is sent on.
        "GET": {**everyone(200), "admin": 302},
        "POST": everyone(200),
    },
    # The admin sends non-staff users who ask to sign out to its index (which then asks them to sign in);
    # an admin signing out ends on the sign-in page (LOGOUT_REDIRECT_URL).
    "admin/logout/": {
        "kwargs": None,
        "GET": {**everyone(302), "admin": 405},
        "POST": {**everyone(302), "admin": SIGN_IN},
    },
    "admin/password_change/": {"kwargs": None, "GET": staff(200), "POST": staff(200)},
    "admin/password_change/done/": {"kwargs": None, "GET": staff(200), "POST": staff(405)},
    "admin/autocomplete/": {"kwargs": None, "GET": staff(403), "POST": staff(405)},
    "admin/jsi18n/": {"kwargs": None, "GET": staff(200), "POST": staff(405)},
    "admin/r/<path:content_type_id>/<path:object_id>/": {
        "kwargs": "view_on_site",
        "GET": staff(302),
        "POST": staff(302),
    },
    "admin/^(?P<app_label>auth|axes|pacts)/$": {"kwargs": "app_label", "GET": staff(200), "POST": staff(200)},
    "admin/(?P<url>.*)$": {"kwargs": "catch_all", "GET": staff(404), "POST": staff(404)},
    "admin/auth/user/<id>/password/": {"kwargs": "user_id", "GET": staff(200), "POST": staff(200)},
}

# The models the admin shows, as (app_label, model_name, has simple-history views).
ADMIN_MODELS = [
    ("auth", "group", False),
    ("auth", "user", False),
    ("pacts", "party", False),
    ("pacts", "agreement", True),
    ("pacts", "event", True),
    ("pacts", "alias", True),
    ("pacts", "relation", True),
    ("pacts", "publisher", True),
    ("pacts", "source", True),
    ("pacts", "citation", True),
    # django-axes: sign-in throttling records; admins unlock by deleting an access attempt.
    ("axes", "accessattempt", False),
    ("axes", "accesslog", False),
    ("axes", "accessfailurelog", False),
]

# Per model: route suffix -> (GET for the admin role, POST for the admin role); all other roles get staff().
# Empty POST bodies never delete (the admin needs the confirmation field) and never validate.
ADMIN_MODEL_VIEWS = {
    "": (200, 200),  # changelist
    "add/": (200, 200),
    "<path:object_id>/history/": (200, 200),
    "<path:object_id>/delete/": (200, 200),
    "<path:object_id>/change/": (200, 200),
    "<path:object_id>/": (302, 302),  # the old change URL, redirected
    "^([^/]+)/history/([^/]+)/$": (200, 200),  # simple-history: one historical version, with "revert"
}
# Admin answers that differ from ADMIN_MODEL_VIEWS, per (model, suffix).
ADMIN_EXCEPTIONS = {
    # Parties are read-only in the admin (created by a migration): no add, change or delete.
    ("party", "add/"): (403, 403),
    ("party", "<path:object_id>/delete/"): (403, 403),
    ("party", "<path:object_id>/change/"): (200, 403),
    # Axes records are written by sign-ins only: the admin role may view them and delete attempts (unlock).
    **{(model, "add/"): (403, 403) for model in ("accessattempt", "accesslog", "accessfailurelog")},
    **{(model, "<path:object_id>/change/"): (200, 403) for model in ("accessattempt", "accesslog", "accessfailurelog")},
    **{(model, "<path:object_id>/delete/"): (403, 403) for model in ("accesslog", "accessfailurelog")},
}

for app_label, model_name, has_history in ADMIN_MODELS:
    for suffix, (get, post) in ADMIN_MODEL_VIEWS.items():
        if suffix.startswith("^") and not has_history:
            continue
        get, post = ADMIN_EXCEPTIONS.get((model_name, suffix), (get, post))
        MATRIX[f"admin/{app_label}/{model_name}/{suffix}"] = {
            "kwargs": f"admin:{model_name}",
            "GET": staff(get),
            "POST": staff(post),
        }

# Cases where the app does not do what PRODUCT.md section 4 requires. MATRIX holds the
# required answer; the test tolerates these mismatches (and insists they still mismatch,
# so that an entry is removed once the app is fixed). Entries: (route, method, role, public_read).
# Empty: the one defect this found (four feeds accepting POST) is fixed.
KNOWN_DEFECTS = set()
