"""The lessons, in the seed articles' order: why train, the four stages, the forward pass, the error and the learning
rate, the chain rule, deltas flowing back, matrices and mini-batches, initialisation and normalisation, and softmax.
The words are this project's own; every number a task checks is computed by the engine."""
import math

import numpy as np

from app.core.quantities import Ask, expected, next_trace
from app.core.metrics import rmse
from app.core.presets import PRESETS

from .model import Card, Choose, Do, Lesson, Number, Setup


def preset(name: str, **changes) -> Setup:
    p = PRESETS[name]
    return Setup({**p.config, **changes}, detailed=p.detailed)


def first_step(ask: Ask):
    """The engine's value of `ask` in the first step of the card's setup."""
    return lambda fresh: expected(next_trace(fresh), ask)


def train_loss(session) -> float:
    return session.current_losses()[0]


def _diverged_then_learned(session, seen: dict) -> bool:
    """A learning rate that diverges (the loss explodes, or it grows 1,000-fold), then one that learns (the
    RMSE below $8,000)."""
    losses = [p[1] for p in session.history]
    if session.loss_explosion() is not None or max(losses) > 1e3 * losses[0] or seen.get("refused"):
        seen["diverged"] = True
    return bool(seen.get("diverged")) and rmse(session)[0] < 8000 and max(losses[-5:]) < 1e3 * losses[0]


def _symmetric_after(steps: int):
    def answer(fresh) -> str:
        fresh.train(steps)
        w = fresh.trainer.net.weights[0]
        return "the same" if np.array_equal(w[0], w[1]) else "different"
    return answer


def _slope_words(fresh) -> str:
    slope = expected(next_trace(fresh), Ask("dact", layer=1, node=0, row=0))
    return "close to 0" if slope < 0.01 else "close to 1" if slope > 0.99 else "in between"


def _larger_delta(fresh) -> str:
    trace = next_trace(fresh)
    d = np.abs(trace.pass_.delta[0][0])
    return ("h1", "h2")[int(np.argmax(d))]


def _steps_per_epoch(fresh) -> float:
    return float(math.ceil(len(fresh.dataset.train_x) / fresh.trainer.batch_size))


MAZUR = preset("mazur")
IRIS = Setup(dict(layers=[4, 5, 3], hidden_activation="tanh", output_activation="softmax", loss="cross_entropy",
                  learning_rate=0.1, batch_size=10, seed=3, dataset={"name": "iris", "standardize": True}))

LESSONS = (
    Lesson("training", "What training is", "Initialise, forward, error, backward, update; repeat until the error is small.", (
        Card("four-stages", "One step, in four stages", (
            "A network learns by repeating one step. Forward: the inputs flow through the weights to an output. "
            "Error: the output is compared with the target. Backward: each weight learns how much it was to blame. "
            "Update: every weight moves a little against its blame.",
            "This is Mazur's small network in detailed mode: each click of Step shows one stage.",
        ), Do("Take one whole step stage by stage: Forward, Loss, Backward (twice) and Update.",
              lambda s, seen: s.detailed and s.trainer.step_count >= 1), MAZUR),
        Card("repeat", "Repeat until the error is small", (
            "One step barely changes the error; training is thousands of them. The loop ends when the error is small "
            "enough for the job, or when it stops improving.",
            "Set “Stop when train loss <” to 0.05 in the Play settings, then press Play (or keep stepping).",
        ), Do("Train until the train loss is below 0.05.", lambda s, seen: train_loss(s) < 0.05)),
    )),
    Lesson("forward", "The forward pass by hand", "The test-score example's 0.85, worked out yourself.", (
        Card("hidden", "Into a hidden node", (
            "Each node adds up its inputs, each times the weight of its edge, plus a bias: z = Σ w·a + b. Then it "
            "squashes z with its activation: here the sigmoid, a = 1 / (1 + e^(−z)).",
            "A student slept 9 hours and studied 2. Into h1 the weights are 0.2 (hours studied) and 0.8 (hours slept), "
            "and there is no bias. To check a weight before any step, click its edge into h1 in the diagram: the "
            "inspector shows that one weight.",
        ), Number("What is z of h1 for this student?", first_step(Ask("z", layer=1, node=0, row=0))),
            preset("test-score")),
        Card("output", "Out of the network", (
            "The output node does the same with the three hidden values: h1 ≈ 0.9995, h2 ≈ 0.9802, h3 ≈ 0.9985, "
            "with weights 0.4, 0.5 and 0.9, then the sigmoid.",
            "The article rounds its answer to .85; give four digits.",
        ), Number("What does the network predict for this student?", first_step(Ask("a", layer=2, node=0, row=0)))),
    )),
    Lesson("error", "Error and learning rate", "House prices in dollars; a rate too high overshoots and diverges.", (
        Card("error", "How wrong, in dollars", (
            "The error is the gap between what the network said and the truth. A network that has learned nothing "
            "guesses the average price, here $150,000, for every house.",
            "The first house is worth $100,000. Step once and read the narration.",
        ), Number("By how many dollars is the first prediction too high?",
                  lambda fresh: float(fresh.dataset.to_data(next_trace(fresh).pass_.a[-1])[0, 0]
                                      - fresh.dataset.raw_train_y[0, 0]), unit="$"),
            preset("house-price")),
        Card("rate", "A step too far", (
            "The update moves each weight by η times its gradient. A small η crawls; a large one jumps past the valley "
            "floor, lands higher up the other side, and the next jump is larger still: the loss explodes.",
            "Set the learning rate to 3 and Play until the loss explodes. Then go Back (or Reset) and find a rate "
            "that learns: the RMSE in the bar above falls below $8,000.",
        ), Do("Find a learning rate that diverges, then one that learns (RMSE below $8,000).",
              _diverged_then_learned)),
    )),
    Lesson("chain-rule", "The chain rule", "Mazur's example: w5 first, then w1.", (
        Card("w5", "A weight into the output", (
            "How much does the total error E change when w5 moves? Follow the chain from E back to w5: "
            "∂E/∂w5 = ∂E/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5.",
            "The three links are (out_o1 − target), the sigmoid's slope out(1 − out), and out_h1. Stuck? Press Step "
            "until the backward pass has reached the output (three clicks: this is a detailed step), then click w5: "
            "the inspector works out each link, and Check my calculation marks your own numbers.",
        ), Number("What is ∂E/∂w5 in the first step?", first_step(Ask("grad_weight", layer=1, to=0, source=0))),
            MAZUR),
        Card("w1", "A weight two layers back", (
            "w1 sits before h1, and h1 feeds both outputs, so its chain splits: the error reaches h1 through o1 and "
            "through o2, and the two paths add up.",
            "∂E/∂w1 = (Σ over the outputs of δ_o · w from h1) · out_h1(1 − out_h1) · i1.",
        ), Number("What is ∂E/∂w1 in the first step?", first_step(Ask("grad_weight", layer=0, to=0, source=0)))),
    )),
    Lesson("deltas", "Deltas flow back", "A hidden node's δ: the weighted sum of the deltas after it, times its slope.", (
        Card("hidden-delta", "δ of a hidden node", (
            "Every node carries a δ: how much the error changes with its z. An output's δ comes from the error. A "
            "hidden node's δ is the deltas of the nodes it feeds, each times the weight of its edge, summed, times "
            "its own slope f′(z).",
            "In Mazur's first step δ_o1 ≈ 0.1385 and δ_o2 ≈ −0.0381; h1 feeds them through w5 = 0.40 and w7 = 0.50, "
            "and its slope is out_h1(1 − out_h1).",
        ), Number("What is δ of h1 in the first step?", first_step(Ask("delta", layer=1, node=0, row=0))), MAZUR),
        Card("compare", "Who is to blame more", (
            "The deltas say which hidden node matters more for this error: the larger |δ|, the more its incoming "
            "weights will move.",
            "Step through Backward in detailed mode and read both hidden deltas on the diagram.",
        ), Choose("Which hidden node gets the larger |δ| in the first step?", ("h1", "h2"), _larger_delta)),
    )),
    Lesson("matrices", "Matrices and mini-batches", "One layer as matrices; batch means; an epoch.", (
        Card("matrix-form", "A layer is a matrix product", (
            "Written out node by node, a layer is many small sums. Written as matrices it is one product: "
            "z = W a + b. Backward is another: δ = f′(z) ⊙ Wᵀ δ_next, and the gradient ∂L/∂W = (1/n) δ aᵀ.",
            "With a batch of 10 rows, a becomes a matrix of 10 columns, and the gradient is the mean over them.",
        ), Do("Turn on Matrix form, then take one step.",
              lambda s, seen: s.page.matrix_form and s.trainer.step_count >= 1),
            Setup({"dataset": {"name": "circle"}, "batch_size": 10})),
        Card("epoch", "Batches make an epoch", (
            "One step uses one batch. An epoch is one pass over every training row: the circle has 250 training rows, "
            "taken 10 at a time.",
        ), Number("How many steps make one epoch here?", _steps_per_epoch)),
        Card("run-epoch", "Run an epoch", (
            "The Epoch button runs steps until every row has been used once.",
        ), Do("Finish an epoch.", lambda s, seen: s.trainer.epoch >= 1)),
    )),
    Lesson("init-norm", "Initialisation and normalisation", "All-zero weights stay symmetric; unscaled inputs saturate.", (
        Card("symmetric", "Zero weights learn in lockstep", (
            "Start every weight at 0 and the two hidden nodes compute the same thing, get the same δ, and take the "
            "same update: they stay twins forever, and the network is no wider than one node.",
            "Play for a while and watch the two hidden nodes.",
        ), Choose("After 200 steps, are the weights into h1.1 and h1.2 the same or different?",
                  ("the same", "different"), _symmetric_after(200)),
            Setup(dict(layers=[2, 2, 1], hidden_activation="sigmoid", output_activation="sigmoid", loss="half_sse",
                       learning_rate=2.0, batch_size=4, weights=[[[0, 0], [0, 0]], [[0, 0]]], biases=[[0, 0], [0]],
                       dataset={"name": "xor-table"}))),
        Card("saturate", "Unscaled inputs saturate", (
            "Feed raw sizes in square metres into a tanh node and z is in the tens: tanh is flat there, its slope is "
            "almost 0, and almost no gradient gets through.",
            "These are the house prices with standardising switched off. Step once and open h1.1 in the inspector.",
        ), Choose("In the first step, h1.1's slope f′(z) is…", ("close to 0", "in between", "close to 1"),
                  _slope_words),
            preset("house-price", dataset={"name": "house-price", "standardize": False, "scale_targets": False})),
    )),
    Lesson("softmax", "Classification with softmax and cross-entropy", "The fused o − t.", (
        Card("fused", "o − t", (
            "For classes, the outputs go through softmax, so they are probabilities that add to 1, and the error is "
            "cross-entropy, −ln of the probability given to the right class.",
            "Their slopes multiply out to something simple: an output's δ is just o − t, its probability minus 1 for "
            "the right class and minus 0 for the others. A batch here is 10 flowers; the diagram shows one of them at "
            "a time, the first unless you pick another with ◀ ▶.",
        ), Number("In the first step, what is δ of the first output (setosa) for the batch's first flower?",
                  first_step(Ask("delta", layer=2, node=0, row=0))), IRIS),
        Card("train", "Learn the flowers", (
            "Now train. The test accuracy counts flowers the network never trained on.",
        ), Do("Train until the test accuracy is at least 90 %.",
              lambda s, seen: (s.accuracy()[1] or 0) >= 0.9)),
    )),
)

BY_SLUG = {lesson.slug: lesson for lesson in LESSONS}


def card_of(lesson_slug: str, card_slug: str) -> tuple[Lesson, int] | None:
    lesson = BY_SLUG.get(lesson_slug)
    if lesson is None:
        return None
    for k, card in enumerate(lesson.cards):
        if card.slug == card_slug:
            return lesson, k
    return None
