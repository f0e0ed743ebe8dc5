"""A light frame's diagram patch (app/views/diagram_patch.py) is exactly the redraw: the diagram's markup at state A,
patched to state B the way static/js/diagram_patch.js patches it, is B's markup (as a tree: tags, attributes and
text). The reference applier below follows the script's rules and reads its EDGE/NODE index tables from the script
itself, so that the Python values and the script's reading of them cannot drift apart unseen."""
import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.core.detailed_step import DetailedStep
from app.core.recipe import CreateSession
from app.core.session import build_session
from app.views import network
from app.views.diagram_patch import Drawn, patch, reset
from app.views.network_svg import edge_values, label_inner, node_values
from app.views.numbers import exact
from app.views.shown import from_phase, from_step
from app.web.render import templates

SCRIPT = Path(__file__).resolve().parent.parent / "static" / "js" / "diagram_patch.js"


def _index_table(name: str) -> dict[str, int]:
    """The script's `const NAME = { key: index, ... }`."""
    body = re.search(rf"const {name} = \{{(.*?)\}};", SCRIPT.read_text(), re.S)[1]
    return {key: int(index) for key, index in re.findall(r"(\w+): (\d+)", body)}


EDGE, NODE = _index_table("EDGE"), _index_table("NODE")
PICTURES = re.search(r'const PICTURES = "([\w-]+)";', SCRIPT.read_text())[1]


# ---------------------------------------------------------------------------------------------------------------
# A small DOM: what the browser's HTML parser makes of the markup, enough for the patch's rules

class El:
    def __init__(self, tag: str, attrs: dict):
        self.tag, self.attrs, self.children = tag, attrs, []
        self.values: list | None = None  # the script's el.__values: the values last set by a patch

    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def walk(self):
        yield self
        for child in self.children:
            if isinstance(child, El):
                yield from child.walk()

    def find(self, tag: str, cls: str | None = None) -> "El | None":
        """querySelector(tag.cls) among the descendants."""
        return next((el for el in self.walk() if el is not self and el.tag == tag
                     and (cls is None or cls in el.classes())), None)

    def by_id(self, id_: str) -> "El | None":
        return next((el for el in self.walk() if el.attrs.get("id") == id_), None)

    def set(self, name: str, value) -> None:
        """setAttribute, or removeAttribute for null (the script's attr())."""
        if value is None:
            self.attrs.pop(name, None)
        else:
            self.attrs[name] = str(value)


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = El("#root", {})
        self.open = [self.root]

    def handle_starttag(self, tag, attrs):
        el = El(tag, {k: "" if v is None else v for k, v in attrs})
        self.open[-1].children.append(el)
        self.open.append(el)

    def handle_startendtag(self, tag, attrs):
        self.open[-1].children.append(El(tag, {k: "" if v is None else v for k, v in attrs}))

    def handle_endtag(self, tag):
        while len(self.open) > 1:
            if self.open.pop().tag == tag:
                break

    def handle_data(self, data):
        self.open[-1].children.append(data)


def parse(markup: str) -> El:
    builder = _Builder()
    builder.feed(markup)
    builder.close()
    return builder.root


def svg_of(markup: str) -> El:
    svg = parse(markup).by_id("network")
    assert svg is not None and svg.tag == "svg"
    return svg


def canonical(el: El) -> tuple:
    """Tag, sorted attributes, and the children: elements, and text that is not only whitespace."""
    children = tuple(canonical(c) if isinstance(c, El) else c.strip() for c in el.children
                     if isinstance(c, El) or c.strip())
    return el.tag, tuple(sorted(el.attrs.items())), children


# ---------------------------------------------------------------------------------------------------------------
# The reference applier: static/js/diagram_patch.js's rules, step by step

def _inner_html(el: El, markup: str) -> None:
    el.children = parse(markup).children


def _diff(el: El, values: list):
    old = el.values or []
    el.values = values
    return lambda i: i >= len(old) or old[i] != values[i]


def _common(g: El, v: list, diff, K: dict) -> None:
    if diff(K["cls"]):
        g.set("class", v[K["cls"]])
    if diff(K["text"]):
        g.set("aria-label", v[K["text"]])
        title = g.find("title")
        if title is not None:
            title.children = [v[K["text"]]]  # textContent
    if diff(K["selected"]):
        g.set("aria-current", "true" if v[K["selected"]] else None)


def _patch_edge(g: El, v: list) -> None:
    diff = _diff(g, v)
    _common(g, v, diff, EDGE)
    for name, key in (("data-weight", "weight"), ("data-grad", "grad"), ("data-change", "change"),
                      ("data-weight-before", "before")):
        if diff(EDGE[key]):
            g.set(name, v[EDGE[key]])
    if diff(EDGE["halo"]):
        halo = g.find("path", "halo")
        if v[EDGE["halo"]] is None:
            if halo is not None:
                g.children.remove(halo)
        else:
            if halo is None:
                hit = g.find("path", "hit")
                halo = El("path", {"class": "halo", "d": hit.attrs["d"]})
                g.children.insert(g.children.index(hit), halo)
            halo.set("stroke-width", v[EDGE["halo"]])
    if diff(EDGE["color"]) or diff(EDGE["width"]):
        line = g.find("path", "line")
        line.set("stroke", v[EDGE["color"]])
        line.set("stroke-width", v[EDGE["width"]])
    if diff(EDGE["labelCls"]) or diff(EDGE["label"]):
        label = g.find("text", "num")
        label.set("class", v[EDGE["labelCls"]])
        _inner_html(label, v[EDGE["label"]])


def _patch_node(g: El, v: list) -> None:
    diff = _diff(g, v)
    _common(g, v, diff, NODE)
    for name, key in (("data-activation", "activation"), ("data-z", "z"), ("data-delta", "delta"),
                      ("data-bias", "bias"), ("data-bias-before", "before"), ("data-target", "target")):
        if diff(NODE[key]):
            g.set(name, v[NODE[key]])
    if diff(NODE["ring"]) or diff(NODE["ringWidth"]):
        ring = g.find("rect", "ring")
        ring.set("stroke", v[NODE["ring"]])
        ring.set("stroke-width", v[NODE["ringWidth"]])
    if diff(NODE["lines"]):
        _set_lines(g.find("text", "lines"), v[NODE["lines"]])


def _set_lines(text: El | None, lines: list | None) -> None:
    """setLines: the <tspan>s kept and their text set; a line more is a copy of the first, a line fewer goes."""
    if text is None or not lines:
        return
    spans = [c for c in text.children if isinstance(c, El)]
    model = spans[0]
    while len(spans) < len(lines):
        spans.append(El(model.tag, dict(model.attrs)))
    spans = spans[:len(lines)]
    for span, (cls, words) in zip(spans, lines):
        span.set("class", cls)
        span.children = [words]
    text.children = spans


def apply_patch(svg: El, changes: dict) -> bool:
    """applyPatch(patch) on the page's #network; False when it draws another structure. The patch goes through
    JSON first, as it reaches the page."""
    changes = json.loads(json.dumps(changes))
    if svg.attrs.get("data-structure") != changes["structure"]:
        return False
    step, row, batch_row, batch_size, cls = changes["svg"]
    svg.set("data-step", step)
    svg.set("class", cls)
    svg.set("data-row", row)
    svg.set("data-batch-row", batch_row)
    svg.set("data-batch-size", batch_size)
    svg.set("aria-label", f"Network diagram at step {step}")
    for id_, values in changes["edges"].items():
        if (g := svg.by_id(id_)) is not None:
            _patch_edge(g, values)
    for id_, values in changes["nodes"].items():
        if (g := svg.by_id(id_)) is not None:
            _patch_node(g, values)
    if changes.get("pictures") and (pictures := svg.by_id(PICTURES)) is not None:
        pictures.set("href", changes["pictures"])
    return True


# ---------------------------------------------------------------------------------------------------------------
# Diagrams of sessions

def markup(d) -> str:
    """The <svg id="network"> as the page draws it (templates/partials/diagram.html)."""
    return templates.env.get_template("partials/diagram.html").render(diagram=d, parts_oob=False)


def at_step(session, focus: int = 0, selected: tuple | None = None, detailed: bool = False):
    return network.build(session, from_step(session), detailed, focus, selected)


def redrawn(d, **changes):
    """`d` with some of its edges or nodes replaced: its markup is drawn from them."""
    return replace(d, **changes)


def phases(session, clicks: int, focus: int = 0) -> list:
    """The diagram after each of `clicks` clicks of the detailed step."""
    step, seen = DetailedStep(), []
    for _ in range(clicks):
        step, _ = step.advance(session)
        seen.append(network.build(session, from_phase(session, step.phase, step.layer, step.trace), True, focus))
    return seen


def check_redraw(before, after, svg: El | None = None, drawn: Drawn | None = None) -> tuple[El, Drawn, dict]:
    """Patch `before`'s markup (or the page `svg` that was patched to it) to `after` and compare with `after`'s
    markup; returns the page, what the server holds of it and the patch."""
    assert before.structure == after.structure
    if svg is None:
        svg = svg_of(markup(before))
        drawn = Drawn()
        reset(before, drawn)
    changes = patch(after, drawn)
    assert changes is not None and changes["structure"] == after.structure
    assert apply_patch(svg, changes)
    assert canonical(svg) == canonical(svg_of(markup(after)))
    return svg, drawn, changes


def changed_ids(before, after) -> tuple[set, set]:
    """The edges and nodes whose values differ, worked out from the value functions alone."""
    edges = {e.id for e, f in zip(before.edges, after.edges, strict=True) if edge_values(e) != edge_values(f)}
    nodes = {n.id for n, m in zip(before.nodes, after.nodes, strict=True) if node_values(n) != node_values(m)}
    return edges, nodes


DEFAULT = CreateSession(seed=3)
SINE = CreateSession(seed=3, dataset={"name": "sine"}, output_activation="linear", loss="mse", layers=[1, 4, 1])


# ---------------------------------------------------------------------------------------------------------------
# The patch is the redraw

def test_steps_of_the_default_network():
    session = build_session(DEFAULT)
    step0 = at_step(session)
    session.train(1)
    step1 = at_step(session)
    # The first step from the initial weights (no pass kept) is a patch too: its values and what the picture shows.
    svg, _, changes = check_redraw(step0, step1)
    assert changes["svg"] == [1, step1.row, 0, 10, "diagram kind-step"]
    assert svg.attrs["class"] == "diagram kind-step" and svg.attrs["data-batch-size"] == "10"
    assert set(changes["edges"]) == {e.id for e in step1.edges} and set(changes["nodes"]) == {n.id for n in step1.nodes}
    session.train(4)
    step5 = at_step(session)
    session.train(1)
    step6 = at_step(session)
    svg, drawn, changes = check_redraw(step1, step5)
    assert changes["svg"] == [5, step5.row, 0, 10, "diagram kind-step"]
    assert (set(changes["edges"]), set(changes["nodes"])) == changed_ids(step1, step5)
    assert changes["edges"] and changes["nodes"]
    check_redraw(step5, step6, svg, drawn)  # a page patched twice (the script remembers what it set)
    check_redraw(step6, step1, svg, drawn)  # and back to step 1's values, on the same page


def test_each_phase_of_a_detailed_step():
    """Each phase at step 1, then at step 2 and 3, and the backward phase layer by layer: the hidden layer's deltas
    and gradients arrive in place, and its labels turn "always" shown. Mazur's 2-2-2 example, where every layer's
    edges are labelled."""
    from helpers import mazur_setup
    session = build_session(CreateSession(**mazur_setup()))
    first = phases(session, 5)  # forward, loss, backward ×2, update
    second = phases(session, 5)
    third = phases(session, 5)
    kinds = [d.kind for d in first]
    assert kinds == ["forward", "loss", "backward", "backward", "update"]
    for one, two in zip(first, second):
        check_redraw(one, two)  # each phase at step 1, then at step 2
    # One page through every phase of two steps: each phase's class (the forward phase's numbers appear by it).
    svg, drawn, changes = check_redraw(first[0], first[1])
    assert changes["svg"][4] == "diagram kind-loss"
    for before, after in zip(first[1:] + second[:-1], first[2:] + second):
        svg, drawn, changes = check_redraw(before, after, svg, drawn)
        assert svg.attrs["class"] == f"diagram kind-{after.kind}"
    # Backward, layer by layer: the hidden layer's deltas and gradients arrive in place.
    svg, drawn, changes = check_redraw(first[2], first[3])
    assert any(" always" in v[EDGE["labelCls"]] for v in changes["edges"].values())
    assert changes["nodes"]
    svg, drawn, _ = check_redraw(first[4], second[4])
    check_redraw(second[4], third[4], svg, drawn)


def test_a_halo_is_added_and_removed_by_the_patch():
    session = build_session(DEFAULT)
    session.train(1)
    a = at_step(session)
    b = redrawn(a, edges=[replace(e, changed=not e.changed) for e in a.edges])
    assert {e.id for e in a.edges if e.changed} and {e.id for e in b.edges if e.changed}
    svg, drawn, changes = check_redraw(a, b)
    assert set(changes["edges"]) == {e.id for e in a.edges}
    check_redraw(b, a, svg, drawn)


def test_the_inspectors_selection_of_a_node_and_of_an_edge():
    session = build_session(DEFAULT)
    session.train(3)
    plain = at_step(session)
    node = at_step(session, selected=("node", 1, None, 2))
    edge = at_step(session, selected=("edge", 1, 3, 0))
    assert node.structure == edge.structure == plain.structure
    svg, drawn, changes = check_redraw(plain, node)
    assert (changes["edges"], set(changes["nodes"])) == ({}, {"node-1-2"})  # only what changed is sent
    assert svg.by_id("node-1-2").attrs["aria-current"] == "true"
    svg, drawn, changes = check_redraw(node, edge, svg, drawn)
    assert (set(changes["edges"]), set(changes["nodes"])) == ({"edge-1-3-0"}, {"node-1-2"})
    assert "aria-current" not in svg.by_id("node-1-2").attrs
    check_redraw(edge, plain, svg, drawn)


def test_a_focus_row_changes_the_nodes_and_the_rows_not_the_edges():
    session = build_session(DEFAULT)
    session.train(2)
    first, fourth = at_step(session, focus=0), at_step(session, focus=3)
    svg, _, changes = check_redraw(first, fourth)
    assert changes["edges"] == {} and changes["nodes"]
    assert changes["svg"] == [2, fourth.row, 3, 10, "diagram kind-step"] and fourth.row != first.row
    assert svg.attrs["data-row"] == str(fourth.row) and svg.attrs["data-batch-row"] == "3"


def test_a_regression_set_without_two_inputs_has_no_heatmaps():
    session = build_session(SINE)
    session.train(1)
    a = at_step(session)
    session.train(7)
    b = at_step(session)
    assert b.pictures is None and all(n.picture is None for n in b.nodes)
    svg, _, changes = check_redraw(a, b)
    assert "pictures" not in changes and svg.by_id(PICTURES) is None
    for before, after in zip(phases(session, 4, focus=2), phases(session, 4, focus=2)):
        check_redraw(before, after)


def test_heatmaps_change_in_place():
    session = build_session(DEFAULT)
    session.train(1)
    a = at_step(session)
    session.train(30)
    b = at_step(session)
    svg, drawn, changes = check_redraw(a, b)
    assert changes["pictures"] == b.pictures != a.pictures  # one image for every node, set in place
    assert svg.by_id(PICTURES).attrs["href"] == b.pictures
    _, _, again = check_redraw(b, b, svg, drawn)
    assert "pictures" not in again  # nothing changed: not re-sent


def test_the_patch_is_what_the_page_holds_after_a_missed_element():
    """An element the page does not have (drawn by another version of the page) is skipped, not an error; the
    rest is applied."""
    session = build_session(DEFAULT)
    session.train(1)
    a = at_step(session)
    session.train(1)
    b = at_step(session)
    svg = svg_of(markup(a))
    edges = svg.find("g", "edges")
    gone = edges.by_id("edge-0-0-0")
    edges.children.remove(gone)
    drawn = Drawn()
    reset(a, drawn)
    assert apply_patch(svg, patch(b, drawn))
    expected = svg_of(markup(b))
    expected.find("g", "edges").children.remove(expected.by_id("edge-0-0-0"))
    assert canonical(svg) == canonical(expected)


# ---------------------------------------------------------------------------------------------------------------
# The values are the model's (an independent check: markup and patch read edge_values by position)

def test_the_value_functions_hold_the_models_numbers_where_the_script_reads_them():
    from helpers import mazur_setup
    session = build_session(CreateSession(**mazur_setup()))
    diagrams = [*phases(session, 5), at_step(session, selected=("edge", 1, 0, 1)),
                at_step(session, selected=("node", 1, None, 0))]
    for d in diagrams:
        for e in d.edges:
            v = edge_values(e)
            assert len(v) == len(EDGE)
            assert (v[EDGE["weight"]], v[EDGE["grad"]], v[EDGE["change"]]) == (
                exact(e.weight), exact(e.grad), exact(e.change))
            assert v[EDGE["before"]] == (None if e.weight_before is None else exact(e.weight_before))
            assert (v[EDGE["text"]], v[EDGE["selected"]], v[EDGE["color"]]) == (e.description, e.selected, e.color)
            assert v[EDGE["width"]] == "%.2f" % e.width and v[EDGE["label"]] == label_inner(e)
            assert v[EDGE["halo"]] == (f"{e.width + 7}" if e.changed else None)
            assert v[EDGE["cls"]].split()[0] == "edge" and ("selected" in v[EDGE["cls"]].split()) == e.selected
            assert v[EDGE["labelCls"]].split()[0] == "num"
        for n in d.nodes:
            v = node_values(n)
            assert len(v) == len(NODE)
            assert [v[NODE[k]] for k in ("activation", "z", "delta", "bias")] == [
                exact(n.activation), exact(n.z), exact(n.delta), exact(n.bias)]
            assert v[NODE["before"]] == (None if n.bias_before is None else exact(n.bias_before))
            assert v[NODE["target"]] == (None if n.target is None else exact(n.target))
            assert (v[NODE["text"]], v[NODE["selected"]]) == (n.description, n.selected)
            assert (v[NODE["ring"]], v[NODE["ringWidth"]]) == (n.ring_color, "%.2f" % n.ring_width)


def test_the_markup_prints_the_models_numbers():
    session = build_session(DEFAULT)
    session.train(2)
    d = at_step(session, selected=("edge", 0, 1, 2))
    svg = svg_of(markup(d))
    for e in d.edges:
        g = svg.by_id(e.id)
        assert (g.attrs["data-weight"], g.attrs["data-grad"], g.attrs["data-change"]) == (
            exact(e.weight), exact(e.grad), exact(e.change))
        line = g.find("path", "line")
        assert (line.attrs["stroke"], line.attrs["stroke-width"]) == (e.color, "%.2f" % e.width)
        assert g.attrs["aria-label"] == e.description and ("aria-current" in g.attrs) == e.selected
        assert (g.find("path", "halo") is not None) == e.changed
    for n in d.nodes:
        g = svg.by_id(n.id)
        assert [g.attrs.get(f"data-{k}") for k in ("activation", "z", "delta", "bias")] == [
            exact(n.activation), exact(n.z), exact(n.delta), exact(n.bias)]
        ring = g.find("rect", "ring")
        assert (ring.attrs["stroke"], ring.attrs["stroke-width"]) == (n.ring_color, "%.2f" % n.ring_width)


# ---------------------------------------------------------------------------------------------------------------
# The structure: when it changes, and what patch() does then

def test_the_structure_changes_with_the_layers_and_the_data():
    session = build_session(DEFAULT)
    session.train(1)
    base = at_step(session)
    wider = build_session(DEFAULT.model_copy(update={"layers": [2, 5, 2, 1]}))
    wider.train(1)
    deeper = build_session(DEFAULT.model_copy(update={"layers": [2, 4, 2, 2, 1]}))
    deeper.train(1)
    sine = build_session(SINE)
    sine.train(1)
    others = [at_step(wider), at_step(deeper), at_step(sine)]
    keys = {base.structure, *(d.structure for d in others)}
    assert len(keys) == 1 + len(others)
    # What the picture shows is not its structure: the initial weights, a step and a detailed step's phases.
    fresh = build_session(DEFAULT)
    assert {at_step(fresh).structure, *(d.structure for d in phases(fresh, 5))} == {at_step(fresh).structure}
    # A node without lines of numbers has no <text class="lines"> for a patch to fill: another structure.
    bare = redrawn(base, nodes=[replace(n, lines=[]) if n.id == "node-2-0" else n for n in base.nodes])
    assert bare.structure != base.structure
    assert 'class="lines"' not in markup(bare).split('id="node-2-0"')[1].split("</g>")[0]


def test_the_structure_stays_while_only_values_change():
    session = build_session(DEFAULT)
    session.train(1)
    keys = {at_step(session).structure}
    for _ in range(5):
        session.train(3)
        keys |= {at_step(session).structure, at_step(session, focus=4).structure,
                 at_step(session, selected=("node", 2, None, 1)).structure,
                 at_step(session, detailed=True).structure}
    session.trainer.net.weights[0][:] *= -3  # weights of another sign and size: other colours and widths
    keys.add(at_step(session).structure)
    assert len(keys) == 1
    backward = [d for d in phases(session, 5) if d.kind == "backward"]
    assert len(backward) == 3 and len({d.structure for d in backward}) == 1


def test_patch_resets_on_a_new_structure_and_sends_nothing_unchanged():
    session = build_session(DEFAULT)
    step0 = at_step(session)
    session.train(1)
    step1 = at_step(session)
    wider = build_session(DEFAULT.model_copy(update={"layers": [2, 5, 2, 1]}))
    drawn = Drawn()
    reset(at_step(wider), drawn)
    assert patch(step1, drawn) is None  # the page needs the markup ...
    assert drawn.structure == step1.structure  # ... and is then taken to hold it whole
    assert drawn.values == {**{e.id: edge_values(e) for e in step1.edges}, **{n.id: node_values(n) for n in step1.nodes}}
    again = patch(step1, drawn)
    assert again == {"structure": step1.structure, "svg": [1, step1.row, 0, 10, "diagram kind-step"], "edges": {},
                     "nodes": {}}
    # A page that holds only the structure (a light frame's request says no more) gets every value.
    page = Drawn(structure=step1.structure)
    full = patch(step1, page)
    assert set(full["edges"]) == {e.id for e in step1.edges} and set(full["nodes"]) == {n.id for n in step1.nodes}
    # The <svg>'s batch attributes are left out without a pass shown.
    assert patch(step0, Drawn(structure=step0.structure))["svg"] == [0, None, None, None, "diagram kind-initial"]


def test_a_patch_sends_exactly_the_elements_whose_values_changed():
    session = build_session(DEFAULT)
    session.train(1)
    before = at_step(session, selected=("node", 0, None, 1))
    session.train(1)
    after = at_step(session, selected=("node", 0, None, 1))
    drawn = Drawn()
    reset(before, drawn)
    changes = patch(after, drawn)
    edges, nodes = changed_ids(before, after)
    assert set(changes["edges"]) == edges and set(changes["nodes"]) == nodes
    assert all(changes["edges"][e.id] == edge_values(e) for e in after.edges if e.id in edges)


@pytest.mark.parametrize("shape", [[2, 4, 2, 1], [2, 3, 1], [2, 1]])
def test_markup_and_patch_agree_on_other_shapes(shape):
    session = build_session(DEFAULT.model_copy(update={"layers": shape}))
    session.train(1)
    a = at_step(session, focus=1)
    session.train(2)
    check_redraw(a, at_step(session, focus=6))
