"""Going back and forth in a session: its rewind points, the steps a rewind undid (redo), and the networks that
rebuilds replaced (Back past the first kept step).

`Rewinding` holds the methods; `Session` (app/core/session.py) holds the state they use: `trainer`, the loss curve
(`history`, `future`, `history_generation`), the rewind points (`snapshots`), the replaced networks (`replaced`),
`last_trace` and `changes`. The caps on what is kept (rewind_steps, rewind_bytes) are the settings'.
"""
import bisect
from collections import OrderedDict
from collections.abc import Callable

from app.engine import FieldError
from app.settings import get_settings

# Back after a rebuild (Reset, New seed, a setting that starts a new network) returns to the network it replaced:
# the last MAX_REPLACED of them are kept, and (the newest always) only while their rewind points together take
# at most the settings' rewind_bytes.
MAX_REPLACED = 5


class Rewinding:
    """Rewind, Back, Redo and rebuilds of a Session (its base class: the state is the Session's fields)."""

    def keep_rewind_point(self) -> dict:
        """Keep the current state as the rewind point of the current step (replacing an older one); return it.

        At most rewind_steps points, and at most rewind_bytes of them: a large network keeps fewer.
        """
        step = self.trainer.step_count
        state = self.trainer.state_dict()
        self.snapshots.pop(step, None)
        self.snapshots[step] = state
        if next(reversed(self.snapshots)) != step:  # kept while later steps can still be returned to
            self.snapshots = OrderedDict(sorted(self.snapshots.items()))
        settings = get_settings()
        keep = max(1, min(settings.rewind_steps, settings.rewind_bytes // max(point_size(state), 1)))
        while len(self.snapshots) > keep:
            self.snapshots.popitem(last=False)
        return state

    @property
    def kept_steps(self) -> tuple[int, int]:
        """The oldest and newest step that rewind can return to (the newest may be after the current step)."""
        return next(iter(self.snapshots)), next(reversed(self.snapshots))

    @property
    def redo_steps(self) -> tuple[int, int] | None:
        """The first and last kept step after the current one (undone by a rewind or Back), or None."""
        later = [k for k in self.snapshots if k > self.trainer.step_count]
        return (later[0], later[-1]) if later else None

    def rewind(self, step: int) -> None:
        """Return exactly to the state after `step`, earlier or later than now: weights, optimizer state, batch
        position, loss curve. The steps after it stay kept (an undo, not a truncation) until a new step, an edit
        or a rebuild. Settings stay as they are now. The caller holds the lock."""
        if step not in self.snapshots:
            oldest, newest = self.kept_steps
            raise FieldError("step", f"step {step} is not kept; rewind reaches steps {oldest} to {newest}.")
        self.trainer.load_state_dict(self.snapshots[step])
        points = self.history + self.future
        cut = bisect.bisect_right(points, step, key=lambda point: point[0])
        self.history, self.future = points[:cut], points[cut:]
        self.history_generation += 1
        self.last_trace = None
        self.changes += 1

    def back(self) -> "Replaced | None":
        """Undo one step (to the newest kept step before the current one). At the first kept step, undo the last
        rebuild instead, and return what it was (None after an undone step)."""
        earlier = [k for k in self.snapshots if k < self.trainer.step_count]
        if earlier:
            self.rewind(earlier[-1])
            return None
        if not self.replaced:
            raise FieldError("step", "there is no earlier step to go back to.")
        last = self.replaced[-1]
        rest = self.replaced[:-1]
        self.become(last.state())
        self.replaced = rest
        return last

    def forward(self) -> None:
        """Redo one step that a rewind or Back undid (to the next kept step after the current one)."""
        later = self.redo_steps
        if later is None:
            raise FieldError("step", "there is no later step to go forward to: a new step or edit discards the "
                                     "steps that were undone.")
        self.rewind(later[0])

    def discard_future(self) -> None:
        """Forget the steps after the current one: what changes the weights starts a new future."""
        step = self.trainer.step_count
        if self.future or next(reversed(self.snapshots)) > step:
            self.future = []
            self.snapshots = OrderedDict((k, v) for k, v in self.snapshots.items() if k <= step)

    def become(self, fresh, replacing: str | None = None) -> Callable[[], None]:
        """Take over a fresh build's data, network, curve and rewind points, keeping this object, its id and its
        lock, so that requests already waiting on the lock train the new network. The caller holds the lock.

        A rebuild names itself in `replacing` ("Reset"): the state it replaces is kept for Back (see
        MAX_REPLACED). Without it, `fresh`'s own replaced networks come too (a newer copy from storage).
        Returns a function that undoes it, for a request that fails after the change."""
        before = (self.request, self.dataset, self.trainer, self.history, self.history_generation, self.future,
                  self.snapshots, self.replaced, self.last_trace, self.changes)

        def undo() -> None:
            (self.request, self.dataset, self.trainer, self.history, self.history_generation, self.future,
             self.snapshots, self.replaced, self.last_trace, self.changes) = before

        if replacing is None:
            self.replaced = fresh.replaced
        else:
            kept = type(self)(self.id, self.request, self.dataset, self.trainer, history=self.history,
                              future=self.future, snapshots=self.snapshots)
            number = self.replaced[-1].number + 1 if self.replaced else 1
            self.replaced = bounded([*self.replaced, Replaced(replacing, number, kept)])
        self.request, self.dataset, self.trainer = fresh.request, fresh.dataset, fresh.trainer
        self.history, self.future, self.snapshots, self.last_trace = fresh.history, fresh.future, fresh.snapshots, None
        self.changes += 1
        return undo


class Replaced:
    """A network that a rebuild replaced, kept exactly as it was so that Back can return to it: its request, data,
    trainer, loss curve, rewind points and steps to redo (a Session). Storage may hand over a function that loads
    it instead, with its size."""

    def __init__(self, what: str, number: int, state, size: int | None = None):
        self.what = what  # the rebuild that replaced it, in words ("Reset")
        self.number = number  # counts the session's kept rebuilds up from 1; storage keys it by this
        self._state = state
        # Bytes of its rewind points, which bound how many replaced networks are kept.
        self.size = sum(point_size(s) for s in state.snapshots.values()) if size is None else size

    def state(self):
        """The Session it was (loaded now if storage handed over a function)."""
        if callable(self._state):
            self._state = self._state()
        return self._state

    def __repr__(self) -> str:
        return f"Replaced by {self.what} ({self.size} bytes of rewind points)"


def bounded(replaced: list[Replaced]) -> list[Replaced]:
    """The newest MAX_REPLACED replaced networks, fewer when their rewind points would take more than
    rewind_bytes (the newest is always kept)."""
    kept, size = [], 0
    for r in reversed(replaced[-MAX_REPLACED:]):
        size += r.size
        if kept and size > get_settings().rewind_bytes:
            break
        kept.append(r)
    return kept[::-1]


def point_size(state: dict) -> int:
    """The memory a trainer state (a rewind point) takes: its parameters and optimizer arrays."""
    return state["params"].nbytes + sum(v.nbytes for v in state["optimizer"].values() if hasattr(v, "nbytes"))
