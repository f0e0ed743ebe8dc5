"""Setup links (app/web/setup_links.py): a query string describes a config and rebuilds the same initial state every
time; the page carries its link, and a bad one says why and changes nothing."""
import html
import re

import numpy as np
import pytest
from starlette.datastructures import QueryParams

from app.core.page_state import PageState, Transport
from app.core.recipe import CreateSession
from app.engine import FieldError
from app.core.session import build_session
from app.core.presets import PRESETS
from app.web.setup_links import PARAMS, request_from_query, session_query, setup_query
from helpers import browser

DATA_ARRAYS = ("train_x", "train_y", "test_x", "test_y", "raw_train_x", "raw_test_x")


def from_link(query: str):
    return build_session(request_from_query(QueryParams(query)))


def assert_same_start(a, b):
    """Bit-identical initial weights and identical data."""
    assert np.array_equal(a.trainer.net.params, b.trainer.net.params)
    for name in DATA_ARRAYS:
        assert np.array_equal(getattr(a.dataset, name), getattr(b.dataset, name)), name
    assert a.dataset.feature_names == b.dataset.feature_names


def test_the_issues_example_link_rebuilds_the_same_network_and_data_every_time():
    link = "dataset=spiral&layers=2,8,8,1&activation=tanh&lr=0.03&seed=7"
    first, second = from_link(link), from_link(link)
    config = first.trainer.config
    assert config.layers == (2, 8, 8, 1) and config.hidden_activation == "tanh"
    assert config.learning_rate == 0.03 and config.seed == 7
    assert first.dataset.name == "spiral"
    assert_same_start(first, second)
    other = from_link(link.replace("seed=7", "seed=8"))
    assert not np.array_equal(first.trainer.net.params, other.trainer.net.params)
    assert not np.array_equal(first.dataset.train_x, other.dataset.train_x)


ROUND_TRIPS = [
    # (CreateSession fields, text the link must contain, parameters it must leave out)
    ({}, [], ["samples", "noise", "features", "momentum", "beta1", "reg_rate", "data_seed", "train="]),
    (dict(layers=[3, 5, 1], seed=3, dataset=dict(name="xor", noise=0.25, samples=300, features=["x1", "x2", "x1_x2"])),
     ["dataset=xor", "samples=300", "noise=0.25", "features=x1,x2,x1_x2", "layers=3,5,1"], ["data_seed"]),
    (dict(optimizer="adam", learning_rate=0.001, beta1=0.85, beta2=0.99, eps=1e-6),
     ["optimizer=adam", "lr=0.001", "beta1=0.85", "beta2=0.99", "eps=1e-06"], ["momentum"]),
    (dict(optimizer="momentum", momentum=0.5), ["optimizer=momentum", "momentum=0.5"], ["beta1", "beta2", "eps"]),
    (dict(regularization="l2", regularization_rate=0.003), ["regularization=l2", "reg_rate=0.003"], []),
    (dict(layers=[1, 8, 8, 1], output_activation="linear", dataset=dict(name="sine", samples=200, noise=0.05)),
     ["dataset=sine", "output=linear", "samples=200", "noise=0.05"], ["features"]),
    # Fixed tables have no samples or noise (a request giving them is refused), so the link leaves them out.
    (dict(layers=[2, 2, 1], hidden_activation="sigmoid", output_activation="sigmoid", learning_rate=2.0, batch_size=4,
          dataset=dict(name="xor-table")),
     ["dataset=xor-table", "lr=2&", "batch=4"], ["samples", "noise", "train="]),
    (dict(hidden_activation="sigmoid", output_activation="sigmoid", train_biases=False, batch_size=1,
          dataset=dict(name="mazur")), ["dataset=mazur", "layers=2,4,2,2", "train_biases=0"], ["samples", "noise"]),
    (dict(output_activation="softmax", loss="cross_entropy", seed=5,
          dataset=dict(name="iris", train_fraction=0.6, standardize=True, seed=42)),
     ["dataset=iris", "train=0.6", "data_seed=42", "standardize=1", "layers=4,4,2,3"], ["samples", "features"]),
    # Floats whose shortest text is long must still read back exactly.
    (dict(init="he", shuffle=False, seed=12345, learning_rate=0.1 + 0.2, dataset=dict(name="gauss", noise=1 / 3)),
     ["init=he", "shuffle=0", "lr=0.30000000000000004", "noise=0.3333333333333333"], []),
]


@pytest.mark.parametrize("fields, present, absent", ROUND_TRIPS)
def test_a_config_round_trips_through_its_link(fields, present, absent):
    original = build_session(CreateSession(**fields))
    query = setup_query(original.config())
    for text in present:
        assert text in query, query
    for text in absent:
        assert text not in query, query
    rebuilt = from_link(query)
    assert_same_start(original, rebuilt)
    assert rebuilt.trainer.config == original.trainer.config
    assert setup_query(rebuilt.config()) == query


def test_the_default_link_is_short_and_stable():
    query = setup_query(build_session(CreateSession()).config())
    assert query == ("dataset=circle&layers=2,4,2,1&activation=tanh&output=tanh&loss=half_sse&optimizer=sgd"
                     "&lr=0.03&batch=10&seed=1")


def test_every_parameter_names_a_config_field():
    config = build_session(CreateSession()).config()
    for name, field in PARAMS.items():
        if field.startswith("page."):  # the page's own settings live with the session's page state
            continue
        where = config["dataset"] if field.startswith("dataset.") else config
        assert field.removeprefix("dataset.") in where, name


def test_no_link_for_inline_data_csv_uploads_or_explicit_weights():
    inline = build_session(CreateSession(dataset=dict(inputs=[[0.0], [1.0]], targets=[[0.0], [1.0]])))
    assert setup_query(inline.config()) is None
    csv = build_session(CreateSession(dataset=dict(name="csv", csv="a,b\n1,2\n3,4\n5,7\n", target_columns=["b"])))
    assert setup_query(csv.config()) is None
    mazur = build_session(PRESETS["mazur"].request())
    assert session_query(mazur) is None
    assert setup_query({**mazur.config(), "weights": mazur.request.weights}) is None
    # Without explicit weights session_query is setup_query of the config.
    plain = build_session(CreateSession(seed=9))
    assert session_query(plain) == setup_query(plain.config()) is not None


def test_a_query_without_setup_parameters_is_not_a_setup():
    assert request_from_query(QueryParams("")) is None
    assert request_from_query(QueryParams("preset=xor")) is None
    assert request_from_query({"preset": "xor", "seed": "4"}).seed == 4


@pytest.mark.parametrize("text, value", [("1", True), ("0", False), ("true", True), ("FALSE", False)])
def test_booleans_read_as_one_zero_true_or_false(text, value):
    assert request_from_query({"shuffle": text}).shuffle is value


BAD = [
    ("lr=0.1&activaton=relu", "activaton", "Unknown setup parameter 'activaton'; the known ones are dataset,"),
    ("lr=0.1&lr=0.2", "lr", "lr is given 2 times; give it once."),
    ("lr=abc", "lr", "lr must be a number, not 'abc'."),
    ("lr=-1", "lr", "Input should be greater than 0"),
    ("lr=nan", "lr", "Input should be a finite number"),
    ("lr=", "lr", "lr needs a value."),
    ("layers=2,x,1", "layers", "layers must be whole numbers separated by commas, e.g. 2,4,2,1; not '2,x,1'."),
    ("layers=2,1000,1", "layers", "layer 1 has 1000 nodes; each layer needs 1 to 64."),
    ("activation=bogus", "activation", "Input should be 'sigmoid', 'tanh', 'relu', 'leaky_relu' or 'linear'"),
    ("dataset=nope", "dataset", "Unknown dataset 'nope'; a link can name circle, xor,"),
    ("dataset=csv", "dataset", "a link cannot carry CSV data"),
    ("shuffle=maybe", "shuffle", "shuffle must be 1 or 0 (or true or false), not 'maybe'."),
    ("seed=1.5", "seed", "seed must be a whole number, not '1.5'."),
    ("samples=100000", "samples", "samples is 100000 but the cap is 5000."),
    ("data_seed=-1", "data_seed", "Input should be greater than or equal to 0"),
    ("features=x1,zz", "features", "Unknown feature 'zz'"),
    ("dataset=sine&features=x1", "features", "dataset sine does not have 2-D inputs"),
]


@pytest.mark.parametrize("query, param, message", BAD)
def test_bad_parameters_name_the_query_parameter(query, param, message):
    with pytest.raises(FieldError) as caught:
        request_from_query(QueryParams(query))
    assert caught.value.field == param
    assert caught.value.message.startswith(message)


SPIRAL = "/?dataset=spiral&layers=2,8,8,1&activation=tanh&lr=0.03&seed=7"


def test_a_setup_link_builds_the_same_initial_state_in_every_browser(client):
    states = []
    for _ in range(2):
        with browser(client) as other:
            page = other.get(SPIRAL)
            assert page.status_code == 200
            states.append(other.get(f"/api/sessions/{other.cookies['bp_session']}").json())
    assert states[0]["weights"] == states[1]["weights"] and states[0]["step"] == 0
    cfg = states[0]["config"]
    assert cfg["layers"] == [2, 8, 8, 1] and cfg["dataset"]["name"] == "spiral" and cfg["learning_rate"] == 0.03


def test_the_page_carries_its_setup_link_and_a_reload_keeps_the_training(client):
    page = client.get(SPIRAL)
    url = re.search(r'data-setup-url="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert url.startswith("/?dataset=spiral&layers=2,8,8,1&activation=tanh") and "seed=7" in url
    client.post("/ui/step", headers={"HX-Request": "true"})
    sid = client.cookies["bp_session"]
    client.get(url)  # the same setup: the session keeps its step
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 1
    changed = client.post("/ui/config", headers={"HX-Request": "true"}, data={"learning_rate": "0.1"})
    assert "lr=0.1" in re.search(r'data-setup-url="([^"]+)"', changed.text).group(1)
    client.get(url.replace("seed=7", "seed=8"))  # another setup: a new session built from the link
    new = client.cookies["bp_session"]
    assert new != sid and client.get(f"/api/sessions/{new}").json()["step"] == 0
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 1  # a GET changed nothing


def test_a_bad_setup_link_says_why_and_changes_nothing(client):
    client.get("/")
    sid = client.cookies["bp_session"]
    client.post("/ui/step", headers={"HX-Request": "true"})
    before = client.get(f"/api/sessions/{sid}").json()
    for query, words in (("lr=abc", "lr"), ("layers=2,1000,1", "layers"), ("dataset=%3Cscript%3E", "dataset"),
                         ("output=linear&loss=bce", "loss")):
        page = client.get("/?" + query)
        assert page.status_code == 200
        message = html.unescape(re.search(r'<p class="message error" role="alert">([^<]*)<', page.text).group(1))
        assert "This link's setup cannot be used" in message and words in message
        assert client.get(f"/api/sessions/{sid}").json() == before


def test_links_carry_plays_speed_for_a_new_session_only(client):
    client.get("/?dataset=xor&speed=epoch")
    sid = client.cookies["bp_session"]
    session = client.app.state.sessions.get(sid)
    assert session.page.transport.speed == "epoch" and session_query(session).endswith("&seed=1&speed=epoch")
    assert session_query(session, page=False).endswith("&seed=1")
    page = client.get("/?" + session_query(session)).text  # a reload of its own link keeps the session
    assert client.cookies["bp_session"] == sid and '<option value="epoch" selected>1 epoch</option>' in page
    # The same setup at another speed is another link: a new session (a GET never changes an existing one).
    client.get("/?" + session_query(session, page=False) + "&speed=10")
    assert client.cookies["bp_session"] != sid and session.page.transport.speed == "epoch"
    bad = client.get("/?dataset=xor&speed=fast").text
    assert "speed: speed must be one of auto, 1, 10, epoch, 2-epochs, 3-epochs, not &#39;fast&#39;." in bad


def test_links_carry_plays_stop_conditions(client):
    client.get("/?dataset=xor&stop_loss=0.05&stop_step=300")
    sid = client.cookies["bp_session"]
    session = client.app.state.sessions.get(sid)
    assert session.page == PageState(Transport(stop_loss=0.05, stop_step=300))
    assert session_query(session).endswith("&seed=1&stop_loss=0.05&stop_step=300")
    page = client.get("/?" + session_query(session)).text  # its own link: the same session
    assert client.cookies["bp_session"] == sid and 'value="0.05"' in page and 'value="300"' in page
    bad = html.unescape(client.get("/?dataset=xor&stop_step=-5").text)
    assert "stop_step: stop_step must be at least 1, not -5; leave it blank for no limit." in bad
    assert client.get("/?dataset=xor&stop_loss=").status_code == 200  # blank: off
