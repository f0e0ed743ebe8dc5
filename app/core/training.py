"""The training loop: a session's steps within a request's caps, each step's loss-curve point and rewind point,
all or nothing.

The caps come in as arguments (`Caps`): the session passes the settings' (Session.train), tests their own.
"""
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.engine import DivergenceError, FieldError, Trainer

from .evaluation import evaluate_under, evaluation_chunk, finite_losses


@dataclass(frozen=True)
class Caps:
    """What one request may run: at most `sample_passes` sample passes (steps × batch rows), and at most `seconds`
    on `clock`."""
    sample_passes: int
    seconds: float
    clock: Callable[[], float] = time.monotonic


def check_steps(trainer: Trainer, steps: int, sample_passes: int) -> None:
    """Raise FieldError when `steps` steps are more than `sample_passes` sample passes."""
    batch = trainer.batch_size
    if steps * batch > sample_passes:
        raise FieldError("steps", f"{steps} steps of {batch} rows is more than the {sample_passes} sample passes one "
                                  "request may run; ask for fewer steps.")


class Overshot(Exception):
    """A run evaluated in chunks met its stop condition before its last step."""


def train(session, steps: int | None, caps: Caps, until: Callable[[tuple], bool] | None = None) -> list[tuple]:
    """Run `steps` steps of a Session, or to the end of the epoch when None; return the new loss-curve points,
    which are appended to its curve. With `until`, stop after the first step whose loss-curve point it is true of
    (Play's stop conditions).

    The caller holds the lock. On any error (divergence, a cap, anything else) nothing changes, the loss curve
    included.

    Each step's point is evaluated in chunks of steps, one stacked pass per chunk, even with `until`: a stop
    condition is rare, so the run first goes on to its end and is checked point by point afterwards. Only when
    `until` holds before the last step, or a step diverges (where a stop condition might have come first), is it
    rolled back and run again step by step, evaluating and checking each point at once: the same steps and points
    as if every run had gone step by step, for a fraction of the evaluations' cost (bench/README.md).
    """
    if until is not None:
        try:
            return _run(session, steps, caps, watch=until)
        except (Overshot, DivergenceError):
            pass  # rolled back: nothing of it was kept
    return _run(session, steps, caps, until=until)


def _run(session, steps: int | None, caps: Caps, until: Callable[[tuple], bool] | None = None,
         watch: Callable[[tuple], bool] | None = None) -> list[tuple]:
    """train(), evaluating each point at once and stopping where `until` holds; or in chunks, raising Overshot
    where `watch` holds before the last step."""
    trainer = session.trainer
    n = trainer.steps_to_epoch_end() if steps is None else steps
    deadline = caps.clock() + caps.seconds
    check_steps(trainer, n, caps.sample_passes)
    points = []
    # Each step's loss-curve point is evaluated in chunks of steps, one stacked pass per chunk: the same
    # numbers as one evaluation per step. A stop condition needs each step's point at once.
    last, chunk = trainer.step_count + n, 1 if until is not None else evaluation_chunk(trainer, session.dataset)
    pending = []  # (step, its parameters) still to evaluate

    def evaluate_pending() -> None:
        evaluations = evaluate_under(trainer, session.dataset, np.array([params for _, params in pending]))
        for (step, _), evaluation in zip(pending, evaluations):
            if not finite_losses(evaluation):  # the run is rolled back: no step of it is applied
                raise DivergenceError(step, f"Training diverged at step {step}: lower the learning rate or go "
                                      "Back. The loss would have become infinite (learning rate "
                                      f"{trainer.config.learning_rate:g}); the step was not applied.")
            points.append((step, *evaluation))
            session.history.append(points[-1])
            if watch is not None and step != last and watch(points[-1]):
                raise Overshot(step)
        pending.clear()

    def record(t: Trainer) -> bool:
        pending.append((t.step_count, session.keep_rewind_point()["params"]))  # the rewind point's own copy
        session.steps_ran += 1
        if caps.clock() > deadline:
            raise FieldError("steps", f"this request would run longer than {caps.seconds:g} s "
                                      f"(it had done {len(points) + len(pending)} of {n} steps, none of which "
                                      "were kept); ask for fewer steps.")
        if len(pending) >= chunk or t.step_count == last:
            evaluate_pending()
        return until is not None and until(points[-1])

    history_len, snapshots, future = len(session.history), OrderedDict(session.snapshots), session.future
    session.discard_future()
    session.changes += 1
    try:
        try:
            session.last_trace = trainer.run(n, after_step=record)
        except DivergenceError:  # the engine's own check: an earlier step's loss may have diverged first
            if pending:
                evaluate_pending()
            raise
    except Exception:  # diverged, over the time cap, or anything else: the trainer rolled back, so do we
        del session.history[history_len:]
        session.history_generation += 1
        session.snapshots, session.future = snapshots, future
        raise
    return points
