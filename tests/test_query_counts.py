"""The regression guard of PRODUCT.md section 7: every page runs as many queries with more data.

The pages are the URL patterns of the authorization matrix that a reader (or, for
the editors' tools, an editor) may GET, so a new page is guarded as soon as it has
its row. Each is requested with the GSOMIA fixture, then again after adding more
agreements, events, citations, sources and publishers everywhere it could look;
the two query counts must be equal. Timings are never asserted.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.authorization import MATRIX
from tests.conftest import HTMX
from tests.factories import AgreementFactory, CitationFactory, EventFactory, SourceFactory
from tests.test_authorization import KWARGS, data, url_for  # noqa: F401 (data is a fixture)

pytestmark = pytest.mark.django_db

# Exports stream in chunks of rows: more rows, more chunks, by design (their size is fixed).
STREAMED = {"export/agreements.json", "export/events.csv"}


def pages(role):
    """(route, kwargs builder) of every non-admin page `role` may GET."""
    for route, row in MATRIX.items():
        if route.startswith("admin/") or "skip" in row or route in STREAMED:
            continue
        expected = row["GET"].get(role)
        expected = expected[0] if isinstance(expected, tuple) else expected
        if expected == 200:
            yield route, row["kwargs"]


def more_of_everything(agreement):
    """Agreements on both sides of GSOMIA's parties, with events, citations and sources; more GSOMIA events too."""
    for code in ("US", "PH", "AU"):
        for party_a, party_b in (("KR", code), (code, "JP")):
            other = AgreementFactory(party_a_id=party_a, party_b_id=party_b)
            for day in (1, 2, 3):
                event = EventFactory(agreement=other, lane="joint", kind="signature", date=f"2015-0{day}-1{day}")
                CitationFactory(event=event, source=SourceFactory())
    for day in range(1, 8):
        event = EventFactory(agreement=agreement, lane="KR", kind="statement", date=f"2013-0{day}-0{day}")
        CitationFactory(event=event, source=SourceFactory())
        EventFactory(agreement=agreement, lane="JP", status="expected", kind="cabinet-approval", date="2014-02")


def count_queries(client, url, headers=None):
    cache.clear()  # a cached fragment would save the very queries being counted
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return len(queries)


@pytest.mark.parametrize("role", ["analyst", "editor"])
def test_every_page_runs_the_same_number_of_queries_with_more_data(client, data, role):  # noqa: F811
    client.force_login(data.users[role])
    routes = list(pages(role))
    assert len(routes) > 15
    urls = {route: url_for(route, KWARGS[builder](data)) for route, builder in routes}
    before = {route: count_queries(client, url) for route, url in urls.items()}
    fragments_before = {route: count_queries(client, url, HTMX) for route, url in urls.items()}
    more_of_everything(data.agreement)
    after = {route: count_queries(client, url) for route, url in urls.items()}
    fragments_after = {route: count_queries(client, url, HTMX) for route, url in urls.items()}
    grew = {route: (before[route], after[route]) for route in urls if before[route] != after[route]}
    grew |= {
        f"{route} (htmx)": (fragments_before[route], fragments_after[route])
        for route in urls
        if fragments_before[route] != fragments_after[route]
    }
    assert not grew, f"queries per page changed with more data (before, after): {grew}"
