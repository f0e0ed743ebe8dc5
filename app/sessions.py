"""Training sessions: a config, its dataset and a trainer, behind a lock, kept in a bounded store."""
import secrets
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import numpy as np

from app.api.schemas import CreateSession
from app.datasets import Dataset, Limits, build_dataset, inline_dataset
from app.engine import FieldError, Trace, TrainConfig, Trainer
from app.settings import get_settings

DEFAULT_HIDDEN = (4, 2)


@dataclass
class Session:
    id: str
    request: CreateSession
    dataset: Dataset
    trainer: Trainer
    last_trace: Trace | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def config(self) -> dict:
        """The full current config, defaults resolved, from which this session's initial state rebuilds."""
        cfg = asdict(self.trainer.config)
        cfg["layers"] = list(cfg["layers"])
        cfg["dataset"] = self.request.dataset.model_dump(exclude_none=True)
        if self.dataset.name != "inline":
            cfg["dataset"].update(name=self.dataset.name, seed=self.dataset_seed)
        return cfg

    @property
    def dataset_seed(self) -> int:
        seed = self.request.dataset.seed
        return self.request.seed if seed is None else seed

    def losses(self) -> dict:
        t, d = self.trainer, self.dataset
        train = t.net.loss(t.loss, d.train_x, d.train_y)
        test = t.net.loss(t.loss, d.test_x, d.test_y) if len(d.test_x) else None
        return {"train": train, "test": test}

    def state(self) -> dict:
        t, d = self.trainer, self.dataset
        return {
            "id": self.id,
            "config": self.config(),
            "step": t.step_count,
            "epoch": t.epoch,
            "weights": [w.tolist() for w in t.net.weights],
            "biases": [b.tolist() for b in t.net.biases],
            "loss": self.losses(),
            "data": {
                "name": d.name, "title": d.title, "task": d.task,
                "train_size": len(d.train_x), "test_size": len(d.test_x),
                "input_names": list(d.input_names), "feature_names": list(d.feature_names),
                "target_names": list(d.target_names), "classes": None if d.classes is None else list(d.classes),
            },
        }

    def predict(self, raw_inputs: list[list[float]]) -> dict:
        raw = np.asarray(raw_inputs, dtype=np.float64)
        width = len(self.dataset.input_names)
        if raw.ndim != 2 or raw.shape[1] != width:
            raise FieldError("inputs", f"each row of inputs needs {width} values ({', '.join(self.dataset.input_names)}).")
        with np.errstate(all="ignore"):
            _, acts = self.trainer.net.forward(self.dataset.transform(raw))
        return {"outputs": acts[-1].tolist(), "a": [a.tolist() for a in acts]}


def build_session(req: CreateSession) -> Session:
    """Build the dataset, then the network; every bad combination raises FieldError naming the field."""
    caps = get_settings()
    spec = req.dataset
    seed = req.seed if spec.seed is None else spec.seed
    # Without explicit layers the output layer takes the size the data asks for.
    output_size = req.layers[-1] if req.layers else None
    common = dict(standardize=spec.standardize, output_activation=req.output_activation, output_size=output_size)
    if spec.inputs is not None:
        dataset = inline_dataset(spec.inputs, spec.targets, spec.test_inputs, spec.test_targets, **common)
    else:
        dataset = build_dataset(
            spec.name, samples=spec.samples, noise=spec.noise, train_fraction=spec.train_fraction, seed=seed,
            features=spec.features, csv=spec.csv, target_columns=spec.target_columns, task=spec.task,
            limits=Limits(max_samples=caps.max_samples, max_csv_bytes=caps.max_csv_bytes,
                          max_columns=caps.max_neurons + 8),
            **common,
        )
    layers = req.layers or [dataset.input_size, *DEFAULT_HIDDEN, dataset.target_size]
    if dataset.input_size > caps.max_neurons:
        raise FieldError("dataset", f"the data has {dataset.input_size} inputs but the cap is {caps.max_neurons}.")
    config = TrainConfig(
        layers=tuple(layers),
        **req.model_dump(include={
            "hidden_activation", "output_activation", "loss", "optimizer", "learning_rate", "momentum", "beta1",
            "beta2", "eps", "regularization", "regularization_rate", "batch_size", "shuffle", "train_biases",
            "init", "seed"}),
    )
    trainer = Trainer(config, dataset.train_x, dataset.train_y, req.weights, req.biases)
    return Session(secrets.token_hex(16), req, dataset, trainer)


class SessionStore:
    """In-memory sessions, least recently used first out once `max_sessions` is reached."""

    def __init__(self, max_sessions: int):
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, session: Session) -> None:
        with self._lock:
            self._sessions[session.id] = session
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None:
                self._sessions.move_to_end(session_id)
            return session

    def __len__(self) -> int:
        return len(self._sessions)
