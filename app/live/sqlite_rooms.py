"""Rooms in the session store's SQLite file, in their own tables; the other workers of the host read the events
table for what they did not publish themselves (Hub.follow)."""
import json
import sqlite3
import threading
import time
from pathlib import Path

from .events import KEPT_EVENTS, sse
from .model import Room


class SQLiteRooms:
    """Rooms in the store's SQLite file (their own tables)."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS live_rooms (code TEXT PRIMARY KEY, sid TEXT NOT NULL, expires REAL NOT NULL,
                                           seq INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS live_rooms_sid ON live_rooms (sid);
    CREATE TABLE IF NOT EXISTS live_answers (code TEXT NOT NULL, poll INTEGER NOT NULL, follower TEXT NOT NULL,
                                             value TEXT NOT NULL, PRIMARY KEY (code, poll, follower));
    CREATE TABLE IF NOT EXISTS live_events (code TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,
                                            PRIMARY KEY (code, seq));
    CREATE TABLE IF NOT EXISTS live_followers (code TEXT NOT NULL, follower TEXT NOT NULL, address TEXT NOT NULL,
                                               PRIMARY KEY (code, follower));
    CREATE INDEX IF NOT EXISTS live_followers_address ON live_followers (code, address);
    """

    def __init__(self, path: Path, clock=time.time):
        self.clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30.0)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(self.SCHEMA)

    def _write(self, *statements):
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            out = [db.execute(sql, args).fetchall() for sql, args in statements]
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return out

    def create(self, room: Room) -> bool:
        with self._lock:
            self._expire()
            try:
                self._write(("INSERT INTO live_rooms (code, sid, expires, data) VALUES (?, ?, ?, ?)",
                             (room.code, room.sid, room.expires, json.dumps(room.to_json()))))
            except sqlite3.IntegrityError:
                return False
            return True

    def get(self, code: str) -> Room | None:
        with self._lock:
            row = self._db.execute("SELECT data, expires FROM live_rooms WHERE code = ?", (code,)).fetchone()
        if row is None or row[1] < self.clock():
            return None
        return Room.from_json(json.loads(row[0]))

    def save(self, room: Room) -> None:
        with self._lock:
            self._write(("UPDATE live_rooms SET expires = ?, data = ? WHERE code = ?",
                         (room.expires, json.dumps(room.to_json()), room.code)))

    def answer(self, code: str, poll: int, follower: str, value: str) -> int | None:
        """Record (or change) a follower's answer while the poll is open (checked in the same transaction as the
        write); the poll's number of answers, or None when it is closed."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT data FROM live_rooms WHERE code = ?", (code,)).fetchone()
                if row is None or not _open(json.loads(row[0]), poll):
                    db.execute("ROLLBACK")
                    return None
                db.execute("INSERT OR REPLACE INTO live_answers (code, poll, follower, value) VALUES (?, ?, ?, ?)",
                           (code, poll, follower, value))
                count = db.execute("SELECT COUNT(*) FROM live_answers WHERE code = ? AND poll = ?",
                                   (code, poll)).fetchone()[0]
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return count

    def join(self, code: str, follower: str, address: str, cap: int) -> bool:
        """Let a follower (its cookie's token) answer this room's questions: True once it may (at once when it
        already may), False when `address` has brought `cap` followers to the room already, or there is no room."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                known = db.execute("SELECT 1 FROM live_followers WHERE code = ? AND follower = ?",
                                   (code, follower)).fetchone()
                room = db.execute("SELECT 1 FROM live_rooms WHERE code = ?", (code,)).fetchone()
                brought = db.execute("SELECT COUNT(*) FROM live_followers WHERE code = ? AND address = ?",
                                     (code, address)).fetchone()[0]
                taken = room is not None and (known is not None or brought < cap)
                if known is None and taken:
                    db.execute("INSERT INTO live_followers (code, follower, address) VALUES (?, ?, ?)",
                               (code, follower, address))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return taken

    def joined(self, code: str, follower: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM live_followers WHERE code = ? AND follower = ?",
                                    (code, follower)).fetchone() is not None

    def followers_from(self, code: str, address: str) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM live_followers WHERE code = ? AND address = ?",
                                    (code, address)).fetchone()[0]

    def answers(self, code: str, poll: int) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT follower, value FROM live_answers WHERE code = ? AND poll = ?",
                                         (code, poll)))

    def answer_of(self, code: str, poll: int, follower: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM live_answers WHERE code = ? AND poll = ? AND follower = ?",
                                   (code, poll, follower)).fetchone()
        return None if row is None else row[0]

    def count(self, code: str, poll: int) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM live_answers WHERE code = ? AND poll = ?",
                                    (code, poll)).fetchone()[0]

    def publish(self, code: str, kind: str, lines: bytes) -> tuple[int, bytes] | None:
        """Number and keep an event; None when the room is gone."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("UPDATE live_rooms SET seq = seq + 1 WHERE code = ? RETURNING seq", (code,)).fetchone()
                if row is None:
                    db.execute("ROLLBACK")
                    return None
                event = sse(row[0], kind, lines)
                db.execute("INSERT INTO live_events (code, seq, data) VALUES (?, ?, ?)", (code, row[0], event))
                db.execute("DELETE FROM live_events WHERE code = ? AND seq <= ?", (code, row[0] - KEPT_EVENTS))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return row[0], event

    def latest(self, codes: list[str]) -> dict[str, int]:
        """The newest event number of each room (rooms that are gone are left out)."""
        with self._lock:
            marks = ",".join("?" * len(codes))
            return dict(self._db.execute(f"SELECT code, seq FROM live_rooms WHERE code IN ({marks})", codes))

    def events_after(self, code: str, seq: int) -> list[tuple[int, bytes]] | None:
        """The kept events after `seq`, oldest first; None when some of them are no longer kept."""
        with self._lock:
            rows = self._db.execute("SELECT seq, data FROM live_events WHERE code = ? AND seq > ? ORDER BY seq",
                                    (code, seq)).fetchall()
            newest = self._db.execute("SELECT seq FROM live_rooms WHERE code = ?", (code,)).fetchone()
        if newest is None:
            return None
        if newest[0] > seq and (not rows or rows[0][0] != seq + 1):
            return None
        return [(s, bytes(d)) for s, d in rows]

    def _expire(self) -> None:
        now = self.clock()
        gone = [r[0] for r in self._db.execute("SELECT code FROM live_rooms WHERE expires < ?", (now,))]
        for code in gone:
            self._write(("DELETE FROM live_rooms WHERE code = ?", (code,)),
                        ("DELETE FROM live_answers WHERE code = ?", (code,)),
                        ("DELETE FROM live_followers WHERE code = ?", (code,)),
                        ("DELETE FROM live_events WHERE code = ?", (code,)))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _open(room: dict, poll: int) -> bool:
    """Whether a stored room's current poll is `poll`, still taking answers."""
    current = room.get("poll")
    return bool(current) and current["id"] == poll and current.get("result") is None and not room.get("ended")
