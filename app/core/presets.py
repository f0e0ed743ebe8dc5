"""Worked examples, each a link: /?preset=NAME."""
from dataclasses import dataclass

from app.core.page_state import PageState
from app.core.recipe import CreateSession


@dataclass(frozen=True)
class Preset:
    title: str
    config: dict
    detailed: bool = False  # open in detailed-step mode, one phase per click
    blurb: str = ""
    page: PageState | None = None  # the page state it opens with (an exercise's)

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
              "0.15 … 0.55, biases 0.35 and 0.60 (never updated), learning rate 0.5. Step through the five phases "
              "as the article does: the forward pass gives out_o1 = 0.75137 and E_total = 0.29837, the backward "
              "pass δ_o1 = 0.13850 and ∂E/∂w5 = 0.082167, and the update moves w5 from 0.4 to 0.35892 and w1 from "
              "0.15 to 0.14978. Then try Play: by step 10,000 E_total is 0.000035102, close to the article's "
              "0.0000351085.",
    ),
    "chain-rule": Preset(
        "The chain rule through a linear 2-3-1 network",
        dict(layers=[2, 3, 1], hidden_activation="linear", output_activation="linear", loss="mse",
             learning_rate=0.01, batch_size=1,
             weights=[[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], [[0.1, 0.2, 0.3]]], biases=[[0.0, 0.0, 0.0], [0.0]],
             dataset={"name": "chain-rule"}),
        detailed=True,
        blurb="The article's 2-3-1 network with identity activations and squared error C = (a³₁ − y)² "
              "(mse). It gives no numbers, so these are small round ones: x₁ = 1, x₂ = 2, y = 1; w¹₁₁, w¹₁₂, "
              "w¹₂₁, … = 0.1 … 0.6 into h1–h3 (its a²₁–a²₃); w²₁₁, w²₁₂, w²₁₃ = 0.1, 0.2, 0.3; biases 0; "
              "learning rate 0.01. Step through the phases: the output is 0.78, so ∂C/∂a³₁ = 2 × (0.78 − 1) = "
              "−0.44, and every activation's slope is 1. Each weight's gradient is the product of the factors "
              "along its path: ∂C/∂w¹₁₁ = −0.44 × 1 × w²₁₁ (0.1) × 1 × x₁ (1) = −0.044 (click the edge x1 → h1), "
              "∂C/∂w²₁₁ = −0.44 × 1 × a²₁ (0.5) = −0.22. Then try Play: by step 20 the output is 0.98728.",
    ),
    "xor": Preset(
        "XOR",
        dict(layers=[2, 2, 1], hidden_activation="sigmoid", output_activation="sigmoid", loss="half_sse",
             learning_rate=2.0, batch_size=4, seed=1, dataset={"name": "xor-table"}),
        blurb="The XOR truth table on a 2-2-1 sigmoid network, all four rows per step. Play: the loss sits on a "
              "plateau near 0.125 for about 1,800 steps before the hidden units split the problem; by step 2,250 "
              "all four rows are right, and by step 3,000 the loss is 0.0020. Then try clicking each hidden "
              "node: its heatmap shows the line it draws across the square.",
    ),
    "test-score": Preset(
        "Test score from hours studied and slept",
        dict(layers=[2, 3, 1], hidden_activation="sigmoid", output_activation="sigmoid", loss="half_sse",
             learning_rate=10.0, batch_size=1, shuffle=False,
             weights=[[[0.2, 0.8], [0.6, 0.3], [0.1, 0.7]], [[0.4, 0.5, 0.9]]], biases=[[0.0, 0.0, 0.0], [0.0]],
             dataset={"name": "test-score"}),
        blurb="The tutorial's network on raw hours: weights .2 .6 .1 (from hours studied) and .8 .3 .7 (from "
              "hours slept) into h1–h3, .4 .5 .9 out, no biases, scores divided by 100. Step once: the forward "
              "pass on 2 hours studied and 9 slept gives 0.85675, the article's \".85\", against a score of 0.92. "
              "Raw hours push the hidden sigmoids to their flat ends (h1 = 0.99950, slope 0.00050), so their "
              "weights learn slowly: hence a learning rate of 10, one student per step in the table's order. "
              "Then try Play: the loss falls every epoch, and by step 3,000 the network gives 0.91981, 0.85995 "
              "and 0.89000 for the scores 0.92, 0.86 and 0.89, and Predict gives 0.91349 for 4 hours studied "
              "and 8 slept.",
    ),
    "house-price": Preset(
        "House prices in dollars",
        dict(layers=[2, 2, 1], hidden_activation="tanh", output_activation="linear", loss="half_sse",
             learning_rate=0.1, batch_size=1, shuffle=False, weights=[[[0.5, -0.3], [0.2, 0.4]], [[0.0, 0.0]]],
             biases=[[0.0, 0.0], [0.0]], dataset={"name": "house-price"}),
        blurb="Twelve houses, size and rooms to price, in dollars; the network sees them standardised, and "
              "everything you read is in dollars. Its output weights start at zero, so it guesses the mean "
              "price, $150,000, for every house: Step once, and the first house, worth $100,000, is predicted at "
              "$150,000, an error of $50,000. Play: the RMSE falls from $49,015 to $7,079 by step 120 and $4,519 "
              "by step 600, a few percent of a price. Then predict a 100 m² house with 3 rooms (the prices' own "
              "rule says $135,000). Try a learning rate of 1: each step overshoots further, and the loss explodes.",
    ),
    "spiral": Preset(
        "Spiral",
        dict(layers=[6, 8, 8, 8, 1], hidden_activation="tanh", output_activation="tanh", learning_rate=0.03,
             batch_size=10, dataset={"name": "spiral", "features": ["x1", "x2", "x1_sq", "x2_sq", "sin_x1",
                                                                    "sin_x2"]}),
        blurb="Two interleaved spirals: the hard one. Three hidden layers and six input features reach 94 % "
              "train accuracy by step 3,000, and 100 % (99.2 % on the test rows) by step 5,000. Then try the raw "
              "inputs alone: untick all features but x₁ and x₂, and the same network has 64 % by step 3,000.",
    ),
    "sine": Preset(
        "Sine wave",
        dict(layers=[1, 8, 8, 1], hidden_activation="tanh", output_activation="linear", learning_rate=0.03,
             batch_size=10, dataset={"name": "sine", "samples": 200, "noise": 0.05}),
        blurb="1-D regression: fit y = sin x from 200 noisy samples with a linear output. Play: the test loss "
              "is 0.013 by step 2,000 and 0.0034 by step 10,000. Then try linear hidden activations: the network "
              "can only draw a straight line, and the test loss stays at 0.106.",
    ),
}
