"""What the page keeps for a session besides its training state: whether Play runs, what the diagram shows
instead of the last step, the detailed step in progress, and a notice to say once."""
from dataclasses import dataclass, field

from app.core.detailed_step import DetailedStep
from app.core.session import Session
from app.views.shown import Shown


@dataclass
class ViewState:
    """The page's state of one session in this process. `display` and `step` were drawn from the session's
    state as it was at `drawn_at` (its `changes` count); once the state changes they are stale and dropped."""

    session: Session = field(repr=False)
    display: Shown | None = None  # a phase, a prediction or an edit's forward pass, instead of the last step
    step: DetailedStep = field(default_factory=DetailedStep)
    gradcheck_shown: bool = False  # the gradient check's panel is on the page
    notice: str | None = None  # said once, on the next page load (after opening a share link)
    drawn_at: int = 0

    @property
    def playing(self) -> bool:
        """Play is running: kept with the session in storage, so that any worker serves the next frame."""
        return self.session.page.get("playing", False)

    @playing.setter
    def playing(self, value: bool) -> None:
        if value:
            self.session.page["playing"] = True
        else:
            self.session.page.pop("playing", None)

    def show(self, display: Shown | None, step: DetailedStep | None = None) -> None:
        """Draw `display` (and keep `step`) from the session's current state."""
        self.display = display
        if step is not None:
            self.step = step
        self.drawn_at = self.session.changes

    def forget(self) -> None:
        """Back to showing the last step, with no detailed step in progress."""
        self.display, self.step = None, DetailedStep()
        self.drawn_at = self.session.changes


def view_of(session: Session) -> ViewState:
    """The session's view state, made on first use; what was drawn from an older state is forgotten."""
    view = session.view
    if view is None:
        view = session.view = ViewState(session, drawn_at=session.changes)
    elif view.drawn_at != session.changes:
        view.forget()
    return view
