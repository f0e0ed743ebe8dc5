"""The page's CSV upload: your own data, trained with the current shape and functions."""
import csv
import io
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError

from app.core.recipe import CreateSession
from app.core.session import Session
from app.datasets.csv_upload import decode
from app.datasets.units import check_unit
from app.engine import FieldError
from app.settings import get_settings
from app.views.units import unit_words
from app.ratelimit import REBUILD, STORED_QUOTA, Limited, take_bytes

from .csrf import same_site_post
from .forms import control_errors
from .deps import Current
from .outcome import configured
from .panels import panels, rebuild

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])


@router.post("/ui/upload", dependencies=[Limited(REBUILD)])
def upload_csv(request: Request, session: Current, file: Annotated[UploadFile, File()],
               targets: Annotated[str, Form()] = "", task: Annotated[str, Form()] = "regression",
               unit: Annotated[str, Form()] = "") -> Response:
    """A CSV with a header row; `targets` names the columns to predict (default: the last one), `unit` their unit
    (default: read from their names, price_usd: $)."""
    cap = get_settings().max_csv_bytes
    data = file.file.read(cap + 1)
    take_bytes(request, STORED_QUOTA, len(data))  # the address's quota of stored bytes
    try:
        given = check_unit(unit) or None  # blank: read from the column names
    except FieldError as exc:
        return panels(request, session, configured(errors={"unit": exc.message}))
    with session.lock:
        try:
            text = decode(data, cap)
            header = next((row for row in csv.reader(io.StringIO(text)) if row), [])
            columns = [c.strip() for c in targets.split(",") if c.strip()] or [name.strip() for name in header[-1:]]
            cfg = session.config()
            # The data's own defaults: standardised inputs and targets, an output activation and loss by task.
            dataset = {"name": "csv", "csv": text, "target_columns": columns, "task": task, "unit": given}
            req = CreateSession(**{**cfg, "layers": None, "weights": None, "biases": None, "output_activation": None,
                                   "loss": None, "dataset": dataset})
            name = file.filename or "your CSV"
            return rebuild(request, session, req, f"loading {name}", lambda fresh: loaded_words(fresh, name, given),
                           hidden=cfg["layers"][1:-1])
        except (ValidationError, FieldError) as exc:
            if isinstance(exc, FieldError) and exc.field == "dataset.unit":  # beside the unit's own field
                return panels(request, session, configured(errors={"unit": exc.message}))
            message = "; ".join(control_errors(exc).values())
            return panels(request, session, configured(errors={"csv": message}))


def unit_said(d, given: str | None) -> str:
    """Where the targets' unit came from, and how to change it."""
    if d.task != "regression":
        return ""
    named = unit_words(d.unit)
    unit = d.unit if named == d.unit else f"{named} ({d.unit})"
    if given is not None:
        return f" Its values are in {unit}, as you set it."
    if d.unit:
        return (f" Its values are in {unit}, read from the column name {d.target_names[0]}; correct Unit of the "
                "target and load the file again if that is wrong.")
    return " Its column name names no unit; give one in Unit of the target and load the file again."


def loaded_words(session: Session, name: str, given: str | None = None) -> str:
    """What the upload built, as its defaults resolved: the task, the output and loss it picked, the scaling, the
    unit."""
    d, config = session.dataset, session.trainer.config
    classes = f", {len(d.classes)} classes" if d.task == "classification" else ""
    what = f"predicting {', '.join(session.request.dataset.target_columns)} ({d.task}{classes})"
    scaling = []
    if d.mean is not None:
        scaling.append("the inputs are standardised")
    if d.target_scaling is not None:
        scaling.append("the targets are scaled for the network, and every number you read is in the data's units")
    said = f" {'; '.join(scaling).capitalize()}." if scaling else ""
    return (f"Loaded {name}: {what}, with a {config.output_activation} output and the {config.loss} loss, picked "
            f"for the task.{said}{unit_said(d, given)}")
