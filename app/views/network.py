"""The network diagram: node and edge geometry, colours, widths and labels for templates/partials/network.html."""
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from markupsafe import Markup, escape

from app.core.session import Session

from .colors import display_range, finite, hex_color, rgb
from .numbers import exact, short_label
from .output import cached, plane_inputs, plane_key
from .png import data_uri, data_uris
from .shown import Shown, node_names

NODE = 34  # node square side, px
SLOT = 90  # vertical room per node: the square and up to four lines of numbers
LEFT, RIGHT, TOP = 60, 84, 14
WIDTH = 600
HEATMAP_GRID = 16
# The nodes' 16 x 16 pictures are stored uncompressed: on every step that saves 90 µs of zlib set-up for 1.9 KB
# more (8.1 instead of 6.2 KB for the default network's).
HEATMAP_ZLIB_LEVEL = 0
MAX_EDGE_WIDTH = 8.0


@dataclass
class Node:
    id: str
    layer: int
    index: int
    name: str
    x: float
    y: float
    heatmap: str | None
    activation: float | None  # batch mean from the last step's forward pass
    delta: float | None  # batch mean dL/dz from the last step's backward pass; None for inputs
    bias: float | None  # current bias; None for inputs
    ring_color: str
    ring_width: float
    lines: list[tuple[str, str]]  # (css class, text) under the node
    description: str  # title and accessible name: "h1.1: a = ..., δ = ..., bias b = ..."

    @property
    def corner(self) -> tuple[float, float]:
        return self.x - NODE / 2, self.y - NODE / 2


@dataclass
class Edge:
    id: str
    layer: int
    source: int
    target: int
    path: str
    label_x: float
    label_y: float
    color: str
    width: float
    weight: float
    grad: float | None
    change: float | None
    changed: bool
    description: str
    label: str
    label_always: bool  # the update phase prints old -> new on every edge


@dataclass
class Column:
    layer: int
    x: float
    title: str
    subtitle: str
    size: int
    hidden: bool


@dataclass
class Diagram:
    step: int
    width: int
    height: int
    columns: list[Column]
    nodes: list[Node]
    edges: list[Edge]
    caption: str
    narration: str
    kind: str
    # The edges' and nodes' SVG, drawn here rather than in a template loop (see edges_svg and nodes_svg).
    edges_svg: Markup = field(default_factory=Markup)
    nodes_svg: Markup = field(default_factory=Markup)


def _column_means(a: np.ndarray) -> np.ndarray:
    """a.mean(axis=0) of a float64 array without np.mean's Python wrapper: the same sum, divided the same way."""
    return np.add.reduce(a, axis=0) / a.shape[0]


def _input_heatmaps(inputs: np.ndarray) -> list[str]:
    """The input nodes' heatmaps: each input over the plane, scaled by its largest magnitude on the grid."""
    shown = inputs / np.maximum(np.abs(inputs).max(axis=0), 1e-12)
    pixels = rgb(np.nan_to_num(shown))
    return [data_uri(pixels[:, j].reshape(HEATMAP_GRID, HEATMAP_GRID, 3)) for j in range(inputs.shape[1])]


def heatmaps(session: Session) -> list[list[str]] | None:
    """Each node's output over the input plane, as PNG data URIs; None unless the raw inputs are 2-D.

    The grid's network inputs and the input nodes' heatmaps depend only on the data, so they are computed once
    for every session with the same data (output.plane_inputs); only the other layers are drawn per step.
    """
    data = session.dataset
    if data.domain is None or len(data.input_names) != 2:
        return None
    inputs = plane_inputs(data, HEATMAP_GRID)
    net = session.trainer.net
    with np.errstate(all="ignore"):
        _, acts = net.forward(inputs)
    shown = []
    for l, a in enumerate(acts[1:], start=1):
        name = net.activations[l - 1].name
        s = display_range(a, name)
        if name in ("relu", "leaky_relu", "linear"):
            s = s / np.maximum(np.abs(s).max(axis=0), 1.0)
        shown.append(s)
    # One colour lookup for every node at once: (grid cells, all nodes, rgb).
    pixels = rgb(finite(np.concatenate(shown, axis=1)))
    uris = [list(cached(("input heatmaps", *plane_key(data, HEATMAP_GRID)), lambda: tuple(_input_heatmaps(inputs))))]
    pictures = data_uris(pixels.transpose(1, 0, 2).reshape(-1, HEATMAP_GRID, HEATMAP_GRID, 3), HEATMAP_ZLIB_LEVEL)
    at = 0
    for a in acts[1:]:
        uris.append(pictures[at:at + a.shape[1]])
        at += a.shape[1]
    return uris


def build(session: Session, shown: Shown | None, detailed: bool) -> Diagram:
    """The diagram of `shown` (a phase, a prediction, or the last step; None before the first step), with six
    significant digits in detailed mode and three otherwise."""
    net = session.trainer.net
    sizes = net.sizes
    height = TOP * 2 + max(sizes) * SLOT
    names = node_names(session)
    # Room for the input names on the left and the output names on the right, at about 7 px a character.
    left = max(LEFT, 30 + 7 * max(len(n) for n in names[0]))
    right = max(RIGHT, 30 + 7 * max(len(n) for n in names[-1]))
    step_x = (WIDTH - left - right) / (len(sizes) - 1)
    xs = [left + l * step_x for l in range(len(sizes))]

    def y_of(layer: int, index: int) -> float:
        return TOP + (height - 2 * TOP - sizes[layer] * SLOT) / 2 + (index + 0.5) * SLOT - 10

    columns = []
    for l, n in enumerate(sizes):
        if l == 0:
            title, subtitle = "Input", f"{n} feature{'s' * (n != 1)}"
        elif l == len(sizes) - 1:
            title, subtitle = "Output", net.output.name
        else:
            title, subtitle = f"Hidden {l}", net.hidden.name
        columns.append(Column(l, xs[l], title, subtitle, n, 0 < l < len(sizes) - 1))

    first_layer_with_delta = shown.delta_from if shown and shown.delta is not None else net.n_layers
    mean_a = [_column_means(a) for a in shown.a] if shown else None
    mean_d = [_column_means(d) if l >= first_layer_with_delta else None
              for l, d in enumerate(shown.delta)] if shown and shown.delta is not None else [None] * net.n_layers
    delta_scale = max((float(np.abs(d).max()) for d in mean_d if d is not None), default=0.0)
    mean_t = _column_means(shown.targets) if shown and shown.targets is not None else None
    mean_e = _column_means(shown.loss_terms) if shown and shown.loss_terms is not None else None
    mean_z = [_column_means(z) for z in shown.z] if shown and shown.show_z else None
    b_before = net.views(shown.params_before)[1] if shown and shown.params_before is not None else None
    updating = bool(shown) and shown.kind == "update"
    maps = heatmaps(session)
    digits = 6 if detailed else 3  # a detailed step reads like a worked example
    # Python floats from here on (tolist() gives each element's float exactly, as float(array[i]) would): the
    # loops below run for every node and edge, where indexing arrays element by element costs more than the rest.
    last = len(sizes) - 1
    a_rows = [m.tolist() for m in mean_a] if shown else None
    d_rows = [None if d is None else d.tolist() for d in mean_d]
    z_rows = [z.tolist() for z in mean_z] if mean_z is not None else None
    t_row = mean_t.tolist() if mean_t is not None else None
    e_row = mean_e.tolist() if mean_e is not None else None
    bias_rows = [b.tolist() for b in net.biases]
    b_before_rows = [b.tolist() for b in b_before] if updating else None
    nodes = []
    for l, n in enumerate(sizes):
        x = xs[l]
        layer_names = names[l]
        layer_maps = maps[l] if maps else None
        deltas = d_rows[l - 1] if l else None
        for j in range(n):
            delta = deltas[j] if deltas is not None else None
            activation = a_rows[l][j] if shown else None
            bias = bias_rows[l - 1][j] if l else None
            shade = delta / delta_scale if delta is not None and delta_scale > 0 else 0.0
            lines = [("val", f"a {short_label(activation, digits)}")]
            if z_rows is not None and l:
                lines.insert(0, ("val z", f"z {short_label(z_rows[l - 1][j], digits)}"))
            if t_row is not None and l == last:
                lines.append(("val target", f"t {short_label(t_row[j], digits)}"))
            if e_row is not None and l == last:
                lines.append(("val target", f"E {short_label(e_row[j], digits)}"))
            if delta is not None:
                lines.append(("val delta", f"δ {short_label(delta, digits)}"))
            if bias is not None:
                now = short_label(bias, digits)
                text = f"b {now}"
                if updating:  # the update phase prints old -> new, like the edges
                    before = short_label(b_before_rows[l - 1][j], digits)
                    text = f"b {before} → {now}" if before != now else text
                lines.append(("val bias", text))
            description = f"{layer_names[j]}: a = {short_label(activation)}"
            if delta is not None:
                description += f", δ = {short_label(delta)}"
            if bias is not None:
                description += f", bias b = {short_label(bias)}"
            nodes.append(Node(
                id=f"node-{l}-{j}", layer=l, index=j, name=layer_names[j], x=x, y=y_of(l, j),
                heatmap=layer_maps[j] if layer_maps else None, activation=activation, delta=delta, bias=bias,
                ring_color=hex_color(shade) if delta is not None else "#9aa5b1",
                ring_width=1.5 + 3.5 * abs(shade), lines=lines, description=description,
            ))

    grad_w = net.views(shown.grad)[0] if shown and shown.grad is not None else None
    change = shown.weight_change if shown else None
    if change is not None:
        biggest = max(float(np.abs(c).max()) for c in change)
    backward = bool(shown) and shown.kind == "backward"  # gradients appear on the edges as deltas arrive
    w_before = net.views(shown.params_before)[0] if updating else None
    edges = []
    for l, w in enumerate(net.weights):
        x0, x1 = xs[l] + NODE / 2, xs[l + 1] - NODE / 2
        mid = (x0 + x1) / 2
        ys_from = [y_of(l, i) for i in range(w.shape[1])]
        ys_to = [y_of(l + 1, j) for j in range(w.shape[0])]
        # The curves' coordinates, each formatted once rather than once per edge through it.
        from_text = [f"{y:.1f}" for y in ys_from]
        to_text = [f"{y:.1f}" for y in ys_to]
        start, middle, end = f"M{x0:.1f},", f" C{mid:.1f},", f" {mid:.1f},"
        x1_text = f" {x1:.1f},"
        from_names, to_names = names[l], names[l + 1]
        grads = grad_w[l].tolist() if grad_w is not None and l >= first_layer_with_delta else None
        changes = change[l].tolist() if change is not None else None
        olds = w_before[l].tolist() if updating else None
        for j, row in enumerate(w.tolist()):
            y1 = ys_to[j]
            for i, weight in enumerate(row):
                y0 = ys_from[i]
                grad = grads[j][i] if grads is not None else None
                dw = changes[j][i] if changes is not None else None
                text = f"{from_names[i]} → {to_names[j]}: w = {short_label(weight)}"
                if grad is not None:
                    text += f", ∂L/∂w = {short_label(grad)} (batch mean)"
                if dw is not None:
                    text += f", changed by {short_label(dw)} in the last update"
                if updating:
                    label = f"{short_label(olds[j][i], digits)} → {short_label(weight, digits)}"
                elif backward and grad is not None:
                    label = f"∂ {short_label(grad, digits)}"
                else:
                    label = short_label(weight, digits)
                edges.append(Edge(
                    id=f"edge-{l}-{i}-{j}", layer=l, source=i, target=j,
                    path=f"{start}{from_text[i]}{middle}{from_text[i]}{end}{to_text[j]}{x1_text}{to_text[j]}",
                    label_x=x0 + 0.62 * (x1 - x0), label_y=y0 + 0.62 * (y1 - y0) - 3,
                    color=hex_color(weight), width=min(1.0 + 9.0 * abs(weight) / 5.0, MAX_EDGE_WIDTH),
                    weight=weight, grad=grad, change=dw,
                    changed=change is not None and biggest > 0 and abs(dw) >= 0.6 * biggest,
                    description=text, label=label, label_always=updating or (backward and grad is not None),
                ))
    if shown:
        caption, narration, kind = shown.caption, shown.narration, shown.kind
    else:
        caption = ("No step yet: press Step to run a forward pass, a backward pass and an update. "
                   "Edges show the current weights.")
        narration, kind = "", "initial"
    return Diagram(session.trainer.step_count, WIDTH, height, columns, nodes, edges, caption, narration, kind,
                   edges_svg(edges), nodes_svg(nodes, sizes[-1]))


# The diagram's edges and nodes are drawn by the two functions below instead of a loop in
# templates/partials/network.html: a Jinja loop over every attribute of every edge and node took more time than
# the rest of the answer's HTML together. The markup, whitespace included, is what that loop drew. Numbers and
# the view's own strings go in as they are; names (from CSV headers) are escaped.

@lru_cache(maxsize=1024)
def _label_place(x: float, y: float) -> tuple[str, str]:
    """An edge label's coordinates as printed. They, and a node's below, only change with the layout, so each is
    formatted once rather than on every step (formatting floats was half of the markup's time)."""
    return "%.1f" % x, "%.1f" % y


@lru_cache(maxsize=1024)
def _node_place(centre: float, x: float, y: float, lines: int) -> tuple:
    """The coordinates a node's markup prints, from its centre x, its corner (x, y) and its number of lines."""
    return (str(x), str(y), str(x - 2), str(y - 2), str(x - 8), str(y + 21), str(x + 44), str(centre),
            tuple(str(y + 47 + 11 * i) for i in range(lines)))


def edges_svg(edges: list[Edge]) -> Markup:
    parts = []
    for e in edges:
        text = escape(e.description)
        halo = f'<path class="halo" d="{e.path}" stroke-width="{e.width + 7}"/>' if e.changed else ""
        label_x, label_y = _label_place(e.label_x, e.label_y)
        parts.append(
            f'\n      <g id="{e.id}" class="edge{" changed" if e.changed else ""}" tabindex="0" role="img" '
            f'aria-label="{text}"\n         data-layer="{e.layer}" data-from="{e.source}" data-to="{e.target}"'
            f'\n         data-weight="{exact(e.weight)}" data-grad="{exact(e.grad)}" data-change="{exact(e.change)}">'
            f'\n        <title>{text}</title>\n        {halo}\n        <path class="hit" d="{e.path}"/>'
            f'\n        <path class="line" d="{e.path}" stroke="{e.color}" stroke-width="{"%.2f" % e.width}"/>'
            f'\n        <text class="num{" always" if e.label_always else ""}" x="{label_x}" '
            f'y="{label_y}">{e.label}</text>\n      </g>\n    ')
    return Markup("".join(parts))


def nodes_svg(nodes: list[Node], outputs: int) -> Markup:
    """The nodes' markup; the last `outputs` nodes are the output layer, named on their right."""
    parts = []
    right_from = len(nodes) - outputs
    for k, n in enumerate(nodes):
        x, y, ring_x, ring_y, left_x, name_y, right_x, centre, line_ys = _node_place(n.x, *n.corner, len(n.lines))
        text = escape(n.description)
        if n.heatmap:
            picture = (f'<image href="{n.heatmap}" x="{x}" y="{y}" width="34" height="34" '
                       'preserveAspectRatio="none"/>')
        else:
            picture = f'<rect x="{x}" y="{y}" width="34" height="34" rx="4" class="plain"/>'
        if n.layer == 0:
            name = f'\n        <text class="node-name left" x="{left_x}" y="{name_y}">{escape(n.name)}</text>\n        '
        elif k >= right_from:
            name = f'\n        <text class="node-name right" x="{right_x}" y="{name_y}">{escape(n.name)}</text>\n        '
        else:
            name = ""
        lines = "".join(f'<text class="{cls}" x="{centre}" y="{line_y}">{line}</text>\n        '
                        for (cls, line), line_y in zip(n.lines, line_ys))
        parts.append(
            f'\n      \n      <g id="{n.id}" class="node" tabindex="0" role="img" style="--layer: {n.layer}"'
            f'\n         aria-label="{text}"\n         data-layer="{n.layer}" data-index="{n.index}" '
            f'data-activation="{exact(n.activation)}"\n         data-delta="{exact(n.delta)}" '
            f'data-bias="{exact(n.bias)}">\n        <title>{text}</title>\n        \n        {picture}\n        '
            f'\n        <rect class="ring" x="{ring_x}" y="{ring_y}" width="38" height="38" rx="5"'
            f'\n              stroke="{n.ring_color}" stroke-width="{"%.2f" % n.ring_width}"/>\n        '
            f'{name}\n        {lines}\n      </g>\n    ')
    return Markup("".join(parts))
