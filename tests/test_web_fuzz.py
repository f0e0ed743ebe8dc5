"""Fuzzing the page's forms, which the OpenAPI schema (tests/test_api_fuzz.py) does not describe: whatever a CSV
upload or the controls form carries, the answer is 200 with the panels, never a 5xx; a refusal is said inline and
changes nothing; an accepted change still draws a page. Bounded and derandomized, like the schema fuzzing."""
import html
import os
import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app.datasets import DATASETS
from app.main import create_app
from app.settings import get_settings
from helpers import HX

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 40))
ALERT = re.compile(r'<p class="field-error"[^>]*role="alert">([^<]*)</p>')
MESSAGE = re.compile(r'<p class="message error"[^>]*>([^<]*)<')
# No shrinking: a failing case is reported as found (shrinking one takes minutes of page renders).
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))

huge = st.sampled_from(["1e308", "-1e308", "1.7e308", "1e-320", "-0", "1e9", "1e10", "123456789012"])
numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-10**12, 10**12).map(str),
    huge,
)
odd_numbers = st.one_of(numbers, st.sampled_from(["NaN", "inf", "1_000", "0x10", "١", " 2 ", "1,5", ""]))
cells = st.one_of(numbers, numbers, numbers, huge, st.text(max_size=6), st.just(""))
names = st.one_of(st.sampled_from(["a", "b", "c", "y", "label"]), st.text(min_size=1, max_size=12),
                  st.sampled_from(["=cmd|' /C calc'!A0", "<script>x</script>", "a&b", "\u202e", "x,y"]))


@st.composite
def tables(draw) -> bytes:
    """Well-formed tables: safe unique names, rectangular rows of numbers of every size or class labels."""
    width = draw(st.integers(2, 4))
    header = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "y"]), min_size=width, max_size=width, unique=True))
    label = st.integers(0, draw(st.integers(1, 70))).map(str)  # the last column: a class label or a number
    row = st.tuples(st.lists(numbers, min_size=width - 1, max_size=width - 1), st.one_of(label, numbers))
    rows = [[*inputs, last] for inputs, last in draw(st.lists(row, min_size=1, max_size=10))]
    return ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode()


@st.composite
def hostile_files(draw) -> bytes:
    """Odd names, cells, row lengths and bytes."""
    width = draw(st.integers(1, 4))
    header = draw(st.lists(names, min_size=width, max_size=width))
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=width + 1), max_size=8))
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    return text.encode("utf-8", "surrogatepass") + draw(st.sampled_from([b"", b"\xff\xfe", b"\r\n1,2\r\n"]))


tasks = st.sampled_from(["regression", "classification"])
# (file, targets, task): mostly a table with the default target (the last column) and a real task.
uploads = st.one_of(
    st.tuples(tables(), st.just(""), tasks),
    st.tuples(tables(), st.sampled_from(["a", "y", "a,b", "y,a"]), tasks),
    st.tuples(hostile_files(), st.one_of(st.just(""), names), st.one_of(tasks, st.text(max_size=12))),
)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """One browser's session on an app without rate limits (the fuzzer presses far faster than a person)."""
    s = get_settings()
    scale, s.rate_limit_scale = s.rate_limit_scale, 0.0
    try:
        with TestClient(create_app(f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/s.db")) as c:
            c.get("/")
            yield c
    finally:
        s.rate_limit_scale = scale


def everything(c: TestClient) -> tuple[dict, dict]:
    sid = c.cookies["bp_session"]
    return c.get(f"/api/sessions/{sid}").json(), c.get(f"/api/sessions/{sid}/export").json()


def check(c: TestClient, r, before) -> None:
    assert r.status_code == 200, r.text[:300]
    assert "Traceback" not in r.text and "<script>x" not in r.text
    alerts = [html.unescape(a) for a in ALERT.findall(r.text) + MESSAGE.findall(r.text)]
    if alerts:
        assert all(a.strip() for a in alerts), alerts
        assert everything(c) == before, alerts
    assert c.get("/").status_code == 200


@FUZZ
@given(upload=uploads)
def test_any_csv_upload_is_loaded_or_refused_inline(page, upload):
    data, targets, task = upload
    before = everything(page)
    r = page.post("/ui/upload", headers=HX, files={"file": ("f.csv", data, "text/csv")},
                  data={"targets": targets, "task": task})
    check(page, r, before)
    assert ALERT.search(r.text) or "Loaded f.csv" in r.text


CONTROLS = {
    "learning_rate": odd_numbers, "batch_size": odd_numbers, "momentum": odd_numbers,
    "regularization_rate": odd_numbers, "seed": odd_numbers, "samples": odd_numbers, "noise": odd_numbers,
    "train_percent": odd_numbers,
    "hidden_activation": st.sampled_from(["tanh", "relu", "sigmoid", "linear", "swish", ""]),
    "output_activation": st.sampled_from(["tanh", "sigmoid", "softmax", "linear", "relu", "x"]),
    "loss": st.sampled_from(["half_sse", "mse", "bce", "cross_entropy", "hinge"]),
    "optimizer": st.sampled_from(["sgd", "momentum", "adam", "rmsprop"]),
    "regularization": st.sampled_from(["none", "l1", "l2", "l3"]),
    "init": st.sampled_from(["uniform", "xavier", "he", "zeros", "ones"]),
    "dataset": st.sampled_from([*sorted(DATASETS), "mnist", "<b>"]),
}


@FUZZ
@given(form=st.fixed_dictionaries({}, optional=CONTROLS))
def test_any_controls_form_is_applied_or_refused_inline(page, form):
    before = everything(page)
    r = page.post("/ui/config", headers=HX, data=form)
    check(page, r, before)
    back = page.post("/ui/config", headers=HX, data={"dataset": "circle"})  # a small network for the next case
    assert back.status_code == 200 and not ALERT.search(back.text)
