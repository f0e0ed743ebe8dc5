"""Rooms in Redis, for every worker of every host: a key per room, answers and followers in hashes, and each event
kept in a list and announced on the room's pub/sub channel (Hub.follow listens)."""
import json
import time

from .events import KEPT_EVENTS, event_seq, sse
from .model import Room


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
