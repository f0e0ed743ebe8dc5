"""Sessions in memory in front of a storage backend.

Memory holds the most recently used sessions (at most `max_sessions`); the rest live only in storage and are
loaded again on their next request. Every session's `lock` is a StoredLock: taking it makes the session
current (it reloads when another process saved a newer version) and releasing it saves what changed.
"""
import json
import logging
import secrets
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import compress, filterfalse
from operator import is_not

from pydantic import ValidationError

from app.engine import FieldError
from app.core.session import Session

from . import records
from .backend import Backend, Change
from .codec import pack_points, unpack_points

log = logging.getLogger(__name__)


def _marks(session: Session) -> tuple:
    """What a save depends on. Objects are compared by identity (every change replaces one of them), numbers and
    the page's values by equality."""
    t = session.trainer
    return (session.request, t, t.config, t.step_count, t.epoch, t.position, session.history, len(session.history),
            session.history_generation, next(reversed(session.snapshots.values())), len(session.snapshots),
            session.future, session.replaced, session.detailed, json.dumps(session.page.to_dict(), sort_keys=True))


def _same(a: tuple, b: tuple) -> bool:
    return all(x == y if isinstance(x, (int, str)) else x is y for x, y in zip(a, b, strict=True))


@dataclass
class Entry:
    session: Session
    version: int = 0
    used: float = 0.0
    touched: float = 0.0  # when storage last heard of a use
    marks: tuple = ()
    saved_recipe: object = None
    saved_history: list | None = None
    saved_generation: int = -1
    saved_points: int = 0
    saved_rewind: dict = field(default_factory=dict)


class StoredLock:
    """A session's lock. Only one request holds it, in this process and (through the backend) in any other.

    It holds the session's entry, so a session evicted from memory while a request still uses it is saved
    by that request and comes back as the same object (with the same lock) if asked for again.
    """

    def __init__(self, store: "SessionStore", entry: Entry):
        self._store, self.entry = store, entry
        self._local = threading.Lock()
        self._remote = None

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock (False when not blocking and another request, here or in another process, holds it),
        then bring the session up to date with storage."""
        if not self._local.acquire(blocking):
            return False
        try:
            remote = self._store.backend.lock(self.entry.session.id)
            if not remote.acquire(blocking):
                self._local.release()
                return False
            try:
                self._store._refresh(self.entry)
                if self._store.on_acquire is not None:
                    self._store.on_acquire(self.entry.session)
            except BaseException:
                remote.release()
                raise
            self._remote = remote
        except BaseException:
            self._local.release()
            raise
        return True

    def release(self) -> None:
        """Tell the store's `on_release` (a live room's followers), save what changed, then let the next request in."""
        try:
            if self._store.on_release is not None:
                self._store.on_release(self.entry.session)
            self._store._after_use(self.entry)
        finally:
            remote, self._remote = self._remote, None
            try:
                remote.release()
            finally:
                self._local.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()

    def locked(self) -> bool:
        return self._local.locked()


class SessionStore:
    def __init__(self, backend: Backend, max_sessions: int, ttl: float, clock=time.time):
        self.backend, self.max_sessions, self.ttl, self.clock = backend, max_sessions, ttl, clock
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._locks: weakref.WeakValueDictionary[str, StoredLock] = weakref.WeakValueDictionary()
        self._lock = threading.RLock()
        self._swept = clock()
        # Storage calls take microseconds (a local file), so short requests may run them on the event loop.
        self.local = backend.local
        # Storage hears of uses that changed nothing at most this often per session.
        self.touch_interval = min(60.0, ttl / 10)
        # Called with each session once its lock is taken and before it is released (app/web/live_publisher.py
        # Publisher: a live room's followers hear of what a request changed).
        self.on_acquire = None
        self.on_release = None

    def _remember(self, session: Session, entry: Entry) -> Entry:
        """Put a new session object into memory (the caller holds self._lock)."""
        entry.used = self.clock()
        session.lock = self._locks[session.id] = StoredLock(self, entry)
        self._admit(entry)
        return entry

    def _admit(self, entry: Entry) -> None:
        """Into memory, least recently used out first; a session in use stays until its request is done."""
        sid = entry.session.id
        self._entries[sid] = entry
        self._entries.move_to_end(sid)
        excess = len(self._entries) - self.max_sessions
        for old in list(self._entries)[:max(excess, 0)]:
            if not self._entries[old].session.lock.locked():
                del self._entries[old]

    def add(self, session: Session) -> None:
        """Store a new session (built by build_session, with a fresh random id)."""
        entry = Entry(session)
        self._save(entry, full=True)  # nobody else has the new id yet
        with self._lock:
            self._remember(session, entry)

    def get(self, sid: str) -> Session | None:
        """The session with this id, from memory or storage; None when unknown or expired."""
        now = self.clock()
        with self._lock:
            if now - self._swept > self.touch_interval:
                self._sweep(now)
            entry = self._entries.get(sid)
            if entry is not None and now - entry.used > self.ttl:
                del self._entries[sid]
                entry = None
            if entry is None and (lock := self._locks.get(sid)) is not None and now - lock.entry.used <= self.ttl:
                entry = lock.entry  # evicted while a request still holds it: the same object comes back
                self._admit(entry)
            if entry is not None:
                entry.used = now
                self._entries.move_to_end(sid)
                return entry.session
            return self._load(sid)

    def _load(self, sid: str) -> Session | None:
        stored = self.backend.load(sid)
        if stored is None:
            return None
        try:
            session = records.restore(sid, stored.recipe, stored.state, unpack_points(stored.history), stored.rewind)
        except (FieldError, ValidationError, ValueError, KeyError):
            # Stored under settings that no longer allow it (a lowered cap, say): it cannot be served.
            log.warning("session %s could not be restored and is dropped", sid, exc_info=True)
            return None
        entry = self._remember(session, Entry(session, stored.version, touched=self.clock()))
        self._mark_saved(entry, len(session.history))
        entry.saved_rewind = records.kept(session)
        return session

    def _sweep(self, now: float) -> None:
        self._swept = now
        for sid in [sid for sid, e in self._entries.items() if now - e.used > self.ttl and not e.session.lock.locked()]:
            del self._entries[sid]
        self.backend.expire()

    def _refresh(self, entry: Entry) -> None:
        """Under the session's lock: reload the session if another process saved a newer version."""
        sid = entry.session.id
        version = self.backend.version(sid)
        if version == entry.version:
            return
        stored = self.backend.load(sid) if version is not None else None
        if stored is None:
            self._save(entry, full=True)  # expired from storage while in memory: store it again
            return
        fresh = records.restore(sid, stored.recipe, stored.state, unpack_points(stored.history), stored.rewind)
        session = entry.session
        session.become(fresh)
        session.detailed, session.page = fresh.detailed, fresh.page
        entry.version = stored.version
        self._mark_saved(entry, len(session.history))
        entry.saved_rewind = records.kept(session)

    def _after_use(self, entry: Entry) -> None:
        now = self.clock()
        entry.used = now
        if not _same(entry.marks, marks := _marks(entry.session)):
            self._save(entry, marks=marks)
        elif now - entry.touched > self.touch_interval:
            self.backend.touch(entry.session.id)
            entry.touched = now

    def _mark_saved(self, entry: Entry, points: int, marks: tuple | None = None) -> None:
        s = entry.session
        entry.marks = _marks(s) if marks is None else marks
        entry.saved_recipe, entry.saved_history = s.request, s.history
        entry.saved_generation, entry.saved_points = s.history_generation, points

    def _save(self, entry: Entry, full: bool = False, marks: tuple | None = None) -> None:
        """Write what changed since the last save (all of it when `full`); `marks`: _marks(session), if known."""
        s = entry.session
        history_kept = (not full and entry.saved_history is s.history and entry.saved_generation == s.history_generation
                        and entry.saved_points <= len(s.history))
        new_points = s.history[entry.saved_points:] if history_kept else s.history
        saved_rewind = {} if full else entry.saved_rewind
        kept = records.kept(s)
        change = Change(
            state=records.state_bytes(s),
            recipe=records.recipe_bytes(s) if full or s.request is not entry.saved_recipe else None,
            history=pack_points(new_points) if new_points else b"",
            rewrite_history=not history_kept,
            # Which of the (up to 250) rewind points are new or gone, compared in C (map, compress): a step adds one.
            rewind_put={key: records.kept_bytes(key, kept[key]) for key in
                        compress(kept, map(is_not, kept.values(), map(saved_rewind.get, kept)))},
            rewind_drop=list(filterfalse(kept.__contains__, saved_rewind)),
            rewrite_rewind=full,
        )
        try:
            entry.version = self.backend.save(s.id, change)
        except LookupError:  # expired from storage meanwhile: write all of it
            if full:
                raise
            return self._save(entry, full=True)
        entry.touched = self.clock()
        self._mark_saved(entry, len(s.history), marks)
        entry.saved_rewind = kept

    def share(self, session: Session) -> str:
        """An immutable snapshot of the session (the caller holds its lock); returns its id."""
        snapshot_id = secrets.token_urlsafe(12)
        self.backend.put_snapshot(snapshot_id, records.snapshot_bytes(session, with_page=True))
        return snapshot_id

    def snapshot(self, snapshot_id: str) -> Session | None:
        """The snapshot as a session that belongs to no one (its id is the snapshot's); None when unknown."""
        data = self.backend.get_snapshot(snapshot_id)
        return None if data is None else records.restore_snapshot(snapshot_id, data)

    def fork(self, snapshot_id: str) -> Session | None:
        """A new session, with a new id, at exactly the snapshot's state."""
        data = self.backend.get_snapshot(snapshot_id)
        if data is None:
            return None
        session = records.restore_snapshot(secrets.token_hex(16), data)
        self.add(session)
        return session

    def __len__(self) -> int:
        return len(self._entries)

    def in_memory(self, sid: str) -> bool:
        return sid in self._entries

    def close(self) -> None:
        self.backend.close()
