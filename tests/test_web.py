"""The page (app/web: page, training, configure, probes): actions answer every panel, bad input is explained and
changes nothing."""
import html
import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from app.core.page_state import PageState, Transport
from app.core.recipe import CreateSession
from app.core.session import build_session
from app.settings import get_settings
from app.web.view_state import view_of
from helpers import HX, everything, page_session


def test_page_sets_a_private_session_cookie_that_the_api_serves(client):
    r = client.get("/")
    assert r.status_code == 200 and '<svg id="network" data-step="0"' in r.text
    cookie = r.headers["set-cookie"]
    assert "bp_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    sid = client.cookies["bp_session"]
    assert re.fullmatch(r"[0-9a-f]{32}", sid) and sid not in r.text  # printed only on request (API access)
    assert f"/api/sessions/{sid}" in client.get("/ui/api-access", headers=HX).text
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 0


def test_step_answers_every_panel_out_of_band(client):
    client.get("/")
    r = client.post("/ui/step", headers=HX)
    assert r.status_code == 200
    for panel in ["metrics", "message", "network", "narration", "diagram-caption", "output-data", "loss-data", "player"]:
        assert re.search(rf'id="{panel}"[^>]*hx-swap-oob="true"', r.text), panel
    # The network bar and column heads only change with the settings: a step sends the diagram and its words.
    assert 'id="network-panel"' not in r.text
    assert 'data-step="1"' in r.text and '"mode":"extend"' in r.text
    # Only what a step changes: the heatmap image, not the points; the toolbar stays put under the pointer.
    assert '"image":"data:image/png;base64,' in r.text and '"figure"' not in r.text
    assert 'id="transport"' not in r.text
    sid = client.cookies["bp_session"]
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 1
    r = client.post("/ui/shape", data={"action": "add-neuron", "layer": "1"}, headers=HX)
    assert re.search(r'id="network-panel"[^>]*hx-swap-oob="true"', r.text) and r.text.count('hx-swap-oob="true"') > 8
    assert not re.search(r'id="(network|narration)"[^>]*hx-swap-oob', r.text)  # inside the panel, not twice


def test_actions_without_htmx_redirect_back_to_the_page(client):
    client.get("/")
    # A browser's plain form post names its origin.
    r = client.post("/ui/step", follow_redirects=False, headers={"Origin": "http://testserver"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert 'data-step="1"' in client.get("/").text


def test_actions_without_a_session_ask_the_page_to_reload(client):
    r = client.post("/ui/step", headers=HX)
    assert r.status_code == 204 and r.headers["hx-refresh"] == "true"


def test_json_api_steps_show_up_in_the_page(client):
    client.get("/")
    sid = client.cookies["bp_session"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 7})
    assert 'data-step="7"' in client.get("/").text


def test_bad_config_is_shown_inline_and_changes_nothing(client):
    client.get("/")
    sid = client.cookies["bp_session"]
    before = client.get(f"/api/sessions/{sid}").json()
    r = client.post("/ui/config", headers=HX, data={"learning_rate": "-1"})
    assert 'id="error-learning_rate"' in r.text and "greater than 0" in r.text
    assert client.get(f"/api/sessions/{sid}").json() == before


def test_divergence_is_said_plainly_and_nothing_changes(client):
    client.get("/")
    sid = client.cookies["bp_session"]
    client.post("/ui/config", headers=HX, data={"hidden_activation": "relu", "output_activation": "linear"})
    client.post("/ui/config", headers=HX, data={"learning_rate": "100"})
    before = client.get(f"/api/sessions/{sid}").json()
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 200})
    assert r.status_code == 409
    step = r.json()["step"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": step - 1})
    r = client.post("/ui/step", headers=HX)
    assert f"Training diverged at step {step}: lower the learning rate or go Back." in r.text
    assert "NaN" not in r.text
    assert client.get(f"/api/sessions/{sid}").json()["step"] == step - 1 == before["step"] + step - 1


def test_shape_buttons_stay_within_the_page_limits(client):
    client.get("/")
    for _ in range(8):
        client.post("/ui/shape", headers=HX, data={"action": "add-layer"})
    for _ in range(10):
        client.post("/ui/shape", headers=HX, data={"action": "add-neuron", "layer": "1"})
    layers = client.get(f"/api/sessions/{client.cookies['bp_session']}").json()["config"]["layers"]
    assert len(layers) - 2 == 6 and layers[1] == 8


def test_play_frames_chain_until_pause(client):
    client.get("/?speed=1")
    r = client.post("/ui/play", headers=HX)
    assert 'id="transport"' in r.text and ">Pause</button>" in r.text
    assert re.search(r'id="player"[^>]*data-playing="1"', r.text)
    r = client.post("/ui/play-frame", headers=HX)
    assert 'data-step="2"' in r.text and 'data-playing="1"' in r.text and 'id="transport"' not in r.text
    r = client.post("/ui/pause", headers=HX)
    assert ">Play</button>" in r.text and 'data-playing="1"' not in r.text
    r = client.post("/ui/play-frame", headers=HX)
    assert 'data-step="2"' in r.text and 'data-playing="1"' not in r.text


def test_rebuilds_happen_in_place_so_waiting_requests_train_the_new_network(client):
    client.get("/")
    sid = client.cookies["bp_session"]
    store = client.app.state.sessions
    session = store.get(sid)
    client.post("/ui/step", headers=HX)
    client.post("/ui/reset", headers=HX)
    assert store.get(sid) is session and session.trainer.step_count == 0
    client.post(f"/api/sessions/{sid}/step", json={"steps": 3})
    assert 'data-step="3"' in client.get("/").text


def test_unknown_output_activation_is_an_inline_error(client):
    client.get("/")
    r = client.post("/ui/config", headers=HX, data={"output_activation": "foo"})
    assert r.status_code == 200 and 'id="error-output_activation"' in r.text


def test_loss_notice_only_when_the_loss_really_changes(client):
    client.get("/")
    r = client.post("/ui/config", headers=HX, data={"output_activation": "sigmoid"})
    assert "Loss switched" not in r.text
    r = client.post("/ui/config", headers=HX, data={"output_activation": "softmax"})
    assert "Loss switched to cross_entropy" in r.text


def test_shape_buttons_that_change_nothing_keep_the_trained_network(client):
    client.get("/")
    client.post("/ui/step", headers=HX)
    r = client.post("/ui/shape", headers=HX, data={"action": "remove-neuron", "layer": "5"})
    assert 'data-step="1"' in r.text


def phase(client):
    return client.post("/ui/phase", headers=HX).text


def test_a_detailed_step_in_progress_is_cancelled_when_the_state_changes(client):
    for change in ("lr", "edit", "rewind", "step"):
        client.get("/?preset=mazur")
        sid = client.cookies["bp_session"]
        client.post(f"/api/sessions/{sid}/step", json={"steps": 1})
        phase(client)
        phase(client)
        if change == "lr":
            client.post("/ui/config", headers=HX, data={"learning_rate": "0.1"})
        elif change == "edit":
            client.post(f"/api/sessions/{sid}/parameters",
                        json={"kind": "weight", "layer": 1, "to": 0, "from": 0, "value": 2.0})
        elif change == "rewind":
            client.post(f"/api/sessions/{sid}/rewind", json={"step": 0})
        else:
            client.post(f"/api/sessions/{sid}/step", json={"steps": 1})
        phase(client)
        session = client.app.state.sessions.get(sid)
        step = view_of(session).step
        assert step.phase == "forward", change  # the next click started over from the new state
        proposal = step.trace
        assert proposal.params_before.tobytes() == session.trainer.net.params.tobytes()


def test_inspector_ignores_negative_indices(client):
    client.get("/")
    r = client.get("/ui/inspect?kind=weight&layer=-1&to=0&from=0")
    assert r.status_code == 200 and "Click an edge or a node" in r.text and "insp-edit" not in r.text


@pytest.mark.parametrize("control, value, words", [
    ("learning_rate", "abc", "valid number"),
    ("learning_rate", "-1", "greater than 0"),
    ("learning_rate", "0", "greater than 0"),
    ("learning_rate", "1e9", "less than or equal to 100"),
    ("learning_rate", "NaN", "finite number"),
    ("batch_size", "0", "greater than or equal to 1"),
    ("batch_size", "1e12", "valid integer"),
    ("hidden_activation", "swish", "Input should be"),
    ("loss", "hinge", "Input should be"),
    ("dataset", "mnist", "mnist"),
    ("seed", "-3", "greater than or equal to 0"),
    ("samples", "100000", "cap"),
])
def test_bad_settings_are_named_next_to_their_control_and_change_nothing(client, control, value, words):
    sid = page_session(client)
    before = everything(client, sid)
    r = client.post("/ui/config", headers=HX, data={control: value})
    assert r.status_code == 200
    target = "dataset" if control == "samples" else control
    error = re.search(rf'<p class="field-error" id="error-{target}" role="alert">([^<]*)</p>', r.text)
    assert error and words.lower() in html.unescape(error.group(1)).lower(), r.text[:300]
    assert everything(client, sid) == before


def test_an_error_for_a_control_not_on_the_page_is_shown_at_the_top_of_the_form(client):
    """Momentum's field is only on the page while the momentum optimizer is chosen; switching to it with a bad
    momentum must still say why nothing changed."""
    sid = page_session(client)
    before = everything(client, sid)
    r = client.post("/ui/config", headers=HX, data={"optimizer": "momentum", "momentum": "nan"})
    errors = re.findall(r'<p class="field-error" role="alert">([^<]*)</p>', r.text)
    assert [html.unescape(e) for e in errors] == ["momentum: Input should be a finite number"], errors
    assert everything(client, sid) == before


def test_an_incompatible_loss_is_explained(client):
    sid = page_session(client)
    before = everything(client, sid)
    r = client.post("/ui/config", headers=HX, data={"loss": "cross_entropy"})
    error = re.search(r'id="error-loss" role="alert">([^<]*)<', r.text)
    assert error and "softmax" in html.unescape(error.group(1))
    assert everything(client, sid) == before


def test_a_change_whose_page_cannot_be_drawn_is_undone(client, monkeypatch):
    """Defence in depth: if the rebuilt network's page fails to render, the session keeps its old network."""
    import app.web.panels

    sid = page_session(client)
    before = everything(client, sid)
    real = app.web.panels.panels

    def broken(request, session, **kwargs):
        if kwargs.get("controls"):
            raise RuntimeError("cannot draw this")
        return real(request, session, **kwargs)

    monkeypatch.setattr(app.web.panels, "panels", broken)
    quiet = TestClient(client.app, raise_server_exceptions=False, cookies={"bp_session": sid})  # no second lifespan
    r = quiet.post("/ui/config", headers=HX, data={"hidden_activation": "relu"})
    assert r.status_code == 500 and r.json() == {"detail": "Internal error; nothing was changed."}
    monkeypatch.undo()
    assert everything(client, sid) == before
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("path, data, words", [
    ("/ui/rewind", {"step": "x"}, "step must be a whole number"),
    ("/ui/rewind", {"step": "99"}, "step 99 is not kept"),
    ("/ui/predict", {"input_0": "1e9"}, "Enter a number (up to 1e6)"),
    ("/ui/edit", {"kind": "weight", "layer": "0", "to": "0", "from": "0", "value": "nan"}, "finite number"),
    ("/ui/edit", {"kind": "weight", "layer": "9", "to": "0", "from": "0", "value": "1"}, "layer"),
    ("/ui/edit", {"kind": "weight", "layer": "0", "to": "99", "from": "0", "value": "1"}, "to must be 0 to 3"),
    ("/ui/edit", {"layer": "0", "to": "0", "from": "0", "value": "1"}, "kind"),
    ("/ui/shape", {"action": "explode"}, "action"),
])
def test_other_bad_page_input_is_explained_and_changes_nothing(client, path, data, words):
    sid = page_session(client)
    before = everything(client, sid)
    r = client.post(path, headers=HX, data=data)
    assert r.status_code in (200, 422) and "Traceback" not in r.text
    if r.status_code == 422:
        shown = str(r.json()["detail"])
    else:
        shown = " ".join(html.unescape(m) for m in re.findall(r'role="alert"[^>]*>([^<]+)<', r.text))
    assert words in shown, shown[:300]
    assert everything(client, sid) == before


def test_a_get_never_changes_an_existing_session(client):
    sid = page_session(client)
    before = everything(client, sid)
    for path in ("/?preset=xor", "/?dataset=spiral&seed=3", "/?lr=abc", "/s/AAAAAAAAAAAAAAAA", "/ui/inspect?kind=x"):
        client.get(path)
    assert everything(client, sid) == before


def test_the_page_says_when_a_request_ran_too_long(client, monkeypatch):
    sid = page_session(client)
    before = everything(client, sid)
    monkeypatch.setattr(get_settings(), "max_request_seconds", 0.0)
    for path in ("/ui/step", "/ui/epoch", "/ui/play"):
        r = client.post(path, headers=HX)
        assert r.status_code == 200 and "longer than 0 s" in r.text
    monkeypatch.undo()
    assert everything(client, sid) == before


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


def test_the_settings_are_built_only_for_the_answers_that_send_them():
    from app.web.outcome import configured, stepped
    from app.web.panel_table import context
    from app.web.setup_links import session_query

    session = build_session(CreateSession(seed=9, learning_rate=0.1))
    points = session.train(3)
    ctx = context(session, configured())
    assert ctx["cfg"] == session.config() and ctx["cfg"]["dataset"] == session.config()["dataset"]
    assert ctx["setup_url"] == "/?" + session_query(session)
    assert ctx["shape"]["hidden"] == session.config()["layers"][1:-1]
    assert ctx["loss_curve"]["loss"] == session.config()["loss"]
    # A step sends no settings form, network bar or setup link: their builders do not run.
    session.config = lambda: pytest.fail("a step's answer built the settings")
    ctx = context(session, stepped(points))
    assert not {"cfg", "controls", "setup_url", "shape", "exercise"} & set(ctx)
    assert ctx["loss_curve"]["points"] == points and ctx["loss_curve"]["mode"] == "extend"


def test_play_pauses_when_the_loss_explodes_and_says_so(client):
    client.get("/?dataset=plane&activation=relu&output=linear&lr=10")
    r = client.post("/ui/play", headers=HX)
    for _ in range(50):
        if "Play paused" in r.text:
            break
        assert 'data-playing="1"' in r.text  # still playing
        r = client.post("/ui/play-frame", headers=HX)
    message = re.search(r"Play paused: the loss grew from (\S+) to (\S+) in (\d+) steps?: lower the learning rate "
                        r"or go Back\.", html.unescape(r.text))
    assert message and float(message[2]) >= 100 * float(message[1]) and float(message[2]) < 1e12
    assert 'data-playing="1"' not in r.text and ">Play</button>" in r.text
    step = int(re.search(r'data-step="(\d+)"', r.text)[1])
    assert step <= 12
    # The JSON API is not refused for a large loss, only for NaN or infinity.
    sid = client.post("/api/sessions", json={"learning_rate": 10, "hidden_activation": "relu",
                                             "output_activation": "linear", "dataset": {"name": "plane"}}).json()["id"]
    first = client.get(f"/api/sessions/{sid}").json()["loss"]["train"]
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 3})
    assert r.status_code == 200 and r.json()["loss"]["train"] > 1000 * first


def test_play_runs_on_when_the_loss_falls(client):
    client.get("/")
    client.post("/ui/play", headers=HX)
    for _ in range(30):
        r = client.post("/ui/play-frame", headers=HX)
        assert "Play paused" not in r.text and 'data-playing="1"' in r.text


def test_the_loss_curve_names_the_loss_in_use(client):
    assert "Mean half_sse over all train and test rows" in client.get("/").text
    r = client.post("/ui/config", headers=HX, data={"output_activation": "sigmoid", "loss": "bce"})
    hint = re.search(r'<p id="loss-hint"[^>]*hx-swap-oob="true"[^>]*>([^<]*)</p>', r.text)
    assert hint and hint[1] == "Mean bce over all train and test rows after every step."
    assert 'id="loss-hint"' not in client.post("/ui/step", headers=HX).text  # a step does not change it


@pytest.mark.parametrize("speed, steps", [("auto", 100), ("1", 1), ("10", 10), ("epoch", 25), ("2-epochs", 50),
                                          ("3-epochs", 75)])
def test_each_play_frame_trains_as_much_as_the_speed_says(client, speed, steps):
    client.get("/")  # the circle: 250 training rows in batches of 10, 25 steps an epoch
    r = client.post("/ui/speed", headers=HX, data={"speed": speed})
    assert re.search(f'<option value="{speed}" selected[ >]', r.text) and 'id="controls-form"' in r.text
    assert ("speed=" in re.search(r'data-setup-url="([^"]*)"', r.text)[1]) == (speed != "auto")
    r = client.post("/ui/play", headers=HX)
    assert re.search(r'<svg id="network" data-step="(\d+)"', r.text)[1] == str(steps)
    r = client.post("/ui/play-frame", headers=HX)
    assert re.search(r'<svg id="network" data-step="(\d+)"', r.text)[1] == str(2 * steps)
    sid = client.cookies["bp_session"]
    curve = client.get(f"/api/sessions/{sid}/export").json()["history"]
    assert [p[0] for p in curve] == list(range(2 * steps + 1))  # every step has its loss point


def test_a_bad_speed_is_refused_and_changes_nothing(client):
    client.get("/")
    r = client.post("/ui/speed", headers=HX, data={"speed": "warp"})
    assert "Speed must be one of Auto, 1 step, 10 steps, 1 epoch, 2 epochs, 3 epochs." in r.text
    assert '<option value="auto" selected title="4 epochs a frame on this data (100 steps)' in r.text
    assert client.app.state.sessions.get(client.cookies["bp_session"]).page == PageState()


def _forward_disabled(text: str) -> bool:
    button = re.search(r'<button id="btn-forward"[^>]*>', text).group(0)
    return " disabled" in button


def test_forward_redoes_what_back_undid_until_a_new_step(client):
    r = client.get("/")
    assert _forward_disabled(r.text)
    sid = client.cookies["bp_session"]
    for _ in range(3):
        client.post("/ui/step", headers=HX)
    third = everything(client, sid)
    client.post("/ui/back", headers=HX)
    r = client.post("/ui/back", headers=HX)
    assert 'data-step="1"' in r.text and not _forward_disabled(r.text)
    assert 'max="3"' in r.text and 'value="1"' in r.text  # the scrubber spans the steps to redo
    assert client.get(f"/api/sessions/{sid}").json()["redo_steps"] == [2, 3]
    client.post("/ui/forward", headers=HX)
    r = client.post("/ui/forward", headers=HX)
    assert r.status_code == 200 and 'data-step="3"' in r.text and _forward_disabled(r.text)
    assert everything(client, sid) == third
    r = client.post("/ui/forward", headers=HX)
    assert "there is no later step to go forward to" in r.text and everything(client, sid) == third
    client.post("/ui/rewind", headers=HX, data={"step": "1"})
    client.post("/ui/step", headers=HX)  # a new step 2: step 3 is gone
    state = client.get(f"/api/sessions/{sid}").json()
    assert state["step"] == 2 and state["kept_steps"] == [0, 2] and state["redo_steps"] == []
    assert "no later step" in client.post("/ui/forward", headers=HX).text


@pytest.mark.parametrize("path, data, what", [
    ("/ui/reset", {}, "Reset"),
    ("/ui/new-seed", {}, "New seed"),
    ("/ui/regenerate", {}, "new data"),
    ("/ui/config", {"hidden_activation": "relu"}, "changing Hidden activation"),
    ("/ui/config", {"dataset": "xor"}, "changing the data"),
    ("/ui/shape", {"action": "add-layer"}, "changing the layers"),
])
def test_back_after_a_rebuild_returns_exactly_to_the_state_before_it(client, path, data, what):
    client.get("/")
    sid = client.cookies["bp_session"]
    client.post("/ui/config", headers=HX, data={"optimizer": "adam"})  # keeps the network; Adam has state
    for _ in range(4):
        client.post("/ui/step", headers=HX)
    client.post("/ui/back", headers=HX)  # step 4 can be redone
    before = everything(client, sid)
    r = client.post(path, headers=HX, data=data)
    assert r.status_code == 200 and client.get(f"/api/sessions/{sid}").json()["step"] == 0
    r = client.post("/ui/back", headers=HX)
    assert f"Back to the network before {escape(what)}: step 3." in r.text
    assert 'id="controls-form"' in r.text  # the settings are the old network's again
    assert everything(client, sid) == before
    assert client.get(f"/api/sessions/{sid}").json()["redo_steps"] == [4, 4]
    r = client.post("/ui/back", headers=HX)
    assert 'data-step="2"' in r.text


def test_back_after_loading_a_csv_returns_to_the_data_before(client):
    sid = page_session(client)
    before = everything(client, sid)
    csv = "a,b,y\n" + "".join(f"{i},{i % 3},{i * 2}\n" for i in range(20))
    r = client.post("/ui/upload", headers=HX, files={"file": ("twice.csv", csv.encode(), "text/csv")})
    assert "Loaded twice.csv" in r.text
    assert client.get(f"/api/sessions/{sid}").json()["data"]["name"] == "csv"
    r = client.post("/ui/back", headers=HX)
    assert "Back to the network before loading twice.csv: step 1." in r.text
    assert everything(client, sid) == before
    r = client.post("/ui/back", headers=HX)
    r = client.post("/ui/back", headers=HX)
    assert "there is no earlier step to go back to" in r.text


def inspector_of(text: str) -> tuple[str | None, str]:
    """The inspector in an answer: its data-step and its text (None when the answer does not draw it)."""
    m = re.search(r'<section id="inspector" class="([^"]*)"[^>]*data-step="(\d*)"[^>]*>(.*?)</section>', text, re.S)
    return (None, "") if m is None else (m.group(2), ("open " if "open" in m.group(1).split() else "") + m.group(3))


def test_the_inspector_follows_every_change_of_state_until_closed(client):
    client.get("/?preset=xor")
    client.post("/ui/step", headers=HX)
    r = client.post("/ui/inspect", data={"kind": "edge", "layer": "1", "from": "0", "to": "0"}, headers=HX)
    step, text = inspector_of(r.text)
    assert step == "1" and text.startswith("open") and "step 1 · 4 rows" in text
    for action, expected in [("/ui/step", "2"), ("/ui/epoch", "3"), ("/ui/back", "2"), ("/ui/step", "3")]:
        step, text = inspector_of(client.post(action, headers=HX).text)
        assert step == expected and text.startswith("open"), action
    assert f"step {expected} · 4 rows" in text
    # The selection outlives a rebuild only while it exists: removing the hidden layer's last node removes it.
    step, text = inspector_of(client.post("/ui/edit", data={"kind": "weight", "layer": "1", "to": "0", "from": "0",
                                                            "value": "0.5"}, headers=HX).text)
    assert text.startswith("open") and 'value="0.5"' in text
    assert client.post("/ui/inspect/close", headers=HX).status_code == 204
    assert inspector_of(client.post("/ui/step", headers=HX).text)[0] is None


def test_a_selection_that_is_gone_says_so_once(client):
    client.get("/?preset=xor")
    client.post("/ui/inspect", data={"kind": "node", "layer": "1", "to": "1"}, headers=HX)
    r = client.post("/ui/shape", data={"action": "remove-neuron", "layer": "1"}, headers=HX)
    step, text = inspector_of(r.text)
    assert text.startswith("open") and "no longer in the network" in text
    assert inspector_of(client.post("/ui/step", headers=HX).text)[0] is None


def test_detailed_inspector_shows_only_what_the_phases_have_computed(client):
    client.get("/?preset=mazur")
    hidden_edge = {"kind": "edge", "layer": "0", "from": "0", "to": "0"}
    output_edge = {"kind": "edge", "layer": "1", "from": "0", "to": "0"}
    client.post("/ui/phase", headers=HX)  # forward
    for target in (hidden_edge, output_edge):
        text = inspector_of(client.post("/ui/inspect", data=target, headers=HX).text)[1]
        assert "not yet updated" in text and "Gradient" not in text and "Why" not in text and "Update:" not in text
    text = inspector_of(client.post("/ui/inspect", data={"kind": "node", "layer": "2", "to": "0"}, headers=HX).text)[1]
    assert "0.593269992" in text.replace("0.59327", "0.593269992") and "Why" not in text  # out_h1 forward only
    client.post("/ui/phase", headers=HX)  # loss
    client.post("/ui/phase", headers=HX)  # backward, output layer
    assert "Why" in inspector_of(client.post("/ui/inspect", data=output_edge, headers=HX).text)[1]
    text = inspector_of(client.post("/ui/inspect", data=hidden_edge, headers=HX).text)[1]
    assert "Why" not in text and "backward pass reaches h1" in text
    client.post("/ui/phase", headers=HX)  # backward, hidden layer
    text = inspector_of(client.post("/ui/inspect", data=hidden_edge, headers=HX).text)[1]
    assert "Why" in text and "Update:" not in text and "comes in the Update phase" in text
    text = inspector_of(client.post("/ui/phase", headers=HX).text)[1]  # update: the selection follows
    assert "Update: sgd" in text and "0.149780716" in text


def _step_of(text: str) -> int:
    return int(re.search(r'<svg id="network" data-step="(\d+)"', text)[1])


def test_play_stops_exactly_at_the_stop_step_and_says_so(client):
    client.get("/?speed=2-epochs&stop_step=30")  # 50 steps a frame, but not past step 30
    r = client.post("/ui/play", headers=HX)
    assert _step_of(r.text) == 30 and "Play stopped at step 30, as set." in r.text
    assert re.search(r'<button id="btn-play"[^>]*>Play</button>', r.text) and "/ui/play-frame" not in r.text
    sid = client.cookies["bp_session"]
    assert [p[0] for p in client.get(f"/api/sessions/{sid}/export").json()["history"]] == list(range(31))
    r = client.post("/ui/play", headers=HX)  # at the stop step: Play does not start
    assert _step_of(r.text) == 30 and "Raise or clear “Stop at step” to train on." in r.text
    client.post("/ui/config", headers=HX, data={"stop_step": "120"})  # raised: Play goes on to it, frame by frame
    r = client.post("/ui/play", headers=HX)
    assert _step_of(r.text) == 80 and "Play stopped" not in r.text
    r = client.post("/ui/play-frame", headers=HX)
    assert _step_of(r.text) == 120 and "Play stopped at step 120, as set." in r.text


def test_play_stops_at_the_first_step_whose_train_loss_is_below_the_stop_loss(client):
    sid = client.post("/api/sessions", json={}).json()["id"]  # the page's default setup, trained on its own
    client.post(f"/api/sessions/{sid}/step", json={"steps": 300})
    curve = client.get(f"/api/sessions/{sid}/export").json()["history"]
    stop_loss = curve[140][1]
    first = next(p for p in curve if p[1] < stop_loss)
    client.get("/?speed=2-epochs")
    client.post("/ui/config", headers=HX, data={"stop_loss": repr(stop_loss)})
    r = client.post("/ui/play", headers=HX)
    while "Play stopped" not in r.text and _step_of(r.text) < 300:
        r = client.post("/ui/play-frame", headers=HX)
    assert _step_of(r.text) == first[0]  # not the end of the frame it fell in
    assert f"Play stopped: the train loss {first[1]:.3g} fell below {stop_loss:g} at step {first[0]}." in \
        html.unescape(r.text)
    page_sid = client.cookies["bp_session"]
    assert client.get(f"/api/sessions/{page_sid}/export").json()["history"] == curve[:first[0] + 1]


@pytest.mark.parametrize("field, text, words", [
    ("stop_step", "0", "stop_step must be at least 1, not 0"),
    ("stop_step", "ten", "stop_step must be a whole number, not 'ten'."),
    ("stop_step", "2.5", "stop_step must be a whole number, not '2.5'."),
    ("stop_loss", "0", "stop_loss must be more than 0, not 0"),
    ("stop_loss", "-1", "stop_loss must be more than 0, not -1"),
    ("stop_loss", "nan", "stop_loss must be a finite number, not 'nan'."),
])
def test_bad_stop_conditions_are_refused_beside_their_control_and_change_nothing(client, field, text, words):
    client.get("/?stop_step=40&stop_loss=0.05")
    session = client.app.state.sessions.get(client.cookies["bp_session"])
    r = client.post("/ui/config", headers=HX, data={field: text, "learning_rate": "0.1"})
    error = re.search(rf'<p class="field-error" id="error-{field}" role="alert">([^<]*)</p>', r.text)
    assert error and words in html.unescape(error[1])
    assert session.page == PageState(Transport(stop_loss=0.05, stop_step=40)) and session.trainer.config.learning_rate == 0.03


def test_the_stop_conditions_are_in_the_settings_forms_play_fieldset_and_blank_turns_them_off(client):
    page = client.get("/?stop_step=40").text
    play = re.search(r"<legend>Play</legend>(.*?)</fieldset>", page, re.S)[1]
    assert 'name="stop_step" type="text" inputmode="decimal" value="40"' in play
    assert 'name="stop_loss" type="text" inputmode="decimal" value=""' in play
    r = client.post("/ui/config", headers=HX, data={"stop_step": "", "stop_loss": "0.01"})
    assert client.app.state.sessions.get(client.cookies["bp_session"]).page == PageState(Transport(stop_loss=0.01))
    assert "stop_step" not in re.search(r'data-setup-url="([^"]*)"', r.text)[1]
    assert "stop_loss=0.01" in re.search(r'data-setup-url="([^"]*)"', r.text)[1]
