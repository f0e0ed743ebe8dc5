"""Turns: at most so many holders of a key at once, the others waiting in the order they came."""
import asyncio
from collections import deque


class Turns:
    """At most `capacity` holders of each key at once (in this process, on its event loop); the others wait, in
    the order they came: requests of a session (MAX_RUNNING), heavy threadpool work of an address (HEAVY_THREADS_PER_ADDRESS)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._running: dict[str, int] = {}
        self._waiting: dict[str, deque] = {}

    async def take(self, session: str) -> None:
        if self._running.get(session, 0) < self.capacity:
            self._running[session] = self._running.get(session, 0) + 1
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(session, deque()).append(turn)
        try:
            await turn  # handed over by give_back, still counted as running
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.give_back(session)  # it was handed this turn as it was cancelled: pass it on
            else:
                self._waiting[session].remove(turn)
                if not self._waiting[session]:
                    del self._waiting[session]
            raise

    def give_back(self, session: str) -> None:
        waiting = self._waiting.get(session)
        while waiting:
            turn = waiting.popleft()
            if not waiting:
                del self._waiting[session]
            if not turn.done():
                turn.set_result(None)
                return
        if (n := self._running.pop(session) - 1) > 0:
            self._running[session] = n

    def running(self, session: str) -> int:
        return self._running.get(session, 0)
