from django.conf import settings

from pacts.roles import ADMIN, EDITOR, role_of


def pacts(request):
    """The viewer's role, for templates that show or hide controls (views still check)."""
    role = role_of(request.user) if hasattr(request, "user") else None
    return {
        "viewer_role": role,
        "viewer_can_edit": role in {EDITOR, ADMIN},
        "public_read": settings.PACTS_PUBLIC_READ,
    }
