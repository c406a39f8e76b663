"""The modules of `datasets/` import each other without a cycle."""

import ast
import importlib
import os

import pytest

import keras_factorvae.datasets as datasets

PACKAGE = os.path.dirname(datasets.__file__)
PREFIX = "keras_factorvae.datasets"


def _imports(module):
    """Modules of `datasets/` that `module` imports, inside functions too."""
    path = os.path.join(PACKAGE, module + ".py")
    tree = ast.parse(open(path).read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PREFIX:  # `from keras_factorvae.datasets import x`
                names.update(f"{PREFIX}.{a.name}" for a in node.names)
            else:
                names.add(node.module)
    found = set()
    for name in names:
        if name == PREFIX:
            found.add("__init__")
        elif name.startswith(PREFIX + "."):
            found.add(name[len(PREFIX) + 1:].split(".")[0])
    return found - {module}


def _modules():
    return sorted(f[:-3] for f in os.listdir(PACKAGE) if f.endswith(".py"))


def test_batch_plan_imports_nothing_of_the_package():
    tree = ast.parse(open(os.path.join(PACKAGE, "batch_plan.py")).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("keras_factorvae") for a in node.names)
            assert not any(a.name.split(".")[0] in ("tensorflow", "keras") for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert not (node.module or "").startswith("keras_factorvae"), node.module


def test_no_import_cycle_among_submodules():
    graph = {m: _imports(m) for m in _modules() if m != "__init__"}
    for deps in graph.values():
        deps.discard("__init__")
    state = {}

    def visit(module, path):
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", f"cycle: {' -> '.join(path + [module])}"
        state[module] = "open"
        for dep in sorted(graph[module]):
            visit(dep, path + [module])
        state[module] = "done"

    for module in graph:
        visit(module, [])
    # The submodules never import the package itself (its __init__ imports them).
    for module in graph:
        assert "__init__" not in _imports(module), module


@pytest.mark.parametrize(
    "module, names",
    [
        ("arrays", ["ArrayGroundTruthData", "PackedBinaryImages"]),
        ("ground_truth", ["GroundTruthData", "ArrayGroundTruthData", "decode_observations"]),
        ("pipeline", ["BatchPlan", "as_dataset", "as_py_dataset", "benchmark_pipeline"]),
        ("batch_plan", ["BatchPlan", "PackedBinaryImages", "decode_observations"]),
        ("py_dataset", ["GroundTruthPyDataset", "EpochSlice"]),
    ],
)
def test_public_names_keep_their_import_paths(module, names):
    mod = importlib.import_module(f"{PREFIX}.{module}")
    for name in names:
        obj = getattr(mod, name)
        if hasattr(datasets, name):
            assert getattr(datasets, name) is obj
