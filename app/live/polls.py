"""Polls about the coming step: what the presenter may ask, what counts as an answer, and the class's result.

Every answer key is read from the engine's proposal for the next step (Trainer.propose, nothing applied), the same
numbers the step then applies; a number is marked as "Check my calculation" marks it (app/core/marking.py).
"""
import hashlib

import numpy as np

from app.core import marking, quantities
from app.core.session import Session
from app.engine import FieldError
from app.views import shown
from app.views.numbers import short_label

from .model import Poll

KINDS = ("direction", "largest", "number")
MAX_CHOICES = 64  # weights or nodes the ask form lists
MAX_ANSWER = 40  # characters of a typed number
DIRECTIONS = ("up", "down")


def _weight_label(session: Session, names, layer: int, source: int, to: int) -> str:
    own = shown.weight_name(session, layer, source, to)
    edge = f"{names[layer][source]} → {names[layer + 1][to]}"
    return f"{own} ({edge})" if own else f"the weight {edge}"


def options(session: Session) -> dict:
    """What the ask form offers: weights (for up or down), hidden layers (largest |δ|), nodes (δ of a node)."""
    names, sizes = shown.node_names(session), session.trainer.net.sizes
    weights = [(f"{l}.{to}.{src}", _weight_label(session, names, l, src, to))
               for l in reversed(range(len(sizes) - 1)) for to in range(sizes[l + 1]) for src in range(sizes[l])]
    layers = [(str(l), f"hidden layer {l}") for l in range(1, len(sizes) - 1)]
    nodes = [(f"{l}.{j}", names[l][j]) for l in reversed(range(1, len(sizes))) for j in range(sizes[l])]
    return {"weights": weights[:MAX_CHOICES], "layers": layers, "nodes": nodes[:MAX_CHOICES]}


def questions(session: Session) -> list[tuple[str, list[tuple[str, str]]]]:
    """The ask form's questions, grouped by kind: (group, [("kind:choice", the question)])."""
    found = options(session)
    return [(group, [(f"{kind}:{value}", words.format(label)) for value, label in found[key]])
            for group, kind, key, words in (
                ("Up or down?", "direction", "weights", "Will {} go up or down?"),
                ("The largest |δ|", "largest", "layers", "Which node of {} gets the largest |δ|?"),
                ("A number", "number", "nodes", "What is δ of {}?"))
            if found[key]]


def _ints(text: str, count: int, field: str) -> list[int]:
    parts = (text or "").split(".")
    if len(parts) != count or not all(p.isascii() and p.isdigit() and len(p) <= 6 for p in parts):
        raise FieldError(field, "choose one of the listed items.")
    return [int(p) for p in parts]


def make(session: Session, kind: str, choice: str, poll_id: int) -> Poll:
    """A poll of `kind` about `choice` (a value of options()), with its answer for the coming step; FieldError names
    the field that is wrong."""
    poll = _question(session, kind, choice, poll_id)
    poll.fingerprint, poll.key = fingerprint(session), answer_key(session, poll)
    return poll


def focus_row(session: Session) -> int:
    """The row of the coming step's batch that a δ question is about: the one the presenter's diagram shows (its
    focus row, a position in the batch), within the batch."""
    rows = len(session.trainer.next_batch()[0])
    return min(session.page.focus_row, rows - 1)


def _row_words(session: Session, row: int) -> str:
    rows = len(session.trainer.next_batch()[0])
    return "" if rows == 1 else f" on row {row + 1} of the batch (the row the diagram shows)"


def _question(session: Session, kind: str, choice: str, poll_id: int) -> Poll:
    names, sizes = shown.node_names(session), session.trainer.net.sizes
    step = session.trainer.step_count
    row = focus_row(session)
    if kind == "direction":
        layer, to, source = _ints(choice, 3, "weight")
        if not (layer < len(sizes) - 1 and to < sizes[layer + 1] and source < sizes[layer]):
            raise FieldError("weight", "that weight is not in the network.")
        label = _weight_label(session, names, layer, source, to)
        return Poll(poll_id, kind, f"Will {label} go up or down in step {step + 1}?", list(DIRECTIONS),
                    {"layer": layer, "to": to, "from": source}, step)
    if kind == "largest":
        (layer,) = _ints(choice, 1, "layer")
        if not 1 <= layer < len(sizes) - 1:
            raise FieldError("layer", "choose a hidden layer." if len(sizes) > 2 else
                             "this network has no hidden layer to ask about.")
        return Poll(poll_id, kind, f"Which node of hidden layer {layer} will get the largest |δ|"
                                   f"{_row_words(session, row)} in step {step + 1}?",
                    list(names[layer]), {"layer": layer, "row": row}, step)
    if kind == "number":
        layer, node = _ints(choice, 2, "node")
        if not (1 <= layer < len(sizes) and node < sizes[layer]):
            raise FieldError("node", "that node is not in the network.")
        return Poll(poll_id, kind, f"What is δ of {names[layer][node]}{_row_words(session, row)} in step {step + 1}?",
                    [], {"layer": layer, "node": node, "row": row}, step)
    raise FieldError("kind", f"kind must be one of {', '.join(KINDS)}.")


def fingerprint(session: Session) -> str:
    """What the coming step depends on: the step, the batch position, the settings and every parameter. A question
    is about the step from this state, and any other change of it cancels the question."""
    t = session.trainer
    digest = hashlib.sha1(repr((t.step_count, t.epoch, t.position, t.config)).encode())
    digest.update(t.net.params.tobytes())
    return digest.hexdigest()


def _batch_words(trace, row: int) -> str:
    """Which row of the batch a δ is of."""
    n = len(trace.rows)
    return "" if n == 1 else f", on row {row + 1} of the batch's {n} (training row #{int(trace.rows[row])})"


def answer_key(session: Session, poll: Poll) -> dict:
    """The right answer for the coming step, from its proposal: {"answer", "label", "detail"} (and "value" for
    numbers): `label` is the answer in a few words, `detail` the numbers behind it."""
    trace = quantities.next_trace(session)
    t = poll.target
    if poll.kind == "direction":
        before = float(session.trainer.net.weights[t["layer"]][t["to"], t["from"]])
        after = quantities.expected(trace, quantities.Ask("weight_after", t["layer"], to=t["to"], source=t["from"]))
        change = after - before
        answer = "up" if change > 0 else "down" if change < 0 else "unchanged"
        name = shown.weight_name(session, t["layer"], t["from"], t["to"]) or "w"
        return {"answer": answer, "label": answer,
                "detail": f"{name} = {short_label(before)} → {short_label(after)}, a change of "
                          f"{'+' if change > 0 else ''}{short_label(change)}"}
    if poll.kind == "largest":
        layer, row = t["layer"], t.get("row", 0)
        deltas = [quantities.expected(trace, quantities.Ask("delta", layer, node=j, row=row))
                  for j in range(len(poll.choices))]
        best = int(np.argmax(np.abs(np.array(deltas))))
        listed = ", ".join(f"{name} {short_label(d)}" for name, d in zip(poll.choices, deltas))
        return {"answer": poll.choices[best], "label": poll.choices[best],
                "detail": f"δ: {listed}{_batch_words(trace, row)}"}
    row = t.get("row", 0)
    want = quantities.expected(trace, quantities.Ask("delta", t["layer"], node=t["node"], row=row))
    return {"answer": repr(want), "value": want, "label": f"δ = {short_label(want)}",
            "detail": f"{want!r} to full precision{_batch_words(trace, row)}"}


def revealed(poll: Poll | None) -> bool:
    """Whether `poll` has its class's result (not open, closing or cancelled)."""
    return poll is not None and poll.result is not None and "answer" in poll.result


def due_to_fold(poll: Poll | None, step: int) -> bool:
    """Whether a revealed result folds away now that the room is at `step`: Reveal takes step `poll.step + 1` and
    shows the result there; any other step (the next one, Play, a rewind, a new network) folds it, once and for good
    (a fold never reopens on its own; a click on it does, on each screen)."""
    return revealed(poll) and not poll.folded and step != poll.step + 1


def normal_answer(poll: Poll, raw: str) -> str:
    """A follower's answer as stored; FieldError("answer") when it is not one."""
    text = (raw or "").strip()
    if poll.kind == "number":
        if len(text) > MAX_ANSWER or marking.parse(text) is None:
            raise FieldError("answer", "type a number, such as 0.1385.")
        return text
    if text not in poll.choices:
        raise FieldError("answer", f"choose one of {', '.join(poll.choices)}.")
    return text


def is_right(poll: Poll, key: dict, answer: str) -> bool:
    if poll.kind == "number":
        return marking.mark(answer, key["value"]).correct
    return answer == key["answer"]


def result(poll: Poll, key: dict, answers: dict[str, str]) -> dict:
    """The class's distribution: per choice (or, for numbers, right and the most common wrong values) the count.
    Nobody's name is in it: answers are keyed by an anonymous follower token that this drops."""
    values = list(answers.values())
    right = sum(is_right(poll, key, v) for v in values)
    if poll.kind == "number":
        wrong: dict[str, int] = {}
        for v in values:
            if not is_right(poll, key, v):
                wrong[v] = wrong.get(v, 0) + 1
        common = sorted(wrong.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        bars = [{"label": f"right (≈ {short_label(key['value'])})", "count": right, "correct": True}]
        bars += [{"label": v, "count": n, "correct": False} for v, n in common]
        other = len(values) - right - sum(n for _, n in common)
        if other:
            bars.append({"label": "other wrong values", "count": other, "correct": False})
    else:
        bars = [{"label": c, "count": values.count(c), "correct": c == key["answer"]} for c in poll.choices]
    total = len(values)
    for bar in bars:
        bar["percent"] = 0 if not total else round(100 * bar["count"] / total)
    tally = "Nobody answered." if not total else f"{right} of {total} answered right."
    return {"answer": key["answer"], "label": key["label"], "detail": key["detail"], "right": right, "total": total,
            "tally": tally, "bars": bars, "value": key.get("value")}
