"""Every way the pages print a number, each named for what it returns.

short_label(value, digits)  "0.5933", "5.80e-05", "–" for None: the diagram's labels and the metrics (Jinja `fmt`)
exact(value)                "0.5932699921071872", "" for None: the full float, for data-* attributes (Jinja `full`)
six_digits(value)           "0.59327": six significant digits, for the narration
significant(value, digits)  "−1.2346×10⁻⁵": `digits` significant digits, a real minus sign, for the inspector
value_and_text(value)       {"value": float, "text": significant(value)}: one number of the inspector
"""
import math

INSPECTOR_DIGITS = 5
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
# %-formatting: faster than format() or an f-string with a format spec (bench/README.md), and the same text.
_FIXED = {d: f"%.{d}f" for d in range(10)}


def short_label(value: float | None, digits: int = 4) -> str:
    """At most `digits` decimals, trailing zeros dropped; "%.2e" below 1e-3 or from 1e4; "–" for None."""
    if value is None:
        return "–"
    size = abs(value)
    if (size >= 1e4 or size < 1e-3) and value != 0:
        return "%.2e" % value
    text = (_FIXED.get(digits) or f"%.{digits}f") % value
    return text.rstrip("0").rstrip(".") if "." in text else f"{value}"


def exact(value: float | None) -> str:
    """The float's repr, which reads back as the same float; "" for None."""
    return "" if value is None else repr(float(value))


def six_digits(value: float) -> str:
    """Six significant digits: enough to recognise a worked example's numbers (0.593270, 0.298371)."""
    return f"{value:.6g}"


def significant(value: float, digits: int = INSPECTOR_DIGITS) -> str:
    """`digits` significant digits: 0.13850, 12.346, 1.2346×10⁻⁵ (trailing zeros dropped), "−" for minus."""
    v = float(value)
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("−∞" if v < 0 else "∞")
    a = abs(v)
    if 1e-4 <= a < 1e6:
        text = f"{a:.{max(0, digits - 1 - math.floor(math.log10(a)))}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        mantissa, exponent = f"{a:.{digits - 1}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        text = f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"
    return ("−" if v < 0 else "") + text


def value_and_text(value) -> dict:
    """{"value": the float, "text": its significant() text}: the inspector template's n() shows the text and
    keeps the value in data-value."""
    v = float(value)
    return {"value": v, "text": significant(v)}
