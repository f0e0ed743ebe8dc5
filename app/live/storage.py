"""Where rooms, poll answers and recent events live, so that every worker (and, with Redis, every host) serves them:
beside the session store, in its SQLite file (sqlite_rooms.py) or its Redis (redis_rooms.py).

Each room's events are numbered, kept for replay and announced to the other processes (events.py): Redis pub/sub
for Redis; for SQLite the other workers of the host read the events table (Hub.follow).
"""
from pathlib import Path
from urllib.parse import urlsplit

from .redis_rooms import RedisRooms
from .sqlite_rooms import SQLiteRooms


def open_rooms(url: str):
    """Rooms beside the session store at `url` (app/store open_store's forms)."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return SQLiteRooms(Path(url[len("sqlite:///"):]).resolve())
    return RedisRooms(url)
