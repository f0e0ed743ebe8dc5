"""The shared backend: Redis, so that several workers and hosts serve the same sessions.

Per session: a hash with its version, recipe and state, a list of loss-curve chunks and a hash of rewind
points, all three expiring together after the time-to-live. Snapshots never expire. For shares to survive a
crash of Redis itself, run it with `appendonly yes` and `appendfsync always` (see the README).
"""
import redis

from .backend import Change, Stored


class RedisBackend:
    shared = True

    def __init__(self, url: str, ttl: float, prefix: str = "bp"):
        self.client = redis.Redis.from_url(url)
        self.client.ping()
        self.ttl, self.prefix = int(ttl), prefix

    def _keys(self, sid: str) -> tuple[str, str, str]:
        p = self.prefix
        return f"{p}:s:{sid}", f"{p}:h:{sid}", f"{p}:r:{sid}"

    def _refresh(self, pipe, sid: str) -> None:
        for key in self._keys(sid):
            pipe.expire(key, self.ttl)

    def load(self, sid: str) -> Stored | None:
        meta, history, rewind = self._keys(sid)
        pipe = self.client.pipeline()
        pipe.hmget(meta, "version", "recipe", "state")
        pipe.lrange(history, 0, -1)
        pipe.hgetall(rewind)
        self._refresh(pipe, sid)
        (version, recipe, state), chunks, points, *_ = pipe.execute()
        if version is None or recipe is None:
            return None
        return Stored(int(version), recipe, state, chunks, {int(k): v for k, v in sorted(points.items(),
                                                                                            key=lambda kv: int(kv[0]))})

    def version(self, sid: str) -> int | None:
        pipe = self.client.pipeline()
        pipe.hget(self._keys(sid)[0], "version")
        self._refresh(pipe, sid)
        version = pipe.execute()[0]
        return None if version is None else int(version)

    def save(self, sid: str, change: Change) -> int:
        meta, history, rewind = self._keys(sid)
        pipe = self.client.pipeline()  # MULTI/EXEC: other workers see all of a save or none of it
        pipe.hincrby(meta, "version", 1)
        fields = {"state": change.state}
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
        self._refresh(pipe, sid)
        version = pipe.execute()[0]
        if change.recipe is None and version == 1:
            self.delete(sid)
            raise LookupError(f"session {sid} is not stored")
        return version

    def touch(self, sid: str) -> None:
        pipe = self.client.pipeline(transaction=False)
        self._refresh(pipe, sid)
        pipe.execute()

    def delete(self, sid: str) -> None:
        self.client.delete(*self._keys(sid))

    def lock(self, sid: str):
        # Held for one request; the timeout frees it if a worker dies holding it.
        return self.client.lock(f"{self.prefix}:lock:{sid}", timeout=60, blocking_timeout=30)

    def put_snapshot(self, snapshot_id: str, data: bytes) -> None:
        if not self.client.set(f"{self.prefix}:snap:{snapshot_id}", data, nx=True):
            raise KeyError(f"snapshot {snapshot_id} exists")

    def get_snapshot(self, snapshot_id: str) -> bytes | None:
        return self.client.get(f"{self.prefix}:snap:{snapshot_id}")

    def expire(self) -> int:
        return 0  # Redis expires the keys itself

    def close(self) -> None:
        self.client.close()
