"""The README and docs/: every link and image points at a file (and a heading) that exists, the README stays a front
door, and what the documents copy from the code (variables and their defaults, constants, the API walk-through's
answers) is what the code says."""
import json
import re
from inspect import signature
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 200

CODE_BLOCK = re.compile(r"^```.*?^```", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`]*`")  # a code span may run over a line break
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def prose(text: str) -> str:
    """The text without its code blocks and code spans, where a link is only an example."""
    return CODE_SPAN.sub("", CODE_BLOCK.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    found, seen = set(), {}
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", CODE_BLOCK.sub("", text), re.M):
        base = slug(heading)
        n = seen.get(base, 0)
        found.add(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    return found


def broken_links(path: Path, text: str) -> list[str]:
    """The relative links and images of a Markdown file (at `path`) that point at no file, or at no heading."""
    broken = []
    for target in LINK.findall(prose(text)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.is_file():
            broken.append(f"{target}: no file {linked}")
        elif anchor and anchor not in anchors(linked.read_text() if file else text):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    return broken


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_and_image_points_at_a_file_and_heading_that_exist(path):
    assert broken_links(path, path.read_text()) == []


def test_the_link_check_finds_a_missing_file_a_missing_heading_and_skips_code_and_web_links(tmp_path):
    (tmp_path / "other.md").write_text("# Other\n\n## A section's title\n")
    doc = tmp_path / "doc.md"
    doc.write_text(text := ("# Doc\n\n[ok](other.md#a-sections-title) [here](#doc) [web](https://example.com/x.md)\n"
            "`[code](nowhere.md)`\n```\n[block](nowhere.md)\n```\n"
            "[gone](missing.md) ![picture](missing.png) [no heading](other.md#nope) [nor here](#nope)\n"))
    assert [b.split(":")[0] for b in broken_links(doc, text)] == ["missing.md", "missing.png", "other.md#nope",
                                                                 "#nope"]


def test_the_readme_is_a_front_door():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= README_MAX_LINES
    for part in ("make run", "make test", "docs/screenshot.png", "## The folders", "## One Step, file by file"):
        assert part in text, part


def test_the_readmes_map_names_every_package_of_the_app():
    text = (ROOT / "README.md").read_text()
    packages = [p.name for p in (ROOT / "app").iterdir() if (p / "__init__.py").is_file()]
    assert packages and [p for p in packages if f"`app/{p}/`" not in text] == []
    for folder in ("templates", "static", "tests", "bench", "docs"):
        assert f"`{folder}/`" in text and (ROOT / folder).is_dir(), folder


def words(path: str) -> str:
    """A document's text with every run of whitespace one space, so that a phrase may span a line break."""
    return " ".join((ROOT / path).read_text().split())


def test_the_settings_variables_are_the_apps_with_their_defaults():
    from app.settings import Settings

    rows = re.findall(r"^\| `(PLAYGROUND_\w+)` \| `([^`]*)` \|", (ROOT / "docs/operations.md").read_text(), re.M)
    written = dict(rows)
    assert len(written) == len(rows), "a variable listed twice"

    def shown(value) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        return f"{value:g}" if isinstance(value, float) else str(value)

    fields = Settings.model_fields.items()
    assert written == {f"PLAYGROUND_{name.upper()}": shown(info.default) for name, info in fields}


def test_every_variable_the_documents_name_exists():
    from app.settings import Settings

    known = {f"PLAYGROUND_{name.upper()}" for name in Settings.model_fields}
    for path in DOCUMENTS:
        named = set(re.findall(r"PLAYGROUND_[A-Z_]+[A-Z]", path.read_text()))
        assert named <= known, (path.name, named - known)


def seconds_in_words(seconds: float) -> str:
    hours = seconds / 3600
    return "an hour" if hours == 1 else f"{hours:g} hours"


def signed(x: float) -> str:
    """A number as the documents print it: a true minus sign, and 1e-8 rather than 1e-08."""
    return re.sub(r"e(-?)0*(\d)", r"e\1\2", f"{x:g}").replace("-", "−", 1 if x < 0 else 0)


def power(x: float) -> str:
    """A power of ten as the documents print it: 1e-4, 1e9."""
    return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", f"{x:.0e}")


def copied() -> list[tuple[str, str]]:
    """(document, phrase): numbers the documents copy from the code, as the code has them now."""
    from app.api.errors import STORE_RETRY_SECONDS
    from app.core.loss_slice import DEFAULT_POINTS, MAX_POINTS, MIN_POINTS
    from app.core.history import MAX_REPLACED
    from app.core.marking import MIN_DIGITS
    from app.core.session import (EXPLOSION_GROWTH, EXPLOSION_OVER_START, EXPLOSION_WINDOW,
                                  GRADIENT_CHECK_METHOD, MAX_HISTORY, build_session)
    from app.core.recipe import CreateSession
    from app.datasets import DATASETS
    from app.datasets.encoding import BOUNDED_RANGES
    from app.datasets.pipeline import PLANE_DOMAIN
    from app.datasets.tables import MAX_ABS_VALUE
    from app.deps import SNAPSHOT_ID
    from app.engine import TrainConfig
    from app.engine.activations import LEAKY_SLOPE
    from app.engine.gradcheck import DISAGREE, SMALL_GRADIENT, numerical_gradient_4pt
    from app.lessons.content import LESSONS
    from app.live.hub import FOLLOW_INTERVAL
    from app.live.model import ALPHABET, CODE_LENGTH, ENDED_KEPT
    from app.live.service import EXPIRY_CHECK
    from app.live.events import KEPT_EVENTS
    from app.live.streams import RETRY_SECONDS, stream_cap
    from app.quick.costs import step_cost
    from app.ratelimit import ADDRESS_ALLOWANCE, CHEAP_WORK, MAX_DELAY
    from app.settings import Settings
    from app.store.file_locks import WAIT
    from app.store.redis_backend import LOCK_WAIT
    from app.views.matrix_form import MAX_BATCH, MAX_NODES
    from app.views.network import LABELLED_EDGES
    from app.views.output import GRID
    from app.views.worksheet import FOLDED_ROWS
    from app.web.live import JOIN
    from app.web.live_publisher import FRAME_INTERVAL
    from app.web.play_pace import SERVER_SHARE
    from app.web.play_stream import ACK_EVERY, OUTPUT_SECONDS, WINDOW
    from app.web.training import PICTURE_ROWS

    number = {3: "three", 6: "six", 8: "eight"}
    settings = Settings.model_construct()  # the defaults, whatever PLAYGROUND_* variables this process has
    mb = settings.rewind_bytes // 10**6
    h = signature(numerical_gradient_4pt).parameters["h"].default
    default = TrainConfig()
    steps_in_cheap_work = round(CHEAP_WORK / step_cost(build_session(CreateSession()), 1, PICTURE_ROWS), -1)
    charts_js = (ROOT / "static/js/charts.js").read_text()
    output_ms, loss_ms = re.search(r"const OUTPUT_MS = (\d+), LOSS_MS = (\d+);", charts_js).groups()
    assert int(output_ms) == round(OUTPUT_SECONDS * 1000)  # the stream sends the picture as often as the page draws it
    ack_every = re.search(r"const ACK_EVERY = (\d+);", (ROOT / "static/js/transport.js").read_text()).group(1)
    assert int(ack_every) == ACK_EVERY == WINDOW - 1  # the page's words and the server's window agree
    htmx = json.loads((ROOT / "package.json").read_text())["dependencies"]["htmx.org"]
    snapshot_chars = re.fullmatch(r"\^\[A-Za-z0-9_-\]\{(\d+)\}\$", SNAPSHOT_ID).group(1)
    assert WAIT == LOCK_WAIT and not set("01OIL") & set(ALPHABET)
    assert BOUNDED_RANGES["relu"] == BOUNDED_RANGES["sigmoid"]  # "sigmoid and relu 0.1…0.9"
    assert f"h = {power(h)}" in GRADIENT_CHECK_METHOD and f"{power(SMALL_GRADIENT)})" in GRADIENT_CHECK_METHOD
    generated, iris, csv = DATASETS["circle"], DATASETS["iris"], DATASETS["csv"]
    (lo, hi), _ = PLANE_DOMAIN
    return [
        ("docs/page.md", f"last {EXPLOSION_WINDOW} steps it grew {EXPLOSION_GROWTH:g}-fold and stands "
                         f"{EXPLOSION_OVER_START:g} times above where training started"),
        ("docs/page.md", f"beyond {MAX_HISTORY:,} points every other point of the older half goes"),
        ("docs/page.md", f"any of the last {settings.rewind_steps} steps (`PLAYGROUND_REWIND_STEPS`"),
        ("docs/page.md", f"take more than {mb} MB, `PLAYGROUND_REWIND_BYTES`"),
        ("docs/page.md", f"the last {MAX_REPLACED} rebuilt-over networks are kept (fewer when their rewind points "
                         f"together would take more than {mb} MB"),
        ("docs/page.md", f"a layer of up to {LABELLED_EDGES} edges prints every label"),
        ("docs/page.md", f"at most {MAX_NODES} rows and columns of nodes and {MAX_BATCH} batch rows"),
        ("docs/page.md", f"central differences (h = {power(h)})"),
        ("docs/page.md", f"max(|a|, |n|, {power(SMALL_GRADIENT)}), and which parameters (if any) exceed "
                         f"{power(DISAGREE)}"),
        ("docs/page.md", f"{number[len(LESSONS)]} lessons in the seed articles' order"),
        ("docs/page.md", f"folded when there are more than {FOLDED_ROWS}"),
        ("docs/page.md", f"rounded to the significant digits typed, at least {MIN_DIGITS}"),
        ("docs/page.md", f"at most every {output_ms} ms"),
        ("docs/page.md", f"for every {('', '', 'second', 'third', 'fourth')[ACK_EVERY]} frame and whenever"),
        ("docs/page.md", f"keeps at most {('', 'one', 'two', 'three', 'four', 'five')[WINDOW]} frames ahead"),
        ("docs/page.md", f"would take more than {dict([(0.5, 'half')])[SERVER_SHARE]} of a 60 Hz frame"),
        ("docs/page.md", f"at most every {loss_ms} ms"),
        ("docs/page.md", f"htmx {htmx} is pinned"),
        ("docs/live.md", f"a {number[CODE_LENGTH]}-character code (no 0/O or 1/I/L"),
        ("docs/live.md", f"the last {KEPT_EVENTS} per room"),
        ("docs/live.md", f"frames go out at most {1 / FRAME_INTERVAL:g} a second"),
        ("docs/live.md", f"read new events from the file every {FOLLOW_INTERVAL * 1000:g} ms"),
        ("docs/live.md", f"rounded to the significant digits typed, at least {MIN_DIGITS}"),
        ("docs/live.md", f"take a copy of it for {seconds_in_words(ENDED_KEPT)}"),
        ("docs/live.md", f"`PLAYGROUND_LIVE_TTL` seconds (default {seconds_in_words(settings.live_ttl)})"),
        ("docs/live.md", f"within {EXPIRY_CHECK:g} s its followers' pages"),
        ("docs/live.md", f"limited to {JOIN.per_second:g} a second per address with bursts of {JOIN.burst:,.0f}"),
        ("docs/live.md", f"guessing among {len(ALPHABET) ** CODE_LENGTH // 10**6} million codes"),
        ("docs/live.md", f"`PLAYGROUND_MAX_FOLLOWERS_PER_ADDRESS` (default {settings.max_followers_per_address})"),
        ("docs/live.md", f"`PLAYGROUND_MAX_STREAMS_PER_ADDRESS` (default {settings.max_streams_per_address}, a class)"),
        ("docs/live.md", f"three quarters of its open-file limit (`ulimit -n`; {stream_cap(1024)} of the usual 1,024)"),
        ("docs/live.md", f"429 with `Retry-After: {RETRY_SECONDS}`"),
        ("docs/deploy.md", f"A request waits up to {LOCK_WAIT:g} s for a session another request holds"),
        ("docs/deploy.md", f"answers 503 with `Retry-After: {STORE_RETRY_SECONDS}`"),
        ("docs/deploy.md", f"until {settings.rewind_steps} rewind points are kept"),
        ("docs/deploy.md", f"(up to {MAX_HISTORY:,} points"),
        ("docs/operations.md", f"must lie within ±{power(MAX_ABS_VALUE)}"),
        ("docs/operations.md", f"work over it waits (up to {MAX_DELAY:g} s"),
        ("docs/operations.md", f"(`CHEAP_WORK`, about {steps_in_cheap_work:.0f} page Steps of the default network)"),
        ("docs/operations.md", f"beyond {ADDRESS_ALLOWANCE * 1000:g} ms a request, to its address"),
        ("docs/operations.md", f"(they would be up to {mb} MB)"),
        ("docs/operations.md", f"the output picture 3.6 M (its {GRID}×{GRID} grid's forward pass"),
        ("docs/api.md", f"`points` {MIN_POINTS}–{MAX_POINTS}, default {DEFAULT_POINTS}"),
        ("docs/api.md", f"Snapshot ids that are not {snapshot_chars} URL-safe characters"),
        ("docs/engine.md", f"leaky_relu (slope {LEAKY_SLOPE:g})"),
        ("docs/engine.md", f"(defaults β1 {default.beta1:g}, β2 {default.beta2:g}, ε {signed(default.eps)})"),
        ("docs/engine.md", f"Generated sets have {generated.default_samples} samples and a "
                           f"{generated.default_train_fraction * 100:g} % train split by default; iris splits "
                           f"{iris.default_train_fraction * 100:g} %, CSV {csv.default_train_fraction * 100:g} %"),
        ("docs/engine.md", "(tanh {}…{}, sigmoid and relu {}…{})".format(
            *map(signed, BOUNDED_RANGES["tanh"] + BOUNDED_RANGES["sigmoid"]))),
        ("docs/engine.md", f"scaled onto TF's [{signed(lo)}, {signed(hi)}] plane"),
    ]


def test_the_numbers_the_documents_copy_are_the_codes():
    missing = [f"{path}: {phrase!r}" for path, phrase in copied() if phrase not in words(path)]
    assert missing == []


def test_the_security_headers_are_the_apps():
    from app.security import CSP, HEADERS

    text = words("docs/operations.md")
    for part in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"):
        assert part in CSP and part in text, part
    for name, value in HEADERS[1:]:
        title = "-".join(w.capitalize() for w in name.decode().split("-"))
        assert f"`{title}: {value.decode()}`" in text, title


def test_the_engine_document_lists_every_data_set():
    from app.datasets import DATASETS

    text = (ROOT / "docs/engine.md").read_text()
    listed = set(re.findall(r"`([a-z-]+)`", " ".join(re.findall(r"^\| (.+?) \|", text, re.M))))
    assert set(DATASETS) <= listed, set(DATASETS) - listed


def walk_through() -> list[tuple[dict | None, list]]:
    """docs/api.md's first shell block: each command's JSON body (-d), and what its `# ` lines say it prints."""
    block = re.search(r"```sh\n(.*?)```", (ROOT / "docs/api.md").read_text(), re.S).group(1)
    steps = []
    for command in re.split(r"\n(?=curl |ID=)", block)[1:]:
        body = re.search(r"-d '(.*?)'", command, re.S)
        printed = " ".join(line[1:].strip() for line in command.splitlines() if line.startswith("#"))
        steps.append((json.loads(body.group(1)) if body else None, [json.loads(printed)] if printed else []))
    return steps


def test_the_api_walk_through_answers_what_it_shows(client):
    """The walk's commands, sent in process: each prints what the document says it does."""
    from app.core.presets import PRESETS

    (create, _), (_, read), (step, stepped), (rewind, rewound), (predict, predicted) = walk_through()
    assert create == PRESETS["mazur"].config  # the page's preset, so the numbers are the article's
    api = "/api/sessions"
    sid = client.post(api, json=create).json()["id"]
    state = client.get(f"{api}/{sid}").json()
    assert read == [{"step": state["step"], "loss": state["loss"]}]
    trace = client.post(f"{api}/{sid}/step", json=step).json()["trace"]
    assert stepped == [{"loss_before": trace["loss_before"], "out_h1": trace["a"][1][0][0],
                        "delta_o1": trace["delta"][1][0][0], "grad_w5": trace["grad_weights"][1][0][0],
                        "w5": trace["weights_after"][1][0][0]}]
    state = client.post(f"{api}/{sid}/rewind", json=rewind).json()
    assert rewound == [{"step": state["step"], "redo_steps": state["redo_steps"]}]
    assert predicted == [client.post(f"{api}/{sid}/predict", json=predict).json()["outputs"]]
