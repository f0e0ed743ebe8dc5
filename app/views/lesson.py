"""The lesson panel over the playground: the card's words, its task and status, and the way through the lesson."""
from app.core.session import Session
from app.lessons import LESSONS, card_of
from app.lessons import progress


def panel(session: Session) -> dict | None:
    """The open card (the session's page state names it), its task checked against the current state."""
    card_key = progress.current(session)
    found = card_of(*card_key.split("/", 1)) if card_key and "/" in card_key else None
    if found is None:
        return None
    lesson, index = found
    progress.check_do(session, lesson, index)
    card = lesson.cards[index]
    state = progress.seen(session, card_key)
    keys = [progress.key(lesson, k) for k in range(len(lesson.cards))]
    lesson_index = LESSONS.index(lesson)
    following = None
    if index + 1 < len(lesson.cards):
        following = {"url": url(lesson.slug, lesson.cards[index + 1].slug), "text": lesson.cards[index + 1].title}
    elif lesson_index + 1 < len(LESSONS):
        nxt = LESSONS[lesson_index + 1]
        following = {"url": url(nxt.slug, nxt.cards[0].slug), "text": f"Lesson {lesson_index + 2}: {nxt.title}"}
    return {
        "lesson": lesson.slug, "lesson_title": f"Lesson {lesson_index + 1}: {lesson.title}",
        "card": card.slug, "title": card.title, "text": card.text, "number": index + 1, "count": len(lesson.cards),
        "task": {"kind": card.task.kind, "prompt": card.task.prompt,
                 "options": getattr(card.task, "options", ()), "unit": getattr(card.task, "unit", "")},
        "status": "done" if progress.done(session, card_key) else "open",
        "answer": state.get("answer"), "result": state.get("result"),
        "dots": [{"url": url(lesson.slug, c.slug), "title": c.title, "done": progress.done(session, k),
                  "current": k == card_key} for c, k in zip(lesson.cards, keys)],
        "previous": url(lesson.slug, lesson.cards[index - 1].slug) if index else None,
        "next": following,
    }


def url(lesson: str, card: str) -> str:
    return f"/lessons/{lesson}/{card}"


def listing(session: Session | None) -> dict:
    """Every lesson and its cards with the learner's progress: each card done or not, each lesson's count and the
    whole count, the card the learner has open, and the first card not yet done (where to go on)."""
    done = session.page.lesson.progress if session is not None else {}
    open_key = progress.current(session) if session is not None else None
    lessons = []
    for n, lesson in enumerate(LESSONS, start=1):
        cards = [{"url": url(lesson.slug, c.slug), "title": c.title, "number": k,
                  "done": f"{lesson.slug}/{c.slug}" in done, "open": f"{lesson.slug}/{c.slug}" == open_key}
                 for k, c in enumerate(lesson.cards, start=1)]
        lessons.append({"number": n, "slug": lesson.slug, "title": lesson.title, "summary": lesson.summary,
                        "cards": cards, "done": sum(c["done"] for c in cards)})
    every = [dict(c, lesson=f"Lesson {l['number']}: {l['title']}") for l in lessons for c in l["cards"]]
    count = sum(c["done"] for c in every)
    ahead = next((c for c in every if c["open"] and not c["done"]), None) or next((c for c in every if not c["done"]),
                                                                                   None)
    return {"lessons": lessons, "done": count, "total": len(every), "next": ahead,
            "progress": (f"{count} of {len(every)} cards done" if count else
                         f"{len(every)} cards in {len(lessons)} lessons; none done yet")}
