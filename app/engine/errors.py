"""Errors the engine and the dataset builders raise; the API turns them into 422 and 409 answers."""


class FieldError(ValueError):
    """Bad input, with the dotted name of the field it came from (for example `dataset.csv`)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class DivergenceError(ArithmeticError):
    """A step would have produced NaN or Inf; it was not applied."""

    def __init__(self, step: int, message: str, cause: str = "learning_rate"):
        super().__init__(message)
        self.step = step
        self.message = message
        self.cause = cause
