import re

from playwright.sync_api import expect

from .waits import answered


def step_of(page) -> int:
    return int(page.locator("#network").get_attribute("data-step"))


def wait_step(page, n: int) -> None:
    expect(page.locator("#network")).to_have_attribute("data-step", str(n))


def session_state(page, live_server) -> dict:
    sid = next(c["value"] for c in page.context.cookies() if c["name"] == "bp_session")
    r = page.request.get(f"{live_server}/api/sessions/{sid}")
    assert r.ok
    return r.json()


def diagram_weights(page) -> dict[tuple[int, int, int], float]:
    edges = page.locator("#network .edge").evaluate_all(
        "els => els.map(e => [e.dataset.layer, e.dataset.from, e.dataset.to, e.dataset.weight])")
    return {(int(l), int(i), int(j)): float(w) for l, i, j, w in edges}


def assert_diagram_matches_api(page, live_server) -> dict:
    state = session_state(page, live_server)
    shown = diagram_weights(page)
    expected = {(l, i, j): w for l, layer in enumerate(state["weights"])
                for j, row in enumerate(layer) for i, w in enumerate(row)}
    assert shown == expected  # exact: data-weight carries the full float64 value
    return state


def test_step_updates_the_diagram_with_the_engines_numbers(playground, live_server):
    page = playground
    assert step_of(page) == 0
    page.get_by_role("button", name="Step", exact=True).click()
    wait_step(page, 1)
    state = assert_diagram_matches_api(page, live_server)
    assert state["step"] == 1
    node = page.locator("#node-3-0")
    assert float(node.get_attribute("data-delta")) != 0.0
    assert node.get_attribute("data-activation") != ""
    grads = page.locator("#network .edge").evaluate_all("els => els.map(e => e.dataset.grad)")
    assert all(g != "" for g in grads) and any(float(g) != 0 for g in grads)
    expect(page.locator("#metric-step")).to_have_text("1")
    expect(page.locator("#diagram-caption")).to_contain_text("row 1 of the batch's 10")


def test_each_step_shows_its_loss_point_with_its_diagram(page, live_server, console_errors):
    """Outside Play a step's loss point is drawn with its diagram, not with a later redraw (Play's redraws come at
    most every LOSS_MS): in quick succession too. The diagram is not held back by the redraw: the points are drawn
    as the display frame after the one that shows the diagram begins. On the page's own clock (faked, standing still
    but when the test moves it), so that the Steps come in quick succession on any machine: each answer is applied
    when it arrives, and its point waits for two display frames, not for a LOSS_MS timer."""
    page.clock.install()
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    points = "() => document.getElementById('loss-plot').data[0].x.slice(-1)[0]"
    for n in (1, 2, 3):
        page.keyboard.press("Space") if n > 1 else page.get_by_role("button", name="Step", exact=True).click()
        wait_step(page, n)
        assert page.evaluate(points) == n - 1  # the diagram first: its frame has not begun on the page's clock
        page.clock.run_for(2 * 17)  # two display frames (16 ms each on this clock); a LOSS_MS timer would be later
        assert page.evaluate(points) == n
    page.clock.resume()  # the page's time flows again (the accessibility check after each test waits on it)
    assert page.evaluate("() => document.getElementById('loss-plot').data[0].x") == [0, 1, 2, 3]
    assert console_errors == []


def test_a_step_just_before_play_leaves_play_one_loss_redraw_timer(page, live_server, console_errors):
    """A Step's points are drawn two display frames after its answer; a redraw timer that Play's first frame set in
    between is spent with them, so that Play then redraws the curve at most every LOSS_MS, not on two timers twice
    as often. On the page's own clock (faked): the callbacks of its timers and frames run when the test moves it."""
    page.clock.install()
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    drawn = page.evaluate("document.getElementById('loss-plot').data[0].x.length")
    page.evaluate("""async () => {
      const charts = window.__charts = await import('/static/js/charts.js');  // the page's own module
      const extend = Plotly.extendTraces, restyle = Plotly.restyle;  // a redraw: one or the other (flushLoss)
      window.__redraws = 0;
      Plotly.extendTraces = (...args) => { window.__redraws++; return extend(...args); };
      Plotly.restyle = (...args) => { window.__redraws++; return restyle(...args); };
      let step = 0;
      window.__point = () => ({ mode: 'extend', points: [[++step, 0.5, 0.5, null, null]] });
      charts.updateLoss(window.__point(), true);   // a Step's answer
    }""")
    page.clock.run_for(100)
    assert page.evaluate("window.__redraws") == 1
    page.evaluate("""() => {
      window.__charts.updateLoss(window.__point(), true);   // another Step's answer ...
      window.__charts.updateLoss(window.__point(), false);  // ... and Play's first frame, before its points are drawn
    }""")
    page.clock.run_for(100)
    assert page.evaluate("window.__redraws") == 2  # both points, in one redraw
    for _ in range(125):  # Play's frames, one a display frame, for 2 s of the page's clock
        page.evaluate("() => window.__charts.updateLoss(window.__point(), false)")
        page.clock.run_for(16)
    assert 2 + 4 <= page.evaluate("window.__redraws") <= 2 + 6  # every 400 ms: 5 in 2 s (10 on two timers)
    page.clock.run_for(400)
    assert page.evaluate("document.getElementById('loss-plot').data[0].x.length") == drawn + 3 + 125  # every point
    assert console_errors == []
    page.clock.resume()  # the page's time flows again (the accessibility check after each test waits on it)


def test_a_slow_loss_redraw_waits_twenty_times_its_time_for_the_next(page, live_server, console_errors):
    """While Play runs, a redraw of the loss curve that took d ms is followed by the next no sooner than 20 d later
    (a twentieth of the page's time at most; LOSS_MS when that is longer). On the page's own clock (faked), each
    redraw here takes 40 ms of it (the clock the page reads moves on by that much), so that 20 d is past LOSS_MS: the
    next begins 800 ms after it, and at a tenth would begin 400 ms after."""
    page.clock.install()
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    page.evaluate("""async () => {
      const charts = await import('/static/js/charts.js');  // the page's own module
      const now = performance.now.bind(performance);
      let taken = 0;  // the page's time its redraws took
      performance.now = () => now() + taken;
      const slow = (real) => (...args) => {
        const start = performance.now(), result = real(...args);
        taken += 40;
        window.__redraws.push([start, performance.now()]);
        return result;
      };
      window.__redraws = [];
      Plotly.extendTraces = slow(Plotly.extendTraces);
      Plotly.restyle = slow(Plotly.restyle);
      let step = 0;
      window.__frame = () => charts.updateLoss({ mode: 'extend', points: [[++step, 0.5, 0.5, null, null]] }, false);
    }""")
    for _ in range(200):  # Play's frames, one a display frame, until the third redraw (3.2 s of the page's clock)
        page.evaluate("() => window.__frame()")
        page.clock.run_for(16)
        if page.evaluate("() => window.__redraws.length") >= 3:
            break
    redraws = page.evaluate("() => window.__redraws")
    page.clock.resume()  # the page's time flows again (the accessibility check after each test waits on it)
    assert len(redraws) == 3 and all(end - start == 40 for start, end in redraws), redraws
    assert all(b[0] - a[0] >= 20 * (a[1] - a[0]) for a, b in zip(redraws, redraws[1:])), redraws


def test_the_loss_curve_turns_from_dots_to_a_line_in_one_redraw(playground):
    """A curve of fewer than 40 points shows each as a dot; the redraw that takes it past them draws the line in the
    same Plotly call (a redraw costs 10-30 ms here: not one to extend and one to restyle), with every point."""
    page = playground
    page.get_by_role("button", name="Step", exact=True).click()
    wait_step(page, 1)
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())))")
    drawn = page.evaluate("() => document.getElementById('loss-plot').data.map((t) => [t.mode, t.x.length])")
    assert drawn == [["lines+markers", 2], ["lines+markers", 2]]  # steps 0 and 1
    redraws = page.evaluate("""async () => {
      const charts = await import('/static/js/charts.js');  // the page's own module
      const calls = [];
      for (const name of ['extendTraces', 'restyle', 'react', 'relayout', 'redraw', 'newPlot']) {
        const real = Plotly[name];
        Plotly[name] = (...args) => { calls.push(name); return real(...args); };
      }
      const points = [];
      for (let step = 2; step < 62; step++) points.push([step, 1 / step, 1.5 / step, null, null]);
      charts.updateLoss({ mode: 'extend', points: points }, true);  // an Epoch's answer: its points a frame later
      await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(done))));
      return calls;
    }""")
    assert redraws == ["restyle"]
    shown = page.evaluate("() => document.getElementById('loss-plot').data.map((t) => [t.mode, t.x.slice(-2)])")
    assert shown == [["lines", [60, 61]], ["lines", [60, 61]]]
    assert page.evaluate("() => document.getElementById('loss-plot').data[0].x.length") == 62


def test_play_then_pause(playground, live_server):
    page = playground
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("() => +document.getElementById('network').dataset.step >= 10")
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    page.wait_for_timeout(300)
    stopped = step_of(page)
    page.wait_for_timeout(500)
    assert step_of(page) == stopped
    assert session_state(page, live_server)["step"] == stopped
    assert_diagram_matches_api(page, live_server)


# Records the step #network shows each time a frame replaces it (the svg itself, or the whole #network-panel, is
# swapped out of band, so the observer watches the panel's parent, which stays).
FRAMES_JS = """() => {
  // Each step the diagram shows: it is patched in place (its data-step changes), or drawn anew.
  const steps = window.__frameSteps = [];
  let shown = document.getElementById('network').dataset.step;
  new MutationObserver(() => {
    const now = document.getElementById('network').dataset.step;
    if (now !== shown) steps.push(Number(shown = now));
  }).observe(document.getElementById('network-panel').parentElement,
             {subtree: true, childList: true, attributes: true, attributeFilter: ['data-step']});
}"""


def test_play_at_the_default_speed_trains_many_steps_a_frame(playground, live_server):
    """Issue 25 §1: a newcomer's Play shows learning at once. The default speed, Auto, trains whole epochs of the
    circle's 25 steps each frame, up to 4 (fewer where they would not fit in a display frame: issue 26, which
    tests/test_play_stream.py checks with a clock of its own); Step stays one mini-batch; the keyboard chooses 1 step
    and back."""
    page = playground
    speed = page.get_by_label("Speed")
    expect(speed).to_have_value("auto")
    expect(speed.locator("option:checked")).to_have_text("Auto")
    expect(speed.locator("option:checked")).to_have_attribute("title", re.compile("^4 epochs a frame on this data"))
    page.get_by_role("button", name="Step", exact=True).click()
    wait_step(page, 1)
    page.evaluate(FRAMES_JS)
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("() => window.__frameSteps.length >= 3")
    frames = [1] + page.evaluate("() => window.__frameSteps.slice(0, 3)")
    assert all(b - a in (25, 50, 75, 100) for a, b in zip(frames, frames[1:])), frames  # whole epochs, up to 4
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    # Keyboard alone: one step a frame is the next choice, and the address bar's link then says so.
    speed.focus()
    with answered(page, "/ui/speed"):
        page.keyboard.press("ArrowDown")
    expect(speed).to_have_value("1")
    assert "speed=1" in page.url and session_state(page, live_server)["step"] % 25 == 1  # whole epochs, then Pause
    with answered(page, "/ui/speed"):
        page.keyboard.press("ArrowUp")
    expect(speed).to_have_value("auto")
    assert "speed=" not in page.url


def test_changing_the_dataset_resets_and_redraws(playground, live_server):
    page = playground
    page.get_by_role("button", name="Step", exact=True).click()
    wait_step(page, 1)
    page.get_by_label("Dataset").select_option("spiral")
    wait_step(page, 0)
    expect(page.get_by_label("Dataset")).to_have_value("spiral")
    assert session_state(page, live_server)["config"]["dataset"]["name"] == "spiral"
    assert_diagram_matches_api(page, live_server)


def test_changing_the_shape(playground, live_server):
    page = playground
    page.get_by_role("button", name="Add hidden layer").click()
    expect(page.locator("#network .node")).to_have_count(2 + 4 + 2 + 2 + 1)
    page.get_by_role("button", name="Add neuron to hidden layer 1").click()
    expect(page.locator("#network .node")).to_have_count(2 + 5 + 2 + 2 + 1)
    page.get_by_role("button", name="Remove hidden layer").click()
    expect(page.locator("#network .node")).to_have_count(2 + 5 + 2 + 1)
    assert session_state(page, live_server)["config"]["layers"] == [2, 5, 2, 1]
    assert_diagram_matches_api(page, live_server)


def test_reset_restores_the_same_initial_weights(playground, live_server):
    page = playground
    initial = diagram_weights(page)
    for n in (1, 2, 3):
        page.get_by_role("button", name="Step", exact=True).click()
        wait_step(page, n)
    assert diagram_weights(page) != initial
    page.get_by_role("button", name="Reset", exact=True).click()
    wait_step(page, 0)
    assert diagram_weights(page) == initial


def test_new_seed_gives_new_weights(playground, live_server):
    page = playground
    initial = diagram_weights(page)
    page.get_by_role("button", name="New seed", exact=True).click()
    expect(page.locator("#f-seed")).not_to_have_value("1")
    assert diagram_weights(page) != initial
    assert_diagram_matches_api(page, live_server)


def test_keyboard_shortcuts(playground, live_server):
    page = playground
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Space")
    wait_step(page, 1)
    page.keyboard.press("e")
    wait_step(page, 25)  # to the end of the first epoch: 250 rows, batches of 10
    page.keyboard.press("r")
    wait_step(page, 0)
    page.keyboard.press("p")
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_visible()
    page.keyboard.press("p")
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    for key in ("Space", "E", "P", "R"):
        expect(page.locator("footer")).to_contain_text(key)


def test_learning_rate_change_keeps_the_weights(playground, live_server):
    page = playground
    page.get_by_role("button", name="Step", exact=True).click()
    wait_step(page, 1)
    before = diagram_weights(page)
    page.get_by_label("Learning rate η").fill("0.1")
    page.get_by_label("Learning rate η").press("Tab")
    expect(page.get_by_label("Learning rate η")).to_have_value("0.1")
    page.wait_for_function("() => true")
    state = session_state(page, live_server)
    assert state["config"]["learning_rate"] == 0.1 and state["step"] == 1
    assert diagram_weights(page) == before


def test_bad_input_shows_an_inline_message_and_changes_nothing(playground, live_server):
    page = playground
    before = session_state(page, live_server)
    page.get_by_label("Learning rate η").fill("fast")
    page.get_by_label("Learning rate η").press("Tab")
    expect(page.locator("#error-learning_rate")).to_contain_text(re.compile("number", re.I))
    assert session_state(page, live_server) == before


def test_incompatible_output_and_loss_are_prevented(playground, live_server):
    page = playground
    page.get_by_label("Output activation").select_option("softmax")
    expect(page.get_by_label("Loss", exact=True)).to_have_value("cross_entropy")
    expect(page.locator("#message")).to_contain_text("Loss switched to cross_entropy")
    assert page.locator("#f-loss option[value=half_sse]").is_disabled()
    assert session_state(page, live_server)["config"]["layers"] == [2, 4, 2, 2]


def test_first_paint_and_step_work_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/")
    assert page.locator("#network").get_attribute("data-step") == "0"
    assert page.locator("#network .edge").count() == 2 * 4 + 4 * 2 + 2
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#network").get_attribute("data-step") == "1"
    context.close()


def test_play_at_the_fastest_speed_learns_the_circle_within_seconds(playground):
    page = playground
    with answered(page, "/ui/speed"):
        page.get_by_label("Speed").select_option("2-epochs")
    expect(page.get_by_label("Speed")).to_have_value("2-epochs")
    page.get_by_role("button", name="Play", exact=True).click()
    # 50 steps a frame (two epochs of 25 batches), and the test loss shown falls below 0.05.
    page.wait_for_function("() => Number(document.getElementById('metrics').dataset.testLoss) < 0.05", timeout=10_000)
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    page.wait_for_timeout(500)
    step = int(page.locator("#network").get_attribute("data-step"))
    assert step % 50 == 0 and step >= 500
    assert "speed=2-epochs" in page.url  # the address bar's setup link carries it


def test_a_long_loss_curve_is_thinned_as_the_server_thins_it(playground):
    page = playground
    assert page.locator("#loss-plot").get_attribute("data-max-points") == "4000"
    page.evaluate("""() => {
        const loss = document.getElementById('loss-plot');
        loss.dataset.maxPoints = '100';
    }""")
    with answered(page, "/ui/speed"):
        page.get_by_label("Speed").select_option("2-epochs")
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("() => Number(document.getElementById('network').dataset.step) >= 400", timeout=15_000)
    page.get_by_role("button", name="Pause", exact=True).click()
    page.wait_for_timeout(600)
    xs = page.evaluate("() => document.getElementById('loss-plot').data[0].x")
    # Thinned: without it the curve would hold a point for every one of the steps; with it, the limit plus the
    # points of the frames since the last redraw (redraws are at most every 150 ms; a loaded machine draws less
    # often, so the allowance is 400 points, 8 frames of 50 steps).
    assert len(xs) < (xs[-1] + 1) / 1.5 and len(xs) <= 100 + 400
    assert xs == sorted(xs) and xs[0] == 0 and xs[-1] >= 400  # the start and the latest step are kept


def test_forward_redoes_what_back_undid_and_back_undoes_a_reset(playground, live_server):
    page = playground
    forward = page.locator("#btn-forward")
    expect(forward).to_be_disabled()
    weights = {}
    for n in (1, 2, 3):
        page.get_by_role("button", name="Step", exact=True).click()
        wait_step(page, n)
        weights[n] = diagram_weights(page)
    page.get_by_role("button", name="Back", exact=True).click()
    wait_step(page, 2)
    page.get_by_role("button", name="Back", exact=True).click()
    wait_step(page, 1)
    expect(page.locator("#rewind-step")).to_have_attribute("max", "3")
    expect(forward).to_be_enabled()
    expect(forward).to_have_attribute("title", re.compile(r"\(F\)"))
    forward.click()
    wait_step(page, 2)
    assert diagram_weights(page) == weights[2]
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("f")
    wait_step(page, 3)
    expect(forward).to_be_disabled()
    assert diagram_weights(page) == weights[3]
    assert session_state(page, live_server)["redo_steps"] == []
    expect(page.locator("footer")).to_contain_text("F Redo")
    page.get_by_role("button", name="Reset", exact=True).click()
    wait_step(page, 0)
    page.get_by_role("button", name="Back", exact=True).click()
    wait_step(page, 3)
    expect(page.locator("#message")).to_contain_text("Back to the network before Reset: step 3.")
    assert diagram_weights(page) == weights[3]
    assert_diagram_matches_api(page, live_server)
    page.get_by_role("button", name="Back", exact=True).click()
    wait_step(page, 2)
    expect(forward).to_be_enabled()
    page.get_by_role("button", name="Step", exact=True).click()  # a new step 3: nothing left to redo
    wait_step(page, 3)
    expect(forward).to_be_disabled()


def test_play_stops_at_the_stop_step_a_setup_link_sets(page, live_server, console_errors):
    page.goto(live_server + "/?stop_step=20")
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    expect(page.get_by_label("Stop at step")).to_have_value("20")
    page.get_by_role("button", name="Play", exact=True).click()
    # Twenty frames: on a busy machine that is many seconds; the wait is for the message, however long it takes.
    expect(page.locator("#message")).to_contain_text("Play stopped at step 20, as set.", timeout=120_000)
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    wait_step(page, 20)
    page.wait_for_timeout(300)
    assert step_of(page) == 20 and "stop_step=20" in page.url
    assert console_errors == []
