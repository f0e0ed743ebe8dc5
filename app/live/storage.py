"""Where rooms, poll answers and recent events live, so that every worker (and, with Redis, every host) serves them.

Each room's events are numbered (its `seq`), kept for replay (the last KEPT_EVENTS) and announced to the other
processes: Redis pub/sub for Redis; for SQLite the other workers of the host read the events table (Hub.follow).
An event is stored as the bytes of its server-sent event, `id:` line included, so every stream sends it as is.
"""
import json
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from .model import Room

KEPT_EVENTS = 256  # a follower that reconnects further behind than this gets a fresh render instead


def sse(seq: int, kind: str, data_lines: bytes) -> bytes:
    """One server-sent event: `data_lines` are already "data: ..." lines, each ending in a newline."""
    return b"id: %d\nevent: %s\n%s\n" % (seq, kind.encode(), data_lines)


def data_lines(text: str) -> bytes:
    return b"".join(b"data: " + line.encode() + b"\n" for line in text.split("\n"))


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


# A follower's answer, only while its poll is open: checked and written in one step.
ANSWER = """
local data = redis.call('GET', KEYS[1])
if not data then return false end
local room = cjson.decode(data)
local poll = room['poll']
if poll == cjson.null or poll['id'] ~= tonumber(ARGV[1]) or poll['result'] ~= cjson.null or room['ended'] then
  return false
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return redis.call('HLEN', KEYS[2])
"""

# A follower joins: known already, or new while its address has brought fewer than ARGV[3] followers to the room.
JOIN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 1 end
if tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0') >= tonumber(ARGV[3]) then return 0 end
redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) redis.call('PEXPIRE', KEYS[3], ttl) end
return 1
"""

# INCR the room's number, keep the event, announce it: one script, so that events reach every process in order.
PUBLISH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local seq = redis.call('INCR', KEYS[2])
local event = 'id: ' .. seq .. '\\nevent: ' .. ARGV[1] .. '\\n' .. ARGV[2] .. '\\n'
redis.call('LPUSH', KEYS[3], event)
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1)
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) redis.call('PEXPIRE', KEYS[3], ttl) end
redis.call('PUBLISH', KEYS[4], event)
return seq
"""


class RedisRooms:
    """Rooms in Redis: a key per room (expiring with it), a hash of answers per poll, a counter and a list of kept
    events, and a pub/sub channel per room that every process listens to (Hub.follow)."""

    CHANNELS = "bp:live:*"

    def __init__(self, url: str, clock=time.time):
        import redis
        self.url, self.clock = url, clock
        self.client = redis.Redis.from_url(url)
        self._publish = self.client.register_script(PUBLISH)
        self._answer = self.client.register_script(ANSWER)
        self._join = self.client.register_script(JOIN)

    @staticmethod
    def _keys(code: str) -> tuple[str, str, str, str]:
        return f"bp:room:{code}", f"bp:room:{code}:seq", f"bp:room:{code}:events", f"bp:live:{code}"

    def _ttl(self, room: Room) -> int:
        return max(1, int((room.expires - self.clock()) * 1000))

    def create(self, room: Room) -> bool:
        return bool(self.client.set(self._keys(room.code)[0], json.dumps(room.to_json()), nx=True,
                                    px=self._ttl(room)))

    def get(self, code: str) -> Room | None:
        data = self.client.get(self._keys(code)[0])
        return None if data is None else Room.from_json(json.loads(data))

    def save(self, room: Room) -> None:
        key, seq, events, _ = self._keys(room.code)
        ttl = self._ttl(room)
        pipe = self.client.pipeline()
        pipe.set(key, json.dumps(room.to_json()), xx=True, px=ttl)
        pipe.pexpire(seq, ttl)
        pipe.pexpire(events, ttl)
        for kept in self._follower_keys(room.code):
            pipe.pexpire(kept, ttl)
        pipe.execute()

    @staticmethod
    def _follower_keys(code: str) -> tuple[str, str]:
        """The room's followers (token -> address) and how many each address brought."""
        return f"bp:room:{code}:followers", f"bp:room:{code}:addresses"

    def join(self, code: str, follower: str, address: str, cap: int) -> bool:
        return bool(self._join(keys=[self._keys(code)[0], *self._follower_keys(code)], args=[follower, address, cap]))

    def joined(self, code: str, follower: str) -> bool:
        return bool(self.client.hexists(self._follower_keys(code)[0], follower))

    def followers_from(self, code: str, address: str) -> int:
        return int(self.client.hget(self._follower_keys(code)[1], address) or 0)

    def _answers_key(self, code: str, poll: int) -> str:
        return f"bp:room:{code}:answers:{poll}"

    def answer(self, code: str, poll: int, follower: str, value: str) -> int | None:
        count = self._answer(keys=[self._keys(code)[0], self._answers_key(code, poll)], args=[poll, follower, value])
        return None if count is None else int(count)

    def answers(self, code: str, poll: int) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.client.hgetall(self._answers_key(code, poll)).items()}

    def answer_of(self, code: str, poll: int, follower: str) -> str | None:
        value = self.client.hget(self._answers_key(code, poll), follower)
        return None if value is None else value.decode()

    def count(self, code: str, poll: int) -> int:
        return self.client.hlen(self._answers_key(code, poll))

    def publish(self, code: str, kind: str, lines: bytes) -> tuple[int, bytes] | None:
        seq = self._publish(keys=self._keys(code), args=[kind, lines, KEPT_EVENTS])
        return None if seq is None else (int(seq), sse(int(seq), kind, lines))

    def latest(self, codes: list[str]) -> dict[str, int]:
        values = self.client.mget([self._keys(c)[1] for c in codes])
        return {c: int(v) for c, v in zip(codes, values) if v is not None}

    def events_after(self, code: str, seq: int) -> list[tuple[int, bytes]] | None:
        pipe = self.client.pipeline()
        pipe.get(self._keys(code)[1])
        pipe.lrange(self._keys(code)[2], 0, -1)
        newest, kept = pipe.execute()
        if newest is None:
            return None if self.get(code) is None else []
        events = sorted((event_seq(e), bytes(e)) for e in kept)
        wanted = [(s, e) for s, e in events if s > seq]
        if int(newest) > seq and (not wanted or wanted[0][0] != seq + 1):
            return None
        return wanted

    def close(self) -> None:
        self.client.close()


def event_seq(event: bytes) -> int:
    """The number on an event's `id:` line (its first)."""
    return int(event[4:event.index(b"\n")])


def open_rooms(url: str):
    """Rooms beside the session store at `url` (app/store open_store's forms)."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return SQLiteRooms(Path(url[len("sqlite:///"):]).resolve())
    return RedisRooms(url)
