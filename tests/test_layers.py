"""Layers point one way (issue 24 §3): engine → datasets → core → (views, store, lessons, live) → (web, api) → main.
A module imports only from its own layer's package or from the layers before it, at the top or inside a function;
within a layer the store imports no lessons, lessons no views, and web and api nothing of each other.
The small shared modules (settings, the limits, the app-wide dependencies, quick, exports) sit where their imports
put them, and are checked the same way."""
import ast
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
RANK = {"engine": 0, "settings": 0, "datasets": 1, "core": 2, "ratelimit": 2,
        "views": 3, "store": 3, "lessons": 3, "live": 3, "quick": 4, "exports": 4, "deps": 4,
        "body_limit": 4, "security": 4, "vendor": 4, "web": 5, "api": 5, "cli": 6, "main": 6}
# Within a rank: what must not import what (the issue's own rules).
FORBIDDEN = {("store", "lessons"), ("lessons", "views"), ("web", "api"), ("api", "web")}


def part(module: str) -> str | None:
    """The layer of app.X.Y ("X"), or None outside the app."""
    bits = module.split(".")
    return bits[1] if bits[0] == "app" and len(bits) > 1 else None


def imports(path: Path) -> set[str]:
    found = set()
    package = ".".join(path.relative_to(APP.parent).with_suffix("").parts)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: within its own package
                base = package.split(".")[: -node.level if path.name != "__init__.py" else len(package.split(".")) - node.level + 1]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.add(node.module)
                if node.module.startswith("app"):  # `from app.views import network` imports app.views.network too
                    found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def module_name(path: Path) -> str:
    """app/views/network.py -> app.views.network; app/views/__init__.py -> app.views."""
    return ".".join(path.relative_to(APP.parent).with_suffix("").parts).removesuffix(".__init__")


def test_every_import_points_down_or_across_within_a_package():
    wrong = []
    for path in sorted(APP.rglob("*.py")):
        own = path.relative_to(APP).parts[0].removesuffix(".py")
        if own == "__init__":
            continue
        for module in imports(path):
            other = part(module)
            if other is None or other == own or other == "__init__":
                continue
            if RANK[other] > RANK[own] or (own, other) in FORBIDDEN:
                wrong.append(f"{path.relative_to(APP.parent)} imports {module}")
    assert wrong == []


def test_no_two_modules_import_each_other():
    """Not even inside a function or for type checking only: what both need lives in a third module."""
    found = {module_name(path): imports(path) for path in APP.rglob("*.py")}
    both = sorted({tuple(sorted((a, b))) for a, theirs in found.items() for b in theirs
                   if a != b and a in found.get(b, ())})
    assert both == []


def test_the_svg_writer_reads_the_diagrams_model_not_the_module_that_lays_it_out():
    """views/network.py computes the diagram and has views/network_svg.py write it; both read views/diagram_model.py."""
    svg, diagram = imports(APP / "views" / "network_svg.py"), imports(APP / "views" / "network.py")
    assert "app.views.diagram_model" in svg and "app.views.diagram_model" in diagram
    assert "app.views.network" not in svg


def test_the_engine_imports_numpy_and_the_standard_library_only():
    outside = {f"{path.relative_to(APP.parent)} imports {module}" for path in (APP / "engine").rglob("*.py")
               for module in imports(path)
               if module.split(".")[0] not in sys.stdlib_module_names | {"numpy", "app"}
               or part(module) not in (None, "engine")}
    assert outside == set()
