"""The package's layout rules (issue 19), checked from the source."""

import ast
import os
import re

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "keras_factorvae")
ROOT = "keras_factorvae"


def _modules():
    """`{dotted name: path}` of every module of the package."""
    out = {}
    for directory, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                rel = os.path.relpath(path, os.path.dirname(PACKAGE))[:-3]
                dotted = rel.replace(os.sep, ".")
                out[dotted.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _imports(path):
    """`(module imported, names imported)` of every import, at any depth."""
    tree = ast.parse(open(path).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, tuple(a.name for a in node.names)


def _graph():
    """Module -> modules of the package it imports (a `from P import m` of a
    submodule `m` counts as importing `P.m`, not `P`)."""
    graph = {}
    for module, path in MODULES.items():
        deps = set()
        for target, names in _imports(path):
            if not target.startswith(ROOT):
                continue
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            deps.update(subs)
            if len(subs) < len(names) or not names:
                deps.add(target)
        graph[module] = {d for d in deps if d in MODULES and d != module}
    return graph


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        ["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_even_inside_functions():
    assert _cycles(_graph()) == []


def test_no_private_name_imported_across_modules():
    offenders = []
    for module, path in MODULES.items():
        for target, names in _imports(path):
            if target.startswith(ROOT):
                offenders += [f"{module}: from {target} import {n}"
                              for n in names
                              if n.startswith("_") and not n.startswith("__")]
    assert offenders == []


def test_no_module_over_600_lines():
    sizes = {m: sum(1 for _ in open(p)) for m, p in MODULES.items()}
    assert {m: n for m, n in sizes.items() if n > 600} == {}


# Asking which backend is active: allowed in backend/ and the train step.
BACKEND_CHECK = re.compile(r"backend\.backend\(\)|default_backend\(\)")


def test_backend_checks_live_in_backend():
    allowed = (os.path.join(PACKAGE, "backend") + os.sep,
               os.path.join(PACKAGE, "models", "train_step.py"))
    offenders = [
        f"{m}:{i}" for m, p in MODULES.items() if not p.startswith(allowed)
        for i, line in enumerate(open(p), 1) if BACKEND_CHECK.search(line)
    ]
    assert offenders == []
