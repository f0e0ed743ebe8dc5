"""The loss along one weight (issue 14 §4): a batch's mean data loss as one weight varies and every other parameter
stays as it is, with the step's slope ∂L/∂w there and where its update takes the weight.

Every point is the engine's own evaluation: one stacked pass of MLP.outputs_under for many parameter vectors, and
the loss's `value(o, t, z)` averaged over the rows as MLP.loss averages it, so the point at the weight's current
value is bit for bit the step's batch loss. The slope is the step's data-loss gradient (Pass.grad, the
regularisation penalty excluded, as the curve excludes it) and the updated value is the step's params_after (the
optimizer's real step: momentum, Adam, the penalty included).

A slice reads a Trace: the next step's proposal (the JSON API) or the step the inspector shows.
"""
import math
from dataclasses import dataclass

import numpy as np

from app.engine import LOSSES, MLP, FieldError, Trace
from app.engine.losses import Loss

DEFAULT_POINTS = 41
MIN_POINTS, MAX_POINTS = 2, 401
# The default range is centred between the current value and the updated one and spans STEP_SPANS times the step,
# but at least MIN_SPAN, so that a small step still shows the curve's shape around the weight.
STEP_SPANS = 3.0
MIN_SPAN = 1.0
# Multiply-adds one slice may take, whatever the network and batch (one point is a forward pass over the batch, about
# rows × parameters): 1e9 took 1.5 s on a 2-core machine, so this is under a second.
MAX_WORK = 500_000_000
# A stacked pass holds at most this many float64s a layer (8 MB); more points are evaluated in chunks.
CHUNK_VALUES = 1_000_000


def point_work(net: MLP, rows: int) -> int:
    """Multiply-adds of one point of a slice: a forward pass over `rows` rows, about rows × parameters."""
    return max(1, rows * net.n_params)


def most_points(net: MLP, rows: int, work: int | None = None) -> int:
    """The most points (and one more, the updated value) a slice over `rows` rows may take within `work`
    (default MAX_WORK)."""
    return min(MAX_POINTS, (MAX_WORK if work is None else work) // point_work(net, rows) - 1)


def losses_along(net: MLP, loss: Loss, x: np.ndarray, t: np.ndarray, params: np.ndarray, k: int,
                 values: np.ndarray) -> np.ndarray:
    """The batch-mean data loss of rows x against targets t under `params` with flat parameter k set to each of
    `values` in turn: what MLP.loss(loss, x, t, p) gives for each such p, bit for bit."""
    values = np.asarray(values, dtype=np.float64)
    out = np.empty(len(values))
    n = len(x)
    chunk = max(1, CHUNK_VALUES // (n * max(net.sizes)))
    for lo in range(0, len(values), chunk):
        part = values[lo:lo + chunk]
        stack = np.repeat(params[None, :], len(part), axis=0)
        stack[:, k] = part
        with np.errstate(all="ignore"):  # a weight far out may overflow; such a point is NaN or Inf, not an error
            z, a = net.outputs_under(x, stack)
            out[lo:lo + len(part)] = loss.value(a, np.tile(t, (len(part), 1)), z).reshape(len(part), n).mean(axis=1)
    return out


def default_values(current: float, after: float, points: int, reveal_step: bool = True) -> tuple[np.ndarray, int]:
    """`points` evenly spaced values, one of them exactly `current`, and that one's index.

    With `reveal_step` the range is centred between current and after and spans STEP_SPANS times the step (at least
    MIN_SPAN), so both are in view with a margin beyond each. Without it (the update not yet shown) it is MIN_SPAN
    centred on current, which tells nothing of the step."""
    if reveal_step:
        centre, span = (current + after) / 2, max(STEP_SPANS * abs(after - current), MIN_SPAN)
    else:
        centre, span = current, MIN_SPAN
    spacing = span / (points - 1)
    index = min(points - 1, max(0, round((current - (centre - span / 2)) / spacing)))
    return current + (np.arange(points) - index) * spacing, index


@dataclass
class LossSlice:
    """The loss along flat parameter k = weights[layer][to, source] for one step's batch.

    `loss[i]` is the batch loss at `values[i]`; `index` is where values holds `current` exactly (None when a given
    range leaves it out). `loss_after` is the batch loss with this weight at `after` and every other parameter as
    before the update (the other weights move too in the real step)."""

    layer: int
    to: int
    source: int
    k: int
    step: int
    rows: list[int]
    values: np.ndarray
    loss: np.ndarray
    index: int | None
    current: float
    loss_current: float
    slope: float
    after: float
    loss_after: float

    def as_dict(self) -> dict:
        """The JSON API's answer; a loss that is not finite is None."""
        return {"step": self.step, "rows": self.rows, "layer": self.layer, "to": self.to, "from": self.source,
                "values": self.values.tolist(), "loss": [v if math.isfinite(v) else None for v in self.loss.tolist()],
                "current": self.current, "current_index": self.index, "loss_current": _finite(self.loss_current),
                "slope": self.slope, "after": self.after, "loss_after": _finite(self.loss_after)}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _check_int(field: str, value, size: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < size:
        raise FieldError(field, f"{field} must be 0 to {size - 1}: {what}.")
    return int(value)


def weight_index(net: MLP, layer, to, source) -> tuple[int, int, int, int]:
    """(layer, to, from, flat index) of weights[layer][to, from], or a FieldError naming the bad one."""
    layer = _check_int("layer", layer, net.n_layers, f"this network has {net.n_layers} weight layer"
                                                     f"{'s' * (net.n_layers != 1)}")
    n_out, n_in = net.sizes[layer + 1], net.sizes[layer]
    to = _check_int("to", to, n_out, f"layer {layer + 1} has {n_out} node{'s' * (n_out != 1)}")
    source = _check_int("from", source, n_in, f"layer {layer} has {n_in} node{'s' * (n_in != 1)}")
    return layer, to, source, net.flat_index("weight", layer, to, source)


def check_points(net: MLP, rows: int, points, work: int | None = None) -> int:
    """The number of points to evaluate: `points`, or DEFAULT_POINTS when None, within MIN_POINTS..MAX_POINTS and
    within `work` for this network and batch; a FieldError naming points otherwise."""
    most = most_points(net, rows, work)
    if most < MIN_POINTS:
        raise FieldError("points", f"this network ({net.n_params} parameters) with a batch of {rows} rows is too "
                                   f"large for a loss slice: even {MIN_POINTS} points would be more than "
                                   f"{MAX_WORK if work is None else work:.2g} multiply-adds. Use a smaller batch_size.")
    if points is None:
        return min(DEFAULT_POINTS, most)
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or not MIN_POINTS <= points <= MAX_POINTS:
        raise FieldError("points", f"points must be {MIN_POINTS} to {MAX_POINTS}.")
    if points > most:
        raise FieldError("points", f"points is {points}, but this network ({net.n_params} parameters) with a batch "
                                   f"of {rows} rows allows at most {most} (each point is a forward pass over the "
                                   "batch).")
    return int(points)


def check_range(lo, hi) -> tuple[float, float] | None:
    """An explicit range (lo, hi), both or neither; a FieldError naming lo or hi otherwise."""
    if lo is None and hi is None:
        return None
    if lo is None or hi is None:
        missing = "lo" if lo is None else "hi"
        raise FieldError(missing, "give lo and hi together, or neither for the default range.")
    for name, v in (("lo", lo), ("hi", hi)):
        if not math.isfinite(v):
            raise FieldError(name, f"{name} must be a finite number.")
    if not lo < hi:
        raise FieldError("hi", f"hi must be greater than lo ({lo:g}).")
    return float(lo), float(hi)


def slice_of(trace: Trace, layer, to, source, points=None, lo=None, hi=None, reveal_step: bool = True,
             work: int | None = None) -> LossSlice:
    """The loss along weights[layer][to, source] over `trace`'s batch, every other parameter as before its update.

    `points` values evenly spaced over [lo, hi] when given, else the default range (default_values, one point
    exactly at the current value); and one more evaluation at the updated value (loss_after), in the same pass."""
    net = trace.net
    layer, to, source, k = weight_index(net, layer, to, source)
    x, t = trace.pass_.a[0], trace.targets
    points = check_points(net, len(x), points, work)
    given = check_range(lo, hi)
    current, after = float(trace.params_before[k]), float(trace.params_after[k])
    if given is None:
        values, index = default_values(current, after, points, reveal_step)
    else:
        values = np.linspace(given[0], given[1], points)
        hits = np.flatnonzero(values == current)
        index = int(hits[0]) if len(hits) else None
    losses = losses_along(net, LOSSES[trace.config.loss], x, t, trace.params_before, k, np.append(values, after))
    loss_current = (float(losses[index]) if index is not None
                    else float(losses_along(net, LOSSES[trace.config.loss], x, t, trace.params_before, k,
                                            np.array([current]))[0]))
    return LossSlice(layer=layer, to=to, source=source, k=k, step=trace.step, rows=[int(r) for r in trace.rows],
                     values=values, loss=losses[:-1], index=index, current=current, loss_current=loss_current,
                     slope=float(trace.pass_.grad[k]), after=after,
                     loss_after=float(losses[-1]))


def proposal_cost(net: MLP, rows: int, points: int | None) -> int:
    """Multiply-adds of a slice of the next step, its proposal included (about three passes over the batch), for
    the work budget; an out-of-range `points` is costed at the default (it is refused before any work)."""
    if points is None or not MIN_POINTS <= points <= MAX_POINTS:
        points = DEFAULT_POINTS
    return (points + 4) * point_work(net, rows)


def of_next_step(trainer, layer, to, source, points=None, lo=None, hi=None, work: int | None = None) -> LossSlice:
    """The slice of the step about to be taken (Trainer.propose): its batch, its gradient and its update, nothing
    applied. Bad arguments are refused before any work; a step that would diverge raises DivergenceError."""
    _, x, _ = trainer.next_batch()
    weight_index(trainer.net, layer, to, source)
    check_points(trainer.net, len(x), points, work)
    check_range(lo, hi)
    with np.errstate(all="ignore"):  # as Trainer.run: a diverging step is refused by its check, not by a warning
        proposal = trainer.propose()
    return slice_of(proposal.trace, layer, to, source, points, lo, hi, work=work)
