"""The Matrix form: one step's layers as matrices, the seeds' "a few matrix multiplications for each level"
(templates/partials/matrix_form.html draws it).

Column vectors, as the maths is usually written: a layer's values are a (size × n) matrix with one column per
batch row. The engine keeps them as rows, (n × size), so every such matrix here is the engine's array
transposed: the same floats. W (out × in) is the engine's own layout (app/engine/network.py).

Every number is the engine's. z, a, δ and the gradients are the trace's own arrays; the values the trace does not
keep (∂L/∂o, f′(z), Wᵀδ) are computed here from its arrays with the operations MLP.backward uses, in its order, so
that ∂L/∂o ⊙ f′(z) and f′(z) ⊙ Wᵀδ are the trace's δ bit for bit, as W a + b computed as MLP.forward does is its
z (tests/test_matrix_form.py checks both).

Wide matrices are cut: at most MAX_NODES rows or columns of nodes and MAX_BATCH columns (or rows) of batch rows
are printed, with ⋯ and the full shape; each printed number keeps its full value for data-value.
"""
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from app.core.detailed_step import DetailedStep
from app.core.session import Session
from app.engine import LOSSES, Trace

from .formulas import ACTIVATION_FORMULAS, DERIVATIVE_FORMULAS, DL_DO_FORMULAS, FUSED_REASONS, LOSS_TITLES
from .numbers import significant
from .shown import node_names

MAX_NODES = 6  # rows or columns of nodes printed per matrix
MAX_BATCH = 4  # batch rows printed per matrix, as columns (or as the rows of aᵀ)
DIGITS = 4  # significant digits printed; data-value has the full float
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
FUNCTION_SYMBOLS = {"sigmoid": "σ", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU", "linear": "",
                    "softmax": "softmax"}


class Cell(NamedTuple):
    """One printed number (a tuple: the template reads its fields without a dict's failed attribute lookup)."""

    value: float
    text: str


class Row(NamedTuple):
    head: str
    cells: list[Cell]


@dataclass
class Matrix:
    """One matrix as printed: `full` has every value (math orientation), `rows` the printed cells."""

    key: str  # "W2", "a1", "delta2", ...: the page's data-matrix
    symbol: str  # "W₂", "a₁ᵀ", "∂L/∂W₂"
    full: np.ndarray
    row_heads: list[str]
    col_heads: list[str] | None  # None: one column with no name (a bias vector)
    rows: list[Row]
    more_rows: int
    more_cols: int

    @property
    def shape(self) -> str:
        return "×".join(str(d) for d in self.full.shape)

    @property
    def printed(self) -> str:
        """The printed part's shape when the matrix is cut ("6×4"), else ""."""
        if not (self.more_rows or self.more_cols):
            return ""
        r, c = self.full.shape
        return f"{r - self.more_rows}×{c - self.more_cols}"


@dataclass
class Equation:
    key: str  # "forward-2", "delta-1", "grad-w-2", ...: the page's data-eq
    formula: str  # "z₂ = W₂ a₁ + b₂"
    terms: list  # Matrix, or str: an operator or a scalar between them
    note: str = ""

    @property
    def groups(self) -> list[tuple[str, Matrix]]:
        """The terms as (the operators before it, matrix) pairs, so that an operator wraps with its matrix."""
        out, before = [], []
        for term in self.terms:
            if isinstance(term, str):
                before.append(term)
            else:
                out.append((" ".join(before), term))
                before = []
        return out


@dataclass
class LayerForm:
    title: str
    equations: list[Equation] = field(default_factory=list)


def _sub(k: int) -> str:
    return str(k).translate(_SUB)


def _matrix(key: str, symbol: str, full: np.ndarray, row_names: list[str], col_names: list[str] | None,
            batch_rows: bool = False, batch_cols: bool = False) -> Matrix:
    """`full` (r × c) with r and c names; a batch dimension is cut at MAX_BATCH, a dimension of nodes at MAX_NODES."""
    r, c = full.shape
    r_cap, c_cap = (MAX_BATCH if batch_rows else MAX_NODES), (MAX_BATCH if batch_cols else MAX_NODES)
    printed = full[:r_cap, :c_cap].tolist()
    rows = [Row(row_names[i], [Cell(v, significant(v, DIGITS)) for v in values]) for i, values in enumerate(printed)]
    heads = None if col_names is None else col_names[:c_cap]
    return Matrix(key, symbol, full, row_names[:r_cap], heads, rows, max(0, r - r_cap), max(0, c - c_cap))


def _names(names: list[list[str]], layer: int, size: int) -> list[str]:
    """The layer's node names, or n{layer}.{j} where the session's names do not fit (a stale name list)."""
    own = names[layer] if layer < len(names) else []
    return [str(own[j]) if j < len(own) else f"n{layer}.{j + 1}" for j in range(size)]


def build(session: Session, step: DetailedStep, playing: bool = False) -> dict:
    """The panel's words and matrices: for the detailed step in progress, what its phases so far computed (as the
    inspector shows it), else the last step. {"empty": words} before any step, and while Play runs: its frames
    leave the panel alone (a step's matrices are there to be read, not to flicker past), so they cost nothing."""
    if playing:
        return {"empty": "Play is running: the matrices of the step it stops at appear here when it stops."}
    trace = step.trace if step.phase else session.last_trace
    if trace is None and session.trainer.step_count == 0:
        return {"empty": "No step yet: press Step, and its forward and backward pass appear here as matrices, with "
                         "their numbers and shapes."}
    if trace is None:
        return {"empty": "No step to show: Back, a rewind or an edit keeps the weights but not the last step's forward "
                         "and backward values. Press Step, and the next step appears here as matrices."}
    return from_trace(trace, node_names(session), step)


def from_trace(trace: Trace, names: list[list[str]], step: DetailedStep = DetailedStep()) -> dict:
    """The panel for `trace`, with the layers' node names; `step` narrows the backward pass to the detailed step's
    phases so far (DetailedStep() for a whole step)."""
    net, p = trace.net, trace.pass_
    n, L = len(trace.rows), net.n_layers
    rows = [f"#{int(r)}" for r in trace.rows]
    layer_names = [_names(names, k, size) for k, size in enumerate(net.sizes)]
    weights, biases = net.views(trace.params_before)
    grad_w, grad_b = net.views(p.grad)
    a_sym = [f"a{_sub(k)}" for k in range(L + 1)]

    def col(key, symbol, engine_rows, layer):  # an engine (n × size) array as size × n, one column per batch row
        return _matrix(key, symbol, engine_rows.T, layer_names[layer], rows, batch_cols=True)

    forward = []
    for l in range(L):
        k, act = l + 1, net.activations[l]
        w = _matrix(f"W{k}", f"W{_sub(k)}", weights[l], layer_names[k], layer_names[l])
        b = _matrix(f"b{k}", f"b{_sub(k)}", biases[l][:, None], layer_names[k], None)
        z_eq = Equation(f"forward-{k}", f"z{_sub(k)} = W{_sub(k)} {a_sym[l]} + b{_sub(k)}",
                        [w, "·", col(f"a{l}", a_sym[l], p.a[l], l), "+", b, "=",
                         col(f"z{k}", f"z{_sub(k)}", p.z[l], k)],
                        f"b{_sub(k)} is added to each of the {n} columns." if n > 1 else "")
        f = FUNCTION_SYMBOLS[act.name]
        a_eq = Equation(f"activation-{k}",
                        (f"a{_sub(k)} = {f}(z{_sub(k)})" if f else f"a{_sub(k)} = z{_sub(k)}")
                        + (", the output o" if k == L else ""),
                        [col(f"a{k}", f"a{_sub(k)}", p.a[k], k)], _activation_words(act.name, f))
        role = "Output layer" if k == L else f"Hidden layer {k}"
        forward.append(LayerForm(f"{role} · {net.sizes[k]} node{'s' * (net.sizes[k] != 1)} · {act.name}",
                                 [z_eq, a_eq]))

    backward = []
    for l in range(L - 1, -1, -1):
        if not step.computed(l)["backward"]:
            break
        k, act = l + 1, net.activations[l]
        d = f"δ{_sub(k)}"
        delta = col(f"delta{k}", d, p.delta[l], k)
        equations = (_output_delta(trace, k, col, delta) if k == L
                     else _hidden_delta(trace, k, col, delta, weights, layer_names))
        scale = [f"(1/{n}) ·"] if n > 1 else []
        mean = "(1/n) " if n > 1 else ""
        a_t = _matrix(f"a{l}T", f"{a_sym[l]}ᵀ", p.a[l], rows, layer_names[l], batch_rows=True)
        equations.append(Equation(
            f"grad-w-{k}", f"∂L/∂W{_sub(k)} = {mean}{d} {a_sym[l]}ᵀ" + (" (n = 1)" if n == 1 else ""),
            [*scale, delta, "·", a_t, "=",
             _matrix(f"gradW{k}", f"∂L/∂W{_sub(k)}", grad_w[l], layer_names[k], layer_names[l])],
            f"The sum over the batch's rows is in the product: column s of {d} times row s of "
            f"{a_sym[l]}ᵀ, for each row s." if n > 1 else ""))
        equations.append(Equation(
            f"grad-b-{k}", f"∂L/∂b{_sub(k)} = " + (f"the mean of {d}'s {n} columns" if n > 1 else d),
            [_matrix(f"gradb{k}", f"∂L/∂b{_sub(k)}", grad_b[l][:, None], layer_names[k], None)]))
        role = "Output layer" if k == L else f"Hidden layer {k}"
        backward.append(LayerForm(role, equations))

    notes = []
    if trace.reg_grad is not None:
        notes.append(f"These are the data loss's gradients: the update adds the {trace.config.regularization.upper()} "
                     "penalty's gradient to each weight's (the inspector shows it).")
    if not trace.config.train_biases:
        notes.append("Biases are frozen: ∂L/∂b is computed but not applied.")
    return {"intro": _intro(trace, step, n), "forward": forward, "backward": backward,
            "pending": _pending(step, L, backward), "notes": notes, "n": n, "step": trace.step}


def _activation_words(name: str, symbol: str) -> str:
    """The activation's formula, when it says more than its name."""
    if name == "linear":
        return "A linear layer passes z on unchanged."
    if name == "softmax":
        return f"softmax(z)ⱼ = {ACTIVATION_FORMULAS[name]}, over each column on its own."
    if name == "tanh":
        return "Element by element."
    return f"{symbol}(z) = {ACTIVATION_FORMULAS[name]}, element by element."


def _output_delta(trace: Trace, k: int, col, delta: Matrix) -> list[Equation]:
    """δ of the output layer, as MLP.output_delta computes it: o − t where the loss and activation fuse, else
    ∂L/∂o ⊙ f′(z)."""
    net, p = trace.net, trace.pass_
    loss, act = LOSSES[trace.config.loss], net.activations[-1]
    o, z, t = p.a[-1], p.z[-1], trace.targets
    d = f"δ{_sub(k)}"
    if loss.fused == act.name:
        return [Equation(f"delta-{k}", f"{d} = o − t",
                         [col("o", "o", o, k), "−", col("t", "t", t, k), "=", delta], FUSED_REASONS[act.name])]
    with np.errstate(all="ignore"):
        dl_do, df = loss.grad(o, t), act.df(z, o)
    note = (f"∂L/∂o = {DL_DO_FORMULAS.get(loss.name, '∂L/∂o')} for the {LOSS_TITLES.get(loss.name, loss.name)}; "
            f"f′(z) = {DERIVATIVE_FORMULAS[act.name]} for {act.name}; ⊙ multiplies element by element.")
    return [Equation(f"delta-{k}", f"{d} = ∂L/∂o ⊙ f′(z{_sub(k)})",
                     [col("dL_do", "∂L/∂o", dl_do, k), "⊙", col(f"df{k}", f"f′(z{_sub(k)})", df, k), "=", delta],
                     note)]


def _hidden_delta(trace: Trace, k: int, col, delta: Matrix, weights: list[np.ndarray],
                  layer_names: list[list[str]]) -> list[Equation]:
    """δ of hidden layer k, as MLP.backward computes it: (δ_next @ W_next) * f′(z), with W_next before the update."""
    net, p = trace.net, trace.pass_
    act, w_next, delta_next = net.activations[k - 1], weights[k], p.delta[k]
    with np.errstate(all="ignore"):
        spread, df = delta_next @ w_next, act.df(p.z[k - 1], p.a[k])
    d, d_next, w_t = f"δ{_sub(k)}", f"δ{_sub(k + 1)}", f"W{_sub(k + 1)}ᵀ"
    summed = col(f"spread{k}", f"{w_t}{d_next}", spread, k)
    back = Equation(f"spread-{k}", f"{w_t} {d_next}: each node's Σ w·δ over the layer after it",
                    [_matrix(f"W{k + 1}T", w_t, w_next.T, layer_names[k], layer_names[k + 1]), "·",
                     col(f"delta{k + 1}", d_next, delta_next, k + 1), "=", summed])
    own = Equation(f"delta-{k}", f"{d} = f′(z{_sub(k)}) ⊙ {w_t}{d_next}",
                   [col(f"df{k}", f"f′(z{_sub(k)})", df, k), "⊙", summed, "=", delta],
                   f"f′(z) = {DERIVATIVE_FORMULAS[act.name]} for {act.name}; ⊙ multiplies element by element.")
    return [back, own]


def _intro(trace: Trace, step: DetailedStep, n: int) -> str:
    rows = f"training row #{int(trace.rows[0])}" if n == 1 else f"a batch of {n} rows"
    if step.phase not in (None, "update"):
        when = f"Step {trace.step} in progress on {rows}: nothing is applied yet."
    else:
        when = f"Step {trace.step} on {rows}, with the weights before its update."
    cut = (f" The first {MAX_BATCH} of the {n} rows are printed; the gradients average all {n}." if n > MAX_BATCH
           else "")
    return (f"{when} Each layer's values are a column per batch row (n = {n}), and Wₖ has a row for each node of "
            f"layer k and a column for each node of layer k − 1.{cut}")


def _pending(step: DetailedStep, layers: int, backward: list) -> str | None:
    """What the detailed step has still to compute, in words; None when the step is whole."""
    if len(backward) == layers:
        return None
    if not backward:
        return "δ and the gradients come with Backward, from the output layer back, one layer per click."
    return "The layers below arrive with the next clicks of Backward."
