"""The detailed step: one training step taken a phase per click, as the seeds' worked examples take it.

Forward, then the loss, then backward one weight layer at a time from the output, then the update. Until the
update nothing is applied: the phases show the engine's proposal for the next step, and the update is the
ordinary step, so its numbers are bit for bit the same.
"""
from dataclasses import dataclass

from app.engine import Trace

from .session import Session

PHASES = ("forward", "loss", "backward", "update")


@dataclass(frozen=True)
class DetailedStep:
    """The phase just shown (None: none yet, so the next click starts a step), the trace it shows (a proposal
    before `update`) and, while going backward, the weight layer whose deltas have arrived."""

    phase: str | None = None
    trace: Trace | None = None
    layer: int | None = None

    def computed(self, weight_layer: int) -> dict[str, bool]:
        """What the phases so far have computed for weight layer `weight_layer` (its weights, and the biases and
        deltas of the nodes it feeds): the deltas and gradients arrive going backward, the update last. Outside a
        detailed step everything has been."""
        if self.phase is None or self.phase == "update":
            return {"backward": True, "updated": True}
        backward = self.phase == "backward" and weight_layer >= self.layer
        return {"backward": backward, "updated": False}

    def following(self, weight_layers: int) -> tuple[str, int | None]:
        """The phase the next click shows, with its weight layer when it goes backward."""
        if self.phase in (None, "update"):
            return "forward", None
        if self.phase == "forward":
            return "loss", None
        if self.phase == "loss":
            return "backward", weight_layers - 1
        if self.layer > 0:
            return "backward", self.layer - 1
        return "update", None

    def next_click(self, weight_layers: int) -> tuple[str, str]:
        """The next click's phase and name: Forward, Loss, Backward (output) or Backward (hidden k), or Update."""
        phase, layer = self.following(weight_layers)
        if phase == "backward":
            return phase, f"Backward ({'output' if layer == weight_layers - 1 else f'hidden {layer + 1}'})"
        return phase, phase.capitalize()

    def advance(self, session: Session) -> tuple["DetailedStep", list[tuple]]:
        """The next phase, and the loss-curve points it added (only the update adds one). The caller holds the
        lock. Raises DivergenceError when the proposal or the update would diverge, FieldError over a cap."""
        phase, layer = self.following(session.trainer.net.n_layers)
        if phase == "forward":
            return DetailedStep("forward", session.trainer.propose().trace), []
        if phase == "update":
            points = session.train(1)  # the step just shown: nothing changed since, or it was cancelled
            return DetailedStep("update", session.last_trace), points
        return DetailedStep(phase, self.trace, layer), []
