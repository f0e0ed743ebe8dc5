"""The same network, data and batches trained in PyTorch (float64) must give the same weights."""
import numpy as np
import pytest

from app.engine import TrainConfig, Trainer

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "linear": lambda z: z,
             "leaky_relu": lambda z: F.leaky_relu(z, 0.01)}


def torch_loss(name, z, o, t):
    if name == "half_sse":
        return 0.5 * ((t - o) ** 2).sum(1).mean()
    if name == "mse":
        return ((t - o) ** 2).mean(1).mean()
    if name == "bce":
        return F.binary_cross_entropy_with_logits(z, t, reduction="none").sum(1).mean()
    return F.cross_entropy(z, t.argmax(1))


CASES = [
    dict(hidden_activation="tanh", output_activation="tanh", loss="half_sse", optimizer="sgd"),
    dict(hidden_activation="relu", output_activation="linear", loss="mse", optimizer="momentum",
         regularization="l2", regularization_rate=0.01),
    dict(hidden_activation="sigmoid", output_activation="sigmoid", loss="bce", optimizer="adam",
         regularization="l1", regularization_rate=0.003),
    dict(hidden_activation="leaky_relu", output_activation="softmax", loss="cross_entropy", optimizer="adam",
         train_biases=False),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['hidden_activation']}-{c['loss']}-{c['optimizer']}")
def test_weights_match_pytorch_after_50_steps(case):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(40, 3))
    k = 3 if case["loss"] == "cross_entropy" else 2
    labels = rng.integers(0, k, 40)
    y = np.eye(k)[labels] if case["loss"] in ("bce", "cross_entropy") else rng.normal(size=(40, k))
    config = TrainConfig(layers=(3, 5, 4, k), learning_rate=0.05, batch_size=8, seed=4, **case)
    ours = Trainer(config, x, y)

    weights = [torch.tensor(w.copy(), requires_grad=True) for w in ours.net.weights]
    biases = [torch.tensor(b.copy(), requires_grad=case.get("train_biases", True)) for b in ours.net.biases]
    decay = config.regularization_rate if config.regularization == "l2" else 0.0
    groups = [{"params": weights, "weight_decay": decay}]
    if case.get("train_biases", True):
        groups.append({"params": biases, "weight_decay": 0.0})
    opt = {"sgd": lambda: torch.optim.SGD(groups, lr=0.05),
           "momentum": lambda: torch.optim.SGD(groups, lr=0.05, momentum=0.9),
           "adam": lambda: torch.optim.Adam(groups, lr=0.05)}[config.optimizer]()

    for _ in range(50):
        trace = ours.step()
        a = torch.tensor(x[trace.rows])
        t = torch.tensor(y[trace.rows])
        for l, (w, b) in enumerate(zip(weights, biases)):
            z = a @ w.T + b
            last = l == len(weights) - 1
            a = (torch.softmax(z, 1) if config.output_activation == "softmax" else
                 TORCH_ACT[config.output_activation](z)) if last else TORCH_ACT[config.hidden_activation](z)
        loss = torch_loss(config.loss, z, a, t)
        assert loss.item() == pytest.approx(trace.loss_before, rel=1e-12)
        if config.regularization == "l1":
            loss = loss + config.regularization_rate * sum(w.abs().sum() for w in weights)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for ours_w, theirs in zip(ours.net.weights, weights):
        np.testing.assert_allclose(ours_w, theirs.detach().numpy(), rtol=1e-10, atol=1e-13)
    for ours_b, theirs in zip(ours.net.biases, biases):
        np.testing.assert_allclose(ours_b, theirs.detach().numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_unticking_train_biases_mid_run_freezes_them_as_requires_grad_false_does(optimizer):
    """Train 5 steps, then freeze the biases (ours: train_biases off; torch: requires_grad=False, so the bias has no
    grad and its optimizer skips it): 20 more steps give the same weights, the biases and their optimizer state
    stay exactly as they were."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(24, 2)), rng.normal(size=(24, 1))
    config = TrainConfig(layers=(2, 4, 1), hidden_activation="tanh", output_activation="linear", loss="half_sse",
                         optimizer=optimizer, learning_rate=0.05, batch_size=6, seed=2)
    ours = Trainer(config, x, y)
    weights = [torch.tensor(w.copy(), requires_grad=True) for w in ours.net.weights]
    biases = [torch.tensor(b.copy(), requires_grad=True) for b in ours.net.biases]
    params = [p for pair in zip(weights, biases) for p in pair]
    opt = {"sgd": lambda: torch.optim.SGD(params, lr=0.05),
           "momentum": lambda: torch.optim.SGD(params, lr=0.05, momentum=0.9),
           "adam": lambda: torch.optim.Adam(params, lr=0.05)}[optimizer]()

    def torch_step(rows):
        a = torch.tensor(x[rows])
        for l, (w, b) in enumerate(zip(weights, biases)):
            z = a @ w.T + b
            a = z if l == len(weights) - 1 else torch.tanh(z)
        opt.zero_grad()  # sets every grad to None: a frozen bias then has none, and its optimizer skips it
        (0.5 * ((torch.tensor(y[rows]) - a) ** 2).sum(1).mean()).backward()
        opt.step()

    for _ in range(5):
        torch_step(ours.step().rows)
    ours.reconfigure(train_biases=False)
    for b in biases:
        b.requires_grad_(False)
    frozen_biases = [b.copy() for b in ours.net.biases]
    frozen_state = ours.optimizer.state_dict()
    for _ in range(20):
        torch_step(ours.step().rows)

    for ours_w, theirs in zip(ours.net.weights, weights):
        np.testing.assert_allclose(ours_w, theirs.detach().numpy(), rtol=1e-10, atol=1e-13)
    for ours_b, before, theirs in zip(ours.net.biases, frozen_biases, biases):
        assert np.array_equal(ours_b, before)
        np.testing.assert_allclose(ours_b, theirs.numpy(), rtol=1e-10, atol=1e-13)
    bias = ours.net.bias_mask().astype(bool)
    for name, value in ours.optimizer.state_dict().items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(value[bias], frozen_state[name][bias]), name
