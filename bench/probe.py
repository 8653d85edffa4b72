"""Prepare one benchmark database and describe what to load: `python bench/probe.py OUTPUT.json`.

Run by bench/run.py with DATABASE_URL and SECRET_KEY set as gunicorn has them. Signs
in an analyst (a database session, so the cookie works against gunicorn), picks the
URLs (median and largest timeline, their poll and ETag, a list page 500 pages in,
search words), counts the queries each URL makes with Django's test client, and
writes it all as JSON to the file named (stdout carries the app's logs).
"""

import html
import json
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacts.settings")
os.environ["ALLOWED_HOSTS"] = os.environ.get("ALLOWED_HOSTS", "127.0.0.1") + ",testserver"

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.templatetags.static import static  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from pacts import synthetic  # noqa: E402
from pacts.models import Agreement  # noqa: E402
from pacts.roles import ANALYST  # noqa: E402

DEEP_PAGES = 500
NEXT_LINK = re.compile(r'<a rel="next" href="([^"]+)"')
HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}
ABSENT_WORD = "zyzzyva"
COMMON_WORD = "defence"
KOREAN_SUBSTRING = "군사정보"


def analyst_client():
    user, _ = get_user_model().objects.get_or_create(username="bench-analyst")
    user.groups.set([Group.objects.get(name=ANALYST)])
    client = Client(**HTTPS)
    client.force_login(user)
    return client


def rare_word():
    """A codename that a handful of agreements mention (the rarest found among the first hundred tried)."""
    counts = []
    with connection.cursor() as cursor:
        for word in synthetic.CODENAMES[200:300]:
            cursor.execute(
                "SELECT count(*) FROM pacts_agreement WHERE search_document @@ to_tsquery('simple', %s)", [word]
            )
            found = cursor.fetchone()[0]
            if found:
                counts.append((found, word))
    return min(counts)[1] if counts else synthetic.CODENAMES[0]


def deep_page(client, start, pages):
    """The list URL `pages` pages after `start`, by following the next links; and how many were followed."""
    url, followed = start, 0
    while followed < pages:
        response = client.get(url)
        match = NEXT_LINK.search(response.content.decode())
        if not match:
            break
        url, followed = html.unescape(match.group(1)), followed + 1
    return url, followed


def main():
    client = analyst_client()
    # As if the analyst had been made long ago: a change of groups has their role read from
    # the database for ten minutes (pacts/roles.py), longer than a scale's run.
    cache.clear()
    by_events = Agreement.objects.annotate(n=Count("events")).order_by("n", "id")
    total = by_events.count()
    median = by_events[total // 2]
    largest = by_events.order_by("-n", "id").first()
    timeline = largest.get_absolute_url()
    etag = client.get(timeline).headers["ETag"]
    filtered = f"/agreements/?party=US&kind={Agreement.objects.values_list('kind', flat=True).first() or 'logistics'}"
    deep, followed = deep_page(client, "/agreements/", DEEP_PAGES)
    deep_filtered, followed_filtered = deep_page(client, "/agreements/?party=US", DEEP_PAGES)
    rare = rare_word()
    urls = [
        ("healthz", "healthz", "/healthz", {}),
        ("static", "static file", static("pacts/pacts.css"), {}),
        ("timeline-median", f"timeline, median agreement ({median.n} events)", median.get_absolute_url(), {}),
        ("timeline-largest", f"timeline, largest agreement ({largest.n} events)", timeline, {}),
        ("poll-204", "timeline poll answering 204", f"{timeline}?since={largest.revision}", {"HX-Request": "true"}),
        ("revalidation-304", "timeline revalidation answering 304", timeline, {"If-None-Match": etag}),
        ("list-first", "list, first page", "/agreements/", {}),
        ("list-deep", f"list, {followed} pages in", deep, {}),
        ("list-filtered", "list filtered by party and kind", filtered, {}),
        ("list-filtered-deep", f"list filtered by party, {followed_filtered} pages in", deep_filtered, {}),
        ("search-common", f"search, common word ({COMMON_WORD})", f"/agreements/?q={COMMON_WORD}", {}),
        ("search-rare", f"search, rare word ({rare})", f"/agreements/?q={rare}", {}),
        ("search-absent", f"search, absent word ({ABSENT_WORD})", f"/agreements/?q={ABSENT_WORD}", {}),
        ("search-korean", f"search, Korean substring ({KOREAN_SUBSTRING})", f"/agreements/?q={KOREAN_SUBSTRING}", {}),
        ("dashboard", "dashboard", "/", {}),
        ("expectations", "expectations", "/expectations/", {}),
        ("feed", "latest feed", "/feeds/latest.atom", {}),
        ("party", "party page (US)", "/parties/US/", {}),
        ("network", "network", "/network/", {}),
    ]
    probes = []
    for key, name, url, headers in urls:
        extra = {f"HTTP_{key.upper().replace('-', '_')}": value for key, value in headers.items()}
        started = time.perf_counter()
        client.get(url, **extra)  # warm caches, as the load run will
        first_ms = (time.perf_counter() - started) * 1000
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, **extra)
        probes.append(
            {
                "key": key,
                "name": name,
                "url": url,
                "headers": headers,
                "status": response.status_code,
                "queries": len(queries),
                "first_ms": round(first_ms, 1),
                "bytes": len(getattr(response, "content", b"")),
            }
        )
    # Every cookie a browser holds after its first pages: the session, the CSRF token and
    # the user hint (pacts.caching); without the last two each request would set them anew.
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items() if morsel.value)
    found = {"agreements": total, "cookie": cookie, "urls": probes}
    Path(sys.argv[1]).write_text(json.dumps(found, ensure_ascii=False))


if __name__ == "__main__":
    main()
