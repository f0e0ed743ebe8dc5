"""A room's events as they are stored and sent: each numbered (the room's `seq`) and written as the bytes of its
server-sent event, `id:` line included, so that every stream sends it as is; the last KEPT_EVENTS are kept for
replay."""

KEPT_EVENTS = 256  # a follower that reconnects further behind than this gets a fresh render instead


def sse(seq: int, kind: str, data_lines: bytes) -> bytes:
    """One server-sent event: `data_lines` are already "data: ..." lines, each ending in a newline."""
    return b"id: %d\nevent: %s\n%s\n" % (seq, kind.encode(), data_lines)


def data_lines(text: str) -> bytes:
    return b"".join(b"data: " + line.encode() + b"\n" for line in text.split("\n"))


def event_seq(event: bytes) -> int:
    """The number on an event's `id:` line (its first)."""
    return int(event[4:event.index(b"\n")])
