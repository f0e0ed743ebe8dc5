"""The page's state of a session, stored with it: Play and its settings, the Matrix form toggle, the batch row the
diagram shows, an exercise and its tally, the learner's lessons, and the live room the session presents or came from.

Storage keeps it as one JSON value (`to_dict` / `from_dict`): what is at its default is left out, and the keys are
those the records have always had, so that every record stored before this class loads and saves back unchanged.
"""
from copy import deepcopy
from dataclasses import dataclass, field

from app.core.options import BY_FIELD, page_options

# Play's settings, by their names in the options table (app/core/options.py, `page.speed` -> "speed"): each is a
# field of Transport, whose default the table gives.
SETTINGS = tuple(option.name for option in page_options())


def _default(name: str):
    return BY_FIELD[f"page.{name}"].default


@dataclass
class Transport:
    """Play: whether it runs, how much each frame trains (app/core/options.py SPEEDS) and when it stops by itself.
    Kept with the session so that any worker serves the next frame."""

    playing: bool | int = False  # falsy, or the run's number (a new one each Play: app/web/view_state.py)
    speed: str = _default("speed")
    stop_loss: float | None = _default("stop_loss")  # Play stops at the first step whose train loss is below this
    stop_step: int | None = _default("stop_step")  # Play stops at this step

    def settings(self) -> dict:
        """Play's settings by their names in the options table, every one (defaults too), as Session.config()
        gives the training settings: what the settings form and the setup links read."""
        return {name: getattr(self, name) for name in SETTINGS}

    def set(self, **settings) -> None:
        """Set Play's settings by their names in the options table (a link's or the settings form's values);
        None turns one back to its default (off, for a stop condition). A name the table does not declare is a
        TypeError, as a wrong keyword argument is."""
        for name, value in settings.items():
            if name not in SETTINGS:
                raise TypeError(f"{name!r} is not one of Play's settings ({', '.join(SETTINGS)})")
            setattr(self, name, _default(name) if value is None else value)


@dataclass
class ExerciseState:
    """An open exercise (app/core/exercise.py): its seed, the answer last typed and its mark."""

    seed: int
    typed: str = ""
    # exercise.check's mark ({"correct", "expected", "reason"}) and whether it counted in the tally ("counted").
    result: dict | None = None


@dataclass
class Tally:
    """The exercises answered right, of those tried (a first checked answer counts as tried)."""

    right: int = 0
    tried: int = 0


@dataclass
class LessonState:
    """The learner's lessons (app/lessons/progress.py works on it): cards are named "lesson/card"."""

    progress: dict[str, str] = field(default_factory=dict)  # card -> "done"
    # card -> what its task has seen: a Do task's own notes (that the loss diverged once), a Number or Choose
    # card's answer and its result.
    seen: dict[str, dict] = field(default_factory=dict)
    current: str | None = None  # the card open over the playground
    setup: str | None = None  # the card whose setup the session's network was built from

    def to_dict(self) -> dict:
        out = {}
        if self.progress:
            out[PROGRESS] = self.progress
        if self.seen:
            out[SEEN] = self.seen
        if self.current is not None:
            out[CURRENT] = self.current
        if self.setup is not None:
            out[SETUP] = self.setup
        return out

    @classmethod
    def from_dict(cls, page: dict) -> "LessonState":
        return cls(page.get(PROGRESS, {}), page.get(SEEN, {}), page.get(CURRENT), page.get(SETUP))


@dataclass
class LiveLink:
    """The live room this session presents (app/live): its join code."""

    code: str


# The stored keys of the lessons' parts, in the order a share has always written them.
PROGRESS, SEEN, CURRENT, SETUP = "lessons", "lesson_state", "lesson_card", "lesson_setup"
# Every key a record holds, in the order to_dict writes them: the order a session usually gains them in.
KEYS = (PROGRESS, SEEN, CURRENT, SETUP, "focus_row", "exercise", "tally", *SETTINGS, "matrix_form", "live", "playing",
        "live_from")


@dataclass
class PageState:
    """The page's state of a session that storage keeps with it (what lives in one process only is
    app/web/view_state.py ViewState)."""

    transport: Transport = field(default_factory=Transport)
    matrix_form: bool = False  # the Matrix form panel is open; only then is it drawn
    # The batch row the diagram's nodes, the narration, the worksheet and the questions are about: a position in
    # the batch (0 the first), so that a live room's followers see the presenter's.
    focus_row: int = 0
    exercise: ExerciseState | None = None
    tally: Tally | None = None  # made by the first checked exercise; it stays when the exercise closes
    lesson: LessonState = field(default_factory=LessonState)
    live: LiveLink | None = None
    live_from: str | None = None  # the live room a follower's copy was taken from
    # Keys this version does not know (a newer version wrote them), kept as they were so that a save keeps them.
    other: dict = field(default_factory=dict)

    @property
    def live_code(self) -> str | None:
        """The join code of the room this session presents, or None."""
        return self.live.code if self.live is not None else None

    def to_dict(self) -> dict:
        """The JSON value storage keeps: a part at its default is left out."""
        t = self.transport
        parts = {
            **self.lesson.to_dict(),
            "focus_row": self.focus_row or None,
            "exercise": self.exercise and {"seed": self.exercise.seed, "typed": self.exercise.typed,
                                           "result": self.exercise.result},
            "tally": self.tally and {"right": self.tally.right, "tried": self.tally.tried},
            **{name: value for name, value in t.settings().items() if value != _default(name)},
            "matrix_form": self.matrix_form or None,
            "live": self.live and {"code": self.live.code},
            "playing": t.playing or None,
            "live_from": self.live_from,
        }
        out = {key: parts[key] for key in KEYS if parts.get(key) is not None}
        return {**out, **self.other}

    @classmethod
    def from_dict(cls, page: dict) -> "PageState":
        """The page state a record holds, stored by this version or any before it: a missing key is at its
        default."""
        exercise, tally, live = page.get("exercise"), page.get("tally"), page.get("live")
        return cls(
            transport=Transport(page.get("playing", False),
                                **{name: page.get(name, _default(name)) for name in SETTINGS}),
            matrix_form=page.get("matrix_form", False),
            focus_row=page.get("focus_row", 0),
            exercise=None if exercise is None else ExerciseState(exercise["seed"], exercise.get("typed", ""),
                                                                 exercise.get("result")),
            tally=None if tally is None else Tally(tally.get("right", 0), tally.get("tried", 0)),
            lesson=LessonState.from_dict(page),
            live=LiveLink(live["code"]) if live and live.get("code") else None,
            live_from=page.get("live_from"),
            other={key: value for key, value in page.items() if key not in KEYS},
        )

    def shared(self) -> dict:
        """What a share carries of it (to_dict's form): the learner's lessons, which a fork goes on with; not Play,
        the exercise, the row shown or a live room."""
        return self.lesson.to_dict()

    def copy(self) -> "PageState":
        """A copy that shares nothing with this one."""
        return deepcopy(self)
