"""The network diagram's model: the nodes, edges and column headings that app/views/network.py computes for a step,
and that templates/partials/network.html and the SVG writer (app/views/network_svg.py) draw."""
from dataclasses import dataclass
from functools import cached_property
from hashlib import blake2b

NODE = 34  # node square side, px


@dataclass
class Node:
    id: str
    layer: int
    index: int
    name: str
    x: float
    y: float
    picture: int | None  # k: it shows the k-th slice of the diagram's pictures (Diagram.pictures); None without
    activation: float | None  # the focus row's a, from the pass shown
    z: float | None  # the focus row's z; None for inputs
    delta: float | None  # the focus row's dL/dz, once the backward pass has reached it; None for inputs
    target: float | None  # an output's target for the focus row, as the network sees it
    bias: float | None  # current bias; None for inputs
    bias_before: float | None  # the bias the pass shown used, where an update followed it (else None)
    ring_color: str
    ring_width: float
    selected: bool  # the inspector is on it
    lines: list[tuple[str, str]]  # (css class, text) under the node
    description: str  # title and accessible name: "h1.1: a = ..., δ = ..., bias b = ..."

    @property
    def corner(self) -> tuple[float, float]:
        return self.x - NODE / 2, self.y - NODE / 2


@dataclass
class Edge:
    id: str
    layer: int
    source: int
    target: int
    path: str
    label_x: float
    label_y: float
    color: str
    width: float
    weight: float
    grad: float | None
    weight_before: float | None  # the weight the pass shown used, where an update followed it (else None)
    change: float | None
    changed: bool
    description: str
    label: str
    label_always: bool  # the update phase prints old -> new on every edge
    selected: bool = False  # the inspector is on it


@dataclass
class Column:
    layer: int
    x: float
    title: str
    subtitle: str
    size: int
    hidden: bool


@dataclass
class Picker:
    """The focus row's picker beside the diagram: "Row 3 of 10", the training row, and the positions ◀ ▶ go to."""
    label: str
    detail: str
    previous: int | None
    next: int | None


@dataclass
class Diagram:
    step: int
    row: int | None  # the focus row's index in the training set; None with no pass shown
    batch_row: int | None  # its position in the batch
    batch_size: int  # rows in the pass shown (0 with none)
    width: int
    height: int
    columns: list[Column]
    nodes: list[Node]
    edges: list[Edge]
    caption: str
    narration: str
    kind: str
    picker: "Picker | None" = None  # the focus row's picker; None before the first step
    pictures: str | None = None  # every node's picture over the input plane, one PNG data URI (views/node_heatmaps.py)

    @property
    def css_class(self) -> str:
        """The <svg>'s class: what the picture shows (a step, a detailed step's phase, the weights before any step);
        the style sheet animates a forward phase's numbers by it."""
        return f"diagram kind-{self.kind}"

    @cached_property
    def structure(self) -> str:
        """A short name for everything of the picture that a light frame's patch (app/views/diagram_patch.py) does
        not change: its size, the edges' paths and label places, the nodes' places, names, their slices of the
        pictures and whether they have lines of numbers. Equal names, equal markup but for the values (what it
        shows, its class, is one: the first step from the initial weights is a patch, not a new picture). Computed
        once: a light frame reads it to patch, and the markup prints it."""
        key = (self.width, self.height,
               tuple((e.id, e.path, e.label_x, e.label_y) for e in self.edges),
               tuple((n.id, n.x, n.y, n.name, n.layer, n.picture, bool(n.lines)) for n in self.nodes))
        return blake2b(repr(key).encode(), digest_size=8).hexdigest()
