"""`make bench`: load every page at three scales and write docs/benchmarks.md.

For each scale (1,000 / 10,000 / 100,000 agreements, 20 events each on average):

1. A template database `pacts_bench_<scale>` is seeded once by `seed_synthetic`; its
   comment records the parameters and the generator's version, and a rerun whose
   parameters match only copies it (`createdb -T`) into `pacts_bench_<scale>_run`.
2. bench/probe.py signs in an analyst, picks the URLs and counts each URL's queries.
3. gunicorn serves the copy with production settings (gunicorn.conf.py, DEBUG off, a
   fresh SECRET_KEY, ALLOWED_HOSTS=127.0.0.1) and wrk loads each URL in turn, sending
   `X-Forwarded-Proto: https` as the reverse proxy would, in BENCH_ROUNDS rounds (5).
   `/healthz` is loaded before the first page of a round and again after every page, and
   a page's ratio in a round is to the mean of the two `/healthz` runs on either side of
   it: seconds apart, so a shared machine's slow spells move both alike. The static
   file is loaded before the first round and after each. The report gives the median of
   each figure over the rounds. The poll and the 304, whose target (0.9 × /healthz) is
   within one round's noise of what they measure, go on alone for BENCH_CLOSE_ROUNDS
   rounds in all (15), each still between two /healthz runs.

After the last scale, a soak run loads every URL of that scale in turn for BENCH_SOAK
seconds (600; 0 skips it) with worker recycling off, and samples the workers' memory.

Durations and concurrency come from the environment: BENCH_DURATION (seconds per
URL and round, 3), BENCH_ROUNDS (5), BENCH_CLOSE_ROUNDS (15), BENCH_THREADS (2),
BENCH_CONNECTIONS (8), BENCH_SCALES (1k,10k,100k), BENCH_POSTGRES
(postgres://postgres@127.0.0.1:5432), BENCH_PORT (8765). With REDIS_URL set, the app
runs as deployed with a shared cache (sessions, roles, revisions and rendered fragments
shared by the workers; docs/deploy.md), emptied before each scale. Raw results go to
bench/results.json; docs/benchmarks.md keeps everything outside its generated section.
`python bench/run.py --report` rewrites that section from the last results without
running anything.
"""

import datetime
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
REPORT = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "bench" / "results.json"
GUNICORN_LOG = Path(tempfile.gettempdir()) / "pacts-bench-gunicorn.log"
BEGIN, END = "<!-- bench:results -->", "<!-- /bench:results -->"

SCALES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
EVENTS_PER_AGREEMENT = 20
SEED = 1
# Fixed, so that a template seeded on another day is still the same data.
TODAY = "2026-11-30"

DURATION = int(os.environ.get("BENCH_DURATION", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
# The pages measured against 0.9 × /healthz. A 3-second round of either moves by ±0.2
# around its median on this kind of machine (docs/benchmarks.md), so more rounds.
CLOSE = ("poll-204", "revalidation-304")
CLOSE_ROUNDS = max(ROUNDS, int(os.environ.get("BENCH_CLOSE_ROUNDS", "15")))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
PORT = int(os.environ.get("BENCH_PORT", "8765"))
SOAK = int(os.environ.get("BENCH_SOAK", "600"))
SOAK_SAMPLES = 10
HTTPS = {"X-Forwarded-Proto": "https"}
CLEAR_CACHE = "from django.core.cache import cache; cache.clear()"
# What every page is compared with (see step 3 above).
BASELINES = ("healthz", "static")
# wrk's figures of one run; a URL's row shows the median of each over the rounds.
MEDIANS = ("rps", "p50_ms", "p95_ms", "p99_ms")
COUNTS = ("requests", "bad_status", "socket_errors")


def say(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(command, env=None, capture=False):
    result = subprocess.run(
        [str(part) for part in command],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout.strip() if capture else None


def database_url(name):
    return f"{POSTGRES}/{name}"


def psql(sql):
    return run(["psql", database_url("postgres"), "-tAc", sql], capture=True)


def generator_version():
    code = "import django; django.setup(); from pacts import synthetic; print(synthetic.fingerprint())"
    return run([PYTHON, "-c", code], env={"DJANGO_SETTINGS_MODULE": "pacts.settings"}, capture=True)


def template(scale, agreements, version):
    """The seeded template database for a scale, made only if missing or made with other parameters."""
    name = f"pacts_bench_{scale}"
    wanted = (
        f"seed_synthetic agreements={agreements} events_per_agreement={EVENTS_PER_AGREEMENT} "
        f"seed={SEED} today={TODAY} version={version}"
    )
    found = psql(f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{name}'")
    if found == wanted:
        say(f"{name}: reusing the template ({wanted})")
        return name, None
    say(f"{name}: seeding {agreements:,} agreements")
    started = time.monotonic()
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{name}"')
    env = {"DATABASE_URL": database_url(name)}
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env=env)
    run(
        [
            PYTHON,
            "manage.py",
            "seed_synthetic",
            f"--agreements={agreements}",
            f"--events-per-agreement={EVENTS_PER_AGREEMENT}",
            f"--seed={SEED}",
            f"--today={TODAY}",
        ],
        env=env,
    )
    seconds = time.monotonic() - started
    psql(f"COMMENT ON DATABASE \"{name}\" IS '{wanted}'")
    return name, seconds


def working_copy(template_name):
    """A fresh copy of the template, migrated to the code as it is now."""
    name = f"{template_name}_run"
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env={"DATABASE_URL": database_url(name)})
    # A migration that rewrites rows (0010 fills columns of every agreement) leaves the
    # visibility map stale: index-only reads fall back to the table until a vacuum.
    run(["psql", database_url(name), "-qc", "VACUUM ANALYZE"])
    return name


def serve(env):
    """Start gunicorn with the production configuration; return the process once /healthz answers."""
    if (ROOT / "gunicorn.conf.py").exists():
        command = [GUNICORN, "-c", "gunicorn.conf.py"]
    else:
        command = [GUNICORN, "pacts.wsgi:application", "--workers", "3"]
    log = open(GUNICORN_LOG, "a")  # noqa: SIM115 (lives as long as the server)
    server = subprocess.Popen(
        [str(part) for part in command] + ["--bind", f"127.0.0.1:{PORT}"],
        cwd=ROOT,
        env={**os.environ, **env, "GUNICORN_BIND": f"127.0.0.1:{PORT}"},
        stdout=log,
        stderr=log,
    )
    for _ in range(120):
        try:
            if fetch("/healthz")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise RuntimeError(f"gunicorn did not answer /healthz within a minute; see {GUNICORN_LOG}")


def fetch(url, headers=None):
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{quote(url)}", headers={**HTTPS, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def quote(url):
    return urllib.parse.quote(url, safe="/?=&%:+;,")


def workers(server):
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def rss_mb(pid):
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:  # gone since its parent listed it
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def worker_memory(server):
    """Each worker's RSS in MB; a worker being replaced (GUNICORN_MAX_REQUESTS) has none left to count."""
    return [rss for pid in workers(server) if (rss := rss_mb(pid)) is not None]


def load(url, headers):
    """One wrk run against a URL; the JSON line bench/report.lua prints."""
    # A slow page should show as latency, not as wrk's default 2-second socket timeout.
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--timeout", "30s"]
    command += ["-s", ROOT / "bench" / "report.lua"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = run(command + [f"http://127.0.0.1:{PORT}{quote(url)}"], capture=True)
    return json.loads(next(line for line in reversed(output.splitlines()) if line.startswith("{")))


def bench_scale(scale, agreements, version, secret_key, last=False):
    template_name, seed_seconds = template(scale, agreements, version)
    name = working_copy(template_name)
    env = {
        "DATABASE_URL": database_url(name),
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DEBUG": "",
        "DJANGO_SETTINGS_MODULE": "pacts.settings",
    }
    # A shared cache (REDIS_URL) outlives a scale: ids and revisions repeat between scales.
    run([PYTHON, "manage.py", "shell", "--no-imports", "-c", CLEAR_CACHE], env=env)
    say(f"{name}: probing URLs and query counts")
    with tempfile.NamedTemporaryFile(suffix=".json") as found:
        run([PYTHON, ROOT / "bench" / "probe.py", found.name], env=env, capture=True)
        probe = json.loads(Path(found.name).read_text())
    cookie = {"Cookie": probe["cookie"]}
    server = serve(env)
    try:
        for entry in probe["urls"]:
            status, _ = fetch(entry["url"], {**cookie, **entry["headers"]})
            entry["served_status"] = status
        memory_before = worker_memory(server)
        runs = {entry["key"]: [] for entry in probe["urls"]}

        def measure(entry, note=""):
            say(f"{scale}{note}: {entry['name']}")
            runs[entry["key"]].append(load(entry["url"], {**HTTPS, **cookie, **entry["headers"]}))
            return runs[entry["key"]][-1]

        by_key = {entry["key"]: entry for entry in probe["urls"]}
        pages = [entry for entry in probe["urls"] if entry["key"] not in BASELINES]
        static_before = measure(by_key["static"])
        for number in range(1, CLOSE_ROUNDS + 1):
            note = f", round {number}/{ROUNDS if number <= ROUNDS else CLOSE_ROUNDS}"
            healthz_before, measured = measure(by_key["healthz"], note), []
            for entry in pages if number <= ROUNDS else [entry for entry in pages if entry["key"] in CLOSE]:
                loaded = measure(entry, note)
                healthz_after = measure(by_key["healthz"], note)
                loaded["healthz_around"] = [healthz_before["rps"], healthz_after["rps"]]
                healthz_before = healthz_after
                measured.append(loaded)
            static_after = measure(by_key["static"], note)
            for loaded in measured:
                loaded["static_around"] = [static_before["rps"], static_after["rps"]]
            static_before = static_after
        memory_after = worker_memory(server)
    finally:
        server.terminate()
        server.wait(timeout=60)
    healthz, static = (statistics.median(run["rps"] for run in runs[key]) for key in BASELINES)
    for entry in probe["urls"]:
        entry |= summarise(runs[entry["key"]], healthz, static)
    soak = soak_run(env, probe["urls"], cookie) if last and SOAK else None
    return {
        "scale": scale,
        "agreements": agreements,
        "seed_seconds": seed_seconds,
        "urls": probe["urls"],
        "memory_before_mb": memory_before,
        "memory_after_mb": memory_after,
        "soak": soak,
    }


def summarise(runs, healthz, static):
    """A URL's figures over its runs: each the median of the runs', each ratio too.

    A page's run carries the req/s of the /healthz runs just before and after it, and
    of the static file's runs around its round: its ratios are to their means. The
    yardsticks' own rows compare their medians (`healthz` and `static`).
    """
    figures = {name: round(statistics.median(run[name] for run in runs), 3) for name in MEDIANS}
    figures |= {name: sum(run[name] for run in runs) for name in COUNTS}
    figures["max_ms"] = max(run["max_ms"] for run in runs)
    figures["seconds"] = round(sum(run["seconds"] for run in runs), 3)
    for name, median in (("healthz", healthz), ("static", static)):
        if f"{name}_around" in runs[0]:
            ratios = [run["rps"] / (statistics.mean(run[f"{name}_around"]) or 1) for run in runs]
        else:
            ratios = [run["rps"] / (median or 1) for run in runs]
        figures[f"vs_{name}"] = round(statistics.median(ratios), 3)
        figures[f"vs_{name}_rounds"] = [round(ratio, 3) for ratio in ratios]
    figures["rounds"] = runs
    return figures


def soak_run(env, urls, cookie):
    """Every URL in turn for SOAK seconds, workers never recycled; their memory sampled as it goes."""
    say(f"soak: every URL in turn for {SOAK} s, worker recycling off")
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as listing:
        for entry in urls:
            headers = {**HTTPS, **cookie, **entry["headers"]}
            listing.write("\t".join([quote(entry["url"]), *(f"{k}: {v}" for k, v in headers.items())]) + "\n")
    server = serve({**env, "GUNICORN_MAX_REQUESTS": "0"})
    try:
        for entry in urls:  # each page once, so that the first sample is of warm workers
            fetch(entry["url"], {**cookie, **entry["headers"]})
        command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{SOAK}s", "--timeout", "30s"]
        command += ["-s", ROOT / "bench" / "soak.lua", f"http://127.0.0.1:{PORT}/"]
        load = subprocess.Popen(
            [str(part) for part in command],
            cwd=ROOT,
            env={**os.environ, "BENCH_SOAK_URLS": listing.name},
            stdout=subprocess.PIPE,
            text=True,
        )
        samples, started = [], time.monotonic()
        for n in range(SOAK_SAMPLES + 1):
            time.sleep(max(0.0, started + n * SOAK / SOAK_SAMPLES - time.monotonic()))
            samples.append({"seconds": round(time.monotonic() - started), "rss_mb": worker_memory(server)})
        output, _ = load.communicate()
    finally:
        server.terminate()
        server.wait(timeout=60)
        os.unlink(listing.name)
    result = json.loads(next(line for line in reversed(output.splitlines()) if line.startswith("{")))
    return {"seconds": SOAK, "load": result, "samples": samples}


def machine():
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    postgres = psql("SHOW server_version")
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({model}), {memory} GB RAM, {system}, PostgreSQL {postgres}"


def main():
    if sys.argv[1:] == ["--report"]:
        write_report(json.loads(RESULTS.read_text()))  # after changing bench/report.py: no new run
        return
    scales = os.environ.get("BENCH_SCALES", ",".join(SCALES)).split(",")
    started = datetime.datetime.now(datetime.UTC)
    run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env={"DEBUG": ""})
    version = generator_version()
    secret_key = secrets.token_urlsafe(50)
    load_before = os.getloadavg()
    results = [bench_scale(scale, SCALES[scale], version, secret_key, last=(scale == scales[-1])) for scale in scales]
    summary = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "code": run(["git", "describe", "--always", "--dirty"], capture=True),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "wrk": f"{THREADS} threads, {CONNECTIONS} connections, {ROUNDS} rounds of {DURATION} s per URL "
        f"({CLOSE_ROUNDS} for {' and '.join(CLOSE)})",
        "scales": results,
    }
    RESULTS.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    write_report(summary)
    say(f"wrote {REPORT.relative_to(ROOT)} and {RESULTS.relative_to(ROOT)}")


def write_report(summary):
    from report import render

    generated = f"{BEGIN}\n{render(summary)}\n{END}"
    text = REPORT.read_text() if REPORT.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    REPORT.write_text(head + generated + tail)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
