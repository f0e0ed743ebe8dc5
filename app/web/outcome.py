"""What a page action did, as its route says it: an Outcome. The panel table (app/web/panel_table.py) turns it into
the panels an answer sends, so that a route names what happened and never which panels to draw.

An outcome is one change of the network or its training (`change`), what else the action touched (`topics`), and
what the answer says (a message or notice, errors beside their fields, a guess as typed). The constructors below
are the outcomes the routes have; each says in its name what happened.
"""
from dataclasses import dataclass, field
from functools import cached_property

# What an action changed, from nothing to a new network. `loaded` is the whole page (GET /, a lesson card).
CHANGES = frozenset({"looked", "stepped", "played", "phase_taken", "toggled", "refused", "moved", "edited",
                     "rebuilt", "configured", "loaded"})
# What else an action may touch, each with its own panel.
TOPICS = frozenset({"lesson", "exercise", "live", "shared", "gradcheck", "predict"})


@dataclass(frozen=True)
class Outcome:
    change: str
    # The loss points the action added (sent as an extension of the curve); None: the whole curve and the whole
    # output figure are drawn again (a new network, another step of the history, an edited weight, the page).
    points: tuple | list | None = ()
    topics: frozenset = frozenset()
    message: str | None = None  # an error, over the diagram
    notice: str | None = None  # news, over the diagram
    errors: dict = field(default_factory=dict)  # field name -> message, shown beside the field
    guess_typed: str = ""  # a refused guess, as typed, so that it can be corrected
    guess_saved: str | None = None
    gradcheck: dict | None = None  # the gradient check's report
    predicted: list | None = None  # the raw input Predict was given
    inspect: tuple | None = None  # (kind, layer, from, to): the inspector follows this edge or node from now on
    shared: dict | None = None  # the share link made ({"url", "step"})
    live_present: dict | None = None  # the presenter's live panel (app/web/live_render.py present)

    def __post_init__(self):
        if self.change not in CHANGES or not self.topics <= TOPICS:
            raise ValueError(f"no such outcome: {self.change} {sorted(self.topics)}")

    @cached_property
    def words(self) -> frozenset:
        """The change and the topics: what the panel table's rows are sent on."""
        return self.topics | {self.change}


# ---- the network and its training ----

def looked(**said) -> Outcome:
    """Nothing of the network or its training changed: a row picked, a worksheet, a guess, a refused request."""
    return Outcome("looked", **said)


def stepped(points: list, **said) -> Outcome:
    """Steps were trained (Step, Epoch, a Play frame) and the toolbar stays as it is."""
    return Outcome("stepped", points, **said)


def played(points: list = (), **said) -> Outcome:
    """Play started, paused or stopped (a stop condition, an error): the toolbar's Play button changes."""
    return Outcome("played", points, **said)


def phase_taken(points: list = (), **said) -> Outcome:
    """A detailed step's phase ran (or was refused): the Step button's label and the list of phases change."""
    return Outcome("phase_taken", points, **said)


def toggled(**said) -> Outcome:
    """A switch of the toolbar: Detailed step or the Matrix form."""
    return Outcome("toggled", **said)


def refused(**said) -> Outcome:
    """An action of the toolbar refused (a speed, Back, Redo, a rewind or a phase): nothing changed, and the
    toolbar is drawn again as it is, with the `message` that says why."""
    return Outcome("refused", **said)


def moved(**said) -> Outcome:
    """Back, Redo or a rewind: another step of the history, with its whole loss curve."""
    return Outcome("moved", None, **said)


def edited(target: tuple, **said) -> Outcome:
    """A weight or bias was set: the whole figure again, and the inspector on that parameter."""
    return Outcome("edited", None, inspect=target, **said)


def rebuilt(**said) -> Outcome:
    """A new network in place of the old one (Reset, New seed, new data, a new shape, an import, an exercise)."""
    return Outcome("rebuilt", None, **said)


def configured(**said) -> Outcome:
    """The settings changed without a new network (or were refused: `errors`), or what the settings carry did
    (the address bar's link, which the settings form holds)."""
    return Outcome("configured", **said)


def loaded(**said) -> Outcome:
    """The whole page."""
    return Outcome("loaded", None, **said)


# ---- what else an action touched ----

def inspected(target: tuple, **said) -> Outcome:
    """The inspector follows `target` from now on (an edit refused beside its form)."""
    return Outcome("looked", inspect=target, **said)


def lesson_changed(**said) -> Outcome:
    """The lesson card's answer was checked."""
    return Outcome("looked", topics=frozenset({"lesson"}), **said)


def exercise_changed(**said) -> Outcome:
    """The exercise's answer was checked."""
    return Outcome("looked", topics=frozenset({"exercise"}), **said)


def exercise_closed(**said) -> Outcome:
    """The exercise closed: its panel empties, and the address bar's link (the settings carry it) is the setup's."""
    return Outcome("configured", topics=frozenset({"exercise"}), **said)


def live_changed(present: dict | None, **said) -> Outcome:
    """The presenter's live room changed: started, asked, cancelled or stopped."""
    return Outcome("looked", topics=frozenset({"live"}), live_present=present, **said)


def revealed(points: list, present: dict | None) -> Outcome:
    """Reveal took the coming step (Play stops for it) and showed the class's answers."""
    return Outcome("played", points, frozenset({"live"}), live_present=present)


def shared(link: dict | None, **said) -> Outcome:
    """A share link was made (or an import refused: the share panel shows the error)."""
    return Outcome("looked", topics=frozenset({"shared"}), shared=link, **said)


def gradient_checked(report: dict) -> Outcome:
    return Outcome("looked", topics=frozenset({"gradcheck"}), gradcheck=report)


def predicted(raw: list | None, **said) -> Outcome:
    """Predict answered for `raw` (the whole output figure marks it), or refused the input (None, `errors`)."""
    return Outcome("looked", topics=frozenset({"predict"}), predicted=raw, **said)
