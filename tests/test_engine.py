import numpy as np
import pytest

from helpers import mazur_setup, mazur_trainer, random_targets
from app.engine import (LOSSES, MLP, DivergenceError, FieldError, TrainConfig, Trainer, class_threshold, make_optimizer,
                        predicted_classes)
from app.engine.gradcheck import numerical_gradient, relative_error

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
OUTPUT_LOSS = [
    ("sigmoid", "half_sse"), ("sigmoid", "mse"), ("tanh", "half_sse"), ("tanh", "mse"), ("linear", "half_sse"),
    ("linear", "mse"), ("relu", "half_sse"), ("relu", "mse"), ("sigmoid", "bce"), ("softmax", "cross_entropy"),
]


def random_problem(seed, hidden, output, loss):
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 5))] + [int(rng.integers(1, 5)) for _ in range(seed % 3)]
    sizes.append(int(rng.integers(2 if output == "softmax" else 1, 4)))
    n, k = int(rng.integers(2, 6)), sizes[-1]
    net = MLP(sizes, hidden, output)
    net.params[:] = rng.normal(0, 1, net.n_params)
    x = rng.normal(0, 1, (n, sizes[0]))
    t = random_targets(rng, loss, n, k)
    return net, x, t


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output,loss", OUTPUT_LOSS)
@pytest.mark.parametrize("seed", [0, 1, 2])  # seed % 3 hidden layers: 0, 1 and 2
def test_backprop_matches_central_differences(hidden, output, loss, seed):
    net, x, t = random_problem(seed, hidden, output, loss)
    zs, acts = net.forward(x)
    grad = net.backward(LOSSES[loss], zs, acts, t).grad
    numeric = numerical_gradient(net, LOSSES[loss], x, t)
    assert relative_error(grad, numeric) < 1e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_gradient_check_catches_a_wrong_gradient():
    net, x, t = random_problem(4, "tanh", "tanh", "half_sse")
    zs, acts = net.forward(x)
    grad = net.backward(LOSSES["half_sse"], zs, acts, t).grad
    grad[0] *= 1.01
    assert relative_error(grad, numerical_gradient(net, LOSSES["half_sse"], x, t)) > 1e-4


@pytest.mark.parametrize("reg", ["l1", "l2"])
def test_regularisation_term_is_the_gradient_of_its_penalty(reg):
    """L2: rate·½Σw², L1: rate·Σ|w|, weights only; the step's reg_grad is that penalty's gradient."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 1))
    trainer = Trainer(TrainConfig(layers=(2, 3, 1), regularization=reg, regularization_rate=0.1, batch_size=6,
                                  shuffle=False), x, y)
    net, rate = trainer.net, 0.1

    def penalty(p):
        w = np.concatenate([m.ravel() for m in net.views(p)[0]])
        return rate * (0.5 * (w**2).sum() if reg == "l2" else np.abs(w).sum())

    before = net.params.copy()
    trace = trainer.step()
    h, numeric = 1e-6, np.empty(net.n_params)
    for i in range(net.n_params):
        e = np.zeros(net.n_params)
        e[i] = h
        numeric[i] = (penalty(before + e) - penalty(before - e)) / (2 * h)
    np.testing.assert_allclose(trace.reg_grad, numeric, atol=1e-8)
    np.testing.assert_allclose(trace.params_after, before - 0.03 * (trace.pass_.grad + trace.reg_grad))
    assert all((b == 0).all() for b in net.views(trace.reg_grad)[1])


MAZUR_WEIGHTS = mazur_setup()["weights"]


def test_mazur_worked_example_number_for_number():
    trainer = mazur_trainer()
    trace = trainer.step()
    assert trace.pass_.a[1][0, 0] == pytest.approx(0.593269992, abs=1e-9)
    assert trace.pass_.a[2][0, 0] == pytest.approx(0.75136507, abs=1e-8)
    assert trace.loss_before == pytest.approx(0.298371109, abs=1e-9)
    assert trace.pass_.delta[1][0, 0] == pytest.approx(0.138498562, abs=1e-9)
    grad_w = trainer.net.views(trace.pass_.grad)[0]
    assert grad_w[1][0, 0] == pytest.approx(0.082167041, abs=1e-9)  # dE/dw5
    assert trainer.net.weights[1][0, 0] == pytest.approx(0.35891648, abs=1e-8)  # w5
    assert trainer.net.weights[0][0, 0] == pytest.approx(0.149780716, abs=1e-9)  # w1
    assert trainer.net.weights[1][1, 1] == pytest.approx(0.561370121, abs=1e-9)  # w8
    assert trainer.net.biases[0].tolist() == [0.35, 0.35] and trainer.net.biases[1].tolist() == [0.6, 0.6]


def circle_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-6, 6, (n, 2))
    return x, np.where(np.hypot(x[:, 0], x[:, 1]) < 2.5, 1.0, -1.0)[:, None]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_same_config_and_seed_give_bit_identical_weights_after_100_steps(optimizer):
    x, y = circle_data()
    runs = []
    for _ in range(2):
        trainer = Trainer(TrainConfig(seed=7, optimizer=optimizer, batch_size=7, regularization="l2",
                                      regularization_rate=0.001), x, y)
        trainer.run(100)
        runs.append(trainer.net.params.copy())
    assert runs[0].tobytes() == runs[1].tobytes()
    other = Trainer(TrainConfig(seed=8, optimizer=optimizer, batch_size=7), x, y)
    other.run(100)
    assert other.net.params.tobytes() != runs[0].tobytes()


def test_batches_walk_the_epoch_and_the_last_partial_batch_is_its_own_step():
    x, y = circle_data(n=25)
    trainer = Trainer(TrainConfig(batch_size=10, shuffle=False), x, y)
    rows = [trainer.step().rows.tolist() for _ in range(3)]
    assert rows == [list(range(10)), list(range(10, 20)), list(range(20, 25))]
    assert (trainer.step_count, trainer.epoch, trainer.position) == (3, 1, 0)


def test_shuffle_draws_a_new_permutation_each_epoch_from_the_seed():
    x, y = circle_data(n=20)
    trainer = Trainer(TrainConfig(batch_size=20, seed=3), x, y)
    first, second = trainer.step().rows, trainer.step().rows
    assert sorted(first) == sorted(second) == list(range(20))
    assert first.tolist() != second.tolist()
    again = Trainer(TrainConfig(batch_size=20, seed=3), x, y)
    assert again.step().rows.tolist() == first.tolist()


def test_epoch_runs_to_the_end_of_the_current_pass():
    x, y = circle_data(n=25)
    trainer = Trainer(TrainConfig(batch_size=10), x, y)
    trainer.step()
    trace = trainer.run(trainer.steps_to_epoch_end())
    assert (trainer.step_count, trainer.epoch, trainer.position, len(trace.rows)) == (3, 1, 0, 5)
    trainer.run(trainer.steps_to_epoch_end())
    assert (trainer.step_count, trainer.epoch) == (6, 2)


def test_frozen_biases_stay_put_while_their_gradient_is_still_reported():
    x, y = circle_data()
    trainer = Trainer(TrainConfig(train_biases=False, optimizer="adam"), x, y)
    before = [b.copy() for b in trainer.net.biases]
    trace = trainer.run(20)
    assert all((b == a).all() for a, b in zip(before, trainer.net.biases))
    assert any(np.abs(g).sum() > 0 for g in trainer.net.views(trace.pass_.grad)[1])


def test_momentum_and_adam_follow_the_torch_update_rules_by_hand():
    x, y = circle_data(n=10)
    for name in ["momentum", "adam"]:
        trainer = Trainer(TrainConfig(optimizer=name, batch_size=10, learning_rate=0.1, momentum=0.5), x, y)
        p0 = trainer.net.params.copy()
        g1 = trainer.step().pass_.grad
        p1 = trainer.net.params.copy()
        g2 = trainer.step().pass_.grad
        if name == "momentum":
            np.testing.assert_allclose(p1, p0 - 0.1 * g1, rtol=1e-15)
            np.testing.assert_allclose(trainer.net.params, p1 - 0.1 * (0.5 * g1 + g2), rtol=1e-14)
        else:
            m1, v1 = 0.1 * g1, 0.001 * g1**2
            np.testing.assert_allclose(p1, p0 - 0.1 * (m1 / 0.1) / (np.sqrt(v1 / 0.001) + 1e-8), rtol=1e-12, atol=1e-15)
            m2, v2 = 0.9 * m1 + 0.1 * g2, 0.999 * v1 + 0.001 * g2**2
            expected = p1 - 0.1 * (m2 / (1 - 0.9**2)) / (np.sqrt(v2 / (1 - 0.999**2)) + 1e-8)
            np.testing.assert_allclose(trainer.net.params, expected, rtol=1e-12, atol=1e-15)


def test_diverging_step_is_refused_and_the_whole_run_leaves_no_trace():
    x = np.array([[1000.0, -1000.0], [500.0, 800.0]])
    y = np.array([[1.0], [-1.0]])
    trainer = Trainer(TrainConfig(layers=(2, 4, 1), hidden_activation="relu", output_activation="linear",
                                  learning_rate=100.0, batch_size=2), x, y)
    before = trainer.state_dict()
    with pytest.raises(DivergenceError) as err:
        trainer.run(50)
    assert "learning rate" in err.value.message and err.value.step >= 1
    assert trainer.net.params.tobytes() == before["params"].tobytes()
    assert (trainer.step_count, trainer.epoch, trainer.position) == (0, 0, 0)


def test_reconfigure_keeps_weights_and_a_new_optimizer_starts_fresh():
    x, y = circle_data()
    trainer = Trainer(TrainConfig(optimizer="momentum"), x, y)
    trainer.run(5)
    params = trainer.net.params.copy()
    trainer.reconfigure(learning_rate=0.1, batch_size=3)
    assert trainer.optimizer.learning_rate == 0.1 and trainer.batch_size == 3
    trainer.reconfigure(optimizer="adam")
    assert trainer.optimizer.name == "adam" and trainer.optimizer.t == 0
    assert trainer.net.params.tobytes() == params.tobytes()
    with pytest.raises(FieldError) as err:
        trainer.reconfigure(layers=(2, 1))
    assert err.value.field == "layers"


@pytest.mark.parametrize("scheme", ["uniform", "xavier", "he", "zeros"])
def test_initialisation_schemes(scheme):
    x, y = circle_data()
    trainer = Trainer(TrainConfig(layers=(2, 8, 8, 1), init=scheme, seed=5), x, y)
    w, b = trainer.net.weights, trainer.net.biases
    if scheme == "uniform":
        assert all((-0.5 <= m).all() and (m < 0.5).all() for m in w)
        assert all((v == 0.1).all() for v in b)
    elif scheme == "xavier":
        assert all(np.abs(m).max() <= np.sqrt(6 / sum(m.shape)) for m in w)
    elif scheme == "he":
        assert 0.5 < w[1].std() / np.sqrt(2 / 8) < 1.5
    else:
        assert not trainer.net.params.any()
    same = Trainer(TrainConfig(layers=(2, 8, 8, 1), init=scheme, seed=5), x, y)
    assert same.net.params.tobytes() == trainer.net.params.tobytes()


def test_explicit_weights_with_the_wrong_shape_name_the_layer():
    x, y = circle_data()
    with pytest.raises(FieldError) as err:
        Trainer(TrainConfig(layers=(2, 3, 1)), x, y, weights=[np.zeros((3, 2)).tolist(), [[1.0, 2.0]]])
    assert err.value.field == "weights.1"
    assert "(1, 3)" in err.value.message and "(1, 2)" in err.value.message


@pytest.mark.parametrize("output,loss", [("softmax", "half_sse"), ("tanh", "bce"), ("sigmoid", "cross_entropy")])
def test_incompatible_output_and_loss_are_explained(output, loss):
    with pytest.raises(FieldError) as err:
        TrainConfig(output_activation=output, loss=loss)
    assert err.value.field == "loss" and "needs" in err.value.message or "must" in err.value.message


def test_zero_hidden_layers_train():
    x, y = circle_data()
    trainer = Trainer(TrainConfig(layers=(2, 1)), x, y)
    trace = trainer.run(3)
    assert len(trace.pass_.z) == 1 and len(trace.pass_.a) == 2


def test_stable_losses_stay_finite_for_huge_logits():
    z = np.array([[800.0, -800.0]])
    t = np.array([[0.0, 1.0]])
    assert np.isfinite(LOSSES["bce"].value(None, t, z)).all()
    assert LOSSES["cross_entropy"].value(None, t, z)[0] == pytest.approx(1600.0)


def bits(a) -> bytes:
    return np.asarray(a, dtype=np.float64).tobytes()


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_an_update_rule_gives_one_parameter_the_bits_it_gives_the_whole_vector(name):
    rng = np.random.default_rng(11)
    n = 40
    params, grad = rng.normal(size=n), rng.normal(size=n) * 10.0 ** rng.integers(-9, 3, size=n)
    optimizer = make_optimizer(name, n, learning_rate=0.07, momentum=0.6, beta1=0.8, beta2=0.99, eps=1e-7)
    optimizer.load_state_dict({"velocity": rng.normal(size=n), "t": 4, "m": rng.normal(size=n),
                               "v": rng.random(n)})
    whole = optimizer.rule(params, grad, optimizer.terms())
    new_params, state = optimizer.propose(params, grad)
    assert bits(new_params) == bits(whole["params"]) and bits(whole["params"]) == bits(params - whole["step"])
    assert {"sgd": set(), "momentum": {"velocity"}, "adam": {"t", "m", "v"}}[name] == set(optimizer.describe(state))
    for k in range(n):
        at = slice(k, k + 1)
        state = {key: v[at] if isinstance(v, np.ndarray) else v for key, v in optimizer.terms().items()}
        one = optimizer.rule(params[at], grad[at], state)
        for key, value in whole.items():
            assert bits(one[key]) == (bits(value[k]) if np.ndim(value) else bits(value)), key


def test_adams_named_terms_are_its_formula():
    optimizer = make_optimizer("adam", 1, learning_rate=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    u = optimizer.rule(np.array([1.0]), np.array([2.0]), {"t": 0, "m": np.zeros(1), "v": np.zeros(1)})
    assert u["t"] == 1 and u["m"][0] == pytest.approx(0.2) and u["v"][0] == pytest.approx(0.004)
    assert u["bc1"] == pytest.approx(0.1) and u["bc2"] == pytest.approx(0.001) and u["step_size"] == pytest.approx(1.0)
    assert u["sqrt_v"][0] == pytest.approx(0.004**0.5) and u["denom"][0] == pytest.approx(2.0, rel=1e-7)
    assert u["step"][0] == pytest.approx(0.1, rel=1e-7) and u["params"][0] == pytest.approx(0.9, rel=1e-7)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("reg,train_biases", [("none", True), ("l1", False), ("l2", True), ("l2", False)])
def test_the_trace_keeps_the_gradient_applied_and_rebuilds_each_parameters_update(optimizer, reg, train_biases):
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    trainer = Trainer(TrainConfig(layers=(2, 3, 1), optimizer=optimizer, regularization=reg,
                                  regularization_rate=0.05 if reg != "none" else 0.0, batch_size=4,
                                  train_biases=train_biases), x, y)
    trainer.run(3)
    trace = trainer.step()
    net = trace.net
    weights = 1.0 - net.bias_mask()
    expected = trace.pass_.grad + (0.0 if trace.reg_grad is None else trace.reg_grad)
    if not train_biases:
        expected = expected * weights
    assert bits(trace.applied_grad) == bits(expected)
    for k in range(net.n_params):
        u = trace.update_terms(k)
        kind = net.locate(k)[0]
        assert (u["before"], u["after"]) == (trace.params_before[k], trace.params_after[k])
        assert u["data_grad"] == trace.pass_.grad[k] and u["grad"] == trace.applied_grad[k]
        assert u["params"] == u["after"] and u["before"] - u["step"] == u["after"]
        if kind == "bias" and not train_biases:
            assert u["grad"] == 0.0
        if reg == "none":
            assert u["reg"] is None
        else:
            assert u["reg"]["term"] == trace.reg_grad[k] and (kind == "weight" or u["reg"]["term"] == 0.0)
            assert ("sign" in u["reg"]) == (reg == "l1")
        for name, value in trace.optimizer_after.items():
            assert u[name] == (value[k] if isinstance(value, np.ndarray) else value)
        assert all(type(v) in (float, int) for key, v in u.items() if key != "reg")


def test_locate_and_flat_index_name_where_each_parameter_sits():
    net = MLP([3, 2, 4])
    where = [net.locate(k) for k in range(net.n_params)]
    assert where[:7] == [("weight", 0, 0, 0), ("weight", 0, 0, 1), ("weight", 0, 0, 2), ("weight", 0, 1, 0),
                         ("weight", 0, 1, 1), ("weight", 0, 1, 2), ("bias", 0, 0, None)]
    for k, (kind, layer, to, source) in enumerate(where):
        flat = np.zeros(net.n_params)
        flat[k] = 1.0
        weights, biases = net.views(flat)
        assert (weights[layer][to, source] if kind == "weight" else biases[layer][to]) == 1.0
        assert net.flat_index(kind, layer, to, source) == k
    for k in (-1, net.n_params):
        with pytest.raises(IndexError):
            net.locate(k)


@pytest.mark.parametrize("name", ["half_sse", "mse", "bce", "cross_entropy"])
def test_a_losss_value_is_the_sum_of_its_per_output_terms(name):
    rng = np.random.default_rng(2)
    z = rng.normal(0, 3, (6, 3))
    o = {"bce": 1.0 / (1.0 + np.exp(-z)),
         "cross_entropy": np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)}.get(name, z)
    t = random_targets(rng, name, 6, 3)
    loss = LOSSES[name]
    terms = loss.terms(o, t, z)
    assert terms.shape == (6, 3)
    np.testing.assert_allclose(loss.value(o, t, z), terms.sum(axis=1), rtol=1e-15)
    by_hand = {"half_sse": lambda: 0.5 * (t - o) ** 2, "mse": lambda: (t - o) ** 2 / 3,
               "bce": lambda: -(t * np.log(o) + (1 - t) * np.log(1 - o)),
               "cross_entropy": lambda: -t * np.log(o)}[name]()
    np.testing.assert_allclose(terms, by_hand, rtol=1e-12, atol=1e-15)


def test_a_saturated_cross_entropy_keeps_its_zeros_sign():
    """Minus a sum of t·log o, as the loss always was: a row whose softmax is exactly one-hot loses -0.0, which
    the sum of the negated terms (+0.0) would not give."""
    z, t = np.array([[50.0, 0.0, -3.0]]), np.array([[1.0, 0.0, 0.0]])
    value = LOSSES["cross_entropy"].value(None, t, z)
    zmax = z.max(axis=1, keepdims=True)
    old = -(t * (z - zmax - np.log(np.exp(z - zmax).sum(axis=1, keepdims=True)))).sum(axis=1)
    assert bits(value) == bits(old) and np.signbit(value[0])


def test_the_predicted_class_of_one_output_node_switches_at_its_threshold():
    assert [class_threshold(a) for a in ("sigmoid", "relu", "tanh", "linear")] == [0.5, 0.5, 0.0, 0.0]
    o = np.array([[0.49], [0.5], [-0.1], [0.0]])
    assert predicted_classes(o, "sigmoid").tolist() == [0, 1, 0, 0]
    assert predicted_classes(o, "tanh").tolist() == [1, 1, 0, 1]
    assert predicted_classes(np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]]), "softmax").tolist() == [1, 0]


@pytest.mark.parametrize("hidden, output", [("tanh", "tanh"), ("relu", "linear"), ("sigmoid", "softmax")])
def test_outputs_under_many_parameter_vectors_equal_one_forward_pass_each_bit_for_bit(hidden, output):
    rng = np.random.default_rng(3)
    net = MLP([3, 5, 4, 3], hidden, output)
    net.params[:] = rng.normal(size=net.n_params)
    params = net.params + rng.normal(scale=0.1, size=(7, net.n_params))
    x = rng.normal(size=(11, 3))
    z, a = net.outputs_under(x, params)
    assert z.shape == a.shape == (7 * 11, 3)
    for s in range(7):
        zs, acts = net.forward(x, params[s])
        assert np.array_equal(z[s * 11:(s + 1) * 11], zs[-1]) and np.array_equal(a[s * 11:(s + 1) * 11], acts[-1])
