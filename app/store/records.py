"""A session as bytes and back: the recipe that rebuilds its data and network, the trainer's state, the loss
curve and the rewind points. The dataset is never stored; the recipe rebuilds it exactly."""
import time
from collections import OrderedDict

from app.core.recipe import CreateSession
from app.core.session import Session, build_session

from .codec import pack, unpack


def recipe_bytes(session: Session) -> bytes:
    return session.request.model_dump_json().encode()


def state_bytes(session: Session) -> bytes:
    return pack({"trainer": session.trainer.state_dict(), "detailed": session.detailed, "page": session.page})


def rewind_bytes(state: dict) -> bytes:
    return pack(state)


def restore(sid: str, recipe: bytes | str, state: bytes | dict, history: list[tuple],
            rewind: dict[int, bytes] | None = None) -> Session:
    """Rebuild a session from its recipe, then put back the trainer's state, loss curve and rewind points."""
    session = build_session(CreateSession.model_validate_json(recipe), sid)
    state = unpack(state) if isinstance(state, (bytes, str)) else state
    session.trainer.load_state_dict(state["trainer"])
    session.detailed = state.get("detailed", False)
    # Sessions stored before the page kept its own state stored only whether Play was running.
    session.page = state["page"] if "page" in state else {"playing": True} if state.get("playing") else {}
    session.history = history or [(session.trainer.step_count, *session.evaluate())]
    session.snapshots = OrderedDict((step, unpack(data)) for step, data in sorted((rewind or {}).items()))
    if session.trainer.step_count not in session.snapshots:
        session.keep_rewind_point()
    return session


def snapshot_bytes(session: Session) -> bytes:
    """An immutable share: everything restore() needs except rewind points, which a fork starts without."""
    return pack({"recipe": session.request.model_dump_json(), "trainer": session.trainer.state_dict(),
                 "detailed": session.detailed, "history": session.history, "created": time.time()})


def restore_snapshot(sid: str, data: bytes) -> Session:
    record = unpack(data)
    history = [(int(p[0]), *p[1:]) for p in record["history"]]
    return restore(sid, record["recipe"], {"trainer": record["trainer"], "detailed": record["detailed"]}, history)
