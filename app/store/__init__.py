"""Session storage: a working set in memory in front of SQLite (the default) or Redis."""
from pathlib import Path
from urllib.parse import urlsplit

from .working_set import SessionStore

__all__ = ["SessionStore", "open_store"]


def open_store(url: str, max_sessions: int, ttl: float) -> SessionStore:
    """`sqlite:///relative/path.db` (against the working directory), `sqlite:////absolute/path.db`, or
    `redis://host:port/db`."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or len(url) == len("sqlite:///"):
            raise ValueError(f"store {url!r}: write sqlite:///relative/path.db or sqlite:////absolute/path.db")
        from .sqlite_backend import SQLiteBackend
        backend = SQLiteBackend(Path(url[len("sqlite:///"):]).resolve(), ttl)
    elif scheme in ("redis", "rediss"):
        from .redis_backend import RedisBackend
        backend = RedisBackend(url, ttl)
    else:
        raise ValueError(f"store {url!r}: the store is sqlite:///path or redis://host:port/db")
    return SessionStore(backend, max_sessions, ttl)
