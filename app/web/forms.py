"""Turn the settings form into config changes, and errors back into messages next to their controls."""
from typing import Any

from pydantic import ValidationError

from app.core.options import OPTIONS
from app.engine import FieldError

# The error of a data field goes beside its control: dataset.train_fraction -> train_percent.
CONTROL_OF_FIELD = {o.field: o.form_name for o in OPTIONS if o.is_data and o.control}


def config_changes(form, current: dict) -> dict[str, Any]:
    """The new config the settings form asks for (current is Session.config()), as a dict CreateSession can
    validate. Raw strings are kept so that validation, not this function, reports bad numbers."""
    changes: dict[str, Any] = {}
    for option in OPTIONS:
        if option.control is None or option.is_data:
            continue
        name = option.form_name
        if option.control.kind == "checkbox":
            if f"{name}__present" in form:  # an unticked box sends nothing, so the form says it was there
                changes[option.name] = name in form
        elif name in form:
            changes[option.name] = form[name]
    dataset = dict(current["dataset"])
    if "dataset" in form and form["dataset"] != dataset.get("name"):
        # A new dataset starts from its own defaults: the other data controls described the old one.
        changes["dataset"] = {"name": form["dataset"]}
        return changes
    for option in OPTIONS:
        if option.control is None or not option.is_data or option.field == "dataset.name":
            continue
        name = option.form_name
        if option.control.kind == "chips":
            if f"{name}__present" in form:
                dataset[option.name] = form.getlist(name)
            continue
        if name not in form or form[name] == "":
            continue
        value = form[name]
        if option.control.percent:
            try:
                value = float(value) / 100
            except ValueError:
                pass
        dataset[option.name] = value
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
