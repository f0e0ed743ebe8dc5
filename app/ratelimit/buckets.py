"""Token buckets: `Buckets` for requests, work and bytes, `CpuBuckets` for server CPU time. Both read an injected
clock, so that tests never depend on how fast the machine is."""
import asyncio
import math
import threading
import time
from collections import OrderedDict

from .limits import ADDRESS_ALLOWANCE, CPU_ADDRESS, CPU_SESSION, MAX_BUCKETS, MAX_DELAY, Limit


class _Store:
    """Bucket levels by (limit, key), least recently used dropped beyond MAX_BUCKETS."""

    def __init__(self, scale: float, clock):
        self.scale, self.clock = scale, clock
        self._buckets: OrderedDict[tuple, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def rate(self, limit: Limit) -> tuple[float, float]:
        return limit.per_second * self.scale, limit.burst * self.scale

    def _level(self, limit: Limit, key: str, now: float) -> float:
        rate, burst = self.rate(limit)
        tokens, last = self._buckets.pop((limit.name, key), (burst, now))
        return min(burst, tokens + (now - last) * rate)

    def _store(self, limit: Limit, key: str, tokens: float, now: float) -> None:
        self._buckets[(limit.name, key)] = (tokens, now)
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)

    def tokens(self, limit: Limit, key: str) -> float:
        """What the bucket holds now (negative: in debt)."""
        with self._lock:
            now = self.clock()
            tokens = self._level(limit, key, now)
            self._store(limit, key, tokens, now)
            return tokens

    def give(self, limit: Limit, key: str, amount: float) -> None:
        """Put `amount` back (work that was estimated but not done), never beyond the burst."""
        with self._lock:
            now = self.clock()
            self._store(limit, key, min(self.rate(limit)[1], self._level(limit, key, now) + amount), now)


class Buckets(_Store):
    def __init__(self, scale: float, clock=time.monotonic, sleep=asyncio.sleep):
        super().__init__(scale, clock)
        self.sleep = sleep

    def rate(self, limit: Limit) -> tuple[float, float]:
        """Tokens a second and the burst, scaled; a burst below one token would refuse everything."""
        rate, burst = super().rate(limit)
        return rate, max(1.0, burst)

    def refusal(self, limit: Limit, wait: float) -> tuple[int, str]:
        """Retry-After seconds and the message of a 429."""
        rate, burst = self.rate(limit)
        seconds = max(1, math.ceil(wait))
        if limit.counts == "bytes":
            return seconds, (f"Too many {limit.name}: at most {burst / 1e6:g} MB, refilled over an hour. "
                             f"Try again in {seconds} s.")
        return seconds, (f"Too many {limit.name}: at most {rate:g} a second (bursts of {burst:g}). "
                         f"Try again in {seconds} s.")

    def take(self, limit: Limit, key: str, amount: float = 1.0) -> float:
        """Take `amount` tokens; return 0, or the seconds until they are there (then nothing is taken)."""
        rate, burst = self.rate(limit)
        with self._lock:
            now = self.clock()
            tokens = self._level(limit, key, now)
            need = min(amount, burst)
            wait = 0.0 if tokens >= need else (need - tokens) / rate
            self._store(limit, key, tokens - amount if wait == 0 else tokens, now)
        return wait

    def take_all(self, wanted: list[tuple[Limit, str]]) -> tuple[float, Limit | None]:
        """One token of each (limit, key), all or none: (0, None), or the longest wait and its limit (nothing
        taken)."""
        with self._lock:
            now = self.clock()
            levels = [(limit, key, self._level(limit, key, now)) for limit, key in wanted]
            waits = [(0.0 if tokens >= 1 else (1 - tokens) / self.rate(limit)[0], limit) for limit, key, tokens in levels]
            wait, limit = max(waits, key=lambda w: w[0], default=(0.0, None))
            for (lim, key, tokens) in levels:
                self._store(lim, key, tokens - 1 if wait == 0 else tokens, now)
        return (wait, limit) if wait else (0.0, None)

    def spend(self, limit: Limit, key: str, amount: float) -> tuple[float, float]:
        """Spend `amount` of a work limit: (seconds the work must first wait, 0), or (0, seconds until it may be
        asked again) when it would wait longer than MAX_DELAY, and then nothing is spent.

        Work waits until the bucket holds its amount, or a full bucket for work larger than the burst, which then
        leaves the bucket in debt. Spending at once queues the next request behind this one."""
        rate, burst = self.rate(limit)
        with self._lock:
            now = self.clock()
            tokens = self._level(limit, key, now)
            wait = max(0.0, (min(amount, burst) - tokens) / rate)
            if wait <= MAX_DELAY + 1e-9:
                tokens -= amount
            self._store(limit, key, tokens, now)
        return (wait, 0.0) if wait <= MAX_DELAY + 1e-9 else (0.0, wait - MAX_DELAY)


# The CPU clock of the calling thread that every new CpuBuckets reads (tests/conftest.py sets one that never moves,
# so that no test reads the machine's real CPU time; tests of the budgets move their own).
CPU_CLOCK = time.thread_time


class CpuBuckets(_Store):
    """Two token buckets per client in CPU seconds (CPU_SESSION, CPU_ADDRESS): `admit` before a heavy request,
    `charge` after every request. Buckets may go into debt (a request's CPU is known only once it ran); a client in
    debt waits for its heavy requests. `cpu_clock` is the CPU clock of the calling thread (injected in tests)."""

    def __init__(self, scale: float, clock=time.monotonic, cpu_clock=None):
        super().__init__(scale, clock)
        self.cpu_clock = cpu_clock or CPU_CLOCK

    @staticmethod
    def _keys(session: str | None, address: str) -> list[tuple[Limit, str]]:
        return [(CPU_SESSION, session)] * (session is not None) + [(CPU_ADDRESS, address)]

    def admit(self, session: str | None, address: str) -> tuple[int, str] | None:
        """None, or (Retry-After seconds, message) of a 429 when either bucket is in debt. A request with no
        session yet (creating one, opening a share link) has only its address's bucket."""
        with self._lock:
            now = self.clock()
            for limit, key in self._keys(session, address):
                tokens = self._level(limit, key, now)
                self._store(limit, key, tokens, now)
                if tokens < 0:
                    rate, burst = self.rate(limit)
                    seconds = max(1, math.ceil(-tokens / rate))
                    return seconds, (f"Too much server CPU time for large requests: one {limit.by} may use about "
                                     f"{rate:g} s of it a second (bursts of {burst:g} s), and this one has used "
                                     f"more. Try again in {seconds} s; small requests such as Step go on.")
        return None

    def charge(self, session: str | None, address: str, seconds: float, address_seconds: float | None = None) -> None:
        """A request used `seconds` of CPU (so far): its session pays them, its address `address_seconds` (by
        default what is beyond ADDRESS_ALLOWANCE)."""
        if address_seconds is None:
            address_seconds = max(0.0, seconds - ADDRESS_ALLOWANCE)
        with self._lock:
            now = self.clock()
            for limit, key in self._keys(session, address):
                amount = seconds if limit is CPU_SESSION else address_seconds
                self._store(limit, key, self._level(limit, key, now) - amount, now)
