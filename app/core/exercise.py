"""Exercises (issue 14 §3): small seeded networks made for hand calculation, each asking for one quantity of its
first step, checked as the worksheet checks (app/core/worksheet.py). The seed alone rebuilds the exercise, so a link
with it hands everyone the same one."""
import random
from dataclasses import dataclass

from .recipe import CreateSession
from .session import Session, build_session
from .marking import mark
from .quantities import Ask, expected, next_trace

SEED_MAX = 999_999
ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")
# The output a hidden activation comes with: sigmoid keeps Mazur's all-sigmoid network; the others a linear output
# (tanh a tanh output, so that o − t stays small).
OUTPUTS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "linear", "linear": "linear"}
LEARNING_RATES = (0.1, 0.5, 1.0)


@dataclass(frozen=True)
class Exercise:
    seed: int
    request: CreateSession
    ask: Ask
    hidden: str  # the hidden activation

    @property
    def shape(self) -> str:
        return "-".join(str(n) for n in self.request.layers)


def _weight(rng: random.Random) -> float:
    """A weight with one or two decimals, 0.05 to 0.95 in size, either sign (mostly positive)."""
    size = rng.choice([k / 10 for k in range(1, 10)] + [k / 100 for k in range(5, 100, 10)])
    return size if rng.random() < 0.75 else -size


def make(seed: int) -> Exercise:
    """The exercise of `seed`: a 2-2-1 or 2-2-2 network on one row, and the quantity it asks for."""
    rng = random.Random(f"exercise-{seed}")
    outputs = rng.choice((1, 2))
    hidden = rng.choice(ACTIVATIONS)
    layers = [2, 2, outputs]
    weights = [[[_weight(rng) for _ in range(2)] for _ in range(2)],
               [[_weight(rng) for _ in range(2)] for _ in range(outputs)]]
    biases = [[rng.choice((0.0, 0.1, 0.2, 0.5)) for _ in range(2)], [rng.choice((0.0, 0.1, 0.3)) for _ in range(outputs)]]
    x = [rng.choice((0.1, 0.2, 0.5, 1.0, 2.0)) for _ in range(2)]
    t = [rng.choice((0.0, 0.1, 0.5, 0.9, 1.0)) for _ in range(outputs)]
    request = CreateSession(layers=layers, hidden_activation=hidden, output_activation=OUTPUTS[hidden],
                            loss="half_sse", optimizer="sgd", learning_rate=rng.choice(LEARNING_RATES), batch_size=1,
                            weights=weights, biases=biases, seed=seed, dataset={"inputs": [x], "targets": [t]})
    o, h, i = rng.randrange(outputs), rng.randrange(2), rng.randrange(2)
    ask = rng.choice([
        Ask("z", layer=1, node=h), Ask("a", layer=1, node=h), Ask("z", layer=2, node=o), Ask("a", layer=2, node=o),
        Ask("delta", layer=2, node=o), Ask("delta", layer=1, node=h),
        Ask("grad_weight", layer=1, to=o, source=h), Ask("grad_weight", layer=0, to=h, source=i),
        Ask("weight_after", layer=1, to=o, source=h), Ask("grad_bias", layer=0, to=h),
    ])
    return Exercise(seed, request, ask, hidden)


def build(exercise: Exercise, session_id: str | None = None) -> Session:
    return build_session(exercise.request, session_id)


def answer(exercise: Exercise) -> float:
    """The engine's value of what the exercise asks, in its first step."""
    return expected(next_trace(build(exercise)), exercise.ask)


def check(exercise: Exercise, value) -> dict:
    """The mark of a typed value, as the worksheet marks."""
    m = mark(value, answer(exercise))
    return {"correct": m.correct, "expected": m.expected, "reason": m.reason}
