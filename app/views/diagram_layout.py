"""Where the network diagram's parts go: each layer's column and heading, each node's centre, and the curves of
the edges between two columns."""
from dataclasses import dataclass

from app.core.session import Session

from .diagram_model import NODE, Column
from .shown import node_names

SLOT = 90  # vertical room per node: the square and up to four lines of numbers
LEFT, RIGHT, TOP = 60, 84, 14
NAME_WIDTH = 12  # units a character of a node's name takes at the phone's type size
WIDTH = 600


@dataclass
class Layout:
    """Where things go: each layer's column x, each node's centre y, the SVG's height, and the nodes' names."""
    sizes: list[int]
    names: list[list[str]]
    xs: list[float]
    height: int

    def y(self, layer: int, index: int) -> float:
        """The centre of node `index` of `layer`: the layer's nodes are centred vertically, SLOT px apart."""
        return TOP + (self.height - 2 * TOP - self.sizes[layer] * SLOT) / 2 + (index + 0.5) * SLOT - 10


def layout_of(session: Session) -> Layout:
    sizes = session.trainer.net.sizes
    names = node_names(session)
    # Room for the input names on the left and the output names on the right: about 12 units a character, since a
    # phone draws them at 18 units (static/style.css) so that they read at 11 px; a desktop's 12 needs 7.
    left = max(LEFT, 30 + NAME_WIDTH * max(len(n) for n in names[0]))
    right = max(RIGHT, 30 + NAME_WIDTH * max(len(n) for n in names[-1]))
    step_x = (WIDTH - left - right) / (len(sizes) - 1)
    return Layout(sizes, names, [left + l * step_x for l in range(len(sizes))], TOP * 2 + max(sizes) * SLOT)


def columns_of(net, layout: Layout) -> list[Column]:
    """The heading over each layer: Input, Hidden l (with buttons to add or remove a node), Output."""
    columns, last = [], len(layout.sizes) - 1
    for l, n in enumerate(layout.sizes):
        if l == 0:
            title, subtitle = "Input", f"{n} feature{'s' * (n != 1)}"
        elif l == last:
            title, subtitle = "Output", net.output.name
        else:
            title, subtitle = f"Hidden {l}", net.hidden.name
        columns.append(Column(l, layout.xs[l], title, subtitle, n, 0 < l < last))
    return columns


class Curves:
    """The edges from layer l's column to the next: cubic curves M x0,y0 C mid,y0 mid,y1 x1,y1 from the right of
    a node to the left of the next, their coordinates formatted once rather than once per edge."""

    def __init__(self, layout: Layout, l: int):
        self.x0, self.x1 = layout.xs[l] + NODE / 2, layout.xs[l + 1] - NODE / 2
        mid = (self.x0 + self.x1) / 2
        self.ys_from = [layout.y(l, i) for i in range(layout.sizes[l])]
        self.ys_to = [layout.y(l + 1, j) for j in range(layout.sizes[l + 1])]
        self.from_text = [f"{y:.1f}" for y in self.ys_from]
        self.to_text = [f"{y:.1f}" for y in self.ys_to]
        self.start, self.middle, self.end = f"M{self.x0:.1f},", f" C{mid:.1f},", f" {mid:.1f},"
        self.x1_text = f" {self.x1:.1f},"

    def path(self, i: int, j: int) -> str:
        y0, y1 = self.from_text[i], self.to_text[j]
        return f"{self.start}{y0}{self.middle}{y0}{self.end}{y1}{self.x1_text}{y1}"

    def label_place(self, i: int, j: int) -> tuple[float, float]:
        """62 % of the way along the chord, 3 px above it."""
        y0, y1 = self.ys_from[i], self.ys_to[j]
        return self.x0 + 0.62 * (self.x1 - self.x0), y0 + 0.62 * (y1 - y0) - 3
