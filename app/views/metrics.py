"""The metrics strip: step, epoch, losses and accuracy, each with what it means."""
from app.core.session import Session


def build(session: Session) -> dict:
    train_loss, test_loss = session.current_losses()
    train_acc, test_acc = session.accuracy()
    trace = session.last_trace
    return {
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
