"""Structured logs: one JSON object per line on stdout, and one line per web request.

A log shipper (journald, Vector, Fluent Bit, a platform's collector) reads stdout and
needs no parsing rules: every line is an object with `time`, `level`, `logger` and
`message`, plus the request's fields when there is one.
"""

import contextvars
import json
import logging
import re
import time
import traceback
from datetime import UTC, datetime

from django.core.signals import request_finished, request_started
from django.dispatch import receiver
from django.utils.functional import SimpleLazyObject, empty

request_log = logging.getLogger("pacts.request")

# The proxy's X-Request-ID of the request being served, so that every line logged
# while serving it (errors included) can be joined with the proxy's own log.
current_request_id = contextvars.ContextVar("current_request_id", default=None)

# Attributes every LogRecord has; anything else was passed in `extra=`.
RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
SCALARS = (str, int, float, bool, type(None))
REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,200}")


class JSONFormatter(logging.Formatter):
    """Formats a record as one line of JSON: time, level, logger, message and its extra fields."""

    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Only plain values: Django adds the request object itself to its own records.
        line |= {
            key: value
            for key, value in vars(record).items()
            if key not in RECORD_ATTRIBUTES and isinstance(value, SCALARS)
        }
        request_id = current_request_id.get()
        if request_id and "request_id" not in line:
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(line, ensure_ascii=False, default=str)


class RequestLogMiddleware:
    """Logs each request once it is answered: method, path, status, duration, user and request id.

    The path is logged without its query string, which can carry feed tokens. The
    duration runs until the response is handed to the server: a streamed export
    goes on sending after it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        request_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": loaded_user_id(request),
            },
        )
        return response


# From the request's start to the end of its response (a stream included), which
# covers what Django logs itself after the middleware, such as "Not Found".
@receiver(request_started)
def remember_request_id(sender, environ, **kwargs):
    request_id = environ.get("HTTP_X_REQUEST_ID", "")
    current_request_id.set(request_id if REQUEST_ID.fullmatch(request_id) else None)


@receiver(request_finished)
def forget_request_id(sender, **kwargs):
    current_request_id.set(None)


def loaded_user(request):
    """The user if the request already loaded it (an AnonymousUser included), else None.

    Loading it here would cost a query on pages that never look (static files,
    /healthz) and fail again while the database is down.
    """
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user


def loaded_user_id(request):
    """The signed-in user's id if the request already loaded the user, else None."""
    user = loaded_user(request)
    return None if user is None else user.pk
