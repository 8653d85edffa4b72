"""Who may read and who may write, checked in the views.

Reading needs a signed-in user with a role, unless settings.PACTS_PUBLIC_READ is
on. An htmx request whose session has expired is sent to the sign-in page with
HX-Redirect, so the page (not a fragment) changes.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.utils.cache import patch_cache_control
from django.views.defaults import permission_denied

from pacts.models import FeedToken
from pacts.roles import ADMIN, EDITOR, role_of


def _sign_in(request):
    if getattr(request, "htmx", False):
        login_url = resolve_url(settings.LOGIN_URL)
        response = HttpResponse(status=401)
        response["HX-Redirect"] = f"{login_url}?next={request.get_full_path()}"
        return response
    return redirect_to_login(request.get_full_path())


def reader_required(view):
    """Signed-in users with a role may read; anyone may when public reading is on."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.PACTS_PUBLIC_READ:
            if not request.user.is_authenticated:
                return _sign_in(request)
            if role_of(request.user) is None:
                raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapper.reads_user = True  # the session and the user are read ahead (pacts.caching)
    return wrapper


def editor_required(view):
    """Editors and admins only."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _sign_in(request)
        if role_of(request.user) not in {EDITOR, ADMIN}:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapper.reads_user = True  # the session and the user are read ahead (pacts.caching)
    return wrapper


def admin_required(view):
    """The admin role only."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _sign_in(request)
        if role_of(request.user) != ADMIN:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapper.reads_user = True  # the session and the user are read ahead (pacts.caching)
    return wrapper


def feed_reader_required(view):
    """Feeds and calendars: a `?token=` opens them for its user; without one, the normal read rules.

    Only .atom, .rss and .ics views carry this decorator, so a token never opens an
    HTML page. A bad or revoked token is refused even when public reading is on: a
    feed reader should learn that its address no longer works. Responses are
    private, since a token's URL must not end up in a shared cache.
    """
    read = reader_required(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if "token" in request.GET:
            user = FeedToken.objects.user_for(request.GET["token"])
            if user is None or role_of(user) is None:
                response = permission_denied(request, PermissionDenied("This feed token is not valid."))
            else:
                request.user = user
                response = view(request, *args, **kwargs)
        else:
            response = read(request, *args, **kwargs)
        patch_cache_control(response, private=True)
        return response

    return wrapper
