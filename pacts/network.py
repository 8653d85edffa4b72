"""The network picture's geometry: parties on a circle, agreements as curved edges between them.

Plain Python, no Django: links in (two party codes, a kind, a count), SVG-ready
coordinates out. The layout depends only on its input, so the same data always
draws the same picture, byte for byte.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

from pacts.vocabulary import AGREEMENT_KINDS

# One colour per agreement kind, told apart by colour-blind readers (after Okabe and
# Ito) and dark enough for 3:1 contrast against white as WCAG asks of graphics.
PALETTE = {
    "intelligence-sharing": "#0072b2",
    "logistics": "#a86400",
    "reciprocal-access": "#007a5a",
    "defence-cooperation": "#b8336a",
    "equipment-and-technology": "#5e3c99",
    "other": "#5f6b7a",
}
KIND_POSITION = {kind: position for position, (kind, _) in enumerate(AGREEMENT_KINDS)}
KIND_LABELS = dict(AGREEMENT_KINDS)

RADIUS = 280  # of the circle the nodes sit on, at the fewest nodes
LABEL_SPACING = 15  # along the circle between two nodes, so 11px labels do not overlap
MARGIN = 180  # around the circle, for labels
LABEL_LENGTH = 24  # characters; longer names are shortened, the full name is in the tooltip
BEND = 0.4  # how far an edge's middle is pulled towards the centre (0 straight, 1 through it)
GAP = 1.5  # between the middles of parallel edges
# Beyond a few hundred lines the picture is a tangle nobody can read, and the page would grow with the data.
LINKS_DRAWN = 300


class Link(NamedTuple):
    """`count` agreements of `kind` between parties `a` and `b` (in either order)."""

    a: str
    b: str
    kind: str
    count: int


@dataclass(frozen=True)
class Node:
    code: str
    name: str
    label: str
    count: int
    x: float
    y: float
    r: float
    label_x: float
    label_y: float
    anchor: str
    transform: str


@dataclass(frozen=True)
class Edge:
    a: str
    b: str
    a_name: str
    b_name: str
    kind: str
    kind_label: str
    count: int
    width: float
    colour: str
    path: str


@dataclass(frozen=True)
class Drawing:
    size: float
    centre: float
    radius: float
    nodes: tuple
    edges: tuple
    links: int = 0  # (pair, kind) links, drawn or not
    parties: int = 0  # with any link, drawn or not

    @property
    def links_not_drawn(self):
        return self.links - len(self.edges)


class Row(NamedTuple):
    """One (pair, kind) of the table beside the picture."""

    a: str
    b: str
    a_name: str
    b_name: str
    kind: str
    kind_label: str
    count: int
    colour: str


def _round(value):
    # Adding 0.0 turns -0.0 into 0.0, which would otherwise print differently.
    return round(value, 1) + 0.0


def _number(value):
    return f"{_round(value):g}"


def edge_width(count):
    """Stroke width for `count` agreements: 1.5 for one, growing with the logarithm, at most 9."""
    return _round(min(1.5 + 2 * math.log2(count), 9.0))


def node_radius(count):
    return _round(min(3 + math.sqrt(count), 12.0))


def merge(links):
    """Links keyed by (a, b, kind) with a < b, counts added up; the two orders of a pair are one pair."""
    merged = {}
    for link in links:
        a, b = sorted((link.a, link.b))
        merged[(a, b, link.kind)] = merged.get((a, b, link.kind), 0) + link.count
    return merged


def short_label(name):
    return name if len(name) <= LABEL_LENGTH else name[: LABEL_LENGTH - 1].rstrip() + "…"


def place_nodes(counts, names, radius, centre):
    """Nodes clockwise from the top, most agreements first, ties by code; labels outside the circle."""
    ordered = sorted(counts, key=lambda code: (-counts[code], code))
    nodes = {}
    for position, code in enumerate(ordered):
        angle = -math.pi / 2 + 2 * math.pi * position / len(ordered)
        r = node_radius(counts[code])
        x, y = centre + radius * math.cos(angle), centre + radius * math.sin(angle)
        label_x = centre + (radius + 12 + 6) * math.cos(angle)
        label_y = centre + (radius + 12 + 6) * math.sin(angle)
        degrees = math.degrees(angle)
        # Labels on the left half are turned the other way round so they never read upside down.
        left = math.cos(angle) < -1e-9
        if left:
            degrees += 180
        name = names.get(code, code)
        nodes[code] = Node(
            code=code,
            name=name,
            label=short_label(name),
            count=counts[code],
            x=_round(x),
            y=_round(y),
            r=r,
            label_x=_round(label_x),
            label_y=_round(label_y),
            anchor="end" if left else "start",
            transform=f"rotate({_number(degrees)} {_number(label_x)} {_number(label_y)})",
        )
    return nodes


def curve(start, end, centre, offset):
    """A quadratic curve from start to end bowed towards the centre, its middle moved `offset` sideways."""
    (x1, y1), (x2, y2) = start, end
    mid_x, mid_y = (x1 + x2) / 2, (y1 + y2) / 2
    control_x, control_y = mid_x + (centre - mid_x) * BEND, mid_y + (centre - mid_y) * BEND
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    normal_x, normal_y = -(y2 - y1) / length, (x2 - x1) / length
    # A curve's middle lies halfway between the chord's middle and the control point, so the control
    # point moves twice as far as the middle should.
    control_x += 2 * offset * normal_x
    control_y += 2 * offset * normal_y
    points = (x1, y1, control_x, control_y, x2, y2)
    return "M{} {}Q{} {} {} {}".format(*(_number(value) for value in points))


def offsets(widths):
    """Sideways offsets that lay strokes of these widths side by side, centred on zero."""
    total = sum(widths) + GAP * (len(widths) - 1)
    result, edge = [], -total / 2
    for width in widths:
        result.append(edge + width / 2)
        edge += width + GAP
    return result


def strongest(merged):
    """The merged links' keys, most agreements first, ties by the pair's codes and the kind's order."""
    return sorted(merged, key=lambda key: (-merged[key], key[0], key[1], KIND_POSITION.get(key[2], len(KIND_POSITION))))


def draw(links, names=None, limit=None, *, party_counts=None, link_count=None):
    """Lay out the parties and links; a Drawing whose coordinates go straight into SVG attributes.

    Only the `limit` (pair, kind) links with the most agreements are drawn; the
    table lists them all. Nodes: one per party of a drawn link, on a circle that
    grows with their number, sized by all of the party's agreements. Edges: one per
    drawn link, widths by count; the kinds of one pair are drawn side by side in
    vocabulary order. Edges are listed widest first, so thin ones stay visible on top.

    When `links` are only the strongest of all (as the page reads them), `party_counts`
    ({code: all its agreements}) and `link_count` (all links) describe the rest.
    """
    names, limit = names or {}, LINKS_DRAWN if limit is None else limit
    merged = merge(links)
    counts = party_counts
    if counts is None:
        counts = {}
        for (a, b, _), count in merged.items():
            counts[a] = counts.get(a, 0) + count
            counts[b] = counts.get(b, 0) + count
    link_count = len(merged) if link_count is None else link_count
    merged = {key: merged[key] for key in strongest(merged)[:limit]}
    drawn_counts = {code: counts[code] for a, b, _ in merged for code in (a, b)}
    radius = _round(max(RADIUS, len(drawn_counts) * LABEL_SPACING / (2 * math.pi)))
    centre = _round(radius + MARGIN)
    nodes = place_nodes(drawn_counts, names, radius, centre)

    pairs = {}
    for a, b, kind in sorted(merged, key=lambda key: (key[0], key[1], KIND_POSITION.get(key[2], len(KIND_POSITION)))):
        pairs.setdefault((a, b), []).append(kind)
    edges = []
    for (a, b), kinds in pairs.items():
        widths = [edge_width(merged[(a, b, kind)]) for kind in kinds]
        start, end = (nodes[a].x, nodes[a].y), (nodes[b].x, nodes[b].y)
        for kind, width, offset in zip(kinds, widths, offsets(widths), strict=True):
            edges.append(
                Edge(
                    a=a,
                    b=b,
                    a_name=nodes[a].name,
                    b_name=nodes[b].name,
                    kind=kind,
                    kind_label=KIND_LABELS.get(kind, kind),
                    count=merged[(a, b, kind)],
                    width=width,
                    colour=PALETTE.get(kind, PALETTE["other"]),
                    path=curve(start, end, centre, offset),
                )
            )
    edges.sort(key=lambda edge: (-edge.count, edge.a, edge.b, KIND_POSITION.get(edge.kind, len(KIND_POSITION))))
    return Drawing(
        size=_round(2 * centre),
        centre=centre,
        radius=radius,
        nodes=tuple(nodes.values()),
        edges=tuple(edges),
        links=link_count,
        parties=len(counts),
    )


def rows(links, names=None):
    """Every (pair, kind) with its number of agreements, most first, for the table."""
    names = names or {}
    merged = merge(links)
    return [
        Row(
            a,
            b,
            names.get(a, a),
            names.get(b, b),
            kind,
            KIND_LABELS.get(kind, kind),
            merged[(a, b, kind)],
            PALETTE.get(kind, PALETTE["other"]),
        )
        for a, b, kind in strongest(merged)
    ]
