"""The Inspector: the real numbers of the last step, showing why a weight's gradient, a node's δ and an
update are what they are (templates/partials/inspector.html draws them).

Every number is read from the Trace. An update's terms (regularisation, the gradient applied, the optimizer's
intermediates) come from the engine itself (Trace.update_terms). Where the inspector combines values for display
(a product, the hidden layer's Σ w·δ), it uses the trace's own arrays with the operations the engine used, in
the same order, so each result is bit-for-bit the number the JSON API reports.

A number is numbers.value_and_text: {"value": float (full precision), "text": str (5 significant digits)}.
Dict keys avoid the names of dict methods (items, values, update, ...) so that Jinja's `x.key` finds them.
The focus row of the batch (the one the diagram shows, `r`) is the one expanded; `row` is its index among the
training rows.
"""
import numpy as np

from app.engine import LOSSES, FieldError, Trace

from . import loss_slice
from .formulas import ACTIVATION_FORMULAS, DERIVATIVE_FORMULAS, DL_DO_FORMULAS, FUSED_REASONS, LOSS_TITLES
from .numbers import value_and_text
from .shown import node_names

MAX_ROWS = 8  # batch rows listed before the rest are folded (every row is listed: their mean can be redone)


def _name(names, layer: int, index: int) -> str:
    try:
        return str(names[layer][index])
    except (IndexError, TypeError):
        return f"n{layer}.{index + 1}"


def _check_index(trace: Trace, field: str, layer: int, index, what: str) -> None:
    size = trace.net.sizes[layer]
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < size:
        raise FieldError(field, f"{field} must be 0 to {size - 1}: {what} has {size} node{'s' * (size != 1)}.")


def _check_layer(trace: Trace, layer, highest: int) -> None:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer <= highest:
        raise FieldError("layer", f"layer must be 0 to {highest}.")


def _batch(trace: Trace, r: int = 0) -> dict:
    rows = [int(r) for r in trace.rows]
    return {"n": len(rows), "row": rows[r], "position": r, "rows": rows}


def _derivative(name: str, z: float, a: float, df: float) -> dict:
    """f′(z) of one node with the numbers its formula uses; `df` is the engine's own value."""
    out = {"name": name, "formula": DERIVATIVE_FORMULAS.get(name, "f′(z)"), "z": value_and_text(z),
           "a": value_and_text(a), "df": value_and_text(df)}
    if name == "sigmoid":
        out["one_minus_a"] = value_and_text(1.0 - a)
    elif name == "tanh":
        out["a_squared"] = value_and_text(a * a)
    elif name in ("relu", "leaky_relu"):
        out["positive"] = bool(z > 0)
    return out


def _delta(trace: Trace, names, layer: int, j: int, r: int = 0) -> dict:
    """δ of node j of `layer` (>= 1) for the batch's row r, expanded one step of the chain rule."""
    p, net = trace.pass_, trace.net
    d = layer - 1  # z, delta index
    act = net.activations[d]
    z, a = p.z[d][r:r + 1], p.a[layer][r:r + 1]
    out = {
        "layer": layer, "index": j, "name": _name(names, layer, j), "row": int(trace.rows[r]),
        "activation": act.name, "value": value_and_text(p.delta[d][r, j]), "z": value_and_text(z[0, j]),
        "a": value_and_text(a[0, j]),
    }
    if layer == net.n_layers:
        loss = LOSSES[trace.config.loss]
        t = trace.targets[r:r + 1]
        out.update(role="output", loss=loss.name, loss_title=LOSS_TITLES.get(loss.name, loss.name),
                   o=value_and_text(a[0, j]), t=value_and_text(t[0, j]), o_minus_t=value_and_text((a - t)[0, j]),
                   outputs=int(a.shape[1]))
        if loss.fused == act.name:
            out.update(kind="fused", reason=FUSED_REASONS.get(act.name, "The loss and output activation fuse."))
        else:
            out.update(kind="output", dl_do_formula=DL_DO_FORMULAS.get(loss.name, "∂L/∂o"),
                       dl_do=value_and_text(loss.grad(a, t)[0, j]), scale=value_and_text(2.0 / a.shape[1]),
                       derivative=_derivative(act.name, z[0, j], a[0, j], act.df(z, a)[0, j]))
        return out
    # Hidden: delta_d = (delta_{d+1} @ W_before[layer]) * f'(z_d), as in MLP.backward, same operands and shapes.
    w_before = net.views(trace.params_before)[0][layer]
    total = (p.delta[layer] @ w_before)[r, j]
    terms = []
    for k in range(w_before.shape[0]):
        w, dk = float(w_before[k, j]), float(p.delta[layer][r, k])
        terms.append({"index": k, "name": _name(names, layer + 1, k), "w": value_and_text(w),
                      "delta": value_and_text(dk), "product": value_and_text(w * dk)})
    df = act.df(p.z[d], p.a[layer])[r, j]
    out.update(role="hidden", kind="hidden", terms=terms, total=value_and_text(total),
               derivative=_derivative(act.name, z[0, j], a[0, j], df))
    return out


def _parameter_update(trace: Trace, kind: str, layer: int, index: tuple) -> dict:
    """How one weight or bias moved: regularisation, the gradient g applied, then the optimizer's rule, each
    term as the engine computed it (Trace.update_terms), so `before - step` is exactly `after`."""
    cfg = trace.config
    k = trace.net.flat_index(kind, layer, *index)
    u = trace.update_terms(k)
    before, after = u["before"], u["after"]
    reg = None
    if u["reg"] is not None and kind == "weight":
        reg = {"kind": cfg.regularization, "rate": value_and_text(cfg.regularization_rate),
               "w": value_and_text(before), "term": value_and_text(u["reg"]["term"])}
        if "sign" in u["reg"]:
            reg["sign"] = value_and_text(u["reg"]["sign"])
    out = {
        "param": kind, "optimizer": cfg.optimizer, "before": value_and_text(before),
        "after": value_and_text(after), "change": value_and_text(after - before), "moved": after != before,
        "data_grad": value_and_text(u["data_grad"]), "reg": reg, "frozen": kind == "bias" and not cfg.train_biases,
        "g": value_and_text(u["grad"]), "lr": value_and_text(cfg.learning_rate), "step": value_and_text(u["step"]),
    }
    old = {name: value[k] for name, value in trace.optimizer_before.items() if isinstance(value, np.ndarray)}
    if cfg.optimizer == "momentum":
        out.update(mu=value_and_text(cfg.momentum), v_old=value_and_text(old["velocity"]),
                   v=value_and_text(u["velocity"]))
    elif cfg.optimizer == "adam":
        out.update(t=u["t"], beta1=value_and_text(cfg.beta1), beta2=value_and_text(cfg.beta2),
                   eps=value_and_text(cfg.eps), m_old=value_and_text(old["m"]), v_old=value_and_text(old["v"]))
        for name in ("m", "v", "g_squared", "bc1", "bc2", "step_size", "sqrt_v", "sqrt_bc2", "denom"):
            out[name] = value_and_text(u[name])
    return out


MAX_PATHS = 4  # a hidden weight's chain-rule paths spelt out one by one, up to this many


def _paths(trace: Trace, names, layer: int, source: int, target: int, r: int = 0) -> dict | None:
    """A hidden layer's weight: its gradient for row r as the chain rule's product along each path from
    the weight to an output, summed over the paths. None for an output layer's weight (its chain is δ · a above)
    or when there are more than MAX_PATHS paths.

    Each path's factors, from the output back: the output's δ (∂L/∂o · f′(z), or o − t where the loss and
    activation fuse), then per node on the way back the weight into the node after it and the node's f′(z),
    and last the source's a. Products are taken in that order, so the sum over the paths can differ from δ · a
    in the last bits (the engine sums the layers' Σ w·δ first).
    """
    net, p = trace.net, trace.pass_
    if layer + 1 == net.n_layers:
        return None
    count = int(np.prod(net.sizes[layer + 2:]))
    if count > MAX_PATHS:
        return None
    w_before = net.views(trace.params_before)[0]
    loss, out_act = LOSSES[trace.config.loss], net.activations[-1]
    z_out, a_out, t = p.z[-1][r:r + 1], p.a[-1][r:r + 1], trace.targets[r:r + 1]
    fused = loss.fused == out_act.name

    def node_slope(l: int, k: int) -> float:  # f′(z) of node k of layer l, as the engine computes it
        return float(net.activations[l - 1].df(p.z[l - 1][r:r + 1], p.a[l][r:r + 1])[0, k])

    paths = []
    for route in np.ndindex(*net.sizes[layer + 2:]):  # the node taken in each later layer
        nodes = [target, *route]  # node indices in layers layer+1 ... output
        o = nodes[-1]
        if fused:
            factors = [{"symbol": "o − t", "sub": _name(names, net.n_layers, o),
                        "value": value_and_text(p.delta[-1][r, o])}]
        else:
            factors = [{"symbol": "∂L/∂o", "sub": _name(names, net.n_layers, o),
                        "value": value_and_text(loss.grad(a_out, t)[0, o])},
                       {"symbol": "f′(z)", "sub": _name(names, net.n_layers, o),
                        "value": value_and_text(float(out_act.df(z_out, a_out)[0, o]))}]
        for back in range(len(nodes) - 2, -1, -1):  # from the last hidden node on the path back to the target
            l = layer + 1 + back
            k, after = nodes[back], nodes[back + 1]
            factors.append({"symbol": "w", "sub": f"{_name(names, l + 1, after)}←{_name(names, l, k)}",
                            "value": value_and_text(w_before[l][after, k])})
            factors.append({"symbol": "f′(z)", "sub": _name(names, l, k), "value": value_and_text(node_slope(l, k))})
        factors.append({"symbol": "a", "sub": _name(names, layer, source), "value": value_and_text(p.a[layer][r, source])})
        product = 1.0
        for f in factors:
            product *= f["value"]["value"]
        paths.append({"factors": factors, "product": value_and_text(product)})
    return {"row": int(trace.rows[r]), "paths": paths,
            "total": value_and_text(sum(path["product"]["value"] for path in paths)),
            "engine": value_and_text(float(p.delta[layer][r, target]) * float(p.a[layer][r, source]))}


# A whole step's numbers: the detailed step narrows this to its phases so far (app/core/detailed_step.py computed).
ALL_COMPUTED = {"backward": True, "updated": True}


def edge(trace: Trace, names, layer: int, source: int, target: int, r: int = 0) -> dict:
    """Weight weights[layer][target, source]: its batch-mean gradient, the δ behind it, and its update."""
    net, p = trace.net, trace.pass_
    _check_layer(trace, layer, net.n_layers - 1)
    _check_index(trace, "source", layer, source, f"layer {layer}")
    _check_index(trace, "target", layer + 1, target, f"layer {layer + 1}")
    l, i, j = int(layer), int(source), int(target)
    r = min(max(r, 0), len(trace.rows) - 1)
    batch = _batch(trace, r)
    terms = []
    for s in range(batch["n"]):
        d, a = float(p.delta[l][s, j]), float(p.a[l][s, i])
        terms.append({"row": batch["rows"][s], "delta": value_and_text(d), "a": value_and_text(a),
                      "product": value_and_text(d * a)})
    src, dst = _name(names, l, i), _name(names, l + 1, j)
    return {
        "kind": "edge", "step": trace.step, "layer": l, "source": i, "target": j,
        "source_name": src, "target_name": dst, "symbol_sub": f"{dst}←{src}",
        "batch": batch,
        "weight_before": value_and_text(net.views(trace.params_before)[0][l][j, i]),
        "weight_after": value_and_text(net.views(trace.params_after)[0][l][j, i]),
        "gradient": {"value": value_and_text(net.views(p.grad)[0][l][j, i]), "n": batch["n"], "terms": terms,
                     "shown": MAX_ROWS},
        "delta": _delta(trace, names, l + 1, j, r),
        "chain": _paths(trace, names, l, i, j, r),
        "weight_update": _parameter_update(trace, "weight", l, (j, i)),
        "loss_slice": loss_slice.Plot(trace, l, i, j),  # drawn by the template once the gradient is computed
        "computed": dict(ALL_COMPUTED), "phase": None,
    }


def node(trace: Trace, names, layer: int, index: int, r: int = 0) -> dict:
    """Node `index` of `layer`: its z, a, f′(z) and δ (row r; batch means, labelled, when n > 1) and its bias.

    For the input layer (0), only its values a.
    """
    net, p = trace.net, trace.pass_
    _check_layer(trace, layer, net.n_layers)
    _check_index(trace, "index", layer, index, f"layer {layer}")
    L, j = int(layer), int(index)
    r = min(max(r, 0), len(trace.rows) - 1)
    batch = _batch(trace, r)
    out = {"kind": "node", "step": trace.step, "layer": L, "index": j, "name": _name(names, L, j),
           "computed": dict(ALL_COMPUTED), "phase": None,
           "batch": batch, "a": value_and_text(p.a[L][r, j]),
           "mean_a": value_and_text(p.a[L].mean(axis=0)[j]) if batch["n"] > 1 else None}
    if L == 0:
        out.update(role="input",
                   samples=[{"row": batch["rows"][s], "a": value_and_text(p.a[0][s, j])} for s in range(batch["n"])],
                   shown=MAX_ROWS)
        return out
    d = L - 1
    act = net.activations[d]
    w_before, b_before = net.views(trace.params_before)
    forward = [{"index": i, "name": _name(names, d, i), "w": value_and_text(w_before[d][j, i]),
                "a": value_and_text(p.a[d][r, i]),
                "product": value_and_text(float(w_before[d][j, i]) * float(p.a[d][r, i]))}
               for i in range(net.sizes[d])]
    z, a = p.z[d][r:r + 1], p.a[L][r:r + 1]
    derivative = None
    if act.df is not None:
        derivative = _derivative(act.name, z[0, j], a[0, j], act.df(z, a)[0, j])
    out.update(
        role="output" if L == net.n_layers else "hidden",
        activation=act.name, activation_formula=ACTIVATION_FORMULAS.get(act.name, "f(z)"),
        z=value_and_text(z[0, j]), delta=value_and_text(p.delta[d][r, j]), derivative=derivative,
        forward={"terms": forward, "bias": value_and_text(b_before[d][j]), "z": value_and_text(z[0, j])},
        target=value_and_text(trace.targets[r, j]) if L == net.n_layers else None,
        mean_z=value_and_text(p.z[d].mean(axis=0)[j]) if batch["n"] > 1 else None,
        mean_delta=value_and_text(p.delta[d].mean(axis=0)[j]) if batch["n"] > 1 else None,
        delta_expansion=_delta(trace, names, L, j, r),
        bias_grad=value_and_text(net.views(p.grad)[1][d][j]),
        bias_frozen=not trace.config.train_biases,
        bias_update=_parameter_update(trace, "bias", d, (j,)),
    )
    return out


def for_session(session, kind: str, layer: int, i: int, j: int | None = None) -> dict | None:
    """The inspector for the session's last step: kind "edge" (i = source, j = target) or "node" (i = index).

    None before the first step. Bad indices raise FieldError. The caller holds session.lock.
    """
    trace = session.last_trace
    if trace is None:
        return None
    names = node_names(session)
    if kind == "edge":
        return edge(trace, names, layer, i, j)
    if kind == "node":
        return node(trace, names, layer, i)
    raise FieldError("kind", f"kind must be edge or node, not {kind!r}.")
