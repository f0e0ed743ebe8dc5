"""The "Check my calculation" worksheet's view: the next step's chain for one edge or node, row by row, with what is
given, what the learner typed, its mark and feedback, and hints one level at a time (app/core/worksheet.py marks)."""
from app.core.session import Session
from app.core.worksheet import Ask, Link, chain, expected, mark_chain, next_trace
from app.engine import Trace

from .inspector import ACTIVATION_FORMULAS, DERIVATIVE_FORMULAS
from .numbers import six_digits
from .shown import node_names, weight_name

HINT_LEVELS = 3  # the formula; the formula with the numbers plugged in; the answer
LOSS_TERMS = {"half_sse": "½ (t − o)²", "mse": "(t − o)² / K", "bce": "−[t ln o + (1 − t) ln(1 − o)]",
              "cross_entropy": "−t ln o"}
LOSS_SLOPES = {"half_sse": "o − t", "mse": "(2/K)(o − t)", "bce": "(o − t) / (o (1 − o))", "cross_entropy": "−t / o"}
KIND_WORDS = {"product": "product", "sum": "sum", "update": "update", "fused": "difference",
              "activation": "activation", "slope": "slope", "loss": "loss"}


def build(session: Session, state: dict) -> dict:
    """The worksheet for state["target"] (the inspector's (kind, layer, from, to)) and state["row"]."""
    trace = next_trace(session)
    names = node_names(session)
    target = _target(state["target"])
    n = len(trace.rows)
    row = state.get("row")
    per_row = n == 1 or row is not None
    links = chain(trace, target, 0 if n == 1 else row)
    typed = state.get("typed", {}) if state.get("step") == trace.step else {}
    marks = mark_chain(trace, links, typed, per_row) if state.get("checked") and typed else {}
    hints = state.get("hints", {}) if state.get("step") == trace.step else {}
    labels = {link.ask.key(): _label(session, names, link) for link in links}
    rows = []
    for link in links:
        key = link.ask.key()
        m = marks.get(key)
        level = min(hints.get(key, 0), HINT_LEVELS)
        rows.append({
            "key": key, "quantity": link.ask.quantity, "label": labels[key], "typed": typed.get(key, ""),
            "mark": m, "feedback": _feedback(m, labels, link) if m else None,
            "hint_level": level, "hints": [_hint(trace, session, names, link, k, per_row) for k in range(1, level + 1)],
            "more_hints": level < HINT_LEVELS,
        })
    right = sum(1 for m in marks.values() if m["correct"])
    counted = sum(1 for m in marks.values() if m["reason"] is None)  # "not a number" is not a try
    return {
        "title": _title(session, names, target), "step": trace.step, "target": state["target"],
        "batch": {"n": n, "rows": trace.rows.tolist(), "row": row,
                  "choices": [{"value": "", "text": "batch mean", "selected": row is None}] + [
                      {"value": str(k), "text": f"row {k} (training row #{int(r)})", "selected": row == k}
                      for k, r in enumerate(trace.rows[:50])] if n > 1 else []},
        "given": _given(trace, session, names, target, 0 if n == 1 else row),
        "rows": rows, "checked": bool(marks), "right": right, "marked": counted,
        "stale": bool(state.get("typed")) and state.get("step") != trace.step,
        "per_row": per_row,
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


def _label(session, names, link: Link) -> str:
    a = link.ask
    q = a.quantity
    if q in ("weight_after", "grad_weight"):
        own = weight_name(session, a.layer, a.source, a.to)
        w = own or f"w({names[a.layer][a.source]} → {names[a.layer + 1][a.to]})"
        return f"new {w}" if q == "weight_after" else f"∂L/∂{w}"
    if q in ("bias_after", "grad_bias"):
        b = f"b({names[a.layer + 1][a.to]})"
        return f"new {b}" if q == "bias_after" else f"∂L/∂{b}"
    node = names[a.layer][a.node]
    return {"z": f"z({node})", "a": f"a({node})", "loss_term": f"L({node}), its share of the loss",
            "dloss_da": f"∂L/∂a({node})", "dact": f"f′(z({node}))", "delta": f"δ({node})",
            "wdelta": f"Σ w·δ into {node}"}[q]


def _given(trace: Trace, session, names, target, row) -> list[dict]:
    """What the chain starts from: the inputs, weights and bias into the node; the deltas and weights of the layer
    after it (a hidden node); the learning rate."""
    net, p = trace.net, trace.pass_
    layer, j = (target[1] + 1, target[3]) if target[0] == "edge" else (target[1], target[2])
    w_before, b_before = net.views(trace.params_before)

    def value(arr, k):
        return float(arr[:, k].mean()) if row is None else float(arr[row, k])

    out = [{"label": f"a({names[layer - 1][i]})", "value": value(p.a[layer - 1], i)} for i in range(net.sizes[layer - 1])]
    out += [{"label": _weight_label(session, names, layer - 1, i, j), "value": float(w_before[layer - 1][j, i])}
            for i in range(net.sizes[layer - 1])]
    out.append({"label": f"b({names[layer][j]})", "value": float(b_before[layer - 1][j])})
    if layer < net.n_layers:
        out += [{"label": _weight_label(session, names, layer, j, k), "value": float(w_before[layer][k, j])}
                for k in range(net.sizes[layer + 1])]
        out += [{"label": f"δ({names[layer + 1][k]})", "value": value(p.delta[layer], k)}
                for k in range(net.sizes[layer + 1])]
    else:
        scale = ", on the network's scale" if session.dataset.target_scaling is not None else ""
        out += [{"label": f"t({names[layer][k]}){scale}", "value": value(trace.targets, k)}
                for k in range(net.sizes[layer])]
    cfg = trace.config
    out.append({"label": "η (learning rate)", "value": float(cfg.learning_rate)})
    for item in out:
        item["text"] = six_digits(item["value"])
    return out


def _weight_label(session, names, l, i, j) -> str:
    own = weight_name(session, l, i, j)
    return own or f"w({names[l][i]} → {names[l + 1][j]})"


def _feedback(m: dict, labels: dict, link: Link) -> str | None:
    if m["correct"]:
        return None
    if m["reason"] or m["feedback"] is None:
        return None
    how, what = m["feedback"]
    if how == "first_wrong":
        return f"The first wrong link of the chain is {labels[what]}: fix it first, and this follows."
    return f"Its factors are right, so the {KIND_WORDS[what]} itself is wrong: multiply again."


# --- hints ----------------------------------------------------------------------------------------------------


def _hint(trace: Trace, session, names, link: Link, level: int, per_row: bool) -> str:
    """Level 1 the formula, 2 the formula with the numbers plugged in, 3 the answer."""
    formula, plugged = _formula(trace, session, names, link, per_row)
    if level == 1:
        return formula
    if level == 2:
        return plugged
    value = expected(trace, link.ask)
    return f"{six_digits(value)} (full precision {value!r})"


def _formula(trace: Trace, session, names, link: Link, per_row: bool) -> tuple[str, str]:
    a, net, p = link.ask, trace.net, trace.pass_
    q = a.quantity
    if not per_row and q not in ("weight_after", "bias_after", "loss"):
        rows = [expected(trace, Ask(q, a.layer, a.node, a.to, a.source, r)) for r in range(len(trace.rows))]
        shown = " + ".join(six_digits(v) for v in rows[:6]) + (" + …" if len(rows) > 6 else "")
        return (f"The batch mean: each of the {len(rows)} rows' own value, averaged.",
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
