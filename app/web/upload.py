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
from app.engine import FieldError
from app.settings import get_settings
from app.ratelimit import REBUILD, STORED_QUOTA, Limited, take_bytes

from .csrf import same_site_post
from .forms import control_errors
from .deps import Current
from .outcome import configured
from .panels import panels, rebuild

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])


@router.post("/ui/upload", dependencies=[Limited(REBUILD)])
def upload_csv(request: Request, session: Current, file: Annotated[UploadFile, File()],
               targets: Annotated[str, Form()] = "", task: Annotated[str, Form()] = "regression") -> Response:
    """A CSV with a header row; `targets` names the columns to predict (default: the last one)."""
    cap = get_settings().max_csv_bytes
    data = file.file.read(cap + 1)
    take_bytes(request, STORED_QUOTA, len(data))  # the address's quota of stored bytes
    with session.lock:
        try:
            text = decode(data, cap)
            header = next((row for row in csv.reader(io.StringIO(text)) if row), [])
            columns = [c.strip() for c in targets.split(",") if c.strip()] or [name.strip() for name in header[-1:]]
            cfg = session.config()
            # The data's own defaults: standardised inputs and targets, an output activation and loss by task.
            dataset = {"name": "csv", "csv": text, "target_columns": columns, "task": task}
            req = CreateSession(**{**cfg, "layers": None, "weights": None, "biases": None, "output_activation": None,
                                   "loss": None, "dataset": dataset})
            name = file.filename or "your CSV"
            return rebuild(request, session, req, f"loading {name}", lambda fresh: loaded_words(fresh, name),
                           hidden=cfg["layers"][1:-1])
        except (ValidationError, FieldError) as exc:
            message = "; ".join(control_errors(exc).values())
            return panels(request, session, configured(errors={"csv": message}))


def loaded_words(session: Session, name: str) -> str:
    """What the upload built, as its defaults resolved: the task, the output and loss it picked, the scaling."""
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
            f"for the task.{said}")
