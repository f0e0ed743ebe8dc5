"""Session locks between the processes that share one SQLite file (several workers on one host).

Each session's lock is a record lock on one byte of a side file, at an offset hashed from the session id. They
are Linux's open-file-description locks: they belong to this store's descriptor (so two stores exclude each
other even in one process, and threads share their store's locks: the working set's per-session thread lock
lets one thread at a time ask for a session). The kernel drops them when the process dies, so a killed worker
never leaves a session locked.
"""
import errno
import fcntl
import hashlib
import os
import struct
import time
from pathlib import Path

from .backend import SessionBusy

WAIT = 30.0  # as long as a request waits for a Redis lock
POLL = (0.001, 0.05)  # first and longest pause between tries while another process holds the lock


def _flock(kind: int, offset: int) -> bytes:
    """struct flock for one byte: l_type, l_whence, l_start, l_len, l_pid (0, as OFD locks require)."""
    return struct.pack("hhqqixxxx", kind, os.SEEK_SET, offset, 1, 0)


class FileLocks:
    def __init__(self, path: Path):
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def lock(self, sid: str) -> "FileLock":
        offset = int.from_bytes(hashlib.blake2b(sid.encode(), digest_size=7).digest(), "big")
        return FileLock(self._fd, offset, sid)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class FileLock:
    def __init__(self, fd: int, offset: int, sid: str):
        self._fd, self._offset, self._sid = fd, offset, sid

    def _try(self) -> bool:
        try:
            fcntl.fcntl(self._fd, fcntl.F_OFD_SETLK, _flock(fcntl.F_WRLCK, self._offset))
            return True
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EAGAIN):
                return False
            raise

    def acquire(self, blocking: bool = True, wait: float = WAIT) -> bool:
        """Take the lock; without blocking, False when another process holds it. Blocking, it polls (fcntl's
        own wait cannot time out) and raises SessionBusy after `wait` seconds."""
        if self._try():
            return True
        if not blocking:
            return False
        deadline, pause = time.monotonic() + wait, POLL[0]
        while time.monotonic() < deadline:
            time.sleep(pause)
            if self._try():
                return True
            pause = min(pause * 2, POLL[1])
        raise SessionBusy(self._sid)

    def release(self) -> None:
        fcntl.fcntl(self._fd, fcntl.F_OFD_SETLK, _flock(fcntl.F_UNLCK, self._offset))
