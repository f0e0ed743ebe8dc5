"""Turn the controls form into config changes, and errors back into messages next to their controls."""
from typing import Any

from pydantic import ValidationError

from app.engine import FieldError

# Form control name -> dotted config field, where they differ.
DATASET_CONTROLS = {"dataset": "name", "noise": "noise", "samples": "samples", "train_percent": "train_fraction",
                    "features": "features"}
TRAINING_CONTROLS = ("hidden_activation", "output_activation", "loss", "optimizer", "learning_rate", "momentum",
                     "beta1", "beta2", "eps", "regularization", "regularization_rate", "batch_size", "init", "seed")
CHECKBOXES = ("shuffle", "train_biases")
CONTROL_OF_FIELD = {f"dataset.{field}": control for control, field in DATASET_CONTROLS.items()}


def config_changes(form, current: dict) -> dict[str, Any]:
    """The new config the form asks for, as a dict CreateSession can validate. Raw strings are kept so that
    validation, not this function, reports bad numbers."""
    changes: dict[str, Any] = {k: form[k] for k in TRAINING_CONTROLS if k in form}
    for k in CHECKBOXES:
        if f"{k}__present" in form:
            changes[k] = k in form
    dataset = dict(current["dataset"])
    if "dataset" in form and form["dataset"] != dataset.get("name"):
        # A new dataset starts from its own defaults: the other data controls described the old one.
        changes["dataset"] = {"name": form["dataset"]}
        return changes
    for control, field in DATASET_CONTROLS.items():
        if control in ("dataset", "features") or control not in form or form[control] == "":
            continue
        value = form[control]
        if control in ("noise", "train_percent"):
            try:
                value = float(value) / 100
            except ValueError:
                pass
        dataset[field] = value
    if "features__present" in form:
        dataset["features"] = form.getlist("features")
    changes["dataset"] = dataset
    return changes


def error_text(exc: Exception) -> str:
    """control_errors as one line, each message naming its field (once: some messages already start with it)."""
    return "; ".join(text if text.startswith(field) else f"{field}: {text}"
                     for field, text in control_errors(exc).items())


def control_errors(exc: Exception) -> dict[str, str]:
    """Messages keyed by the form control they belong to ("" for the form as a whole)."""
    if isinstance(exc, FieldError):
        pairs = [(exc.field, exc.message)]
    elif isinstance(exc, ValidationError):
        pairs = [(".".join(str(p) for p in e["loc"]), e["msg"].removeprefix("Value error, ")) for e in exc.errors()]
    else:
        raise exc
    errors: dict[str, str] = {}
    for field, message in pairs:
        field = CONTROL_OF_FIELD.get(field, field.split(".")[0] if not field.startswith("dataset") else "dataset")
        errors.setdefault(field, message)
    return errors
