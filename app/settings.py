"""Settings, read from PLAYGROUND_* environment variables (for example PLAYGROUND_MAX_NEURONS=128)."""
from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLAYGROUND_")

    max_hidden_layers: int = 8
    max_neurons: int = 64
    max_samples: int = 5000
    max_steps_per_request: int = 10_000
    # Bounds the work of one request: steps × batch rows.
    max_sample_passes_per_request: int = 5_000_000
    # ...and its time: a training request that would run longer is stopped and nothing of it is kept.
    max_request_seconds: float = 10.0
    max_predict_rows: int = 10_000
    max_csv_bytes: int = 1_000_000
    # Request bodies over this many bytes get 413 (refused unread when they say their length): create requests
    # carry at most a CSV, JSON-escaped; keep it above 2 × max_csv_bytes.
    max_body_bytes: int = 3_000_000
    # ...except imports of an exported session, which carry its CSV twice (JSON-escaped) and up to about 2.5 MB
    # of weights, optimizer state and loss curve: keep it above 4 × max_csv_bytes + 3 MB.
    max_import_bytes: int = 8_000_000
    # A request's body must arrive within this many seconds, or it gets 408 (app/body_limit.py); headers are the
    # proxy's to time (docs/operations.md, "Security and limits").
    body_seconds: float = 30.0
    # Where sessions and shared snapshots live: sqlite:///path (relative to the working directory) or
    # sqlite:////absolute/path, for the workers of one host; redis://host:port/db for several hosts.
    store: str = "sqlite:///data/playground.db"
    # Sessions kept in memory; the least recently used leave memory (not storage) beyond this.
    max_sessions: int = 10_000
    # Seconds a session may sit unused before it expires from memory and storage. Snapshots never expire.
    session_ttl: int = 7 * 24 * 3600
    # Steps each session can rewind; each costs (1 + optimizer arrays) × parameters × 8 bytes.
    rewind_steps: int = 250
    # ...and at most this many bytes of them per session, so a large network keeps fewer steps.
    rewind_bytes: int = 16_000_000
    # A live room ends this many seconds after its presenter's last change (or at Stop presenting).
    live_ttl: int = 3 * 3600
    # Followers of one live room who may answer its questions from one address (a class behind one NAT); the rest
    # may watch. One browser (its bp_follower cookie, set when it joins) has one vote.
    max_followers_per_address: int = 400
    # Event streams (GET /live/{code}/events) open at once in a process from one address, enough for a class;
    # beyond it 429. Each process also caps its streams in all at three quarters of its open-file limit.
    max_streams_per_address: int = 400
    # Multiplies every per-client rate limit (app/ratelimit.py); 0 turns them off.
    rate_limit_scale: float = 1.0
    # Mark the session cookie Secure; turn on when the playground is served over HTTPS.
    secure_cookies: bool = False


@lru_cache
def get_settings() -> Settings:
    return Settings()
