"""The network: who has which kind of agreement with whom, as a deterministic SVG and a table."""

import itertools
import math
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pacts import vocabulary
from pacts.models import Agreement
from pacts.network import LABEL_SPACING, PALETTE, Link, draw, edge_width
from pacts.views.network import links_between_parties
from tests.conftest import HTMX
from tests.factories import AgreementFactory

CODES = ["AU", "CA", "DE", "FR", "GB", "IN", "JP", "KR", "PH", "US"]
KINDS = [kind for kind, _ in vocabulary.AGREEMENT_KINDS]


def make_agreements(count):
    """`count` agreements over ten parties and every kind, in one INSERT."""
    pairs = list(itertools.combinations(CODES, 2))
    Agreement.objects.bulk_create(
        Agreement(
            slug=f"bulk-{n}",
            title=f"Bulk agreement {n}",
            short_name=f"Bulk {n}",
            kind=KINDS[n % len(KINDS)],
            party_a_id=pairs[n % len(pairs)][0],
            party_b_id=pairs[n % len(pairs)][1],
        )
        for n in range(count)
    )


def make_pairs(order="forward"):
    """Three intelligence-sharing agreements between Japan and Korea (in both lane orders), and two more."""
    rows = [
        ("KR", "JP", "intelligence-sharing"),
        ("JP", "KR", "intelligence-sharing"),
        ("KR", "JP", "intelligence-sharing"),
        ("KR", "JP", "logistics"),
        ("US", "JP", "logistics"),
    ]
    for a, b, kind in rows if order == "forward" else reversed(rows):
        AgreementFactory(party_a_id=a, party_b_id=b, kind=kind)


def svg_of(response):
    content = response.content.decode()
    start = content.index('<svg class="network-graph"')
    return content[start : content.index("</svg>", start) + len("</svg>")]


def table_of(response):
    content = response.content.decode()
    return content[content.index('<table class="agreement-list network-table"') : content.index("</table>")]


def middle(path):
    """The middle (t = 0.5) of a path "M x1 y1 Q cx cy x2 y2"."""
    x1, y1, cx, cy, x2, y2 = (float(n) for n in re.findall(r"-?[0-9.]+", path))
    return (x1 + 2 * cx + x2) / 4, (y1 + 2 * cy + y2) / 4


# The layout, on its own


def test_every_agreement_kind_has_a_colour_of_its_own():
    assert set(PALETTE) == set(KINDS)
    assert len(set(PALETTE.values())) == len(KINDS)


def test_the_two_lane_orders_of_a_pair_make_one_edge():
    drawing = draw([Link("KR", "JP", "logistics", 1), Link("JP", "KR", "logistics", 2)])
    assert [(edge.a, edge.b, edge.kind, edge.count) for edge in drawing.edges] == [("JP", "KR", "logistics", 3)]


def test_the_same_links_in_any_order_give_the_same_drawing():
    links = [
        Link("KR", "JP", "logistics", 1),
        Link("US", "JP", "other", 4),
        Link("JP", "KR", "intelligence-sharing", 2),
        Link("AU", "US", "logistics", 1),
    ]
    assert draw(links, names={"JP": "Japan"}) == draw(list(reversed(links)), names={"JP": "Japan"})


def test_nodes_sit_on_the_circle_most_agreements_first_clockwise_from_the_top():
    drawing = draw([Link("JP", "KR", "other", 3), Link("JP", "US", "other", 1), Link("AU", "US", "other", 1)])
    assert [node.code for node in drawing.nodes] == ["JP", "KR", "US", "AU"]  # 4, 3, 2, 1; ties by code
    top = drawing.nodes[0]
    assert (top.x, top.y) == (drawing.centre, drawing.centre - drawing.radius)
    for node in drawing.nodes:
        assert math.hypot(node.x - drawing.centre, node.y - drawing.centre) == pytest.approx(drawing.radius, abs=0.1)


def test_labels_sit_outside_the_circle_and_never_read_upside_down():
    links = [Link(a, b, "other", 1) for a, b in itertools.combinations(CODES, 2)]
    drawing = draw(links)
    for node in drawing.nodes:
        assert math.hypot(node.label_x - drawing.centre, node.label_y - drawing.centre) > drawing.radius + node.r
        on_the_left = node.x < drawing.centre - 0.1
        assert node.anchor == ("end" if on_the_left else "start")


def test_the_circle_grows_so_that_many_labels_keep_their_spacing():
    codes = [f"{first}{second}" for first in "ABCDEFGHIJ" for second in "ABCDEFGHIJKLMNOPQRST"]  # 200 parties
    drawing = draw([Link(a, b, "other", 1) for a, b in zip(codes, codes[1:], strict=False)])
    first, second = drawing.nodes[0], drawing.nodes[1]
    assert math.hypot(first.x - second.x, first.y - second.y) >= LABEL_SPACING - 0.1


def test_edges_get_wider_with_more_agreements_up_to_a_limit():
    assert edge_width(1) < edge_width(2) < edge_width(10) < edge_width(100) == edge_width(1000) == 9


def test_kinds_of_one_pair_are_drawn_side_by_side_without_overlapping():
    drawing = draw([Link("JP", "KR", kind, count) for kind, count in zip(KINDS[:3], (1, 5, 30), strict=True)])
    edges = drawing.edges
    assert len({edge.path.split("Q")[0] for edge in edges}) == 1  # all start at the same node
    for one, other in itertools.combinations(edges, 2):
        (x1, y1), (x2, y2) = middle(one.path), middle(other.path)
        assert math.hypot(x1 - x2, y1 - y2) >= (one.width + other.width) / 2


def test_widest_edges_come_first_so_thin_ones_stay_visible_on_top():
    drawing = draw([Link("JP", "KR", "logistics", 1), Link("JP", "US", "other", 9), Link("AU", "JP", "other", 3)])
    assert [edge.count for edge in drawing.edges] == [9, 3, 1]


# The aggregation and the page


def test_agreements_are_counted_per_pair_and_kind_whatever_the_lane_order(db):
    make_pairs()
    assert list(links_between_parties(Agreement.objects.all())) == [
        Link("JP", "KR", "intelligence-sharing", 3),
        Link("JP", "KR", "logistics", 1),
        Link("JP", "US", "logistics", 1),
    ]


def test_the_aggregation_is_one_grouped_query_at_any_size(db):
    make_agreements(2000)
    with CaptureQueriesContext(connection) as queries:
        links = [Link(*row) for row in links_between_parties(Agreement.objects.all())]
    assert len(queries) == 1
    assert "GROUP BY" in queries[0]["sql"]
    assert sum(link.count for link in links) == 2000
    assert len(links) <= 45 * len(KINDS)


def test_each_edge_links_to_the_list_of_its_pair_and_kind(reader):
    make_pairs()
    svg = svg_of(reader.get("/network/"))
    # Both parties: the list selects the agreements of that kind between them.
    assert svg.count('href="/agreements/?party=JP&amp;party=KR&amp;kind=intelligence-sharing"') == 1
    assert "Japan – South Korea: 3 intelligence sharing agreements" in svg
    assert 'href="/agreements/?party=JP&amp;party=US&amp;kind=logistics"' in svg
    assert svg.count("<path ") == 3
    assert f'stroke="{PALETTE["logistics"]}"' in svg


def test_each_party_links_to_its_page(reader):
    make_pairs()
    svg = svg_of(reader.get("/network/"))
    assert svg.count("<circle ") == 3
    for code in ("JP", "KR", "US"):
        assert f'href="/parties/{code}/"' in svg
    assert "Japan: 5 agreements" in svg


def test_the_picture_is_an_image_with_a_title_and_no_inline_styles(reader):
    make_pairs()
    svg = svg_of(reader.get("/network/"))
    # A group, not an image: it holds links (axe: nested-interactive).
    assert 'role="group" aria-labelledby="network-title network-desc"' in svg
    assert '<title id="network-title">Network of 5 agreements between 3 parties</title>' in svg
    assert '<desc id="network-desc">' in svg
    assert "style=" not in svg


def test_a_table_holds_the_same_pairs_kinds_counts_and_links(reader):
    make_pairs()
    response = reader.get("/network/")
    table = table_of(response)
    assert table.count("<tr>") == 1 + 3
    assert "<caption>" in table
    row = table[table.index("Intelligence sharing") :].split("</tr>")[0]
    assert 'href="/agreements/?party=JP&amp;party=KR&amp;kind=intelligence-sharing">3 agreements</a>' in row
    assert '<a href="/parties/JP/">Japan</a> – <a href="/parties/KR/">South Korea</a>' in table


def test_the_same_data_draws_the_same_svg_byte_for_byte(reader):
    make_pairs("forward")
    first = svg_of(reader.get("/network/"))
    assert first == svg_of(reader.get("/network/"))
    Agreement.objects.all().delete()
    make_pairs("backward")  # other ids, other insertion order, same data
    assert svg_of(reader.get("/network/")) == first


@pytest.mark.parametrize(
    ("query", "edges"),
    [("kind=logistics", 2), ("kind=logistics&kind=other", 2), ("kind=intelligence-sharing", 1), ("status=in-force", 0)],
)
def test_filters_choose_the_agreements_drawn(reader, query, edges):
    make_pairs()
    content = reader.get(f"/network/?{query}").content.decode()
    assert content.count("<path ") == edges
    if not edges:
        assert "No agreements match these filters." in content


@pytest.mark.parametrize("query", ["kind=bogus", "status=rumoured", "kind=%00", "status=in-force&status=x"])
def test_bad_filters_get_a_400_with_a_message(reader, query):
    response = reader.get(f"/network/?{query}")
    assert response.status_code == 400
    assert "Some of the filters in this address are not valid" in response.content.decode()


def test_an_htmx_request_gets_only_the_network(reader):
    make_pairs()
    response = reader.get("/network/?kind=logistics", headers=HTMX)
    assert response.content.decode().lstrip().startswith('<div id="network"')
    assert "HX-Request" in response["Vary"]


def test_the_network_needs_a_reader(client, settings):
    settings.PACTS_PUBLIC_READ = False
    response = client.get("/network/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("agreements", [3, 300])
def test_the_page_runs_a_constant_number_of_queries(reader, django_assert_num_queries, agreements):
    make_agreements(agreements)
    # Session, user, groups; the data version; the strongest links, each party's agreements,
    # the table's links counted and its page.
    with django_assert_num_queries(8):
        response = reader.get("/network/")
    assert response.status_code == 200
    with django_assert_num_queries(4):  # the drawing from the cache: no grouped query
        again = reader.get("/network/")
    assert again.context["network_html"] == response.context["network_html"]


def test_the_cached_drawing_changes_with_the_data(reader):
    make_agreements(3)
    before = reader.get("/network/").context["network_html"]
    AgreementFactory(party_a_id="KR", party_b_id="JP", kind="logistics")
    assert reader.get("/network/").context["network_html"] != before


# A large network: the strongest links drawn, every link in the table


def test_only_the_strongest_links_are_drawn_and_the_others_are_counted():
    links = [Link("JP", "KR", "logistics", 5), Link("JP", "US", "other", 3), Link("AU", "PH", "other", 1)]
    drawing = draw(links, limit=2)
    assert [(edge.a, edge.b, edge.count) for edge in drawing.edges] == [("JP", "KR", 5), ("JP", "US", 3)]
    assert (drawing.links, drawing.links_not_drawn, drawing.parties) == (3, 1, 5)
    # Parties of links not drawn are not drawn either; those drawn are sized by all their agreements.
    assert {node.code: node.count for node in drawing.nodes} == {"JP": 8, "KR": 5, "US": 3}


def test_a_large_network_draws_the_strongest_links_and_says_how_many_are_not(reader, monkeypatch):
    monkeypatch.setattr("pacts.network.LINKS_DRAWN", 2)
    make_pairs()
    response = reader.get("/network/")
    assert svg_of(response).count("<path ") == 2
    assert "Only the 2 links with the most agreements are drawn: 1 more pair and kind" in response.content.decode()
    assert table_of(response).count("<tr>") == 1 + 3  # the table lists them all


def test_only_the_links_drawn_and_the_tables_page_are_read(reader, monkeypatch):
    monkeypatch.setattr("pacts.network.LINKS_DRAWN", 1)
    monkeypatch.setattr("pacts.views.network.TABLE_ROWS", 2)
    make_pairs()
    with CaptureQueriesContext(connection) as queries:
        response = reader.get("/network/")
    grouped = [query["sql"] for query in queries if "GROUP BY" in query["sql"] and "LIMIT" in query["sql"]]
    assert sorted(int(re.search(r"LIMIT (\d+)", sql).group(1)) for sql in grouped) == [1, 2]
    # Japan is drawn with all five of its agreements, though only its strongest link is read.
    assert "<title>Japan: 5 agreements</title>" in svg_of(response)
    assert "Network of 5 agreements between 3 parties: the 1 strongest links" in svg_of(response)
    assert "Only the 1 links with the most agreements are drawn: 2 more pairs and kinds" in response.content.decode()


def test_the_table_comes_in_pages_that_keep_the_filters(reader, monkeypatch):
    monkeypatch.setattr("pacts.views.network.TABLE_ROWS", 2)
    make_pairs()
    first = reader.get("/network/?kind=logistics&kind=intelligence-sharing")
    assert table_of(first).count("<tr>") == 1 + 2
    assert 'href="?kind=logistics&amp;kind=intelligence-sharing&amp;page=2"' in first.content.decode()
    second = reader.get("/network/?kind=logistics&kind=intelligence-sharing&page=2")
    assert table_of(second).count("<tr>") == 1 + 1
    assert "rows 3–3" in table_of(second)
    # Any other page number gets a page, never an error.
    for page in ("0", "99", "x", "%00"):
        assert reader.get(f"/network/?page={page}").status_code == 200
