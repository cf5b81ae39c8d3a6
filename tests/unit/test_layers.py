"""The layering the architecture promises (docs/architecture.md), checked on the source.

An AST walk over `src/otc_bridge` finds every import (top level, inside functions and
under TYPE_CHECKING alike) and every call, so a cycle or a shortcut cannot hide in a
function body.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import otc_bridge
from otc_bridge.domain.states import TERMINAL, Status
from otc_bridge.settlement import escrow_steps, settle_steps
from otc_bridge.settlement.driver import STEPS

SRC = Path(otc_bridge.__file__).parent
PACKAGE = "otc_bridge"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(under: str = "") -> dict[str, Path]:
    root = SRC / under if under else SRC
    return {module_name(p): p for p in sorted(root.rglob("*.py"))}


def imported(path: Path) -> Iterator[str]:
    """Every module name `path` imports (`from a import b` yields a.b as well as a, so a
    submodule imported by name counts)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the module's own package
                package = module_name(path).split(".")
                if path.name != "__init__.py":
                    package = package[:-1]
                kept = package[: len(package) - node.level + 1]
                base = ".".join([*kept, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def graph(names: dict[str, Path]) -> dict[str, set[str]]:
    return {
        name: {target for target in imported(path) if target in names and target != name}
        for name, path in names.items()
    }


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("package", ["settlement", "domain", "services", "adapters", "api"])
def test_no_import_cycle_within_a_layer(package: str) -> None:
    cycle = find_cycle(graph(modules(package)))
    assert cycle is None, f"import cycle: {' -> '.join(cycle or [])}"


def test_step_modules_depend_on_the_toolkit_never_on_the_driver() -> None:
    for module in (escrow_steps, settle_steps):
        assert module.__file__ is not None
        names = set(imported(Path(module.__file__)))
        assert "otc_bridge.settlement.toolkit" in names
        forbidden = {"otc_bridge.settlement.driver", "otc_bridge.settlement.flows"}
        assert not names & forbidden, f"{module.__name__} imports {names & forbidden}"


def test_the_driver_has_exactly_one_step_for_every_status_that_is_not_terminal() -> None:
    assert set(STEPS) == set(Status) - TERMINAL
    for status, step in STEPS.items():
        assert step.__module__ in {escrow_steps.__name__, settle_steps.__name__}, status


def test_the_domain_is_pure() -> None:
    """The core imports nothing of the layers around it, and no I/O library."""
    outside = ("otc_bridge.adapters", "otc_bridge.services", "otc_bridge.settlement",
               "otc_bridge.api", "sqlalchemy", "httpx", "fastapi", "starlette")  # fmt: skip
    for name, path in modules("domain").items():
        bad = [n for n in imported(path) if n.startswith(outside)]
        assert not bad, f"{name} imports {bad}"


def _http_in(path: Path) -> list[str]:
    found = [n for n in imported(path) if n.split(".")[0] in {"fastapi", "starlette", "http"}]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and type(node.value) is int and 400 <= node.value < 600:
            found.append(f"the HTTP status {node.value} (line {node.lineno})")
        if isinstance(node, ast.keyword) and node.arg in {"status_code", "http_status"}:
            found.append(f"{node.arg}= (line {node.lineno})")
    return found


def test_services_neither_import_http_nor_build_http_statuses() -> None:
    for name, path in modules("services").items():
        assert not _http_in(path), f"{name}: {_http_in(path)}"


def test_the_http_check_would_see_a_status(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from fastapi import Request\nraise Thing(409, 'no')\n")
    assert _http_in(sample) == ["fastapi", "fastapi.Request", "the HTTP status 409 (line 2)"]


def test_only_the_settlement_toolkit_writes_moves() -> None:
    """`orders.transition(move)` is the one status write; its one caller outside the store
    is the toolkit's `commit`, which every flow and step goes through."""
    callers = []
    for name, path in modules().items():
        if name.startswith("otc_bridge.adapters.store"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            call = node.func if isinstance(node, ast.Call) else None
            if isinstance(call, ast.Attribute) and call.attr == "transition":
                callers.append(f"{name}:{call.lineno}")
    assert [c.split(":")[0] for c in callers] == ["otc_bridge.settlement.toolkit"], callers
