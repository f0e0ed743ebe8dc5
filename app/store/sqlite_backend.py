"""The embedded backend: one SQLite file in WAL mode, shared by the worker processes of one host.

Sessions are locked between processes with record locks on a side file (file_locks.py); SQLite itself
serializes the writes.
"""
import sqlite3
import threading
import time
from pathlib import Path

from .backend import Change, Stored, new_version
from .file_locks import FileLocks

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, version INTEGER NOT NULL, touched REAL NOT NULL, recipe BLOB NOT NULL, state BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL, points BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS history_session ON history (session, seq);
CREATE TABLE IF NOT EXISTS rewind (
    session TEXT NOT NULL, step INTEGER NOT NULL, state BLOB NOT NULL, PRIMARY KEY (session, step)
);
CREATE TABLE IF NOT EXISTS snapshots (id TEXT PRIMARY KEY, created REAL NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS drawn (
    session TEXT PRIMARY KEY, token TEXT NOT NULL, frame INTEGER NOT NULL, noted REAL NOT NULL
);
"""
DRAWN_KEPT = 3600.0  # seconds a Play stream's last drawn frame is kept (a stream that long without a word has ended)


class SQLiteBackend:
    local = True

    def __init__(self, path: str | Path, ttl: float, clock=time.time):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.ttl, self.clock = ttl, clock
        # Another worker's write holds the file for a millisecond at most; wait as long as for a session's lock.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
        self._lock = threading.Lock()
        self._locks = FileLocks(self.path.with_name(self.path.name + ".locks"))
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # A commit reaches the WAL file before it returns, so a killed process loses nothing; only a power
            # cut could lose the last session writes. Snapshots are written with FULL, which also fsyncs.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

    def _transaction(self, *statements: tuple) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for sql, args in statements:
                if isinstance(args, list):
                    db.executemany(sql, args)
                else:
                    db.execute(sql, args)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _live(self, sid: str):
        row = self._db.execute("SELECT version, touched, recipe, state FROM sessions WHERE id = ?", (sid,)).fetchone()
        if row is not None and row[1] < self.clock() - self.ttl:
            self._delete(sid)
            return None
        return row

    def load(self, sid: str) -> Stored | None:
        with self._lock:
            row = self._live(sid)
            if row is None:
                return None
            self._db.execute("UPDATE sessions SET touched = ? WHERE id = ?", (self.clock(), sid))
            history = [r[0] for r in self._db.execute("SELECT points FROM history WHERE session = ? ORDER BY seq",
                                                      (sid,))]
            rewind = dict(self._db.execute("SELECT step, state FROM rewind WHERE session = ? ORDER BY step", (sid,)))
            return Stored(row[0], row[2], row[3], history, rewind)

    def version(self, sid: str) -> int | None:
        with self._lock:
            row = self._live(sid)
            return None if row is None else row[0]

    def save(self, sid: str, change: Change) -> int:
        now = self.clock()
        with self._lock:
            row = self._db.execute("SELECT version FROM sessions WHERE id = ?", (sid,)).fetchone()
            version = new_version()
            statements = []
            if row is None or change.recipe is not None:
                if change.recipe is None:
                    raise LookupError(f"session {sid} is not stored")
                statements.append(("INSERT INTO sessions (id, version, touched, recipe, state) VALUES (?, ?, ?, ?, ?) "
                                   "ON CONFLICT (id) DO UPDATE SET version = excluded.version, touched = excluded.touched, "
                                   "recipe = excluded.recipe, state = excluded.state",
                                   (sid, version, now, change.recipe, change.state)))
            else:
                statements.append(("UPDATE sessions SET version = ?, touched = ?, state = ? WHERE id = ?",
                                   (version, now, change.state, sid)))
            if change.rewrite_history:
                statements.append(("DELETE FROM history WHERE session = ?", (sid,)))
            if change.history:
                statements.append(("INSERT INTO history (session, points) VALUES (?, ?)", (sid, change.history)))
            if change.rewrite_rewind:
                statements.append(("DELETE FROM rewind WHERE session = ?", (sid,)))
            if change.rewind_drop:
                statements.append(("DELETE FROM rewind WHERE session = ? AND step = ?",
                                   [(sid, step) for step in change.rewind_drop]))
            if change.rewind_put:
                statements.append(("INSERT OR REPLACE INTO rewind (session, step, state) VALUES (?, ?, ?)",
                                   [(sid, step, data) for step, data in change.rewind_put.items()]))
            self._transaction(*statements)
            return version

    def busy(self) -> bool:
        """Another thread is reading or writing the file now (a save of a large session takes a while)."""
        return self._lock.locked()

    def touch(self, sid: str) -> None:
        with self._lock:
            self._db.execute("UPDATE sessions SET touched = ? WHERE id = ?", (self.clock(), sid))

    def _delete(self, sid: str) -> None:
        self._transaction(("DELETE FROM sessions WHERE id = ?", (sid,)), ("DELETE FROM history WHERE session = ?", (sid,)),
                          ("DELETE FROM rewind WHERE session = ?", (sid,)),
                          ("DELETE FROM drawn WHERE session = ?", (sid,)))

    def delete(self, sid: str) -> None:
        with self._lock:
            self._delete(sid)

    def lock(self, sid: str):
        return self._locks.lock(sid)

    def put_snapshot(self, snapshot_id: str, data: bytes) -> None:
        with self._lock:
            self._db.execute("PRAGMA synchronous=FULL")
            try:
                self._transaction(("INSERT INTO snapshots (id, created, data) VALUES (?, ?, ?)",
                                   (snapshot_id, self.clock(), data)))
            finally:
                self._db.execute("PRAGMA synchronous=NORMAL")

    def get_snapshot(self, snapshot_id: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM snapshots WHERE id = ?", (snapshot_id,)).fetchone()
        return None if row is None else row[0]

    def note_drawn(self, sid: str, token: str, frame: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO drawn VALUES (?, ?, ?, ?) ON CONFLICT (session) DO UPDATE SET token = excluded.token, "
                "frame = CASE WHEN token = excluded.token THEN max(frame, excluded.frame) ELSE excluded.frame END, "
                "noted = excluded.noted", (sid, token, frame, self.clock()))

    def drawn(self, sid: str, token: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT frame FROM drawn WHERE session = ? AND token = ?", (sid, token)).fetchone()
        return 0 if row is None else row[0]

    def expire(self) -> int:
        with self._lock:
            self._db.execute("DELETE FROM drawn WHERE noted < ?", (self.clock() - DRAWN_KEPT,))
            gone = [r[0] for r in self._db.execute("SELECT id FROM sessions WHERE touched < ?",
                                                   (self.clock() - self.ttl,))]
            for sid in gone:
                self._delete(sid)
            return len(gone)

    def close(self) -> None:
        with self._lock:
            self._db.close()
        self._locks.close()
