"""Regression in the data's own units: its values as the data writes them ($152,300), the scale the network's
targets are on, and the root-mean-square error in those units."""
import math


from app.core.session import Session
from app.datasets import Dataset

from .numbers import six_digits

# How the network's targets were made from the data's (app/datasets/encoding.py target_scaling), in words.
SCALINGS = {
    "standardised": "standardised (mean 0, standard deviation 1 over the training rows)",
    "range": "mapped from the training rows' range into the middle 80 % of the output's range",
    "symmetric": "moved from −1…1 to 0…1 for the output",
}


def in_units(value: float, unit: str) -> str:
    """A value in the data's units: dollars as "$152,300" (whole dollars); from 10,000 up, grouped thousands and
    six significant digits ("181,492", "1,234,567", "12,345.7"); else six significant digits."""
    if unit == "$":
        return f"{'−' if value < 0 else ''}${abs(value):,.0f}"
    size = abs(value)
    if 1e4 <= size < 1e15:
        return f"{value:,.{max(0, 5 - int(math.floor(math.log10(size))))}f}"
    return six_digits(value)


def scaled(dataset: Dataset) -> bool:
    """The network's targets are not the data's own numbers."""
    return dataset.target_scaling is not None


def scaling_words(dataset: Dataset) -> str:
    """How the network's targets were made: "price standardised (mean 0, …)"; "" when they are the data's."""
    if not scaled(dataset):
        return ""
    return f"{', '.join(dataset.target_names)} {SCALINGS[dataset.target_scaling]}"


def scale_words(dataset: Dataset) -> str:
    """Which scale the loss is on: "" for targets taken as they are."""
    return f"on the network's scale: {scaling_words(dataset)}" if scaled(dataset) else ""


def value_words(dataset: Dataset, network: float, data: float) -> str:
    """An output or target for the narration: in the data's units, and the network's own number beside it when
    the targets are scaled ("$152,300 (0.523 to the network)")."""
    if not scaled(dataset):
        return in_units(data, dataset.unit)
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
