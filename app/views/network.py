"""The network diagram of a step: node and edge colours, widths, labels and descriptions, the caption and the
narration, for templates/partials/network.html.

build = diagram_layout (columns and node positions) + _nodes + _edges, with the nodes' pictures from node_heatmaps.
The result is a diagram_model.Diagram, whose edges and nodes app/views/network_svg.py writes as SVG."""
from dataclasses import dataclass

import numpy as np

from app.core.session import Session

from . import units
from .colors import hex_color
from .diagram_layout import WIDTH, Curves, Layout, columns_of, layout_of
from .diagram_model import Diagram, Edge, Node, Picker
from .node_heatmaps import heatmaps
from .numbers import short_label
from .shown import Shown, weight_name

MAX_EDGE_WIDTH = 8.0
LABELLED_EDGES = 4  # the most edges a layer may have and still print every label in the backward and update phases


def _picker(shown: Shown, r: int) -> Picker:
    n = len(shown.a[0])
    detail = f"training row #{shown.rows[r]}" if r < len(shown.rows) else "the input typed into Predict"
    return Picker(f"Row {r + 1} of {n}", detail, r - 1 if r > 0 else None, r + 1 if r + 1 < n else None)


def _mark(selected: tuple | None, nodes: list[Node], edges: list[Edge]) -> None:
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


def without_pass(step: int, audience: str = "learner") -> tuple[str, str, str]:
    """(caption, narration, the inspector's hint) while no step's pass is kept: a new network, or a state restored
    by Back, rewind or an edit. The words fit who reads them (issue 25 §7): a "learner" on their own page has Step;
    a "follower" of a live room has none, and waits for the presenter's; once the room has "ended" a follower can
    only take a copy, whose Step computes the values again."""
    if audience == "ended":
        at = f"at step {step}" if step else "before the first step"
        return (f"The room ended {at}. Edges show the weights; nodes show their biases.",
                f"The presenter stopped presenting {at}: these are the network's weights and biases as the room "
                "ended. Its last step's forward and backward values were not kept. Take a copy to train this network "
                "yourself: its Step shows every value again.",
                f"The room ended {at}, and its last step's forward and backward values were not kept: take a copy to "
                "train this network yourself, and its Step shows how each gradient and update is computed.")
    if audience == "follower":
        if not step:
            return ("No step yet. Edges show the current weights; nodes show their biases.",
                    "Waiting for the presenter's first step: then one mini-batch runs forward through the network, "
                    "its loss is measured, the deltas flow back layer by layer, and every weight moves by −η·g.",
                    "No step has run yet in this room: when the presenter steps, this shows how the gradient and "
                    "update are computed.")
        return (f"Step {step}'s state. Edges show the current weights; nodes show their biases.",
                f"The presenter is at step {step}: the weights, biases and loss curve are exactly as they were after "
                f"step {step}, but its forward and backward values are not kept (the network was rewound or "
                f"edited). They appear again with the presenter's next step, step {step + 1}.",
                f"Step {step}'s forward and backward values are not kept (the presenter rewound or edited the "
                "network): the presenter's next step shows how the gradient and update are computed.")
    if not step:
        return ("No step yet. Edges show the current weights; nodes show their biases.",
                "Press Step: one mini-batch runs forward through the network, its loss is measured, the deltas flow "
                "back layer by layer, and every weight moves by −η·g.",
                "No step has run since this network was built, rewound or edited: press Step to see how its "
                "gradient and update are computed.")
    return (f"Step {step}'s state. Edges show the current weights; nodes show their biases.",
            f"Back at step {step}: the weights, biases, optimizer state and loss curve are exactly as they were "
            f"after step {step}. Its forward and backward values are not kept: press Step to compute step "
            f"{step + 1}'s.",
            "No step has run since this network was built, rewound or edited: press Step to see how its gradient "
            "and update are computed.")


def build(session: Session, shown: Shown | None, detailed: bool, focus: int = 0,
          selected: tuple | None = None, audience: str = "learner") -> Diagram:
    """The diagram of `shown` (a phase, a prediction, or the last step; None before the first step), its nodes at
    the batch's row `focus` (a position in the batch), with six significant digits in detailed mode and three
    otherwise."""
    net = session.trainer.net
    layout = layout_of(session)
    digits = 6 if detailed else 3  # a detailed step reads like a worked example
    r = focus_of(shown, focus)
    pictures = heatmaps(session)
    nodes = _nodes(layout, _node_values(net, shown, r), pictures is not None, digits,
                   bool(shown) and shown.kind == "update")
    edges = _edges(layout, net, shown, digits, lambda l, i, j: weight_name(session, l, i, j))
    _mark(selected, nodes, edges)
    row = batch_row = None
    if shown:
        (caption, narration), kind = shown.words(r), shown.kind
        batch_row = r
        row = int(shown.rows[r]) if r < len(shown.rows) else None
    else:  # a new network, or Back, rewind or Forward: the state is restored, its step's pass is not kept
        caption, narration, _ = without_pass(session.trainer.step_count, audience)
        kind = "initial"
    if units.scaled(session.dataset):  # the output nodes' a and t are the network's, not the data's
        caption += (f" Output values are on the network's scale, {units.scaling_words(session.dataset)}; the "
                    "narration and Predict give them in the data's units.")
    return Diagram(session.trainer.step_count, row, batch_row, len(shown.a[0]) if shown else 0, WIDTH, layout.height,
                   columns_of(net, layout), nodes, edges, caption, narration, kind,
                   _picker(shown, r) if shown else None, pictures)


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


def _nodes(layout: Layout, values: NodeValues, pictures: bool, digits: int, updating: bool) -> list[Node]:
    """The nodes in layer order; with `pictures`, node k shows the pictures' k-th slice."""
    places = [(l, j) for l, n in enumerate(layout.sizes) for j in range(n)]
    return [_node(layout, values, l, j, k if pictures else None, digits, updating) for k, (l, j) in enumerate(places)]


def _node(layout: Layout, values: NodeValues, l: int, j: int, picture: int | None, digits: int,
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
        id=f"node-{l}-{j}", layer=l, index=j, name=name, x=layout.xs[l], y=layout.y(l, j), picture=picture,
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
