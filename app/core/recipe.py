"""What a session is built from (CreateSession, the recipe that storage, shares and exports keep) and what edits it
(ParameterEdit): the request bodies the page and the JSON API both take. Field names are the public contract."""
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


class ParameterEdit(Strict):
    """One weight (edge from node `from` of layer `layer` to node `to` of layer+1) or bias (node `to`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)

    kind: Literal["weight", "bias"]
    layer: int = Field(ge=0, description="The weight layer l: weights[l] / biases[l].")
    to: int = Field(ge=0, description="Node j of layer l+1.")
    source: int | None = Field(None, alias="from", ge=0, description="Node i of layer l (weights only).")
    value: float = Field(ge=-1e6, le=1e6)
