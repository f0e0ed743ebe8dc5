"""The network diagram's SVG: what templates/partials/diagram.html puts in its <defs> (the nodes' pictures) and inside
<g class="edges"> and <g class="nodes">, through the filters that app/web/render.py names after these functions. They
are drawn only when a page is sent the markup: a light frame's patch reads only their values (edge_values,
node_values).

Drawn here rather than in a Jinja loop, which cost more than the rest of the page's HTML (bench/README.md). Each edge
and node is a <g> written as lines (_group indents them as in the page): its start tag, whose attributes continue
on lines aligned under the first, then its children, one a line. GAP is a blank line where the old template had a
tag of its own; the gaps are kept so that the page stays byte for byte what it was. Numbers and the view's own
strings go in as they are; the names (from CSV headers) and the descriptions that contain them are escaped.
"""
from functools import lru_cache
from typing import NamedTuple

from markupsafe import Markup, escape

from .diagram_model import Diagram, Edge, Node
from .node_heatmaps import HEATMAP_GRID, SLICE
from .numbers import exact

GAP = ""
ELEMENT_INDENT = "      "  # each edge's and node's <g> sits six spaces in, under <svg> and its <g class="...">
CHILD_INDENT = "  "


CURRENT = ' aria-current="true"'  # the node or edge the inspector is on


def edges_markup(edges: list[Edge]) -> Markup:
    """The edges, layer by layer."""
    return Markup("".join([edge_markup(e) for e in edges]))


def nodes_markup(nodes: list[Node]) -> Markup:
    """The nodes, in layer order; the first layer's names are drawn on their left, the last layer's on their right."""
    last = nodes[-1].layer
    return Markup("".join([node_markup(n, n.layer == last, i == 0) for i, n in enumerate(nodes)]))


_LINE = f"\n{ELEMENT_INDENT}"
_CHILD_LINE = f"\n{ELEMENT_INDENT}{CHILD_INDENT}"


def _group(start: list[str], children: list[str]) -> str:
    """A <g> element at ELEMENT_INDENT: the lines of its start tag, its children indented, its end tag, then the
    indentation of the parent's next line."""
    return f"{_LINE}{_LINE.join(start)}{_CHILD_LINE}{_CHILD_LINE.join(children)}{_LINE}</g>\n    "


# Edges

def edge_values(e: Edge) -> tuple:
    """What of an edge changes from step to step, as its markup prints it: the values a light frame's patch carries
    (app/views/diagram_patch.py, applied by static/js/diagram_patch.js), in this order. The description is raw here;
    the markup escapes it."""
    return (f'edge{" changed" if e.changed else ""}{" selected" if e.selected else ""}', e.description, e.selected,
            exact(e.weight), exact(e.grad), exact(e.change),
            None if e.weight_before is None else exact(e.weight_before),
            f"{e.width + 7}" if e.changed else None, e.color, "%.2f" % e.width,
            f'num{" always" if e.label_always else ""}', label_inner(e))


def edge_markup(e: Edge) -> str:
    """One edge: its numbers in data-* attributes, a halo if the last update changed it most, a wide invisible path
    to hover, the visible curve, and its label."""
    cls, _, selected, weight, grad, change, before, halo, color, width, label_cls, label = edge_values(e)
    text = escape(e.description)
    x, y = _label_place(e.label_x, e.label_y)
    return _group([
        f'<g id="{e.id}" class="{cls}" tabindex="-1"'
        f' role="img" aria-label="{text}"{CURRENT if selected else ""}',
        f'   data-layer="{e.layer}" data-from="{e.source}" data-to="{e.target}"',
        f'   data-weight="{weight}" data-grad="{grad}" data-change="{change}"'
        + (f' data-weight-before="{before}"' if before is not None else "") + ">",
    ], [
        f"<title>{text}</title>",
        f'<path class="halo" d="{e.path}" stroke-width="{halo}"/>' if halo is not None else GAP,
        f'<path class="hit" d="{e.path}"/>',
        f'<path class="line" d="{e.path}" stroke="{color}" stroke-width="{width}"/>',
        f'<text class="{label_cls}" x="{x}" y="{y}">{label}</text>',
    ])


def label_inner(e: Edge) -> str:
    """The edge's number, shown on hover, or always (class "always") in the update and backward phases. The backward
    phase's "w · ∂" label takes two lines, the weight over its gradient, so that it is no wider than either; they are
    spaced in em, so that they stay apart where the type is larger (a phone's, style.css)."""
    if " · " not in e.label:
        return e.label
    x, _ = _label_place(e.label_x, e.label_y)
    weight, grad = e.label.split(" · ", 1)
    return f'<tspan x="{x}" dy="-0.5em">{weight} </tspan><tspan x="{x}" dy="1.1em">{grad}</tspan>'


@lru_cache(maxsize=1024)
def _label_place(x: float, y: float) -> tuple[str, str]:
    """An edge label's coordinates as printed. They, and a node's below, only change with the layout, so each is
    formatted once rather than on every step (formatting floats was most of the markup's cost)."""
    return "%.1f" % x, "%.1f" % y


# Nodes

class NodePlace(NamedTuple):
    """The coordinates a node's markup prints, as text."""
    x: str  # the square's corner
    y: str
    ring_x: str
    ring_y: str
    left_x: str  # an input's name, right-aligned on the node's left
    right_x: str  # an output's name, on its right
    name_y: str
    hidden_name_y: str  # a hidden node's name, at its top right
    centre: str  # the numbers under the node, centred
    lines_y: str  # one line pitch above the first line's baseline


@lru_cache(maxsize=1024)
def _node_place(centre: float, x: float, y: float) -> NodePlace:
    """From a node's centre x and its corner (x, y). The first line of numbers sits 47 below the corner."""
    return NodePlace(str(x), str(y), str(x - 2), str(y - 2), str(x - 8), str(x + 44), str(y + 21), str(y + 9),
                     str(centre), str(y + 35))


def node_values(n: Node) -> tuple:
    """What of a node changes from step to step, as its markup prints it: the values a light frame's patch carries
    (app/views/diagram_patch.py), in this order. The description is raw here; the markup escapes it."""
    return (f'node{" selected" if n.selected else ""}', n.description, n.selected, exact(n.activation), exact(n.z),
            exact(n.delta), exact(n.bias), None if n.bias_before is None else exact(n.bias_before),
            None if n.target is None else exact(n.target), n.ring_color, "%.2f" % n.ring_width,
            tuple(n.lines) if n.lines else None)


def node_markup(n: Node, last_layer: bool, entry: bool = False) -> str:
    """One node: its numbers in data-* attributes, its picture in a ring coloured by δ, its name if it is an input
    or an output, and its numbers underneath. The diagram is one tab stop, its `entry` node; arrow keys move on
    from there (static/js/diagram_keys.js)."""
    place = _node_place(n.x, *n.corner)
    cls, _, selected, activation, z, delta, bias, before, target, ring, ring_width, _ = node_values(n)
    lines = lines_inner(n, place)
    text = escape(n.description)
    return _group([
        GAP,
        f'<g id="{n.id}" class="{cls}" tabindex="{0 if entry else -1}" role="img"'
        f' style="--layer: {n.layer}"{CURRENT if selected else ""}',
        f'   aria-label="{text}"',
        f'   data-layer="{n.layer}" data-index="{n.index}" data-activation="{activation}"',
        f'   data-z="{z}" data-delta="{delta}" data-bias="{bias}"'
        + (f' data-bias-before="{before}"' if before is not None else "")
        + (f' data-target="{target}"' if target is not None else "") + ">",
    ], [
        f"<title>{text}</title>",
        GAP,
        picture_markup(n.picture, place),
        GAP,
        f'<rect class="ring" x="{place.ring_x}" y="{place.ring_y}" width="38" height="38" rx="5"',
        f'      stroke="{ring}" stroke-width="{ring_width}"/>',
        GAP,
        *name_markup(n, place, last_layer),
        *([f'<text class="lines" x="{place.centre}" y="{place.lines_y}">{lines}</text>'] if lines is not None else []),
        GAP,
    ])


PICTURES_ID = "node-pictures"


def pictures_markup(d: Diagram) -> Markup:
    """The column of every node's picture (app/views/node_heatmaps.py), drawn nowhere itself, and each node's slice
    of it as a pattern (its 16 rows, by viewBox) that fills the node's square (picture_markup). A step changes this
    one image; the patterns, and the squares they fill, follow it. (Not a <use> of a <symbol> or a nested <svg>:
    their boxes would be the whole column's, for the pointer, the focus and what the browser repaints.)"""
    pictures, nodes = d.pictures, len(d.nodes)
    if not pictures:
        return Markup()
    patterns = "".join(f'\n      <pattern id="{PICTURES_ID}-{k}" width="1" height="1" '
                       f'viewBox="0 {SLICE * k + 1} {HEATMAP_GRID} {HEATMAP_GRID}" preserveAspectRatio="none">'
                       f'<use href="#{PICTURES_ID}"/></pattern>' for k in range(nodes))
    return Markup(f'<defs>\n      <image id="{PICTURES_ID}" href="{pictures}" width="{HEATMAP_GRID}" '
                  f'height="{SLICE * nodes}" preserveAspectRatio="none"/>{patterns}\n    </defs>')


def picture_markup(picture: int | None, place: "NodePlace") -> str:
    """The node's output over the input plane (its slice of the diagram's pictures, filling the node's square), or a
    plain square without 2-D inputs. The ring around it (its colour and width show δ) follows."""
    if picture is not None:
        return (f'<rect class="picture" x="{place.x}" y="{place.y}" width="34" height="34" '
                f'fill="url(#{PICTURES_ID}-{picture})"/>')
    return f'<rect x="{place.x}" y="{place.y}" width="34" height="34" rx="4" class="plain"/>'


def name_markup(n: Node, place: NodePlace, last_layer: bool) -> list[str]:
    """An input's name on its left, an output's on its right, a hidden node's at its top right, as the narration,
    the polls and the lessons call it (each followed by a gap)."""
    if n.layer == 0:
        return [f'<text class="node-name left" x="{place.left_x}" y="{place.name_y}">{escape(n.name)}</text>', GAP]
    if last_layer:
        return [f'<text class="node-name right" x="{place.right_x}" y="{place.name_y}">{escape(n.name)}</text>', GAP]
    return [f'<text class="node-name hidden" x="{place.right_x}" y="{place.hidden_name_y}">{escape(n.name)}</text>', GAP]


LINE_PITCH = "1.143em"  # 12 units at the diagram's 10.5-unit type; more where the type is larger (a phone's)


def lines_inner(n: Node, place: NodePlace) -> str | None:
    """The lines of numbers under the node (z, a, t, E, δ, b), each a <tspan> with its css class, one line pitch
    below the one before; None without any. The pitch is in em, so that lines stay apart where the type is larger,
    and a line a narrow screen leaves out (display: none, style.css) takes no room."""
    if not n.lines:
        return None
    return "".join(f'<tspan class="{cls}" x="{place.centre}" dy="{LINE_PITCH}">{line}</tspan>' for cls, line in n.lines)
