"""A learner who reads only the page (issue 23): the worksheet's givens (data-given, data-value and where each belongs)
and the setup's names, never the expected values. It works every asked quantity by the chain rule, types it at 3, 6
and 10 significant digits, and is marked right: for the focus row and for the batch, on an output edge, a hidden
edge, a hidden node and an output's bias, on the default circle, XOR, iris and Mazur."""
import math
import re
from html import unescape

import pytest

from helpers import HX

SETUPS = {
    "circle": "/",  # 2-4-2-1 tanh, batch 10
    "xor": "/?dataset=xor-table&layers=2,2,1&activation=sigmoid&output=sigmoid&loss=bce&batch=4",
    "iris": "/?dataset=iris&activation=relu&output=softmax&loss=cross_entropy&batch=5",
    "mazur": "/?preset=mazur",
    "momentum": "/?optimizer=momentum&momentum=0.9&regularization=l2&reg_rate=0.01",
    "adam": "/?optimizer=adam&lr=0.01",
}
F = {"sigmoid": lambda z: 1 / (1 + math.exp(-z)), "tanh": math.tanh, "relu": lambda z: max(z, 0.0),
     "linear": lambda z: z}
DF = {"sigmoid": lambda z, a: a * (1 - a), "tanh": lambda z, a: 1 - a * a, "relu": lambda z, a: float(z > 0),
      "linear": lambda z, a: 1.0}


def givens(html: str) -> list[dict]:
    out = []
    for attrs in re.findall(r"<dd (data-given=[^>]*)>", html):
        item = dict(re.findall(r'data-([\w-]+)="([^"]*)"', attrs))
        item["value"] = float(item["value"])
        out.append(item)
    return out


def inputs(html: str) -> list[dict]:
    return [dict(re.findall(r'data-([\w-]+)="([^"]*)"', attrs))
            for attrs in re.findall(r"<input id=\"ws-\d+\"([^>]*)>", html)]


def one(found: list[dict], given: str, **where) -> float:
    hits = [g["value"] for g in found if g["given"] == given and all(g.get(k) == str(v) for k, v in where.items())]
    assert len(hits) == 1, (given, where, hits)
    return hits[0]


def every(found: list[dict], given: str, **where) -> list[dict]:
    return [g for g in found if g["given"] == given and all(g.get(k) == str(v) for k, v in where.items())]


def work(html: str, target: tuple, cfg: dict) -> dict[str, float]:
    """The learner's numbers, by input key, from the worksheet's givens and the chain rule alone."""
    g = givens(html)
    kind = target[0]
    if kind == "edge":
        _, wl, source, j = target
        layer = wl + 1
    else:
        _, layer, j = target
    out_layer = len(cfg["layers"]) - 1
    prev = every(g, "a", layer=layer - 1)
    z = sum(one(g, "w", layer=layer - 1, **{"from": p["index"]}, to=j) * p["value"] for p in prev)
    z += one(g, "b", layer=layer, index=j)
    act = cfg["output_activation"] if layer == out_layer else cfg["hidden_activation"]
    values = {}
    if act == "softmax":
        zs = {int(x["index"]): x["value"] for x in every(g, "z", layer=layer)} | {j: z}
        top = max(zs.values())
        a = math.exp(z - top) / sum(math.exp(v - top) for v in zs.values())
    else:
        a = F[act](z)
    values["z"], values["a"] = z, a
    if layer == out_layer:
        t = one(g, "t", layer=layer, index=j)
        k = len(every(g, "t"))
        loss = cfg["loss"]
        values["loss_term"] = {"half_sse": lambda: 0.5 * (t - a) ** 2, "mse": lambda: (t - a) ** 2 / k,
                               "bce": lambda: -(t * math.log(a) + (1 - t) * math.log(1 - a)),
                               "cross_entropy": lambda: -t * math.log(a)}[loss]()
        if (loss, act) in (("bce", "sigmoid"), ("cross_entropy", "softmax")):
            delta = a - t
        else:
            values["dloss_da"] = {"half_sse": a - t, "mse": 2 / k * (a - t)}[loss]
            values["dact"] = DF[act](z, a)
            delta = values["dloss_da"] * values["dact"]
    else:
        values["wdelta"] = sum(one(g, "w_next", layer=layer, **{"from": j}, to=d["index"]) * d["value"]
                               for d in every(g, "delta_next", layer=layer + 1))
        values["dact"] = DF[act](z, a)
        delta = values["wdelta"] * values["dact"]
    values["delta"] = delta
    if kind == "edge":
        row_grad = delta * one(g, "a", layer=layer - 1, index=source)
        old = one(g, "w", layer=layer - 1, **{"from": source}, to=j)
    else:
        row_grad, old = delta, one(g, "b", layer=layer, index=j)
    values["row_grad"] = row_grad
    rows = every(g, "row_grad")
    mean = sum(r["value"] for r in rows) / len(rows) if rows else row_grad
    values["mean"] = mean
    grad = mean + sum(r["value"] for r in every(g, "reg_grad"))
    lr = one(g, "lr")
    if cfg["optimizer"] == "momentum":
        v = one(g, "momentum") * one(g, "velocity") + grad
        values["after"] = old - lr * v
    elif cfg["optimizer"] == "adam":
        b1, b2, eps, steps = one(g, "beta1"), one(g, "beta2"), one(g, "eps"), one(g, "adam_t") + 1
        m = one(g, "adam_m") + (1 - b1) * (grad - one(g, "adam_m"))
        v = b2 * one(g, "adam_v") + (1 - b2) * grad * grad
        values["after"] = old - lr * (m / (1 - b1 ** steps)) / (math.sqrt(v) / math.sqrt(1 - b2 ** steps) + eps)
    else:
        values["after"] = old - lr * grad
    if kind == "node" and "Train biases is off: the bias keeps its value." in html:
        values["after"] = old
    typed = {}
    for box in inputs(html):
        q, row = box["quantity"], box["row"]
        if q in ("grad_weight", "grad_bias"):
            typed[box["key"]] = values["row_grad" if row != "mean" else "mean"]
        elif q in ("weight_after", "bias_after"):
            typed[box["key"]] = values["after"]
        else:
            typed[box["key"]] = values[q]
    return typed


def targets(cfg: dict) -> list[tuple]:
    out = len(cfg["layers"]) - 1
    return [("edge", out - 1, 0, 0),  # into an output
            ("edge", 0, 1, 0),  # into the first hidden layer
            ("node", 1, 0),  # a hidden node: its chain, then its bias
            ("node", out, 0)]  # an output's bias


def open_sheet(client, target: tuple):
    if target[0] == "edge":
        data = {"kind": "edge", "layer": str(target[1]), "from": str(target[2]), "to": str(target[3])}
    else:
        data = {"kind": "node", "layer": str(target[1]), "to": str(target[2])}
    client.post("/ui/inspect", data=data, headers=HX)
    return client.post("/ui/worksheet", data=data, headers=HX).text


@pytest.mark.parametrize("name", SETUPS)
def test_a_learner_who_reads_only_the_page_is_marked_right(client, name):
    client.get(SETUPS[name])
    client.post("/ui/detailed", headers=HX, data={})  # plain steps
    client.post("/ui/step", headers=HX)
    cfg = client.get(f"/api/sessions/{client.cookies['bp_session']}").json()["config"]
    batch = min(cfg["batch_size"], 150)
    for row in sorted({0, batch - 1}):
        client.post("/ui/focus-row", headers=HX, data={"row": str(row)})
        for target in targets(cfg):
            html = unescape(open_sheet(client, target))
            assert f'data-batch-row="{row}"' in html
            typed = work(html, target, cfg)
            assert len(typed) >= 4
            for digits in (3, 6, 10):
                answer = client.post("/ui/worksheet/check", headers=HX,
                                     data={f"q:{k}": f"{v:.{digits}g}" for k, v in typed.items()}).text
                marks = re.findall(r'data-key="([^"]+)" data-row="[^"]+" data-correct="(\w+)"', answer)
                assert len(marks) == len(typed) and all(m == "true" for _, m in marks), (target, digits, marks)
