"""House style, checked: no import cycle in `pipeline/`, and the batch's modules stay small."""

import ast

from tests.conftest import ROOT

PACKAGE = ROOT / "pipeline"
BATCH = ("batch", "coordinator", "executors", "ingest", "lifeline", "lock", "manifest", "ray_engine",
         "rows", "store", "tables", "worker")


def imports() -> dict[str, set[str]]:
    """pipeline module → the pipeline modules it imports (anywhere in it, lazy imports included)."""
    mods = {}
    for p in PACKAGE.rglob("*.py"):
        parts = p.relative_to(ROOT).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    graph = {}
    for name, p in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "") in mods:
                deps.add(node.module)
                deps |= {f"{node.module}.{a.name}" for a in node.names} & mods.keys()
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names} & mods.keys()
        graph[name] = deps - {name}
    return graph


def test_no_import_cycle():
    graph, state, cycles = imports(), {}, []

    def visit(u, path):
        state[u] = "open"
        for v in sorted(graph[u]):
            if state.get(v) == "open":
                cycles.append(" → ".join([*path[path.index(v):], v]))
            elif v not in state:
                visit(v, [*path, v])
        state[u] = "done"

    for u in sorted(graph):
        if u not in state:
            visit(u, [u])
    assert not cycles


def test_the_batch_modules_stay_small():
    sizes = {m: len((PACKAGE / f"{m}.py").read_text(encoding="utf-8").splitlines()) for m in BATCH}
    assert max(sizes.values()) <= 250, sizes


def test_workers_and_executors_do_not_depend_on_the_coordinator():
    graph = imports()
    for low in ("pipeline.worker", "pipeline.executors", "pipeline.ray_engine", "pipeline.ingest",
                "pipeline.store"):
        assert "pipeline.coordinator" not in graph[low] and "pipeline.batch" not in graph[low], low
