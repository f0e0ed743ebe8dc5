"""Marking a learner's own numbers for the step about to be taken (issue 14: "Check my calculation").

A typed value is right when it equals the engine's value (quantities.py) rounded to the significant digits typed,
which must be at least MIN_DIGITS.
"""
import math
import re
from dataclasses import dataclass

from app.engine import FieldError

from .quantities import Ask, expected, next_trace

MIN_DIGITS = 3
_NUMBER = re.compile(r"\s*[+-−]?(\d+(\.\d*)?|\.\d+)([eE][+-−]?\d+)?\s*")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def digits_typed(text: str) -> int:
    """Significant digits of a number as typed: "0.1385" 4, "1.50" 3, "2e-3" 1 (leading zeros do not count)."""
    mantissa = re.split(r"[eE]", text.strip().lstrip("+-−"))[0]
    digits = mantissa.replace(".", "").lstrip("0")
    return len(digits)


def parse(value) -> tuple[float, int] | None:
    """A typed value -> (its number, its significant digits); None when it is not a number.

    A JSON number counts the digits of its shortest form (0.5 is 1 digit) but is taken as exact: it is compared
    at no fewer than MIN_DIGITS digits.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return None
        return float(value), max(MIN_DIGITS, digits_typed(repr(float(value))))
    if not isinstance(value, str):
        return None
    text = value.strip().replace("−", "-").replace("$", "", 1)
    if _GROUPED.fullmatch(text):  # thousands separators: 50,000 or 1,234.5
        text = text.replace(",", "")
    if not _NUMBER.fullmatch(text) or not math.isfinite(float(text)):
        return None
    return float(text), digits_typed(text)


def rounded(value: float, digits: int) -> str:
    """value to `digits` significant digits, as a comparable text ("1.385e-01")."""
    return f"{value:.{digits - 1}e}"


@dataclass
class Mark:
    correct: bool
    expected: float
    reason: str | None = None  # why it is not right, when it is not a plain mismatch


def mark(value, want: float) -> Mark:
    """Right when `value` equals `want` rounded to the significant digits typed, at least MIN_DIGITS: a shorter
    value reads as if padded with zeros, so an exact 0.6 is right for 0.6 and 0.14 is wrong for 0.1385."""
    parsed = parse(value)
    if parsed is None:
        return Mark(False, want, "not a number")
    got, digits = parsed
    if want == 0 or got == 0:
        return Mark(got == want, want)
    digits = max(digits, MIN_DIGITS)
    return Mark(rounded(got, digits) == rounded(want, digits), want)


def check(session, asks: list[Ask], values: list) -> dict:
    """The API's answer: the step the answers are about, its batch rows, and a mark per answer, in order."""
    trace = next_trace(session)
    marks = []
    for k, (ask, value) in enumerate(zip(asks, values)):
        try:
            want = expected(trace, ask)
        except FieldError as exc:  # named within the request: answers.2.layer
            raise FieldError(f"answers.{k}.{exc.field}", exc.message) from None
        m = mark(value, want)
        marks.append({"correct": m.correct, "expected": m.expected, "reason": m.reason})
    return {"step": trace.step, "rows": trace.rows.tolist(), "marks": marks}
