"""Training from the page: Step, Epoch, Play and Pause, the detailed step's phases, Back, Redo and rewind."""
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from app.quick import costs, scheduler
from app.deps import BudgetDep, StoreDep
from app.core.options import SPEED_WORDS, SPEEDS
from app.core.session import Session
from app.engine import DivergenceError, FieldError
from app.views.node_heatmaps import HEATMAP_GRID
from app.views.output import GRID
from app.views.shown import from_phase
from app.ratelimit import Limited, PAGE, TRAIN, WORK

from .csrf import same_site_post
from .deps import Current
from .outcome import Outcome, configured, moved, phase_taken, played, rebuilt, refused, stepped, toggled
from .panels import panels
from .view_state import view_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])
# Rows the pictures evaluate on every answer: the output's grid and the nodes' one.
PICTURE_ROWS = GRID * GRID + HEATMAP_GRID * HEATMAP_GRID
# A Play frame trains at most this much work (multiply-adds, costs.step_cost), and at least one step: on a large
# network the fastest speeds train fewer steps a frame, so that each frame stays short and within half a second
# of the session's share of work (app/ratelimit.py WORK) instead of running into a request's time cap.
FRAME_WORK = 100_000_000


def train_outcome(session: Session, steps: int | None, starts_play: bool = False, play: bool = False) -> Outcome:
    """Train `steps` steps (None: to the end of the epoch), and say what happened. A Play frame (`play`) ends at the
    first step whose train loss is below the stop loss, and then Play stops and says why, as it does at the stop step.
    `starts_play`: the first frame of Play, whose answer shows Pause. The caller holds the session's lock."""
    view = view_of(session)
    stop_loss = view.stop_loss if play else None

    def stops(point: tuple) -> bool:
        """A Play frame ends at the stop loss, and where the loss explodes: a frame of many steps (the "auto"
        speed's) then pauses where it did at one step a frame, not orders of magnitude later."""
        return (stop_loss is not None and point[1] < stop_loss) or session.loss_explosion() is not None

    try:
        points = session.train(steps, stops if play else None)
    except (DivergenceError, FieldError) as exc:  # diverged, or over the time or work cap: nothing was applied
        view.playing = False
        return played(message=exc.message)
    if play and (reason := view.stop_reason(points)) is not None:
        view.playing = False
        return played(points, notice=reason)
    if view.playing and (explosion := session.loss_explosion()) is not None:
        # The steps stand (they are finite), but Play stops before the loss becomes astronomically large.
        low, now, steps_between = explosion
        view.playing = False
        return played(points, message=(
            f"Play paused: the loss grew from {low:.3g} to {now:.3g} in {steps_between} "
            f"step{'s' * (steps_between != 1)}: lower the learning rate or go Back."))
    return played(points) if starts_play else stepped(points)


def play_outcome(session: Session, starts_play: bool = False, steps: int | None = None) -> Outcome:
    """One Play frame of `steps` (None: as many as the speed says), unless a stop condition is met already (or was
    just set): then Play stops and says why."""
    view = view_of(session)
    if (reason := view.stop_reason([])) is not None:
        view.playing = False
        return played(notice=reason)
    return train_outcome(session, frame_steps(session) if steps is None else steps, starts_play, play=True)


def _train_held(request: Request, session: Session, steps: int | None) -> Response:
    return panels(request, session, train_outcome(session, steps))


def _play_held(request: Request, session: Session, starts_play: bool = False) -> Response:
    return panels(request, session, play_outcome(session, starts_play))


@router.post("/ui/step", dependencies=[Limited(TRAIN, WORK)])
async def step(request: Request, store: StoreDep, budget: BudgetDep, session: Current) -> Response:
    return await scheduler.locked(store, session, lambda: _train_held(request, session, 1),
                                  costs.Steps(1, PICTURE_ROWS), budget)


@router.post("/ui/epoch", dependencies=[Limited(TRAIN, WORK)])
async def epoch(request: Request, store: StoreDep, budget: BudgetDep, session: Current) -> Response:
    return await scheduler.locked(store, session, lambda: _train_held(request, session, None),
                                  costs.Steps(session.trainer.steps_to_epoch_end(), PICTURE_ROWS), budget)


@router.post("/ui/play", dependencies=[Limited(TRAIN, WORK)])
async def play(request: Request, store: StoreDep, budget: BudgetDep, session: Current) -> Response:
    def work() -> Response:
        view_of(session).playing = True
        return _play_held(request, session, starts_play=True)

    return await scheduler.locked(store, session, work, frame_cost(session), budget)


@router.post("/ui/play-frame", dependencies=[Limited(TRAIN, WORK)])
async def play_frame(request: Request, store: StoreDep, budget: BudgetDep, session: Current) -> Response:
    def work() -> Response:
        view = view_of(session)
        if not view.playing:
            return panels(request, session, played())
        return _play_held(request, session)

    return await scheduler.locked(store, session, work, frame_cost(session), budget)


def frame_steps(session: Session) -> int:
    """The steps of a Play frame: as many as the speed says (up to the stop step), but no more than FRAME_WORK
    allows, and at least one."""
    steps = view_of(session).frame_steps()
    return min(steps, max(1, costs.steps_within(session, FRAME_WORK, PICTURE_ROWS)))


def frame_cost(session: Session) -> costs.Steps:
    """A Play frame's work, estimated before its lock is taken (scheduler.locked decides where it runs, spends it from
    the session's budget and gives back what a frame that stopped early did not run)."""
    return costs.Steps(frame_steps(session), PICTURE_ROWS)


@router.post("/ui/speed", dependencies=[Limited(PAGE)])
def change_speed(request: Request, session: Current, speed: Annotated[str, Form()] = "") -> Response:
    """Play's speed. The settings form is sent back too: it carries the setup link the address bar shows."""
    with session.lock:
        if speed not in SPEEDS:
            words = ", ".join(SPEED_WORDS.values())
            return panels(request, session, refused(message=f"Speed must be one of {words}."))
        view_of(session).speed = speed
        return panels(request, session, configured())


@router.post("/ui/pause", dependencies=[Limited(PAGE)])
async def pause(request: Request, store: StoreDep, session: Current) -> Response:
    def work() -> Response:
        view_of(session).playing = False
        # The whole curve: the page drops the frames of Play's stream that it had not drawn when Pause was pressed.
        return panels(request, session, played(None))

    return await scheduler.locked(store, session, work, costs.step_cost(session, 0, PICTURE_ROWS))


@router.post("/ui/detailed", dependencies=[Limited(PAGE)])
def toggle_detailed(request: Request, session: Current, detailed: Annotated[str, Form()] = "") -> Response:
    with session.lock:
        session.detailed = detailed == "on"
        view = view_of(session)
        view.forget()
        view.playing = False
        return panels(request, session, toggled())


@router.post("/ui/phase", dependencies=[Limited(TRAIN)])
def take_phase(request: Request, session: Current) -> Response:
    """One click of the detailed step: forward, loss, backward one layer at a time, update."""
    with session.lock:
        view = view_of(session)
        # A live room's open question: its answer must not show before the reveal.
        coming = view.step.following(session.trainer.net.n_layers)[0]
        if (held := request.app.state.live.holds_back(session, coming)) is not None:
            return panels(request, session, refused(message=held))
        try:
            step, points = view.step.advance(session)
        except (DivergenceError, FieldError) as exc:
            view.forget()
            view.playing = False
            return panels(request, session, refused(message=exc.message))
        view.show(from_phase(session, step.phase, step.layer, step.trace), step)
        return panels(request, session, phase_taken(points))


@router.post("/ui/back", dependencies=[Limited(PAGE)])
def back(request: Request, session: Current) -> Response:
    """Undo one step; at the first kept step, undo the last rebuild (Reset, New seed, a new network's setting)."""
    with session.lock:
        try:
            replaced = session.back()
        except FieldError as exc:
            return panels(request, session, refused(message=exc.message))
        if replaced is not None:
            return panels(request, session, rebuilt(notice=f"Back to the network before {replaced.what}: "
                                                           f"step {session.trainer.step_count}."))
        return panels(request, session, moved())


@router.post("/ui/forward", dependencies=[Limited(PAGE)])
def forward(request: Request, session: Current) -> Response:
    """Redo one step that Back or a rewind undid."""
    with session.lock:
        try:
            session.forward()
        except FieldError as exc:
            return panels(request, session, refused(message=exc.message))
        return panels(request, session, moved())


@router.post("/ui/rewind", dependencies=[Limited(PAGE)])
def rewind(request: Request, session: Current, step: Annotated[str, Form()]) -> Response:
    with session.lock:
        try:
            session.rewind(int(step))
        except (ValueError, FieldError) as exc:
            text = exc.message if isinstance(exc, FieldError) else "step must be a whole number."
            return panels(request, session, refused(message=text))
        return panels(request, session, moved())
