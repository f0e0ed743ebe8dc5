"""POST /api/sessions/{id}/check: a learner's own numbers for the next step, marked against the engine's."""
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from app.api.deps import LIMITED, NO_SESSION, TOO_LARGE, SessionDep
from app.core.recipe import Strict
from app.core.marking import MIN_DIGITS, check
from app.core.quantities import API_QUANTITIES, Ask
from app.engine import FieldError
from app.ratelimit import Limited, PAGE

router = APIRouter(prefix="/api/sessions", tags=["practice"])
BATCH_LEVEL = ("grad_weight", "grad_bias", "weight_after", "bias_after", "loss")
MAX_ANSWERS = 200


class Answer(Strict):
    """One quantity of the next step and the value the learner computed for it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)

    quantity: Literal[API_QUANTITIES] = Field(description=(
        "z, a, dloss_da (∂L/∂a at an output), dact (f′(z)), delta: a node's, with layer and node; grad_weight, "
        "weight_after: an edge's, with layer, to and from; grad_bias, bias_after: a bias's, with layer and to; "
        "loss: the batch's"))
    layer: int | None = Field(None, description="Node quantities: the node's layer, 0 for the inputs. Edge and bias "
                                                "quantities: the weight layer l of weights[l][to][from].")
    node: int | None = Field(None, description="Node quantities: the node's index in its layer.")
    to: int | None = Field(None, description="Edge and bias quantities: node `to` of layer l + 1.")
    source: int | None = Field(None, alias="from", description="Edge quantities: node `from` of layer l.")
    row: int | Literal["mean"] | None = Field(None, description=(
        "A position in the batch (0 to n − 1), as the worksheet's data-row; \"mean\" (or leaving it out) asks the "
        "batch-level quantities: grad_weight and grad_bias as the batch's mean, weight_after and bias_after. Left "
        "out on a node quantity it is the batch mean of that quantity, or the row itself when the batch has one."))
    value: StrictFloat | StrictInt | StrictStr = Field(description=f"The learner's value. A string keeps the digits as typed (a $ and thousands "
                                           f"commas are allowed); it is right when it equals the engine's value "
                                           f"rounded to those significant digits, at least {MIN_DIGITS} (a shorter "
                                           "value reads as if padded with zeros). A JSON number is compared at "
                                           f"{MIN_DIGITS} digits or more.")


class CheckRequest(Strict):
    answers: list[Answer] = Field(min_length=1, max_length=MAX_ANSWERS)


class Mark(BaseModel):
    correct: bool
    expected: float = Field(description="The engine's value, full precision.")
    reason: str | None = Field(None, description="Why the value could not be right: not a number, or too few "
                                                 "significant digits. None for a plain match or mismatch.")


class CheckResult(BaseModel):
    step: int = Field(description="The step the answers are about: the next one. Nothing is applied.")
    rows: list[int] = Field(description="The training rows of its batch, in order; `row` indexes this list.")
    marks: list[Mark] = Field(description="One per answer, in the same order.")


@router.post("/{session_id}/check", dependencies=[Limited(PAGE)], response_model=CheckResult, responses={**NO_SESSION, **LIMITED, **TOO_LARGE})
def check_answers(session: SessionDep, req: CheckRequest) -> dict:
    """Mark a learner's own numbers for the step about to be taken (the next batch), applying nothing."""
    for k, a in enumerate(req.answers):
        if a.row == "mean" and a.quantity not in BATCH_LEVEL:
            raise FieldError(f"answers.{k}.row", f"\"mean\" is for the batch-level quantities "
                                                 f"({', '.join(BATCH_LEVEL)}); {a.quantity} is a row's: give a "
                                                 "position in the batch.")
    asks = [Ask(a.quantity, a.layer, a.node, a.to, a.source, None if a.row == "mean" else a.row) for a in req.answers]
    with session.lock:
        return check(session, asks, [a.value for a in req.answers])
