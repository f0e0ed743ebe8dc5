"""The targets' unit: read from a CSV column's name (`price_usd` → "$", `weight_kg` → "kg"), or given by the learner,
checked to be a short, printable word the page can show ("$", "kg", "points")."""
import re
import unicodedata

from app.engine.errors import FieldError

FIELD = "dataset.unit"
MAX_LENGTH = 12
FORBIDDEN = set('<>"`\\&')  # markup, and & (Plotly decodes entities: "&lt;" would show as "<" on a plot)
# Characters a reader cannot see as one of the unit's letters: marks that stack on their neighbours (they can draw
# over the metrics' headings), format and private-use characters, unassigned code points, and the Hangul fillers
# that render as nothing. Wide characters (CJK) and those past U+FFFF (emoji, historic scripts, which most fonts
# lack) are refused too: twelve of them overflow the metrics' header.
HIDDEN_CATEGORIES = {"Mn", "Me", "Mc", "Cf", "Co", "Cn", "Cs"}
FILLERS = set("\u115f\u1160\u3164\uffa0")

# A column name's last `_`-separated part (any case) -> the unit its values are in. Money is a currency symbol the
# page writes before the number ("$152,300"); every other unit goes after it ("72.5 kg").
SUFFIXES = {
    "usd": "$", "dollars": "$", "eur": "€", "euros": "€", "gbp": "£", "pounds": "£", "jpy": "¥", "yen": "¥",
    "kg": "kg", "g": "g", "lb": "lb", "lbs": "lb",
    "km": "km", "m": "m", "cm": "cm", "mm": "mm", "in": "in", "ft": "ft", "m2": "m²", "sqm": "m²", "sqft": "sq ft",
    "s": "s", "sec": "s", "min": "min", "h": "h", "hours": "h", "days": "days", "years": "years",
    "c": "°C", "celsius": "°C", "f": "°F", "pct": "%", "percent": "%",
}


def unit_of(column: str) -> str:
    """The unit a column's name declares by its suffix: `price_usd` → "$", `height_cm` → "cm"; "" for none."""
    head, sep, suffix = column.strip().rpartition("_")
    return SUFFIXES.get(suffix.lower(), "") if sep and head else ""


def units_of(columns) -> str:
    """The targets' one unit: the unit their names share, "" when they name none or different ones."""
    found = {unit_of(c) for c in columns}
    return found.pop() if len(found) == 1 else ""


def check_unit(unit) -> str:
    """A unit as given, stripped: at most MAX_LENGTH printable characters, none of them markup."""
    if not isinstance(unit, str):
        raise FieldError(FIELD, "The unit must be text, such as $, kg or points.")
    text = unicodedata.normalize("NFC", unit.strip())  # é typed as e and a combining accent is one letter
    if len(text) > MAX_LENGTH:
        raise FieldError(FIELD, f"The unit is {len(text)} characters long; keep it to {MAX_LENGTH} or fewer "
                                "(such as $, kg or points).")
    if any(ch in FORBIDDEN or not ch.isprintable() for ch in text) or re.search(r"\s{2,}", text):
        raise FieldError(FIELD, "The unit may not contain angle brackets, ampersands, quotes, backticks, backslashes, "
                                "control characters or runs of spaces; write it as the page should show it, such as "
                                "$ or kg.")
    if any(_unseen(ch) for ch in text):
        raise FieldError(FIELD, "The unit may only hold letters, digits, signs and single spaces that show as "
                                "themselves, one narrow character each (no combining marks, invisible or wide "
                                "characters), such as $, kg or m².")
    return text


def _unseen(ch: str) -> bool:
    """A character that would not show as one narrow letter of the unit (see HIDDEN_CATEGORIES)."""
    return (unicodedata.category(ch) in HIDDEN_CATEGORIES or ch in FILLERS
            or unicodedata.east_asian_width(ch) in ("W", "F") or ord(ch) > 0xFFFF)  # beyond it: emoji, old scripts
