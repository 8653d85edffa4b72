"""An agreement's history (editors and admins), and restoring from it (admins)."""

from django import forms
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from pacts import history
from pacts.access import admin_required, editor_required
from pacts.models import Agreement
from pacts.roles import ADMIN, role_of

TEMPLATE = "pacts/history.html"


class HistoryPageForm(forms.Form):
    before = forms.RegexField(
        regex=rf"^({'|'.join(history.RECORDS)})-[0-9]{{1,18}}$",
        required=False,
        error_messages={"invalid": "This is not a position in the history."},
    )


def history_page(request, agreement, *, form, before=None, problem=None, status=200):
    page = history.page(agreement, before=before)
    if page is None:
        raise Http404("This position in the history does not exist.")
    context = {
        "agreement": agreement,
        "page": page,
        "form": form,
        "before": before,
        "can_restore": role_of(request.user) == ADMIN,
        "problem": problem,
    }
    return render(request, TEMPLATE, context, status=status)


@require_GET
@editor_required
def agreement_history(request, slug):
    agreement = get_object_or_404(Agreement.objects.select_related("party_a", "party_b"), slug=slug)
    form = HistoryPageForm(request.GET)
    if not form.is_valid():
        context = {"agreement": agreement, "form": form, "page": history.Page([], None)}
        return render(request, TEMPLATE, context, status=400)
    return history_page(request, agreement, form=form, before=form.cleaned_data["before"])


@require_POST
@admin_required
def history_restore(request, slug, record, history_id):
    agreement = get_object_or_404(Agreement.objects.select_related("party_a", "party_b"), slug=slug)
    row = history.recorded(agreement, record, history_id)
    if row is None:
        raise Http404("No such entry in this agreement's history.")
    try:
        restored = history.restore(agreement, record, row, request.user)
    except history.RestoreRefused as refusal:
        return history_page(request, agreement, form=HistoryPageForm(), problem=str(refusal), status=409)
    return redirect(reverse("agreement-history", args=[slug]) + f"#{record}-{restored.history_id}")
