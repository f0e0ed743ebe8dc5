"""GET /api/sessions/{id}/loss-slice: the next step's batch loss as one weight varies (issue 14 §4 and §6)."""
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from app.quick import scheduler
from app.api.deps import LIMITED, NO_SESSION, SessionDep, StoreDep
from app.core import loss_slice
from app.deps import BudgetDep
from app.ratelimit import Limited, PAGE, WORK

router = APIRouter(prefix="/api/sessions", tags=["sessions"])

RESPONSES = {**NO_SESSION, **LIMITED,
             409: {"description": "The next step would produce NaN or Inf, so it has no update to show; nothing was "
                                  "applied."}}


class LossSliceResult(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    step: int = Field(description="The step the slice is about: the next one. Nothing is applied.")
    rows: list[int] = Field(description="The training rows of that step's batch, in order.")
    layer: int = Field(description="The weight layer l of weights[l][to][from].")
    to: int = Field(description="Node `to` of layer l + 1.")
    source: int = Field(alias="from", description="Node `from` of layer l.")
    values: list[float] = Field(description="The weight's values, evenly spaced and increasing. By default one of "
                                            "them is exactly `current` (see current_index), and the range is "
                                            "centred between `current` and `after`, spanning 3 times the step and "
                                            "at least 1.")
    loss: list[float | None] = Field(description="The batch-mean data loss at each value, every other parameter as "
                                                 "before the step; null where it is not finite.")
    current: float = Field(description="The weight now.")
    current_index: int | None = Field(description="Where `values` holds `current` exactly; null when lo and hi "
                                                  "leave it out.")
    loss_current: float | None = Field(description="The batch loss at `current`: the step's loss before its update.")
    slope: float = Field(description="∂L/∂w at `current`: the step's data-loss gradient for this weight (any "
                                     "regularisation penalty excluded, as the loss is).")
    after: float = Field(description="The weight after the step's update: the optimizer's own step (momentum, "
                                     "Adam, the regularisation penalty included), not only w − η·slope.")
    loss_after: float | None = Field(description="The batch loss with this weight at `after` and every other "
                                                 "parameter unchanged.")


@router.get("/{session_id}/loss-slice", dependencies=[Limited(PAGE, WORK)], response_model=LossSliceResult, response_model_by_alias=True,
            responses=RESPONSES)
async def read_loss_slice(
    store: StoreDep, budget: BudgetDep, session: SessionDep,
    layer: int = Query(ge=0, description="The weight layer l: weights[l][to][from]."),
    to: int = Query(ge=0, description="Node `to` of layer l + 1."),
    source: int = Query(alias="from", ge=0, description="Node `from` of layer l."),
    points: int | None = Query(None, ge=loss_slice.MIN_POINTS, le=loss_slice.MAX_POINTS,
                               description=f"How many values; default {loss_slice.DEFAULT_POINTS}, fewer when the "
                                           "network and batch are large (each point is a forward pass over the "
                                           "batch)."),
    lo: float | None = Query(None, ge=-1e6, le=1e6, description="The range's lower end; give it with hi, or "
                                                                  "neither for the default range."),
    hi: float | None = Query(None, ge=-1e6, le=1e6, description="The range's upper end, above lo."),
) -> dict:
    """The batch loss of the step about to be taken as the weight weights[layer][to][from] varies, every other
    parameter fixed: with the slope ∂L/∂w at the current value and the value the step's update gives it. Nothing is
    applied. The work (about points × batch rows × parameters multiply-adds) is spent from the session's share
    (app/ratelimit.py), like a step's."""
    trainer = session.trainer
    cost = loss_slice.proposal_cost(trainer.net, trainer.batch_size, points)

    def work() -> dict:
        return loss_slice.of_next_step(session.trainer, layer, to, source, points, lo, hi).as_dict()

    return await scheduler.locked(store, session, work, cost, budget)
