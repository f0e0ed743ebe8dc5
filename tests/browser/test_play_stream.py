"""Issue 26 in the browser: light frames and Play as one server-sent stream, as a person meets them.

A Step and Play's frames patch the diagram in place, and what the page ends with is what a fresh page of the same
session shows, compared element by element (`CANONICAL`) and point by point on the loss curve; Pause applies no frame
after its click; every step keeps its point; stop conditions, a Step, Back, a setting and a closed tab end Play; the
keyboard drives it with the focus kept on the diagram; no console error on the way.

Where frames are in the stream decides what a page must do, so the tests put them there instead of hoping for it: the
page is watched from inside (`WATCH`, run before its own scripts), which can hold back its draw acks (`caught_up`:
the server, WINDOW frames ahead of the last ack it got, waits, and the page has drawn all it trained) or the stream's
events (`behind`: WINDOW frames the server trained are "on the way" while the test clicks). The page acks every
ACK_EVERY frames and whenever it has drawn all it holds (static/js/transport.js). It also counts the streams the
page opens and closes, the light frames it applies ("bp:frame") and the acks it sends. Tests wait for those
conditions, never for a duration, except where one checks that nothing happens (said there).

The server answers the cases the first version of these tests found wanting: Pause and a Step, Back or setting during
Play send the whole curve, and a word for a stream that has ended is noted, not refused.
"""
import threading

import pytest
from playwright.sync_api import expect

from app.web import play_stream
from app.web.play_stream import WINDOW

from .waits import IDLE, answered

WATCH = """(() => {
  // The Play streams the page opens (fetch of /ui/play/stream) and closes (aborts, or reads to their end). While
  // __holdFrames is set, a stream's `frame` and `end` events and its end (the server closing it) are kept back from the
  // page (__heldFrames, [type, deliver, data]), in order: the page has not received them yet, as when they are still
  // on the way. __deliverFrames(n) hands the first n over; __releaseFrames() all, and stops holding.
  const streams = window.__streams = { made: 0, open: 0 };
  window.__holdFrames = false;
  window.__heldFrames = [];
  const pageFetch = window.fetch;
  const encoder = new TextEncoder();
  const watched = (response, closed) => {
    const reader = response.body.getReader(), decoder = new TextDecoder();
    let buffer = "";
    const body = new ReadableStream({
      async start(controller) {
        const give = (type, deliver, data) => {
          if (window.__holdFrames || window.__heldFrames.length) window.__heldFrames.push([type, deliver, data]);
          else deliver();
        };
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += decoder.decode(value, { stream: true });
            let cut;
            while ((cut = buffer.indexOf("\\n\\n")) >= 0) {
              const text = buffer.slice(0, cut + 2);
              buffer = buffer.slice(cut + 2);
              const type = (text.match(/^event: (\\S+)/m) || [])[1] || "message";
              const data = (text.match(/^data: (.*)$/m) || [])[1];
              const id = Number((text.match(/^id: (\\d+)/m) || [])[1] || 0);
              const deliver = () => {
                if (type === "frame") window.__delivered = id;
                try { controller.enqueue(encoder.encode(text)); } catch (e) { /* closed */ }
              };
              if (type === "frame" || type === "end") give(type, deliver, data);
              else deliver();
            }
          }
          give("error", () => { try { controller.close(); } catch (e) { /* closed */ } closed(); }, null);
        } catch (error) {
          try { controller.error(error); } catch (e) { /* closed */ }
          closed();
        }
      }
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  window.fetch = function (input, init) {
    if (!String(input).includes("/ui/play/stream")) return window.__ackFetch.apply(this, arguments);
    streams.made++;
    streams.open++;
    let open = true;
    const closed = () => { if (open) { open = false; streams.open--; } };
    if (init && init.signal) init.signal.addEventListener("abort", closed);
    return pageFetch.apply(this, arguments).then((response) => {
      if (!response.ok || !response.body) { closed(); return response; }
      return watched(response, closed);
    }, (error) => { closed(); throw error; });
  };
  window.__deliverFrames = (n) => { for (const [, deliver] of window.__heldFrames.splice(0, n)) deliver(); };
  window.__releaseFrames = () => {
    window.__holdFrames = false;
    window.__deliverFrames(window.__heldFrames.length);
  };
  // Every light frame the page applies: [step, playing].
  const frames = window.__frames = [];
  document.addEventListener("bp:frame", (e) => frames.push([e.detail.step, e.detail.playing]));
  // Draw acks (POST /ui/play/drawn): those sent (__acks, their statuses once answered, null before). While
  // __holdAcks is set they are kept back (__heldAcks), answered here: the page draws on without telling the server.
  // __releaseAcks() sends the last of them. __told: the frame of the last ack sent, and its stream's token;
  // __delivered: the number of the last frame a stream handed the page.
  const nativeFetch = pageFetch;
  window.__holdAcks = false;
  window.__heldAcks = [];
  window.__acks = [];
  window.__told = { stream: null, frame: 0 };
  window.__delivered = 0;
  window.__ackOf = (init) => {
    const body = new URLSearchParams(init.body);
    return { stream: body.get("stream"), frame: Number(body.get("frame")) };
  };
  // The frames the server may have sent and the page not said it drew, as the server counts them: from the last
  // ack it got to the last held back (0 with none held).
  window.__unsaid = () => {
    const held = window.__heldAcks.at(-1);
    if (!held) return 0;
    const ack = window.__ackOf(held[1]);
    return ack.frame - (ack.stream === window.__told.stream ? window.__told.frame : 0);
  };
  window.__ackFetch = function (input, init) {
    if (!String(input).includes("/ui/play/drawn")) return nativeFetch.apply(this, arguments);
    if (!window.__holdAcks) window.__told = window.__ackOf(init);
    if (window.__holdAcks) {
      window.__heldAcks.push([input, init]);
      return Promise.resolve(new Response(null, { status: 204 }));
    }
    const i = window.__acks.push(null) - 1;
    const answer = nativeFetch.apply(this, arguments);
    answer.then((r) => { window.__acks[i] = r.status; }, () => { window.__acks[i] = "failed"; });
    return answer;
  };
  window.__releaseAcks = () => {  // the newest ack says all: the server keeps the highest frame drawn
    window.__holdAcks = false;
    const last = window.__heldAcks.splice(0).pop();
    if (last) window.__ackFetch(...last);
  };
  // At each click on Pause: the frames applied so far and the step the diagram shows.
  window.__pauses = [];
  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("#btn-play");
    if (button && button.textContent.trim() === "Pause") {
      window.__pauses.push({ frames: frames.length, step: document.getElementById("network").dataset.step });
    }
  }, true);
})();"""

# Each element as [tag, sorted attributes, children], text as its words (runs of white space are one space, as the
# page renders them; text of white space only is the markup's indentation, which a patch does not write). No attribute
# is left out: none of the compared panels holds one that differs between two pages of one state (the diagram's
# roving tabindex would, after a focus or a click; these comparisons are made before either).
CANONICAL = """(id) => {
  const walk = (el) => {
    const attrs = Array.from(el.attributes).map((a) => [a.name, a.value]).sort();
    const kids = [];
    let text = "";
    const flush = () => { const t = text.replace(/\\s+/g, " ").trim(); if (t) kids.push(t); text = ""; };
    for (const n of el.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) text += n.textContent;
      else if (n.nodeType === Node.ELEMENT_NODE) { flush(); kids.push(walk(n)); }
    }
    flush();
    return [el.tagName.toLowerCase(), attrs, kids];
  };
  const el = document.getElementById(id);
  return el ? walk(el) : null;
}"""

COMPARED = ("network", "metrics", "row-picker", "narration", "diagram-caption")

# Play has ended in the page: the toolbar says Play, #player does not say it plays, no stream is open and no htmx
# request is under way.
SETTLED = """() => {
  const player = document.getElementById("player"), button = document.getElementById("btn-play");
  return !player.dataset.playing && button.textContent.trim() === "Play" && window.__streams.open === 0
    && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling");
}"""

# WINDOW + 2 display frames: a frame the stream delivered is drawn at the next animation frame, one a display frame,
# and the page holds at most WINDOW + 1 undrawn (the window and the last, or what a test releases at once): after
# WINDOW + 2, every frame it received is drawn.
DRAWN = f"""() => new Promise((done) => {{
  let n = {WINDOW + 2};
  const next = () => (--n ? requestAnimationFrame(next) : done());
  requestAnimationFrame(next);
}})"""

LOSS = "() => { const d = document.getElementById('loss-plot').data; return [d[0].x, d[0].y, d[1].x, d[1].y]; }"
PLOTS = "() => (document.getElementById('loss-plot') || {}).data !== undefined"


def open_page(page, url: str) -> None:
    page.add_init_script(WATCH)
    page.goto(url)
    page.wait_for_function(PLOTS)


@pytest.fixture
def watched(page, live_server, console_errors):
    """The default page, watched (WATCH); after the test, no console errors may have been logged."""
    open_page(page, live_server + "/")
    yield page
    assert console_errors == []


def session_state(where, live_server) -> dict:
    """The session as the JSON API gives it, for a page or a browser context (its cookie holds the session)."""
    context = getattr(where, "context", where)
    sid = next(c["value"] for c in context.cookies() if c["name"] == "bp_session")
    answer = context.request.get(f"{live_server}/api/sessions/{sid}")
    assert answer.ok
    return answer.json()


def step_shown(page) -> int:
    return int(page.locator("#network").get_attribute("data-step"))


def wait_step(page, n: int) -> None:
    expect(page.locator("#network")).to_have_attribute("data-step", str(n))


def canonical(page) -> dict:
    return {id: page.evaluate(CANONICAL, id) for id in COMPARED}


def fresh(page) -> dict:
    """What a fresh page of the same session shows (a second tab of the same browser context, so the same cookie):
    the canonical panels and the loss curve's points. Loading the page stops Play, so a test that checks Play's end
    asks the server first (`server_plays`)."""
    other = page.context.new_page()
    try:
        other.goto(page.url.split("?")[0])  # "/": the session as it is, whatever the address bar's link says
        other.wait_for_function(PLOTS)
        return {**canonical(other), "loss": other.evaluate(LOSS)}
    finally:
        other.close()


def flushed_loss(page) -> list:
    """The loss curve's points once every point the page received is drawn (charts.js draws them at most every
    400 ms; flush() draws what is waiting now)."""
    page.evaluate("async () => (await import('/static/js/charts.js')).flush()")
    return page.evaluate(LOSS)


def settle(page) -> None:
    """Wait until Play has ended in the page and every frame it received is drawn."""
    page.wait_for_function(SETTLED)
    page.evaluate(DRAWN)
    page.wait_for_function(SETTLED)


def assert_as_fresh(page, live_server) -> None:
    """The page shows what a fresh page of its session shows: the diagram, metrics, row picker and words, element
    by element, and the loss curve point by point; and the server's step."""
    settle(page)
    here = {**canonical(page), "loss": flushed_loss(page)}
    there = fresh(page)
    for key in here:
        assert here[key] == there[key], key
    assert step_shown(page) == session_state(page, live_server)["step"]


def mark_svg(page) -> None:
    page.evaluate("() => { document.getElementById('network').__mark = 'drawn once'; }")


def same_svg(page) -> bool:
    return page.evaluate("() => document.getElementById('network').__mark === 'drawn once'")


def play(page) -> None:
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_visible()


def stream_frames(page, n: int) -> None:
    """Wait until the page has applied `n` light frames more than it had."""
    start = page.evaluate("() => window.__frames.length")
    page.wait_for_function(f"() => window.__frames.length >= {start + n}")


def caught_up(page) -> None:
    """The page's draw acks are held back until the server, WINDOW frames past the last ack it got, waits: the page,
    which acks the last frame it holds, has then drawn every frame the server trained. `window.__releaseAcks()`
    lets the stream go on."""
    page.evaluate("() => { window.__holdAcks = true; }")
    page.wait_for_function(f"() => window.__unsaid() >= {WINDOW}")
    last_held = "window.__ackOf(window.__heldAcks.at(-1)[1]).frame"
    assert page.evaluate(f"() => [window.__unsaid(), window.__delivered === {last_held}]") == [WINDOW, True]


def behind(page) -> None:
    """The stream's frames are held back from the page until the server, WINDOW frames past the page's last ack (of
    the last frame it had), waits: it has trained WINDOW frames the page has not drawn, as when they are still on the
    way. `window.__releaseFrames()` delivers them."""
    page.evaluate("() => { window.__holdFrames = true; }")
    page.wait_for_function(f"() => window.__heldFrames.length >= {WINDOW}")
    assert page.evaluate("() => window.__heldFrames.map(([type]) => type).join()") == ",".join(["frame"] * WINDOW)


def choose_speed(page, speed: str) -> None:
    with answered(page, "/ui/speed"):
        page.get_by_label("Speed").select_option(speed)


def setting(page, name: str, value: str) -> None:
    page.fill(f"#f-{name}", value)
    with answered(page, "/ui/config"):
        page.locator(f"#f-{name}").dispatch_event("change")


def step_now(page) -> None:
    page.get_by_role("button", name="Step", exact=True).click()


# ---- 1. In place ----

def test_steps_patch_the_diagram_in_place_and_end_as_a_fresh_page_shows(watched, live_server):
    """Every Step patches the picture in place, the first too (the initial weights' picture gets the step's numbers
    and what it shows), and the page ends as a fresh page of the session draws it."""
    page = watched
    mark_svg(page)
    for n in (1, 2, 3, 4, 5):
        step_now(page)
        wait_step(page, n)
    assert same_svg(page)  # patched, not replaced
    assert page.evaluate("() => window.__frames.map((f) => f[0])") == [1, 2, 3, 4, 5]  # each Step a light frame
    assert_as_fresh(page, live_server)
    assert same_svg(page)


def test_plays_frames_patch_the_diagram_in_place_and_what_they_drew_is_the_servers(watched, live_server):
    """Play for a while, until the page has drawn every frame the server trained (`caught_up`): what it shows,
    patched frame by frame, equals a fresh page of the session element by element, and so does its loss curve.
    Pause then applies no frame and shows the same step."""
    page = watched
    step_now(page)
    wait_step(page, 1)
    mark_svg(page)
    play(page)
    page.wait_for_function("() => +document.getElementById('network').dataset.step >= 200")
    caught_up(page)
    assert page.evaluate("() => window.__streams.open") == 1 and same_svg(page)
    step = step_shown(page)
    assert session_state(page, live_server)["step"] == step  # the server waits for the page: nothing ahead
    here = {**canonical(page), "loss": flushed_loss(page)}
    there = fresh(page)
    for key in there:
        assert here[key] == there[key], key
    page.get_by_role("button", name="Pause", exact=True).click()
    page.wait_for_function(SETTLED)
    assert page.evaluate("() => window.__pauses") == [{"frames": page.evaluate("() => window.__frames.length"),
                                                       "step": str(step)}]
    assert step_shown(page) == step == session_state(page, live_server)["step"]
    assert_as_fresh(page, live_server)


# ---- 2. Pause stops at once ----

def test_pause_applies_no_frame_after_the_click_and_a_reload_shows_the_same_step(watched, live_server):
    """Two frames are on the way when Pause is clicked (`behind`); they arrive after the click and are not drawn.
    The Pause answer shows where the server's Play stopped, and nothing moves after it."""
    page = watched
    play(page)
    stream_frames(page, 3)
    behind(page)
    page.get_by_role("button", name="Pause", exact=True).click()
    page.evaluate("() => window.__releaseFrames()")
    page.wait_for_function(SETTLED)
    [pause] = page.evaluate("() => window.__pauses")
    assert page.evaluate("() => window.__frames.length") == pause["frames"]  # none applied after the click
    step = step_shown(page)
    assert step > int(pause["step"])  # the server's step, WINDOW frames past the page's at the click
    assert step == session_state(page, live_server)["step"]
    expect(page.locator("#metric-step")).to_have_text(str(step))
    # Nothing more happens: no stream is opened again and the step stays. What is checked is that nothing happens,
    # so this wait is a fixed one, kept short: a frame already under way would have come (they come every few ms).
    page.wait_for_timeout(300)
    assert page.evaluate("() => [window.__streams.made, window.__frames.length]") == [1, pause["frames"]]
    assert step_shown(page) == step == session_state(page, live_server)["step"]
    page.reload()
    page.wait_for_function(PLOTS)
    wait_step(page, step)
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()


# ---- 3. Every point ----

@pytest.mark.parametrize("speed, steps", [("1", 1), ("3-epochs", 75)])
@pytest.mark.parametrize("at_pause", [pytest.param("caught up", id="caught_up"),
                                      pytest.param("frames on the way", id="on_the_way")])
def test_every_step_keeps_its_point_on_the_loss_curve(watched, live_server, speed, steps, at_pause):
    page = watched
    choose_speed(page, speed)
    play(page)
    page.wait_for_function(f"() => +document.getElementById('network').dataset.step >= {20 * steps}")
    caught_up(page) if at_pause == "caught up" else behind(page)
    page.get_by_role("button", name="Pause", exact=True).click()
    settle(page)
    n = step_shown(page)
    assert n % steps == 0 and n == session_state(page, live_server)["step"]  # the speed's steps a frame
    train_x, _, test_x, _ = flushed_loss(page)
    assert train_x == test_x == list(range(n + 1))  # the point of step 0, then 1..N with no gap
    assert flushed_loss(page) == fresh(page)["loss"]  # and the server's points, exactly


# ---- 4. Stop conditions ----

def errors_of(page) -> list:
    """The page's console errors and uncaught exceptions from now on, each (text, address)."""
    found = []
    page.on("console", lambda m: found.append((m.text, m.location.get("url", ""))) if m.type == "error" else None)
    page.on("pageerror", lambda e: found.append((str(e), "")))
    return found


def test_play_stops_at_the_first_step_below_the_stop_loss(page, live_server):
    errors = errors_of(page)
    open_page(page, live_server + "/")
    setting(page, "stop_loss", "0.1")
    expect(page.get_by_label("Stop when train loss <")).to_have_value("0.1")
    play(page)
    expect(page.locator("#message")).to_contain_text("Play stopped: the train loss", timeout=60_000)
    settle(page)
    n = step_shown(page)
    expect(page.locator("#message")).to_contain_text(f"fell below 0.1 at step {n}.")
    _, train, _, _ = flushed_loss(page)
    assert train[n] < 0.1 and all(y >= 0.1 for y in train[:n])  # the first step below, never passed
    assert_as_fresh(page, live_server)
    assert errors == []


def test_a_high_learning_rate_pauses_play_when_the_loss_grows(page, live_server):
    errors = errors_of(page)
    open_page(page, live_server + "/?dataset=plane&activation=relu&output=linear")
    setting(page, "learning_rate", "10")
    page.get_by_role("button", name="Play", exact=True).click()  # its first frames may pause it already
    expect(page.locator("#message")).to_contain_text("Play paused: the loss grew", timeout=60_000)
    settle(page)
    expect(page.locator("#message")).to_contain_text("lower the learning rate or go Back.")
    assert_as_fresh(page, live_server)
    assert errors == []


# ---- 5. A Step, Back or a setting ends Play ----

ACTIONS = {
    "Step": lambda page: step_now(page),
    "Back": lambda page: page.get_by_role("button", name="Back", exact=True).click(),
    "a setting": lambda page: setting(page, "learning_rate", "0.1"),
}
def cases():
    for action in ACTIONS:
        yield pytest.param(action, "caught up", id=f"{action}-caught_up".replace(" ", "_"))
        yield pytest.param(action, "frames on the way", id=f"{action}-on_the_way".replace(" ", "_"))


@pytest.mark.parametrize("action, when", list(cases()))
def test_a_step_back_or_setting_ends_play_in_the_servers_state(watched, live_server, action, when):
    """The action while Play streams: with the page caught up, or with WINDOW frames on the way that the page draws
    after the action's answer (acks held until all are drawn, so that the server sees one ack: see
    test_an_ack_after_the_stream_ended_is_no_error for the other order). Play ends, and the page is the server's."""
    page = watched
    play(page)
    page.wait_for_function("() => +document.getElementById('network').dataset.step >= 200")
    caught_up(page) if when == "caught up" else behind(page)
    before = session_state(page, live_server)["step"]
    ACTIONS[action](page)
    page.wait_for_function(IDLE)
    if when == "frames on the way":
        page.evaluate("() => { window.__holdAcks = true; window.__releaseFrames(); }")
        page.wait_for_function("() => window.__heldAcks.length"
                               " && window.__ackOf(window.__heldAcks.at(-1)[1]).frame === window.__delivered")
    page.evaluate("() => window.__releaseAcks()")
    settle(page)
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    after = session_state(page, live_server)["step"]
    assert after == {"Step": before + 1, "Back": before - 1, "a setting": before}[action]  # Play trained no more
    assert_as_fresh(page, live_server)


# ---- Draw acks after a stream's end ----

def stream_ended_by_a_step(page, live_server, undrawn: int) -> None:
    """Play with `undrawn` frames on the way (0: caught up; 1: WINDOW held back, the first then drawn), then a Step.
    The server, moved, answers the next ack with the stream's last frame and `end` and closes the stream; all of it
    is held back from the page (WATCH), up to the error of the closed connection. (Held longer than a second, the
    EventSource would connect again, and what that brings is held after it.)"""
    open_page(page, live_server + "/")
    play(page)
    page.wait_for_function("() => +document.getElementById('network').dataset.step >= 200")
    if undrawn:
        behind(page)
    else:
        caught_up(page)
        page.evaluate("() => { window.__holdFrames = true; }")
    with answered(page, "/ui/step"):
        step_now(page)
    page.evaluate("() => window.__deliverFrames(1)" if undrawn else "() => window.__releaseAcks()")
    held = ",".join(["frame"] * (WINDOW - 1 if undrawn else 0) + ["frame", "end", "error"])
    page.wait_for_function(f"() => window.__heldFrames.map(([type]) => type).join().startsWith('{held}')")


def test_the_page_sends_no_ack_once_its_stream_has_ended(page, live_server, console_errors):
    """The server waits for no ack after a stream's last frame (Play stopped), nor after its `end`: the page sends
    none, as the server would refuse it (404, a console error). Here the last frame is drawn before `end` is in,
    then (another stream) a frame is drawn after it."""
    stream_ended_by_a_step(page, live_server, undrawn=0)
    acks = page.evaluate("() => window.__acks.length")
    page.evaluate("() => window.__deliverFrames(1)")  # the last frame, drawn at the next display frame
    page.evaluate(DRAWN)
    assert page.evaluate("() => [window.__frames.at(-1)[1], window.__acks.length]") == [False, acks]
    page.evaluate("() => window.__releaseFrames()")
    settle(page)
    assert page.evaluate("() => window.__acks.length") == acks
    page.close()

    other = page.context.new_page()
    other_errors = errors_of(other)
    stream_ended_by_a_step(other, live_server, undrawn=1)
    acks = other.evaluate("() => window.__acks.length")
    other.evaluate("() => window.__releaseFrames()")  # frames, the last frame and `end` at once: drawn after it
    settle(other)
    assert other.evaluate("() => window.__acks.length") == acks
    assert other.evaluate("() => window.__streams.made") == 1  # no other stream opened for the frames queued
    assert console_errors == [] and other_errors == []


def test_an_ack_that_crosses_the_streams_end_is_no_error(page, live_server, console_errors):
    """The page draws a frame and acks it while the server, moved by a Step, has sent the stream's last frame and
    `end` and closed it, which have not reached the page yet."""
    stream_ended_by_a_step(page, live_server, undrawn=1)
    acks = page.evaluate("() => window.__acks.length")
    page.evaluate("() => window.__deliverFrames(1)")  # the next frame, drawn at the next display frame
    page.wait_for_function(f"() => window.__acks.length > {acks} && window.__acks[{acks}] !== null")
    status = page.evaluate(f"() => window.__acks[{acks}]")
    page.evaluate("() => window.__releaseFrames()")
    settle(page)
    assert status == 204 and console_errors == []


def test_the_stop_notice_stays_when_the_streams_last_frames_come_together(page, live_server):
    """Play at 10 steps a frame stops at step 200, as the link sets. The page draws frame by frame until the last two
    frames (step 190, then step 200 with Play stopped) and `end` come at once, as on a busy machine: #player still
    says Play runs when the first of them is drawn, and the stream has ended. The page opens no other stream (one
    would start with a frame saying nothing, over the notice), and the notice says why Play stopped."""
    errors = errors_of(page)
    open_page(page, live_server + "/?speed=10&stop_step=200")
    page.evaluate("() => { window.__holdFrames = true; }")
    play(page)
    while True:  # frames held: the server waits for the ack of the one before them
        page.wait_for_function("() => window.__heldFrames.length >= 2")
        if page.evaluate("() => JSON.parse(window.__heldFrames[0][2]).step") >= 190:
            break
        page.evaluate("() => window.__deliverFrames(1)")
    page.wait_for_function("() => window.__heldFrames.map(([type]) => type).join().startsWith('frame,frame,end,error')")
    assert page.evaluate("() => window.__heldFrames.slice(0, 2).map(([, , data]) => JSON.parse(data))"
                         ".map((f) => [f.step, f.playing])") == [[190, True], [200, False]]
    page.evaluate("() => window.__releaseFrames()")
    settle(page)
    wait_step(page, 200)
    expect(page.locator("#message")).to_contain_text("Play stopped at step 200, as set.")
    assert page.evaluate("() => window.__streams.made") == 1
    assert_as_fresh(page, live_server)
    assert errors == []


# ---- 6. A closed tab stops Play ----

def server_plays(context, live_server) -> bool:
    """Whether the session plays on the server, asked without moving it: a row pick with no row is refused and
    changes nothing, and its light frame says whether Play runs. (Loading the page would stop Play itself.)"""
    answer = context.request.post(live_server + "/ui/focus-row", form={"row": ""},
                                  headers={"HX-Request": "true", "X-BP-Frame": ""})
    assert answer.ok
    return answer.json()["playing"]


@pytest.fixture
def stream_stops(monkeypatch):
    """Set once the server (live_server runs in this process) has handled a Play stream's closing: Player.stop,
    which stops Play unless something else moved the session, has returned."""
    stopped = threading.Event()
    original = play_stream.Player.stop

    async def stop(self):
        try:
            await original(self)
        finally:
            stopped.set()

    monkeypatch.setattr(play_stream.Player, "stop", stop)
    return stopped


def test_closing_the_tab_stops_play_on_the_server(watched, live_server, stream_stops, monkeypatch):
    # A stream whose page draws nothing ends after ACK_WAIT by itself: made longer than this test's guard, so that
    # only the server seeing the closed connection can end it here.
    monkeypatch.setattr(play_stream, "ACK_WAIT", 3600.0)
    page = watched
    context = page.context
    play(page)
    stream_frames(page, 3)
    assert server_plays(context, live_server) and not stream_stops.is_set()
    page.close()
    # The server's own event: it saw the stream closed and stopped Play. (The wait's limit is only a guard against
    # hanging; the stream's own end for want of acks comes only after ACK_WAIT, an hour here.)
    assert stream_stops.wait(120), "the server did not see the closed tab's stream end"
    assert not server_plays(context, live_server)
    step = session_state(context, live_server)["step"]
    again = context.new_page()
    again.goto(live_server + "/")
    again.wait_for_function(PLOTS)
    expect(again.get_by_role("button", name="Play", exact=True)).to_be_visible()
    wait_step(again, step)
    # Nothing trains any more. What is checked is that nothing happens, so the wait is a fixed one: a second, in
    # which Play's frames (a few ms each) would have trained many steps.
    again.wait_for_timeout(1000)
    assert step_shown(again) == step == session_state(context, live_server)["step"]


# ---- 7. The keyboard ----

def test_space_steps_and_p_plays_and_pauses_with_the_focus_kept_on_the_diagram(watched, live_server):
    page = watched
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Space")
    wait_step(page, 1)
    mark_svg(page)
    page.keyboard.press("Space")
    wait_step(page, 2)
    assert same_svg(page) and page.evaluate("() => window.__frames.length") == 2  # light frames, patched in place
    node = page.locator("#node-1-0")
    node.focus()
    page.keyboard.press("p")
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_visible()
    for _ in range(3):
        stream_frames(page, 2)
        expect(node).to_be_focused()  # each frame patched the diagram; nothing took the focus away
    assert same_svg(page)
    page.keyboard.press("p")
    page.wait_for_function(SETTLED)
    expect(node).to_be_focused()  # the Pause answer draws the diagram again; the focus is given back
    assert step_shown(page) == session_state(page, live_server)["step"]
    page.keyboard.press("ArrowDown")  # and the diagram's keys go on from there
    expect(page.locator("#node-1-1")).to_be_focused()
