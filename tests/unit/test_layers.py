"""The packages import one way: data -> modeling -> inference -> evaluation -> training -> recipes -> commands.

Every module's imports are read from its source (including imports inside functions), so a lazy import
cannot hide an upward dependency.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import fineclass

ROOT = Path(fineclass.__file__).parent
LAYERS = [
    {"errors", "redact", "outputs", "labels", "html", "plots", "devices", "rundir", "inspection", "safe_yaml"},
    {"data"},
    {"config"},
    {"modeling", "modelfiles", "modelcard"},
    {"inference"},
    {"evaluation"},
    {"serving"},
    {"training"},
    {"recipes"},
    {"tuning"},
    {"api", "progress"},
    {"commands", "cli", "__main__"},
]
LEVEL = {name: i for i, names in enumerate(LAYERS) for name in names}
FACADE = "__init__"
"""fineclass/__init__.py re-exports the API lazily: it may name any module."""


def unit_of(path: Path) -> str:
    """The package (data, inference, ...) or top-level module (config, rundir, ...) a file belongs to."""
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for path in ROOT.rglob("*.py"):
        unit = unit_of(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                parts = name.split(".")
                if parts[0] == "fineclass" and len(parts) > 1 and parts[1] != unit:
                    found[unit].add(parts[1])
    return found


def test_every_unit_has_a_layer():
    units = {unit_of(p) for p in ROOT.rglob("*.py")} - {FACADE}
    assert units <= set(LEVEL), f"put these in LAYERS: {sorted(units - set(LEVEL))}"


def test_no_upward_import():
    upward = sorted((unit, target) for unit, targets in imports().items() if unit != FACADE
                    for target in targets if LEVEL[target] > LEVEL[unit])
    assert not upward, f"upward imports (unit -> imported): {upward}"


def test_no_cycle_between_packages():
    graph = {unit: targets - {FACADE} for unit, targets in imports().items() if unit != FACADE}
    state: dict[str, int] = {}

    def visit(unit, trail):
        state[unit] = 1
        for target in graph.get(unit, ()):
            if state.get(target) == 1:
                raise AssertionError(f"import cycle: {' -> '.join(trail + [unit, target])}")
            if target not in state:
                visit(target, trail + [unit])
        state[unit] = 2

    for unit in graph:
        if unit not in state:
            visit(unit, [])


def test_nothing_imports_commands_and_benchmarks_do_not_import_tests():
    assert not [unit for unit, targets in imports().items() if "commands" in targets and unit not in ("cli", "__main__", "commands")]
    bench = Path(__file__).resolve().parents[2] / "benchmarks"
    offenders = [p.name for p in bench.glob("*.py") if "from tests" in p.read_text() or "import tests" in p.read_text()]
    assert not offenders, f"benchmarks import tests/: {offenders}"
