"""How many steps a Play stream's frame trains (app/web/play_stream.py).

At the "auto" speed a frame trains its whole epochs (app/web/view_state.py), fewer where the server's whole frame
would not fit in its share of the display's frame (SERVER_SHARE of FRAME_SECONDS: the page draws in the rest, on the
same machine or on a busy server's neighbours' time); what the training and the rest of a frame take is learned from
the frames before (`Pace`). The other speeds train their steps.
"""
from dataclasses import dataclass

from app.core.session import Session

from .training import frame_steps
from .view_state import view_of

FRAME_SECONDS = 1 / 60  # the display's frame
SERVER_SHARE = 0.5  # of it, for all the server does for an "auto" frame: lookup, lock, training, picture, save


@dataclass
class Pace:
    """How long a step and the rest of a frame take here, learned from the frames before (each an average that
    follows the last frames), and so how many steps fit in the server's share of a display frame."""

    step: float = 0.0  # seconds a step
    rest: float = 0.0  # seconds for the rest of a frame: the session's lookup and lock, the picture, the save

    def learn(self, steps: int, trained: float, rest: float) -> None:
        if steps:
            self.step = trained / steps if not self.step else 0.7 * self.step + 0.3 * trained / steps
        self.rest = rest if not self.rest else 0.7 * self.rest + 0.3 * rest

    def steps(self, most: int) -> int:
        """Steps that fit in what the rest of a frame leaves of the server's share, at least one and at most
        `most`."""
        if not self.step:
            return min(most, 1)
        return max(1, min(most, int((FRAME_SECONDS * SERVER_SHARE - self.rest) / self.step)))


def stream_steps(session: Session, pace: Pace) -> int:
    """The next frame's steps: the speed's; at "auto" its whole epochs, fewer (one at least) where the frame would
    not fit in the server's share of a display frame. Never past the stop step."""
    view = view_of(session)
    steps = frame_steps(session)
    if view.speed != "auto" or not steps:
        return steps
    per_epoch = view.steps_per_epoch
    return min(steps, per_epoch * max(1, pace.steps(steps) // per_epoch))
