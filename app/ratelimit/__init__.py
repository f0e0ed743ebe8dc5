"""Per-client limits: token buckets of requests, of work (multiply-adds) and of server CPU time, declared on the
routes (`Limited`), answered with 429 and Retry-After. docs/operations.md ("Security and limits") says what each
is for."""
from .buckets import Buckets, CpuBuckets
from .declared import Budget, Limited, Limiter, get_budget, heavy_if, make_heavy, routes, take_bytes
from .limits import *  # noqa: F403 - the limits themselves
from .limits import Limit
from .meter import METER, Meter, Metering, address, in_thread, meter_threads, session_of, unmetered
from .turns import Turns
