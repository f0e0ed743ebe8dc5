import numpy as np
import pytest

from app.engine import MLP, LOSSES
from app.engine.gradcheck import check_gradients


def new_session(client, **config):
    r = client.post("/api/sessions", json=config)
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_rewind_then_restep_is_bit_identical(client, optimizer):
    sid = new_session(client, optimizer=optimizer, batch_size=7, seed=3)
    first = client.post(f"/api/sessions/{sid}/step", json={"steps": 40}).json()
    curve = client.get(f"/api/sessions/{sid}").json()
    back = client.post(f"/api/sessions/{sid}/rewind", json={"step": 13}).json()
    assert back["step"] == 13 and back["epoch"] == 0 and back["kept_steps"] == [0, 13]
    again = client.post(f"/api/sessions/{sid}/step", json={"steps": 27}).json()
    assert again["step"] == 40 and again["epoch"] == first["epoch"]
    assert again["weights"] == first["weights"] and again["biases"] == first["biases"]
    assert again["trace"] == first["trace"]  # same batch rows, same optimizer state, same numbers
    assert again["loss"] == curve["loss"]


def test_rewind_restores_the_loss_curve_and_refuses_steps_not_kept(client):
    sid = new_session(client)
    client.post(f"/api/sessions/{sid}/step", json={"steps": 300})
    state = client.get(f"/api/sessions/{sid}").json()
    assert state["kept_steps"] == [300 - 249, 300]  # the default keeps 250 rewind points
    r = client.post(f"/api/sessions/{sid}/rewind", json={"step": 10})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "step"
    assert client.get(f"/api/sessions/{sid}").json() == state
    session = client.app.state.sessions.get(sid)
    session.rewind(100)
    assert session.history[-1][0] == 100 and len(session.history) == 101


def test_editing_a_weight_changes_exactly_that_weight(client):
    sid = new_session(client)
    before = client.post(f"/api/sessions/{sid}/step", json={"steps": 3}).json()
    after = client.post(f"/api/sessions/{sid}/parameters",
                        json={"kind": "weight", "layer": 1, "to": 0, "from": 2, "value": 0.125}).json()
    expected = [[row[:] for row in layer] for layer in before["weights"]]
    expected[1][0][2] = 0.125
    assert after["weights"] == expected and after["biases"] == before["biases"]
    assert after["step"] == 3 and after["loss"] != before["loss"]
    bias = client.post(f"/api/sessions/{sid}/parameters",
                       json={"kind": "bias", "layer": 2, "to": 0, "value": -0.5}).json()
    assert bias["biases"][2] == [-0.5] and bias["weights"] == expected


@pytest.mark.parametrize("body,field", [
    ({"kind": "weight", "layer": 7, "to": 0, "from": 0, "value": 1}, "layer"),
    ({"kind": "weight", "layer": 0, "to": 4, "from": 0, "value": 1}, "to"),
    ({"kind": "weight", "layer": 0, "to": 0, "value": 1}, "from"),
    ({"kind": "weight", "layer": 0, "to": 0, "from": 0, "value": "big"}, "value"),
    ({"kind": "edge", "layer": 0, "to": 0, "from": 0, "value": 1}, "kind"),
])
def test_bad_edits_are_refused_and_change_nothing(client, body, field):
    sid = new_session(client)
    state = client.get(f"/api/sessions/{sid}").json()
    r = client.post(f"/api/sessions/{sid}/parameters", json=body)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == field, r.text
    assert client.get(f"/api/sessions/{sid}").json() == state


def test_gradient_check_endpoint(client):
    sid = new_session(client, regularization="l2", regularization_rate=0.01)
    r = client.post(f"/api/sessions/{sid}/gradient-check")
    body = r.json()
    assert r.status_code == 200 and body["parameters"] == 25 and body["max_relative_error"] < 1e-6
    assert body["disagreeing"] == [] and len(body["rows"]) == 10


@pytest.mark.parametrize("seed", range(6))
def test_gradient_check_below_1e_6_on_random_networks(seed):
    rng = np.random.default_rng(seed)
    hidden = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"][seed % 5]
    output, loss = [("sigmoid", "bce"), ("softmax", "cross_entropy"), ("tanh", "half_sse"), ("linear", "mse")][seed % 4]
    sizes = [int(rng.integers(1, 5)), *[int(rng.integers(1, 6)) for _ in range(seed % 3)], 3]
    net = MLP(sizes, hidden, output)
    net.params[:] = rng.normal(0, 1, net.n_params)
    x = rng.normal(size=(8, sizes[0]))
    t = np.eye(3)[rng.integers(0, 3, 8)] if loss in ("bce", "cross_entropy") else rng.normal(size=(8, 3))
    check = check_gradients(net, LOSSES[loss], x, t)
    assert check.max_relative_error < 1e-6 and len(check.disagreeing) == 0


def test_gradient_check_names_a_wrong_gradient():
    net = MLP([2, 3, 1], "tanh", "tanh")
    net.params[:] = np.linspace(-1, 1, net.n_params)
    x, t = np.array([[0.3, -0.7], [1.0, 0.2]]), np.array([[1.0], [-1.0]])
    original = net.backward

    def broken(*args):
        p = original(*args)
        p.grad[4] *= 1.05
        return p

    net.backward = broken
    check = check_gradients(net, LOSSES["half_sse"], x, t)
    assert check.disagreeing.tolist() == [4] and check.max_relative_error > 1e-3


@pytest.mark.parametrize("before,after", [("sgd", "adam"), ("sgd", "momentum"), ("momentum", "adam"),
                                          ("adam", "sgd")])
def test_rewind_after_changing_the_optimizer_starts_it_fresh(client, before, after):
    client.get("/")
    sid = client.cookies["bp_session"]
    client.post("/ui/config", headers={"HX-Request": "true"}, data={"optimizer": before})
    early = client.post(f"/api/sessions/{sid}/step", json={"steps": 1}).json()
    client.post(f"/api/sessions/{sid}/step", json={"steps": 2})
    client.post("/ui/config", headers={"HX-Request": "true"}, data={"optimizer": after})
    r = client.post(f"/api/sessions/{sid}/rewind", json={"step": 1})
    assert r.status_code == 200
    state = r.json()
    assert state["step"] == 1 and state["weights"] == early["weights"] and state["loss"] == early["loss"]
    assert state["config"]["optimizer"] == after
    assert client.post(f"/api/sessions/{sid}/step", json={"steps": 2}).status_code == 200


def test_gradient_check_refuses_more_work_than_a_request_may_do(client):
    sid = new_session(client, layers=[2, 64, 64, 64, 1], batch_size=400)
    r = client.post(f"/api/sessions/{sid}/gradient-check")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "batch_size"


def test_rewind_points_are_bounded_in_bytes(client, monkeypatch):
    from app.settings import get_settings
    monkeypatch.setattr(get_settings(), "rewind_bytes", 20_000)
    sid = new_session(client, layers=[2, 32, 32, 1], optimizer="adam")  # 1,185 parameters: 28 KB a step
    client.post(f"/api/sessions/{sid}/step", json={"steps": 5})
    assert client.get(f"/api/sessions/{sid}").json()["kept_steps"] == [5, 5]
