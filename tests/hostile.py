"""The hostile input battery's catalogue (tests/test_hostile.py): payloads, and where they are aimed.

Nothing here lists a form field by hand. The targets are found in the code: the URL
patterns of the URLconf, the form classes each view names (directly or in a helper it
calls), the fields of the forms a view actually renders, and the fields of the pacts/1
format as its published JSON Schema describes them.
"""

import inspect
import json
from pathlib import Path

import django_filters
from django import forms
from django.apps import apps
from django.db import connection
from django.forms.formsets import BaseFormSet
from django.urls import get_resolver

from tests.test_authorization import walk

ROOT = Path(__file__).resolve().parent.parent

# --- Payloads ---------------------------------------------------------------------

# Markup and template syntax: stored as given in free text, and shown escaped everywhere.
MARKUP = {
    "script": "<script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "svg": "<svg onload=alert(1)>",
    "hx-attributes": 'hx-get="/admin/" hx-trigger="load"',
    "hx-element": "<div hx-post=/x hx-trigger=load>",
    "template-variable": "{{7*7}}",
    "template-tag": "{% debug %}",
    # A spreadsheet would run these; the CSV export neutralises them.
    "formula": '=HYPERLINK("https://example.com","x")',
}
# A line that would start a forged calendar entry: stored in paragraphs, refused in one-line text.
LINE_BREAK = "Seoul\r\nBEGIN:VEVENT\r\nSUMMARY:forged"
# Any script and emoji: stored as given and shown as given (with dir="auto" for Arabic).
SCRIPTS = {
    "emoji": "👩‍👩‍👧 🤝 🇰🇷🇯🇵",
    "korean": "한미 상호방위조약",
    "arabic": "اتفاقية أمن المعلومات العسكرية",
}
# Invisible characters that reorder or hide text, and control characters: refused with a message (pacts/text.py).
HIDDEN = {
    "bidi-override": "GSOMIA \u202eAIMOSG",
    "zero-width-space": "GSO\u200bMIA",
    "byte-order-mark": "\ufeffGSOMIA",
    "control-character": "GSOMIA\x1b[31m",
}
NUL = "GSOMIA\x00"
MEGABYTE = "x" * 1_000_000
# Not web addresses: refused in URL fields, plain text anywhere else.
BAD_URLS = {
    "javascript": "javascript:alert(1)",
    "data": "data:text/html,<script>alert(1)</script>",
    "javascript-mixed-case": "JaVaScRiPt:alert(1)",
}
# Not days as ISO 8601 writes them: refused with a message naming the format.
BAD_DATES = {
    "year-zero": "0000-01-01",
    "five-digit-year": "10000-01-01",
    "february-30": "2012-02-30",
    "day-first": "31/12/2020",
    "arabic-indic-digits": "٢٠١٢-٠٦-٢٦",
}
# Forged htmx headers, alone and together: they may change the template, never the outcome.
FORGED_HTMX = [
    {"HX-Request": "true"},
    {"HX-Request": "false"},
    {"HX-Request": "<script>alert(1)</script>"},
    {"HX-Boosted": "true"},
    {"HX-Request": "true", "HX-Boosted": "true"},
    {"HX-Request": "true", "HX-History-Restore-Request": "true"},
    {"HX-Request": "true", "HX-Target": '"><svg onload=alert(1)>', "HX-Trigger": "{{7*7}}"},
    {"HX-Request": "true", "HX-Current-URL": "javascript:alert(1)", "HX-Trigger-Name": "<svg onload=alert(1)>"},
]

# The characters an HTML page must never show raw when they come from a user.
HTML_SPECIAL = set("<>\"'")


def dangerous(payload):
    """Whether a payload, unescaped in HTML, would be markup (and so must never appear raw)."""
    return bool(HTML_SPECIAL & set(payload))


# --- The URLconf, and the forms the views name ----------------------------------------


def app_routes():
    """(route, view) for the app's own patterns: the Django admin is Django's, and its forms are not ours."""
    return [
        (route, pattern.callback)
        for route, pattern in walk(get_resolver().url_patterns)
        if not route.startswith("admin/")
    ]


def is_form_class(value):
    return inspect.isclass(value) and (
        issubclass(value, forms.BaseForm | BaseFormSet) or issubclass(value, django_filters.FilterSet)
    )


def form_classes_named_by(function, seen=None):
    """The form, formset and filter classes a view names, following the module functions it calls.

    Read from the compiled code (global names and attributes), so a form added to a
    view, or to a helper it calls, is found without being listed anywhere.
    """
    seen = set() if seen is None else seen
    function = inspect.unwrap(function)
    if not inspect.isfunction(function) or function in seen or not function.__module__.startswith("pacts."):
        return set()
    seen.add(function)
    found = set()
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        codes.extend(const for const in code.co_consts if inspect.iscode(const))
        for name in code.co_names:
            value = function.__globals__.get(name)
            if is_form_class(value):
                found.add(value)
            elif inspect.isfunction(value):
                found |= form_classes_named_by(value, seen)
    return found


def view_function(callback):
    """The function behind a URL pattern's callback (class-based views have none of ours)."""
    return getattr(callback, "view_class", None) or callback


def forms_named_by_views():
    """{form class: [routes whose view names it]} over the app's URL patterns."""
    named = {}
    for route, callback in app_routes():
        for form_class in form_classes_named_by(view_function(callback)):
            named.setdefault(form_class, []).append(route)
    return named


def expand(form_class):
    """The class, and a formset's or filterset's form with the classes it was made from (factories subclass)."""
    made_of = form_class
    if issubclass(form_class, BaseFormSet):
        made_of = form_class.form
    if issubclass(form_class, django_filters.FilterSet):
        made_of = form_class._meta.form
    return {form_class} | {base for base in made_of.__mro__ if is_form_class(base)}


def context_values(context):
    """The values of the context a test response was rendered with (one Context, or a list of them)."""
    contexts = context if isinstance(context, list) else [context]
    return [value for each in contexts for value in each.flatten().values()]


def forms_in_context(context):
    """Every bound or unbound form a rendered page had: forms, every form of a formset, a filterset's form."""
    found = []

    def visit(value):
        if isinstance(value, forms.BaseForm):
            found.append(value)
        elif isinstance(value, BaseFormSet):
            found.append(value.management_form)
            found.extend(value.forms)
        elif isinstance(value, django_filters.FilterSet):
            found.append(value.form)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)

    for value in context_values(context):
        visit(value)
    unique = {}
    for form in found:
        unique.setdefault(id(form), form)
    return list(unique.values())


# --- What a field is for ------------------------------------------------------------------

# Plain text fields that nonetheless hold a code or a date, as the importer checks them.
CODED_TEXT = {"language": "a BCP 47 tag", "published": "a date", "keys": "source keys"}


def is_free_text(form, name):
    """Text stored as typed: anything but a code, a date, an address, a choice or a reference."""
    field = form.fields[name]
    return type(field) is forms.CharField and name not in CODED_TEXT and not field.widget.is_hidden


def is_date(form, name):
    field = form.fields[name]
    from pacts.forms import PeriodField

    return isinstance(field, forms.DateField | forms.TimeField | PeriodField) or name == "published"


def is_url(form, name):
    return isinstance(form.fields[name], forms.URLField)


# --- The pacts/1 format, as its schema describes it -------------------------------------------

SCHEMA = json.loads((ROOT / "docs" / "pacts-1.schema.json").read_text(encoding="utf-8"))


def schema_at(path):
    """The schema node for a path of keys and indexes into a document, `$ref`s followed."""
    node = SCHEMA
    for step in path:
        node, _ = resolve(node)
        node = node["items"] if isinstance(step, int) else node["properties"][step]
    return resolve(node)


def resolve(node):
    """Follow `$ref` and take the non-null branch of `anyOf`; return the node and the refs passed."""
    refs = []
    while True:
        if "$ref" in node:
            refs.append(node["$ref"].rsplit("/", 1)[1])
            node = {**SCHEMA["$defs"][refs[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
        elif "anyOf" in node:
            node = next(branch for branch in node["anyOf"] if branch.get("type") != "null")
        else:
            return node, refs


def leaves(document, path=()):
    """(path, value) of every scalar in a document, lists of scalars (actors) included item by item."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield from leaves(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from leaves(value, (*path, index))
    else:
        yield path, document


def place(path):
    """A path as the importer names places: agreements[0].events[2].date."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else step
    return text


# Text in the format that must name another entry of the file: a publisher, an event's id.
REFERENCES = {"publisher", "resolves"}
# Text that other entries name: a publisher's name (sources refer to it).
REFERRED = {("publishers", "name")}


def leaf_kind(path):
    """Free "text" (the schema's `text`), a "reference" to another entry, or what else the value must be."""
    node, refs = schema_at(path)
    if refs in (["text"], ["paragraphs"]):
        if path[-1] in REFERENCES:
            return "reference"
        return "name" if (path[0], path[-1]) in REFERRED else refs[0]
    if refs:
        return refs[0]
    if "enum" in node or "const" in node:
        return "choice"
    return node.get("type", "value")


def set_at(document, path, value):
    for step in path[:-1]:
        document = document[step]
    document[path[-1]] = value


def with_payload(document, payload, tag):
    """A copy of a document with `payload` as every free text that may hold it (and the names that refer to
    it), and every slug and key tagged, so that copies made with different payloads import side by side."""
    copy = json.loads(json.dumps(document))
    one_line = "\n" not in payload
    for path, value in leaves(document):
        kind = leaf_kind(path)
        if (kind == "paragraphs" or (one_line and kind in ("text", "name", "reference"))) and path[-1] != "resolves":
            set_at(copy, path, payload)
        elif (kind in ("slug", "sourceKey") or path[-1] == "story") and value:
            set_at(copy, path, f"{value}-{tag}")
    return copy


def merged(documents):
    """One document holding the publishers, sources and agreements of several."""
    parts = ("publishers", "sources", "agreements")
    return {"format": "pacts/1", **{part: [item for doc in documents for item in doc[part]] for part in parts}}


# --- What a write changed -------------------------------------------------------------------

WATCHED = [
    model
    for model in apps.get_app_config("pacts").get_models()
    if model.__name__.startswith("Historical")
    or model.__name__ in {"Agreement", "Event", "Citation", "Source", "Alias", "Relation", "Publisher"}
]


def counts():
    """Rows of every domain and history table, in one query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f'(SELECT count(*) FROM "{m._meta.db_table}")' for m in WATCHED))
        return dict(zip((m.__name__ for m in WATCHED), cursor.fetchone(), strict=True))
