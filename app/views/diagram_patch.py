"""A light frame's diagram: what changed since the picture the page holds, as values to set in place
(static/js/diagram_patch.js) instead of a new SVG.

The picture's structure (its size, the edges' paths and label places, the nodes' places, names, pictures and number
lines) is drawn once, by app/views/network_svg.py; `Diagram.structure` names it. While the key stays the same, a
frame carries, for each edge and node whose values (network_svg.edge_values, node_values: the same values its markup
prints) differ from those the page has, the new ones; the <svg>'s own step, row and class (what it shows: the initial
weights, a step or a detailed step's phase); and the nodes' pictures (one image, Diagram.pictures) when they changed.
A page holding another structure gets the diagram's markup instead (app/web/frames.py).
"""
from dataclasses import dataclass, field

from .diagram_model import Diagram
from .network_svg import edge_values, node_values


def svg_values(d: Diagram) -> list:
    """The <svg>'s own attributes a step changes: data-step, data-row, data-batch-row, data-batch-size (None: left
    out) and its class, as templates/partials/diagram.html prints them."""
    return [d.step, d.row, d.batch_row, d.batch_size if d.batch_row is not None else None, d.css_class]


@dataclass
class Drawn:
    """What a page holds of the diagram: its structure and each element's values (those sent to it)."""

    structure: str | None = None
    values: dict = field(default_factory=dict)
    pictures: str | None = None


def reset(d: Diagram, drawn: Drawn) -> None:
    """`drawn` holds `d` whole: the page was sent its markup."""
    drawn.structure = d.structure
    drawn.values = {e.id: edge_values(e) for e in d.edges} | {n.id: node_values(n) for n in d.nodes}
    drawn.pictures = d.pictures


def patch(d: Diagram, drawn: Drawn) -> dict | None:
    """The changes from what `drawn` holds to `d`, and `drawn` brought up to date; None when the page holds another
    structure (it needs the markup)."""
    key = d.structure
    if key != drawn.structure:
        reset(d, drawn)
        return None
    edges, nodes, held = {}, {}, drawn.values
    for e in d.edges:
        values = edge_values(e)
        if held.get(e.id) != values:
            edges[e.id] = held[e.id] = values
    for n in d.nodes:
        values = node_values(n)
        if held.get(n.id) != values:
            nodes[n.id] = held[n.id] = values
    changes = {"structure": key, "svg": svg_values(d), "edges": edges, "nodes": nodes}
    if d.pictures != drawn.pictures:
        changes["pictures"] = drawn.pictures = d.pictures
    return changes
