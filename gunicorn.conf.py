"""Gunicorn settings for serving Pacts: `gunicorn -c gunicorn.conf.py`.

Every value can be changed from the environment, so one image serves any machine:

GUNICORN_BIND        address to listen on (127.0.0.1:8000); the reverse proxy connects here
WEB_CONCURRENCY      worker processes (2 x cores + 1, at most 8)
GUNICORN_THREADS     threads per worker (4)
GUNICORN_TIMEOUT     seconds a worker may stay silent before it is replaced (30)
GUNICORN_MAX_REQUESTS  requests after which a worker is replaced (20000; 0 never, as the bench's soak run)
FORWARDED_ALLOW_IPS  proxies trusted to say the request came over HTTPS (127.0.0.1,::1)
"""

import os

from gunicorn import glogging

wsgi_app = "pacts.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Requests are short and spend much of their time waiting for PostgreSQL, so a few
# processes with a few threads each keep the cores busy.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * (os.cpu_count() or 1) + 1, 8))

# gthread rather than sync: a sync worker handles one request at a time and cannot
# tell the master it is alive meanwhile, so a streamed export of millions of events
# would be killed at `timeout`. A gthread worker's main loop keeps reporting while its
# threads serve, and a slow client or a wait on the database holds one thread, not a
# whole process. Each thread keeps its own database connection: one server opens up
# to workers x threads connections (x 2 with a replica).
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# A stuck worker (not a slow request: PostgreSQL's statement_timeout bounds those) is
# replaced after this long; on shutdown or reload, requests get as long to finish.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = timeout
# The proxy keeps connections to the app open between requests.
keepalive = 5

# Each worker is replaced after many requests, at staggered moments, so that memory
# stays flat over weeks whatever a library leaks. Not after a few thousand: a new
# worker starts cold (templates compiled, connections opened, its own caches empty),
# and at 1,500 req/s replacing one every 2,000 requests cost a third of the cached
# timeline's throughput and raised its p95 from 19 to 210 ms. The bench's soak run
# shows the memory flat without any replacement (docs/benchmarks.md).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = 2000

# Load the app once in the master and fork workers from it: workers start at once
# (also when max_requests replaces them) and share the imported code's memory. Safe
# because nothing connects to the database while importing; pre_fork makes sure.
preload_app = True

# Only the proxy may say that a request came over HTTPS (X-Forwarded-Proto), which
# Django's SECURE_PROXY_SSL_HEADER then believes.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Gunicorn's own lines (start, workers, errors) as JSON on stdout, like the app's.
# The app logs one line per request itself (pacts/logs.py), with the user and the
# request id and without the query string, which can carry a feed token; gunicorn's
# access log would repeat each request without them, so it stays off.
accesslog = None


class Logger(glogging.Logger):
    """Gunicorn's logger, with its access log off for good.

    Gunicorn takes any logging configuration (logconfig_dict below) as a wish for
    an access log: it would gather each request's fields and build a record that no
    handler takes, about 17 µs of CPU a request.
    """

    access_log_enabled = False


logger_class = Logger
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "pacts.logs.JSONFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"}},
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False}},
}


# Gunicorn's control socket has one path per user (~/.gunicorn/gunicorn.ctl), which a
# second server on the machine would take over; signals do the same (HUP reloads,
# TTIN/TTOU add and remove workers, TERM stops gracefully).
control_socket_disable = True


def when_ready(server):
    # Before the first worker is forked: each starts with the views imported and the templates compiled.
    from pacts.wsgi import warm_up

    warm_up()


def pre_fork(server, worker):
    # A connection opened while the master loaded the app would be shared by every
    # forked worker, which would then talk over each other on one socket.
    from django.db import connections

    connections.close_all()
