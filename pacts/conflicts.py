"""Answering a refused edit: 409, both versions side by side, the editor's input kept.

`pacts.models.editing` refuses to save over a newer version; this is what the
editor sees instead of an error page.
"""

from django.shortcuts import render

from pacts.models import EditConflict


def last_saved_by(record):
    """The latest history entry of a record: who saved the version now stored, and when."""
    return record.history.select_related("history_user").order_by("-history_date", "-history_id").first()


def refused_edit(request, template, context, form, formsets=None):
    """Render `template` at 409 with the stored version beside the refused input.

    `form` is the record's bound form; `formsets`, if any, the inline formsets
    beside it. Each is rebuilt on the stored version with the same input, so
    that saving again knowingly replaces what the other person saved.
    """
    noun = form._meta.model._meta.verbose_name
    stored = form.instance.stored_version()
    if stored is None:
        context |= {"form": form, "formsets": formsets, "conflict": {"deleted": True, "noun": noun}}
        return render(request, template, context, status=409)
    data = form.data.copy()
    data[form.add_prefix("row_version")] = stored.row_version
    context["conflict"] = {"rows": form.compare_with(stored), "saved": last_saved_by(stored), "noun": noun}
    context["form"] = type(form)(data, **form.conflict_kwargs(stored))
    if formsets is not None:
        context["formsets"] = {
            name: type(formset)(data, instance=stored, prefix=formset.prefix) for name, formset in formsets.items()
        }
    return render(request, template, context, status=409)


class EditConflictMiddleware:
    """The last resort for a race no view expected: a 409 page, never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, EditConflict):
            problem = "Someone else changed this record at the same moment. Reload the page and try again."
            return render(request, "pacts/problem.html", {"problem": problem}, status=409)
        return None
