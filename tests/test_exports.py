"""Exported weights and code rebuild the session's current network: the NumPy snippet bit for bit."""
import io

import numpy as np
import pytest

from app.core.recipe import CreateSession
from app.exports import numpy_snippet, torch_snippet, weights_npz
from app.core.session import build_session

CASES = {
    "tanh-circle": dict(),
    "relu-sigmoid-bce": dict(dataset={"name": "xor"}, hidden_activation="relu", output_activation="sigmoid",
                             loss="bce"),
    "leaky-softmax-iris": dict(dataset={"name": "iris", "standardize": True}, layers=[4, 5, 3],
                               hidden_activation="leaky_relu", output_activation="softmax", loss="cross_entropy",
                               learning_rate=0.3),
    "linear-sine": dict(dataset={"name": "sine"}, output_activation="linear", loss="mse"),
    "no-hidden": dict(dataset={"name": "gauss"}, layers=[2, 1]),
    "deep-features": dict(dataset={"name": "spiral", "features": ["x1", "x2", "x1_sq", "sin_x2"], "standardize": True},
                          layers=[4, 6, 5, 4, 3, 1], hidden_activation="sigmoid", optimizer="adam"),
}


def trained(case: dict, steps: int = 5):
    session = build_session(CreateSession(**case))
    session.train(steps)
    return session


def network_inputs(session) -> np.ndarray:
    """Training and test rows, raw, through the dataset's transform: what the snippets take."""
    d = session.dataset
    return d.transform(np.concatenate([d.raw_train_x, d.raw_test_x]))


def run(code: str) -> dict:
    namespace = {}
    exec(code, namespace)
    return namespace


def torch_outputs(code: str, x: np.ndarray) -> np.ndarray:
    import torch  # the tests that call this are marked torch: without PyTorch (TORCH=0) they are skipped

    model = run(code)["model"]
    with torch.no_grad():
        return model(torch.tensor(x, dtype=torch.float64)).numpy()


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_numpy_snippet_reproduces_the_engine_exactly(case):
    session = trained(case)
    x = network_inputs(session)
    expected = session.trainer.net.forward(x)[1][-1]
    code = numpy_snippet(session)
    assert "after step 5:" in code
    assert np.array_equal(run(code)["predict"](x), expected)


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_torch_snippet_reproduces_the_engine(case):
    import torch

    session = trained(case)
    net = session.trainer.net
    x = network_inputs(session)
    model = run(torch_snippet(session))["model"]
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    assert len(linears) == net.n_layers
    for linear, w, b in zip(linears, net.weights, net.biases):  # the parameters themselves are exact
        assert linear.weight.dtype == torch.float64
        assert np.array_equal(linear.weight.detach().numpy(), w)
        assert np.array_equal(linear.bias.detach().numpy(), b)
    # The outputs only to 1e-12: torch's matmul may add the products in another order than NumPy's.
    assert np.allclose(torch_outputs(torch_snippet(session), x), net.forward(x)[1][-1], rtol=1e-12, atol=0)


def numpy_outputs(code: str, x: np.ndarray) -> np.ndarray:
    return run(code)["predict"](x)


def near(a: np.ndarray, b: np.ndarray) -> bool:
    return np.allclose(a, b, rtol=1e-12, atol=0)  # torch may add a matmul's products in another order


@pytest.mark.parametrize("snippet, outputs, same", [
    pytest.param(numpy_snippet, numpy_outputs, np.array_equal, id="numpy"),
    pytest.param(torch_snippet, torch_outputs, near, id="pytorch", marks=pytest.mark.torch)])
def test_a_snippet_goes_stale_after_another_step(snippet, outputs, same):
    session = trained(CASES["tanh-circle"])
    x = network_inputs(session)
    old = snippet(session)
    session.train(1)
    now = session.trainer.net.forward(x)[1][-1]
    assert not same(outputs(old, x), now)
    assert same(outputs(snippet(session), x), now)
    assert "after step 6:" in snippet(session)


def test_numpy_snippet_defines_only_the_activations_it_uses():
    code = numpy_snippet(trained(CASES["leaky-softmax-iris"], steps=1))
    assert "def leaky_relu" in code and "def softmax" in code
    assert "def tanh" not in code and "def sigmoid" not in code
    # One matrix row per line: the first layer's 5 rows of 4 weights.
    assert sum(line.count(",") == 4 and line.strip().startswith("[") for line in code.splitlines()) >= 5


@pytest.mark.parametrize("case", [CASES["tanh-circle"], CASES["no-hidden"], CASES["deep-features"]],
                         ids=["tanh-circle", "no-hidden", "deep-features"])
def test_weights_npz_round_trip(case):
    session = trained(case)
    net = session.trainer.net
    with np.load(io.BytesIO(weights_npz(session)), allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(["layers", *(f"{k}{l}" for l in range(1, net.n_layers + 1) for k in "Wb")])
        assert np.array_equal(npz["layers"], net.sizes) and npz["layers"].dtype.kind == "i"
        for l, (w, b) in enumerate(zip(net.weights, net.biases), start=1):
            assert npz[f"W{l}"].shape == w.shape == (net.sizes[l], net.sizes[l - 1])
            assert np.array_equal(npz[f"W{l}"], w) and np.array_equal(npz[f"b{l}"], b)


@pytest.mark.parametrize("case", [dict(dataset={"name": "house-price"}), dict(dataset={"name": "sine"},
                                                                             output_activation="sigmoid")],
                         ids=["house-price", "sine-sigmoid"])
def test_numpy_snippet_gives_outputs_in_the_datas_units_where_the_targets_are_scaled(case):
    session = trained(case)
    x = network_inputs(session)
    namespace = run(numpy_snippet(session))
    expected = session.dataset.to_data(session.trainer.net.forward(x)[1][-1])
    assert np.array_equal(namespace["to_data"](namespace["predict"](x)), expected)
    assert "to_data" not in run(numpy_snippet(trained(CASES["tanh-circle"])))


@pytest.mark.torch
def test_torch_snippet_gives_outputs_in_the_datas_units_too():
    import torch

    session = trained(dict(dataset={"name": "house-price"}))
    x = network_inputs(session)
    namespace = run(torch_snippet(session))
    with torch.no_grad():
        got = namespace["to_data"](namespace["model"](torch.tensor(x, dtype=torch.float64))).numpy()
    assert np.allclose(got, session.dataset.to_data(session.trainer.net.forward(x)[1][-1]), rtol=1e-12)
