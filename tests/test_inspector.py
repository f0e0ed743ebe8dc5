"""The Inspector reports the trace's own numbers: every value equals the trace, and every combination it
shows (products, the hidden Σ w·δ, the optimizer's update) reproduces the trace's result."""
import itertools
import math
import re

import numpy as np
import pytest

from helpers import mazur_trainer, random_targets
from app.engine import LOSSES, FieldError, TrainConfig, Trainer
from app.views import inspector
from app.views.numbers import significant
from app.web.render import templates

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
OUTPUT_LOSS = [("sigmoid", "half_sse"), ("tanh", "mse"), ("linear", "half_sse"), ("relu", "mse"),
               ("sigmoid", "bce"), ("softmax", "cross_entropy")]
OPTIMIZERS = ["sgd", "momentum", "adam"]


def render(data) -> str:
    return templates.get_template("partials/inspector.html").render(inspector=data, oob=False)


def names_for(sizes):
    return ([[f"x{i + 1}" for i in range(sizes[0])]]
            + [[f"h{l}.{j + 1}" for j in range(n)] for l, n in enumerate(sizes[1:-1], 1)]
            + [[f"o{j + 1}" for j in range(sizes[-1])]])


def random_trainer(seed, hidden, output, loss, optimizer, reg, batch_size, train_biases):
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 4))] + [int(rng.integers(1, 5)) for _ in range(1 + seed % 2)]
    sizes.append(int(rng.integers(2 if output == "softmax" else 1, 4)))
    rows, k = 12, sizes[-1]
    x = rng.normal(0, 1, (rows, sizes[0]))
    t = random_targets(rng, loss, rows, k)
    config = TrainConfig(layers=tuple(sizes), hidden_activation=hidden, output_activation=output, loss=loss,
                         optimizer=optimizer, learning_rate=0.05, momentum=0.8, regularization=reg,
                         regularization_rate=0.01 if reg != "none" else 0.0, batch_size=batch_size,
                         train_biases=train_biases, init="xavier", seed=seed)
    trainer = Trainer(config, x, t)
    trainer.net.params[:] = rng.normal(0, 1, trainer.net.n_params)
    return trainer


def value(n):
    return n["value"]


def check_number(n):
    assert set(n) == {"value", "text"} and isinstance(n["value"], float) and n["text"]


def check_update(trace, u, kind, layer, index):
    net, cfg = trace.net, trace.config
    part = 0 if kind == "weight" else 1

    def pick(flat):
        return float(net.views(flat)[part][layer][index])

    before, after = pick(trace.params_before), pick(trace.params_after)
    assert value(u["before"]) == before and value(u["after"]) == after
    assert value(u["change"]) == after - before and u["moved"] == (after != before)
    assert value(u["data_grad"]) == pick(trace.pass_.grad)
    assert u["optimizer"] == cfg.optimizer and value(u["lr"]) == cfg.learning_rate
    frozen = kind == "bias" and not cfg.train_biases
    assert u["frozen"] == frozen
    if frozen:
        assert value(u["g"]) == 0
    elif u["reg"] is not None:
        r = u["reg"]
        assert kind == "weight" and trace.reg_grad is not None
        assert value(r["term"]) == pick(trace.reg_grad)
        factor = value(r["w"]) if r["kind"] == "l2" else value(r["sign"])
        assert value(r["rate"]) * factor == value(r["term"])
        assert value(r["w"]) == before
        assert value(u["g"]) == value(u["data_grad"]) + value(r["term"])
    else:
        assert value(u["g"]) == pick(trace.pass_.grad) + (0.0 if trace.reg_grad is None else pick(trace.reg_grad))
    g = value(u["g"])
    if frozen:  # held exactly: no step, and the optimizer's state for it as it was
        assert value(u["step"]) == 0 and after == before and not u["moved"]
        for old, new in (("v_old", "v"), ("m_old", "m")):
            if old in u:
                assert value(u[old]) == value(u[new])
        return
    if cfg.optimizer == "sgd":
        assert value(u["step"]) == value(u["lr"]) * g
    elif cfg.optimizer == "momentum":
        assert value(u["v_old"]) == pick(trace.optimizer_before["velocity"])
        assert value(u["v"]) == pick(trace.optimizer_after["velocity"])
        assert value(u["mu"]) * value(u["v_old"]) + g == value(u["v"])
        assert value(u["step"]) == value(u["lr"]) * value(u["v"])
    else:
        assert u["t"] == trace.optimizer_after["t"]
        assert value(u["m_old"]) == pick(trace.optimizer_before["m"])
        assert value(u["v_old"]) == pick(trace.optimizer_before["v"])
        assert value(u["m"]) == pick(trace.optimizer_after["m"])
        assert value(u["v"]) == pick(trace.optimizer_after["v"])
        assert value(u["sqrt_v"]) == math.sqrt(value(u["v"]))
        assert value(u["step_size"]) == value(u["lr"]) / value(u["bc1"])
        assert value(u["denom"]) == value(u["sqrt_v"]) / value(u["sqrt_bc2"]) + value(u["eps"])
        assert value(u["step"]) == value(u["step_size"]) * (value(u["m"]) / value(u["denom"]))
    # The update the inspector shows lands exactly on the trace's new value.
    assert before - value(u["step"]) == after


def check_delta(trace, d, layer, j):
    p, net = trace.pass_, trace.net
    assert d["row"] == int(trace.rows[0]) and d["layer"] == layer and d["index"] == j
    assert value(d["value"]) == p.delta[layer - 1][0, j]
    assert value(d["z"]) == p.z[layer - 1][0, j] and value(d["a"]) == p.a[layer][0, j]
    if layer == net.n_layers:
        o, t = p.a[-1][0, j], trace.targets[0, j]
        assert value(d["o"]) == o and value(d["t"]) == t and value(d["o_minus_t"]) == o - t
        fused = (trace.config.output_activation, trace.config.loss) in (("sigmoid", "bce"), ("softmax", "cross_entropy"))
        assert d["kind"] == ("fused" if fused else "output")
        if fused:
            assert value(d["o"]) - value(d["t"]) == value(d["value"])
        else:
            f = d["derivative"]
            assert value(d["dl_do"]) == LOSSES[trace.config.loss].grad(p.a[-1][:1], trace.targets[:1])[0, j]
            assert value(d["dl_do"]) * value(f["df"]) == value(d["value"])
            check_derivative(f)
            if d["loss"] == "mse":
                assert value(d["scale"]) * value(d["o_minus_t"]) == value(d["dl_do"])
            else:
                assert value(d["o_minus_t"]) == value(d["dl_do"])
        return
    assert d["kind"] == "hidden"
    w_before = net.views(trace.params_before)[0][layer]
    w_after = net.views(trace.params_after)[0][layer]
    assert len(d["terms"]) == w_before.shape[0]
    for k, term in enumerate(d["terms"]):
        assert value(term["w"]) == w_before[k, j]  # weights before this step's update
        if w_before[k, j] != w_after[k, j]:
            assert value(term["w"]) != w_after[k, j]
        assert value(term["delta"]) == p.delta[layer][0, k]
        assert value(term["product"]) == value(term["w"]) * value(term["delta"])
    products = [value(t["product"]) for t in d["terms"]]
    scale = sum(abs(x) for x in products) or 1.0
    assert abs(value(d["total"]) - math.fsum(products)) <= 1e-14 * scale
    f = d["derivative"]
    check_derivative(f)
    result = value(f["df"]) * value(d["total"])
    assert result == pytest.approx(value(d["value"]), rel=1e-15, abs=0)


def check_derivative(f):
    z, a, df = value(f["z"]), value(f["a"]), value(f["df"])
    if f["name"] == "sigmoid":
        assert value(f["one_minus_a"]) == 1.0 - a and a * value(f["one_minus_a"]) == df
    elif f["name"] == "tanh":
        assert value(f["a_squared"]) == a * a and 1.0 - value(f["a_squared"]) == df
    elif f["name"] == "relu":
        assert f["positive"] == (z > 0) and df == (1.0 if z > 0 else 0.0)
    elif f["name"] == "leaky_relu":
        assert f["positive"] == (z > 0) and df == (1.0 if z > 0 else 0.01)
    else:
        assert df == 1.0


def check_edge(trace, names, l, i, j):
    e = inspector.edge(trace, names, l, i, j)
    net, p = trace.net, trace.pass_
    n = len(trace.rows)
    g = e["gradient"]
    assert value(g["value"]) == net.views(p.grad)[0][l][j, i]
    assert g["n"] == n and len(g["terms"]) == n  # every row: their mean can be redone
    for s, term in enumerate(g["terms"]):
        assert term["row"] == int(trace.rows[s])
        assert value(term["delta"]) == p.delta[l][s, j] and value(term["a"]) == p.a[l][s, i]
        assert value(term["product"]) == value(term["delta"]) * value(term["a"])
    if n == 1:
        assert value(g["terms"][0]["product"]) == value(g["value"])
    else:
        products = p.delta[l][:, j] * p.a[l][:, i]
        assert value(g["value"]) == pytest.approx(math.fsum(products) / n, rel=1e-12, abs=1e-15)
    assert value(e["weight_before"]) == net.views(trace.params_before)[0][l][j, i]
    assert value(e["weight_after"]) == net.views(trace.params_after)[0][l][j, i]
    assert e["source_name"] == names[l][i] and e["target_name"] == names[l + 1][j]
    check_delta(trace, e["delta"], l + 1, j)
    check_update(trace, e["weight_update"], "weight", l, (j, i))
    return e


def check_node(trace, names, layer, j):
    d = inspector.node(trace, names, layer, j)
    p, net = trace.pass_, trace.net
    n = len(trace.rows)
    assert d["name"] == names[layer][j] and d["batch"]["row"] == int(trace.rows[0])
    assert value(d["a"]) == p.a[layer][0, j]
    if n > 1:
        assert value(d["mean_a"]) == p.a[layer].mean(axis=0)[j]
    else:
        assert d["mean_a"] is None
    if layer == 0:
        assert d["role"] == "input"
        assert [value(s["a"]) for s in d["samples"]] == p.a[0][:, j].tolist()  # every row
        return d
    assert value(d["z"]) == p.z[layer - 1][0, j] and value(d["delta"]) == p.delta[layer - 1][0, j]
    if n > 1:
        assert value(d["mean_z"]) == p.z[layer - 1].mean(axis=0)[j]
        assert value(d["mean_delta"]) == p.delta[layer - 1].mean(axis=0)[j]
    act = net.activations[layer - 1]
    if act.df is None:
        assert d["derivative"] is None
    else:
        assert value(d["derivative"]["df"]) == act.df(p.z[layer - 1], p.a[layer])[0, j]
    fw = d["forward"]
    w_before, b_before = net.views(trace.params_before)
    assert value(fw["bias"]) == b_before[layer - 1][j]
    for i, term in enumerate(fw["terms"]):
        assert value(term["w"]) == w_before[layer - 1][j, i] and value(term["a"]) == p.a[layer - 1][0, i]
        assert value(term["product"]) == value(term["w"]) * value(term["a"])
    parts = [value(t["product"]) for t in fw["terms"]] + [value(fw["bias"])]
    assert value(fw["z"]) == pytest.approx(math.fsum(parts), rel=1e-12, abs=1e-14 * sum(map(abs, parts)))
    assert value(d["bias_grad"]) == net.views(p.grad)[1][layer - 1][j]
    assert d["bias_frozen"] == (not trace.config.train_biases)
    check_delta(trace, d["delta_expansion"], layer, j)
    check_update(trace, d["bias_update"], "bias", layer - 1, (j,))
    if layer == net.n_layers:
        assert value(d["target"]) == trace.targets[0, j]
    return d


def all_numbers(obj):
    """Every {"value", "text"} number in a nested inspector dict."""
    if isinstance(obj, dict):
        if set(obj) == {"value", "text"}:
            yield obj
        else:
            for v in obj.values():
                yield from all_numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from all_numbers(v)


CASES = [(seed, hidden, output, loss, optimizer)
         for seed, hidden in enumerate(HIDDEN) for output, loss in OUTPUT_LOSS for optimizer in OPTIMIZERS]


@pytest.mark.parametrize("seed,hidden,output,loss,optimizer", CASES)
def test_every_number_equals_the_trace(seed, hidden, output, loss, optimizer):
    # Batch 1, 5 or 12 (the whole set: more than the 8 rows listed), so that every pair of hidden activation,
    # output and optimizer meets every batch size; each with every regularisation, biases trained and frozen.
    batch_size = (1, 5, 12)[(seed + [o for o, _ in OUTPUT_LOSS].index(output) + OPTIMIZERS.index(optimizer)) % 3]
    for reg, train_biases in itertools.product(("none", "l1", "l2"), (True, False)):
        trainer = random_trainer(seed, hidden, output, loss, optimizer, reg, batch_size, train_biases)
        trainer.step()
        trainer.step()
        trace = trainer.step()  # a third step: momentum and Adam carry state from the earlier two
        assert (trace.reg_grad is not None) == (reg != "none")
        assert len(trace.rows) == (2 if batch_size == 5 else batch_size)  # steps of 5, 5, then the last 2 rows
        sizes = trace.net.sizes
        names = names_for(sizes)
        for l in range(len(sizes) - 1):
            for j in range(sizes[l + 1]):
                for i in range(sizes[l]):
                    e = check_edge(trace, names, l, i, j)
                    for number in all_numbers(e):
                        check_number(number)
        for layer, size in enumerate(sizes):
            for j in range(size):
                check_node(trace, names, layer, j)
    html = render(inspector.edge(trace, names, len(sizes) - 2, 0, 0))
    assert "insp-num" in html and "{{" not in html
    html = render(inspector.node(trace, names, len(sizes) - 1, 0))
    assert "Output node" in html
    assert render(inspector.node(trace, names, 0, 0)).count('class="insp-num"') >= 1


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_frozen_biases_stay_put_whatever_the_optimizer_state_from_earlier_steps(optimizer):
    trainer = random_trainer(3, "tanh", "linear", "half_sse", optimizer, "l2", 4, True)
    trainer.step()
    trainer.reconfigure(train_biases=False)
    trace = trainer.step()
    names = names_for(trace.net.sizes)
    d = check_node(trace, names, 1, 0)
    u = d["bias_update"]
    assert u["frozen"] and value(u["g"]) == 0 and not u["moved"]
    assert "keeps its values" in render(d)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_an_update_is_shown_with_its_own_steps_settings_after_they_change(optimizer):
    trainer = random_trainer(6, "tanh", "linear", "half_sse", optimizer, "l1", 4, True)
    trainer.step()
    trace = trainer.step()
    trainer.reconfigure(learning_rate=0.9, momentum=0.1, beta1=0.5, regularization="l2", train_biases=False)
    trainer.step()
    names = names_for(trace.net.sizes)
    u = check_edge(trace, names, 0, 0, 0)["weight_update"]
    assert value(u["lr"]) == 0.05 and u["reg"]["kind"] == "l1" and value(u["reg"]["sign"]) in (-1.0, 1.0)
    assert check_node(trace, names, 1, 0)["bias_update"]["frozen"] is False


def test_frozen_biases_stay_put():
    trainer = random_trainer(4, "relu", "sigmoid", "bce", "adam", "l1", 3, False)
    trace = trainer.step()
    d = check_node(trace, names_for(trace.net.sizes), 1, 0)
    assert not d["bias_update"]["moved"] and d["bias_frozen"]
    assert "reported but not applied" in render(d)


def mazur_trace():
    return mazur_trainer().step()


MAZUR_NAMES = [["i1", "i2"], ["h1", "h2"], ["o1", "o2"]]


def test_mazur_w5_and_w1():
    trace = mazur_trace()
    w5 = check_edge(trace, MAZUR_NAMES, 1, 0, 0)
    d = w5["delta"]
    assert d["kind"] == "output" and d["name"] == "o1"
    assert value(d["value"]) == pytest.approx(0.138498562, abs=1e-9)
    assert value(d["dl_do"]) == pytest.approx(0.75136507 - 0.01, abs=1e-8)  # o − t
    term = w5["gradient"]["terms"][0]
    assert value(term["a"]) == pytest.approx(0.593269992, abs=1e-9)
    assert value(w5["gradient"]["value"]) == pytest.approx(0.082167041, abs=1e-9)
    assert value(w5["weight_update"]["after"]) == pytest.approx(0.35891648, abs=1e-8)
    assert w5["weight_update"]["optimizer"] == "sgd" and w5["weight_update"]["reg"] is None

    w1 = check_edge(trace, MAZUR_NAMES, 0, 0, 0)
    h = w1["delta"]
    assert h["kind"] == "hidden" and [t["name"] for t in h["terms"]] == ["o1", "o2"]
    assert [value(t["w"]) for t in h["terms"]] == [0.40, 0.50]  # w5 and w7, before the update
    assert value(h["terms"][0]["delta"]) == pytest.approx(0.138498562, abs=1e-9)
    assert value(h["terms"][1]["delta"]) == pytest.approx(-0.0380982366, abs=1e-9)
    assert value(h["total"]) == pytest.approx(0.036350306, abs=1e-9)
    assert value(w1["gradient"]["value"]) == pytest.approx(0.000438568, abs=1e-9)
    assert value(w1["weight_update"]["after"]) == pytest.approx(0.149780716, abs=1e-9)

    html = render(w5)
    assert "0.1385" in html and "0.59327" in html and "0.082167" in html and "0.35892" in html
    assert f'data-value="{value(w5["weight_update"]["after"])!r}"' in html
    assert "<var>δ</var><sub>o1</sub>" in html and "sum of squared errors" in html
    html = render(w1)
    assert "<var>w</var><sub>k←h1</sub>" in html and "0.14978" in html
    assert '<span class="insp-num" data-value="0.4">0.4</span>' in html
    assert '<span class="insp-num" data-value="0.5">0.5</span>' in html


def test_every_rendered_number_carries_its_full_value():
    trace = mazur_trace()
    data = inspector.edge(trace, MAZUR_NAMES, 0, 1, 1)
    html = render(data)
    spans = re.findall(r'<span class="insp-num" data-value="([^"]*)">([^<]*)</span>', html)
    assert len(spans) > 15
    for full, text in spans:
        assert significant(float(full)) == text


def test_hint_without_a_trace_and_oob_flag():
    html = render(None)
    assert 'id="inspector"' in html and 'aria-live="polite"' in html and "hx-swap-oob" not in html
    assert "Click an edge or a node in the diagram, or focus the diagram and press Enter, to see how" in html
    html = templates.get_template("partials/inspector.html").render(inspector=None, oob=True)
    assert 'hx-swap-oob="true"' in html


def test_significant_gives_five_digits_a_real_minus_and_powers_of_ten():
    t = significant
    assert t(0.138498562) == "0.1385" and t(0.082167041) == "0.082167" and t(-0.35891648) == "−0.35892"
    assert t(0) == "0" and t(2.0) == "2" and t(123456.7) == "123457" and t(1e-8) == "1×10⁻⁸"
    assert t(-2.5e-5) == "−2.5×10⁻⁵" and t(3.2e7) == "3.2×10⁷"


def test_bad_indices_are_field_errors():
    trace = mazur_trace()
    with pytest.raises(FieldError) as err:
        inspector.edge(trace, MAZUR_NAMES, 2, 0, 0)
    assert err.value.field == "layer"
    with pytest.raises(FieldError) as err:
        inspector.edge(trace, MAZUR_NAMES, 0, 2, 0)
    assert err.value.field == "source"
    with pytest.raises(FieldError) as err:
        inspector.edge(trace, MAZUR_NAMES, 0, 0, -1)
    assert err.value.field == "target"
    with pytest.raises(FieldError) as err:
        inspector.node(trace, MAZUR_NAMES, 3, 0)
    assert err.value.field == "layer"


def test_for_session_uses_the_last_trace_and_node_names(mazur):
    session = mazur
    assert inspector.for_session(session, "edge", 1, 0, 0) is None
    session.train(1)
    e = inspector.for_session(session, "edge", 1, 0, 0)
    assert value(e["delta"]["value"]) == pytest.approx(0.138498562, abs=1e-9)
    assert value(e["weight_update"]["after"]) == session.last_trace.as_dict()["weights_after"][1][0][0]
    from app.views.shown import node_names
    assert e["target_name"] == node_names(session)[2][0]
    n = inspector.for_session(session, "node", 2, 1)
    assert value(n["delta"]) == session.last_trace.as_dict()["delta"][1][0][1]
    with pytest.raises(FieldError):
        inspector.for_session(session, "bias", 1, 0)
