"""Request and response bodies of the JSON API. Field names and layouts are the public contract."""
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.engine import HIDDEN_ACTIVATIONS, INIT_SCHEMES, LOSSES, OPTIMIZERS, OUTPUT_ACTIVATIONS, REGULARIZATIONS
from app.settings import get_settings

Finite = Annotated[float, Field(allow_inf_nan=False)]
Rows = list[list[Finite]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DatasetSpec(Strict):
    """A named dataset with its options, or inline rows (`inputs` and `targets`)."""

    name: str | None = Field(None, description="circle, xor, gauss, spiral, plane, multi-gauss, moons, sine, "
                                               "xor-table, mazur, test-score, iris, or csv.")
    samples: int | None = Field(None, ge=2, description="Rows to generate (generated sets only). Default 500.")
    noise: float = Field(0.0, ge=0, le=1, description="TF Playground's noise fraction; its slider's 0–50 is 0–0.5.")
    train_fraction: float | None = Field(None, gt=0, le=1, description="Share of rows used for training.")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="Defaults to the session's seed.")
    standardize: bool = Field(False, description="Scale each network input to mean 0, std 1 (training rows).")
    features: list[str] | None = Field(None, description="2-D sets: x1, x2, x1_sq, x2_sq, x1_x2, sin_x1, sin_x2.")
    csv: str | None = Field(None, description="CSV text: a header row, then numeric rows.")
    target_columns: list[str] | None = Field(None, description="CSV columns to predict.")
    task: Literal["regression", "classification"] = Field(
        "regression", description="CSV only: classification reads one integer target column as class ids.")
    inputs: Rows | None = None
    targets: Rows | None = None
    test_inputs: Rows | None = None
    test_targets: Rows | None = None

    @model_validator(mode="after")
    def _named_or_inline(self):
        caps = get_settings()
        if self.samples is not None and self.samples > caps.max_samples:
            raise ValueError(f"samples is {self.samples} but the cap is {caps.max_samples}.")
        inline = self.inputs is not None or self.targets is not None
        if inline:
            if self.name not in (None, "inline"):
                raise ValueError("give either a dataset name or inline inputs and targets, not both.")
            if self.inputs is None or self.targets is None:
                raise ValueError("inline data needs both inputs and targets.")
            if (self.test_inputs is None) != (self.test_targets is None):
                raise ValueError("give test_inputs and test_targets together.")
            rows = len(self.inputs) + len(self.test_inputs or [])
            if rows > caps.max_samples:
                raise ValueError(f"inline data has {rows} rows but the cap is {caps.max_samples}.")
        elif self.name is None:
            self.name = "circle"
        if self.csv is not None and len(self.csv.encode()) > caps.max_csv_bytes:
            raise ValueError(f"csv is larger than the cap of {caps.max_csv_bytes} bytes.")
        return self


class CreateSession(Strict):
    """Every field is optional; the defaults are TF Playground's default setup on the circle set."""

    layers: list[int] | None = Field(
        None, description="Sizes from input to output, e.g. [2, 4, 2, 1]. Default: 4 and 2 hidden nodes, with "
                          "input and output sizes taken from the dataset.")
    hidden_activation: Literal[HIDDEN_ACTIVATIONS] = "tanh"  # type: ignore[valid-type]
    output_activation: Literal[OUTPUT_ACTIVATIONS] = "tanh"  # type: ignore[valid-type]
    loss: Literal[tuple(LOSSES)] = "half_sse"  # type: ignore[valid-type]
    optimizer: Literal[OPTIMIZERS] = "sgd"  # type: ignore[valid-type]
    learning_rate: float = Field(0.03, gt=0, le=100)
    momentum: float = Field(0.9, ge=0, lt=1)
    beta1: float = Field(0.9, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    eps: float = Field(1e-8, gt=0, le=1)
    regularization: Literal[REGULARIZATIONS] = "none"  # type: ignore[valid-type]
    regularization_rate: float = Field(0.0, ge=0, le=10)
    batch_size: int = Field(10, ge=1, description="Rows per step; a batch larger than the training set is the "
                                                  "whole set.")
    shuffle: bool = True
    train_biases: bool = True
    init: Literal[INIT_SCHEMES] = "uniform"  # type: ignore[valid-type]
    seed: int = Field(1, ge=0, le=2**32 - 1)
    weights: list[list[list[Finite]]] | None = Field(None, description="weights[l][j][i]: node i of layer l to "
                                                                       "node j of layer l+1. Overrides init.")
    biases: list[list[Finite]] | None = Field(None, description="biases[l][j]: node j of layer l+1.")
    dataset: DatasetSpec = Field(default_factory=DatasetSpec)

    @field_validator("layers")
    @classmethod
    def _layer_caps(cls, layers):
        if layers is None:
            return layers
        caps = get_settings()
        if len(layers) < 2:
            raise ValueError("layers needs at least an input and an output size, e.g. [2, 1].")
        if len(layers) - 2 > caps.max_hidden_layers:
            raise ValueError(f"{len(layers) - 2} hidden layers is more than the cap of {caps.max_hidden_layers}.")
        for i, n in enumerate(layers):
            if not 1 <= n <= caps.max_neurons:
                raise ValueError(f"layer {i} has {n} nodes; each layer needs 1 to {caps.max_neurons}.")
        return layers

    @field_validator("batch_size")
    @classmethod
    def _batch_cap(cls, batch_size):
        if batch_size > get_settings().max_samples:
            raise ValueError(f"batch_size is larger than the sample cap of {get_settings().max_samples}.")
        return batch_size


class StepRequest(Strict):
    steps: int = Field(1, ge=1, description="Steps to run; the cap is the max_steps_per_request setting.")

    @field_validator("steps")
    @classmethod
    def _step_cap(cls, steps):
        cap = get_settings().max_steps_per_request
        if steps > cap:
            raise ValueError(f"steps is {steps} but at most {cap} run per request.")
        return steps


class PredictRequest(Strict):
    inputs: Rows = Field(description="Raw dataset inputs, one row per query; the dataset's features and "
                                     "scaling are applied before the network sees them.")

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
    step: int = Field(ge=0, description="A kept step (see kept_steps in the state) to return to exactly.")


class ParameterEdit(Strict):
    """One weight (edge from node `from` of layer `layer` to node `to` of layer+1) or bias (node `to`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)

    kind: Literal["weight", "bias"]
    layer: int = Field(ge=0, description="The weight layer l: weights[l] / biases[l].")
    to: int = Field(ge=0, description="Node j of layer l+1.")
    source: int | None = Field(None, alias="from", ge=0, description="Node i of layer l (weights only).")
    value: float = Field(ge=-1e6, le=1e6)


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
    step: int = Field(description="Updates applied so far.")
    epoch: int = Field(description="Completed passes over the training rows.")
    weights: list[list[list[float]]]
    biases: list[list[float]]
    loss: Loss
    kept_steps: list[int] = Field(description="Oldest and newest step that rewind can return to.")
    data: DataSummary


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


class StepResult(SessionState):
    trace: Trace


class Prediction(BaseModel):
    outputs: list[list[float]]
    a: list[list[list[float]]] = Field(description="Activations of every layer, a[0] being the network inputs.")


class Share(BaseModel):
    snapshot_id: str = Field(description="The immutable snapshot's id (96 random bits).")
    url: str = Field(description="The page that gives whoever opens it their own copy of the snapshot.")


class ErrorMessage(BaseModel):
    detail: str


class PythonSnippets(BaseModel):
    numpy: str
    pytorch: str
