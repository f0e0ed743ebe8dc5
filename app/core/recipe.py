"""What a session is built from (CreateSession, the recipe that storage, shares and exports keep) and what edits it
(ParameterEdit): the request bodies the page and the JSON API both take. Field names are the public contract."""
import inspect
import json
from dataclasses import fields
from typing import Annotated, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from app.datasets import DATASETS, build_dataset
from app.datasets.inline import INLINE_OWN
from app.engine import TrainConfig
from app.settings import get_settings

from .options import data_options, training_options

Finite = Annotated[float, Field(allow_inf_nan=False)]
Rows = list[list[Finite]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def capped(**caps) -> Callable[[dict], None]:
    """A field's json_schema_extra that shows the server's caps in the OpenAPI schema (and so in /docs): each
    keyword is a JSON Schema keyword, each value a function of the settings, read when the schema is made. The
    validators below enforce the caps with messages of their own."""
    def extra(schema: dict) -> None:
        settings = get_settings()
        for keyword, of in caps.items():
            schema[keyword] = of(settings) if callable(of) else {k: f(settings) for k, f in of.items()}
    return extra


MAX_SAMPLES = capped(maximum=lambda s: s.max_samples)
MAX_ROWS = capped(maxItems=lambda s: s.max_samples)
# What the settings cap among the options: samples and rows per batch.
CAPS = {"samples": MAX_SAMPLES, "batch_size": MAX_SAMPLES,
        "layers": capped(minItems=lambda s: 2, maxItems=lambda s: s.max_hidden_layers + 2,
                         items={"minimum": lambda s: 1, "maximum": lambda s: s.max_neurons})}


def _fields(options, builder_order: list[str]) -> dict:
    """Pydantic fields of the settings in app/core/options.py, in the order of what they build: the engine's
    TrainConfig for the network, build_dataset's parameters for the data (the table's own order is a link's)."""
    ordered = sorted(options, key=lambda o: builder_order.index(o.name))
    return {o.name: (o.type, Field(o.default, description=o.help, json_schema_extra=CAPS.get(o.name), **o.bounds))
            for o in ordered}


class _DatasetChecks(Strict):
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
            self.name = "csv" if self.csv is not None else "circle"  # a CSV is the csv set, named or not
        if self.csv is not None and len(self.csv.encode()) > caps.max_csv_bytes:
            raise ValueError(f"csv is larger than the cap of {caps.max_csv_bytes} bytes.")
        return self


DatasetSpec = create_model(
    "DatasetSpec", __base__=_DatasetChecks,
    __doc__="A named dataset with its options, or inline rows (`inputs` and `targets`).",
    **_fields(data_options(), list(inspect.signature(build_dataset).parameters)),
    inputs=(Rows | None, Field(None, json_schema_extra=MAX_ROWS)),
    targets=(Rows | None, Field(None, json_schema_extra=MAX_ROWS)),
    test_inputs=(Rows | None, Field(None, json_schema_extra=MAX_ROWS)),
    test_targets=(Rows | None, Field(None, json_schema_extra=MAX_ROWS)),
)


class _RecipeChecks(Strict):
    @field_validator("layers", check_fields=False)
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

    @field_validator("batch_size", check_fields=False)
    @classmethod
    def _batch_cap(cls, batch_size):
        if batch_size > get_settings().max_samples:
            raise ValueError(f"batch_size is larger than the sample cap of {get_settings().max_samples}.")
        return batch_size


CreateSession = create_model(
    "CreateSession", __base__=_RecipeChecks,
    __doc__="Every field is optional; the defaults are TF Playground's default setup on the circle set.",
    **_fields(training_options(), [f.name for f in fields(TrainConfig)]),
    weights=(list[list[list[Finite]]] | None,
             Field(None, description="weights[l][j][i]: node i of layer l to node j of layer l+1. Overrides init.")),
    biases=(list[list[Finite]] | None, Field(None, description="biases[l][j]: node j of layer l+1.")),
    dataset=(DatasetSpec, Field(default_factory=DatasetSpec)),
)


class ParameterEdit(Strict):
    """One weight (edge from node `from` of layer `layer` to node `to` of layer+1) or bias (node `to`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)

    kind: Literal["weight", "bias"]
    layer: int = Field(ge=0, description="The weight layer l: weights[l] / biases[l].")
    to: int = Field(ge=0, description="Node j of layer l+1.")
    source: int | None = Field(None, alias="from", ge=0, description="Node i of layer l (weights only; a bias "
                                                                     "edit with `from` is refused).")
    value: float = Field(ge=-1e6, le=1e6)

    @field_validator("source")
    @classmethod
    def _weights_only(cls, source, info):
        if source is not None and info.data.get("kind") == "bias":
            raise ValueError("a bias belongs to node `to` alone; leave `from` out of a bias edit.")
        return source


def from_before_scaled_targets(request: dict) -> dict:
    """A recipe stored or exported before regression targets could be scaled (it has no `scale_targets`: every
    recipe since keeps the resolved value) trained on raw targets: it keeps doing so."""
    dataset = request.get("dataset")
    if isinstance(dataset, dict) and "scale_targets" not in dataset:
        return {**request, "dataset": {**dataset, "scale_targets": False}}
    return request


def without_unused_data(request: dict) -> dict:
    """A recipe stored before data options with no effect were refused may carry some (samples on a fixed table,
    say): they are dropped, which rebuilds the same session as before."""
    data = request.get("dataset")
    if not isinstance(data, dict):
        return request
    if data.get("inputs") is not None:
        unused = set(INLINE_OWN)
    else:
        name = data.get("name") or ("csv" if data.get("csv") is not None else "circle")
        info = DATASETS.get(name)
        if info is None:
            return request
        unused = {"samples", "noise"} if info.fixed else set()
        if name != "csv":
            unused |= {"csv", "target_columns"}
        if info.task is not None and data.get("task") not in (None, info.task):
            unused.add("task")
    return {**request, "dataset": {k: v for k, v in data.items() if k not in unused}}


def stored_recipe(data: str | bytes) -> CreateSession:
    """A recipe as storage keeps it (CreateSession's JSON), older ones included."""
    return CreateSession.model_validate(without_unused_data(from_before_scaled_targets(json.loads(data))))
