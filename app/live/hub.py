"""Fan-out in one process: every event of a room, already encoded, goes to the queue of every stream following it.

An event is published once (rendered once, numbered and kept by the room storage) and delivered here as bytes, so
300 followers cost 300 queue puts and socket writes, not 300 renders. Events made in another process arrive through
`follow`: Redis pub/sub, or for SQLite a look at the rooms' newest numbers every FOLLOW_INTERVAL.
"""
import asyncio
import logging
import threading
from dataclasses import dataclass, field

from .events import event_seq

log = logging.getLogger(__name__)

FOLLOW_INTERVAL = 0.02  # seconds between looks at the SQLite events table for other workers' events
PING_SECONDS = 15.0  # an idle stream gets a comment this often: proxies keep it open, and a closed one is found
PING = (0, b": ping\n\n")  # a queue item like an event's (number, bytes); number 0 is never an event's
QUEUE_LIMIT = 512  # events waiting for one slow stream; beyond it the stream ends and its browser reconnects


@dataclass(eq=False)
class Subscriber:
    kinds: frozenset | None  # the event kinds it wants (None: all)
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))


@dataclass
class Channel:
    subscribers: set = field(default_factory=set)
    # The newest event number delivered here, in order; None until the first (a new channel's streams replay what
    # came before from storage themselves).
    last: int | None = None
    waiting: dict = field(default_factory=dict)  # events that arrived before an earlier one: number -> (kind, bytes)
    filling: bool = False  # the missing events are being read from storage


class Hub:
    def __init__(self, rooms):
        self.rooms = rooms
        self.loop: asyncio.AbstractEventLoop | None = None
        self.channels: dict[str, Channel] = {}
        self._publishing = threading.Lock()  # numbering and delivery in one order, in this process
        self._follower: asyncio.Task | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._follower = loop.create_task(self._follow())
        self._pinger = loop.create_task(self._ping())

    async def _ping(self) -> None:
        """One timer for every stream (a timeout per stream and event cost more than the event's own delivery)."""
        while True:
            await asyncio.sleep(PING_SECONDS)
            for channel in list(self.channels.values()):
                for sub in list(channel.subscribers):
                    if sub.queue.empty():
                        sub.queue.put_nowait(PING)

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            self._pinger.cancel()
        for channel in self.channels.values():
            for sub in channel.subscribers:
                sub.queue.put_nowait(None) if not sub.queue.full() else None

    # ---- publishing (any thread) ----

    def publish(self, code: str, kind: str, lines: bytes) -> int | None:
        """Number, keep and deliver an event; its number, or None when the room is gone."""
        with self._publishing:
            done = self.rooms.publish(code, kind, lines)
            if done is None:
                return None
            seq, event = done
            self._call(self._deliver, code, seq, kind, event)
            return seq

    def _call(self, fn, *args) -> None:
        if self.loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            fn(*args)
        else:
            self.loop.call_soon_threadsafe(fn, *args)

    def _deliver(self, code: str, seq: int, kind: str, event: bytes) -> None:
        """Deliver strictly in order. An event that arrives before an earlier one (published by another process, or
        announced late) waits while the missing ones are read from storage, where every event is kept before it
        is announced."""
        channel = self.channels.get(code)
        if channel is None or (channel.last is not None and seq <= channel.last):
            return
        if channel.last is not None and seq > channel.last + 1:
            channel.waiting[seq] = (kind, event)
            if not channel.filling and self.rooms is not None:
                channel.filling = True
                self.loop.create_task(self._fill(code, channel))
            return
        self._send(channel, seq, kind, event)
        while channel.last + 1 in channel.waiting:
            self._send(channel, channel.last + 1, *channel.waiting.pop(channel.last + 1))

    async def _fill(self, code: str, channel: Channel) -> None:
        try:
            events = await asyncio.to_thread(self.rooms.events_after, code, channel.last)
        except Exception:  # noqa: BLE001 - storage unreachable: end the streams; browsers resume when it is back
            log.exception("live room %s: could not read missed events", code)
            events = None
        finally:
            channel.filling = False
        if self.channels.get(code) is not channel:
            return
        if events is None:  # no longer kept: the streams end and resume with a whole frame
            return self._restart(code)
        for seq, event in events:
            channel.waiting.setdefault(seq, (kind_of(event), event))
        for seq in sorted(s for s in channel.waiting if s <= channel.last):
            del channel.waiting[seq]
        if channel.waiting:
            first = min(channel.waiting)
            self._deliver(code, first, *channel.waiting.pop(first))

    def _send(self, channel: Channel, seq: int, kind: str, event: bytes) -> None:
        channel.last = seq
        for sub in list(channel.subscribers):
            if sub.kinds is not None and kind not in sub.kinds:
                continue
            if sub.queue.qsize() >= QUEUE_LIMIT - 1:  # too far behind: end the stream; the browser resumes
                if not sub.queue.full():
                    sub.queue.put_nowait(None)
                channel.subscribers.discard(sub)
                continue
            sub.queue.put_nowait((seq, event))

    # ---- following (on the loop) ----

    def subscribe(self, code: str, kinds: frozenset | None) -> Subscriber:
        """A stream's queue, from now on: the stream then replays from storage what came before (and skips what it
        has twice). Call on the loop, before reading storage."""
        channel = self.channels.setdefault(code, Channel())
        sub = Subscriber(kinds)
        channel.subscribers.add(sub)
        return sub

    def settle(self, code: str, newest: int) -> None:
        """A new channel's starting point: the newest event in storage when its first stream subscribed (anything
        later arrives here; anything earlier the stream replays)."""
        channel = self.channels.get(code)
        if channel is not None and channel.last is None:
            channel.last = newest
            for seq in [s for s in channel.waiting if s <= newest]:
                del channel.waiting[seq]
            while channel.last + 1 in channel.waiting:
                self._send(channel, channel.last + 1, *channel.waiting.pop(channel.last + 1))

    def unsubscribe(self, code: str, sub: Subscriber) -> None:
        channel = self.channels.get(code)
        if channel is None:
            return
        channel.subscribers.discard(sub)
        if not channel.subscribers:
            del self.channels[code]

    async def _follow(self) -> None:
        """Deliver what other processes published."""
        try:
            if hasattr(self.rooms, "CHANNELS"):
                await self._follow_redis()
            else:
                await self._follow_table()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - logged; streams in this process then only see local events
            log.exception("live rooms: following other processes' events stopped")

    async def _follow_table(self) -> None:
        """SQLite: look for events newer than the last delivered here (in a thread: a query may wait for another
        process's write, and the loop must not)."""
        while True:
            await asyncio.sleep(FOLLOW_INTERVAL)
            wanted = {c: ch.last for c, ch in self.channels.items() if ch.subscribers and ch.last is not None}
            if wanted:
                for code, events in (await asyncio.to_thread(self._newer, wanted)).items():
                    if events is None:  # more than are kept went by: the streams end, and resume with a whole frame
                        self._restart(code)
                    for seq, event in events or []:
                        self._deliver(code, seq, kind_of(event), event)

    def _newer(self, wanted: dict[str, int]) -> dict[str, list[tuple[int, bytes]] | None]:
        found = {}
        for code, newest in self.rooms.latest(list(wanted)).items():
            if newest > wanted[code]:
                found[code] = self.rooms.events_after(code, wanted[code])
        return found

    def end(self, code: str, event_of) -> None:
        """A room that is gone: its streams get one last event (`event_of(number)`, kept nowhere) and end."""
        channel = self.channels.pop(code, None)
        if channel is None:
            return
        event = event_of((channel.last or 0) + 1)
        for sub in channel.subscribers:
            if sub.queue.qsize() < QUEUE_LIMIT - 1:
                sub.queue.put_nowait(((channel.last or 0) + 1, event))
            if not sub.queue.full():
                sub.queue.put_nowait(None)

    def _restart(self, code: str) -> None:
        channel = self.channels.pop(code, None)
        for sub in channel.subscribers if channel else ():
            if not sub.queue.full():
                sub.queue.put_nowait(None)

    async def _follow_redis(self) -> None:
        import redis.asyncio as aioredis
        client = aioredis.Redis.from_url(self.rooms.url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(self.rooms.CHANNELS)
            async for message in pubsub.listen():
                if message.get("type") != "pmessage":
                    continue
                code = message["channel"].decode().rsplit(":", 1)[1]
                event = message["data"]
                self._deliver(code, event_seq(event), kind_of(event), event)
        finally:
            await pubsub.aclose()
            await client.aclose()


def kind_of(event: bytes) -> str:
    """The `event:` of an event's bytes."""
    start = event.index(b"\nevent: ") + 8
    return event[start:event.index(b"\n", start)].decode()
