"""app.core.training.train with a stop condition (`until`) evaluates its loss points in chunks, and re-runs step by step
only when the condition, or a divergence, came before the last step. Whatever the path, the result is exactly what a
step-by-step run gives (`_run(..., until=until)`, which evaluates and checks each point at once): the same steps,
points, weights, optimizer state, loss curve, rewind points and error. Each case runs two sessions built from the
same request, one each way."""
import numpy as np
import pytest

from app.core import training
from app.core.recipe import CreateSession
from app.core.session import build_session
from app.engine import DivergenceError

CAPS = training.Caps(10**9, 10**9, clock=lambda: 0.0)  # no cap in the way, and no clock read
PRECISE = training._run  # the reference, as it is before any test wraps it

CIRCLE = dict(seed=4, optimizer="adam", learning_rate=0.03)
PLANE = dict(seed=2, dataset={"name": "plane"}, hidden_activation="relu", output_activation="linear", learning_rate=3)
SINE = dict(seed=1, dataset={"name": "sine"}, hidden_activation="sigmoid", output_activation="linear", loss="mse",
            learning_rate=10, optimizer="momentum")


def plain(value):
    """Arrays as (dtype, shape, bytes), so that states compare exactly with ==."""
    if isinstance(value, np.ndarray):
        return value.dtype.str, value.shape, value.tobytes()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def state(session) -> dict:
    """Everything a run may change that a user or storage sees (not the work it cost, steps_ran, nor the storage hint
    history_generation, which a rolled-back run bumps)."""
    trace = session.last_trace
    return {"trainer": plain(session.trainer.state_dict()), "history": list(session.history),
            "future": list(session.future), "snapshots": plain(dict(session.snapshots)),
            "snapshot_order": list(session.snapshots),
            "trace": None if trace is None else (trace.step, plain(trace.params_before), plain(trace.params_after))}


def outcome(run):
    try:
        return run()
    except DivergenceError as exc:
        return "diverged", exc.step, exc.message


def play_stops(session, stop_loss=None):
    """Play's stop condition (app/web/training.py train_outcome): the stop loss, and an exploding loss."""
    return lambda point: ((stop_loss is not None and point[1] < stop_loss) or session.loss_explosion() is not None)


class Runs(list):
    """The runs train() made, each "watch" (chunked, checked afterwards), "until" (step by step) or "plain"; and
    the chunk size in force."""

    chunk: int | None = None


@pytest.fixture(params=[None, 7, 1], ids=["chunk-default", "chunk-7", "chunk-1"])
def runs(request, monkeypatch) -> Runs:
    calls = Runs()
    calls.chunk = request.param
    if request.param is not None:
        monkeypatch.setattr(training, "evaluation_chunk", lambda trainer, dataset: request.param)

    def spy(session, steps, caps, until=None, watch=None):
        calls.append("watch" if watch is not None else "until" if until is not None else "plain")
        return PRECISE(session, steps, caps, until=until, watch=watch)

    monkeypatch.setattr(training, "_run", spy)
    return calls


def compare(runs: list, config: dict, steps: int | None, until_of, before=None):
    """train() on one session and the step-by-step run on its twin, from the same request (and the same `before`):
    the same result and the same state. Returns the result; `runs` holds the runs train() made."""
    fast, precise = build_session(CreateSession(**config)), build_session(CreateSession(**config))
    if before is not None:
        before(fast), before(precise)
    start = state(fast)
    assert start == state(precise)
    runs.clear()
    got = outcome(lambda: training.train(fast, steps, CAPS, until_of(fast)))
    want = outcome(lambda: PRECISE(precise, steps, CAPS, until=until_of(precise)))
    assert got == want
    assert state(fast) == state(precise)
    if got[0] == "diverged":  # all or nothing, whichever way it ran (the reference is the same code: this is not)
        assert state(fast) == start
    return got


def losses(config: dict, steps: int) -> list[float]:
    """The train loss after each step 0..steps, one step at a time."""
    session = build_session(CreateSession(**config))
    return [session.history[0][1], *(session.train(1)[0][1] for _ in range(steps))]


def first_crossing(values: list[float], after: int) -> tuple[int, float]:
    """A step k > after whose loss is below every loss before it, and a stop loss between them."""
    k = next(k for k in range(after + 1, len(values)) if values[k] < min(values[:k]))
    return k, (values[k] + min(values[:k])) / 2


def test_a_stop_loss_crossed_mid_run(runs):
    values = losses(CIRCLE, 80)
    k, stop = first_crossing(values, 30)
    assert k < 80
    points = compare(runs, CIRCLE, 80, lambda s: play_stops(s, stop))
    assert [p[0] for p in points] == list(range(1, k + 1)) and points[-1][1] == values[k]
    assert runs == ["watch", "until"]  # checked afterwards, then run again step by step


def test_a_stop_loss_crossed_after_a_rewind_keeps_the_steps_to_redo_as_a_step_by_step_run_does(runs):
    def rewound(session):
        session.train(40)
        session.rewind(25)  # steps 26..40 can be redone until the next step

    values = losses(CIRCLE, 60)
    k, stop = first_crossing(values, 35)
    points = compare(runs, CIRCLE, 35, lambda s: play_stops(s, stop), before=rewound)
    assert points[-1][0] == k and runs == ["watch", "until"]


def test_an_exploding_loss_mid_run(runs):
    def trained(session):  # 20 ordinary steps, then a learning rate far too high
        session.train(20)
        session.reconfigure(learning_rate=30.0)

    config = {**PLANE, "learning_rate": 0.01}
    points = compare(runs, config, 60, play_stops, before=trained)
    assert 21 < points[-1][0] < 80 and runs == ["watch", "until"]


def test_an_explosion_stops_a_run_before_it_diverges(runs):
    """A learning rate at which the loss overflows at step ~120: Play's condition stops it at the explosion."""
    points = compare(runs, SINE, 150, play_stops)
    assert points[-1][0] < 10 and runs == ["watch", "until"]


def test_a_divergence_mid_run_without_an_explosion_stop(runs):
    """The same run under a stop loss only (no explosion check): it diverges, and nothing of it is kept."""
    result = compare(runs, SINE, 150, lambda s: (lambda point: point[1] < 1e-9))
    assert result[0] == "diverged" and 100 < result[1] < 150
    assert runs == ["watch", "until"]


def test_a_divergence_before_the_stop_loss_is_the_same_error_whatever_the_chunk(runs):
    """A stop loss reached only after the divergence: the error names the first step that diverged."""
    result = compare(runs, {**PLANE, "learning_rate": 10}, 200, lambda s: (lambda point: point[0] > 190))
    assert result[0] == "diverged" and 100 < result[1] <= 190 and runs == ["watch", "until"]


def test_no_stop_at_all(runs, monkeypatch):
    evaluated = []
    evaluate = training.evaluate_under
    monkeypatch.setattr(training, "evaluate_under", lambda t, d, params: evaluated.append(len(params))
                        or evaluate(t, d, params))
    points = compare(runs, CIRCLE, 60, lambda s: play_stops(s))
    assert [p[0] for p in points] == list(range(1, 61)) and runs == ["watch"]  # one run, not again
    session = build_session(CreateSession(**CIRCLE))
    chunk = runs.chunk or training.evaluation_chunk(session.trainer, session.dataset)
    # train()'s points in chunks, then the reference's one by one: each point evaluated once.
    assert evaluated == [min(chunk, 60 - start) for start in range(0, 60, chunk)] + [1] * 60


def test_a_stop_at_the_last_step_needs_no_second_run(runs):
    points = compare(runs, CIRCLE, 45, lambda s: (lambda point: point[0] == 45))
    assert points[-1][0] == 45 and len(points) == 45 and runs == ["watch"]


def test_the_first_of_several_steps_the_condition_holds_for_wins(runs):
    points = compare(runs, CIRCLE, 50, lambda s: (lambda point: point[0] % 12 == 0))
    assert points[-1][0] == 12 and runs == ["watch", "until"]


def test_to_the_end_of_the_epoch(runs):
    def part(session):
        session.train(3)

    values = losses(CIRCLE, 25)
    k, stop = first_crossing(values, 10)
    points = compare(runs, CIRCLE, None, lambda s: play_stops(s, stop), before=part)
    assert points[-1][0] == min(k, 25)


def test_a_run_that_diverges_keeps_the_steps_to_redo(runs):
    """Nothing of a failed run is kept: after a rewind, the steps it undid can still be redone."""
    def rewound(session):
        session.train(12)
        session.rewind(6)

    result = compare(runs, SINE, 150, lambda s: (lambda point: point[1] < 1e-9), before=rewound)
    assert result[0] == "diverged" and runs == ["watch", "until"]
