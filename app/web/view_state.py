"""What the page keeps for a session besides its training state: whether Play runs, what the diagram shows
instead of the last step, the detailed step in progress, and a notice to say once."""
import math
import secrets
from dataclasses import dataclass, field

from app.core.detailed_step import DetailedStep
from app.core.options import AUTO_STEPS
from app.core.session import Session
from app.views.shown import Shown


@dataclass
class ViewState:
    """The page's state of one session in this process.

    What the diagram shows (`display`) and the detailed step in progress (`step`) were drawn from the session's
    state as it was at `drawn_at` (its `changes` count). Once the state changes they are stale and read as
    nothing; should the change be undone (a rebuild whose page could not be drawn), they are current again.
    """

    session: Session = field(repr=False)
    drawn: Shown | None = None
    drawn_step: DetailedStep = field(default_factory=DetailedStep)
    drawn_at: int = 0
    gradcheck_shown: bool = False  # the gradient check's panel is on the page
    # The edge or node the inspector follows, as (kind, layer, from, to); app/web/render.py inspector_for.
    selected: tuple | None = None
    notice: str | None = None  # said once, on the next page load (after opening a share link)
    # The raw input last typed into Predict or clicked on the output plot: the Predict panel answers for it with the
    # current weights, and the output plot marks it, until another data set's inputs no longer fit it.
    predicted: list[float] | None = None
    # The "Check my calculation" worksheet, while open: its target (the inspector's), row, typed values, hint
    # levels, and the step those are about (app/web/practice.py).
    worksheet: dict | None = None
    # Predict, then reveal: the guesses made during detailed steps, {step, kind, layer, node | edge, value, sign}
    # (app/views/guess.py); only the step in progress and the one just shown are kept.
    guesses: list = field(default_factory=list)

    @property
    def current(self) -> bool:
        return self.drawn_at == self.session.changes

    @property
    def display(self) -> Shown | None:
        """A phase, a prediction or an edit's forward pass, shown instead of the last step."""
        return self.drawn if self.current else None

    @property
    def step(self) -> DetailedStep:
        return self.drawn_step if self.current else DetailedStep()

    # What the page keeps with the session (app/core/page_state.py), as the routes read and set it.

    @property
    def playing(self) -> bool | int:
        """Play is running: the run's number (true), or false."""
        return self.session.page.transport.playing

    @playing.setter
    def playing(self, value: bool) -> None:
        self.session.page.transport.playing = value

    def start_playing(self) -> None:
        """Play starts a new run, with a number of its own: a stream of an earlier run (its page paused and pressed
        Play again) then knows it is not this one's, and ends without stopping it (app/web/play_stream.py)."""
        self.session.page.transport.playing = secrets.randbelow(2**31) + 1

    @property
    def speed(self) -> str:
        """How much each Play frame trains (app/core/options.py SPEEDS)."""
        return self.session.page.transport.speed

    @speed.setter
    def speed(self, value: str) -> None:
        self.session.page.transport.speed = value

    @property
    def matrix_form(self) -> bool:
        """The Matrix form panel is open (its toggle). Only then is it drawn."""
        return self.session.page.matrix_form

    @matrix_form.setter
    def matrix_form(self, on: bool) -> None:
        self.session.page.matrix_form = on

    @property
    def focus_row(self) -> int:
        """The batch row the diagram's nodes, the narration, the worksheet and the questions are about."""
        return self.session.page.focus_row

    @focus_row.setter
    def focus_row(self, row: int) -> None:
        self.session.page.focus_row = row

    @property
    def stop_loss(self) -> float | None:
        """Play stops at the first step whose train loss is below this (None: never)."""
        return self.session.page.transport.stop_loss

    @property
    def stop_step(self) -> int | None:
        """Play stops at this step (None: never)."""
        return self.session.page.transport.stop_step

    @property
    def steps_per_epoch(self) -> int:
        """Mini-batches in one pass over the training rows (the last may be short)."""
        trainer = self.session.trainer
        return math.ceil(len(trainer.train_x) / trainer.batch_size)

    def frame_epochs(self, speed: str | None = None) -> int | None:
        """The whole epochs one Play frame trains at this speed (or `speed`), None for a speed in steps: "auto"
        takes as many as make AUTO_STEPS steps (at least one), so that a small data set trains more epochs a frame
        than a large one."""
        speed = self.speed if speed is None else speed
        if speed.isdigit():
            return None
        if speed == "auto":
            return max(1, math.ceil(AUTO_STEPS / self.steps_per_epoch))
        return 1 if speed == "epoch" else int(speed.split("-")[0])

    def frame_steps(self) -> int:
        """The steps one Play frame runs at this speed: a number of steps, or whole epochs' worth; never past the
        stop step."""
        trainer, epochs = self.session.trainer, self.frame_epochs()
        if epochs is None:
            steps = int(self.speed)
        else:
            steps = self.steps_per_epoch * epochs
        if self.stop_step is not None:
            steps = min(steps, max(0, self.stop_step - trainer.step_count))
        return steps

    def stop_reason(self, points: list[tuple]) -> str | None:
        """Why Play stops after a frame that added `points` (or before one, with none), in words; None: it goes on."""
        if self.stop_loss is not None:
            below = next((p for p in points if p[1] < self.stop_loss), None)
            if below is not None:
                return (f"Play stopped: the train loss {below[1]:.3g} fell below {self.stop_loss:g} at step "
                        f"{below[0]}.")
            if not points and self.session.current_losses()[0] < self.stop_loss:
                return (f"Play stopped: the train loss {self.session.current_losses()[0]:.3g} is already below "
                        f"{self.stop_loss:g}. Lower or clear “Stop when train loss <” to train on.")
        if self.stop_step is not None and self.session.trainer.step_count >= self.stop_step:
            if points:
                return f"Play stopped at step {self.stop_step}, as set."
            return (f"Play stopped: this is step {self.session.trainer.step_count}, and Play was set to stop at "
                    f"step {self.stop_step}. Raise or clear “Stop at step” to train on.")
        return None

    def show(self, display: Shown | None, step: DetailedStep | None = None) -> None:
        """Draw `display` (and keep `step`, else the step in progress) from the session's current state."""
        self.drawn, self.drawn_step = display, self.step if step is None else step
        self.drawn_at = self.session.changes

    def forget(self) -> None:
        """Back to showing the last step, with no detailed step in progress."""
        self.drawn, self.drawn_step = None, DetailedStep()
        self.drawn_at = self.session.changes


def view_of(session: Session) -> ViewState:
    """The session's view state, made on first use."""
    if session.view is None:
        session.view = ViewState(session, drawn_at=session.changes)
    return session.view
