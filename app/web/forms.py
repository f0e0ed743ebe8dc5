"""Turn the settings form into config changes, and errors back into messages next to their controls."""
from typing import Any

from pydantic import ValidationError

from app.core.options import FIELDSETS, OPTIONS
from app.engine import FieldError

from .setup_links import page_value

# The error of a data field goes beside its control: dataset.train_fraction -> train_percent.
CONTROL_OF_FIELD = {o.field: o.form_name for o in OPTIONS if o.is_data and o.control}


def config_changes(form, current: dict) -> dict[str, Any]:
    """The new config the settings form asks for (current is Session.config()), as a dict CreateSession can
    validate. Raw strings are kept so that validation, not this function, reports bad numbers."""
    dataset = dict(current["dataset"])
    if "dataset" in form and form["dataset"] != dataset.get("name"):
        # A new dataset starts from its own defaults: the other data controls described the old one.
        changes = _read(form, [o for o in OPTIONS if o.control and not o.is_data and not o.is_page])
        return {**changes, "dataset": {"name": form["dataset"]}}
    changes = _read(form, [o for o in OPTIONS if o.control and not o.is_page and o.field != "dataset.name"])
    dataset.update({name.removeprefix("dataset."): v for name, v in changes.items() if name.startswith("dataset.")})
    return {**{name: v for name, v in changes.items() if not name.startswith("dataset.")}, "dataset": dataset}


def page_changes(form) -> dict[str, Any]:
    """The page's settings the form carries (Play's stop conditions), by name: None turns one off. FieldError
    names a bad one (by its control's name, which is its link's)."""
    return {o.name: page_value(o, form[o.form_name]) for o in OPTIONS
            if o.is_page and o.control and o.control.fieldset in FIELDSETS and o.form_name in form}


def _read(form, options) -> dict[str, Any]:
    """Each option's value as its control sends it, keyed by the option's field; options the form leaves out
    (or leaves empty) are not there."""
    values: dict[str, Any] = {}
    for option in options:
        name, kind = option.form_name, option.control.kind
        if kind in ("checkbox", "chips"):
            # Unticked boxes send nothing, so the form says that the control was there.
            if f"{name}__present" in form:
                values[option.field] = name in form if kind == "checkbox" else form.getlist(name)
            continue
        if name not in form or form[name] == "" and option.is_data:
            continue
        value = form[name]
        if option.control.percent:
            try:
                value = float(value) / 100
            except ValueError:
                pass
        values[option.field] = value
    return values


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
