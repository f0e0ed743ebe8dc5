"""The detailed step (app/core/detailed_step.py): forward, loss, backward a layer at a time, then the update."""
import numpy as np
import pytest

from helpers import mazur_setup
from app.core.detailed_step import DetailedStep
from app.core.recipe import CreateSession
from app.core.session import build_session
from app.engine import DivergenceError

MAZUR = CreateSession(**mazur_setup())


def walk(session, clicks):
    step, seen = DetailedStep(), []
    for _ in range(clicks):
        step, points = step.advance(session)
        seen.append((step.phase, step.layer, len(points)))
    return step, seen


@pytest.mark.parametrize("layers", [[2, 2, 2], [2, 3, 3, 2], [2, 2]])
def test_phases_run_forward_loss_backward_from_the_output_then_update(layers):
    session = build_session(MAZUR.model_copy(update={"layers": layers, "weights": None, "biases": None}))
    weight_layers = len(layers) - 1
    _, seen = walk(session, 2 + weight_layers + 2)
    backward = [("backward", l, 0) for l in range(weight_layers - 1, -1, -1)]
    assert seen == [("forward", None, 0), ("loss", None, 0), *backward, ("update", None, 1), ("forward", None, 0)]
    labels, step = [], DetailedStep()
    for _ in range(len(seen)):
        labels.append(step.next_click(weight_layers)[1])
        step, _ = step.advance(session)
    hidden = [f"Backward (hidden {k})" for k in range(weight_layers - 1, 0, -1)]
    assert labels == ["Forward", "Loss", "Backward (output)", *hidden, "Update", "Forward"]


def test_nothing_is_applied_before_the_update_and_the_update_is_the_ordinary_step():
    session, twin = build_session(MAZUR), build_session(MAZUR)
    before = session.trainer.net.params.copy()
    step, _ = walk(session, 4)  # forward, loss, backward output, backward hidden
    assert step.phase == "backward" and step.layer == 0
    assert np.array_equal(session.trainer.net.params, before) and session.trainer.step_count == 0
    assert step.following(session.trainer.net.n_layers) == ("update", None)
    step, points = step.advance(session)
    twin.train(1)
    assert step.phase == "update" and step.trace is session.last_trace and points[0][0] == 1
    assert session.trainer.net.params.tobytes() == twin.trainer.net.params.tobytes()
    # Mazur's article: w5 0.4 -> 0.35891648.
    assert abs(session.trainer.net.weights[1][0, 0] - 0.35891648) < 1e-8


def test_each_phase_shows_the_same_proposal():
    session = build_session(MAZUR)
    step, _ = DetailedStep().advance(session)
    proposal = step.trace
    for _ in range(3):
        step, _ = step.advance(session)
        assert step.trace is proposal


def test_an_update_that_would_diverge_raises_and_applies_nothing():
    session = build_session(CreateSession(learning_rate=10, hidden_activation="relu", output_activation="linear",
                                          dataset={"name": "plane"}))
    with pytest.raises(DivergenceError):
        for _ in range(1000):
            session.train(1)
    count, params = session.trainer.step_count, session.trainer.net.params.copy()
    step, _ = walk(session, 2 + session.trainer.net.n_layers)
    assert step.following(session.trainer.net.n_layers) == ("update", None)
    with pytest.raises(DivergenceError):
        step.advance(session)
    assert session.trainer.step_count == count and np.array_equal(session.trainer.net.params, params)
