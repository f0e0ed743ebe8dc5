"""The Matrix form (app/views/matrix_form.py): every matrix is the trace's own numbers in the column-vector
layout, the products it shows give the trace's results bit for bit, big matrices are cut, and the page draws the
panel only while its toggle is on."""
import re

import numpy as np
import pytest

from helpers import HX, random_targets
from app.core.detailed_step import DetailedStep
from app.core.recipe import CreateSession
from app.core.session import build_session
from app.engine import TrainConfig, Trainer
from app.views import matrix_form
from app.views.matrix_form import MAX_BATCH, MAX_NODES, Matrix

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
OUTPUT_LOSS = [("sigmoid", "half_sse"), ("tanh", "mse"), ("linear", "half_sse"), ("relu", "mse"),
               ("sigmoid", "bce"), ("softmax", "cross_entropy")]


def equations(form: dict) -> dict:
    """Every equation of the panel by its key ("forward-1", "delta-2", ...)."""
    return {eq.key: eq for part in ("forward", "backward") for layer in form[part] for eq in layer.equations}


def matrices(eq) -> list[Matrix]:
    return [t for t in eq.terms if isinstance(t, Matrix)]


def check_whole_step(trace, form: dict) -> None:
    """The panel of a whole step against its trace: the numbers, the shapes, and each product's bits."""
    net, p = trace.net, trace.pass_
    n, L = len(trace.rows), net.n_layers
    weights, biases = net.views(trace.params_before)
    grad_w, grad_b = net.views(p.grad)
    eqs = equations(form)
    assert form["n"] == n and form["step"] == trace.step
    for k in range(1, L + 1):
        l = k - 1
        w, a, b, z = matrices(eqs[f"forward-{k}"])
        assert (w.key, a.key, b.key, z.key) == (f"W{k}", f"a{l}", f"b{k}", f"z{k}")
        assert w.full.shape == (net.sizes[k], net.sizes[l]) and a.full.shape == (net.sizes[l], n)
        assert b.full.shape == (net.sizes[k], 1) and z.full.shape == (net.sizes[k], n)
        assert np.array_equal(w.full, weights[l]) and np.array_equal(b.full[:, 0], biases[l])
        assert np.array_equal(a.full, p.a[l].T) and np.array_equal(z.full, p.z[l].T)
        # W a + b from the operands shown, in MLP.forward's order (a @ W.T + b, rows), is the trace's z to the bit.
        assert np.array_equal(a.full.T @ w.full.T + b.full[:, 0], p.z[l])
        (act,) = matrices(eqs[f"activation-{k}"])
        assert np.array_equal(act.full, p.a[k].T) and np.array_equal(act.full.T, net.activations[l].f(p.z[l]))

        delta = matrices(eqs[f"delta-{k}"])[-1]
        assert delta.key == f"delta{k}" and np.array_equal(delta.full, p.delta[l].T)
        first, second = matrices(eqs[f"delta-{k}"])[:2]
        if k == L and first.key == "o":  # fused: o − t
            assert second.key == "t" and np.array_equal(second.full, trace.targets.T)
            assert np.array_equal(first.full.T - second.full.T, p.delta[l])
        elif k == L:  # ∂L/∂o ⊙ f′(z), multiplied in MLP.output_delta's order
            assert (first.key, second.key) == ("dL_do", f"df{k}")
            assert np.array_equal(first.full.T * second.full.T, p.delta[l])
        else:  # f′(z) ⊙ Wᵀδ_next, where Wᵀδ_next is MLP.backward's δ_next @ W_next
            assert (first.key, second.key) == (f"df{k}", f"spread{k}")
            w_t, d_next, spread = matrices(eqs[f"spread-{k}"])
            assert np.array_equal(w_t.full, weights[k].T) and np.array_equal(d_next.full, p.delta[k].T)
            assert np.array_equal(spread.full.T, p.delta[k] @ weights[k]) and spread is second
            assert np.array_equal(second.full.T * first.full.T, p.delta[l])

        d, a_t, g = matrices(eqs[f"grad-w-{k}"])
        assert d.full.shape == (net.sizes[k], n) and a_t.full.shape == (n, net.sizes[l])
        assert g.full.shape == (net.sizes[k], net.sizes[l]) and np.array_equal(g.full, grad_w[l])
        # (1/n) δ aᵀ from the operands shown, as MLP.backward computes it: the trace's gradient to the bit.
        assert np.array_equal(np.matmul(d.full, a_t.full) * (1.0 / n), g.full)
        assert ("(1/%d) ·" % n in eqs[f"grad-w-{k}"].terms) == (n > 1)
        (gb,) = matrices(eqs[f"grad-b-{k}"])
        assert gb.full.shape == (net.sizes[k], 1) and np.array_equal(gb.full[:, 0], grad_b[l])
        assert np.array_equal(np.add.reduce(d.full.T, axis=0) * (1.0 / n), grad_b[l])
    assert form["pending"] is None


def check_printed(m: Matrix, batch_rows: bool = False, batch_cols: bool = False) -> None:
    """What a matrix prints: at most MAX_NODES (nodes) or MAX_BATCH (batch rows) per side, the first ones, with the
    full values kept, and the cut counted."""
    r, c = m.full.shape
    shown_r, shown_c = min(r, MAX_BATCH if batch_rows else MAX_NODES), min(c, MAX_BATCH if batch_cols else MAX_NODES)
    assert len(m.rows) == len(m.row_heads) == shown_r and (m.more_rows, m.more_cols) == (r - shown_r, c - shown_c)
    assert all(len(row.cells) == shown_c for row in m.rows)
    assert [[cell.value for cell in row.cells] for row in m.rows] == m.full[:shown_r, :shown_c].tolist()
    assert m.printed == ("" if (r, c) == (shown_r, shown_c) else f"{shown_r}×{shown_c}")


def test_mazur_in_matrix_form_has_the_articles_numbers(mazur):
    mazur.train(1)
    trace = mazur.last_trace
    form = matrix_form.build(mazur, DetailedStep())
    check_whole_step(trace, form)
    eqs = equations(form)
    # W₂ (2×2) · a₁ (2×1) + b₂ (2×1) = z₂ (2×1), with Mazur's own node names on the rows and columns.
    w2, a1, b2, z2 = matrices(eqs["forward-2"])
    assert [(m.symbol, m.shape) for m in (w2, a1, b2, z2)] == [("W₂", "2×2"), ("a₁", "2×1"), ("b₂", "2×1"), ("z₂", "2×1")]
    assert eqs["forward-2"].formula == "z₂ = W₂ a₁ + b₂" and eqs["forward-2"].terms[1::2] == ["·", "+", "="]
    assert (w2.row_heads, w2.col_heads, a1.col_heads, b2.col_heads) == (["o1", "o2"], ["h1", "h2"], ["#0"], None)
    z1 = matrices(eqs["forward-1"])[-1]
    assert z1.full[0, 0] == pytest.approx(0.3775, abs=1e-15) and z1.rows[0].cells[0].text == "0.3775"
    (a2,) = matrices(eqs["activation-2"])
    assert a2.full[0, 0] == pytest.approx(0.75136507, abs=1e-8)
    dl_do, df2, delta2 = matrices(eqs["delta-2"])
    assert delta2.full[0, 0] == pytest.approx(0.138498562, abs=1e-9) and delta2.rows[0].cells[0].text == "0.1385"
    assert dl_do.full[0, 0] == pytest.approx(0.74136507, abs=1e-8)  # the article's ∂E/∂out_o1
    assert df2.full[0, 0] == pytest.approx(0.186815602, abs=1e-9)  # and ∂out_o1/∂net_o1
    grad_w2 = matrices(eqs["grad-w-2"])[-1]
    assert grad_w2.symbol == "∂L/∂W₂" and grad_w2.full[0, 0] == pytest.approx(0.082167041, abs=1e-9)
    grad_w1 = matrices(eqs["grad-w-1"])[-1]
    assert grad_w1.full[0, 0] == pytest.approx(0.000438568, abs=1e-9)  # ∂E/∂w1, so w1 becomes 0.149780716
    assert [layer.title for layer in form["backward"]] == ["Output layer", "Hidden layer 1"]
    assert any("frozen" in note for note in form["notes"])  # Mazur's biases are never updated


def test_a_batch_prints_its_first_rows_as_columns():
    session = build_session(CreateSession(dataset={"name": "circle"}, batch_size=10))
    session.train(3)
    trace = session.last_trace
    form = matrix_form.build(session, DetailedStep())
    check_whole_step(trace, form)
    eqs = equations(form)
    z1 = matrices(eqs["forward-1"])[-1]
    assert z1.shape == "4×10" and z1.col_heads == [f"#{int(r)}" for r in trace.rows[:MAX_BATCH]]
    check_printed(z1, batch_cols=True)
    check_printed(matrices(eqs["grad-w-1"])[1], batch_rows=True)  # a₀ᵀ: a row per batch row
    assert f"The first {MAX_BATCH} of the 10 rows are printed" in form["intro"]
    assert eqs["grad-w-2"].formula == "∂L/∂W₂ = (1/n) δ₂ a₁ᵀ" and eqs["grad-w-2"].terms[0] == "(1/10) ·"


def test_softmax_outputs_fuse_into_o_minus_t():
    session = build_session(CreateSession(dataset={"name": "iris"}, layers=[4, 5, 3], hidden_activation="relu",
                                          output_activation="softmax", batch_size=6))
    assert session.trainer.config.loss == "cross_entropy"
    session.train(2)
    form = matrix_form.build(session, DetailedStep())
    check_whole_step(session.last_trace, form)
    eqs = equations(form)
    assert eqs["delta-2"].formula == "δ₂ = o − t" and "simplifies to o − t" in eqs["delta-2"].note
    assert eqs["activation-2"].formula == "a₂ = softmax(z₂), the output o"
    assert "each column on its own" in eqs["activation-2"].note


@pytest.mark.parametrize("seed", range(12))
def test_random_networks_give_the_traces_bits(seed):
    rng = np.random.default_rng(seed)
    output, loss = OUTPUT_LOSS[seed % len(OUTPUT_LOSS)]
    sizes = [int(rng.integers(1, 5))] + [int(rng.integers(1, 8)) for _ in range(1 + seed % 3)]
    sizes.append(int(rng.integers(2 if output == "softmax" else 1, 5)))
    rows = 15
    x, t = rng.normal(0, 1, (rows, sizes[0])), random_targets(rng, loss, rows, sizes[-1])
    config = TrainConfig(layers=tuple(sizes), hidden_activation=HIDDEN[seed % len(HIDDEN)], output_activation=output,
                         loss=loss, batch_size=[1, 3, 7, 15][seed % 4], regularization=["none", "l2"][seed % 2],
                         regularization_rate=0.01, seed=seed)
    trainer = Trainer(config, x, t)
    trainer.net.params[:] = rng.normal(0, 1, trainer.net.n_params)
    trainer.step()
    trace = trainer.step()
    names = [[f"n{k}.{j}" for j in range(size)] for k, size in enumerate(sizes)]
    form = matrix_form.from_trace(trace, names)
    check_whole_step(trace, form)
    assert any("penalty" in note for note in form["notes"]) == (config.regularization == "l2")


def test_a_big_network_is_cut_to_a_few_rows_and_columns():
    session = build_session(CreateSession(dataset={"name": "spiral", "features": ["x1", "x2", "x1_sq", "x2_sq",
                                                                                  "sin_x1", "sin_x2"]},
                                          layers=[6, 8, 8, 8, 1], batch_size=10))
    session.train(1)
    form = matrix_form.build(session, DetailedStep())
    check_whole_step(session.last_trace, form)
    eqs = equations(form)
    w2 = matrices(eqs["forward-2"])[0]
    assert w2.shape == "8×8" and w2.printed == "6×6" and (w2.more_rows, w2.more_cols) == (2, 2)  # at most 6 × 6
    z2 = matrices(eqs["forward-2"])[-1]
    assert z2.shape == "8×10" and z2.printed == "6×4" and z2.col_heads == [f"#{int(r)}" for r in session.last_trace.rows[:4]]
    for eq in eqs.values():
        for m in matrices(eq):
            check_printed(m, batch_rows=bool(re.fullmatch(r"a\dT", m.key)),
                          batch_cols=bool(re.fullmatch(r"(a|z|delta|df|spread)\d|dL_do|o|t", m.key)))


def test_a_detailed_step_shows_only_what_its_phases_computed(mazur):
    step = DetailedStep()
    seen = []
    for _ in range(5):
        step, _ = step.advance(mazur)
        form = matrix_form.build(mazur, step)
        seen.append(([layer.title for layer in form["forward"]], [layer.title for layer in form["backward"]],
                     form["pending"] is None, "nothing is applied yet" in form["intro"]))
    forward = ["Hidden layer 1 · 2 nodes · sigmoid", "Output layer · 2 nodes · sigmoid"]
    assert seen == [(forward, [], False, True), (forward, [], False, True),  # forward, loss
                    (forward, ["Output layer"], False, True), (forward, ["Output layer", "Hidden layer 1"], True, True),
                    (forward, ["Output layer", "Hidden layer 1"], True, False)]  # backward ×2, then the update
    check_whole_step(mazur.last_trace, matrix_form.build(mazur, step))


def test_before_any_step_the_panel_says_to_press_step(mazur):
    assert "press Step" in matrix_form.build(mazur, DetailedStep())["empty"]


# The page.

def panel(html: str) -> str | None:
    """The matrix panel's markup in a page or an answer, or None when it is not there."""
    found = re.search(r'<section id="matrix-form".*?\n</section>', html, re.S)
    return found.group(0) if found else None


def values(html: str, matrix: str) -> list[float]:
    table = re.search(rf'<table class="mx" data-matrix="{matrix}".*?</table>', html, re.S).group(0)
    return [float(v) for v in re.findall(r'data-value="([^"]+)"', table)]


def test_the_toggle_opens_the_panel_which_follows_each_step(client):
    client.get("/")
    sid = client.cookies["bp_session"]
    session = client.app.state.sessions.get(sid)
    page = client.get("/").text
    assert 'id="matrix-form-toggle"' in page and "checked> Matrix form" not in page
    assert panel(page) is not None and "hidden" in panel(page) and "mx-panel" not in panel(page)

    opened = client.post("/ui/matrix-form", data={"matrix_form": "on"}, headers=HX)
    assert opened.status_code == 200 and "press Step" in panel(opened.text)
    assert 'id="matrix-form-toggle" aria-controls="matrix-form" checked' in opened.text
    assert session.page.matrix_form is True

    for number in (1, 2):
        answer = client.post("/ui/step", headers=HX).text
        shown = panel(answer)
        assert f'data-step="{number}"' in shown
        trace = session.last_trace
        assert values(shown, "z1") == trace.pass_.z[0].T[:MAX_NODES, :MAX_BATCH].ravel().tolist()
        assert values(shown, "gradW1") == session.trainer.net.views(trace.pass_.grad)[0][0].ravel().tolist()
        assert "<caption>" in shown and '<th scope="row">' in shown
    assert panel(client.get("/").text).count('data-matrix="W1"') == 1  # kept with the session: a reload has it

    closed = client.post("/ui/matrix-form", data={}, headers=HX)
    assert "mx-panel" not in panel(closed.text) and session.page.matrix_form is False
    assert panel(client.post("/ui/step", headers=HX).text) is None  # closed: a step's answer has no panel


def test_a_closed_panel_costs_a_step_nothing(client, monkeypatch):
    client.get("/")

    def refuse(*args):
        raise AssertionError("the matrix form was built while its toggle is off")

    monkeypatch.setattr(matrix_form, "build", refuse)
    answer = client.post("/ui/step", headers=HX)
    assert answer.status_code == 200 and panel(answer.text) is None
    assert client.post("/ui/play", headers=HX).status_code == 200


def test_the_detailed_step_fills_the_panel_phase_by_phase(client):
    client.get("/?preset=mazur")
    client.post("/ui/matrix-form", data={"matrix_form": "on"}, headers=HX)
    forward = panel(client.post("/ui/phase", headers=HX).text)
    assert 'data-eq="forward-2"' in forward and 'data-eq="delta-2"' not in forward
    assert "come with Backward" in forward
    client.post("/ui/phase", headers=HX)
    output = panel(client.post("/ui/phase", headers=HX).text)
    assert 'data-eq="delta-2"' in output and 'data-eq="delta-1"' not in output
    assert values(output, "delta2")[0] == pytest.approx(0.138498562, abs=1e-9)


def test_play_frames_leave_the_open_panel_alone_until_play_stops(client):
    client.get("/")
    session = client.app.state.sessions.get(client.cookies["bp_session"])
    client.post("/ui/matrix-form", data={"matrix_form": "on"}, headers=HX)
    started = panel(client.post("/ui/play", headers=HX).text)
    assert "Play is running" in started and "<table" not in started
    frame = client.post("/ui/play-frame", headers=HX)
    assert frame.status_code == 200 and 'data-playing="1"' in frame.text and panel(frame.text) is None
    stopped = panel(client.post("/ui/pause", headers=HX).text)
    assert f'data-step="{session.trainer.step_count}"' in stopped and 'data-matrix="gradW3"' in stopped


def test_after_back_the_panel_says_the_step_is_not_kept(client):
    client.get("/")
    client.post("/ui/matrix-form", data={"matrix_form": "on"}, headers=HX)
    client.post("/ui/step", headers=HX)
    client.post("/ui/step", headers=HX)
    shown = panel(client.post("/ui/back", headers=HX).text)
    assert "Back, a rewind or an edit keeps the weights" in shown and "<table" not in shown
    assert 'data-step="2"' in panel(client.post("/ui/step", headers=HX).text)  # step 2 again
