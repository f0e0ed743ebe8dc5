"""The worksheet: every quantity on one edge's or node's chain, in order, and a typed chain's marks with feedback.

It works one row first (issue 23), as every seed article does: the focus row's chain from z to its own δ·a, then
the batch, whose every row's δ·a it gives, their mean ∂L/∂w, and the new weight under the optimizer in use. Every
expected value follows from the numbers the worksheet shows.
"""
from dataclasses import dataclass

from app.engine import LOSSES, Trace

from .marking import mark
from .quantities import Ask, expected


@dataclass(frozen=True)
class Link:
    """A row of the worksheet: a quantity to compute, how (kind), and the rows it is computed from."""

    ask: Ask
    # "sum" (z, Σ w·δ), "activation", "loss", "slope" (∂L/∂a, f′(z)), "product" (δ, the row's ∂L/∂w), "fused"
    # (δ = o − t), "mean" (the batch's ∂L/∂w, from every row's δ·a, which the worksheet gives), "update"
    kind: str
    factors: tuple[Ask, ...] = ()  # the earlier links it is made from


def chain(trace: Trace, target: tuple, row: int) -> list[Link]:
    """The links for an edge ("edge", l, from, to) or a node ("node", L, j), L >= 1: the batch row `row`'s own
    chain from z to its ∂L/∂w = δ·a (or ∂L/∂b = δ), then the batch's mean ∂L/∂w and the update. With a batch of one
    row the mean is that row's: its link is left out."""
    net = trace.net
    kind = target[0]
    layer, j = (target[1] + 1, target[3]) if kind == "edge" else (target[1], target[2])
    fused = LOSSES[trace.config.loss].fused == net.activations[-1].name

    def node(q):
        return Ask(q, layer=layer, node=j, row=row)

    z, a = node("z"), node("a")
    links = [Link(z, "sum"), Link(a, "activation", (z,))]
    if layer == net.n_layers:
        links.append(Link(node("loss_term"), "loss", (a,)))
        if fused:
            links.append(Link(node("delta"), "fused", (a,)))
        else:
            dl, df = node("dloss_da"), node("dact")
            links += [Link(dl, "slope", (a,)), Link(df, "slope", (z,)),
                      Link(node("delta"), "product", (dl, df))]
    else:
        wd, df = node("wdelta"), node("dact")
        links += [Link(wd, "sum"), Link(df, "slope", (z,)), Link(node("delta"), "product", (wd, df))]
    delta = links[-1].ask
    if kind == "edge":
        grad = Ask("grad_weight", layer=layer - 1, to=j, source=target[2], row=row)
        mean = Ask("grad_weight", layer=layer - 1, to=j, source=target[2])
        after = Ask("weight_after", layer=layer - 1, to=j, source=target[2])
    else:
        grad = Ask("grad_bias", layer=layer - 1, to=j, row=row)
        mean = Ask("grad_bias", layer=layer - 1, to=j)
        after = Ask("bias_after", layer=layer - 1, to=j)
    links.append(Link(grad, "product", (delta,)))
    if len(trace.rows) > 1:  # the batch's mean, from every row's δ·a (given)
        links += [Link(mean, "mean"), Link(after, "update", (mean,))]
    else:
        links.append(Link(after, "update", (grad,)))
    return links


def link_key(ask: Ask) -> str:
    """A link's key on the worksheet: its quantity and place, and "mean" for the batch's ∂L/∂w."""
    return ask.key() + (".mean" if ask.row is None and ask.quantity in ("grad_weight", "grad_bias") else "")


def mark_chain(trace: Trace, links: list[Link], typed: dict[str, str]) -> dict[str, dict]:
    """Each typed link's mark, by key, with feedback for a wrong one: the first wrong link among those it is made
    from, else, when every link it is made from was typed and is right (or it is made from given numbers only: a
    batch mean), the link itself ("own", its kind). Untyped links are left out."""
    marks: dict[str, dict] = {}
    by_key = {link_key(link.ask): link for link in links}
    for link in links:
        key = link_key(link.ask)
        text = typed.get(key, "").strip()
        if not text:
            continue
        m = mark(text, expected(trace, link.ask))
        out = {"correct": m.correct, "expected": m.expected, "reason": m.reason, "feedback": None}
        if not m.correct and m.reason is None:
            before = _made_from(link, by_key)
            wrong = [k for k in by_key if k in before and k in marks and not marks[k]["correct"]]
            factors = [marks.get(link_key(f)) for f in link.factors]
            if wrong:
                out["feedback"] = ("first_wrong", wrong[0])
            elif all(f is not None and f["correct"] for f in factors):
                out["feedback"] = ("own", link.kind)
        marks[key] = out
    return marks


def _made_from(link: Link, by_key: dict[str, Link]) -> set[str]:
    """The keys of every link `link` is made from, directly or not."""
    found, todo = set(), list(link.factors)
    while todo:
        key = link_key(todo.pop())
        if key not in found and key in by_key:
            found.add(key)
            todo.extend(by_key[key].factors)
    return found
