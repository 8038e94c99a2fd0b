"""The engine has no import cycles, counting imports inside functions too (issue 13)."""

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "engine"


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ENGINE.parent).with_suffix("").parts).removesuffix(".__init__")


def _engine_imports(path: Path) -> set[str]:
    deps: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("engine"):
            deps.add(node.module)
            deps.update(f"{node.module}.{a.name}" for a in node.names)  # `from engine.x import y` may name a module
        elif isinstance(node, ast.Import):
            deps.update(a.name for a in node.names if a.name.startswith("engine"))
    return deps


def test_no_import_cycles_in_the_engine():
    graph = {_module_name(p): _engine_imports(p) for p in ENGINE.rglob("*.py")}
    graph = {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    # A package's __init__ importing its own submodules is not a cycle of two modules' code.
    real = [c for c in cycles if not all(c[0].startswith(x) or x.startswith(c[0]) for x in c)]
    assert not real, " ; ".join(" -> ".join(c) for c in real[:5])
