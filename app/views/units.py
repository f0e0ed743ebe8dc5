"""Regression in the data's own units: its values as the data writes them ($152,300, 72.5 kg), the scale the
network's targets are on, and the root-mean-square error in those units.

One rule writes every number in the data's units, money and RMSE alike (`amount`): from 1,000 up a whole number
with its thousands grouped ("$152,300", "16,788"), as the house prices show; below, 4 significant digits ("812.4",
"0.1235"); from 10⁹ up, 4 significant digits and a power of ten. Units change words only: data-* attributes and the
JSON API keep the float."""
import math

from app.core.session import Session
from app.datasets import Dataset

from .numbers import significant, six_digits

# How the network's targets were made from the data's (app/datasets/encoding.py target_scaling), in words.
SCALINGS = {
    "standardised": "standardised (mean 0, standard deviation 1 over the training rows)",
    "range": "mapped from the training rows' range into the middle 80 % of the output's range",
    "symmetric": "moved from −1…1 to 0…1 for the output",
}
# Currencies are written before the number ("$152,300") and named in words on axes ("price (dollars)"); every other
# unit follows the number ("72.5 kg"), and names itself.
CURRENCIES = {"$": "dollars", "€": "euros", "£": "pounds", "¥": "yen"}
WHOLE_FROM, POWERS_FROM = 1e3, 1e9


def amount(value: float) -> str:
    """A number in the data's units, unit aside: "152,300", "16,788", "812.4", "0.1235", "1.235×10¹²", "−3"."""
    v = float(value)
    if math.isfinite(v) and abs(v) < POWERS_FROM and max(abs(v), abs(float(f"{v:.4g}"))) >= WHOLE_FROM:  # 999.96
        whole = f"{abs(v):,.0f}"
        return f"−{whole}" if v < 0 and whole != "0" else whole
    return significant(v, 4)


def in_units(value: float, unit: str) -> str:
    """A value in the data's units: "$152,300", "−$812.4", "72.5 kg", "12.5%", or the amount alone without a unit."""
    text = amount(value)
    if not unit:
        return text
    if unit in CURRENCIES:
        return f"−{unit}{text[1:]}" if text.startswith("−") else f"{unit}{text}"
    return f"{text}{'' if unit == '%' else ' '}{unit}"


def unit_words(unit: str) -> str:
    """The unit named in words, for axis titles and sentences: "dollars", "kg"; "" for none."""
    return CURRENCIES.get(unit, unit)


def scaled(dataset: Dataset) -> bool:
    """The network's targets are not the data's own numbers."""
    return dataset.target_scaling is not None


def scaling_words(dataset: Dataset) -> str:
    """How the network's targets were made: "price standardised (mean 0, …)"; "" when they are the data's."""
    if not scaled(dataset):
        return ""
    return f"{', '.join(dataset.target_names)} {SCALINGS[dataset.target_scaling]}"


def scale_words(dataset: Dataset) -> str:
    """Which scale the loss is on, and the RMSE's unit beside it: "" for targets taken as they are."""
    if not scaled(dataset):
        return ""
    unit = unit_words(dataset.unit) or "the data's own units"
    return f"on the network's scale: {scaling_words(dataset)}; the RMSE above is in {unit}"


def value_words(dataset: Dataset, network: float, data: float) -> str:
    """An output or target for the narration: in the data's units, and the network's own number beside it when
    the targets are scaled ("$152,300 (0.523 to the network)")."""
    if not scaled(dataset):  # the network's own number: as the narration writes them, unless it has a unit
        return in_units(data, dataset.unit) if dataset.unit else six_digits(data)
    return f"{in_units(data, dataset.unit)} ({six_digits(network)} to the network)"


def output_note(dataset: Dataset, trace, node: int) -> str | None:
    """For an output node whose targets are scaled: the scale its a and t are on, and the two in the data's units
    (the batch's first row, as the inspector expands it)."""
    if not scaled(dataset) or dataset.raw_train_y is None:
        return None
    a = float(dataset.to_data(trace.pass_.a[-1][:1])[0, node])
    t = float(dataset.raw_train_y[int(trace.rows[0]), node])
    return (f"Its a and t are on the network's scale: {scaling_words(dataset)}. In the data's units, "
            f"a = {in_units(a, dataset.unit)} and t = {in_units(t, dataset.unit)}.")
