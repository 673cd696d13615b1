"""clv's layers point one way, counting the imports inside functions (issue 13).

Each module belongs to the first layer whose prefix names it; a module may import
from its own layer and the layers before it, never from a later one, and no two
modules import each other, directly or through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import clv

ROOT = Path(clv.__file__).parent
#: The layers, lowest first: a module imports only from its own layer or earlier ones.
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "clv.errors",
        "clv._version",
        "clv._validation",
        "clv._interrupts",
        "clv._cli_output",
        "clv._estimator_contract",
    ),
    ("clv.datasets",),
    ("clv.features",),
    ("clv.models",),
    ("clv.candidates",),
    ("clv.metrics", "clv.plots"),
    ("clv.mlflow_model",),
    ("clv.training",),
    ("clv.serving",),
    ("clv.cli",),
    ("clv",),  # the package's curated API; nothing inside clv imports it
)
#: Modules kept only so that old import paths still work (documented in DESIGN.md):
#: they may re-export from a later layer, and no module of clv imports them.
ALIASES = frozenset({"clv.models.candidates"})


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The clv modules ``name`` imports anywhere in its body, resolved to modules."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # ``from package import module`` imports the module; else the package
            targets = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _layer(name: str) -> int:
    for index, prefixes in enumerate(LAYERS):
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            return index
    raise AssertionError(f"{name} belongs to no layer: add it to LAYERS")


MODULES = _modules()
GRAPH = {name: _imports(name, path, set(MODULES)) for name, path in MODULES.items()}


def test_every_import_points_down_or_sideways():
    upward = [
        f"{name} ({LAYERS[_layer(name)][0]}) imports {target} ({LAYERS[_layer(target)][0]})"
        for name, targets in GRAPH.items()
        for target in sorted(targets)
        if _layer(target) > _layer(name) and name not in ALIASES
    ]
    assert not upward, "\n".join(upward)


def test_nothing_inside_clv_imports_an_alias():
    users = [f"{name} imports {target}" for name in GRAPH for target in GRAPH[name] & ALIASES]
    assert not users, "\n".join(users)


def test_no_import_cycle():
    """Tarjan's strongly connected components of the module graph: all of size one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    assert not cycles, "\n".join(" <-> ".join(cycle) for cycle in cycles)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_is_a_small_room(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= 400, f"{name} has {lines} lines"


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_takes_another_modules_private_name():
    """``from clv.x import _name`` (or ``module._name``) reaches into another module.

    A name another module uses is part of its module's interface and has a public name;
    importing a private *module* (``from clv.models import _count_distributions``) is fine.
    """
    reaches = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        aliases: set[str] = set()  # local names bound to a clv module
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("clv"):
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in MODULES:
                        aliases.add(alias.asname or alias.name)
                    elif _private(alias.name):
                        reaches.append(
                            f"{name}:{node.lineno} from {node.module} import {alias.name}"
                        )
            elif isinstance(node, ast.Import):
                aliases.update(a.asname for a in node.names if a.asname and a.name in MODULES)
        reaches += [
            f"{name}:{node.lineno} {node.value.id}.{node.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and _private(node.attr)
        ]
    assert not reaches, f"{len(reaches)} private names taken:\n" + "\n".join(reaches)
