"""Worked examples, each a link: /?preset=NAME."""
from dataclasses import dataclass

from app.core.recipe import CreateSession


@dataclass(frozen=True)
class Preset:
    title: str
    config: dict
    detailed: bool = False  # open in detailed-step mode, one phase per click
    blurb: str = ""

    def request(self) -> CreateSession:
        return CreateSession(**self.config)


PRESETS = {
    "mazur": Preset(
        "Mazur's worked example",
        dict(layers=[2, 2, 2], hidden_activation="sigmoid", output_activation="sigmoid", loss="half_sse",
             learning_rate=0.5, batch_size=1, train_biases=False,
             weights=[[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
             biases=[[0.35, 0.35], [0.60, 0.60]], dataset={"name": "mazur"}),
        detailed=True,
        blurb="Matt Mazur's step-by-step example: inputs 0.05 and 0.10, targets 0.01 and 0.99, w1–w8 = "
              "0.15 … 0.55, biases 0.35 and 0.60 (never updated), learning rate 0.5.",
    ),
    "xor": Preset(
        "XOR",
        dict(layers=[2, 2, 1], hidden_activation="sigmoid", output_activation="sigmoid", loss="half_sse",
             learning_rate=2.0, batch_size=4, seed=1, dataset={"name": "xor-table"}),
        blurb="The XOR truth table on a 2-2-1 sigmoid network, all four rows per step. The loss sits on a "
              "plateau near 0.125 for about 2,000 steps before the hidden units split the problem.",
    ),
    "test-score": Preset(
        "Test score from hours studied and slept",
        dict(layers=[2, 3, 1], hidden_activation="sigmoid", output_activation="sigmoid", loss="half_sse",
             learning_rate=1.0, batch_size=3, dataset={"name": "test-score"}),
        blurb="Three students' hours studied and slept (divided by the column maximum) and their scores "
              "(divided by 100). After training, predict 4 hours studied and 8 slept.",
    ),
    "spiral": Preset(
        "Spiral",
        dict(layers=[6, 8, 8, 8, 1], hidden_activation="tanh", output_activation="tanh", learning_rate=0.03,
             batch_size=10, dataset={"name": "spiral", "features": ["x1", "x2", "x1_sq", "x2_sq", "sin_x1",
                                                                    "sin_x2"]}),
        blurb="Two interleaved spirals: the hard one. Three hidden layers and six input features reach "
              "about 94 % train accuracy in 3,000 steps.",
    ),
    "sine": Preset(
        "Sine wave",
        dict(layers=[1, 8, 8, 1], hidden_activation="tanh", output_activation="linear", learning_rate=0.03,
             batch_size=10, dataset={"name": "sine", "samples": 200, "noise": 0.05}),
        blurb="1-D regression: fit y = sin x from noisy samples with a linear output.",
    ),
}
