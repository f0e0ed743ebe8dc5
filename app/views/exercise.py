"""The exercise card: the question in words, the learner's answer and its mark, the tally and the link."""
from app.core.exercise import Exercise
from app.core.page_state import ExerciseState, Tally
from app.core.session import Session

from .numbers import six_digits
from .shown import node_names


def question(session: Session, ex: Exercise) -> str:
    """What the exercise asks, in words, with the network's own names."""
    names = node_names(session)
    a = ex.ask
    if a.quantity in ("z", "a", "delta"):
        node = names[a.layer][a.node]
        where = "output" if a.layer == len(names) - 1 else "hidden node"
        return {"z": f"z of the {where} {node}, before its activation",
                "a": f"a of the {where} {node}, after its activation",
                "delta": f"δ of the {where} {node}"}[a.quantity]
    if a.quantity == "grad_bias":
        return f"∂L/∂b for the bias of {names[a.layer + 1][a.to]}"
    edge = f"{names[a.layer][a.source]} → {names[a.layer + 1][a.to]}"
    if a.quantity == "grad_weight":
        return f"∂L/∂w for the weight {edge}"
    return f"the weight {edge} after the first update (w − η·g)"


def target(ex: Exercise) -> dict:
    """The worksheet that works the question through: its edge or node, as the inspector names it."""
    a = ex.ask
    if a.quantity in ("grad_weight", "weight_after"):
        return {"kind": "edge", "layer": a.layer, "from": a.source, "to": a.to}
    if a.quantity == "grad_bias":
        return {"kind": "node", "layer": a.layer + 1, "to": a.to}
    return {"kind": "node", "layer": a.layer, "to": a.node}


def build(session: Session, ex: Exercise, state: ExerciseState, tally: Tally) -> dict:
    result = state.result
    cfg = ex.request
    names = node_names(session)
    row, targets = cfg.dataset.inputs[0], cfg.dataset.targets[0]
    given = ", ".join(f"{n} = {v:g}" for n, v in zip(names[0], row)) + "; target " + ", ".join(
        f"{n} = {v:g}" for n, v in zip(names[-1], targets))
    return {
        "seed": ex.seed, "link": f"/?exercise={ex.seed}", "given": given,
        "network": f"{ex.shape} network, {ex.hidden} hidden, {cfg.output_activation} output, half_sse loss, "
                   f"η = {six_digits(cfg.learning_rate)}, one row",
        "question": question(session, ex), "quantity": ex.ask.quantity, "typed": state.typed,
        "result": result, "at_start": session.trainer.step_count == 0, "worksheet": target(ex),
        "tally": tally,
    }
