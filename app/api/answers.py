"""The JSON answers' shapes, made from a session (app/api/schemas.py documents them)."""
from app.core.options import unused_settings
from app.core.session import GRADIENT_CHECK_METHOD, Session
from app.engine import predicted_classes


def session_state(session: Session) -> dict:
    """SessionState: the config, step, weights, losses and data summary of a session (or of a snapshot)."""
    t, d = session.trainer, session.dataset
    train, test = session.current_losses()
    config = session.config()
    return {
        "id": session.id,
        "config": config,
        "unused": unused_settings(config),
        "step": t.step_count,
        "epoch": t.epoch,
        "weights": [w.tolist() for w in t.net.weights],
        "biases": [b.tolist() for b in t.net.biases],
        "loss": {"train": train, "test": test},
        "kept_steps": list(session.kept_steps),
        "redo_steps": list(session.redo_steps or ()),
        "data": {
            "name": d.name, "title": d.title, "task": d.task,
            "train_size": len(d.train_x), "test_size": len(d.test_x),
            "input_names": list(d.input_names), "feature_names": list(d.feature_names),
            "target_names": list(d.target_names), "classes": None if d.classes is None else list(d.classes),
        },
    }


def step_result(session: Session) -> dict:
    """StepResult: the state after a step, with the last step's trace."""
    return {**session_state(session), "trace": session.last_trace.as_dict()}


def prediction(session: Session, inputs: list[list[float]]) -> dict:
    """Prediction: the outputs of raw inputs in the data's units, the predicted class of each row (classification),
    and every layer's activations (the network's own numbers)."""
    acts = session.predict(inputs)
    d = session.dataset
    classes = None
    if d.task == "classification":
        ids = predicted_classes(acts[-1], session.trainer.config.output_activation)
        classes = [d.classes[int(k)] for k in ids]
    return {"outputs": d.to_data(acts[-1]).tolist(), "classes": classes, "a": [a.tolist() for a in acts]}


def gradient_report(session: Session) -> dict:
    """GradientCheckResult: the gradient check's largest relative error, and every parameter whose error is above
    the engine's DISAGREE."""
    check, rows = session.gradient_check()
    net = session.trainer.net
    return {"max_relative_error": check.max_relative_error, "parameters": int(net.n_params),
            "rows": rows.tolist(), "disagreeing": check.disagreements(net), "method": GRADIENT_CHECK_METHOD}
