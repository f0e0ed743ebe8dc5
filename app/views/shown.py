"""Which pass the diagram draws, with its caption and narration: the last step, one phase of a detailed
step, a prediction, or the forward pass after an edit. Every array comes from the engine unchanged.

The nodes show one row of the batch, the focus row (a position in the batch, issue 23): its inputs, z, a, δ and
target, so that every number on them follows from the others by the chain rule. The edges show weights and the
batch-mean ∂L/∂w that the update uses. The caption and narration are written for the focus row (`words`)."""
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.engine import LOSSES, Trace
from app.core.session import Session

from .numbers import six_digits
from .units import in_units, scaled, value_words


@dataclass
class Shown:
    kind: str  # "step", "forward", "loss", "backward", "update", "predict" or "edit"
    a: list[np.ndarray]  # per layer, (rows, size); a[0] is the input
    z: list[np.ndarray]
    delta: list[np.ndarray] | None  # per weight layer, (rows, size)
    delta_from: int  # deltas are drawn for weight layers >= delta_from
    grad: np.ndarray | None  # flat batch-mean gradient
    params_before: np.ndarray | None  # with params_after: the update, drawn as old -> new
    params_after: np.ndarray | None
    targets: np.ndarray | None  # (rows, K): the outputs' targets, as the network sees them
    rows: list[int]  # the batch's training rows
    words: Callable[[int], tuple[str, str]]  # (caption, narration) for the focus row's position in the batch
    loss_terms: np.ndarray | None = None  # (rows, K): each output's share of the loss, in the loss phase
    show_z: bool = False  # the forward phase prints z next to a
    # With params_before/after: per weight layer, what the update did to the weights (after − before).
    weight_change: list[np.ndarray] | None = None

    @property
    def caption(self) -> str:
        """The caption for the batch's first row."""
        return self.words(0)[0]

    @property
    def narration(self) -> str:
        """The narration for the batch's first row."""
        return self.words(0)[1]


def row_words(session: Session, rows, r: int) -> str:
    """'training row #417 (x1 = 0.5, x2 = −1.2)': the focus row, with its raw inputs."""
    raw = session.dataset.raw_train_x[int(rows[r])]
    inputs = ", ".join(f"{n} = {six_digits(float(v))}" for n, v in zip(session.dataset.input_names, raw))
    return f"training row #{int(rows[r])} ({inputs})"


def _batch_words(session: Session, trace: Trace, r: int) -> str:
    rows = len(trace.rows)
    if rows == 1:
        return row_words(session, trace.rows, 0)
    return f"a batch of {rows} rows, each run through the network on its own"


def focus_words(session: Session, rows, n: int, r: int) -> str:
    """What the nodes show, for a caption: "Nodes: row 3 of the batch's 10, training row #417 (x1 = …)"."""
    if r >= len(rows):  # a prediction's input is no training row
        return "Nodes: this input's values" if n == 1 else f"Nodes: input {r + 1} of {n}"
    which = row_words(session, rows, r)
    return f"Nodes: {which}" if n == 1 else f"Nodes: row {r + 1} of the batch's {n}, {which}"


def _words(session: Session, network: np.ndarray, data: np.ndarray | None = None) -> list[str]:
    """Per output: its value in the data's units, with the network's own beside it when the targets are scaled
    (data: the same values in the data's units, when known exactly; else the network's scaling is undone)."""
    d = session.dataset
    data = d.to_data(network) if data is None else data
    return [value_words(d, float(n), float(v)) for n, v in zip(network, data)]


def _row_targets(session: Session, trace: Trace, r: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The focus row's targets: as the network sees them, and in the data's units (regression)."""
    raw = session.dataset.raw_train_y
    return trace.targets[r], None if raw is None else raw[int(trace.rows[r])]


def _scale(session: Session) -> str:
    """Where the targets are scaled, a loss is on the network's scale, not the data's."""
    return " (on the network's scale)" if scaled(session.dataset) else ""


def _output_words(session: Session, trace: Trace, r: int) -> tuple[str, int]:
    """'the output o1 was 0.751 but the target is 0.01', for the focus row's output furthest from its target."""
    o, (t, t_data) = trace.pass_.a[-1][r], _row_targets(session, trace, r)
    k = int(np.argmax(np.abs(o - t)))
    name = node_names(session)[-1][k]
    out, target = _words(session, o)[k], _words(session, t, t_data)[k]
    off = ""
    if t_data is not None and session.dataset.unit:  # how far off, in the data's own units
        miss = float(session.dataset.to_data(o)[k] - t_data[k])
        off = f": {in_units(abs(miss), session.dataset.unit)} too {'high' if miss > 0 else 'low'}" if miss else ""
    return f"the output {name} was {out} but the target is {target}{off}", k


def node_names(session: Session) -> list[list[str]]:
    """Per layer: the input features, h{layer}.{n} for hidden nodes (or a worked example's own names, when the
    network has its hidden layers), then the targets (or o1, o2, ...)."""
    sizes = session.trainer.net.sizes
    names = [list(session.dataset.feature_names)]
    own = session.dataset.hidden_names if _own_names_fit(session) else [
        [f"h{l}.{j + 1}" for j in range(sizes[l])] for l in range(1, len(sizes) - 1)]
    names.extend(list(layer) for layer in own)
    targets = list(session.dataset.target_names)
    names.append(targets if len(targets) == sizes[-1] else [f"o{j + 1}" for j in range(sizes[-1])])
    return names


def weight_name(session: Session, layer: int, source: int, target: int) -> str | None:
    """A worked example's own name for weights[layer][target, source] ("w5" in Mazur's), or None."""
    if not (session.dataset.numbered_weights and _own_names_fit(session)):
        return None
    sizes = session.trainer.net.sizes
    before = sum(sizes[l] * sizes[l + 1] for l in range(layer))
    return f"w{before + target * sizes[layer] + source + 1}"


def _own_names_fit(session: Session) -> bool:
    """The network has the hidden layers the worked example names."""
    own = session.dataset.hidden_names
    return bool(own) and [len(layer) for layer in own] == list(session.trainer.net.sizes[1:-1])


def _weight_and_bias_changes(session: Session, trace: Trace) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """What the update did, after − before: per weight layer, the weights' and the biases' changes."""
    return session.trainer.net.views(trace.params_after - trace.params_before)


def _biggest_change(session: Session, trace: Trace, change: tuple[list[np.ndarray], list[np.ndarray]]) -> str:
    net = session.trainer.net
    names = node_names(session)
    for kind, layers in zip(("weight", "bias"), change):
        best = max(((float(np.abs(d).max()), l) for l, d in enumerate(layers)), default=(0.0, 0))
        if best[0] == 0:
            continue
        l = best[1]
        k = int(np.argmax(np.abs(layers[l])))
        before, after = (net.views(params)[kind == "bias"][l].flat[k]
                         for params in (trace.params_before, trace.params_after))
        if kind == "weight":
            j, i = divmod(k, layers[l].shape[1])
            own = weight_name(session, l, i, j)
            return (f"The biggest change: the weight {f'{own} ({names[l][i]} → {names[l + 1][j]})' if own else f'{names[l][i]} → {names[l + 1][j]}'} "
                    f"{_moved(float(before), float(after))}.")
        # Only biases moved: every weight gradient was zero, or too small to change a weight in float64.
        return (f"No weight changed; the biggest change: the bias of {names[l + 1][k]} "
                f"{_moved(float(before), float(after))}.")
    return "No weight or bias changed."


def _moved(old: float, new: float) -> str:
    return f"went {'up' if new > old else 'down'} by {six_digits(abs(new - old))}, from {six_digits(old)} to {six_digits(new)}"


def from_step(session: Session) -> Shown | None:
    """The last step: forward and backward values from before its update, weights after it."""
    trace = session.last_trace
    if trace is None:
        return None
    p = trace.pass_
    change = _weight_and_bias_changes(session, trace)
    n, rows = len(trace.rows), trace.rows.tolist()

    def words(r: int) -> tuple[str, str]:
        output, _ = _output_words(session, trace, r)
        batch = _batch_words(session, trace, r)
        if n > 1:  # the loss of a batch is the mean of its rows' losses, not the loss of its means
            narration = (f"Step {trace.step} used {batch}. On row {r + 1}, {output}; the batch loss, the mean of the "
                         f"rows' own losses{_scale(session)}, was {six_digits(trace.loss_before)}.")
        else:
            narration = (f"Step {trace.step} used {batch}: {output}, so the loss{_scale(session)} was "
                         f"{six_digits(trace.loss_before)}.")
        narration += f" {_biggest_change(session, trace, change)}"
        caption = (f"{focus_words(session, rows, n, r)}: its a, δ and target, from the forward and backward pass before step "
                   f"{trace.step}'s update. Edges: weights and biases after the update; ∂L/∂w "
                   f"{'the mean over the batch, which the update used' if n > 1 else 'of this row'}.")
        return caption, narration

    return Shown("step", p.a, p.z, p.delta, 0, p.grad, trace.params_before, trace.params_after, trace.targets,
                 trace.rows.tolist(), words, weight_change=change[0])


def from_phase(session: Session, phase: str, layer: int, trace: Trace) -> Shown:
    """One phase of a detailed step. Before `update`, `trace` is a proposal: nothing has been applied."""
    p, n_layers = trace.pass_, session.trainer.net.n_layers
    names = node_names(session)
    n = len(trace.rows)
    rows = trace.rows.tolist()
    if phase == "forward":
        def words(r: int) -> tuple[str, str]:
            outs = ", ".join(f"{names[-1][k]} = {v}" for k, v in enumerate(_words(session, p.a[-1][r])))
            hidden = ""
            if n_layers > 1:  # every hidden layer, in order
                hidden = "Hidden values: " + "; ".join(
                    ", ".join(f"{names[l][j]} = {six_digits(float(v))}" for j, v in enumerate(p.a[l][r]))
                    for l in range(1, n_layers)) + ". "
            on = f" Row {r + 1}:" if n > 1 else ""
            narration = (f"Forward pass on {_batch_words(session, trace, r)}: each node computes z = Σ w·a + b and "
                         f"applies its activation.{on} {hidden}Outputs: {outs}.")
            caption = (f"Forward pass of step {trace.step}, layer by layer: z = Σ w·a + b, then a = f(z). "
                       f"{focus_words(session, rows, n, r)}. Weights not yet updated.")
            return caption, narration

        return Shown("forward", p.a, p.z, None, n_layers, None, None, None, trace.targets, rows, words, show_z=True)
    if phase == "loss":
        def words(r: int) -> tuple[str, str]:
            output, _ = _output_words(session, trace, r)
            o, (t, t_data) = p.a[-1][r], _row_targets(session, trace, r)
            if 1 < len(o) <= 4:  # a few outputs: each with its target
                outs, targets = _words(session, o), _words(session, t, t_data)
                output = "the outputs " + ", ".join(
                    f"{names[-1][k]} = {outs[k]} (target {targets[k]})" for k in range(len(o)))
            if n > 1:
                narration = (f"Loss on row {r + 1} of {n}: {output}. The {trace.config.loss} loss of the batch, the "
                             f"mean of its {n} rows' own losses, is {six_digits(trace.loss_before)}.")
            else:
                narration = (f"Loss: {output}. The {trace.config.loss} loss over {_batch_words(session, trace, r)} is "
                             f"{six_digits(trace.loss_before)}.")
            caption = (f"Loss of step {trace.step}: each output's target t and its share E of the "
                       f"{trace.config.loss} loss. {focus_words(session, rows, n, r)}.")
            return caption, narration

        with np.errstate(divide="ignore", invalid="ignore"):
            terms = LOSSES[trace.config.loss].terms(p.a[-1], trace.targets, p.z[-1])
        return Shown("loss", p.a, p.z, None, n_layers, None, None, None, trace.targets, rows, words,
                     loss_terms=terms)
    if phase == "backward":
        where = "output layer" if layer == n_layers - 1 else f"hidden layer {layer + 1}"
        how = ("∂L/∂o · f′(z)" if layer == n_layers - 1 else "f′(z) · Σ w·δ, using the deltas of the layer after it")

        def words(r: int) -> tuple[str, str]:
            deltas = ", ".join(f"δ {names[layer + 1][j]} = {six_digits(float(v))}"
                               for j, v in enumerate(p.delta[layer][r]))
            mean = f" The gradients on the edges are the mean of the {n} rows' δ·a." if n > 1 else ""
            narration = f"Backward, {where}: δ = {how}. On {'this row' if n == 1 else f'row {r + 1}'}: {deltas}.{mean}"
            caption = (f"Backward pass of step {trace.step}: "
                       + ("the output deltas. " if layer == n_layers - 1 else f"deltas from the output back to {where}. ")
                       + f"{focus_words(session, rows, n, r)}. Edges: each weight w (not yet updated) and its gradient ∂L/∂w = δ·a"
                       + (f", the mean over the batch's {n} rows." if n > 1 else "."))
            return caption, narration

        return Shown("backward", p.a, p.z, p.delta, layer, p.grad, None, None, trace.targets, rows, words)
    lr = trace.config.learning_rate
    change = _weight_and_bias_changes(session, trace)

    def words(r: int) -> tuple[str, str]:
        narration = (f"Update: every weight moves by −η·g with η = {six_digits(lr)}, g being the batch's mean "
                     f"gradient{' of its ' + str(n) + ' rows' if n > 1 else ''} under the {trace.config.optimizer} "
                     f"optimizer. {_biggest_change(session, trace, change)}")
        return (f"Update of step {trace.step}: edges show old → new weights. {focus_words(session, rows, n, r)}: the values "
                "before the update."), narration

    return Shown("update", p.a, p.z, p.delta, 0, p.grad, trace.params_before, trace.params_after, trace.targets,
                 rows, words, weight_change=change[0])


def from_forward(session: Session, kind: str, raw: np.ndarray, what: str, rows: list[int] | None = None) -> Shown:
    """A forward pass only (a prediction, or the current batch after an edit, whose training `rows` they are): no
    deltas, no update."""
    with np.errstate(all="ignore"):
        zs, acts = session.trainer.net.forward(session.dataset.transform(raw))
    names = node_names(session)
    n, rows = len(raw), rows or []

    def words(r: int) -> tuple[str, str]:
        outs = ", ".join(f"{names[-1][k]} = {v}" for k, v in enumerate(_words(session, acts[-1][r])))
        on = what if n == 1 else f"row {r + 1} of {what}"
        return (f"Forward pass for {what} with the current weights; no deltas, nothing updated. "
                f"{focus_words(session, rows, n, r)}."), f"For {on} the network outputs {outs}."

    return Shown(kind, acts, zs, None, session.trainer.net.n_layers, None, None, None, None, rows, words)
