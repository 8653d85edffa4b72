"""Reads from a PostgreSQL read replica, when DATABASE_REPLICA_URL names one; writes to the primary.

Only web requests that cannot write read from the replica: GET, HEAD and OPTIONS.
A replica lags the primary by a moment, so whoever has just written keeps reading
from the primary for PACTS_PRIMARY_AFTER_WRITE_SECONDS, marked by a cookie: an editor
who saves an event sees it on the next page; an analyst who only reads is served by
the replica. The cookie only ever sends reads to the primary, so a visitor who forges
it gains nothing. Everything outside a request (migrations, commands, imports) reads
what it writes, from the primary.
"""

import contextvars

from django.conf import settings

REPLICA = "replica"
PRIMARY = "default"
COOKIE = "pacts_primary"

# Set per request (and so per thread under gunicorn's gthread workers).
reads_from_replica = contextvars.ContextVar("reads_from_replica", default=False)


class ReplicaRouter:
    """Sends the reads of read-only requests to the replica; all else to the primary."""

    def db_for_read(self, model, **hints):
        return REPLICA if reads_from_replica.get() else PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


class PrimaryAfterWriteMiddleware:
    """Decides, before anything reads, where this request reads from; marks those who write."""

    SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        writes = request.method not in self.SAFE_METHODS
        replica = not writes and COOKIE not in request.COOKIES
        token = reads_from_replica.set(replica)
        try:
            response = self.get_response(request)
        finally:
            reads_from_replica.reset(token)
        if response.streaming:
            # An export is read while it is sent, after this returns.
            response.streaming_content = read_from(replica, response.streaming_content)
        if writes:
            response.set_cookie(
                COOKIE,
                "1",
                max_age=settings.PACTS_PRIMARY_AFTER_WRITE_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def read_from(replica, chunks):
    token = reads_from_replica.set(replica)
    try:
        yield from chunks
    finally:
        reads_from_replica.reset(token)
