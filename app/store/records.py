"""A session as bytes and back: the recipe that rebuilds its data and network, the trainer's state, the loss
curve (with the points of steps to redo) and the rewind points. The dataset is never stored; the recipe rebuilds
it exactly.

The networks rebuilds replaced (Session.replaced) are stored with the rewind points, under negative keys: -1 for
the first, -2 for the second. Each is a short JSON head (what replaced it, its size), a newline, then the body,
which is only read when Back returns to it.
"""
import time
from collections import OrderedDict

from app.core.page_state import PageState
from app.core.recipe import stored_recipe
from app.core.history import Replaced
from app.core.session import Session, build_session

from .codec import array_points, pack, points_array, unpack


def recipe_bytes(session: Session) -> bytes:
    return session.request.model_dump_json().encode()


def state_bytes(session: Session) -> bytes:
    return pack({"trainer": session.trainer.state_dict(), "detailed": session.detailed, "page": session.page.to_dict(),
                 "future": points_array(session.future)})


def kept(session: Session) -> dict[int, object]:
    """What is stored beside the session, by key: rewind points by step, replaced networks by -number."""
    return {**session.snapshots, **{-r.number: r for r in session.replaced}}


def kept_bytes(key: int, value) -> bytes:
    return replaced_bytes(value) if key < 0 else pack(value)


def replaced_bytes(replaced: Replaced) -> bytes:
    s = replaced.state()
    body = {"recipe": s.request.model_dump_json(), "trainer": s.trainer.state_dict(),
            "history": points_array(s.history), "future": points_array(s.future), "rewind": list(s.snapshots.items())}
    return pack({"what": replaced.what, "size": replaced.size}) + b"\n" + pack(body)


def restore_replaced(sid: str, number: int, data: bytes) -> Replaced:
    head, body = bytes(data).split(b"\n", 1)
    head = unpack(head)

    def load() -> Session:
        record = unpack(body)
        session = build_session(stored_recipe(record["recipe"]), sid)
        session.trainer.load_state_dict(record["trainer"])
        session.history, session.future = array_points(record["history"]), array_points(record["future"])
        session.snapshots = OrderedDict((int(step), state) for step, state in record["rewind"])
        return session

    return Replaced(head["what"], number, load, head["size"])


def restore(sid: str, recipe: bytes | str, state: bytes | dict, history: list[tuple],
            rewind: dict[int, bytes] | None = None) -> Session:
    """Rebuild a session from its recipe, then put back the trainer's state, loss curve and rewind points."""
    session = build_session(stored_recipe(recipe), sid)
    state = unpack(state) if isinstance(state, (bytes, str)) else state
    session.trainer.load_state_dict(state["trainer"])
    session.detailed = state.get("detailed", False)
    # Sessions stored before the page kept its own state stored only whether Play was running.
    session.page = PageState.from_dict(state["page"] if "page" in state else
                                      {"playing": True} if state.get("playing") else {})
    session.history = history or [(session.trainer.step_count, *session.evaluate())]
    # Sessions stored before steps could be redone have no future.
    session.future = array_points(state["future"]) if "future" in state else []
    rewind = rewind or {}
    session.snapshots = OrderedDict((step, unpack(data)) for step, data in sorted(rewind.items()) if step >= 0)
    session.replaced = [restore_replaced(sid, -key, data) for key, data in sorted(rewind.items(), reverse=True)
                        if key < 0]
    if session.trainer.step_count not in session.snapshots:
        session.keep_rewind_point()
    return session


def snapshot_bytes(session: Session, with_page: bool = False) -> bytes:
    """An immutable share: everything restore() needs except rewind points, which a fork starts without, and,
    `with_page`, what a share carries of the page's state (PageState.shared: the learner's lesson progress)."""
    return pack({"recipe": session.request.model_dump_json(), "trainer": session.trainer.state_dict(),
                 "detailed": session.detailed, "history": session.history, "created": time.time(),
                 "page": session.page.shared() if with_page else {}})


def restore_snapshot(sid: str, data: bytes) -> Session:
    record = unpack(data)
    history = [(int(p[0]), *p[1:]) for p in record["history"]]
    # Lesson progress goes with a share (snapshots from before carry none).
    return restore(sid, record["recipe"], {"trainer": record["trainer"], "detailed": record["detailed"],
                                           "page": record.get("page", {})}, history)
