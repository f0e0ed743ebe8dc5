"""The output panel as a Plotly figure: decision heatmap for 2-D data, fitted curve for 1-D, else predicted vs actual.

Regression values are in the data's own units (the targets' scaling undone); the heatmap's colours are the
network's own output. A predicted input (the Predict panel's) is marked on the heatmap and on the curve."""
import threading
from collections import OrderedDict

import numpy as np

from app.core.session import Session
from app.engine.activations import class_threshold

from .colors import display_range, finite, rgb
from .png import data_uri
from .units import CURRENCIES, in_units, unit_words

GRID = 64
POSITIVE, NEGATIVE = "#0877bd", "#f59322"
DIVERGING = [[0.0, NEGATIVE], [0.5, "#e8eaeb"], [1.0, POSITIVE]]


def _signed_output(session: Session, o: np.ndarray) -> np.ndarray:
    """One value per row in [-1, 1]: the output node, or P(class 1) - P(class 0) for two one-hot nodes."""
    name = session.trainer.config.output_activation
    if o.shape[1] == 2:
        return o[:, 1] - o[:, 0] if name in ("sigmoid", "softmax") else (o[:, 1] - o[:, 0]) / 2
    # Centred on the threshold that decides the predicted class: 0 already, or 0.5 for outputs in [0, 1].
    if class_threshold(name) == 0.5:
        return np.clip(2.0 * o[:, 0] - 1.0, -1, 1)
    return np.clip(o[:, 0], -1, 1)


def _target_colors(session: Session, raw_targets: np.ndarray, labels) -> list:
    if labels is not None:
        return [POSITIVE if c == 1 else NEGATIVE for c in labels.tolist()]
    return np.clip(display_range(raw_targets[:, 0], session.trainer.config.output_activation), -1, 1).tolist()


# The train and test sets are told apart by how their points are drawn (filled, or outlined in ink), never by a colour:
# orange and blue are the classes' (and negative and positive), so the legend's keys and the sets' own points where
# they wear no class are in neutral greys (issue 25 §7: an orange "train" and a blue "test" read as the classes).
INK, SET_GREY = "#1f2933", "#616e7c"
SET_MARKERS = {"train": {"size": 7, "color": SET_GREY, "line": {"width": 1.5, "color": "#ffffff"}},
               "test": {"size": 7, "color": "#ffffff", "line": {"width": 1.5, "color": INK}}}


def set_key(name: str) -> dict:
    """The legend's key of a set whose points wear their class's colour: a neutral point drawn as the set's are, with
    no data of its own; the set's points share its legend group, so a click on the key hides them."""
    key = SET_MARKERS[name] if name == "test" else {**SET_MARKERS[name], "line": {"width": 1.5, "color": SET_GREY}}
    return {"type": "scatter", "mode": "markers", "name": name, "legendgroup": name, "x": [None], "y": [None],
            "marker": key, "hoverinfo": "skip"}  # the train key's outline is its fill: white would shrink it


def _points(session, x, y, labels, name, test):
    marker = {"size": 7, "line": {"width": 1.5, "color": INK if test else "#ffffff"}}
    colors = _target_colors(session, y, labels)
    marker["color"] = colors
    trace = {"type": "scatter", "mode": "markers", "name": name, "x": x[:, 0].tolist(), "y": x[:, 1].tolist(),
             "marker": marker, "hoverinfo": "x+y+name", "legendgroup": name, "showlegend": False}
    if labels is None:
        marker.update(colorscale=DIVERGING, cmin=-1, cmax=1)
        # Each point's target in the data's own units, for the hover.
        data = session.dataset
        raw = data.to_data(y)[:, 0]
        trace.update(text=[f"{data.target_names[0]} {in_units(float(v), data.unit)}" for v in raw],
                     hoverinfo="x+y+text+name")
    return trace


# What depends only on the data's plotting box, scaling and features (the grid's network inputs, the input
# nodes' heatmaps) is computed once and shared by every session with the same: a class's default sessions share
# one entry. At most MAX_CACHED entries (each 64 x 64 x features floats at most: under 8 MB in all), the least
# recently used out first.
MAX_CACHED = 32
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


def _array_key(a) -> tuple | None:
    return None if a is None else (a.dtype.str, a.shape, a.tobytes())


def plane_key(data, n: int) -> tuple:
    """Everything data.transform of an n x n grid over data.domain depends on."""
    (x0, x1), (y0, y1) = data.domain
    return (n, float(x0), float(x1), float(y0), float(y1), len(data.input_names), _array_key(data.input_scale),
            None if data.features is None else tuple(data.features), _array_key(data.mean), _array_key(data.std))


def cached(key: tuple, compute):
    """compute(), remembered under key (a read-only array or an immutable value)."""
    with _cache_lock:
        value = _cache.get(key)
        if value is not None:
            _cache.move_to_end(key)
            return value
    value = compute()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > MAX_CACHED:
            _cache.popitem(last=False)
    return value


def plane_inputs(data, n: int) -> np.ndarray:
    """The network inputs of an n x n grid over the plotting box, row-major from the top row (the largest x2),
    read-only: data.transform of the grid, computed once per box, scaling and features."""
    def compute() -> np.ndarray:
        (x0, x1), (y0, y1) = data.domain
        gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y1, y0, n))
        with np.errstate(all="ignore"):
            inputs = data.transform(np.column_stack([gx.ravel(), gy.ravel()]))
        inputs.setflags(write=False)
        return inputs

    return cached(("inputs", *plane_key(data, n)), compute)


def boundary_image(session: Session) -> str:
    """The network's output over the plotting box as a PNG data URI, top row at the largest x2."""
    inputs = plane_inputs(session.dataset, GRID)
    with np.errstate(all="ignore"):
        o = session.trainer.net.predict(inputs)
    shade = finite(_signed_output(session, o)).reshape(GRID, GRID)
    return data_uri(rgb(shade * 0.75))


def boundary(session: Session) -> dict:
    data = session.dataset
    (x0, x1), (y0, y1) = data.domain
    traces = [_points(session, data.raw_train_x, data.train_y, data.train_labels, "train", False), set_key("train")]
    if len(data.test_x):
        traces += [_points(session, data.raw_test_x, data.test_y, data.test_labels, "test", True), set_key("test")]
    yaxis = {"range": [y0, y1], "title": {"text": data.input_names[1]}}
    if 1 / 3 <= (y1 - y0) / (x1 - x0) <= 3:  # equal scales, unless that would squash the plot (uploaded data)
        yaxis["scaleanchor"] = "x"
    return {
        "data": traces,
        "layout": {
            "images": [{"source": boundary_image(session), "xref": "x", "yref": "y", "x": x0, "y": y1,
                        "sizex": x1 - x0, "sizey": y1 - y0, "sizing": "stretch", "layer": "below"}],
            "xaxis": {"range": [x0, x1], "title": {"text": data.input_names[0]}, "constrain": "domain"},
            "yaxis": yaxis,
        },
    }


def curve_fit(session: Session) -> tuple[list, list]:
    """x and the network's output, in the data's units, along the data's input range."""
    data = session.dataset
    raw = np.concatenate([data.raw_train_x, data.raw_test_x])[:, 0]
    xs = np.linspace(float(raw.min()), float(raw.max()), 200)
    with np.errstate(all="ignore"):
        fit = data.to_data(session.trainer.net.predict(data.transform(xs[:, None])))[:, 0]
    return xs.tolist(), np.nan_to_num(fit).tolist()


def _axis_title(data, k: int = 0) -> str:
    return f"{data.target_names[k]} ({unit_words(data.unit)})" if data.unit else data.target_names[k]


def target_axis(data, title: str) -> dict:
    """An axis of target values: its title (with the unit in words), thousands grouped and no "k" abbreviations,
    as the page writes numbers in the data's units (app/views/units.py), a currency before each tick."""
    axis = {"title": {"text": title}, "separatethousands": True, "exponentformat": "power"}
    if data.unit in CURRENCIES:
        axis["tickprefix"] = data.unit
    return axis


MARKER = {"size": 15, "symbol": "x-thin", "color": "#1f2933", "line": {"width": 3, "color": "#1f2933"}}


def marker(kind: str, predicted: tuple[list[float], float | None] | None) -> dict | None:
    """The predicted input's marker: at the input on the heatmap, at the network's output on the curve.
    `predicted` is (the raw input, its first output in the data's units), as the Predict panel computed it."""
    if predicted is None or kind not in ("boundary", "curve"):
        return None
    raw, output = predicted
    x, y = raw if kind == "boundary" else (raw[0], output)
    return {"type": "scatter", "mode": "markers", "name": "your input", "x": [x], "y": [y], "marker": MARKER,
            "hoverinfo": "x+y+name"}


def curve(session: Session) -> dict:
    data = session.dataset
    xs, fit = curve_fit(session)
    traces = [{"type": "scatter", "mode": "markers", "name": "train", "x": data.raw_train_x[:, 0].tolist(),
               "y": data.raw_train_y[:, 0].tolist(), "marker": {**SET_MARKERS["train"], "size": 6}}]
    if len(data.test_x):
        traces.append({"type": "scatter", "mode": "markers", "name": "test", "x": data.raw_test_x[:, 0].tolist(),
                       "y": data.raw_test_y[:, 0].tolist(), "marker": {**SET_MARKERS["test"], "size": 6}})
    traces.append({"type": "scatter", "mode": "lines", "name": "network", "x": xs, "y": fit,
                   "line": {"color": INK, "width": 2.5}})
    return {"data": traces, "layout": {"xaxis": {"title": {"text": data.input_names[0]}},
                                       "yaxis": target_axis(data, _axis_title(data))}}


def predicted_vs_actual(session: Session) -> dict:
    data, net = session.dataset, session.trainer.net
    traces, lo, hi = [], np.inf, -np.inf
    regression = data.task == "regression"
    for x, y, name in ((data.train_x, data.raw_train_y if regression else data.train_y, "train"),
                       (data.test_x, data.raw_test_y if regression else data.test_y, "test")):
        if not len(x):
            continue
        with np.errstate(all="ignore"):
            o = np.nan_to_num(data.to_data(net.predict(x)))
        lo, hi = min(lo, float(y.min()), float(o.min())), max(hi, float(y.max()), float(o.max()))
        traces.append({"type": "scatter", "mode": "markers", "name": name, "x": y.ravel().tolist(),
                       "y": o.ravel().tolist(), "marker": {**SET_MARKERS[name], "size": 6}})
    traces.append({"type": "scatter", "mode": "lines", "name": "perfect", "x": [lo, hi], "y": [lo, hi],
                   "line": {"color": "#9aa5b1", "dash": "dot"}})
    unit = f" ({unit_words(data.unit)})" if data.unit and regression else ""
    return {"data": traces, "layout": {"xaxis": target_axis(data, f"actual target{unit}"),
                                       "yaxis": target_axis(data, f"network output{unit}")}}


def kind_of(session: Session) -> str:
    data = session.dataset
    outputs = session.trainer.net.sizes[-1]
    if data.domain is not None and len(data.input_names) == 2 and (
            outputs == 1 or (outputs == 2 and data.task == "classification")):
        return "boundary"
    if len(data.input_names) == 1 and data.task == "regression":
        return "curve"
    return "scatter"


def updated_by_steps(session: Session) -> bool:
    """Whether a step's update() is a part of the figure (the heatmap, or the fitted line), not the whole of it."""
    return kind_of(session) != "scatter"


def update(session: Session, predicted: tuple[list[float], float | None] | None = None) -> dict:
    """What changes after a step: the heatmap, or the fitted line (and the marked prediction on it), or the whole
    scatter (it is all outputs)."""
    kind = kind_of(session)
    if kind == "boundary":
        return {"kind": kind, "step": session.trainer.step_count, "image": boundary_image(session)}
    if kind == "curve":
        mark = marker(kind, predicted)
        return {"kind": kind, "step": session.trainer.step_count, "fit": curve_fit(session)[1],
                "marker_y": None if mark is None else mark["y"]}
    return build(session)


def build(session: Session, predicted: tuple[list[float], float | None] | None = None) -> dict:
    kind = kind_of(session)
    figure = {"boundary": boundary, "curve": curve, "scatter": predicted_vs_actual}[kind](session)
    mark = marker(kind, predicted)
    if mark is not None:
        figure["data"].append(mark)
    titles = {"boundary": "Network output over the input plane", "curve": "Fitted curve",
              "scatter": "Predicted versus actual"}
    figure["layout"].update(margin={"l": 48, "r": 12, "t": 24, "b": 40}, showlegend=True,
                            legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
                            plot_bgcolor="#ffffff",
                            paper_bgcolor="rgba(0,0,0,0)", font={"size": 11})
    return {"kind": kind, "title": titles[kind], "figure": figure, "step": session.trainer.step_count,
            "hint": hint(session, kind)}


def hint(session: Session, kind: str) -> str:
    """How to read the figure, in words."""
    data = session.dataset
    if kind == "boundary":
        if data.task == "regression" and data.target_scaling in ("standardised", "range"):
            middle = "the training mean" if data.target_scaling == "standardised" else "the middle of its range"
            unit = f" in {unit_words(data.unit)}" if data.unit else ""
            background = (f"Background: the network's {data.target_names[0]} (blue above {middle}, orange below); "
                          f"hover a point for its {data.target_names[0]}{unit}.")
        else:
            background = "Background: network output (blue positive, orange negative)."
        return f"{background} Filled points train, outlined points test; click the legend to hide a set."
    units = f", in {unit_words(data.unit)}" if data.unit else ""
    if kind == "curve":
        return (f"Line: the network's output over the input range; points: the data{units}, filled for train, "
                "outlined for test.")
    return (f"Each point is one row and output: actual target across, network output up{units}; filled for "
            "train, outlined for test. Points on the dotted line are perfect.")
