"""Helpers for error messages: quoting user text safely, counting things in plain English."""

UNSAFE = set('<>"`&\\')


def quote(text, limit=20):
    """A short, single-quoted preview of text with markup and control characters escaped."""
    text = str(text)
    if len(text) > limit:
        text = text[:limit] + "..."
    return "'" + "".join(escape(ch) for ch in text) + "'"


def escape(ch):
    if ch.isprintable() and ch not in UNSAFE:
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def count(k, word):
    """'1 row', '2 rows'."""
    return f"{k} {word}" if k == 1 else f"{k} {word}s"
