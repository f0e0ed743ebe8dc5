"""The network diagram: node and edge geometry, colours, widths and labels for templates/partials/network.html.

build = _layout (columns and node positions) + _nodes + _edges; app/views/network_svg.py draws them as SVG."""
from dataclasses import dataclass, field

import numpy as np
from markupsafe import Markup

from app.core.session import Session

from .colors import display_range, finite, hex_color, rgb
from .network_svg import edges_markup, nodes_markup
from .numbers import short_label
from .output import cached, plane_inputs, plane_key
from .png import data_uri, data_uris
from . import units
from .shown import Shown, node_names, weight_name

NODE = 34  # node square side, px
SLOT = 90  # vertical room per node: the square and up to four lines of numbers
LEFT, RIGHT, TOP = 60, 84, 14
WIDTH = 600
HEATMAP_GRID = 16
# The nodes' 16 x 16 pictures are stored uncompressed: they are re-sent on every step, where zlib's set-up costs
# more time than its bytes save (bench/README.md).
HEATMAP_ZLIB_LEVEL = 0
MAX_EDGE_WIDTH = 8.0
LABELLED_EDGES = 4  # the most edges a layer may have and still print every label in the backward and update phases


@dataclass
class Node:
    id: str
    layer: int
    index: int
    name: str
    x: float
    y: float
    heatmap: str | None
    activation: float | None  # the focus row's a, from the pass shown
    z: float | None  # the focus row's z; None for inputs
    delta: float | None  # the focus row's dL/dz, once the backward pass has reached it; None for inputs
    target: float | None  # an output's target for the focus row, as the network sees it
    bias: float | None  # current bias; None for inputs
    bias_before: float | None  # the bias the pass shown used, where an update followed it (else None)
    ring_color: str
    ring_width: float
    selected: bool  # the inspector is on it
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
    weight_before: float | None  # the weight the pass shown used, where an update followed it (else None)
    change: float | None
    changed: bool
    description: str
    label: str
    label_always: bool  # the update phase prints old -> new on every edge
    selected: bool = False  # the inspector is on it


@dataclass
class Column:
    layer: int
    x: float
    title: str
    subtitle: str
    size: int
    hidden: bool


@dataclass
class Picker:
    """The focus row's picker beside the diagram: "Row 3 of 10", the training row, and the positions ◀ ▶ go to."""
    label: str
    detail: str
    previous: int | None
    next: int | None


def _picker(shown: Shown, r: int) -> Picker:
    n = len(shown.a[0])
    detail = f"training row #{shown.rows[r]}" if r < len(shown.rows) else "the input typed into Predict"
    return Picker(f"Row {r + 1} of {n}", detail, r - 1 if r > 0 else None, r + 1 if r + 1 < n else None)


@dataclass
class Diagram:
    step: int
    row: int | None  # the focus row's index in the training set; None with no pass shown
    batch_row: int | None  # its position in the batch
    batch_size: int  # rows in the pass shown (0 with none)
    width: int
    height: int
    columns: list[Column]
    nodes: list[Node]
    edges: list[Edge]
    caption: str
    narration: str
    kind: str
    picker: "Picker | None" = None  # the focus row's picker; None before the first step
    # The edges' and nodes' SVG, drawn by app/views/network_svg.py rather than in a template loop.
    edges_svg: Markup = field(default_factory=Markup)
    nodes_svg: Markup = field(default_factory=Markup)


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


def _mark(selected: tuple | None, nodes: list["Node"], edges: list["Edge"]) -> None:
    """Mark the node or edge the inspector is on: ("edge" or "weight", layer, from, to), ("node", layer, _, index)
    or ("bias", weight layer, _, to)."""
    if not selected:
        return
    kind, layer, source, to = selected
    try:
        layer, to = int(layer), int(to)
        if kind in ("edge", "weight"):
            key = f"edge-{layer}-{int(source)}-{to}"
            for e in edges:
                e.selected = e.id == key
        else:
            key = f"node-{layer + (kind == 'bias')}-{to}"
            for n in nodes:
                n.selected = n.id == key
    except (TypeError, ValueError):
        return


def focus_of(shown: Shown | None, focus: int) -> int:
    """The focus row's position in the pass shown: `focus`, within the batch."""
    n = len(shown.a[0]) if shown else 0
    return min(max(focus, 0), max(n - 1, 0))


def build(session: Session, shown: Shown | None, detailed: bool, focus: int = 0,
          selected: tuple | None = None) -> Diagram:
    """The diagram of `shown` (a phase, a prediction, or the last step; None before the first step), its nodes at
    the batch's row `focus` (a position in the batch), with six significant digits in detailed mode and three
    otherwise."""
    net = session.trainer.net
    layout = _layout(session)
    digits = 6 if detailed else 3  # a detailed step reads like a worked example
    r = focus_of(shown, focus)
    nodes = _nodes(layout, _node_values(net, shown, r), heatmaps(session), digits,
                   bool(shown) and shown.kind == "update")
    edges = _edges(layout, net, shown, digits, lambda l, i, j: weight_name(session, l, i, j))
    _mark(selected, nodes, edges)
    row = batch_row = None
    if shown:
        (caption, narration), kind = shown.words(r), shown.kind
        batch_row = r
        row = int(shown.rows[r]) if r < len(shown.rows) else None
    elif session.trainer.step_count:  # Back, rewind or Forward: the state is restored, its step's pass is not kept
        step = session.trainer.step_count
        caption = f"Step {step}'s state. Edges show the current weights; nodes show their biases."
        narration = (f"Back at step {step}: the weights, biases, optimizer state and loss curve are exactly as they "
                     f"were after step {step}. Its forward and backward values are not kept: press Step to compute "
                     f"step {step + 1}'s.")
        kind = "initial"
    else:
        caption = "No step yet. Edges show the current weights; nodes show their biases."
        narration, kind = ("Press Step: one mini-batch runs forward through the network, its loss is measured, the "
                           "deltas flow back layer by layer, and every weight moves by −η·g."), "initial"
    if units.scaled(session.dataset):  # the output nodes' a and t are the network's, not the data's
        caption += (f" Output values are on the network's scale, {units.scaling_words(session.dataset)}; the "
                    "narration and Predict give them in the data's units.")
    return Diagram(session.trainer.step_count, row, batch_row, len(shown.a[0]) if shown else 0, WIDTH, layout.height,
                   _columns(net, layout), nodes, edges, caption, narration, kind,
                   _picker(shown, r) if shown else None, edges_markup(edges), nodes_markup(nodes))


# Geometry

@dataclass
class Layout:
    """Where things go: each layer's column x, each node's centre y, the SVG's height, and the nodes' names."""
    sizes: list[int]
    names: list[list[str]]
    xs: list[float]
    height: int

    def y(self, layer: int, index: int) -> float:
        """The centre of node `index` of `layer`: the layer's nodes are centred vertically, SLOT px apart."""
        return TOP + (self.height - 2 * TOP - self.sizes[layer] * SLOT) / 2 + (index + 0.5) * SLOT - 10


def _layout(session: Session) -> Layout:
    sizes = session.trainer.net.sizes
    names = node_names(session)
    # Room for the input names on the left and the output names on the right, at about 7 px a character.
    left = max(LEFT, 30 + 7 * max(len(n) for n in names[0]))
    right = max(RIGHT, 30 + 7 * max(len(n) for n in names[-1]))
    step_x = (WIDTH - left - right) / (len(sizes) - 1)
    return Layout(sizes, names, [left + l * step_x for l in range(len(sizes))], TOP * 2 + max(sizes) * SLOT)


def _columns(net, layout: Layout) -> list[Column]:
    """The heading over each layer: Input, Hidden l (with buttons to add or remove a node), Output."""
    columns, last = [], len(layout.sizes) - 1
    for l, n in enumerate(layout.sizes):
        if l == 0:
            title, subtitle = "Input", f"{n} feature{'s' * (n != 1)}"
        elif l == last:
            title, subtitle = "Output", net.output.name
        else:
            title, subtitle = f"Hidden {l}", net.hidden.name
        columns.append(Column(l, layout.xs[l], title, subtitle, n, 0 < l < last))
    return columns


# Nodes

@dataclass
class NodeValues:
    """What the nodes show of `shown`, per layer, at the focus row, as Python floats: tolist() gives each element's
    float exactly, as float(array[i]) would, and the loops over every node cost less than indexing arrays element
    by element."""
    a: list[list[float]] | None  # per layer; None before the first step
    z: list[list[float]] | None  # per weight layer; None before the first step
    show_z: bool  # z is printed under the nodes (the forward phase); it is in their data always
    delta: list[list[float] | None]  # per weight layer; None where the backward pass has not arrived
    delta_scale: float  # the largest |δ| drawn, which gets the darkest ring
    targets: list[float] | None  # the output layer's
    loss_terms: list[float] | None  # each output's share E of the loss, in the loss phase
    biases: list[list[float]]  # per weight layer, current
    biases_before: list[list[float]] | None  # the biases the pass used, where an update followed it
    updating: bool  # the update phase: printed as old → new


def _first_layer_with_delta(net, shown: Shown | None) -> int:
    return shown.delta_from if shown and shown.delta is not None else net.n_layers


def _node_values(net, shown: Shown | None, r: int) -> NodeValues:
    first = _first_layer_with_delta(net, shown)
    deltas = [d[r] if l >= first else None
              for l, d in enumerate(shown.delta)] if shown and shown.delta is not None else [None] * net.n_layers
    updating = bool(shown) and shown.kind == "update"
    return NodeValues(
        a=[a[r].tolist() for a in shown.a] if shown else None,
        z=[z[r].tolist() for z in shown.z] if shown else None,
        show_z=bool(shown) and shown.show_z,
        delta=[None if d is None else d.tolist() for d in deltas],
        delta_scale=max((float(np.abs(d).max()) for d in deltas if d is not None), default=0.0),
        targets=shown.targets[r].tolist() if shown and shown.targets is not None else None,
        loss_terms=shown.loss_terms[r].tolist() if shown and shown.loss_terms is not None else None,
        biases=[b.tolist() for b in net.biases],
        biases_before=([b.tolist() for b in net.views(shown.params_before)[1]]
                       if shown and shown.params_before is not None else None),
        updating=updating,
    )


def _nodes(layout: Layout, values: NodeValues, maps: list[list[str]] | None, digits: int,
           updating: bool) -> list[Node]:
    return [_node(layout, values, l, j, maps[l][j] if maps else None, digits, updating)
            for l, n in enumerate(layout.sizes) for j in range(n)]


def _node(layout: Layout, values: NodeValues, l: int, j: int, heatmap: str | None, digits: int,
          updating: bool) -> Node:
    """Node j of layer l: its picture, its ring (colour and width from δ), its numbers and its description."""
    delta = values.delta[l - 1][j] if l and values.delta[l - 1] is not None else None
    activation = values.a[l][j] if values.a else None
    z = values.z[l - 1][j] if l and values.z else None
    output = l == len(layout.sizes) - 1
    target = values.targets[j] if output and values.targets is not None else None
    bias = values.biases[l - 1][j] if l else None
    bias_before = values.biases_before[l - 1][j] if l and values.biases_before is not None else None
    shade = delta / values.delta_scale if delta is not None and values.delta_scale > 0 else 0.0
    name = layout.names[l][j]
    description = f"{name}: a = {short_label(activation)}"
    if delta is not None:
        description += f", δ = {short_label(delta)}"
    if bias is not None:
        description += f", bias b = {short_label(bias)}"
    return Node(
        id=f"node-{l}-{j}", layer=l, index=j, name=name, x=layout.xs[l], y=layout.y(l, j), heatmap=heatmap,
        activation=activation, z=z, delta=delta, target=target, bias=bias, bias_before=bias_before,
        ring_color=hex_color(shade) if delta is not None else "#9aa5b1", ring_width=1.5 + 3.5 * abs(shade), selected=False,
        lines=_node_lines(values, l, j, output, digits, updating), description=description,
    )


def _node_lines(values: NodeValues, l: int, j: int, output: bool, digits: int,
                updating: bool) -> list[tuple[str, str]]:
    """The numbers under a node, top to bottom, each (css class, text): z (forward phase), a, then for outputs
    t and E (loss phase), δ (once the backward pass has reached it), and b (old → new in the update phase)."""
    lines = []
    if values.show_z and l:
        lines.append(("val z", f"z {short_label(values.z[l - 1][j], digits)}"))
    lines.append(("val", f"a {short_label(values.a[l][j] if values.a else None, digits)}"))
    if values.targets is not None and output:
        lines.append(("val target", f"t {short_label(values.targets[j], digits)}"))
    if values.loss_terms is not None and output:
        lines.append(("val target", f"E {short_label(values.loss_terms[j], digits)}"))
    if l and values.delta[l - 1] is not None:
        lines.append(("val delta", f"δ {short_label(values.delta[l - 1][j], digits)}"))
    if l:
        now = short_label(values.biases[l - 1][j], digits)
        before = short_label(values.biases_before[l - 1][j], digits) if updating else now
        lines.append(("val bias", f"b {before} → {now}" if before != now else f"b {now}"))
    return lines


# Edges

def _edges(layout: Layout, net, shown: Shown | None, digits: int, own_name) -> list[Edge]:
    """Every weight's curve, coloured by its sign and as wide as its size, with a label: the weight, its gradient
    as the backward pass reaches it, or old → new in the update phase."""
    first = _first_layer_with_delta(net, shown)
    grad_w = net.views(shown.grad)[0] if shown and shown.grad is not None else None
    change = shown.weight_change if shown else None
    biggest = max(float(np.abs(c).max()) for c in change) if change is not None else 0.0
    updating = bool(shown) and shown.kind == "update"
    backward = bool(shown) and shown.kind == "backward"  # gradients appear on the edges as deltas arrive
    w_before = net.views(shown.params_before)[0] if shown and shown.params_before is not None else None
    batch_rows = len(shown.rows) if shown and shown.rows is not None else 1
    edges = []
    for l, w in enumerate(net.weights):
        curves = Curves(layout, l)
        from_names, to_names = layout.names[l], layout.names[l + 1]
        grads = grad_w[l].tolist() if grad_w is not None and l >= first else None
        changes = change[l].tolist() if change is not None else None
        olds = w_before[l].tolist() if w_before is not None else None
        # Labels midway between two columns run into each other and into the nodes' numbers when a layer has many
        # edges: such a layer prints none by itself (they show on hover, on focus and in the inspector).
        printed = w.size <= LABELLED_EDGES
        for j, row in enumerate(w.tolist()):
            for i, weight in enumerate(row):
                grad = grads[j][i] if grads is not None else None
                dw = changes[j][i] if changes is not None else None
                if updating:
                    label = f"{short_label(olds[j][i], digits)} → {short_label(weight, digits)}"
                elif backward and grad is not None:  # the weight stays in view beside its gradient
                    label = f"{short_label(weight, digits)} · ∂ {short_label(grad, digits)}"
                else:
                    label = short_label(weight, digits)
                own = own_name(l, i, j)
                if own and not updating:  # a worked example's own name first ("w5 0.4"); old → new has no room
                    label = f"{own} {label}"
                label_x, label_y = curves.label_place(i, j)
                edges.append(Edge(
                    id=f"edge-{l}-{i}-{j}", layer=l, source=i, target=j, path=curves.path(i, j),
                    label_x=label_x, label_y=label_y, color=hex_color(weight),
                    width=min(1.0 + 9.0 * abs(weight) / 5.0, MAX_EDGE_WIDTH), weight=weight, grad=grad,
                    weight_before=olds[j][i] if olds is not None else None, change=dw,
                    changed=change is not None and biggest > 0 and abs(dw) >= 0.6 * biggest,
                    description=_edge_description(from_names[i], to_names[j], own, weight, grad, dw,
                                                  batch_rows),
                    label=label, label_always=(updating or (backward and grad is not None)) and printed,
                ))
    return edges


def _edge_description(source: str, target: str, own: str | None, weight: float, grad: float | None,
                      change: float | None, batch_rows: int) -> str:
    text = f"{own + ': ' if own else ''}{source} → {target}: w = {short_label(weight)}"
    if grad is not None:
        text += f", ∂L/∂w = {short_label(grad)}" + (f" (mean over {batch_rows} rows)" if batch_rows > 1 else "")
    if change is not None:
        text += f", changed by {short_label(change)} in the last update"
    return text


class Curves:
    """The edges from layer l's column to the next: cubic curves M x0,y0 C mid,y0 mid,y1 x1,y1 from the right of
    a node to the left of the next, their coordinates formatted once rather than once per edge."""

    def __init__(self, layout: Layout, l: int):
        self.x0, self.x1 = layout.xs[l] + NODE / 2, layout.xs[l + 1] - NODE / 2
        mid = (self.x0 + self.x1) / 2
        self.ys_from = [layout.y(l, i) for i in range(layout.sizes[l])]
        self.ys_to = [layout.y(l + 1, j) for j in range(layout.sizes[l + 1])]
        self.from_text = [f"{y:.1f}" for y in self.ys_from]
        self.to_text = [f"{y:.1f}" for y in self.ys_to]
        self.start, self.middle, self.end = f"M{self.x0:.1f},", f" C{mid:.1f},", f" {mid:.1f},"
        self.x1_text = f" {self.x1:.1f},"

    def path(self, i: int, j: int) -> str:
        y0, y1 = self.from_text[i], self.to_text[j]
        return f"{self.start}{y0}{self.middle}{y0}{self.end}{y1}{self.x1_text}{y1}"

    def label_place(self, i: int, j: int) -> tuple[float, float]:
        """62 % of the way along the chord, 3 px above it."""
        y0, y1 = self.ys_from[i], self.ys_to[j]
        return self.x0 + 0.62 * (self.x1 - self.x0), y0 + 0.62 * (y1 - y0) - 3
