"""Settings for Pacts, read from the environment.

DATABASE_URL    PostgreSQL in production and tests; unset means SQLite in the
                repository folder (the embedded demo that `make run` serves).
SECRET_KEY      required to serve unless DEBUG is on (release steps run without it).
DEBUG           "1"/"true" for development only.
ALLOWED_HOSTS   comma-separated host names.
PACTS_PUBLIC_READ  "1"/"true" lets anonymous visitors read (never write).
PACTS_PROXY_COUNT  reverse proxies in front of the app, each appending to
                X-Forwarded-For (1 unless set; ignored under DEBUG): sign-in
                throttling counts failures per client address.
DATABASE_REPLICA_URL  optional read replica: read-only requests read from it
                (pacts/replicas.py).
DATABASE_CONN_MAX_AGE  seconds a connection is kept between requests (60).
DATABASE_STATEMENT_TIMEOUT, DATABASE_LOCK_TIMEOUT  limits for web requests only
                (5s, 2s; 0 turns one off).
PACTS_PRIMARY_AFTER_WRITE_SECONDS  how long a writer reads from the primary (10).
REDIS_URL       optional cache shared by every app server.
LOG_LEVEL       INFO unless set; logs are JSON lines on stdout unless DEBUG.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_flag("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "insecure-development-key-never-use-in-production"
# Without DEBUG an unset key stays empty: commands that sign nothing (migrate,
# makemigrations) still run as release steps, and wsgi.py refuses to serve.

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")

PACTS_PUBLIC_READ = env_flag("PACTS_PUBLIC_READ")

# How often an open timeline asks whether anything changed.
PACTS_REFRESH_SECONDS = int(os.environ.get("PACTS_REFRESH_SECONDS", "15"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_countries",
    "django_filters",
    "django_htmx",
    "simple_history",
    "axes",
    "pacts",
]

MIDDLEWARE = [
    # First, so that its line reports the status and time of whatever answered (static files included).
    "pacts.logs.RequestLogMiddleware",
    "pacts.outage.OutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Reads the session, the user and what the view declares in one round trip to Redis.
    "pacts.caching.ReadAheadMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "pacts.conflicts.EditConflictMiddleware",
    # Last, as django-axes asks: it turns a sign-in refused for a locked-out client into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pacts.urls"
WSGI_APPLICATION = "pacts.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pacts.context_processors.pacts",
            ],
            "builtins": ["django_htmx.templatetags.django_htmx", "django.templatetags.static"],
        },
    },
]

# Web requests give up on a statement or a lock wait that takes too long and answer 503
# (pacts/outage.py) rather than tie up a worker; pacts/wsgi.py sets PACTS_WEB. Migrations,
# management commands and streamed exports (which lift it) take as long as they need.
PACTS_WEB = env_flag("PACTS_WEB")
DATABASE_TIMEOUTS = {
    "statement_timeout": os.environ.get("DATABASE_STATEMENT_TIMEOUT", "5s"),
    "lock_timeout": os.environ.get("DATABASE_LOCK_TIMEOUT", "2s"),
}
for name, value in DATABASE_TIMEOUTS.items():
    if not re.fullmatch(r"\d+(ms|s|min)?", value):
        raise ImproperlyConfigured(f"DATABASE_{name.upper()} must be like 5s, 500ms or 0 (off), not {value!r}.")


def postgresql(url):
    """A database from its URL: persistent connections checked before reuse, and the web timeouts."""
    database = dj_database_url.parse(
        url, conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")), conn_health_checks=True
    )
    options = database.setdefault("OPTIONS", {})
    # Without it a worker waits minutes for a database host that dropped off the network.
    options.setdefault("connect_timeout", 5)
    if PACTS_WEB:
        timeouts = " ".join(f"-c {name}={value}" for name, value in DATABASE_TIMEOUTS.items())
        # Just-in-time compilation costs ~90 ms on each large aggregate of a page and
        # pays off only for queries far longer than a web request may take.
        options["options"] = f"{options.get('options', '')} {timeouts} -c jit=off".strip()
    return database


if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": postgresql(os.environ["DATABASE_URL"])}
    if os.environ.get("DATABASE_REPLICA_URL"):
        DATABASES["replica"] = postgresql(os.environ["DATABASE_REPLICA_URL"])
        DATABASE_ROUTERS = ["pacts.replicas.ReplicaRouter"]
        # Before the session middleware: the session is the first thing a request reads.
        MIDDLEWARE.insert(
            MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
            "pacts.replicas.PrimaryAfterWriteMiddleware",
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("PACTS_SQLITE_PATH", BASE_DIR / "db.sqlite3"),
        }
    }

    # The embedded demo database cannot treat NULLs as equal in the sources'
    # natural key; PostgreSQL, where the data lives, enforces it.
    SILENCED_SYSTEM_CHECKS = ["models.W047"]

# After a write, a visitor's reads stay on the primary this long (pacts/replicas.py):
# longer than the replica's lag.
PACTS_PRIMARY_AFTER_WRITE_SECONDS = int(os.environ.get("PACTS_PRIMARY_AFTER_WRITE_SECONDS", "10"))

# Rendered fragments and other cached values: shared by every app server when REDIS_URL
# names a Redis, else each worker keeps its own in memory.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # What depends on the code and at most on the viewer (the site's navigation per role, the
    # page drawn around a kept timeline per viewer): each worker keeps its own.
    "process": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "process"},
}
# Rendered timelines as they are kept in the shared cache, copied into each worker's memory
# once read: their keys name the agreement's revision, so a copy is never stale, and the
# largest are hundreds of kilobytes that Redis would otherwise send on every request. At
# most 64 per worker: about 18 MB if all were among the largest (280 kB), 1 MB for median ones.
CACHES["fragments"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
if os.environ.get("REDIS_URL"):
    CACHES["default"] = {"BACKEND": "pacts.caching.RedisCache", "LOCATION": os.environ["REDIS_URL"]}
    CACHES["fragments"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "fragments",
        "OPTIONS": {"MAX_ENTRIES": 64},
    }
# What may only be cached where every worker sees the same cache, since a change in one
# must reach the others at once: sessions (a sign-out), roles and agreements' revisions.
PACTS_SHARED_CACHE = bool(os.environ.get("REDIS_URL"))
if PACTS_SHARED_CACHE:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes first: it refuses a locked-out client before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, with the signed-in user kept in the shared cache (when there is one).
    "pacts.roles.CachedUserBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "agreement-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Parties are states by ISO 3166-1 alpha-2 code, named by django-countries; these
# codes are not in the current standard but have defence agreements of their own.
COUNTRIES_OVERRIDE = {
    "XK": "Kosovo",
    "SU": "Soviet Union",
    "YU": "Yugoslavia",
    "DD": "German Democratic Republic",
    "CS": "Czechoslovakia",
}

# htmx loads from our own static files, so no script host beyond 'self' is needed.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    # Only the site's own script files: the pages have no inline script, so no nonce is
    # needed (and the head, nonce-free, is drawn once per worker: templates/base.html).
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# A working day from signing in: a browser left signed in overnight asks again in the morning.
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
# htmx sends the token from the page (hx-headers in base.html); no script needs the cookie.
CSRF_COOKIE_HTTPONLY = True
# A refused write gets the site's own 403 page, which says what to do.
CSRF_FAILURE_VIEW = "pacts.views.errors.csrf_failure"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", True)
    # Load balancers ask app servers directly over HTTP; a redirect is not an answer.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Sign-in throttling (django-axes, see pacts/throttling.py): five wrong passwords for one
# username from one address lock that pair out for 15 minutes, and every attempt meanwhile
# starts the wait again; other addresses and other users are not affected. Admins unlock
# sooner by deleting the access attempt in the admin. A correct password clears the count.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
AXES_LOCKOUT_CALLABLE = "pacts.throttling.locked_out"
AXES_CLIENT_IP_CALLABLE = "pacts.throttling.client_address"
# No banner at every start: commands such as export_agreements write their output to stdout.
AXES_VERBOSE = False
# Only a proxy in front of the app can vouch for X-Forwarded-For; development has none.
PACTS_PROXY_COUNT = 0 if DEBUG else int(os.environ.get("PACTS_PROXY_COUNT", "1"))

# One JSON object per line on stdout in production (pacts/logs.py), for a log shipper
# to read; plain lines under DEBUG, where runserver prints its own line per request.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "pacts.logs.JSONFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            # Commands write their data to stdout (export_agreements > file.json): their logs go to stderr.
            "stream": "ext://sys.stdout" if PACTS_WEB else "ext://sys.stderr",
            "formatter": "plain" if DEBUG else "json",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Through the root handler only (Django's default adds a second console handler under DEBUG).
        "django": {"handlers": [], "level": "INFO"},
        "pacts.request": {"level": "WARNING" if DEBUG else "INFO"},
        # django-axes reports every sign-in at INFO; failures and lockouts come at WARNING.
        "axes": {"level": "WARNING"},
    },
}
