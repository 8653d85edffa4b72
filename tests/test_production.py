"""Production serving: gunicorn, static files, outages, timeouts, structured logs, the read replica."""

import csv
import io
import json
import logging
import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg2
import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.template import engines
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pacts.apps import restore_reference_data
from pacts.logs import JSONFormatter
from pacts.models import Agreement, Event
from pacts.replicas import COOKIE, ReplicaRouter, reads_from_replica
from pacts.views.exports import one_snapshot
from tests.conftest import HTMX

ROOT = Path(__file__).resolve().parent.parent


def database_url():
    """The test database, for another process to connect to."""
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_python(code, *, args=None, **env):
    """Run code (or a script with args) in a new Python process with the test settings and the given environment."""
    base = {k: v for k, v in os.environ.items() if k not in {"PACTS_WEB", "DEBUG"}}
    base |= {"DJANGO_SETTINGS_MODULE": "tests.settings", "ALLOWED_HOSTS": "testserver"}
    result = subprocess.run(
        [sys.executable, *(args or ["-c", code])], env=base | env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    # The last line: the app logs to stdout as well.
    return result.stdout.splitlines()[-1]


# --- gunicorn -------------------------------------------------------------------------


def gunicorn_settings(monkeypatch, **env):
    names = "GUNICORN_BIND WEB_CONCURRENCY GUNICORN_THREADS GUNICORN_TIMEOUT GUNICORN_MAX_REQUESTS FORWARDED_ALLOW_IPS"
    for name in names.split():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_defaults_listen_locally_with_threaded_workers_that_are_recycled(monkeypatch):
    config = gunicorn_settings(monkeypatch)
    assert config["bind"] == "127.0.0.1:8000"
    assert config["workers"] == min(2 * os.cpu_count() + 1, 8)
    assert (config["worker_class"], config["threads"]) == ("gthread", 4)
    assert config["max_requests"] > 0
    assert config["max_requests_jitter"] > 0
    assert config["preload_app"] is True
    assert config["forwarded_allow_ips"] == "127.0.0.1,::1"


def test_the_master_compiles_every_template_before_forking_the_workers(monkeypatch):
    assert "when_ready" in gunicorn_settings(monkeypatch)  # the hook that calls warm_up
    monkeypatch.setenv("SECRET_KEY", "test")
    monkeypatch.setenv("PACTS_WEB", "1")  # pacts.wsgi sets it; monkeypatch takes it away after
    from pacts.wsgi import warm_up

    loader = engines["django"].engine.template_loaders[0]
    loader.reset()
    warm_up()
    templates = {path.relative_to(ROOT / "templates").as_posix() for path in (ROOT / "templates").rglob("*.html")}
    assert len(templates) > 30
    assert templates <= set(loader.get_template_cache)


def test_gunicorn_settings_come_from_the_environment(monkeypatch):
    config = gunicorn_settings(
        monkeypatch,
        GUNICORN_BIND="0.0.0.0:9000",
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="2",
        GUNICORN_TIMEOUT="60",
        GUNICORN_MAX_REQUESTS="0",
        FORWARDED_ALLOW_IPS="10.0.0.5",
    )
    assert (config["bind"], config["workers"], config["threads"]) == ("0.0.0.0:9000", 3, 2)
    assert (config["timeout"], config["max_requests"], config["forwarded_allow_ips"]) == (60, 0, "10.0.0.5")


def test_gunicorn_gathers_no_access_log_that_nobody_reads(monkeypatch):
    from gunicorn.config import Config

    settings = gunicorn_settings(monkeypatch)
    config = Config()
    for name in ("logconfig_dict", "logger_class", "accesslog"):
        config.set(name, settings[name])
    logger = config.logger_class(config)
    monkeypatch.setattr(logger, "atoms", lambda *args: pytest.fail("gathered an access log line"))
    logger.access(None, None, {}, None)
    assert logger.error_log.handlers  # its own lines still go out


@pytest.mark.django_db
def test_gunicorn_serves_the_app_and_logs_json_lines():
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"PACTS_WEB", "DEBUG"}}
    env |= {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        answer = None
        for _ in range(600):  # the app starting; a hang guard, not a timing
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "r-42"})
                with urllib.request.urlopen(request) as response:
                    answer = response.status, response.read()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                time.sleep(0.1)
        assert answer == (200, b"ok\n")
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=60)
    lines = [json.loads(line) for line in output.splitlines()]
    assert any(line["logger"] == "gunicorn.error" and "Booting worker" in line["message"] for line in lines)
    (request_line,) = [line for line in lines if line["logger"] == "pacts.request"]
    assert request_line | {"duration_ms": None} == {
        "time": request_line["time"],
        "level": "INFO",
        "logger": "pacts.request",
        "message": "GET /healthz 200",
        "method": "GET",
        "path": "/healthz",
        "status": 200,
        "duration_ms": None,
        "user_id": None,
        "request_id": "r-42",
    }


def test_the_app_opens_no_database_connection_while_loading():
    """gunicorn loads the app once and forks workers from it (preload_app), which must not share a connection."""
    output = run_python(
        "import pacts.wsgi; from django.db import connections;"
        "print([alias for alias in connections if connections[alias].connection is not None])"
    )
    assert output.strip() == "[]"


# --- static files ---------------------------------------------------------------------


@pytest.fixture
def collected_static(tmp_path, settings):
    """collectstatic with the production storage: hashed, compressed files and their manifest."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    return tmp_path


def test_collected_static_files_are_hashed_compressed_and_served_for_ever(collected_static, client):
    manifest = json.loads((collected_static / "staticfiles.json").read_text())["paths"]
    stylesheet = manifest["pacts/pacts.css"]
    assert stylesheet != "pacts/pacts.css"
    assert (collected_static / f"{stylesheet}.gz").exists()

    page = client.get(reverse("login")).content.decode()
    assert f'href="/static/{stylesheet}"' in page
    assert f'src="/static/{manifest["pacts/pacts.js"]}"' in page
    # {% htmx_script %} resolves through the manifest too.
    assert f'src="/static/{manifest["django_htmx/htmx-2.min.js"]}"' in page

    response = client.get(f"/static/{stylesheet}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]


# --- outages: /healthz and 503 ---------------------------------------------------------

OUTAGE_PROBE = """
import json
import django
django.setup()
from django.test import Client
client = Client()
answers = {}
signed_in = Client()
signed_in.cookies["sessionid"] = "a" * 32
for name, visitor, path, headers in [
    ("healthz", client, "/healthz", {}),
    ("page", client, "/agreements/", {}),
    ("htmx", client, "/agreements/", {"HX-Request": "true"}),
    ("signed-in", signed_in, "/agreements/", {}),
]:
    response = visitor.get(path, headers=headers)
    answers[name] = [response.status_code, response.get("Retry-After"), response.content.decode()]
print(json.dumps(answers))
"""


def test_with_the_database_down_healthz_and_pages_answer_503():
    """A real app process whose database does not answer: nothing listens on its port."""
    answers = json.loads(
        run_python(
            OUTAGE_PROBE, DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/pacts", PACTS_PUBLIC_READ="1"
        )
    )
    assert answers["healthz"][:2] == [503, None]
    status, retry_after, page = answers["page"]
    assert (status, retry_after) == (503, "30")
    assert "Pacts is briefly unavailable" in page
    assert 'class="error-page"' in page
    status, retry_after, text = answers["htmx"]
    assert (status, retry_after) == (503, "30")
    assert "<html" not in text
    # A signed-in visitor's session cannot be read either; the page does not try again.
    assert answers["signed-in"] == answers["page"]


def test_healthz_answers_200_when_the_database_answers(client, db):
    assert client.get("/healthz").content == b"ok\n"


@pytest.fixture
def agreements_locked(db):
    """Another session holds a lock on the agreements table, as a long migration or a stuck transaction would."""
    other = psycopg2.connect(database_url())
    with other.cursor() as cursor:
        cursor.execute("LOCK TABLE pacts_agreement IN ACCESS EXCLUSIVE MODE")
    yield
    other.rollback()
    other.close()
    # The cancelled statement aborted the test's transaction: nothing is left to check.
    transaction.set_rollback(True)


@pytest.mark.parametrize("timeout", ["statement_timeout", "lock_timeout"])
def test_a_query_that_runs_out_of_time_answers_503(reader, agreements_locked, timeout):
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL {timeout} = '50ms'")
    response = reader.get(reverse("agreement-list"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    assert "Pacts is briefly unavailable" in response.content.decode()


def test_an_htmx_request_that_runs_out_of_time_gets_a_short_503(reader, agreements_locked):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '50ms'")
    response = reader.get(reverse("agreement-list"), headers=HTMX)
    assert (response.status_code, response["Retry-After"]) == (503, "30")
    assert response.content == b"Pacts is briefly unavailable.\n"


def test_pacts_js_tells_the_user_about_an_outage_and_clears_it_when_it_passes():
    script = (ROOT / "static/pacts/pacts.js").read_text()
    assert 'status === 503 ? "Pacts is briefly unavailable' in script
    assert "htmx:afterRequest" in script


# --- statement and lock timeouts ------------------------------------------------------

SHOW_TIMEOUTS = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SHOW statement_timeout")
    statement = cursor.fetchone()[0]
    cursor.execute("SHOW lock_timeout")
    print(statement, cursor.fetchone()[0])
"""


@pytest.mark.django_db
def test_web_requests_have_statement_and_lock_timeouts():
    assert run_python("import pacts.wsgi\n" + SHOW_TIMEOUTS, DATABASE_URL=database_url()).split() == ["5s", "2s"]


@pytest.mark.django_db
def test_management_commands_have_no_timeouts():
    output = run_python(None, args=["manage.py", "shell", "-c", SHOW_TIMEOUTS], DATABASE_URL=database_url())
    assert output.split() == ["0", "0"]


@pytest.mark.django_db
def test_timeouts_come_from_the_environment():
    output = run_python(
        "import pacts.wsgi\n" + SHOW_TIMEOUTS,
        DATABASE_URL=database_url(),
        DATABASE_STATEMENT_TIMEOUT="1500ms",
        DATABASE_LOCK_TIMEOUT="0",
    )
    assert output.split() == ["1500ms", "0"]


@pytest.mark.django_db
@override_settings(PACTS_WEB=True)
def test_a_streamed_export_lifts_the_statement_timeout():
    def timeout_inside():
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            yield cursor.fetchone()[0]

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '5s'")
    assert list(one_snapshot(timeout_inside())) == ["0"]


SETTINGS_PROBE = """
import json
from django.conf import settings
from django.core.cache import caches
print(json.dumps({
    "databases": {alias: {k: v for k, v in db.items() if k != "TEST"} for alias, db in settings.DATABASES.items()},
    "routers": settings.DATABASE_ROUTERS,
    "middleware": settings.MIDDLEWARE,
    "cache": type(caches["default"]).__name__,
    "static": settings.STORAGES["staticfiles"]["BACKEND"],
}, default=str))
"""


def test_production_settings_from_the_environment():
    found = json.loads(
        run_python(
            SETTINGS_PROBE,
            DJANGO_SETTINGS_MODULE="pacts.settings",
            PACTS_WEB="1",
            DATABASE_URL="postgres://pacts@primary.internal:5432/pacts?sslmode=require",
            DATABASE_REPLICA_URL="postgres://pacts@replica.internal:5432/pacts",
            DATABASE_CONN_MAX_AGE="300",
            REDIS_URL="redis://cache.internal:6379/0",
        )
    )
    primary, replica = found["databases"]["default"], found["databases"]["replica"]
    assert (primary["HOST"], replica["HOST"]) == ("primary.internal", "replica.internal")
    assert primary["CONN_MAX_AGE"] == 300
    assert primary["CONN_HEALTH_CHECKS"] is True
    assert primary["OPTIONS"] == {
        "sslmode": "require",
        "connect_timeout": 5,
        "options": "-c statement_timeout=5s -c lock_timeout=2s -c jit=off",
    }
    assert replica["OPTIONS"]["options"] == primary["OPTIONS"]["options"]
    assert found["routers"] == ["pacts.replicas.ReplicaRouter"]
    middleware = found["middleware"]
    assert middleware.index("pacts.replicas.PrimaryAfterWriteMiddleware") < middleware.index(
        "django.contrib.sessions.middleware.SessionMiddleware"
    )
    assert found["cache"] == "RedisCache"
    assert found["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_without_a_replica_there_is_no_router():
    found = json.loads(run_python(SETTINGS_PROBE, DJANGO_SETTINGS_MODULE="pacts.settings"))
    assert list(found["databases"]) == ["default"]
    assert found["routers"] == []
    assert "pacts.replicas.PrimaryAfterWriteMiddleware" not in found["middleware"]
    assert found["cache"] == "LocMemCache"


def test_a_malformed_timeout_stops_the_app_from_starting():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=os.environ | {"DJANGO_SETTINGS_MODULE": "pacts.settings", "DATABASE_STATEMENT_TIMEOUT": "5 seconds"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "DATABASE_STATEMENT_TIMEOUT must be like 5s" in result.stderr


# --- structured logs ------------------------------------------------------------------


def test_a_log_line_is_one_json_object_with_its_extra_fields():
    record = logging.makeLogRecord(
        {"name": "pacts.test", "levelname": "WARNING", "msg": "saved %s", "args": ("GSOMIA",), "status": 422}
    )
    record.request = object()  # Django adds its request to its own records; it is not a value to log
    line = JSONFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line) == {
        "time": json.loads(line)["time"],
        "level": "WARNING",
        "logger": "pacts.test",
        "message": "saved GSOMIA",
        "status": 422,
    }


def test_an_exception_is_logged_inside_its_line():
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        record = logging.makeLogRecord({"msg": "failed", "exc_info": sys.exc_info()})
    line = JSONFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line)["exception"].endswith("ValueError: bad\nthing")


@pytest.fixture
def log_lines():
    """What the app logs while the test runs, as the production handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_each_request_logs_one_line_with_its_user_and_request_id(reader, analyst, log_lines, gsomia):
    reader.get(f"{reverse('agreement-list')}?q=gsomia&token=secret", headers={"X-Request-ID": "abc-123"})
    (line,) = [line for line in log_lines() if line["logger"] == "pacts.request"]
    assert line["message"] == "GET /agreements/ 200"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/agreements/", 200)
    assert (line["user_id"], line["request_id"]) == (analyst.pk, "abc-123")
    assert line["duration_ms"] >= 0
    assert "secret" not in json.dumps(log_lines())


def test_every_line_logged_during_a_request_carries_its_request_id(reader, log_lines):
    reader.get("/no-such-page/", headers={"X-Request-ID": "req-7"})
    warning = next(line for line in log_lines() if line["logger"] == "django.request")
    assert (warning["level"], warning["status_code"], warning["request_id"]) == ("WARNING", 404, "req-7")


def test_a_malformed_request_id_is_left_out(reader, log_lines):
    reader.get("/healthz", headers={"X-Request-ID": '"}{' + "x" * 300})
    (line,) = [line for line in log_lines() if line["logger"] == "pacts.request"]
    assert "request_id" not in line


def test_logging_a_request_costs_no_query(reader, django_assert_num_queries):
    with django_assert_num_queries(1):  # /healthz's own SELECT 1, not the session and the user
        reader.get("/healthz")


# --- the read replica -----------------------------------------------------------------


def test_the_router_reads_from_the_replica_only_when_a_request_says_so():
    router = ReplicaRouter()
    assert router.db_for_read(Agreement) == "default"
    token = reads_from_replica.set(True)
    try:
        assert router.db_for_read(Agreement) == "replica"
        assert router.db_for_write(Agreement) == "default"
    finally:
        reads_from_replica.reset(token)
    assert (router.allow_migrate("default", "pacts"), router.allow_migrate("replica", "pacts")) == (True, False)


@pytest.fixture
def replica_routing(settings):
    """The replica settings as DATABASE_REPLICA_URL turns them on; the replica is the test database, mirrored.

    These tests commit, and a serialized-rollback test run before them leaves the
    database flushed without its parties and roles: put them back first.
    """
    restore_reference_data(sender=None, app_config=apps.get_app_config("pacts"), using="default")
    settings.DATABASE_ROUTERS = ["pacts.replicas.ReplicaRouter"]
    middleware = list(settings.MIDDLEWARE)
    middleware.insert(
        middleware.index("django.contrib.sessions.middleware.SessionMiddleware"),
        "pacts.replicas.PrimaryAfterWriteMiddleware",
    )
    settings.MIDDLEWARE = middleware


def queries_by_database(client, method, path, **kwargs):
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = getattr(client, method)(path, **kwargs)
    return response, len(primary), len(replica)


# The replica is another connection, which sees only committed rows: these tests commit.
replica_test = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@replica_test
def test_a_reader_reads_from_the_replica(replica_routing, reader, gsomia):
    response, primary, replica = queries_by_database(reader, "get", gsomia.get_absolute_url())
    assert response.status_code == 200
    assert (primary, replica > 0) == (0, True)
    assert COOKIE not in response.cookies


@replica_test
def test_after_signing_in_the_next_pages_read_from_the_primary(replica_routing, client, make_user, settings):
    make_user("analyst", username="ana")
    response, primary, replica = queries_by_database(
        client, "post", reverse("login"), data={"username": "ana", "password": "pw"}
    )
    assert response.status_code == 302
    assert (primary > 0, replica) == (True, 0)
    cookie = response.cookies[COOKIE]
    assert cookie["max-age"] == settings.PACTS_PRIMARY_AFTER_WRITE_SECONDS
    assert cookie["httponly"]

    response, primary, replica = queries_by_database(client, "get", reverse("agreement-list"))
    assert response.status_code == 200
    assert (primary > 0, replica) == (True, 0)

    # Once the cookie has expired, reads go back to the replica.
    del client.cookies[COOKIE]
    response, primary, replica = queries_by_database(client, "get", reverse("agreement-list"))
    assert response.status_code == 200
    assert (primary, replica > 0) == (0, True)


@replica_test
def test_a_streamed_export_reads_its_snapshot_from_the_replica(replica_routing, reader, gsomia):
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = reader.get(reverse("export-events"))
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1 + Event.objects.count()
    # The session and the user are read before the response; the events while it streams.
    assert len(primary) == 0
    assert any("REPEATABLE READ" in query["sql"] for query in replica.captured_queries)
    assert any('FROM "pacts_event"' in query["sql"] for query in replica.captured_queries)


def test_healthz_answers_a_load_balancer_over_plain_http(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get(reverse("login")).status_code == 301


def test_a_commands_logs_stay_out_of_the_data_it_writes_to_stdout():
    """`manage.py export_agreements > file.json` must give a file of JSON only, whatever is logged meanwhile."""
    env = {**os.environ, "PACTS_WEB": "", "DEBUG": ""}
    script = "import logging; logging.getLogger('pacts').warning('a warning'); print('the data')"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == "the data\n"
    assert json.loads(result.stderr.strip().splitlines()[-1])["message"] == "a warning"
