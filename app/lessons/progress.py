"""A learner's progress, kept in the session's page state: which cards are done, and what Do tasks have seen."""
from app.core.session import Session
from app.core.marking import mark

from .model import Card, Lesson


def key(lesson: Lesson, index: int) -> str:
    return f"{lesson.slug}/{lesson.cards[index].slug}"


def done(session: Session, card_key: str) -> bool:
    return card_key in session.page.lesson.progress


def mark_done(session: Session, card_key: str) -> None:
    session.page.lesson.progress[card_key] = "done"


def seen(session: Session, card_key: str) -> dict:
    """What the card's task has seen so far: its own notes, kept with the session (made on first use)."""
    return session.page.lesson.seen.setdefault(card_key, {})


def current(session: Session) -> str | None:
    return session.page.lesson.current


def check_do(session: Session, lesson: Lesson, index: int) -> None:
    """A Do task is checked against the session's state after every action; once done it stays done."""
    card = lesson.cards[index]
    k = key(lesson, index)
    if card.task.kind == "do" and not done(session, k) and card.task.check(session, seen(session, k)):
        mark_done(session, k)


def check_answer(card: Card, lesson: Lesson, index: int, typed: str) -> dict:
    """Mark a Number or Choose answer against the engine's value for the card's setup, freshly built."""
    setup, _ = lesson.setup_of(index)
    task = card.task
    if task.kind == "answer":
        m = mark(typed, task.value(setup.build()))
        return {"correct": m.correct, "reason": m.reason}
    return {"correct": typed == task.answer(setup.build()), "reason": None if typed in task.options else
            "pick one of the options"}
