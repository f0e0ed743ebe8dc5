"""A session's current network as files to take away: an .npz of the weights, and NumPy or PyTorch code.

The snippets write every weight as repr(float), which reads back as the same float64, and compute
the forward pass in the engine's order (z = a @ W.T + b), so the NumPy one reproduces the engine's
outputs bit for bit.
"""
import io

import numpy as np

from app.datasets.features import DEFAULT_FEATURES
from app.engine.activations import LEAKY_SLOPE
from app.core.session import Session
from app.views.units import SCALINGS

# The engine's formulas (app/engine/activations.py), written out for the NumPy snippet.
NUMPY_ACTIVATIONS = {
    "sigmoid": "def sigmoid(z):\n    return 1.0 / (1.0 + np.exp(-z))",
    "tanh": "def tanh(z):\n    return np.tanh(z)",
    "relu": "def relu(z):\n    return np.maximum(z, 0.0)",
    "leaky_relu": f"def leaky_relu(z):\n    return np.where(z > 0, z, {LEAKY_SLOPE!r} * z)",
    "linear": "def linear(z):\n    return z",
    "softmax": "def softmax(z):\n"
               "    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
               "    return e / e.sum(axis=1, keepdims=True)",
}
TORCH_ACTIVATIONS = {
    "sigmoid": "nn.Sigmoid()",
    "tanh": "nn.Tanh()",
    "relu": "nn.ReLU()",
    "leaky_relu": f"nn.LeakyReLU({LEAKY_SLOPE!r})",
    "linear": "nn.Identity()",
    "softmax": "nn.Softmax(dim=1)",
}


def weights_npz(session: Session) -> bytes:
    """The current weights as an .npz file (np.savez, loads without pickle).

    Arrays: `W1, b1, W2, b2, ...`, numbered from 1 for the first weight layer. `W<l>` has shape
    (out, in), PyTorch's nn.Linear layout: `W<l>[j, i]` is the weight from node i of layer l - 1 to
    node j of layer l; `b<l>` has shape (out,). `layers` (int64) lists the sizes from input to output.
    """
    net = session.trainer.net
    arrays = {"layers": np.asarray(net.sizes, dtype=np.int64)}
    for l, (w, b) in enumerate(zip(net.weights, net.biases), start=1):
        arrays[f"W{l}"], arrays[f"b{l}"] = w, b
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def numpy_snippet(session: Session) -> str:
    """Python code, NumPy only, that rebuilds the current network and defines predict(x)."""
    cfg, net = session.trainer.config, session.trainer.net
    used = [a.name for a in net.activations]
    functions = "\n\n\n".join(NUMPY_ACTIVATIONS[name] for name in dict.fromkeys(used))
    return "\n".join([
        *_header(session, "predict(x)"),
        "import numpy as np",
        "",
        "# W[l][j][i] is the weight from node i of layer l to node j of layer l + 1; b[l][j] is node j's bias.",
        "W = [",
        *(f"    np.array({_matrix(w)})," for w in net.weights),
        "]",
        "b = [",
        *(f"    np.array({_row(v)})," for v in net.biases),
        "]",
        "",
        "",
        functions,
        "",
        "",
        f"ACTIVATIONS = [{', '.join(used)}]  # one per weight layer",
        "",
        "",
        "def predict(x):",
        f'    """x: network inputs, shape (n, {cfg.layers[0]}) -> output activations, shape (n, {cfg.layers[-1]})."""',
        "    a = np.atleast_2d(np.asarray(x, dtype=np.float64))",
        "    for w, bias, f in zip(W, b, ACTIVATIONS):",
        "        a = f(a @ w.T + bias)",
        "    return a",
        "",
        *_to_data(session, "np.array"),
    ])


def torch_snippet(session: Session) -> str:
    """Python code that builds the current network as a float64 torch.nn.Sequential with its weights."""
    cfg, net = session.trainer.config, session.trainer.net
    modules = [
        f"    nn.Linear({n_in}, {n_out}), {TORCH_ACTIVATIONS[act.name]},"
        for n_in, n_out, act in zip(net.sizes[:-1], net.sizes[1:], net.activations)
    ]
    return "\n".join([
        *_header(session, "model(x)"),
        "import torch",
        "from torch import nn",
        "",
        "model = nn.Sequential(",
        *modules,
        ").double()",
        "",
        "# W[l] has nn.Linear's layout (out, in): W[l][j][i] is the weight from node i to node j.",
        "W = [",
        *(f"    {_matrix(w)}," for w in net.weights),
        "]",
        "b = [",
        *(f"    {_row(v)}," for v in net.biases),
        "]",
        "with torch.no_grad():",
        "    for linear, w, bias in zip(model[::2], W, b):",
        "        linear.weight.copy_(torch.tensor(w, dtype=torch.float64))",
        "        linear.bias.copy_(torch.tensor(bias, dtype=torch.float64))",
        "",
        f"# Usage: outputs = model(torch.tensor(x, dtype=torch.float64)), x of shape (n, {cfg.layers[0]}) network inputs.",
        "",
        *_to_data(session, "torch.tensor"),
    ])


def _header(session: Session, call: str) -> list[str]:
    """Comment lines: what the network is, at which step, and what its inputs are."""
    cfg, data = session.trainer.config, session.dataset
    hidden = f"{cfg.hidden_activation} hidden, " if len(cfg.layers) > 2 else ""
    steps = []
    if data.input_scale is not None:
        steps.append("divided by the training rows' maxima")
    if data.features not in (None, DEFAULT_FEATURES):
        steps.append("expanded into features")
    if data.mean is not None:
        steps.append("standardised with the training rows' mean and std")
    return [
        f"# Backprop Playground network after step {session.trainer.step_count}: layers {list(cfg.layers)}, "
        f"{hidden}{cfg.output_activation} output.",
        f"# Dataset {data.name!r}: raw inputs {', '.join(data.input_names)}, {', then '.join(steps) or 'used as they are'}.",
        f"# {call} takes the network's inputs (after features and standardisation), not raw rows: "
        f"{', '.join(data.feature_names)}.",
    ]


def _to_data(session: Session, array: str) -> list[str]:
    """Where the targets are scaled for the network: to_data(outputs), the outputs in the data's own units."""
    data = session.dataset
    if data.target_shift is None:
        return []
    dtype = ", dtype=torch.float64" if array.startswith("torch") else ""
    return [
        "",
        f"# The network's outputs are {', '.join(data.target_names)} {SCALINGS[data.target_scaling]}.",
        f"TARGET_SHIFT = {array}({_row(data.target_shift)}{dtype})",
        f"TARGET_SPREAD = {array}({_row(data.target_spread)}{dtype})",
        "",
        "",
        "def to_data(outputs):",
        '    """Network outputs -> the data\'s own units: outputs × spread + shift."""',
        "    return outputs * TARGET_SPREAD + TARGET_SHIFT",
        "",
    ]


def _row(values: np.ndarray) -> str:
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


def _matrix(w: np.ndarray) -> str:
    """One row per line, indented to sit inside the W = [...] list."""
    rows = "".join(f"        {_row(row)},\n" for row in w)
    return f"[\n{rows}    ]"
