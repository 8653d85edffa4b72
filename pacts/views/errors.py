"""Error pages that Django would otherwise draw in its own style."""

from django.shortcuts import render


def csrf_failure(request, reason=""):
    """A write refused because its form did not come from this site, or its page was open too long (403)."""
    return render(request, "403_csrf.html", status=403)
