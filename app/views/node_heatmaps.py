"""The nodes' pictures: each node's output over the input plane (2-D data only), one forward pass of the grid's
rows through the network, as PNG data URIs."""
import numpy as np

from app.core.session import Session

from .colors import display_range, finite, rgb
from .output import cached, plane_inputs, plane_key
from .png import data_uri, data_uris

HEATMAP_GRID = 16
# The nodes' 16 x 16 pictures are stored uncompressed: they are re-sent on every step, where zlib's set-up costs
# more time than its bytes save (bench/README.md).
HEATMAP_ZLIB_LEVEL = 0


def _input_heatmaps(inputs: np.ndarray) -> list[str]:
    """The input nodes' heatmaps: each input over the plane, scaled by its largest magnitude on the grid."""
    shown = inputs / np.maximum(np.abs(inputs).max(axis=0), 1e-12)
    pixels = rgb(np.nan_to_num(shown))
    return [data_uri(pixels[:, j].reshape(HEATMAP_GRID, HEATMAP_GRID, 3)) for j in range(inputs.shape[1])]


def heatmaps(session: Session) -> list[list[str]] | None:
    """Each node's output over the input plane, as PNG data URIs; None unless the raw inputs are 2-D.

    The grid's network inputs and the input nodes' heatmaps depend only on the data, so they are computed once
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
    pixels = rgb(finite(np.concatenate(shown, axis=1)))
    uris = [list(cached(("input heatmaps", *plane_key(data, HEATMAP_GRID)), lambda: tuple(_input_heatmaps(inputs))))]
    pictures = data_uris(pixels.transpose(1, 0, 2).reshape(-1, HEATMAP_GRID, HEATMAP_GRID, 3), HEATMAP_ZLIB_LEVEL)
    at = 0
    for a in acts[1:]:
        uris.append(pictures[at:at + a.shape[1]])
        at += a.shape[1]
    return uris
