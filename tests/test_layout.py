"""The import graph of the two packages: no cycle anywhere (function-local
imports included), and every import goes down the layers that the folders
show: {cli, docs} -> {training, evaluation, pretrained, data} -> families ->
core -> keraslosses."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

#: module prefix -> layer (higher imports lower, never the other way)
LAYERS = {
    "models.cli": 4,
    "models.docs": 4,
    "models.training": 3,
    "models.evaluation": 3,
    "models.pretrained": 3,
    "models.data": 3,
    "models.families": 2,
    "models.core": 1,
    "keraslosses": 0,
}
PACKAGES = ("keraslosses", "models")


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules():
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports_of(name, path, known):
    """Every project module `name` imports, anywhere in the file; for
    `from pkg import mod`, the submodule when it is one. The zoo's lazy
    `models/__init__.py` names its modules in `_EXPORTS`."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_EXPORTS" for t in node.targets):
            targets.update(ast.literal_eval(node.value).values())
    return {t for t in targets if t in known and t != name}


def graph():
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def layer(name):
    matches = [prefix for prefix in LAYERS if name == prefix or name.startswith(prefix + ".")]
    return LAYERS[max(matches, key=len)] if matches else None


def find_cycle(edges):
    """A cycle as a list of modules, or None (iterative DFS, colours)."""
    colour = dict.fromkeys(edges, 0)
    for start in edges:
        if colour[start]:
            continue
        stack = [(start, iter(sorted(edges[start])))]
        path = [start]
        colour[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour[child] == 1:
                return path[path.index(child):] + [child]
            elif colour[child] == 0:
                colour[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges[child]))))
    return None


def test_the_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_the_two_packages():
    edges = graph()
    assert len(edges) > 30 and "models.core.game" in edges["models.families.cnn"]  # the graph is read
    assert find_cycle(edges) is None, find_cycle(edges)


def test_imports_only_go_down_the_layers():
    wrong = []
    for name, targets in graph().items():
        if name == "models":  # the package's lazy front door re-exports every layer
            continue
        for target in targets:
            if target == "models" and name != "models.docs.api":  # the API pages document the front door
                wrong.append((name, target, "imports the package front door"))
            elif layer(name) is not None and layer(target) is not None and layer(target) > layer(name):
                wrong.append((name, target, f"layer {layer(name)} imports layer {layer(target)}"))
    assert wrong == []


def test_every_module_has_a_layer():
    assert [name for name in modules() if name != "models" and layer(name) is None] == []
