"""Predict, then reveal (issue 14 §2): in a detailed step, before Backward the learner may guess a δ of the layer
it reaches, and before Update how a weight will change; once the phase is shown, the guess is set beside the
engine's value with how far off it was."""
from app.core.session import Session

from .numbers import six_digits
from .shown import node_names, weight_name

MAX_CHOICES = 64  # weights listed for the update's guess


def choices(session: Session, following: tuple[str, int | None]) -> dict | None:
    """What the next click lets the learner guess first: δ of the nodes the next Backward reaches, or a weight's
    change before Update. None for the other phases."""
    phase, layer = following
    net, names = session.trainer.net, node_names(session)
    if phase == "backward":
        return {"kind": "delta", "layer": layer,
                "options": [{"value": str(j), "text": f"δ({names[layer + 1][j]})"} for j in range(net.sizes[layer + 1])]}
    if phase == "update":
        options = []
        for l in range(net.n_layers - 1, -1, -1):  # the output layer's weights first
            for j in range(net.sizes[l + 1]):
                for i in range(net.sizes[l]):
                    own = weight_name(session, l, i, j)
                    text = f"{own} ({names[l][i]} → {names[l + 1][j]})" if own else f"{names[l][i]} → {names[l + 1][j]}"
                    options.append({"value": f"{l}.{i}.{j}", "text": text})
        return {"kind": "change", "layer": None, "options": options[:MAX_CHOICES]}
    return None


def revealed(session: Session, step, guesses: list[dict]) -> list[dict]:
    """Each guess of this step whose phase has been shown, with the real value and how far off the guess was."""
    trace = step.trace
    if trace is None:
        return []
    names = node_names(session)
    out = []
    for g in guesses:
        if g["step"] != trace.step:
            continue
        if g["kind"] == "delta":
            if not (step.phase == "update" or (step.phase == "backward" and step.layer <= g["layer"])):
                continue
            l, j = g["layer"], g["node"]
            deltas = trace.pass_.delta[l][:, j]
            r = min(g.get("row", 0), len(deltas) - 1)  # the batch row the diagram showed when the guess was made
            real = float(deltas[r])
            what = f"δ({names[l + 1][j]})" + (f" of row {r + 1}" if len(deltas) > 1 else "")
            out.append(_compare(what, g["value"], real))
            continue
        if step.phase != "update":
            continue
        l, i, j = g["edge"]
        w_before, w_after = (trace.net.views(p)[0][l][j, i] for p in (trace.params_before, trace.params_after))
        change = float(w_after - w_before)
        own = weight_name(session, l, i, j)
        what = own or f"the weight {names[l][i]} → {names[l + 1][j]}"
        guessed = g["value"] if g["sign"] == "up" else -g["value"]
        item = _compare(f"the change of {what}", guessed, change)
        direction = "up" if change > 0 else "down" if change < 0 else "nowhere"
        item["words"] = (f"You guessed {what} would go {g['sign']} by {six_digits(g['value'])}; it went {direction}"
                         f"{f' by {six_digits(abs(change))}' if change else ''}: "
                         f"{'the right direction' if (change > 0) == (g['sign'] == 'up') and change else 'the wrong direction'}, "
                         f"{item['off_words']}.")
        out.append(item)
    return out


def _compare(what: str, guessed: float, real: float) -> dict:
    off = guessed - real
    relative = f" ({abs(off) / abs(real):.1%})" if real else ""
    off_words = "exactly right" if off == 0 else f"off by {six_digits(abs(off))}{relative}"
    return {"what": what, "guessed": guessed, "real": real, "off": off, "off_words": off_words,
            "words": f"You guessed {what} = {six_digits(guessed)}; it is {six_digits(real)}: {off_words}."}


def build(session: Session, step, guesses: list[dict], typed: str = "", saved: str | None = None) -> dict | None:
    """The guess strip of a detailed step: what may be guessed before the next click, and what was revealed."""
    if not session.detailed:
        return None
    following = step.following(session.trainer.net.n_layers)
    ask = choices(session, following)
    upcoming = session.trainer.step_count + 1
    mine = [g for g in guesses if g["step"] == upcoming]
    current, sign = None, "down"
    if ask is not None:  # the guess already made for this phase, shown in its controls
        made = [g for g in mine if g["kind"] == ask["kind"] and (ask["kind"] == "change" or g["layer"] == ask["layer"])]
        if made:
            g = made[-1]
            current = str(g["node"]) if g["kind"] == "delta" else ".".join(str(v) for v in g["edge"])
            typed = typed or f"{g['value']:.6g}"
            sign = g.get("sign", "down")
    shown_step = step if step.trace is not None and step.trace.step == upcoming or step.phase == "update" else None
    return {"ask": ask, "target": current, "sign": sign, "typed": typed, "saved": saved,
            "revealed": revealed(session, shown_step, guesses) if shown_step else []}
