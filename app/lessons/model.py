"""What a lesson is: cards, each with a few sentences, a setup, and one task the playground checks.

Kinds of task:
  Do       checked from the session's state after every action (run the phases, make the loss fall below a value…)
  Number   a number the learner works out, checked like the worksheet (app/core/worksheet.py mark)
  Choose   one of a few options; the right one is computed from the engine
A task is done only when the playground has checked it. Progress lives in the session's page state
(app/core/page_state.py LessonState): the done cards, and what each card's task has seen so far (e.g. that the loss
diverged once).
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from app.core.recipe import CreateSession
from app.core.session import Session, build_session


@dataclass(frozen=True)
class Do:
    prompt: str
    # check(session, seen) -> done; `seen` is this card's own dict, to remember what happened before.
    check: Callable[[Session, dict], bool]
    kind: str = "do"


@dataclass(frozen=True)
class Number:
    prompt: str
    # The right value, computed by the engine for the card's setup as it opens (a fresh build of it).
    value: Callable[[Session], float]
    unit: str = ""
    kind: str = "answer"


@dataclass(frozen=True)
class Choose:
    prompt: str
    options: tuple[str, ...]
    # The right option, computed by the engine for the card's setup as it opens.
    answer: Callable[[Session], str]
    kind: str = "choose"


@dataclass(frozen=True)
class Setup:
    """What a card starts from: a recipe (and detailed mode). None on a card: it continues the card before."""

    config: dict
    detailed: bool = False

    def request(self) -> CreateSession:
        return CreateSession(**self.config)

    def build(self, session_id: str | None = None) -> Session:
        session = build_session(self.request(), session_id)
        session.detailed = self.detailed
        return session


@dataclass(frozen=True)
class Card:
    slug: str
    title: str
    text: tuple[str, ...]  # paragraphs
    task: Do | Number | Choose
    setup: Setup | None = None


@dataclass(frozen=True)
class Lesson:
    slug: str
    title: str
    summary: str
    cards: tuple[Card, ...] = field(default_factory=tuple)

    def setup_of(self, index: int) -> tuple[Setup, int]:
        """The setup card `index` works on: its own, or the nearest earlier card's, and that card's index."""
        for k in range(index, -1, -1):
            if self.cards[k].setup is not None:
                return self.cards[k].setup, k
        raise ValueError(f"lesson {self.slug} has no setup before card {index}")
