"""The quantities of the step about to be taken that a learner may work out, and the engine's value of each.

Every value is read from the engine's proposal for the next step (Trainer.propose: the next batch, with nothing
applied). Quantities (as the API names them), and what picks the number:
  node:  z, a, dloss_da (∂L/∂a at an output), dact (f′(z)), delta, and the worksheet's own wdelta (Σ w·δ from
         the layer after) and loss_term (an output's share of the loss): `layer` (0 for the inputs, as the
         diagram's data-layer) and `node`
  edge:  grad_weight, weight_after: `layer` (the weight layer l: weights[l][to][from]), `to` and `from`
  bias:  grad_bias, bias_after: `layer` and `to`
  loss:  neither
`row` picks a batch row; without it, the batch mean (the row itself when the batch has one). The update
(weight_after, bias_after) is the batch's, so it takes no row.
"""
from dataclasses import dataclass

import numpy as np

from app.engine import LOSSES, FieldError, Trace

NODE = ("z", "a", "loss_term", "dloss_da", "dact", "delta", "wdelta")
EDGE = ("grad_weight", "weight_after")
BIAS = ("grad_bias", "bias_after")
QUANTITIES = (*NODE, *EDGE, *BIAS, "loss")
WORKSHEET_ONLY = ("wdelta", "loss_term")  # Σ w·δ from the layer after; an output's own share of the loss
API_QUANTITIES = tuple(q for q in QUANTITIES if q not in WORKSHEET_ONLY)  # the API's names (issue 14 §6)


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
