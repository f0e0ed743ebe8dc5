"""The network diagram: node and edge geometry, colours, widths and labels for templates/partials/network.html."""
from dataclasses import dataclass

import numpy as np

from app.sessions import Session

from .colors import display_range, hex_color, rgb
from .png import data_uri
from .shown import from_step, node_names

NODE = 34  # node square side, px
SLOT = 90  # vertical room per node: the square and up to four lines of numbers
LEFT, RIGHT, TOP = 60, 84, 14
WIDTH = 600
HEATMAP_GRID = 16
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


def fmt(value: float | None, digits: int = 4) -> str:
    """Short label for a number; the full value travels in data-* attributes."""
    if value is None:
        return "–"
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f"{value:.2e}"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if "." in f"{value:.{digits}f}" else f"{value}"


def heatmaps(session: Session) -> list[list[str]] | None:
    """Each node's output over the input plane, as PNG data URIs; None unless the raw inputs are 2-D."""
    data = session.dataset
    if data.domain is None or len(data.input_names) != 2:
        return None
    (x0, x1), (y0, y1) = data.domain
    gx, gy = np.meshgrid(np.linspace(x0, x1, HEATMAP_GRID), np.linspace(y1, y0, HEATMAP_GRID))
    raw = np.column_stack([gx.ravel(), gy.ravel()])
    net = session.trainer.net
    with np.errstate(all="ignore"):
        _, acts = net.forward(data.transform(raw))
    shown = []
    for l, a in enumerate(acts):
        if l == 0:
            shown.append(a / np.maximum(np.abs(a).max(axis=0), 1e-12))
            continue
        name = net.activations[l - 1].name
        s = display_range(a, name)
        if name in ("relu", "leaky_relu", "linear"):
            s = s / np.maximum(np.abs(s).max(axis=0), 1.0)
        shown.append(s)
    # One colour lookup for every node at once: (grid cells, all nodes, rgb).
    pixels = rgb(np.nan_to_num(np.concatenate(shown, axis=1)))
    uris, at = [], 0
    for a in acts:
        uris.append([data_uri(pixels[:, at + j].reshape(HEATMAP_GRID, HEATMAP_GRID, 3)) for j in range(a.shape[1])])
        at += a.shape[1]
    return uris


def build(session: Session) -> Diagram:
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

    shown = session.display or from_step(session)
    first_layer_with_delta = shown.delta_from if shown and shown.delta is not None else net.n_layers
    mean_a = [a.mean(axis=0) for a in shown.a] if shown else None
    mean_d = [d.mean(axis=0) if l >= first_layer_with_delta else None
              for l, d in enumerate(shown.delta)] if shown and shown.delta is not None else [None] * net.n_layers
    delta_scale = max((float(np.abs(d).max()) for d in mean_d if d is not None), default=0.0)
    mean_t = shown.targets.mean(axis=0) if shown and shown.targets is not None else None
    mean_e = shown.loss_terms.mean(axis=0) if shown and shown.loss_terms is not None else None
    mean_z = [z.mean(axis=0) for z in shown.z] if shown and shown.show_z else None
    b_before = net.views(shown.params_before)[1] if shown and shown.params_before is not None else None
    updating = bool(shown) and shown.kind == "update"
    maps = heatmaps(session)
    digits = 6 if session.detailed else 3  # a detailed step reads like a worked example
    nodes = []
    for l, n in enumerate(sizes):
        for j in range(n):
            delta = float(mean_d[l - 1][j]) if l and mean_d[l - 1] is not None else None
            activation = float(mean_a[l][j]) if shown else None
            bias = float(net.biases[l - 1][j]) if l else None
            shade = delta / delta_scale if delta is not None and delta_scale > 0 else 0.0
            lines = [("val", f"a {fmt(activation, digits)}")]
            if mean_z is not None and l:
                lines.insert(0, ("val z", f"z {fmt(float(mean_z[l - 1][j]), digits)}"))
            if mean_t is not None and l == len(sizes) - 1:
                lines.append(("val target", f"t {fmt(float(mean_t[j]), digits)}"))
            if mean_e is not None and l == len(sizes) - 1:
                lines.append(("val target", f"E {fmt(float(mean_e[j]), digits)}"))
            if delta is not None:
                lines.append(("val delta", f"δ {fmt(delta, digits)}"))
            if bias is not None:
                text = f"b {fmt(bias, digits)}"
                if updating:  # the update phase prints old -> new, like the edges
                    before = fmt(float(b_before[l - 1][j]), digits)
                    text = f"b {before} → {fmt(bias, digits)}" if before != fmt(bias, digits) else text
                lines.append(("val bias", text))
            nodes.append(Node(
                id=f"node-{l}-{j}", layer=l, index=j, name=names[l][j], x=xs[l], y=y_of(l, j),
                heatmap=maps[l][j] if maps else None, activation=activation, delta=delta, bias=bias,
                ring_color=hex_color(shade) if delta is not None else "#9aa5b1",
                ring_width=1.5 + 3.5 * abs(shade), lines=lines,
            ))

    grad_w = net.views(shown.grad)[0] if shown and shown.grad is not None else None
    change = None
    if shown and shown.params_before is not None:
        change = [after - before for after, before in
                  zip(net.views(shown.params_after)[0], net.views(shown.params_before)[0])]
        biggest = max(float(np.abs(c).max()) for c in change)
    backward = bool(shown) and shown.kind == "backward"  # gradients appear on the edges as deltas arrive
    w_before = net.views(shown.params_before)[0] if updating else None
    edges = []
    for l, w in enumerate(net.weights):
        for j in range(w.shape[0]):
            for i in range(w.shape[1]):
                x0, y0 = xs[l] + NODE / 2, y_of(l, i)
                x1, y1 = xs[l + 1] - NODE / 2, y_of(l + 1, j)
                mid = (x0 + x1) / 2
                weight = float(w[j, i])
                grad = float(grad_w[l][j, i]) if grad_w is not None and l >= first_layer_with_delta else None
                dw = float(change[l][j, i]) if change is not None else None
                text = f"{names[l][i]} → {names[l + 1][j]}: w = {fmt(weight)}"
                if grad is not None:
                    text += f", ∂L/∂w = {fmt(grad)} (batch mean)"
                if dw is not None:
                    text += f", changed by {fmt(dw)} in the last update"
                old = float(w_before[l][j, i]) if updating else weight
                if updating:
                    label = f"{fmt(old, digits)} → {fmt(weight, digits)}"
                elif backward and grad is not None:
                    label = f"∂ {fmt(grad, digits)}"
                else:
                    label = fmt(weight, digits)
                edges.append(Edge(
                    id=f"edge-{l}-{i}-{j}", layer=l, source=i, target=j,
                    path=f"M{x0:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f}",
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
    return Diagram(session.trainer.step_count, WIDTH, height, columns, nodes, edges, caption, narration, kind)
