"""The loss and accuracy of a network over all of its data: one forward pass per set of rows, or one stacked pass
for many parameter vectors at once (the points of a run's loss curve)."""
import math

import numpy as np

from app.datasets import Dataset
from app.engine import Trainer, predicted_classes

EVALUATION_VALUES = 1_000_000  # a stacked evaluation's largest layer, in float64s (8 MB)

Evaluation = tuple[float, float | None, float | None, float | None]  # train loss, test loss, their accuracies


def evaluate_under(trainer: Trainer, dataset: Dataset, params: np.ndarray) -> list[Evaluation]:
    """Mean data loss and accuracy over all training rows and all test rows under each of S parameter vectors,
    params (S, n_params), one stacked pass per set of rows: the same numbers as S passes (MLP.outputs_under), for a
    fraction of their overhead. Test values are None without test rows; accuracies are None for regression."""
    t, d = trainer, dataset
    count = len(params)
    classify = d.task == "classification"
    columns = []
    for x, y, labels in ((d.train_x, d.train_y, d.train_labels), (d.test_x, d.test_y, d.test_labels)):
        if not len(x):
            columns.append(([None] * count, [None] * count))
            continue
        with np.errstate(all="ignore"):
            z, a = t.net.outputs_under(x, params)
            losses = t.loss.value(a, np.tile(y, (count, 1)), z).reshape(count, len(x)).mean(axis=1)
        accuracies = [None] * count
        if classify:
            right = predicted_classes(a, t.config.output_activation).reshape(count, len(x)) == labels
            accuracies = right.mean(axis=1).tolist()
        columns.append((losses.tolist(), accuracies))
    (train, train_accuracy), (test, test_accuracy) = columns
    return list(zip(train, test, train_accuracy, test_accuracy))


def evaluation_chunk(trainer: Trainer, dataset: Dataset) -> int:
    """How many parameter vectors to evaluate in one stacked pass: up to EVALUATION_VALUES numbers per layer."""
    rows = max(len(dataset.train_x), len(dataset.test_x), 1)
    return max(1, EVALUATION_VALUES // (rows * max(trainer.net.sizes)))


def finite_losses(evaluation: tuple) -> bool:
    """Whether the train and test losses of an evaluation are finite (a missing test set is)."""
    return all(loss is None or math.isfinite(loss) for loss in evaluation[:2])
