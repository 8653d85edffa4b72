"""Sign-in throttling (django-axes): which address a sign-in comes from, and what a locked-out visitor sees.

Settings: AXES_* in pacts/settings.py; PACTS_PROXY_COUNT is the number of reverse
proxies in front of the app (0 in development, where REMOTE_ADDR is the client).
"""

import ipaddress

from axes.helpers import get_cool_off
from django.conf import settings
from django.shortcuts import render


def client_address(request):
    """The address of the client as the outermost trusted proxy saw it.

    Each proxy appends the address it received the request from to X-Forwarded-For,
    so behind N proxies the client is the Nth address from the right; anything
    further left is whatever the client chose to send, and is never trusted.
    """
    proxies = settings.PACTS_PROXY_COUNT
    forwarded = [address.strip() for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [address for address in forwarded if address]
    if proxies and len(forwarded) >= proxies:
        try:
            return str(ipaddress.ip_address(forwarded[-proxies]))
        except ValueError:
            pass  # not what a proxy writes: the proxy count is wrong, so trust only the connection
    return request.META.get("REMOTE_ADDR")


def locked_out(request, original_response=None, credentials=None):
    """429 with the styled page: how long to wait, and that an admin can unlock sooner."""
    seconds = int(get_cool_off(request).total_seconds())
    response = render(request, "429.html", {"locked_out_minutes": round(seconds / 60)}, status=429)
    response["Retry-After"] = str(seconds)
    return response
