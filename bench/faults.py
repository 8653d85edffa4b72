"""`make faults`: what users see when PostgreSQL restarts or a worker dies under load.

Not part of `make test`: it restarts this machine's PostgreSQL server. Steps:

1. A fresh database `pacts_faults` with the demo data, an analyst and an editor.
2. gunicorn serves it with production settings (gunicorn.conf.py, DEBUG off).
3. Readers load the timeline, the list and /healthz while an editor adds events,
   each with a unique summary; every request's start, end and status is logged.
4. Fault 1: `pg_ctlcluster <version> <cluster> restart` during the load.
   Fault 2: SIGTERM to one worker (graceful), then SIGKILL to another.
5. Afterwards every write is checked: each answered 302 made exactly one event
   with its history row, each refused one made none, and every agreement's stored
   status is the one its events give.

The results replace the "Faults" section of docs/benchmarks.md.

FAULTS_POSTGRES (postgres://postgres@127.0.0.1:5432) and FAULTS_CLUSTER (main) name
the server to use and restart; a cluster of its own keeps other users of the
machine's PostgreSQL out of the restart:

    pg_createcluster 15 faults --port 5433   # then trust 127.0.0.1 in its pg_hba.conf
    FAULTS_POSTGRES=postgres://postgres@127.0.0.1:5433 FAULTS_CLUSTER=faults make faults
"""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
REPORT = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- faults:results -->", "<!-- /faults:results -->"
POSTGRES = os.environ.get("FAULTS_POSTGRES", "postgres://postgres@127.0.0.1:5432")
CLUSTER = os.environ.get("FAULTS_CLUSTER", "main")
DATABASE = "pacts_faults"
PORT = int(os.environ.get("FAULTS_PORT", "8766"))
BASE = f"http://127.0.0.1:{PORT}"
READERS, PHASE_SECONDS = 4, 8
SLUG = "kr-jp-gsomia"

SERVER_ENV = {
    "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1",
    "PACTS_PROXY_COUNT": "0",
    "GUNICORN_BIND": f"127.0.0.1:{PORT}",
    "WEB_CONCURRENCY": "2",
}


def say(message):
    print(f"[faults {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def manage(*args, capture=False):
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"} | SERVER_ENV
    result = subprocess.run(
        [str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, check=True, text=True, capture_output=capture
    )
    return result.stdout if capture else None


def prepare():
    """A fresh database with the demo, and a session cookie for an analyst and an editor."""
    for sql in (f"DROP DATABASE IF EXISTS {DATABASE}", f"CREATE DATABASE {DATABASE}"):
        subprocess.run(["psql", f"{POSTGRES}/postgres", "-qc", sql], check=True)
    manage("migrate", "--noinput", "-v", "0")
    manage("collectstatic", "--noinput", "-v", "0")
    manage("load_demo")
    script = """
from django.contrib.auth import get_user_model, HASH_SESSION_KEY, SESSION_KEY, BACKEND_SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.conf import settings
import json
keys = {}
for role in ("analyst", "editor"):
    user = get_user_model().objects.create_user(role, password=None)
    user.groups.add(Group.objects.get(name=role))
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    keys[role] = session.session_key
print(json.dumps(keys))
"""
    return json.loads(manage("shell", "-c", script, capture=True).strip().splitlines()[-1])


class Load:
    """Reader and editor threads; every request logged as (start, end, kind, status)."""

    def __init__(self, sessions):
        self.sessions = sessions
        self.log = []
        self.writes = []  # (summary, status)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.csrf = secrets.token_hex(16)  # a 32-character secret serves as cookie and header alike

    def request(self, kind, path, role, data=None):
        headers = {"X-Forwarded-Proto": "https", "Cookie": f"sessionid={self.sessions[role]}; csrftoken={self.csrf}"}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers |= {"X-CSRFToken": self.csrf, "Origin": f"https://127.0.0.1:{PORT}"}
        request = urllib.request.Request(BASE + path, data=body, headers=headers, method="POST" if body else "GET")
        opener = urllib.request.build_opener(NoRedirect)
        start = time.monotonic()
        try:
            with opener.open(request, timeout=30) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except Exception as error:  # a dropped connection is the thing being measured
            status = f"error: {type(error).__name__}"
        with self.lock:
            self.log.append((start, time.monotonic(), kind, status))
        return status

    def reader(self, n):
        paths = [f"/agreements/{SLUG}/", "/agreements/", "/healthz"]
        i = n
        while not self.stop.is_set():
            self.request("read", paths[i % len(paths)], "analyst")
            i += 1

    def editor(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            summary = f"fault probe {n} {secrets.token_hex(4)}"
            data = {
                "kind": "statement",
                "lane": "joint",
                "status": "occurred",
                "date": "2016-11-23",
                "confidence": "high",
                "summary": summary,
                "creation_key": str(uuid.uuid4()),
            }
            status = self.request("write", f"/agreements/{SLUG}/events/new/", "editor", data)
            with self.lock:
                self.writes.append((summary, status))
            time.sleep(0.05)

    def __enter__(self):
        self.threads = [threading.Thread(target=self.reader, args=(n,)) for n in range(READERS)]
        self.threads.append(threading.Thread(target=self.editor))
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def serve():
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"} | SERVER_ENV
    log = open(Path("/tmp") / "pacts-faults-gunicorn.log", "w")  # noqa: SIM115 (closed with the server)
    server = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py"], cwd=ROOT, env=env, stdout=log, stderr=log)
    for _ in range(100):
        try:
            urllib.request.urlopen(BASE + "/healthz", timeout=1)
            return server
        except Exception:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start; see /tmp/pacts-faults-gunicorn.log")


def workers(server):
    children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in children]


def phases(log, begin, end, grace=0.0):
    """Statuses of requests that started before, during (begin..end+grace) and after the fault."""
    counts = {"before": Counter(), "during": Counter(), "after": Counter()}
    for start, _, _, status in log:
        phase = "before" if start < begin else "during" if start <= end + grace else "after"
        counts[phase][status] += 1
    return counts


def postgres_restart():
    version = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True).stdout.split()[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, CLUSTER, "restart"], check=True)


def fault(name, sessions, action):
    with Load(sessions) as load:
        time.sleep(PHASE_SECONDS)
        begin = time.monotonic()
        detail = action()
        end = time.monotonic()
        time.sleep(PHASE_SECONDS)
    statuses = phases(load.log, begin, end, grace=2.0)
    recovered = min((s for s, _, _, status in load.log if s > end and status in (200, 302)), default=None)
    return {
        "name": name,
        "detail": detail,
        "seconds": round(end - begin, 2),
        "recovered_after": None if recovered is None else round(recovered - end, 2),
        "phases": {phase: dict(counter) for phase, counter in statuses.items()},
        "writes": load.writes,
    }


def check_writes(results):
    """Every write answered 302 made one event with history; every other made none; statuses are derived right."""
    summaries = {summary: status for result in results for summary, status in result["writes"]}
    script = f"""
import json
from pacts.models import Agreement, Event
summaries = json.loads({json.dumps(json.dumps(list(summaries)))})
found = {{}}
for event in Event.objects.filter(summary__in=summaries):
    found[event.summary] = found.get(event.summary, 0) + 1
    assert event.history.filter(history_type="+").count() == 1, event.pk
wrong = [a.slug for a in Agreement.objects.all() if (a.status, a.notice) != a.compute_status()]
print(json.dumps({{"found": found, "wrong_status": wrong}}))
"""
    outcome = json.loads(manage("shell", "-c", script, capture=True).strip().splitlines()[-1])
    problems = []
    for summary, status in summaries.items():
        made = outcome["found"].get(summary, 0)
        if status == 302 and made != 1:
            problems.append(f"{summary}: answered 302 but made {made} events")
        if status != 302 and made not in (0, 1):
            problems.append(f"{summary}: answered {status} and made {made} events")
        if status != 302 and made == 1:
            # The commit happened but the answer was lost (connection cut): not half-written, but reported.
            problems.append(f"{summary}: answered {status} yet its event exists (committed, answer lost)")
    return problems, outcome["wrong_status"], Counter(str(status) for status in summaries.values())


def report(results, problems, wrong_status, write_statuses):
    lines = [
        BEGIN,
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `make faults` "
        f"({READERS} reader threads and 1 editor thread against 2 gunicorn workers, 4 threads each).",
        "",
    ]
    lines += [
        "| fault | fault took | first success after | before | during (+2 s) | after |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        cells = [
            ", ".join(f"{status}: {n}" for status, n in sorted(p.items(), key=str)) or "—"
            for p in result["phases"].values()
        ]
        recovered = "—" if result["recovered_after"] is None else f"{result['recovered_after']} s"
        lines.append(
            f"| {result['name']} ({result['detail']}) | {result['seconds']} s | {recovered} | "
            + " | ".join(cells)
            + " |"
        )
    lines += ["", f"Writes answered: {dict(write_statuses)}.", ""]
    lines.append("Half-written or lost rows: " + ("none." if not problems else "; ".join(problems)))
    lines.append("Agreements whose stored status differs from their events: " + (", ".join(wrong_status) or "none."))
    lines += ["", END]
    text = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    section = "\n".join(lines)
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: section, text, flags=re.S)
    else:
        text += "\n## Faults\n\n" + section + "\n"
    REPORT.write_text(text)


def main():
    say("preparing pacts_faults")
    sessions = prepare()
    server = serve()
    try:
        results = [fault("PostgreSQL restart", sessions, lambda: postgres_restart() or "pg_ctlcluster restart")]
        first, second = workers(server)[:2]

        def graceful():
            os.kill(first, signal.SIGTERM)
            return f"SIGTERM to worker {first}"

        def brutal():
            os.kill(second, signal.SIGKILL)
            return f"SIGKILL to worker {second}"

        results.append(fault("worker stopped", sessions, graceful))
        results.append(fault("worker killed", sessions, brutal))
    finally:
        server.terminate()
        server.wait(timeout=30)
    problems, wrong_status, write_statuses = check_writes(results)
    report(results, problems, wrong_status, write_statuses)
    for result in results:
        say(f"{result['name']}: {result['phases']} recovered after {result['recovered_after']} s")
    say(f"writes: {dict(write_statuses)}; problems: {problems or 'none'}; wrong status: {wrong_status or 'none'}")


if __name__ == "__main__":
    main()
