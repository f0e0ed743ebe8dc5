"""What a storage backend keeps for each session, and the interface both backends implement."""
import secrets
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Stored:
    """A session as storage holds it. `history` is the loss curve in chunks, appended one save at a time; `rewind`
    holds the rewind points by step and, under negative keys, the networks rebuilds replaced (records.py)."""
    version: int
    recipe: bytes
    state: bytes
    history: list[bytes]
    rewind: dict[int, bytes]


@dataclass
class Change:
    """What one save writes. `recipe` is None when it has not changed since the last save; the history is
    either appended to or, when `rewrite_history`, replaced by `history`."""
    state: bytes
    recipe: bytes | None = None
    history: bytes = b""
    rewrite_history: bool = False
    rewind_put: dict[int, bytes] = field(default_factory=dict)
    rewind_drop: list[int] = field(default_factory=list)
    rewrite_rewind: bool = False


def new_version() -> int:
    """A random version per save: a counter could repeat after storage lost a session, making a stale copy in
    some process look current."""
    return secrets.randbits(62)


class SessionBusy(Exception):
    """Another request held the session for longer than a request may wait."""


class RemoteLock(Protocol):
    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock. Without blocking, False when another process holds it; blocking, SessionBusy when it
        cannot be had in time."""

    def release(self) -> None: ...


class Backend(Protocol):
    local: bool  # storage on this machine, answering in microseconds (not over a network)

    def load(self, sid: str) -> Stored | None:
        """The session, or None when it does not exist or has expired. Counts as a use."""

    def version(self, sid: str) -> int | None:
        """The stored version, or None when gone."""

    def save(self, sid: str, change: Change) -> int:
        """Write a change (a new session when `change.recipe` is given and nothing is stored); return the new
        version. A write counts as a use."""

    def touch(self, sid: str) -> None:
        """Record a use that changed nothing, so that the idle timer restarts."""

    def delete(self, sid: str) -> None: ...

    def lock(self, sid: str) -> "RemoteLock":
        """The session's lock between processes (and hosts, for Redis)."""

    def put_snapshot(self, snapshot_id: str, data: bytes) -> None:
        """Store an immutable snapshot durably: once this returns, a crash of the server does not lose it."""

    def get_snapshot(self, snapshot_id: str) -> bytes | None: ...

    def expire(self) -> int:
        """Delete sessions idle longer than the time-to-live; return how many."""

    def note_drawn(self, sid: str, token: str, frame: int) -> None:
        """A page of session `sid` drew `frame` of its Play stream `token`, for the process that serves the stream
        when another one got the page's word (app/web/play_stream.py). One record a session: a word for another
        stream replaces it."""

    def drawn(self, sid: str, token: str) -> int:
        """The newest frame noted for the session's Play stream `token`; 0 when none."""

    def close(self) -> None: ...
