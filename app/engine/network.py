"""A multilayer perceptron whose every intermediate value is kept for the diagram.

Layout follows PyTorch's nn.Linear: `weights[l]` has shape (sizes[l+1], sizes[l]) and
`weights[l][j, i]` is the edge from node i of layer l to node j of layer l+1; `biases[l][j]`
belongs to node j of layer l+1. Layer 0 is the input layer.
"""
from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATIONS, Activation
from .errors import FieldError
from .losses import Loss

INIT_SCHEMES = ("uniform", "xavier", "he", "zeros")


@dataclass
class Pass:
    """One forward and backward pass over a batch of n rows.

    z[l], delta[l]: (n, sizes[l+1]), the layer after weights[l]; a[l]: (n, sizes[l]), a[0] is the input.
    delta is per sample, dL_s/dz; grad is the batch mean of dL/dparams, flat like `MLP.params`.
    """

    z: list[np.ndarray]
    a: list[np.ndarray]
    delta: list[np.ndarray]
    grad: np.ndarray


class MLP:
    def __init__(self, sizes: list[int], hidden: str = "tanh", output: str = "tanh"):
        self.sizes = list(sizes)
        self.n_layers = len(self.sizes) - 1  # weight layers: hidden layers + 1
        self.hidden: Activation = ACTIVATIONS[hidden]
        self.output: Activation = ACTIVATIONS[output]
        self.activations = [self.hidden] * (self.n_layers - 1) + [self.output]
        self._layout, at = [], 0
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            self._layout.append((slice(at, at + n_out * n_in), (n_out, n_in), slice(at + n_out * n_in, at + n_out * (n_in + 1))))
            at += n_out * (n_in + 1)
        # All parameters live in one flat vector, and weights/biases are views into it, so that an
        # optimizer update is one vector operation however deep the network is.
        self.params = np.zeros(self.n_params)
        self.weights, self.biases = self.views(self.params)

    @property
    def n_params(self) -> int:
        return sum(o * i + o for i, o in zip(self.sizes[:-1], self.sizes[1:]))

    def views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Split a flat parameter-shaped vector into per-layer (out, in) weight and (out,) bias views."""
        return [flat[w].reshape(shape) for w, shape, _ in self._layout], [flat[b] for _, _, b in self._layout]

    def locate(self, k: int) -> tuple[str, int, int, int | None]:
        """Where flat parameter k sits: ("weight", layer, to, from) for weights[layer][to, from], or
        ("bias", layer, to, None) for biases[layer][to]."""
        for l, (w, (_, n_in), b) in enumerate(self._layout):
            if w.start <= k < w.stop:
                return ("weight", l, *divmod(k - w.start, n_in))
            if b.start <= k < b.stop:
                return "bias", l, k - b.start, None
        raise IndexError(f"parameter {k} out of range: this network has {self.n_params}")

    def flat_index(self, kind: str, layer: int, to: int, source: int | None = None) -> int:
        """The inverse of locate: the flat index of weights[layer][to, source] or of biases[layer][to]."""
        w, (_, n_in), b = self._layout[layer]
        return w.start + to * n_in + source if kind == "weight" else b.start + to

    def bias_mask(self) -> np.ndarray:
        """1.0 where the flat vector holds a bias, 0.0 where it holds a weight."""
        mask = np.zeros(self.n_params)
        for b in self.views(mask)[1]:
            b[:] = 1.0
        return mask

    def initialize(self, scheme: str, rng: np.random.Generator) -> None:
        """Draw weights layer by layer, each in (out, in) row-major order."""
        for w, b in zip(self.weights, self.biases):
            n_out, n_in = w.shape
            if scheme == "uniform":  # TF Playground: Math.random() - 0.5, biases 0.1
                w[:] = rng.random((n_out, n_in)) - 0.5
                b[:] = 0.1
            elif scheme == "xavier":  # Glorot uniform
                limit = np.sqrt(6.0 / (n_in + n_out))
                w[:] = rng.uniform(-limit, limit, (n_out, n_in))
                b[:] = 0.0
            elif scheme == "he":  # Kaiming normal, fan-in
                w[:] = rng.normal(0.0, np.sqrt(2.0 / n_in), (n_out, n_in))
                b[:] = 0.0
            elif scheme == "zeros":
                w[:] = 0.0
                b[:] = 0.0
            else:
                raise FieldError("init", f"Unknown init {scheme!r}; choose one of {', '.join(INIT_SCHEMES)}.")

    def set_parameters(self, weights=None, biases=None) -> None:
        """Copy explicit weights and/or biases in, checking every layer's shape."""
        if weights is not None:
            self._copy_layers("weights", weights, self.weights, lambda o, i: (o, i))
        if biases is not None:
            self._copy_layers("biases", biases, self.biases, lambda o, i: (o,))

    def _copy_layers(self, field, given, targets, shape_of) -> None:
        if len(given) != self.n_layers:
            raise FieldError(field, f"{field} has {len(given)} layers but layers {self.sizes} needs {self.n_layers}.")
        arrays = []
        for l, (values, n_in, n_out) in enumerate(zip(given, self.sizes[:-1], self.sizes[1:])):
            expected = shape_of(n_out, n_in)
            try:
                arr = np.asarray(values, dtype=np.float64)
            except (ValueError, TypeError):
                arr = None
            if arr is None or arr.shape != expected:
                got = "a ragged list" if arr is None else f"shape {arr.shape}"
                raise FieldError(
                    f"{field}.{l}",
                    f"{field}[{l}] (layer {l} → {l + 1}) has {got} but needs shape {expected}"
                    + (" = (nodes in layer {0}, nodes in layer {1})".format(l + 1, l) if field == "weights" else "")
                    + ".",
                )
            if not np.isfinite(arr).all():
                raise FieldError(f"{field}.{l}", f"{field}[{l}] contains NaN or Infinity.")
            arrays.append(arr)
        for target, arr in zip(targets, arrays):
            target[:] = arr

    def forward(self, x: np.ndarray, params: np.ndarray | None = None) -> tuple[list, list]:
        """x: (n, sizes[0]) -> z: [(n, sizes[l+1])], a: [(n, sizes[l])] with a[0] = x."""
        weights, biases = (self.weights, self.biases) if params is None else self.views(params)
        zs, acts = [], [x]
        for w, b, act in zip(weights, biases, self.activations):
            z = acts[-1] @ w.T + b
            zs.append(z)
            acts.append(act.f(z))
        return zs, acts

    def outputs_under(self, x: np.ndarray, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The output layer's z and a for every row of x under each of S parameter vectors, params (S, n_params):
        both (S * n, sizes[-1]), snapshot by snapshot. One stacked matmul per layer instead of S forward passes,
        with the same numbers as forward(x, params[s]) (the activations work row by row)."""
        count, n = len(params), len(x)
        a = np.broadcast_to(x, (count, *x.shape))
        for (w, shape, b), act in zip(self._layout, self.activations):
            weights = params[:, w].reshape(count, *shape)
            z = a @ weights.transpose(0, 2, 1) + params[:, None, b]
            a = act.f(z.reshape(count * n, shape[0])).reshape(count, n, shape[0])
        return z.reshape(count * n, -1), a.reshape(count * n, -1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[1][-1]

    def output_delta(self, loss: Loss, z: np.ndarray, o: np.ndarray, t: np.ndarray) -> np.ndarray:
        """dL_s/dz at the output, per sample: fused o - t, or dL_s/do * f'(z)."""
        if loss.fused == self.output.name:
            return o - t
        return loss.grad(o, t) * self.output.df(z, o)

    def backward(self, loss: Loss, zs: list, acts: list, t: np.ndarray) -> Pass:
        """Chain rule, output to input: delta_l = f'(z_l) * (delta_{l+1} @ W_{l+1}); grad_W = delta^T a / n."""
        grad = np.empty(self.n_params)
        grad_w, grad_b = self.views(grad)
        deltas = [None] * self.n_layers
        delta = self.output_delta(loss, zs[-1], acts[-1], t)
        for l in range(self.n_layers - 1, -1, -1):
            deltas[l] = delta
            np.matmul(delta.T, acts[l], out=grad_w[l])
            np.add.reduce(delta, axis=0, out=grad_b[l])  # np.sum's wrapper costs more than the sum here
            if l:
                delta = (delta @ self.weights[l]) * self.hidden.df(zs[l - 1], acts[l])
        grad *= 1.0 / len(t)
        return Pass(zs, acts, deltas, grad)

    def loss(self, loss: Loss, x: np.ndarray, t: np.ndarray, params: np.ndarray | None = None) -> float:
        """Batch-mean data loss of the rows x against targets t."""
        if len(x) == 0:
            return float("nan")
        zs, acts = self.forward(x, params)
        return float(loss.value(acts[-1], t, zs[-1]).mean())

    def __repr__(self) -> str:
        return f"MLP({self.sizes}, hidden={self.hidden.name}, output={self.output.name})"

