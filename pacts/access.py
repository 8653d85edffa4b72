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

    return wrapper
