"""Figures of a session as it is now, in the data's own units."""
import numpy as np

from .session import Session


def rmse(session: Session) -> tuple[float | None, float | None]:
    """Regression: the root-mean-square error over all training rows and all test rows, in the data's units
    (every target column counted), with the current weights. (None, None) for classification."""
    d = session.dataset
    if d.task != "regression":
        return None, None
    out = []
    for x, y in ((d.train_x, d.raw_train_y), (d.test_x, d.raw_test_y)):
        if not len(x):
            out.append(None)
            continue
        with np.errstate(all="ignore"):
            error = d.to_data(session.trainer.net.predict(x)) - y
        out.append(float(np.sqrt(np.mean(error * error))))
    return out[0], out[1]
