"""Guard rails for the house (ARCHITECTURE.md): import layers, no cycles, module size, every route reachable."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import create_app
from emulator.http.routing import Route

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("emulator", "client", "conformance")
WEB = ("fastapi", "starlette", "uvicorn", "httpx", "httpx2", "multipart", "python_multipart")
LOWER = ("emulator.core", "emulator.store", "emulator.inference")
HIGHER = ("emulator.http", "emulator.resources", "emulator.legacy", "emulator.v1", "emulator.app", "emulator.server")
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def _resolve(module: str, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        package = module.split(".")[: -node.level + (1 if module_is_package(module) else 0) or None]
        base = ".".join([*package, node.module] if node.module else package)
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def module_is_package(module: str) -> bool:
    return (ROOT / module.replace(".", "/") / "__init__.py").exists()


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(module: str, path: Path, *, top_level_only: bool) -> Iterator[str]:
    """The names a module imports (function-local ones too unless top_level_only; never TYPE_CHECKING ones)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if _type_checking(node):
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield from _resolve(module, node)
        elif not (top_level_only and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)):
            pending.extend(ast.iter_child_nodes(node))


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


ALL = modules()


@pytest.mark.parametrize("module", sorted(m for m in ALL if _under(m, LOWER)))
def test_core_store_and_inference_import_no_web_framework_nor_higher_layers(module: str) -> None:
    found = set(imports(module, ALL[module], top_level_only=False))
    assert not {name for name in found if _under(name, WEB)}
    assert not {name for name in found if _under(name, HIGHER)}


@pytest.mark.parametrize("module", sorted(m for m in ALL if _under(m, ("emulator.legacy", "emulator.v1"))))
def test_legacy_and_v1_never_import_each_other(module: str) -> None:
    other = "emulator.v1" if module.startswith("emulator.legacy") else "emulator.legacy"
    assert not {name for name in imports(module, ALL[module], top_level_only=False) if _under(name, (other,))}


@pytest.mark.parametrize("module", sorted(m for m in ALL if _under(m, ("client",))))
def test_client_imports_only_the_emulator_core(module: str) -> None:
    allowed = ("emulator.core",)
    if module == "client.cli_serve":  # `ftemu serve` runs the server itself
        allowed += ("emulator.settings", "emulator.server")
    found = {name for name in imports(module, ALL[module], top_level_only=False) if _under(name, ("emulator",))}
    assert {name for name in found if not _under(name, allowed) and name != "emulator"} == set()


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in ALL.items():
        targets = set()
        for name in imports(module, path, top_level_only=True):
            while name and name not in ALL:
                name = name.rpartition(".")[0]
            if name and name != module and not module.startswith(name + "."):
                targets.add(name)
        graph[module] = targets
    return graph


def test_no_import_cycles() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target) :], target] if target in trail else [module, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize("module", sorted(ALL))
def test_modules_stay_under_400_lines(module: str) -> None:
    assert len(ALL[module].read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def _example_path(path: str) -> str:
    def sample(match: re.Match[str]) -> str:
        name, _, convertor = match.group(1).partition(":")
        return "a/b" if convertor == "path" else f"sample-{name}"

    return re.sub(r"{([^}]+)}", sample, path)


def test_every_route_is_reached_by_its_own_path() -> None:
    """No route is shadowed by an earlier one (a `{x:path}` route above a more specific one, say)."""
    table: list[Route] = create_app().state.routes
    shadowed = []
    for route in table:
        for method in sorted(route.methods):
            path = _example_path(route.path)
            first = next(r for r in table if method in r.methods and r.match(path) is not None)
            if first is not route:
                shadowed.append(f"{method} {route.path} is answered by {first.path}")
    assert shadowed == []
