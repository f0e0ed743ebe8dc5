"""The "Check my calculation" worksheet's view: the next step's chain for one edge or node, row by row, with what is
given, what the learner typed, its mark and feedback, and hints one level at a time (app/core/worksheet.py marks)."""
from app.core.session import Session
from app.core.quantities import Ask, expected, next_trace
from app.core.worksheet import Link, chain, link_key, mark_chain
from app.engine import Trace

from .formulas import ACTIVATION_FORMULAS, DERIVATIVE_FORMULAS
from .numbers import six_digits
from .shown import node_names, weight_name

HINT_LEVELS = 3  # the formula; the formula with the numbers plugged in; the answer
LOSS_TERMS = {"half_sse": "½ (t − o)²", "mse": "(t − o)² / K", "bce": "−[t ln o + (1 − t) ln(1 − o)]",
              "cross_entropy": "−t ln o"}
LOSS_SLOPES = {"half_sse": "o − t", "mse": "(2/K)(o − t)", "bce": "(o − t) / (o (1 − o))", "cross_entropy": "−t / o"}
KIND_WORDS = {"product": "product", "sum": "sum", "update": "update", "fused": "difference",
              "activation": "activation", "slope": "slope", "loss": "loss", "mean": "mean"}


# Lists of rows longer than this are folded (a <details> the learner may open).
FOLDED_ROWS = 12


def build(session: Session, state: dict, focus: int = 0, diagram_same: bool = True) -> dict:
    """The worksheet for state["target"] (the inspector's (kind, layer, from, to)): the next step's batch row `focus`
    (a position in the batch, the diagram's focus row) from z to its own δ·a, then the batch's mean ∂L/∂w and the
    new weight. `diagram_same`: the diagram shows this step (not the one before), so the row is the same example."""
    trace = next_trace(session)
    names = node_names(session)
    target = _target(state["target"])
    n = len(trace.rows)
    row = min(max(focus, 0), n - 1)
    links = chain(trace, target, row)
    same = state.get("step") == trace.step and state.get("row", row) == row
    typed = state.get("typed", {}) if same else {}
    marks = mark_chain(trace, links, typed) if state.get("checked") and typed else {}
    hints = state.get("hints", {}) if same else {}
    labels = {link_key(link.ask): _label(session, names, link, n) for link in links}
    items = []
    for link in links:
        key = link_key(link.ask)
        m = marks.get(key)
        level = min(hints.get(key, 0), HINT_LEVELS)
        batch = link.kind in ("mean", "update")
        items.append({
            "key": key, "quantity": link.ask.quantity, "label": labels[key], "typed": typed.get(key, ""),
            "row": "mean" if batch else row, "section": "batch" if batch else "row",
            "mark": m, "feedback": _feedback(m, labels, link, n) if m else None,
            "hint_level": level, "hints": [_hint(trace, session, names, link, k, target) for k in range(1, level + 1)],
            "more_hints": level < HINT_LEVELS,
        })
    right = sum(1 for m in marks.values() if m["correct"])
    counted = sum(1 for m in marks.values() if m["reason"] is None)  # "not a number" is not a try
    given_row, given_batch = _given(trace, session, names, target, row)
    return {
        "title": _title(session, names, target), "step": trace.step, "target": state["target"],
        "batch": {"n": n, "row": row, "training_row": int(trace.rows[row])},
        "given_row": given_row, "given_batch": given_batch,
        "row_grads": (grads := _row_grads(trace, names, target)),
        "folded": len(grads) > FOLDED_ROWS,
        "row_items": [i for i in items if i["section"] == "row"],
        "batch_items": [i for i in items if i["section"] == "batch"],
        "checked": bool(marks), "right": right, "marked": counted,
        "stale": bool(state.get("typed")) and not same,
        "diagram_same": diagram_same,  # the diagram shows this step's pass (a detailed step in progress)
        "update_words": _update_words(trace, target),
    }


def _target(selected: tuple) -> tuple:
    kind, layer, source, to = selected
    if kind in ("edge", "weight"):
        return ("edge", int(layer), int(source), int(to))
    return ("node", int(layer) + (1 if kind == "bias" else 0), int(to))


def _title(session, names, target) -> str:
    if target[0] == "edge":
        _, l, i, j = target
        own = weight_name(session, l, i, j)
        return f"weight {own + ' (' if own else ''}{names[l][i]} → {names[l + 1][j]}{')' if own else ''}"
    return f"node {names[target[1]][target[2]]}"


def _label(session, names, link: Link, n: int) -> str:
    a = link.ask
    q = a.quantity
    if q in ("weight_after", "grad_weight"):
        own = weight_name(session, a.layer, a.source, a.to)
        w = own or f"w({names[a.layer][a.source]} → {names[a.layer + 1][a.to]})"
        if q == "weight_after":
            return f"new {w}, after the update"
        return f"∂L/∂{w} of this row = δ·a" if a.row is not None else f"∂L/∂{w}, the mean of the {n} rows' δ·a"
    if q in ("bias_after", "grad_bias"):
        b = f"b({names[a.layer + 1][a.to]})"
        if q == "bias_after":
            return f"new {b}, after the update"
        return f"∂L/∂{b} of this row = δ" if a.row is not None else f"∂L/∂{b}, the mean of the {n} rows' δ"
    node = names[a.layer][a.node]
    return {"z": f"z({node})", "a": f"a({node})", "loss_term": f"L({node}), its share of the row's loss",
            "dloss_da": f"∂L/∂a({node})", "dact": f"f′(z({node}))", "delta": f"δ({node})",
            "wdelta": f"Σ w·δ into {node}"}[q]


def _param(trace: Trace, target: tuple) -> tuple[str, int, int, int | None]:
    """("weight" or "bias", weight layer, to, from) of the parameter the worksheet ends with."""
    if target[0] == "edge":
        return "weight", target[1], target[3], target[2]
    return "bias", target[1] - 1, target[2], None


def _item(given: str, label: str, value: float, **where) -> dict:
    """A given value: what it is (data-given), where it belongs (the diagram's own data-* names), its number."""
    return {"given": given, "label": label, "value": float(value), "text": six_digits(float(value)),
            "where": {k.replace("source", "from"): v for k, v in where.items()}}


def _given(trace: Trace, session, names, target, row: int) -> tuple[list[dict], list[dict]]:
    """What the chain starts from, for the row: the inputs, weights and bias into the node; the deltas and weights
    of the layer after it (a hidden node), or the row's targets (an output; a softmax output's z of every output).
    For the batch: the learning rate and the optimizer's own numbers."""
    net, p, cfg = trace.net, trace.pass_, trace.config
    layer, j = (target[1] + 1, target[3]) if target[0] == "edge" else (target[1], target[2])
    w_before, b_before = net.views(trace.params_before)
    out = [_item("a", f"a({names[layer - 1][i]})", p.a[layer - 1][row, i], layer=layer - 1, index=i)
           for i in range(net.sizes[layer - 1])]
    out += [_item("w", _weight_label(session, names, layer - 1, i, j), w_before[layer - 1][j, i],
                  layer=layer - 1, source=i, to=j) for i in range(net.sizes[layer - 1])]
    out.append(_item("b", f"b({names[layer][j]})", b_before[layer - 1][j], layer=layer, index=j))
    if layer < net.n_layers:
        out += [_item("w_next", _weight_label(session, names, layer, j, k), w_before[layer][k, j],
                      layer=layer, source=j, to=k) for k in range(net.sizes[layer + 1])]
        out += [_item("delta_next", f"δ({names[layer + 1][k]})", p.delta[layer][row, k], layer=layer + 1, index=k)
                for k in range(net.sizes[layer + 1])]
    else:
        scale = ", on the network's scale" if session.dataset.target_scaling is not None else ""
        out += [_item("t", f"t({names[layer][k]}){scale}", trace.targets[row, k], layer=layer, index=k)
                for k in range(net.sizes[layer])]
        if net.activations[-1].name == "softmax":  # a = softmax(z) needs every output's z
            out += [_item("z", f"z({names[layer][k]})", p.z[-1][row, k], layer=layer, index=k)
                    for k in range(net.sizes[layer]) if k != j]
    for item in out:  # the row's own values say which row they are of
        if item["given"] in ("a", "z", "t", "delta_next"):
            item["row"] = row
    kind, l, to, source = _param(trace, target)
    k = net.flat_index(kind, l, to, source) if kind == "weight" else net.flat_index(kind, l, to)
    batch = [_item("lr", "η (learning rate)", cfg.learning_rate)]
    u = trace.update_terms(k)
    if u["reg"] is not None:
        batch.append(_item("reg_grad", f"the {cfg.regularization} penalty's gradient, added to g",
                           u["grad"] - u["data_grad"], **_where(kind, l, to, source)))
    state = {name: (v[k] if hasattr(v, "__len__") else v) for name, v in trace.optimizer_before.items()}
    if cfg.optimizer == "momentum":
        batch += [_item("momentum", "μ (momentum)", cfg.momentum),
                  _item("velocity", "v, the velocity before this step", state["velocity"], **_where(kind, l, to, source))]
    elif cfg.optimizer == "adam":
        batch += [_item("beta1", "β₁", cfg.beta1), _item("beta2", "β₂", cfg.beta2), _item("eps", "ε", cfg.eps),
                  _item("adam_t", "t, Adam's steps so far", state["t"]),
                  _item("adam_m", "m before this step", state["m"], **_where(kind, l, to, source)),
                  _item("adam_v", "v before this step", state["v"], **_where(kind, l, to, source))]
    return out, batch


def _where(kind: str, l: int, to: int, source: int | None) -> dict:
    return {"layer": l, "source": source, "to": to} if kind == "weight" else {"layer": l + 1, "index": to}


def _row_grads(trace: Trace, names, target) -> list[dict]:
    """Every row's own ∂L/∂w = δ·a (or ∂L/∂b = δ) of the batch, the focus row's included: their mean is the
    gradient the update uses."""
    kind, l, to, source = _param(trace, target)
    p = trace.pass_
    out = []
    for s, r in enumerate(trace.rows.tolist()):
        value = float(p.delta[l][s, to]) * (float(p.a[l][s, source]) if kind == "weight" else 1.0)
        item = _item("row_grad", f"row {s + 1} (#{r})", value, **_where(kind, l, to, source))
        item["row"] = s
        out.append(item)
    return out


def _update_words(trace: Trace, target: tuple) -> str | None:
    """Said above the update when it is not a plain −η·g: frozen biases."""
    if target[0] != "edge" and not trace.config.train_biases:
        return "Train biases is off: the bias keeps its value."
    return None


def _weight_label(session, names, l, i, j) -> str:
    own = weight_name(session, l, i, j)
    return own or f"w({names[l][i]} → {names[l + 1][j]})"


def _feedback(m: dict, labels: dict, link: Link, n: int) -> str | None:
    if m["correct"]:
        return None
    if m["reason"] or m["feedback"] is None:
        return None
    how, what = m["feedback"]
    if how == "first_wrong":
        return f"{labels[what]} is wrong, and this is made from it: fix that first, and this follows."
    if what == "mean":
        return f"The rows' values are given above: add all {n} and divide by {n}."
    if what == "update":
        return "The gradient it uses is right, so the update itself is wrong: apply the rule again."
    return f"Its factors are right, so the {KIND_WORDS[what]} itself is wrong: work it again."


# --- hints ----------------------------------------------------------------------------------------------------


def _hint(trace: Trace, session, names, link: Link, level: int, target: tuple) -> str:
    """Level 1 the formula, 2 the formula with the numbers plugged in, 3 the answer."""
    formula, plugged = _formula(trace, session, names, link, target)
    if level == 1:
        return formula
    if level == 2:
        return plugged
    value = expected(trace, link.ask)
    return f"{six_digits(value)} (full precision {value!r})"


def _formula(trace: Trace, session, names, link: Link, target: tuple) -> tuple[str, str]:
    a, net, p = link.ask, trace.net, trace.pass_
    q = a.quantity
    if link.kind == "mean":
        rows = [g["value"] for g in _row_grads(trace, names, target)]
        shown = " + ".join(six_digits(v) for v in rows[:6]) + (" + …" if len(rows) > 6 else "")
        return (f"The batch's gradient: the mean of its {len(rows)} rows' own values, listed above.",
                f"({shown}) / {len(rows)}")
    r = a.row if a.row is not None else 0
    cfg = trace.config
    w_before, b_before = net.views(trace.params_before)
    if q == "z":
        l, j = a.layer, a.node
        terms = [f"{six_digits(float(w_before[l - 1][j, i]))} × {six_digits(float(p.a[l - 1][r, i]))}"
                 for i in range(net.sizes[l - 1])]
        return "z = Σ w·a + b, over the inputs into the node", " + ".join(terms) + f" + {six_digits(float(b_before[l - 1][j]))}"
    if q == "a":
        act = net.activations[a.layer - 1].name
        return (f"a = {ACTIVATION_FORMULAS.get(act, 'f(z)')} ({act})",
                f"{act} of z = {six_digits(float(p.z[a.layer - 1][r, a.node]))}")
    at_output = a.node is not None and a.layer == net.n_layers
    o = float(p.a[-1][r, a.node]) if at_output else None
    t = float(trace.targets[r, a.node]) if at_output else None
    if q == "loss_term":
        return (f"{cfg.loss}: {LOSS_TERMS.get(cfg.loss, 'L(o, t)')} for this output",
                f"o = {six_digits(o)}, t = {six_digits(t)}")
    if q == "dloss_da":
        return f"∂L/∂o = {LOSS_SLOPES.get(cfg.loss, '∂L/∂o')}", f"o = {six_digits(o)}, t = {six_digits(t)}"
    if q == "dact":
        act = net.activations[a.layer - 1].name
        return (f"f′(z) = {DERIVATIVE_FORMULAS.get(act, 'f′(z)')} ({act})",
                f"a = {six_digits(float(p.a[a.layer][r, a.node]))}, z = {six_digits(float(p.z[a.layer - 1][r, a.node]))}")
    if q == "wdelta":
        l, j = a.layer, a.node
        terms = [f"{six_digits(float(w_before[l][k, j]))} × {six_digits(float(p.delta[l][r, k]))}"
                 for k in range(net.sizes[l + 1])]
        return "Σ w·δ: each weight out of the node times the δ of the node it feeds", " + ".join(terms)
    if q == "delta":
        if link.kind == "fused":
            return ("δ = o − t (the loss and the output activation fuse)", f"{six_digits(o)} − {six_digits(t)}")
        first, second = (expected(trace, factor) for factor in link.factors)
        words = "∂L/∂o · f′(z)" if a.layer == net.n_layers else "Σ w·δ · f′(z)"
        return f"δ = {words}", f"{six_digits(first)} × {six_digits(second)}"
    if q in ("grad_weight", "grad_bias"):
        delta = float(p.delta[a.layer][r, a.to])
        if q == "grad_bias":
            return "∂L/∂b = δ of the node", six_digits(delta)
        return "∂L/∂w = δ of the node it feeds · a of the node it comes from", \
            f"{six_digits(delta)} × {six_digits(float(p.a[a.layer][r, a.source]))}"
    return _update_formula(trace, link)


def _update_formula(trace: Trace, link: Link) -> tuple[str, str]:
    """The optimizer's rule for one parameter, with the engine's own terms (Trace.update_terms)."""
    a, net, cfg = link.ask, trace.net, trace.config
    kind = "weight" if a.quantity == "weight_after" else "bias"
    k = net.flat_index(kind, a.layer, a.to, a.source) if kind == "weight" else net.flat_index(kind, a.layer, a.to)
    u = trace.update_terms(k)
    g = six_digits(u["grad"])
    reg = f" (g includes the {cfg.regularization} penalty)" if u["reg"] is not None else ""
    if cfg.optimizer == "sgd":
        return (f"new value = old − η · g{reg}",
                f"{six_digits(u['before'])} − {six_digits(cfg.learning_rate)} × {g}")
    if cfg.optimizer == "momentum":
        return (f"v = μ·v_old + g, then new value = old − η · v{reg}",
                f"v = {six_digits(cfg.momentum)} × v_old + {g} = {six_digits(u['velocity'])}; "
                f"{six_digits(u['before'])} − {six_digits(cfg.learning_rate)} × {six_digits(u['velocity'])}")
    return (f"Adam: m = β₁m + (1−β₁)g, v = β₂v + (1−β₂)g², then old − η · m̂ / (√v̂ + ε){reg}",
            f"m = {six_digits(u['m'])}, v = {six_digits(u['v'])}, step = {six_digits(u['step'])}; "
            f"{six_digits(u['before'])} − {six_digits(u['step'])}")
