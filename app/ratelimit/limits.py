"""The limits: what one client may do, and how fast. Routes declare theirs (`Limited` in app/ratelimit/declared.py).

A client is its session for work on a session, so that a class behind one school address is not one client, and its
address for what creates sessions or snapshots. Buckets live in each process: with several workers a client gets up
to that many times the rate (bench/README.md has the figures behind each number)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    name: str
    per_second: float
    burst: float
    by: str  # "session" or "address"
    counts: str = "requests"  # or "work" (multiply-adds, spent by the route: Budget), "cpu" (seconds), "bytes"


# Play sends up to 60 frames a second; a class of 300 behind one address opens up to 600 sessions at once.
TRAIN = Limit("training steps", 60, 120, "session")
# ...and the work of those steps, in multiply-adds (app/quick/costs.py step_cost): the default network's Play at its
# fastest (3 epochs a frame, 1.2e6 multiply-adds) at 60 frames a second spends 6.9e7 a second, about a third of this;
# on the largest networks 2e8 a second is about a tenth of one core. A burst is the largest single page step.
WORK = Limit("training work", 2e8, 1e9, "session", counts="work")
# Work beyond CHEAP_WORK a request is heavy, and heavy work is also charged to its address: one client spreading
# the largest requests over many sessions is held to this, however many sessions it opens. A class never comes near
# it: a Step of the default network is about 1e5 multiply-adds.
HEAVY_WORK = Limit("heavy training work of one address", 4e8, 2e9, "address", counts="work")
CHEAP_WORK = 5_000_000
# Work waits at most this long for its budget; beyond it the request is refused.
MAX_DELAY = 5.0
CHECK = Limit("gradient checks", 1, 5, "session")
SHARE = Limit("shares", 1, 30, "session")
CREATE = Limit("new sessions", 10, 600, "address")
# The quota an address has of new sessions and of bytes stored with them (CSVs, imports): a class of 300 opens a
# session each, and a few more; a bucket refills the quota over an hour.
SESSION_QUOTA = Limit("sessions an hour from one address", 1000 / 3600, 1000, "address")
STORED_QUOTA = Limit("stored bytes an hour from one address", 100e6 / 3600, 100e6, "address", counts="bytes")
# Rebuilding the data and network (settings, reset, seeds, shape, upload, a new exercise) and predicting many rows
# cost up to a second each on the largest networks; a person changes a setting a few times a second at most.
REBUILD = Limit("setting changes", 5, 30, "session")
PREDICT = Limit("predictions", 20, 60, "session")
# Pages that build a network from what the request says (a setup link, the matrix form): heavy, and per address
# when there is no session yet.
LARGE_PAGE = Limit("large pages", 5, 30, "session")
# Everything else that draws the panels, or computes a trace for a worksheet, a guess or a lesson's answer, costs
# about what a step does.
PAGE = Limit("page actions", 60, 120, "session")
# A Play stream's page says when it has drawn each frame (app/web/play_stream.py): up to a display's rate, 60 a second
# (120 on a fast display), and nothing else; more would not train faster, since the stream trains each frame itself.
DRAWN = Limit("frames drawn", 120, 240, "session")
# Reading a session or a snapshot: its weights, a page, an export. A class of 300 behind one address opens the page
# at once, with no session yet (then the address is the key).
READ = Limit("reads", 60, 1200, "session")

# Server CPU time, in CPU seconds a second, per process. It guards only heavy requests (declared heavy, or more
# than CHEAP_WORK of training work): a request cheaper than a Step is never refused for CPU, whatever its session or
# its address spent. Every request's CPU is counted, though: its session pays all of it, its address what is beyond
# ADDRESS_ALLOWANCE.
CPU_SESSION = Limit("server CPU time of one session", 0.25, 3.0, "session", counts="cpu")
# An address's heavy requests share a quarter of a core: beside 50 students on the same address, one client running
# the largest requests from 16 tasks raised their p99 to 21-24 ms with it, 30-31 ms with half a core (bench/README.md).
CPU_ADDRESS = Limit("server CPU time of one address", 0.25, 2.5, "address", counts="cpu")
ADDRESS_ALLOWANCE = 0.02
# Requests of one session that run at once in a process; the others wait their turn before their budget is
# checked, so each is let in or refused knowing what the one before it cost.
MAX_RUNNING = 1
# Heavy threadpool work of one address that runs at once in a process; the rest waits its turn (work in threads holds
# the GIL for its Python parts, and the event loop, which answers every light request, waits behind it). Light work
# never waits here: one client's queue never holds another's requests.
HEAVY_THREADS_PER_ADDRESS = 1
MAX_BUCKETS = 100_000
# A live room's followers: pages, inspector, answers and event streams, by address (a class behind one address
# joins at once; app/web/live.py counts joins and answers on top of this).
FOLLOW = Limit("follower requests", 60, 1200, "address")
