"""Request and response bodies of the JSON API. Field names and layouts are the public contract.

The bodies that build or edit a session (CreateSession, ParameterEdit) are the core's (app/core/recipe.py)."""
from typing import Any

from pydantic import BaseModel, Field, field_validator

from app.core.recipe import CreateSession, DatasetSpec, ParameterEdit, Rows, Strict, capped
from app.deps import ErrorMessage
from app.settings import get_settings

__all__ = ["CreateSession", "DatasetSpec", "ErrorMessage", "ParameterEdit"]


class StepRequest(Strict):
    steps: int = Field(1, ge=1, description="Steps to run; the cap is the max_steps_per_request setting.",
                       json_schema_extra=capped(maximum=lambda s: s.max_steps_per_request))

    @field_validator("steps")
    @classmethod
    def _step_cap(cls, steps):
        cap = get_settings().max_steps_per_request
        if steps > cap:
            raise ValueError(f"steps is {steps} but at most {cap} run per request.")
        return steps


class PredictRequest(Strict):
    inputs: Rows = Field(description="Raw dataset inputs, one row per query; the dataset's features and "
                                     "scaling are applied before the network sees them.",
                       json_schema_extra=capped(minItems=lambda s: 1, maxItems=lambda s: s.max_predict_rows))

    @field_validator("inputs")
    @classmethod
    def _row_cap(cls, inputs):
        cap = get_settings().max_predict_rows
        if not inputs:
            raise ValueError("inputs needs at least one row.")
        if len(inputs) > cap:
            raise ValueError(f"inputs has {len(inputs)} rows but the cap is {cap}.")
        return inputs


class RewindRequest(Strict):
    step: int = Field(ge=0, description="A kept step (see kept_steps in the state), earlier or later than the "
                                        "current one, to return to exactly.")


class Disagreement(BaseModel):
    kind: str
    layer: int
    to: int
    source: int | None = Field(alias="from")
    analytic: float
    numeric: float
    relative_error: float


class GradientCheckResult(BaseModel):
    max_relative_error: float = Field(description="Largest per-parameter relative error.")
    parameters: int = Field(description="Parameters checked (all of them).")
    rows: list[int] = Field(description="Training rows of the batch checked: the one the next step uses.")
    disagreeing: list[Disagreement] = Field(description="Parameters with relative error above 1e-4.")
    method: str


class Loss(BaseModel):
    train: float | None = Field(description="Mean data loss over all training rows, after the last update.")
    test: float | None = Field(description="Mean data loss over all test rows; null when there are none.")


class DataSummary(BaseModel):
    name: str
    title: str
    task: str
    train_size: int
    test_size: int
    input_names: list[str]
    feature_names: list[str]
    target_names: list[str]
    classes: list[str] | None


class SessionState(BaseModel):
    id: str
    config: dict[str, Any]
    unused: list[str] = Field(description="Settings in `config` that have no effect under the rest of it: the "
                                          "optimizer settings the optimizer does not use (momentum under sgd, "
                                          "Adam's beta1, beta2 and eps under sgd or momentum) and "
                                          "regularization_rate with no regularization. They are kept, and take "
                                          "effect when the setting that uses them is chosen.")
    step: int = Field(description="Updates applied so far.")
    epoch: int = Field(description="Completed passes over the training rows.")
    weights: list[list[list[float]]]
    biases: list[list[float]]
    loss: Loss
    kept_steps: list[int] = Field(description="Oldest and newest step that rewind can return to. After a rewind to "
                                              "an earlier step the newest is later than `step`: see redo_steps.")
    redo_steps: list[int] = Field(description="First and last kept step after `step`, which a rewind undid and can "
                                              "return to until the next step or parameter edit discards them; empty "
                                              "when there are none.")
    data: DataSummary


class TraceOptimizer(BaseModel):
    name: str = Field(description="The optimizer that made the update: sgd, momentum or adam.")
    before: dict[str, Any] = Field(description="Its state before the step: velocity (momentum), or t, m and v "
                                               "(adam), each array split like the parameters as {\"weights\": "
                                               "[...], \"biases\": [...]}; empty for sgd, which keeps none.")
    after: dict[str, Any] = Field(description="Its state after the step, laid out as `before`.")


class Trace(BaseModel):
    """The last step. Index l of z, delta, grad_* and weights_before is the layer after weights[l];
    a has one more entry, a[0] being the inputs. Per-sample arrays have one row per batch row."""

    step: int
    epoch: int = Field(description="Completed epochs after this step.")
    rows: list[int] = Field(description="Indices of the training rows in this batch.")
    targets: list[list[float]]
    z: list[list[list[float]]]
    a: list[list[list[float]]]
    delta: list[list[list[float]]] = Field(description="dL_s/dz per node and sample (not divided by batch size).")
    grad_weights: list[list[list[float]]] = Field(description="dL/dW of the data loss, batch mean.")
    grad_biases: list[list[float]] = Field(description="dL/db of the data loss, batch mean.")
    reg_grad_weights: list[list[list[float]]] | None = Field(description="Regularisation term of the gradient.")
    weights_before: list[list[list[float]]]
    biases_before: list[list[float]]
    weights_after: list[list[list[float]]]
    biases_after: list[list[float]]
    loss_before: float = Field(description="Batch-mean data loss before the update.")
    optimizer: TraceOptimizer


class StepResult(SessionState):
    trace: Trace


class Prediction(BaseModel):
    outputs: list[list[float]] = Field(description="Each row's outputs in the data's own units: the network's outputs "
                                                   "with the targets' scaling undone (the same numbers when the "
                                                   "targets are not scaled).")
    classes: list[str] | None = Field(None, description="Classification: each row's predicted class name.")
    a: list[list[list[float]]] = Field(description="Activations of every layer, a[0] being the network inputs.")


class Share(BaseModel):
    snapshot_id: str = Field(description="The immutable snapshot's id (96 random bits).")
    url: str = Field(description="The page that gives whoever opens it their own copy of the snapshot.")


class PythonSnippets(BaseModel):
    numpy: str
    pytorch: str
