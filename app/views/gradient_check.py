"""The gradient check's panel (templates/partials/gradcheck.html): backprop's gradient on the next batch against
finite differences, the largest relative error, and the parameters that disagree."""
from app.core.session import GRADIENT_CHECK_METHOD, Session


def build(session: Session) -> dict:
    """What the panel draws. Raises FieldError when the check would take more work than one request may do."""
    check, rows = session.gradient_check()
    net = session.trainer.net
    return {"max_relative_error": check.max_relative_error, "parameters": int(net.n_params), "rows": rows.tolist(),
            "disagreeing": check.disagreements(net), "method": GRADIENT_CHECK_METHOD}
