"""The profile page: the user's feed token (shown once, regenerated or revoked) and a link to change the password."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from pacts.models import FeedToken
from pacts.roles import role_of


class FeedTokenForm(forms.Form):
    action = forms.ChoiceField(choices=[("issue", "Create a new token"), ("revoke", "Revoke the token")])


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """Show whether the user has a feed token; a POST issues a new one (shown this once) or revokes it."""
    form = FeedTokenForm(request.POST or None)
    secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid() and form.cleaned_data["action"] == "issue":
            secret = FeedToken.objects.issue(request.user)
        elif form.is_valid():
            FeedToken.objects.filter(user=request.user).delete()
        else:
            status = 400
    token = FeedToken.objects.filter(user=request.user).first()
    context = {
        "form": form,
        "token": token,
        "secret": secret,
        "role": role_of(request.user),
        "latest_feed": request.build_absolute_uri(reverse("latest-atom")),
    }
    return render(request, "registration/profile.html", context, status=status)
