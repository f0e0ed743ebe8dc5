"""A training session (app/core/session.py, history.py, training.py): training all or nothing, rewind points
within their caps, edits, rebuilds in place, predictions, and the change count that marks older drawings stale."""
import pytest

import app.core.history
import app.core.session
import app.core.training
from app.core.recipe import CreateSession
from app.core.session import build_session
from app.engine import DivergenceError, FieldError
from app.settings import get_settings
from helpers import mazur_setup, new_session

# Sigmoid hidden nodes and a linear output at learning rate 10 on the sine data: step 120 would make the loss
# infinite.
DIVERGES = dict(hidden_activation="sigmoid", output_activation="linear", loss="mse", learning_rate=10,
                dataset={"name": "sine"})


def parts(session) -> tuple:
    """Everything a failed request must leave as it was, as plain values."""
    return (session.trainer.step_count, session.trainer.net.params.tolist(), list(session.history),
            list(session.snapshots), session.last_trace)


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


def test_rewind_points_are_bounded_in_bytes(client, monkeypatch):
    from app.settings import get_settings
    monkeypatch.setattr(get_settings(), "rewind_bytes", 20_000)
    sid = new_session(client, layers=[2, 32, 32, 1], optimizer="adam")  # 1,185 parameters: 28 KB a step
    client.post(f"/api/sessions/{sid}/step", json={"steps": 5})
    assert client.get(f"/api/sessions/{sid}").json()["kept_steps"] == [5, 5]


def test_mazur_predicts_the_articles_activations_for_every_layer(mazur):
    acts = mazur.predict([[0.05, 0.10], [1.0, 2.0]])
    assert len(acts) == 3 and [a.shape for a in acts] == [(2, 2), (2, 2), (2, 2)]
    assert acts[0].tolist() == [[0.05, 0.10], [1.0, 2.0]]  # the mazur data has no features or scaling
    assert acts[1][0].tolist() == pytest.approx([0.593269992, 0.596884378], abs=1e-9)
    assert acts[2][0].tolist() == pytest.approx([0.75136507, 0.772928465], abs=1e-8)
    assert mazur.trainer.step_count == 0 and mazur.changes == 0  # predicting changes nothing


def test_predict_refuses_rows_of_the_wrong_width_and_rows_that_overflow(mazur):
    with pytest.raises(FieldError) as err:
        mazur.predict([[0.05, 0.10], [1.0]])
    assert err.value.field == "inputs" and "2 values (i1, i2)" in err.value.message
    session = build_session(CreateSession(dataset={"features": ["x1_sq", "x2_sq", "sin_x1"]},
                                          output_activation="linear"))
    with pytest.raises(FieldError) as err:
        session.predict([[0.5, 0.5], [1e200, 0.0]])
    assert err.value.field == "inputs" and "row 1 " in err.value.message


def test_every_change_of_the_training_state_bumps_changes(mazur, mazur_request):
    assert mazur.changes == 0
    mazur.train(3)
    assert mazur.changes == 1
    mazur.rewind(1)
    assert mazur.changes == 2
    mazur.back()
    assert mazur.changes == 3 and mazur.trainer.step_count == 0
    mazur.set_parameter("weight", 0, 0, 0, 0.5)
    assert mazur.changes == 4
    mazur.become(build_session(mazur_request))
    assert mazur.changes == 5
    mazur.evaluate(), mazur.current_losses(), mazur.config(), mazur.predict([[0.05, 0.10]])
    assert mazur.changes == 5  # reading changes nothing


def test_become_takes_over_a_fresh_build_and_its_undo_restores_everything(mazur, mazur_request):
    mazur.train(4)
    lock, sid, changes = mazur.lock, mazur.id, mazur.changes
    before = (mazur.request, mazur.dataset, mazur.trainer, parts(mazur), mazur.history_generation)
    fresh = build_session(mazur_request.model_copy(update={"learning_rate": 0.1}))
    undo = mazur.become(fresh)
    assert mazur.trainer is fresh.trainer and mazur.dataset is fresh.dataset and mazur.request is fresh.request
    assert mazur.trainer.step_count == 0 and mazur.history == fresh.history and mazur.kept_steps == (0, 0)
    assert mazur.last_trace is None and mazur.changes == changes + 1
    assert mazur.lock is lock and mazur.id == sid  # the same object, so waiting requests train the new network
    undo()
    assert (mazur.request, mazur.dataset, mazur.trainer, parts(mazur), mazur.history_generation) == before
    assert mazur.changes == changes and mazur.kept_steps == (0, 4)


def test_a_diverging_request_keeps_nothing_but_the_change_count():
    session = build_session(CreateSession(**DIVERGES))
    session.train(100)
    before, generation, changes = parts(session), session.history_generation, session.changes
    with pytest.raises(DivergenceError) as err:
        session.train(50)
    assert err.value.step == 120
    assert parts(session) == before  # weights, step, loss curve, rewind points and trace as they were
    assert session.history_generation == generation + 1  # storage rewrites the curve
    assert session.changes == changes + 1
    points = session.train(19)
    assert [p[0] for p in points] == list(range(101, 120)) and session.kept_steps == (0, 119)


def test_a_request_over_the_time_cap_keeps_nothing(monkeypatch):
    session = build_session(CreateSession(**mazur_setup()))
    session.train(2)
    before = parts(session)
    monkeypatch.setattr(get_settings(), "max_request_seconds", 0.0)
    with pytest.raises(FieldError) as err:
        session.train(5)
    assert err.value.field == "steps" and "none of which were kept" in err.value.message
    assert parts(session) == before


def test_the_training_loop_runs_within_the_caps_and_on_the_clock_it_is_given(mazur):
    """app/core/training.py reads no settings: a clock that ticks a second a reading passes 2.5 s at the third
    step, and four sample passes refuse five steps of Mazur's one row; neither keeps anything."""
    before = parts(mazur)
    ticks = iter(range(100))
    with pytest.raises(FieldError) as err:
        app.core.training.train(mazur, 5, app.core.training.Caps(10**6, 2.5, lambda: next(ticks)))
    assert "longer than 2.5 s (it had done 3 of 5 steps" in err.value.message and parts(mazur) == before
    with pytest.raises(FieldError) as err:
        app.core.training.train(mazur, 5, app.core.training.Caps(4, 60.0))
    assert "5 steps of 1 rows is more than the 4 sample passes" in err.value.message and parts(mazur) == before
    assert len(app.core.training.train(mazur, 4, app.core.training.Caps(4, 60.0))) == 4


def test_a_request_over_the_work_cap_is_refused_before_any_step(mazur, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_sample_passes_per_request", 10)
    before = parts(mazur)
    with pytest.raises(FieldError) as err:
        mazur.train(11)
    assert err.value.field == "steps" and parts(mazur) == before
    assert len(mazur.train(10)) == 10


def test_rewind_points_are_capped_in_number(mazur, monkeypatch):
    monkeypatch.setattr(get_settings(), "rewind_steps", 3)
    mazur.train(10)
    assert list(mazur.snapshots) == [8, 9, 10] and mazur.kept_steps == (8, 10)
    with pytest.raises(FieldError) as err:
        mazur.rewind(7)
    assert err.value.field == "step" and "reaches steps 8 to 10" in err.value.message
    assert mazur.trainer.step_count == 10
    mazur.rewind(8)
    assert list(mazur.snapshots) == [8, 9, 10] and mazur.history[-1][0] == 8  # 9 and 10 can be redone
    with pytest.raises(FieldError):
        mazur.back()  # nothing kept before step 8


def everything(session) -> tuple:
    """The training state a rewind restores, bitwise: weights, optimizer state, step, epoch, batch position and
    the loss curve."""
    state = session.trainer.state_dict()
    optimizer = {k: v.tobytes() if hasattr(v, "tobytes") else v for k, v in state["optimizer"].items()}
    return (state["params"].tobytes(), optimizer, state["step"], state["epoch"], state["position"],
            list(session.history))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_rewind_is_an_undo_every_later_step_can_be_redone_exactly(optimizer):
    session = build_session(CreateSession(optimizer=optimizer, learning_rate=0.05, batch_size=7, seed=4))
    at = {}
    for step in range(1, 7):
        session.train(1)
        at[step] = everything(session)
    session.rewind(2)
    assert everything(session) == at[2] and session.trainer.step_count == 2
    assert session.kept_steps == (0, 6) and session.redo_steps == (3, 6)
    assert [p[0] for p in session.history] == [0, 1, 2] and [p[0] for p in session.future] == [3, 4, 5, 6]
    session.forward()
    assert everything(session) == at[3] and session.redo_steps == (4, 6)
    session.rewind(6)  # straight to the newest
    assert everything(session) == at[6] and session.redo_steps is None and session.future == []
    session.back()
    session.back()
    assert everything(session) == at[4] and session.kept_steps == (0, 6)
    session.rewind(5)
    assert everything(session) == at[5]


def test_a_new_step_or_an_edit_discards_the_steps_to_redo(mazur):
    mazur.train(5)
    fifth = mazur.trainer.net.params.copy()
    mazur.rewind(2)
    mazur.train(1)
    assert mazur.kept_steps == (0, 3) and mazur.redo_steps is None and mazur.future == []
    assert [p[0] for p in mazur.history] == [0, 1, 2, 3]
    with pytest.raises(FieldError) as err:
        mazur.forward()
    assert err.value.field == "step" and "no later step" in err.value.message
    with pytest.raises(FieldError):
        mazur.rewind(5)
    mazur.train(2)
    assert mazur.trainer.net.params.tolist() == fifth.tolist()  # the same steps again, computed again
    mazur.back()
    mazur.set_parameter("weight", 0, 0, 0, 0.5)
    assert mazur.kept_steps == (0, 4) and mazur.redo_steps is None and [p[0] for p in mazur.history][-1] == 4


def test_a_diverging_request_after_a_rewind_keeps_the_steps_to_redo():
    session = build_session(CreateSession(**DIVERGES))
    session.train(110)
    session.rewind(100)
    before, future = parts(session), list(session.future)
    with pytest.raises(DivergenceError):
        session.train(50)
    assert parts(session) == before and session.future == future and session.redo_steps == (101, 110)


def test_back_at_the_first_step_undoes_rebuilds_exactly(mazur, mazur_request):
    mazur.train(4)
    mazur.rewind(3)  # step 4 can be redone
    before = (mazur.request, mazur.dataset, mazur.trainer, everything(mazur), list(mazur.future),
              list(mazur.snapshots))
    mazur.become(build_session(mazur_request.model_copy(update={"seed": 9, "weights": None})), replacing="New seed")
    mazur.train(2)
    rebuilt = mazur.trainer
    mazur.become(build_session(mazur_request), replacing="Reset")
    assert [r.what for r in mazur.replaced] == ["New seed", "Reset"] and mazur.kept_steps == (0, 0)
    undone = mazur.back()
    assert undone.what == "Reset" and mazur.trainer is rebuilt and mazur.trainer.step_count == 2
    mazur.back()
    mazur.back()
    assert mazur.trainer.step_count == 0 and mazur.trainer is rebuilt
    assert mazur.back().what == "New seed" and mazur.replaced == []
    assert (mazur.request, mazur.dataset, mazur.trainer, everything(mazur), list(mazur.future),
            list(mazur.snapshots)) == before
    mazur.forward()
    assert mazur.trainer.step_count == 4
    mazur.rewind(0)
    with pytest.raises(FieldError) as err:
        mazur.back()
    assert "no earlier step" in err.value.message


def test_rebuilds_kept_are_bounded_in_number_and_bytes(mazur, mazur_request, monkeypatch):
    for k in range(app.core.history.MAX_REPLACED + 2):
        mazur.become(build_session(mazur_request), replacing=f"rebuild {k}")
    assert [r.what for r in mazur.replaced] == [f"rebuild {k}" for k in range(2, 7)]
    assert [r.number for r in mazur.replaced] == [3, 4, 5, 6, 7]
    monkeypatch.setattr(get_settings(), "rewind_bytes", 1)  # the newest is always kept
    mazur.become(build_session(mazur_request), replacing="Reset")
    assert [r.what for r in mazur.replaced] == ["Reset"]


def test_rewind_points_are_capped_in_bytes_but_the_current_one_is_always_kept(mazur, monkeypatch):
    state = mazur.trainer.state_dict()
    size = state["params"].nbytes + sum(v.nbytes for v in state["optimizer"].values() if hasattr(v, "nbytes"))
    monkeypatch.setattr(get_settings(), "rewind_bytes", 2 * size)
    mazur.train(5)
    assert list(mazur.snapshots) == [4, 5]
    monkeypatch.setattr(get_settings(), "rewind_bytes", 1)
    mazur.train(1)
    assert list(mazur.snapshots) == [6]


def test_an_edit_replaces_the_current_steps_rewind_point_and_loss(mazur):
    mazur.train(2)
    generation, weight = mazur.history_generation, float(mazur.trainer.net.weights[1][0][0])
    assert mazur.set_parameter("weight", 1, 0, 0, 0.125) == weight and mazur.trainer.net.weights[1][0][0] == 0.125
    assert list(mazur.snapshots) == [0, 1, 2]
    assert mazur.snapshots[2]["params"].tolist() == mazur.trainer.net.params.tolist()
    assert len(mazur.history) == 3 and mazur.history[-1] == (2, *mazur.evaluate())
    assert mazur.history_generation == generation + 1
    mazur.rewind(1)
    mazur.train(1)
    assert mazur.trainer.net.weights[1][0][0] != 0.125  # step 2 was trained again from step 1


def test_an_edit_that_makes_the_loss_infinite_is_refused_and_undone():
    session = build_session(CreateSession(**DIVERGES))
    before, changes = parts(session), session.changes
    with pytest.raises(FieldError) as err:
        session.set_parameter("weight", 2, 0, 0, 1e300)
    assert err.value.field == "value" and parts(session) == before and session.changes == changes


def test_a_long_loss_curve_thins_its_older_half(mazur, monkeypatch):
    monkeypatch.setattr(app.core.session, "MAX_HISTORY", 10)
    generation = mazur.history_generation
    points = mazur.train(20)
    assert [p[0] for p in points] == list(range(1, 21))
    assert [p[0] for p in mazur.history] == [0, 2, 4, 6, 8, *range(10, 21)]
    assert mazur.history_generation == generation + 1


def test_an_exploding_loss_is_named_with_where_it_grew_from():
    exploding = build_session(CreateSession(learning_rate=10, hidden_activation="relu", output_activation="linear",
                                            dataset={"name": "plane"}))
    found = None
    while found is None and exploding.trainer.step_count < 50:
        exploding.train(1)
        found = exploding.loss_explosion()
    low, now, steps = found
    assert now >= 100 * low and 1 <= steps <= 10 and now < 1e12  # caught long before 1e302
    assert low == min(point[1] for point in exploding.history[-11:]) and now == exploding.history[-1][1]


def test_ordinary_training_and_a_rise_from_a_tiny_loss_are_not_explosions():
    session = build_session(CreateSession(learning_rate=0.3))
    for _ in range(60):
        session.train(10)
        assert session.loss_explosion() is None
    start = session.history[0]
    # 500 times over in one step, but still below where training started: a tiny loss rising, not an explosion.
    session.history = [start, (600, 1e-4, None, None, None), (601, 0.05, None, None, None)]
    assert session.loss_explosion() is None
    session.history = [start, (600, 0.01, None, None, None), (601, 0.3, None, None, None),
                       (602, 10 * start[1], None, None, None)]
    assert session.loss_explosion() == (0.01, 10 * start[1], 2)
    # The window is the last ten steps: a low point longer ago does not count.
    session.history = [start, (1, 0.001, None, None, None), *[(k, 6.0, None, None, None) for k in range(2, 13)]]
    assert session.loss_explosion() is None


@pytest.mark.parametrize("config", [{}, {"dataset": {"name": "spiral"}, "output_activation": "softmax",
                                         "loss": "cross_entropy", "layers": [2, 6, 2]},
                                    {"dataset": {"name": "sine"}, "output_activation": "linear", "loss": "mse",
                                     "layers": [1, 8, 1]}])
def test_a_runs_points_evaluated_in_chunks_equal_one_evaluation_per_step(config, monkeypatch):
    """Session.train evaluates a run's loss-curve points in stacked chunks: bit for bit what evaluate() gives."""
    chunked = build_session(CreateSession(**config))
    chunked.train(60)
    monkeypatch.setattr(app.core.training, "evaluation_chunk", lambda trainer, dataset: 1)
    one_by_one = build_session(CreateSession(**config))
    one_by_one.train(60)
    assert chunked.history == one_by_one.history and len(chunked.history) == 61
    assert chunked.history[-1][1:] == chunked.evaluate()


def test_divergence_found_in_a_chunk_names_its_first_step_and_keeps_nothing():
    session = build_session(CreateSession(hidden_activation="sigmoid", output_activation="linear", loss="mse",
                                          learning_rate=10, dataset={"name": "sine"}))
    with pytest.raises(DivergenceError) as first:
        session.train(2000)
    assert session.trainer.step_count == 0 and len(session.history) == 1
    with pytest.raises(DivergenceError) as again:
        session.train(first.value.step)
    assert again.value.step == first.value.step and session.trainer.step_count == 0
    session.train(first.value.step - 1)
    assert session.trainer.step_count == first.value.step - 1
