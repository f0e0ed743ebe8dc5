"""The shared backend: Redis, so that several workers and hosts serve the same sessions.

Per session: a hash with its version, recipe and state, a list of loss-curve chunks and a hash of rewind
points, all three expiring together after the time-to-live. Snapshots never expire. For shares to survive a
crash of Redis itself, run it with `appendonly yes` and `appendfsync always` (see docs/deploy.md).
"""
import logging
import threading

import redis

from .backend import Change, SessionBusy, Stored, new_version

log = logging.getLogger(__name__)

# A session's lock in Redis is a lease: it lapses LOCK_LEASE seconds after its holder stops renewing it (the
# holder died), and a live holder renews it every third of that for as long as its request runs. A request
# waits up to LOCK_WAIT for the lock, longer than a lease, so a dead holder never makes its waiters fail.
LOCK_LEASE = 10.0
LOCK_WAIT = 30.0


class Renewer:
    """One thread per backend renews every lease this process holds, every third of a lease (starting a thread
    for each request's lock cost more than the rest of the lock)."""

    def __init__(self, lease: float):
        self.lease = lease
        self._held: set["SessionLock"] = set()
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, lock: "SessionLock") -> None:
        with self._guard:
            self._held.add(lock)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="renew Redis leases", daemon=True)
                self._thread.start()

    def discard(self, lock: "SessionLock") -> None:
        with self._guard:
            self._held.discard(lock)

    def _run(self) -> None:
        while not self._stop.wait(self.lease / 3):
            with self._guard:
                held = list(self._held)
            for lock in held:
                lock.renew()

    def close(self) -> None:
        self._stop.set()


class SessionLock:
    """A session's lock in Redis, held for one request and renewed while it runs."""

    def __init__(self, client: redis.Redis, name: str, renewer: Renewer, wait: float = LOCK_WAIT):
        # Not thread-local: the renewing thread must see the token of the thread that took the lock.
        self._lock = client.lock(name, timeout=renewer.lease, blocking_timeout=wait, thread_local=False)
        self._renewer = renewer
        self._guard = threading.Lock()  # a renewal and the release never overlap
        self._held = False

    def acquire(self, blocking: bool = True) -> bool:
        if not self._lock.acquire(blocking=blocking):
            if not blocking:
                return False
            raise SessionBusy(self._lock.name)
        self._held = True
        self._renewer.add(self)
        return True

    def renew(self) -> None:
        with self._guard:
            if not self._held:
                return
            try:
                self._lock.reacquire()
            except redis.exceptions.LockNotOwnedError:
                log.error("lost the lock %s: it lapsed before it could be renewed", self._lock.name)
                self._held = False
                self._renewer.discard(self)
            except redis.RedisError:  # Redis unreachable for a moment: try again at the next renewal
                log.warning("could not renew the lock %s", self._lock.name, exc_info=True)

    def release(self) -> None:
        with self._guard:
            self._held = False
            self._renewer.discard(self)
        try:
            self._lock.release()
        except redis.exceptions.LockError:  # lapsed: already logged by the renewer; the save is done
            pass


DRAWN_TTL = 3600  # seconds a Play stream's last drawn frame is kept (app/web/play_stream.py)
# One key a session, "token frame"; the newer word for the same stream stands, whatever order two arrive in.
NOTE_DRAWN = """
local held = redis.call('GET', KEYS[1])
local frame = tonumber(ARGV[2])
if held then
  local token, older = string.match(held, '^(%S+) (%d+)$')
  if token == ARGV[1] and tonumber(older) > frame then frame = tonumber(older) end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. frame, 'EX', ARGV[3])
"""


class RedisBackend:
    local = False

    def __init__(self, url: str, ttl: float, prefix: str = "bp"):
        self.client = redis.Redis.from_url(url)
        self.client.ping()
        self.ttl, self.prefix = int(ttl), prefix
        self._renewer = Renewer(LOCK_LEASE)

    def _keys(self, sid: str) -> tuple[str, str, str]:
        p = self.prefix
        return f"{p}:s:{sid}", f"{p}:h:{sid}", f"{p}:r:{sid}"

    def _expire_later(self, pipe, sid: str) -> None:
        for key in self._keys(sid):
            pipe.expire(key, self.ttl)

    def load(self, sid: str) -> Stored | None:
        meta, history, rewind = self._keys(sid)
        pipe = self.client.pipeline()
        pipe.hmget(meta, "version", "recipe", "state")
        pipe.lrange(history, 0, -1)
        pipe.hgetall(rewind)
        self._expire_later(pipe, sid)
        (version, recipe, state), chunks, points, *_ = pipe.execute()
        if version is None or recipe is None:
            return None
        return Stored(int(version), recipe, state, chunks, {int(k): v for k, v in sorted(points.items(),
                                                                                            key=lambda kv: int(kv[0]))})

    def version(self, sid: str) -> int | None:
        pipe = self.client.pipeline()
        pipe.hget(self._keys(sid)[0], "version")
        self._expire_later(pipe, sid)
        version = pipe.execute()[0]
        return None if version is None else int(version)

    def save(self, sid: str, change: Change) -> int:
        meta, history, rewind = self._keys(sid)
        version = new_version()
        pipe = self.client.pipeline()  # MULTI/EXEC: other workers see all of a save or none of it
        pipe.exists(meta)
        fields = {"version": version, "state": change.state}
        if change.recipe is not None:
            fields["recipe"] = change.recipe
        pipe.hset(meta, mapping=fields)
        if change.rewrite_history:
            pipe.delete(history)
        if change.history:
            pipe.rpush(history, change.history)
        if change.rewrite_rewind:
            pipe.delete(rewind)
        if change.rewind_drop:
            pipe.hdel(rewind, *change.rewind_drop)
        if change.rewind_put:
            pipe.hset(rewind, mapping=change.rewind_put)
        self._expire_later(pipe, sid)
        existed = pipe.execute()[0]
        if change.recipe is None and not existed:
            self.delete(sid)
            raise LookupError(f"session {sid} is not stored")
        return version

    def touch(self, sid: str) -> None:
        pipe = self.client.pipeline(transaction=False)
        self._expire_later(pipe, sid)
        pipe.execute()

    def delete(self, sid: str) -> None:
        self.client.delete(*self._keys(sid))

    def lock(self, sid: str):
        return SessionLock(self.client, f"{self.prefix}:lock:{sid}", self._renewer)

    def put_snapshot(self, snapshot_id: str, data: bytes) -> None:
        if not self.client.set(f"{self.prefix}:snap:{snapshot_id}", data, nx=True):
            raise KeyError(f"snapshot {snapshot_id} exists")

    def get_snapshot(self, snapshot_id: str) -> bytes | None:
        return self.client.get(f"{self.prefix}:snap:{snapshot_id}")

    def note_drawn(self, sid: str, token: str, frame: int) -> None:
        self.client.eval(NOTE_DRAWN, 1, f"{self.prefix}:drawn:{sid}", token, frame, DRAWN_TTL)

    def drawn(self, sid: str, token: str) -> int:
        held = self.client.get(f"{self.prefix}:drawn:{sid}")
        if held is None:
            return 0
        noted, frame = held.decode().split(" ")
        return int(frame) if noted == token else 0

    def expire(self) -> int:
        return 0  # Redis expires the keys itself

    def close(self) -> None:
        self._renewer.close()
        self.client.close()
