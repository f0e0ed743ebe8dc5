"""Checking a learner's own numbers for the step about to be taken (issue 14: "Check my calculation").

Every expected value is read from the engine's proposal for the next step (Trainer.propose: the next batch, with
nothing applied). A typed value is right when it equals the engine's value rounded to the significant digits typed,
which must be at least MIN_DIGITS.

Quantities (as the API names them), and what picks the number:
  node:  z, a, dloss_da (∂L/∂a at an output), dact (f′(z)), delta, and the worksheet's own wdelta (Σ w·δ from
         the layer after) and loss_term (an output's share of the loss): `layer` (0 for the inputs, as the
         diagram's data-layer) and `node`
  edge:  grad_weight, weight_after: `layer` (the weight layer l: weights[l][to][from]), `to` and `from`
  bias:  grad_bias, bias_after: `layer` and `to`
  loss:  neither
`row` picks a batch row; without it, the batch mean (the row itself when the batch has one). The update
(weight_after, bias_after) is the batch's, so it takes no row.

The worksheet (issue 23) works one row first, as every seed article does: the focus row's chain from z to its own
δ·a, then the batch, whose every row's δ·a it gives, their mean ∂L/∂w, and the new weight under the optimizer in
use. Every expected value follows from the numbers the worksheet shows.
"""
import math
import re
from dataclasses import dataclass

import numpy as np

from app.engine import LOSSES, FieldError, Trace

MIN_DIGITS = 3
NODE = ("z", "a", "loss_term", "dloss_da", "dact", "delta", "wdelta")
EDGE = ("grad_weight", "weight_after")
BIAS = ("grad_bias", "bias_after")
QUANTITIES = (*NODE, *EDGE, *BIAS, "loss")
WORKSHEET_ONLY = ("wdelta", "loss_term")  # Σ w·δ from the layer after; an output's own share of the loss
API_QUANTITIES = tuple(q for q in QUANTITIES if q not in WORKSHEET_ONLY)  # the API's names (issue 14 §6)
_NUMBER = re.compile(r"\s*[+-−]?(\d+(\.\d*)?|\.\d+)([eE][+-−]?\d+)?\s*")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


@dataclass(frozen=True)
class Ask:
    """One quantity of the next step: what it is and where."""

    quantity: str
    layer: int | None = None
    node: int | None = None  # node quantities
    to: int | None = None  # edge and bias quantities
    source: int | None = None  # edge quantities ("from")
    row: int | None = None  # a batch row; None: the batch mean, or the only row

    def key(self) -> str:
        """A stable name for forms and hints: "delta.2.0", "grad_weight.1.0.0", "loss"."""
        parts = [self.quantity] + [str(v) for v in (self.layer, self.node, self.to, self.source) if v is not None]
        return ".".join(parts)


def next_trace(session) -> Trace:
    """The step about to be taken, computed and not applied."""
    return session.trainer.propose().trace


def expected(trace: Trace, ask: Ask) -> float:
    """The engine's value of `ask` in `trace`. FieldError names a field that is unknown, missing or out of range."""
    q = ask.quantity
    if q not in QUANTITIES:
        raise FieldError("quantity", f"quantity must be one of {', '.join(API_QUANTITIES)}, not {q!r}.")
    net, p = trace.net, trace.pass_
    n = len(trace.rows)
    row = _row(ask.row, n, q)
    if q == "loss":
        _unused(ask, ("layer", "node", "to", "source"), q)
        o, t, z = p.a[-1], trace.targets, p.z[-1]
        terms = LOSSES[trace.config.loss].value(o, t, z)
        return float(terms.mean()) if row is None else float(terms[row])
    if q in NODE:
        _unused(ask, ("to", "source"), q)
        layer = _index(ask.layer, "layer", net.n_layers + 1, "the network's layers (0 for the inputs)")
        node = _index(ask.node, "node", net.sizes[layer], f"layer {layer}")
        return _pick(_node_values(trace, q, layer), row, node)
    _unused(ask, ("node",) if q in EDGE else ("node", "source"), q)
    layer = _index(ask.layer, "layer", net.n_layers, "the weight layers")
    to = _index(ask.to, "to", net.sizes[layer + 1], f"layer {layer + 1}")
    if q in EDGE:
        source = _index(ask.source, "from", net.sizes[layer], f"layer {layer}")
        if q == "weight_after":
            return float(net.views(trace.params_after)[0][layer][to, source])
        if row is None:
            return float(net.views(p.grad)[0][layer][to, source])
        return float(p.delta[layer][row, to]) * float(p.a[layer][row, source])
    if q == "bias_after":
        return float(net.views(trace.params_after)[1][layer][to])
    if row is None:
        return float(net.views(p.grad)[1][layer][to])
    return float(p.delta[layer][row, to])


def _node_values(trace: Trace, q: str, layer: int) -> np.ndarray:
    """(rows, size) values of a node quantity in `layer`."""
    net, p = trace.net, trace.pass_
    if q == "a":
        return p.a[layer]
    if layer == 0:
        raise FieldError("layer", f"{q} is not defined for the inputs (layer 0): they only have a.")
    d = layer - 1
    if q == "z":
        return p.z[d]
    if q == "delta":
        return p.delta[d]
    act = net.activations[d]
    if q == "dact":
        if act.df is None:
            raise FieldError("quantity", f"{act.name}'s f′(z) couples all the outputs (a Jacobian, not one number per "
                                         "node); ask for delta, which cross-entropy makes o − t.")
        return act.df(p.z[d], p.a[layer])
    if q in ("dloss_da", "loss_term"):
        if layer != net.n_layers:
            raise FieldError("layer", f"{q} is asked at an output: layer {net.n_layers}.")
        loss = LOSSES[trace.config.loss]
        if q == "loss_term":
            return loss.terms(p.a[-1], trace.targets, p.z[-1])
        return loss.grad(p.a[-1], trace.targets)
    if layer == net.n_layers:  # wdelta
        raise FieldError("layer", f"wdelta (Σ w·δ from the layer after) is for hidden layers, 1 to {net.n_layers - 1}.")
    w = net.views(trace.params_before)[0][layer]
    return p.delta[layer] @ w  # as MLP.backward computes it, before f′(z)


def _pick(values: np.ndarray, row: int | None, node: int) -> float:
    return float(values[:, node].mean()) if row is None else float(values[row, node])


def _row(row, n: int, q: str) -> int | None:
    if row is None:
        return 0 if n == 1 and q not in ("weight_after", "bias_after") else None
    if q in ("weight_after", "bias_after"):
        raise FieldError("row", f"{q} is the update of the whole batch; leave row out.")
    return _index(row, "row", n, f"the batch ({n} rows)")


def _index(value, field: str, size: int, what: str) -> int:
    if value is None:
        raise FieldError(field, f"{field} is needed: 0 to {size - 1} for {what}.")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < size:
        raise FieldError(field, f"{field} must be 0 to {size - 1} for {what}, not {value!r}.")
    return int(value)


def _unused(ask: Ask, fields: tuple[str, ...], q: str) -> None:
    for name in fields:
        if getattr(ask, name) is not None:
            shown = "from" if name == "source" else name
            raise FieldError(shown, f"{q} does not take {shown}; leave it out.")


# --- marking --------------------------------------------------------------------------------------------------


def digits_typed(text: str) -> int:
    """Significant digits of a number as typed: "0.1385" 4, "1.50" 3, "2e-3" 1 (leading zeros do not count)."""
    mantissa = re.split(r"[eE]", text.strip().lstrip("+-−"))[0]
    digits = mantissa.replace(".", "").lstrip("0")
    return len(digits)


def parse(value) -> tuple[float, int] | None:
    """A typed value -> (its number, its significant digits); None when it is not a number.

    A JSON number counts the digits of its shortest form (0.5 is 1 digit) but is taken as exact: it is compared
    at no fewer than MIN_DIGITS digits.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return None
        return float(value), max(MIN_DIGITS, digits_typed(repr(float(value))))
    if not isinstance(value, str):
        return None
    text = value.strip().replace("−", "-").replace("$", "", 1)
    if _GROUPED.fullmatch(text):  # thousands separators: 50,000 or 1,234.5
        text = text.replace(",", "")
    if not _NUMBER.fullmatch(text) or not math.isfinite(float(text)):
        return None
    return float(text), digits_typed(text)


def rounded(value: float, digits: int) -> str:
    """value to `digits` significant digits, as a comparable text ("1.385e-01")."""
    return f"{value:.{digits - 1}e}"


@dataclass
class Mark:
    correct: bool
    expected: float
    reason: str | None = None  # why it is not right, when it is not a plain mismatch


def mark(value, want: float) -> Mark:
    """Right when `value` equals `want` rounded to the significant digits typed, at least MIN_DIGITS: a shorter
    value reads as if padded with zeros, so an exact 0.6 is right for 0.6 and 0.14 is wrong for 0.1385."""
    parsed = parse(value)
    if parsed is None:
        return Mark(False, want, "not a number")
    got, digits = parsed
    if want == 0 or got == 0:
        return Mark(got == want, want)
    digits = max(digits, MIN_DIGITS)
    return Mark(rounded(got, digits) == rounded(want, digits), want)


def check(session, asks: list[Ask], values: list) -> dict:
    """The API's answer: the step the answers are about, its batch rows, and a mark per answer, in order."""
    trace = next_trace(session)
    marks = []
    for k, (ask, value) in enumerate(zip(asks, values)):
        try:
            want = expected(trace, ask)
        except FieldError as exc:  # named within the request: answers.2.layer
            raise FieldError(f"answers.{k}.{exc.field}", exc.message) from None
        m = mark(value, want)
        marks.append({"correct": m.correct, "expected": m.expected, "reason": m.reason})
    return {"step": trace.step, "rows": trace.rows.tolist(), "marks": marks}


# --- the worksheet: every quantity on one edge's or node's chain, in order -------------------------------------


@dataclass(frozen=True)
class Link:
    """A row of the worksheet: a quantity to compute, how (kind), and the rows it is computed from."""

    ask: Ask
    # "sum" (z, Σ w·δ), "activation", "loss", "slope" (∂L/∂a, f′(z)), "product" (δ, the row's ∂L/∂w), "fused"
    # (δ = o − t), "mean" (the batch's ∂L/∂w, from every row's δ·a, which the worksheet gives), "update"
    kind: str
    factors: tuple[Ask, ...] = ()  # the earlier links it is made from


def chain(trace: Trace, target: tuple, row: int) -> list[Link]:
    """The links for an edge ("edge", l, from, to) or a node ("node", L, j), L >= 1: the batch row `row`'s own
    chain from z to its ∂L/∂w = δ·a (or ∂L/∂b = δ), then the batch's mean ∂L/∂w and the update. With a batch of one
    row the mean is that row's: its link is left out."""
    net = trace.net
    kind = target[0]
    layer, j = (target[1] + 1, target[3]) if kind == "edge" else (target[1], target[2])
    fused = LOSSES[trace.config.loss].fused == net.activations[-1].name

    def node(q):
        return Ask(q, layer=layer, node=j, row=row)

    z, a = node("z"), node("a")
    links = [Link(z, "sum"), Link(a, "activation", (z,))]
    if layer == net.n_layers:
        links.append(Link(node("loss_term"), "loss", (a,)))
        if fused:
            links.append(Link(node("delta"), "fused", (a,)))
        else:
            dl, df = node("dloss_da"), node("dact")
            links += [Link(dl, "slope", (a,)), Link(df, "slope", (z,)),
                      Link(node("delta"), "product", (dl, df))]
    else:
        wd, df = node("wdelta"), node("dact")
        links += [Link(wd, "sum"), Link(df, "slope", (z,)), Link(node("delta"), "product", (wd, df))]
    delta = links[-1].ask
    if kind == "edge":
        grad = Ask("grad_weight", layer=layer - 1, to=j, source=target[2], row=row)
        mean = Ask("grad_weight", layer=layer - 1, to=j, source=target[2])
        after = Ask("weight_after", layer=layer - 1, to=j, source=target[2])
    else:
        grad = Ask("grad_bias", layer=layer - 1, to=j, row=row)
        mean = Ask("grad_bias", layer=layer - 1, to=j)
        after = Ask("bias_after", layer=layer - 1, to=j)
    links.append(Link(grad, "product", (delta,)))
    if len(trace.rows) > 1:  # the batch's mean, from every row's δ·a (given)
        links += [Link(mean, "mean"), Link(after, "update", (mean,))]
    else:
        links.append(Link(after, "update", (grad,)))
    return links


def link_key(ask: Ask) -> str:
    """A link's key on the worksheet: its quantity and place, and "mean" for the batch's ∂L/∂w."""
    return ask.key() + (".mean" if ask.row is None and ask.quantity in ("grad_weight", "grad_bias") else "")


def mark_chain(trace: Trace, links: list[Link], typed: dict[str, str]) -> dict[str, dict]:
    """Each typed link's mark, by key, with feedback for a wrong one: the first wrong link among those it is made
    from, else, when every link it is made from was typed and is right (or it is made from given numbers only: a
    batch mean), the link itself ("own", its kind). Untyped links are left out."""
    marks: dict[str, dict] = {}
    by_key = {link_key(link.ask): link for link in links}
    for link in links:
        key = link_key(link.ask)
        text = typed.get(key, "").strip()
        if not text:
            continue
        m = mark(text, expected(trace, link.ask))
        out = {"correct": m.correct, "expected": m.expected, "reason": m.reason, "feedback": None}
        if not m.correct and m.reason is None:
            before = _made_from(link, by_key)
            wrong = [k for k in by_key if k in before and k in marks and not marks[k]["correct"]]
            factors = [marks.get(link_key(f)) for f in link.factors]
            if wrong:
                out["feedback"] = ("first_wrong", wrong[0])
            elif all(f is not None and f["correct"] for f in factors):
                out["feedback"] = ("own", link.kind)
        marks[key] = out
    return marks


def _made_from(link: Link, by_key: dict[str, Link]) -> set[str]:
    """The keys of every link `link` is made from, directly or not."""
    found, todo = set(), list(link.factors)
    while todo:
        key = link_key(todo.pop())
        if key not in found and key in by_key:
            found.add(key)
            todo.extend(by_key[key].factors)
    return found
