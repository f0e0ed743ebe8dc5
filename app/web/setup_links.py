"""Setup links: query parameters that describe a config, e.g. /?dataset=spiral&layers=2,8,8,1&lr=0.03&seed=7.

A link rebuilds the same initial state (data and weights) every time. setup_query writes the canonical link
of a config; request_from_query reads one into a CreateSession. Errors name the query parameter.

Repeated parameters are refused rather than letting the last one win: `lr=0.1&lr=1` is more likely a mistake
than a choice. Booleans are written 1 / 0 and read as 1, 0, true or false.
"""
import math
import operator
from collections.abc import Mapping
from types import UnionType
from typing import Union, get_args, get_origin
from urllib.parse import urlencode

from pydantic import ValidationError

from app.core.options import ALWAYS_IN_LINKS, BY_LINK, OPTIONS, page_options
from app.core.recipe import CreateSession
from app.datasets import DATASETS
from app.datasets.features import DEFAULT_FEATURES, check_features
from app.engine import FieldError

# Page parameters that are not part of a setup; request_from_query leaves them to their handlers.
# Not part of a setup: the preset (handled by the page) and the tracking tags chat apps and newsletters add.
OTHER_PARAMS = frozenset({"preset", "fbclid", "gclid", "msclkid", "ref"})
BOOLS = {"1": True, "true": True, "0": False, "false": False}
BOUNDS = {"ge": (operator.ge, "at least"), "gt": (operator.gt, "more than"), "le": (operator.le, "at most"),
          "lt": (operator.lt, "less than")}


def _float(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise FieldError(name, f"{name} must be a number, not {text!r}.") from None


def _int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise FieldError(name, f"{name} must be a whole number, not {text!r}.") from None


def _bool(name: str, text: str) -> bool:
    try:
        return BOOLS[text.lower()]
    except KeyError:
        raise FieldError(name, f"{name} must be 1 or 0 (or true or false), not {text!r}.") from None


def _ints(name: str, text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise FieldError(name, f"{name} must be whole numbers separated by commas, e.g. 2,4,2,1; "
                               f"not {text!r}.") from None


def _names(name: str, text: str) -> list[str]:
    return [part.strip() for part in text.split(",")]


def _str(name: str, text: str) -> str:
    return text


def _reader(type_):
    """How a link's text is read for a setting of this type (app/core/options.py)."""
    kinds = [t for t in get_args(type_) if t is not type(None)] if get_origin(type_) in (Union, UnionType) else [type_]
    kind = kinds[0]
    if get_origin(kind) is list:
        return _ints if get_args(kind) == (int,) else _names
    return {bool: _bool, int: _int, float: _float}.get(kind, _str)


# Query name: (config field, reader), in the order of a written link.
_SPEC = {o.link: (o.field, _reader(o.type)) for o in OPTIONS if o.link}
PARAMS = {name: field for name, (field, _) in _SPEC.items()}
_PARAM_OF_FIELD = {field: name for name, field in PARAMS.items()}
PAGE_PARAMS = frozenset(o.link for o in page_options() if o.link)


def param_of(field: str) -> str:
    """The query parameter of a dotted config field, e.g. of the field of a FieldError build_session raised."""
    parts = field.split(".")
    while parts:
        if ".".join(parts) in _PARAM_OF_FIELD:
            return _PARAM_OF_FIELD[".".join(parts)]
        parts.pop()
    return "dataset" if field.startswith("dataset") else field


def _text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        text = repr(value)  # the shortest text that reads back as the same float
        return text.removesuffix(".0")
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    return str(value)


def setup_query(config: dict) -> str | None:
    """The canonical query string (without '?') of a Session.config() dict, or None when no link can describe
    it: inline or CSV data, or explicit starting weights. Session.config() leaves the weights out, so pass
    them in (`weights` / `biases` keys), or use session_query."""
    data = config["dataset"]
    info = DATASETS.get(data.get("name"))
    if info is None or info.name == "csv" or config.get("weights") is not None or config.get("biases") is not None:
        return None  # inline data has no registry entry
    pairs = []
    for option in OPTIONS:
        if not option.link:
            continue
        if option.is_page:
            value = config.get("page", {}).get(option.name, option.default)
        else:
            value = data.get(option.name) if option.is_data else config[option.field]
        usual = option.usual(config, info) if option.usual else option.default
        if option.link in ALWAYS_IN_LINKS or (option.applies(config, info) and value != usual):
            pairs.append((option.link, _text(value)))
    return urlencode(pairs, safe=",")


def session_query(session, config: dict | None = None, page: bool = True) -> str | None:
    """setup_query of a session (whose config() may be passed in), None when it started from explicit weights.
    With `page`, the page's settings (Play's speed) are in it too, as in the address bar."""
    config = session.config() if config is None else config
    return setup_query({**config, "weights": session.request.weights, "biases": session.request.biases,
                        "page": session.page.transport.settings() if page else {}})


def request_from_query(params: Mapping[str, str]) -> CreateSession | None:
    """The CreateSession a link describes, or None when it has no setup parameter. Missing parameters take
    CreateSession's defaults. Raises FieldError naming the query parameter for unknown, repeated, unreadable
    or invalid parameters. `params` may be a plain mapping or a multi-dict such as Starlette's QueryParams."""
    names = _setup_names(params)
    if not any(name in PARAMS for name in names):
        return None
    _check_names(params, names)
    names = [name for name in names if name not in PAGE_PARAMS]
    if not names:
        return None
    fields: dict = {"dataset": {}}
    for name in names:
        text = params[name].strip()
        if not text:
            raise FieldError(name, f"{name} needs a value.")
        field, read = _SPEC[name]
        target = fields["dataset"] if field.startswith("dataset.") else fields
        target[field.removeprefix("dataset.")] = read(name, text)
    _check_dataset(fields["dataset"])
    try:
        return CreateSession(**fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if field == "dataset" and message.startswith("samples "):  # DatasetSpec's own check of the cap
            field = "dataset.samples"
        raise FieldError(param_of(field), message) from None


def page_from_query(params: Mapping[str, str]) -> dict:
    """The page's settings a link gives, by their names in the options table (e.g. {"speed": "epoch"}), for
    Transport.set (app/core/page_state.py); FieldError names a bad one."""
    names = _setup_names(params)
    if not PAGE_PARAMS & set(names):
        return {}
    _check_names(params, names)
    return {BY_LINK[name].name: value for name in names
            if name in PAGE_PARAMS and (value := page_value(BY_LINK[name], params[name])) is not None}


def page_value(option, text: str):
    """A page setting's value read from a link's or the settings form's text: one of its choices, or a number
    within its bounds; blank is None (off) where the setting may be off. FieldError names its link name."""
    name, text, kinds = option.link, text.strip(), get_args(option.type)
    if kinds and all(isinstance(kind, str) for kind in kinds):
        if text not in kinds:
            raise FieldError(name, f"{name} must be one of {', '.join(kinds)}, not {text!r}.")
        return text
    if not text and type(None) in kinds:
        return None
    value = _reader(option.type)(name, text)
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldError(name, f"{name} must be a finite number, not {text!r}.")
    for bound, limit in option.bounds.items():
        holds, words = BOUNDS[bound]
        if not holds(value, limit):
            raise FieldError(name, f"{name} must be {words} {limit:g}, not {text}; leave it blank for no limit.")
    return value


def _setup_names(params: Mapping[str, str]) -> list[str]:
    return [name for name in params if name not in OTHER_PARAMS and not name.startswith("utm_")]


def _check_names(params: Mapping[str, str], names: list[str]) -> None:
    """FieldError for an unknown or repeated parameter."""
    for name in names:
        if name not in PARAMS:
            raise FieldError(name, f"Unknown setup parameter {name!r}; the known ones are {', '.join(PARAMS)}.")
        given = params.getlist(name) if hasattr(params, "getlist") else [params[name]]
        if len(given) > 1:
            raise FieldError(name, f"{name} is given {len(given)} times; give it once.")


def _check_dataset(data: dict) -> None:
    """What CreateSession leaves to build_session but a link can check now: the data set and its features."""
    name = data.setdefault("name", "circle")
    if name == "csv":
        raise FieldError("dataset", "a link cannot carry CSV data; choose the file on the page instead.")
    if name not in DATASETS:
        named = [n for n in DATASETS if n != "csv"]
        raise FieldError("dataset", f"Unknown dataset {name!r}; a link can name {', '.join(named)}.")
    info = DATASETS[name]
    if "features" not in data:
        return
    if info.takes_features:
        try:
            check_features(data["features"])
        except FieldError as exc:
            raise FieldError("features", exc.message) from None
    elif info.dims == 2 and data["features"] == list(DEFAULT_FEATURES):
        del data["features"]  # a fixed table's own raw inputs, as links made when it took features said them
    else:
        reason = ("takes its own inputs as they are (features are for the generated 2-D sets)" if info.dims == 2
                  else "does not have 2-D inputs, so it takes no features")
        raise FieldError("features", f"dataset {name} {reason}.")
