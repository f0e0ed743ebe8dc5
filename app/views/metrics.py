"""The metrics strip: step, epoch, losses and accuracy, each with what it means."""
from app.core.metrics import rmse
from app.core.session import Session

from .units import in_units


def build(session: Session) -> dict:
    train_loss, test_loss = session.current_losses()
    train_acc, test_acc = session.accuracy()
    trace = session.last_trace
    train_rmse, test_rmse = rmse(session)
    unit = session.dataset.unit
    return {
        "train_rmse": train_rmse, "test_rmse": test_rmse,
        "train_rmse_text": None if train_rmse is None else in_units(train_rmse, unit),
        "test_rmse_text": None if test_rmse is None else in_units(test_rmse, unit),
        "targets": ", ".join(session.dataset.target_names),
        "step": session.trainer.step_count,
        "epoch": session.trainer.epoch,
        "train_loss": train_loss,
        "test_loss": test_loss,
        "train_accuracy": train_acc,
        "test_accuracy": test_acc,
        "batch_loss": trace.loss_before if trace else None,
        "batch_rows": len(trace.rows) if trace else None,
        "loss_name": session.trainer.config.loss,
    }
