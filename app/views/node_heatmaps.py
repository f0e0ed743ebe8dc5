"""The nodes' pictures: each node's output over the input plane (2-D data only), one forward pass of the grid's
rows through the network, as one PNG data URI: every node's 16 x 16 picture, one under the other in the order of the
nodes (layer by layer), which the diagram shows a slice of at each node (app/views/network_svg.py). One picture a
step rather than one a node: a Play frame changes one image on the page, loaded and decoded once (bench/README.md).
Each picture's top and bottom rows are repeated above and below it (SLICE rows apart), so that the browser's smoothing
at a slice's edge never reads the next node's picture. (The outermost pixel of a node's square is smoothed with the
opposite edge of its own picture, where the pattern repeats: a one-pixel fringe a separate image did not have.)"""
import numpy as np

from app.core.session import Session

from .colors import display_range, finite, rgb
from .output import cached, plane_inputs, plane_key
from .png import data_uri

HEATMAP_GRID = 16
SLICE = HEATMAP_GRID + 2  # rows a node's picture takes in the column of pictures: its own, and its edges repeated
# The pictures are re-sent on every step: at level 1 the default network's 9 take 4.9 kB of base64 for 0.26 ms here,
# against 9.5 kB for 0.12 ms stored (level 0). A Play frame is half heatmaps: its bytes count more than 0.1 ms.
HEATMAP_ZLIB_LEVEL = 1


def _input_pixels(inputs: np.ndarray) -> np.ndarray:
    """The input nodes' pictures, (grid cells, inputs, rgb): each input over the plane, scaled by its largest
    magnitude on the grid."""
    shown = inputs / np.maximum(np.abs(inputs).max(axis=0), 1e-12)
    pixels = rgb(np.nan_to_num(shown))
    pixels.setflags(write=False)
    return pixels


def heatmaps(session: Session) -> str | None:
    """Every node's output over the input plane, as one PNG data URI (node k's picture is rows SLICE k + 1 to
    SLICE k + 16); None unless the raw inputs are 2-D.

    The grid's network inputs and the input nodes' pictures depend only on the data, so they are computed once
    for every session with the same data (output.plane_inputs); only the other layers are drawn per step.
    """
    data = session.dataset
    if data.domain is None or len(data.input_names) != 2:
        return None
    inputs = plane_inputs(data, HEATMAP_GRID)
    net = session.trainer.net
    with np.errstate(all="ignore"):
        _, acts = net.forward(inputs)
    shown = []
    for l, a in enumerate(acts[1:], start=1):
        name = net.activations[l - 1].name
        s = display_range(a, name)
        if name in ("relu", "leaky_relu", "linear"):
            s = s / np.maximum(np.abs(s).max(axis=0), 1.0)
        shown.append(s)
    # One colour lookup for every node at once: (grid cells, all nodes, rgb).
    pixels = np.concatenate([cached(("input pictures", *plane_key(data, HEATMAP_GRID)), lambda: _input_pixels(inputs)),
                             rgb(finite(np.concatenate(shown, axis=1)))], axis=1)
    pictures = pixels.transpose(1, 0, 2).reshape(-1, HEATMAP_GRID, HEATMAP_GRID, 3)  # (nodes, rows, columns, rgb)
    padded = np.concatenate([pictures[:, :1], pictures, pictures[:, -1:]], axis=1)
    return data_uri(padded.reshape(-1, HEATMAP_GRID, 3), HEATMAP_ZLIB_LEVEL)
