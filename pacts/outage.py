"""While the database is down or too slow, pages answer 503 with Retry-After instead of 500.

A restart, a failover or a statement that ran out of time (statement_timeout,
lock_timeout) is an outage to wait out, not a bug: the visitor is told to try again
shortly, a load balancer or client can retry, and the error log stays for bugs.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader

# Long enough for a PostgreSQL restart or a managed failover to finish.
RETRY_AFTER_SECONDS = 30

log = logging.getLogger("pacts.outage")


class OutageMiddleware:
    """Answers database outages raised while a view runs (or its template renders) with a 503 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        reason = (str(exception).strip() or type(exception).__name__).splitlines()[0]
        log.warning("Database unavailable or too slow: %s", reason, extra={"error": type(exception).__name__})
        return unavailable(request)


def unavailable(request):
    """The 503 response: a page for browsers, a short text for htmx (which shows its own message)."""
    if request.headers.get("HX-Request"):
        response = HttpResponse("Pacts is briefly unavailable.\n", status=503, content_type="text/plain")
    else:
        # Rendered without the request: its context processors would ask the database about the user.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Neither the proxy nor the browser should keep the outage once it is over.
    response["Cache-Control"] = "no-store"
    return response
