"""What work on a session costs, in multiply-adds: deterministic, the same on every machine, so that the limits
(app/ratelimit) and the choice of where work runs (scheduler.py) agree on a slow laptop and a fast server."""
from dataclasses import dataclass

from app.core.session import Session
from app.datasets import DATASETS


def step_cost(session: Session, steps: int, picture_rows: int = 0) -> int:
    """Multiply-adds of `steps` steps, roughly: each batch forward and back (about 3 passes), the evaluation
    of every row after each step, and the rows the page's pictures evaluate once (`picture_rows`)."""
    data, trainer = session.dataset, session.trainer
    rows = steps * (3 * trainer.batch_size + len(data.train_x) + len(data.test_x)) + picture_rows
    return rows * trainer.net.n_params


# Rows the page's pictures evaluate when a session is drawn (app/web/training.py PICTURE_ROWS, about).
BUILD_PICTURE_ROWS = 4_000


def build_cost(request) -> int:
    """Multiply-adds of building a session from a CreateSession and drawing it once, roughly: each row evaluated
    twice and the pictures once. A CSV's rows are guessed from its bytes (8 a row at the least)."""
    spec = request.dataset
    info = DATASETS.get(spec.name or "circle")
    if spec.inputs is not None:
        rows = len(spec.inputs) + len(spec.test_inputs or [])
    elif spec.csv is not None:
        rows = len(spec.csv) // 8
    else:
        rows = spec.samples or (info.default_samples if info is not None and info.default_samples else 500)
    layers = request.layers or [2, 4, 2, 1]
    params = sum((a + 1) * b for a, b in zip(layers, layers[1:]))
    return (2 * rows + BUILD_PICTURE_ROWS) * params


def check_cost(session: Session) -> int:
    """Multiply-adds of a gradient check: two forward passes of the batch for every parameter."""
    params = session.trainer.net.n_params
    return 2 * params * session.trainer.batch_size * params


def steps_within(session: Session, work: int, picture_rows: int = 0) -> int:
    """The most steps whose step_cost stays within `work` (0 when not even one does)."""
    data, trainer = session.dataset, session.trainer
    per_step = (3 * trainer.batch_size + len(data.train_x) + len(data.test_x)) * trainer.net.n_params
    return max(0, (work - picture_rows * trainer.net.n_params) // per_step)


@dataclass(frozen=True)
class Steps:
    """Training work: `steps` steps, and the rows the page's pictures evaluate once (`picture_rows`). Its cost is
    step_cost's; what a request did not run (stopped early, thrown away, refused) is given back to its budget."""
    steps: int
    picture_rows: int = 0
