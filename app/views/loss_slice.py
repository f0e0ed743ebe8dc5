"""The inspector's plot of the loss along one weight (templates/partials/loss_slice.html draws it): the batch loss of
the step the inspector shows as this weight alone varies, the tangent at the weight's value (slope ∂L/∂w) and the
update's arrow to the value the step gave it, all as SVG coordinates and tick labels.

The numbers are the step's own (app/core/loss_slice.py reads its Trace): the same batch, the weights from before
its update, its gradient and its update, so they match the rest of the inspector.
"""
import math

from app.core import loss_slice as core
from app.engine import Trace

from .numbers import significant, value_and_text

WIDTH, HEIGHT = 300, 170
RIGHT, TOP, BOTTOM = 10, 8, 30  # margins; the left one fits the longest loss label
CHAR = 5.4  # width of a tick label's character at the plot's font size
PAGE_POINTS = 41
# The inspector is drawn again after every step while an edge is selected (Play too), so its slice keeps to this
# many multiply-adds (a few milliseconds), with fewer points on a large batch, and is not drawn below MIN_PAGE_POINTS.
PAGE_WORK = 20_000_000
MIN_PAGE_POINTS = 9
SMALL_ARROW = 4.0  # px: a step shorter than this is not drawn as an arrow
HEAD = 7.0  # the arrowhead's length, px


def nice_ticks(lo: float, hi: float, count: int = 4) -> tuple[list[float], int]:
    """About `count` round values (1, 2 or 5 × 10^k apart) within [lo, hi], and the decimals that print them."""
    raw = (hi - lo) / count
    power = math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * 10**power >= raw:
            break
    step = m * 10**power
    first = math.ceil(lo / step - 1e-9)
    values = [k * step for k in range(first, math.floor(hi / step + 1e-9) + 1)]
    return values, max(0, -math.floor(math.log10(step) + 1e-9))


def tick_texts(values: list[float], decimals: int) -> list[str]:
    """The tick values as printed: fixed decimals with a real minus, or ×10ⁿ when they are all tiny (a flat curve
    around 0), with the digits that tell them apart."""
    largest = max((abs(v) for v in values), default=0.0)
    if decimals > 6 and 0 < largest < 1e-4:
        digits = max(1, decimals + math.floor(math.log10(largest)) + 1)
        return ["0" if abs(v) < largest * 1e-9 else significant(v, digits) for v in values]
    texts = []
    for v in values:
        text = f"{v:.{decimals}f}"
        texts.append("0" if float(text) == 0 else text.replace("-", "−"))
    return texts


class Plot:
    """The plot of weights[layer][target, source] for one step, computed when the template asks for it (only
    once the backward pass has computed the weight's gradient)."""

    def __init__(self, trace: Trace, layer: int, source: int, target: int):
        self.trace, self.layer, self.source, self.target = trace, layer, source, target

    def drawn(self, updated: bool) -> dict:
        """The plot's geometry. Before the update is shown (`updated` false) the range is centred on the weight
        and says nothing of the step, and there is no arrow or new point."""
        trace = self.trace
        rows = len(trace.rows)
        points = min(PAGE_POINTS, core.most_points(trace.net, rows, PAGE_WORK))
        base = {"rows": rows, "updated": updated, "optimizer": trace.config.optimizer,
                "penalty": trace.reg_grad is not None}
        if points < MIN_PAGE_POINTS:
            return {**base, "too_large": True}
        s = core.slice_of(trace, self.layer, self.target, self.source, points, reveal_step=updated,
                          work=PAGE_WORK)
        if not math.isfinite(s.loss_current):
            return {**base, "not_finite": True}
        xlo, xhi = float(s.values[0]), float(s.values[-1])
        shown = [v for v in s.loss.tolist() if math.isfinite(v)] + [s.loss_current]
        if updated and math.isfinite(s.loss_after):
            shown.append(s.loss_after)
        ylo, yhi = min(shown), max(shown)
        if yhi - ylo <= 1e-12 * max(1.0, abs(yhi)):  # a flat curve: a band around it
            pad = max(abs(yhi) * 0.01, 1e-9)
        else:
            pad = (yhi - ylo) * 0.08
        ylo, yhi = ylo - pad, yhi + pad
        xvalues, xdec = nice_ticks(xlo, xhi, 5)
        yvalues, ydec = nice_ticks(ylo, yhi, 4)
        ylabels = tick_texts(yvalues, ydec)
        left = round(8 + CHAR * max(len(t) for t in ylabels) + 8)
        box = {"x0": left, "y0": TOP, "x1": WIDTH - RIGHT, "y1": HEIGHT - BOTTOM}

        def px(w: float) -> float:
            return box["x0"] + (w - xlo) / (xhi - xlo) * (box["x1"] - box["x0"])

        def py(loss: float) -> float:
            return box["y0"] + (yhi - loss) / (yhi - ylo) * (box["y1"] - box["y0"])

        path, pen = [], "M"
        for w, loss in zip(s.values.tolist(), s.loss.tolist()):
            if not math.isfinite(loss):
                pen = "M"
                continue
            path.append(f"{pen}{px(w):.1f},{py(loss):.1f}")
            pen = "L"
        reach = (xhi - xlo) / 3
        tangent = clip((px(s.current - reach), py(s.loss_current - s.slope * reach)),
                       (px(s.current + reach), py(s.loss_current + s.slope * reach)), box)
        now = {"x": px(s.current), "y": py(s.loss_current)}
        out = {
            **base, "width": WIDTH, "height": HEIGHT, "box": box, "curve": " ".join(path), "points": len(s.values),
            "xticks": [{"x": round(px(v), 1), "text": t} for v, t in zip(xvalues, tick_texts(xvalues, xdec))],
            "yticks": [{"y": round(py(v), 1), "text": t} for v, t in zip(yvalues, ylabels)],
            "tangent": tangent, "now": _rounded(now), "new": None, "arrow": None, "guides": [], "small_step": False,
            "numbers": {"current": value_and_text(s.current), "loss": value_and_text(s.loss_current),
                        "slope": value_and_text(s.slope), "after": value_and_text(s.after),
                        "loss_after": value_and_text(s.loss_after), "change": value_and_text(s.after - s.current)},
        }
        if updated and math.isfinite(s.loss_after):
            new = {"x": px(s.after), "y": py(s.loss_after)}
            out["new"] = _rounded(new)
            level = box["y1"] - 6
            out["guides"] = [_rounded({"x": p["x"], "y1": p["y"], "y2": level}) for p in (now, new)]
            if abs(new["x"] - now["x"]) < SMALL_ARROW:
                out["small_step"] = True
            else:
                out["arrow"] = arrow(now["x"], new["x"], level)
        return out


def _rounded(point: dict) -> dict:
    return {k: round(v, 1) for k, v in point.items()}


def arrow(x0: float, x1: float, y: float) -> dict:
    """A horizontal arrow from x0 to x1 at height y: its shaft and its head's three corners."""
    direction = 1.0 if x1 > x0 else -1.0
    head = min(HEAD, abs(x1 - x0))
    base = x1 - direction * head
    return {"x1": round(x0, 1), "x2": round(base, 1), "y": round(y, 1),
            "head": f"{x1:.1f},{y:.1f} {base:.1f},{y - head / 2:.1f} {base:.1f},{y + head / 2:.1f}"}


def clip(a: tuple[float, float], b: tuple[float, float], box: dict) -> dict | None:
    """The part of segment a–b inside the box (Liang–Barsky), or None when none of it is."""
    (xa, ya), (xb, yb) = a, b
    if not all(map(math.isfinite, (xa, ya, xb, yb))):
        return None
    dx, dy = xb - xa, yb - ya
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, xa - box["x0"]), (dx, box["x1"] - xa), (-dy, ya - box["y0"]), (dy, box["y1"] - ya)):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
    if t0 > t1:
        return None
    return {"x1": round(xa + t0 * dx, 1), "y1": round(ya + t0 * dy, 1),
            "x2": round(xa + t1 * dx, 1), "y2": round(ya + t1 * dy, 1)}
