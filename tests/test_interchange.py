"""Import and export of the pacts/1 format (PRODUCT.md section 5)."""

import io
import json

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from pacts.interchange import InterchangeError, dumps, export_document, import_document
from pacts.models import Agreement, Event, Source
from tests.documents import gsomia_document
from tests.factories import PublisherFactory, SourceFactory

pytestmark = pytest.mark.django_db

HISTORY_MODELS = [m for m in apps.get_app_config("pacts").get_models() if m.__name__.startswith("Historical")]


def history_count():
    return sum(model.objects.count() for model in HISTORY_MODELS)


def snapshot():
    """Everything an import could change: the exported content, row counts and history."""
    counts = {model.__name__: model.objects.count() for model in apps.get_app_config("pacts").get_models()}
    return export_document(), counts


def canonical(document):
    """The document with list order and derived fields set aside, for comparing content."""

    def walk(value):
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items() if k not in {"status", "notice"}}
        if isinstance(value, list):
            return sorted((walk(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
        return value

    return walk(document)


def run_import(tmp_path, document, *args):
    path = tmp_path / "agreements.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_agreements", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_writes_agreements_events_sources_and_citations():
    report = import_document(gsomia_document())
    gsomia = Agreement.objects.get(slug="kr-jp-gsomia")
    assert (gsomia.party_a_id, gsomia.party_b_id) == ("KR", "JP")
    assert gsomia.events.count() == 6
    assert gsomia.aliases.get().title == "한일 군사정보보호협정"
    assert gsomia.relations.get().other.slug == "kr-jp-acsa"
    assert Event.objects.get(external_id="signing-2016").resolves.external_id == "signing-2012"
    assert report.created["events"] == 7


def test_imported_status_is_the_derived_status():
    import_document(gsomia_document())
    for agreement in Agreement.objects.all():
        assert (agreement.status, agreement.notice) == agreement.compute_status()
    assert Agreement.objects.get(slug="kr-jp-gsomia").status_label == "In force · termination notice given"


def test_a_second_import_of_the_same_file_writes_nothing():
    import_document(gsomia_document())
    before, history = snapshot(), history_count()
    updated_at = list(Event.objects.order_by("pk").values_list("updated_at", flat=True))
    report = import_document(gsomia_document())
    assert report.writes == 0
    assert str(report) == "nothing to change"
    assert history_count() == history
    assert snapshot() == before
    assert list(Event.objects.order_by("pk").values_list("updated_at", flat=True)) == updated_at


def test_export_of_an_import_reproduces_the_file():
    document = gsomia_document()
    import_document(document)
    assert canonical(export_document()) == canonical(document)


def test_export_adds_the_derived_status_and_notice():
    import_document(gsomia_document())
    exported = {a["slug"]: (a["status"], a["notice"]) for a in export_document()["agreements"]}
    assert exported == {"kr-jp-gsomia": ("in-force", "pending"), "kr-jp-acsa": ("negotiating", "none")}


def test_import_of_an_export_into_an_empty_database_reproduces_it():
    import_document(gsomia_document())
    exported = export_document()
    for model in (Agreement, Source):
        model.objects.all().delete()
    import_document(json.loads(dumps(exported)))
    assert export_document() == exported


def test_published_datetimes_compare_as_instants():
    document = gsomia_document()
    document["sources"][1]["published"] = "2016-11-23T05:30:00+00:00"
    import_document(document)
    assert Source.objects.get(key="mofa-2016-11-23").published_on.isoformat() == "2016-11-23"


def test_events_missing_from_the_file_are_deleted_and_recorded():
    import_document(gsomia_document())
    document = gsomia_document()
    document["agreements"][0]["events"].pop(2)  # Japan's expected cabinet approval
    report = import_document(document, origin="fewer.json")
    assert report.deleted == {"events": 1, "citations": 1}
    deleted = Event.history.get(external_id="jp-cabinet", history_type="-")
    assert deleted.history_change_reason == "import fewer.json"


def test_events_are_matched_by_natural_key_when_the_file_has_no_ids():
    import_document(gsomia_document())
    stored = Event.objects.get(external_id="kr-cabinet")
    document = gsomia_document()
    event = document["agreements"][0]["events"][1]
    event["id"] = ""
    event["notes"] = "Kept secret for a day."
    import_document(document)
    stored.refresh_from_db()
    assert stored.notes == "Kept secret for a day."


def test_sources_are_matched_by_url_and_version_when_the_key_is_new():
    import_document(gsomia_document())
    document = gsomia_document()
    document["sources"][1]["key"] = "yonhap-2016-11-23"
    for event in document["agreements"][0]["events"]:
        for citation in event["citations"]:
            if citation["source"] == "mofa-2016-11-23":
                citation["source"] = "yonhap-2016-11-23"
    import_document(document)
    assert Source.objects.filter(url="https://en.yna.co.kr/view/AEN20161123004851315").get().key == "yonhap-2016-11-23"


def test_an_entry_matching_two_different_sources_is_refused():
    publisher = PublisherFactory(name="Yonhap News Agency")
    SourceFactory(key="yonhap-2012-06-27-gsomia-3ld", publisher=publisher, url="https://example.org/a")
    SourceFactory(key="another", publisher=publisher, url="https://example.org/b", version="")
    document = gsomia_document()
    document["sources"][0]["url"] = "https://example.org/b"
    document["sources"][0]["version"] = ""
    with pytest.raises(InterchangeError) as refused:
        import_document(document)
    assert refused.value.errors == [
        "sources[0]: matches different sources in the database "
        "(by key: yonhap-2012-06-27-gsomia-3ld; by url and version: another)"
    ]


def test_dry_run_reports_and_writes_nothing(tmp_path):
    out, _ = run_import(tmp_path, gsomia_document(), "--dry-run")
    assert out.startswith("Dry run, nothing written: would have created 2 agreements")
    assert Agreement.objects.count() == 0
    assert history_count() == 0


def test_the_command_records_the_importing_user_and_file(tmp_path, editor):
    run_import(tmp_path, gsomia_document(), "--user", "editor")
    record = Agreement.history.get(slug="kr-jp-gsomia")
    assert (record.history_user, record.history_change_reason) == (editor, "import agreements.json")


def test_the_command_refuses_an_unknown_user(tmp_path):
    with pytest.raises(CommandError, match='there is no user "nobody"'):
        run_import(tmp_path, gsomia_document(), "--user", "nobody")


def test_the_command_reads_standard_input(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(json.dumps(gsomia_document()).encode())))
    call_command("import_agreements", "-", stdout=io.StringIO())
    assert Agreement.objects.count() == 2


def test_export_command_writes_the_file(tmp_path):
    import_document(gsomia_document())
    call_command("export_agreements", str(tmp_path / "out.json"))
    assert json.loads((tmp_path / "out.json").read_text(encoding="utf-8")) == export_document()


class RawText(str):
    """What a mutation returns to replace the whole file with text."""


def file_text(document, replaced):
    return replaced if isinstance(replaced, RawText) else json.dumps(document)


def agreement(document):
    return document["agreements"][0]


def event(document, index):
    return agreement(document)["events"][index]


def setter(path_function, key, value):
    def change(document):
        path_function(document)[key] = value

    return change


BAD_DOCUMENTS = [
    ("wrong format tag", setter(lambda d: d, "format", "pacts/2"), 'format: "pacts/2" is not "pacts/1"'),
    ("unknown event kind", setter(lambda d: event(d, 0), "kind", "coup"), "agreements[0].events[0].kind:"),
    ("unknown status", setter(lambda d: event(d, 0), "status", "rumoured"), "agreements[0].events[0].status:"),
    ("lane not a party", setter(lambda d: event(d, 1), "lane", "US"), "agreements[0].events[1].lane:"),
    ("three parties", setter(agreement, "parties", ["KR", "JP", "US"]), "agreements[0].parties: an agreement has"),
    ("same party twice", setter(agreement, "parties", ["KR", "KR"]), 'agreements[0].parties: "KR" appears twice'),
    ("no such country", setter(agreement, "parties", ["KR", "ZZ"]), 'agreements[0].parties[1]: "ZZ" is not'),
    ("month 13", setter(lambda d: event(d, 1), "date", "2012-13-01"), 'events[1].date: "2012-13-01" is not a date'),
    ("30 February", setter(lambda d: event(d, 1), "date", "2012-02-30"), 'events[1].date: "2012-02-30" is not a date'),
    ("words for a date", setter(lambda d: event(d, 1), "date", "June 2012"), 'events[1].date: "June 2012" is not'),
    ("free-text time", setter(lambda d: event(d, 3), "time", "afternoon"), 'events[3].time: "afternoon" is not'),
    (
        "501-character quote",
        lambda d: event(d, 1)["citations"][0].update(quote="x" * 501),
        "events[1].citations[0].quote: is 501 characters long",
    ),
    (
        "unknown source key",
        lambda d: event(d, 1)["citations"][0].update(source="nowhere"),
        'events[1].citations[0].source: "nowhere" is neither',
    ),
    (
        "duplicate slug",
        lambda d: d["agreements"][1].update(slug="kr-jp-gsomia"),
        'agreements[1].slug: "kr-jp-gsomia" appears twice',
    ),
    ("duplicate event id", setter(lambda d: event(d, 1), "id", "talks"), 'events[1].id: "talks" appears twice'),
    ("resolves unknown id", setter(lambda d: event(d, 4), "resolves", "e99"), 'events[4].resolves: "e99" is not'),
    (
        "resolves an occurred event",
        setter(lambda d: event(d, 4), "resolves", "kr-cabinet"),
        'events[4].resolves: "kr-cabinet" is "occurred"',
    ),
    (
        "cycle of resolves",
        lambda d: (event(d, 3).update(resolves="jp-cabinet"), event(d, 2).update(resolves="signing-2012")),
        "the chain of resolves comes back to this event",
    ),
    (
        "two resolvers for one event",
        setter(lambda d: event(d, 5), "resolves", "signing-2012"),
        'events[5].resolves: "signing-2012" is already resolved',
    ),
    ("event resolves itself", setter(lambda d: event(d, 3), "resolves", "signing-2012"), "cannot resolve itself"),
    (
        "javascript: URL",
        setter(lambda d: d["sources"][1], "url", "javascript:alert(1)"),
        'sources[1].url: "javascript:alert(1)" is not an http or https URL',
    ),
    ("NUL character", setter(lambda d: event(d, 0), "summary", "Talks\x00"), "events[0].summary: contains a NUL"),
    ("missing title", lambda d: agreement(d).pop("title"), 'agreements[0]: "title" is missing'),
    ("list for a string", setter(agreement, "title", ["GSOMIA"]), "agreements[0].title: expected a string, got a list"),
    ("not JSON", lambda d: RawText("{not json"), "document: not JSON"),
    ("empty file", lambda d: RawText(""), "document: the file is empty"),
    ("not an object", lambda d: RawText("[]"), "document: expected an object, got a list"),
    (
        "not_after before the date",
        setter(lambda d: event(d, 2), "not_after", "2012-05-31"),
        'events[2].not_after: "2012-05-31" is before',
    ),
    (
        "occurred in the future",
        setter(lambda d: event(d, 5), "date", "2999-01-01"),
        'events[5].date: "2999-01-01" is in the future',
    ),
    ("unknown field", setter(lambda d: d, "agreement", []), "document.agreement: is not a field"),
    (
        "related to an unknown agreement",
        lambda d: agreement(d)["related"][0].update(slug="kr-jp-nowhere"),
        'related[0].slug: "kr-jp-nowhere" is neither',
    ),
    (
        "unknown publisher",
        setter(lambda d: d["sources"][0], "publisher", "Nobody"),
        'sources[0].publisher: "Nobody" is not a known publisher',
    ),
    ("bad language tag", setter(lambda d: d["sources"][0], "language", "english!"), "sources[0].language:"),
    ("free-text published", setter(lambda d: d["sources"][0], "published", "yesterday"), "sources[0].published:"),
    ("unknown confidence", setter(lambda d: event(d, 0), "confidence", "certain"), "events[0].confidence:"),
    ("alias without language", lambda d: agreement(d)["aliases"][0].pop("language"), 'aliases[0]: "language" is'),
    ("bad slug", setter(agreement, "slug", "KR JP"), 'agreements[0].slug: "KR JP" is not a slug'),
    ("citation cited twice", lambda d: event(d, 1)["citations"].append(dict(event(d, 1)["citations"][0])), "twice"),
    (
        "duplicate source key",
        lambda d: d["sources"][1].update(key="yonhap-2012-06-27-gsomia-3ld"),
        'sources[1].key: "yonhap-2012-06-27-gsomia-3ld" appears twice',
    ),
    ("number for a date", setter(lambda d: event(d, 1), "date", 2012), "events[1].date: expected a date string"),
]


@pytest.mark.parametrize(("mutate", "message"), [case[1:] for case in BAD_DOCUMENTS], ids=[c[0] for c in BAD_DOCUMENTS])
def test_a_bad_file_is_refused_whole_naming_the_place(tmp_path, mutate, message):
    import_document(gsomia_document())
    before, history = snapshot(), history_count()
    document = gsomia_document()
    # A valid change elsewhere in the same file proves that nothing is half-written.
    document["agreements"][1]["summary"] = "This change must not land."
    replaced = mutate(document)
    with pytest.raises(CommandError, match="nothing was written"):
        run_import(tmp_path, file_text(document, replaced))
    assert snapshot() == before
    assert history_count() == history


@pytest.mark.parametrize(("mutate", "message"), [case[1:] for case in BAD_DOCUMENTS], ids=[c[0] for c in BAD_DOCUMENTS])
def test_each_bad_file_says_what_is_wrong_and_where(tmp_path, mutate, message, capsys):
    document = gsomia_document()
    replaced = mutate(document)
    path = tmp_path / "bad.json"
    path.write_text(file_text(document, replaced), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_agreements", str(path), stderr=err)
    assert message in err.getvalue()
    assert Agreement.objects.count() == 0
