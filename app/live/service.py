"""Live rooms: starting and ending one, its polls, and a follower's copy. The page's and the API's routes call these.

The presenter's session holds `page.live` (a LiveLink: the room's code); the room (app/live/storage.py) names the
session that drives it. Everything a presenter does goes through that session's lock, so the room changes in one order.
"""
import asyncio
import secrets
import threading
import time

from app.core.page_state import LiveLink
from app.core.session import Session
from app.engine import FieldError
from app.store import records

from . import polls
from .model import ENDED_KEPT, Room, new_code, spaced
from .events import data_lines, sse

COUNT_INTERVAL = 0.25  # seconds: the count of answers goes out at most this often per room (the last always does)
EXPIRY_CHECK = 30.0  # seconds between looks for rooms that ended by their time-to-live


class RoomGone(Exception):
    """There is no such room (never was, expired, or ended and forgotten)."""


class NotJoined(Exception):
    """An answer from a browser the room does not know (no follower cookie, or one that never joined it, or one
    turned away because its address brought a class's worth of followers already): it adds no vote."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Live:
    """`render(kind, room, live, session)` draws an event's HTML (app/web/live_render.py event_html); `publisher`
    sends the presenter's frames (app/web/live_publisher.py Publisher)."""

    def __init__(self, store, rooms, hub, publisher, render, render_expired, ttl: float, clock=time.time,
                 max_followers_per_address: int = 400, streams=None):
        self.store, self.rooms, self.hub, self.publisher, self.render = store, rooms, hub, publisher, render
        # Followers who may answer, per room, from one address: a class behind one NAT, not a script's thousands.
        self.max_followers_per_address = max_followers_per_address
        self.streams = streams  # this process's event streams, per address and in all (app/live/streams.py)
        self.render_expired = render_expired  # code -> the HTML of the end event of a room that timed out
        self.ttl, self.clock = ttl, clock
        self._counts: dict[str, tuple[float, bool]] = {}
        self._count_guard = threading.Lock()
        self._timers: set[threading.Timer] = set()
        self.closed = False

    async def watch(self, every: float = EXPIRY_CHECK) -> None:
        """Rooms that end by their time-to-live tell their followers (and their presenter's page) so: every `every`
        seconds, the rooms this process streams are looked up."""
        while True:
            await asyncio.sleep(every)
            codes = list(self.hub.channels)
            gone = await asyncio.to_thread(lambda: [c for c in codes if self.rooms.get(c) is None])
            for code in gone:
                self.hub.end(code, lambda seq, code=code: sse(seq, "end", data_lines(self.render_expired(code))))

    def close(self) -> None:
        """The app is stopping: no more counts (the storage closes next)."""
        with self._count_guard:
            self.closed = True
            for timer in self._timers:
                timer.cancel()

    # ---- the presenter (the caller holds the session's lock) ----

    def room_of(self, session: Session) -> Room | None:
        """The room this session presents, if it still does."""
        code = session.page.live_code
        room = self.rooms.get(code) if code else None
        if room is None or room.ended or room.sid != session.id:
            if code:
                session.page.live = None
            return None
        return room

    def start(self, session: Session, url_for) -> tuple[Room, bool]:
        """Present the session: its room (and True when it is new). `url_for(code)` is the room's link."""
        room = self.room_of(session)
        if room is not None:
            return room, False
        now = self.clock()
        for _ in range(10):
            code = new_code()
            room = Room(code, session.id, now, now + self.ttl, extra={"url": url_for(code)})
            if self.rooms.create(room):
                session.page.live = LiveLink(code)
                self.publisher.forget(code)
                return room, True
        raise RuntimeError("no free join code after 10 tries")

    def stop(self, session: Session) -> Room | None:
        """End the room: followers keep its last state and may still take a copy of it, for ENDED_KEPT seconds."""
        room = self.room_of(session)
        session.page.live = None
        if room is None:
            return None
        snapshot = secrets.token_urlsafe(12)
        self.store.backend.put_snapshot(snapshot, records.snapshot_bytes(session))
        room.ended, room.snapshot, room.poll = True, snapshot, None
        room.expires = self.clock() + ENDED_KEPT
        self.rooms.save(room)
        self.publish(room, "end", session)
        self.publisher.forget(room.code)
        return room

    def ask(self, session: Session, kind: str, choice: str) -> Room:
        """Ask the class about the coming step (a question still open is replaced)."""
        room = self._presenting(session)
        room.polls_asked += 1
        room.poll = polls.make(session, kind, choice, room.polls_asked)
        self.rooms.save(room)
        self.publish(room, "poll", session)
        return room

    def close_poll(self, session: Session) -> Room:
        room = self._presenting(session)
        room.poll = None
        self.rooms.save(room)
        self.publish(room, "poll", session)
        return room

    def reveal(self, session: Session, take_step) -> tuple[Room, object]:
        """Run the coming step (`take_step()`, the page's Step) and mark the answers against it. The key is read
        from the step's proposal first, which is the step then taken."""
        room = self._presenting(session)
        poll = room.poll
        if poll is None or not poll.open:
            raise FieldError("poll", "there is no open question to reveal; ask one first.")
        if polls.fingerprint(session) != poll.fingerprint:  # cancelled when the change was made; a safeguard
            raise FieldError("poll", "the network changed since the question was asked; ask again.")
        step_before = session.trainer.step_count
        answer = take_step()
        if session.trainer.step_count != step_before + 1:  # the step failed (diverged, over a cap): nothing revealed
            return room, answer
        # Answering closes before the answers are read: one arriving meanwhile is refused, never half counted.
        poll.result = {"closing": True}
        self.rooms.save(room)
        poll.result = polls.result(poll, poll.key, self.rooms.answers(room.code, poll.id))
        self.rooms.save(room)
        self.publish(room, "poll", session)
        return room, answer

    def cancel_if_moved(self, session: Session, room: Room) -> None:
        """A question is about the step from the state it was asked in: any other change of that state (a Step,
        Play, a rewind, a setting) cancels it, and the class is told. The caller holds the session's lock."""
        poll = room.poll
        if poll is None or not poll.open or polls.fingerprint(session) == poll.fingerprint:
            return
        poll.result = {"cancelled": "the network changed before the reveal"}
        self.rooms.save(room)
        self.publish(room, "poll", session)

    def fold_if_moved(self, session: Session, room: Room) -> None:
        """A revealed result folds away once the room moves on from the step Reveal took (polls.due_to_fold): the
        class is sent the folded question. The caller holds the session's lock."""
        if polls.due_to_fold(room.poll, session.trainer.step_count):
            room.poll.folded = True
            self.rooms.save(room)
            self.publish(room, "poll", session)

    def holds_back(self, session: Session, phase: str) -> str | None:
        """Why a detailed step may not show `phase` now: the backward pass and the update would show an open
        question's answer before its reveal."""
        room = self.room_of(session)
        if room is None or room.poll is None or not room.poll.open or phase not in ("backward", "update"):
            return None
        return (f"A question is open: Reveal it (which takes step {room.poll.step + 1}) or cancel it before the "
                f"{phase} {'pass ' if phase == 'backward' else ''}shows its answer.")

    def _presenting(self, session: Session) -> Room:
        room = self.room_of(session)
        if room is None:
            raise FieldError("live", "this session is not presenting; press Present first.")
        return room

    def publish(self, room: Room, kind: str, session: Session | None = None) -> int | None:
        return self.hub.publish(room.code, kind, data_lines(self.render(kind, room, self, session)))

    # ---- followers ----

    def room(self, code: str) -> Room:
        room = self.rooms.get(code)
        if room is None:
            raise RoomGone(code)
        return room

    def join(self, code: str, follower: str, address: str) -> bool:
        """The follower may answer this room's questions from now on; False when its address has brought
        `max_followers_per_address` followers to the room already (it may still watch)."""
        return self.rooms.join(code, follower, address, self.max_followers_per_address)

    def answer(self, code: str, follower: str | None, raw: str, poll_id: str, address: str = "") -> tuple[Room, str]:
        """A joined follower's answer to the open poll (changeable until Reveal: one browser, one vote); NotJoined
        for a browser the room does not know, FieldError for a closed poll or a bad answer."""
        room = self.room(code)
        if follower is None or not self.rooms.joined(code, follower):
            cap = self.max_followers_per_address
            if self.rooms.followers_from(code, address) >= cap:
                raise NotJoined(f"Not counted: live room {spaced(code)} already has as many followers from your "
                                f"network as a class needs ({cap}), and this browser is not one of them. You can "
                                "still watch.")
            raise NotJoined(f"Not counted: this browser has not joined live room {spaced(code)}. Open its page "
                            f"(/live/{code}) again to join, then answer.")
        poll = room.poll
        if room.ended or poll is None or not poll.open or str(poll.id) != poll_id:
            raise FieldError("answer", "this question is closed: the presenter revealed it or moved on.")
        value = polls.normal_answer(poll, raw)
        if self.rooms.answer(code, poll.id, follower, value) is None:  # closed meanwhile (checked as it is written)
            raise FieldError("answer", "this question is closed: the presenter revealed it or moved on.")
        self.counted(room)
        return room, value

    def counted(self, room: Room) -> None:
        """Tell the room how many have answered, at most every COUNT_INTERVAL (the last count always goes out)."""
        now = time.monotonic()
        with self._count_guard:
            last, pending = self._counts.get(room.code, (0.0, False))
            if pending:
                return
            if now - last < COUNT_INTERVAL:
                if self.closed:
                    return
                self._counts[room.code] = (last, True)
                timer = threading.Timer(last + COUNT_INTERVAL - now, self._count_now, (room.code,))
                timer.daemon = True
                self._timers.add(timer)
                timer.start()
                return
            self._counts[room.code] = (now, False)
        self.publish(room, "count")

    def _count_now(self, code: str) -> None:
        with self._count_guard:
            self._timers = {t for t in self._timers if t.is_alive() and t is not threading.current_thread()}
            if self.closed:
                return
            self._counts[code] = (time.monotonic(), False)
        room = self.rooms.get(code)
        if room is not None and room.poll is not None:
            self.publish(room, "count")

    def mine(self, code: str, follower: str) -> dict:
        """A follower's own answer to the current poll, and whether it was right once revealed."""
        room = self.room(code)
        poll = room.poll
        if poll is None:
            return {"poll": None}
        value = self.rooms.answer_of(code, poll.id, follower) if follower else None  # one row: all ask at once
        out = {"poll": poll, "value": value}
        if poll.result is not None and "answer" in poll.result and value is not None:
            out["right"] = polls.is_right(poll, poll.key, value)
        return out

    def shown_session(self, room: Room) -> Session | None:
        """The session the room shows: the presenter's, or once ended the snapshot of where it ended (a session of
        no store, with a plain lock)."""
        if not room.ended:
            return self.store.get(room.sid)
        data = self.store.backend.get_snapshot(room.snapshot) if room.snapshot else None
        return None if data is None else records.restore_snapshot(room.snapshot, data)

    def copy(self, code: str) -> Session:
        """A session of the follower's own at the room's state (its end, once ended), as a share link gives."""
        room = self.room(code)
        if room.ended:
            data = self.store.backend.get_snapshot(room.snapshot) if room.snapshot else None
            if data is None:
                raise RoomGone(code)
        else:
            session = self.store.get(room.sid)
            if session is None:
                raise RoomGone(code)
            with session.lock:
                data = records.snapshot_bytes(session)
        fresh = records.restore_snapshot(secrets.token_hex(16), data)
        fresh.page.live, fresh.page.transport.playing, fresh.page.live_from = None, False, code
        self.store.add(fresh)
        return fresh
