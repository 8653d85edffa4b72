"""The slowest queries of a page, with their plans: `python bench/explain.py URL [HEADER=VALUE...]`.

For finding why a page misses its benchmark target. Run with DATABASE_URL (one of the
bench copies, `pacts_bench_100k_run`) and SECRET_KEY set; signs in as the bench
analyst, requests the URL twice through Django's test client, and prints the three
slowest queries of the second request with `EXPLAIN (ANALYZE, BUFFERS)`.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacts.settings")
os.environ["ALLOWED_HOSTS"] = os.environ.get("ALLOWED_HOSTS", "127.0.0.1") + ",testserver"

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

SHOWN = 3


def main(url, *headers):
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in (h.split("=", 1) for h in headers)}
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(get_user_model().objects.get(username="bench-analyst"))
    client.get(url, **extra)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    total = sum(float(q["time"]) for q in queries.captured_queries)
    print(f"{url}: {response.status_code}, {len(queries)} queries, {total * 1000:.0f} ms in the database")
    slowest = sorted(queries.captured_queries, key=lambda q: float(q["time"]), reverse=True)[:SHOWN]
    with connection.cursor() as cursor:
        for query in slowest:
            print(f"\n-- {float(query['time']) * 1000:.1f} ms\n{query['sql']}\n")
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main(*sys.argv[1:])
