from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from pacts.access import editor_required, reader_required
from pacts.forms import AgreementCitationFormSet, AgreementForm, AliasFormSet, RelationFormSet
from pacts.models import Agreement


@require_GET
@reader_required
@vary_on_headers("HX-Request")
def agreement_list(request):
    agreements = Agreement.objects.for_list()
    return render(request, "pacts/agreement_list.html", {"agreements": agreements})


def stamp_all(request, instances, reason):
    for instance in instances:
        instance._history_user = request.user
        instance._change_reason = reason
    return instances


def edit_agreement(request, agreement, reason):
    """The agreement form and its formsets: all valid and saved in one transaction, or 422."""
    data = request.POST if request.method == "POST" else None
    form = AgreementForm(data, instance=agreement)
    formsets = {
        "aliases": AliasFormSet(data, instance=agreement, prefix="aliases"),
        "relations": RelationFormSet(data, instance=agreement, prefix="relations"),
        "citations": AgreementCitationFormSet(data, instance=agreement, prefix="citations"),
    }
    if data is not None:
        if form.is_valid() and all(formset.is_valid() for formset in formsets.values()):
            with transaction.atomic():
                saved = stamp_all(request, [form.save(commit=False)], reason)[0]
                saved.save()
                for formset in formsets.values():
                    formset.instance = saved
                    objects = formset.save(commit=False)
                    for obj in stamp_all(request, objects, reason):
                        obj.save()
                    for obj in stamp_all(request, formset.deleted_objects, reason):
                        obj.delete()
            return redirect(saved)
        status = 422
    else:
        status = 200
    context = {"form": form, "formsets": formsets, "agreement": agreement if agreement.pk else None}
    return render(request, "pacts/agreement_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@editor_required
def agreement_new(request):
    return edit_agreement(request, Agreement(), "created")


@require_http_methods(["GET", "POST"])
@editor_required
def agreement_edit(request, slug):
    agreement = get_object_or_404(Agreement.objects.select_related("party_a", "party_b"), slug=slug)
    return edit_agreement(request, agreement, "edited")
