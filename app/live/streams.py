"""How many event streams (GET /live/{code}/events) a process keeps open: each holds a socket, a file descriptor,
for as long as its follower watches. One address may open a class's worth, and the process in all leaves a quarter
of its open-file limit to everything else (pages, the API, the store), so that streams never use up the
descriptors new connections need."""
import resource
import threading

UNLIMITED_STREAMS = 100_000  # the cap when the process has no open-file limit
RETRY_SECONDS = 5  # a refused stream's Retry-After


def stream_cap(open_files: int) -> int:
    """Streams a process with a limit of `open_files` descriptors may hold (-1: no limit): three quarters of it."""
    if open_files < 0 or open_files == resource.RLIM_INFINITY:
        return UNLIMITED_STREAMS
    return max(1, open_files * 3 // 4)


class StreamSlots:
    """Open streams, per address and in all, in one process. `take` before a stream starts, `give_back` once it has
    ended (however it ended)."""

    def __init__(self, per_address: int, total: int):
        self.per_address, self.total = per_address, total
        self._open: dict[str, int] = {}
        self.total_open = 0
        self._guard = threading.Lock()

    @classmethod
    def from_settings(cls, per_address: int) -> "StreamSlots":
        """`per_address` streams an address, and in all what this process's open-file limit leaves room for."""
        return cls(per_address, stream_cap(resource.getrlimit(resource.RLIMIT_NOFILE)[0]))

    def take(self, address: str) -> str | None:
        """A slot for a stream from `address` (None), or why there is none (nothing is taken)."""
        with self._guard:
            if self._open.get(address, 0) >= self.per_address:
                return (f"Too many event streams from this address: at most {self.per_address} at once, as many "
                        f"as a class needs. Close some, or try again in {RETRY_SECONDS} s.")
            if self.total_open >= self.total:
                return (f"This server holds as many event streams as it can ({self.total} event streams). "
                        f"Try again in {RETRY_SECONDS} s.")
            self._open[address] = self._open.get(address, 0) + 1
            self.total_open += 1
            return None

    def give_back(self, address: str) -> None:
        with self._guard:
            left = self._open.pop(address, 0) - 1
            if left > 0:
                self._open[address] = left
            self.total_open = max(0, self.total_open - 1)

    def open(self, address: str) -> int:
        return self._open.get(address, 0)
