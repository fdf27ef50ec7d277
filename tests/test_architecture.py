"""The import rules of docs/ARCHITECTURE.md, checked on the source: no import circle
between hdrkeras modules (imports inside functions included), and no module imports one
of a later layer than its own (`__main__` modules are front ends and may import anything).
"""

import ast
import pathlib

from conftest import REPO_ROOT

PACKAGE = pathlib.Path(REPO_ROOT) / "hdrkeras"

# Layer of each top-level part of the package (docs/ARCHITECTURE.md, "Layers").
LAYERS = {
    "errors": 0, "registry": 0, "tf_runtime": 0, "cpu_isa": 0, "cli": 0, "checks": 0,
    "io": 1, "ops": 1,
    "data": 2,
    "layers": 3, "models": 3, "losses": 3, "metrics": 3, "vgg": 3,
    "saving": 4, "tiling": 4, "predictor": 4, "convert": 4,
    "methods": 5,
    "training": 6, "export": 6, "evaluation": 6,
    "inference": 7, "bench": 7, "video_inference": 7, "video_evaluation": 7,
}


def _modules():
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name, path, modules):
    """hdrkeras modules imported anywhere in `path` (resolved to the deepest known one)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".") if is_package else name.split(".")[:-1]
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                found.add(target)
    return found


def _graph():
    modules = _modules()
    return {name: _imports(name, path, modules) - {"hdrkeras"}
            for name, path in modules.items()}


def _part(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_no_import_circle():
    graph = _graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, cycles


def _layers():
    """LAYERS, plus every other top-level module that runs as a tool (`python -m
    hdrkeras.NAME`): a front end, layer 7."""
    layers = dict(LAYERS)
    for path in PACKAGE.glob("*.py"):
        if path.stem not in layers and '__name__ == "__main__"' in path.read_text():
            layers[path.stem] = 7
    return layers


def test_no_module_imports_a_later_layer():
    graph = _graph()
    layers = _layers()
    unplaced = {_part(m) for m in graph} - {None} - set(layers)
    assert not unplaced, f"give {sorted(unplaced)} a layer here and in docs/ARCHITECTURE.md"
    wrong = []
    for module, targets in graph.items():
        part = _part(module)
        if part is None:
            continue
        for target in targets:
            if layers[_part(target)] > layers[part] and not module.endswith("__main__"):
                wrong.append(f"{module} -> {target}")
    assert not wrong, wrong
