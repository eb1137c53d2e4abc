"""The layers, checked from the source: what may import what, no cycle, imports at the top.

netlab/kernel talks to Linux and knows nothing above it; netlab/model is Docker's concepts over
the kernel and imports no front end; the front ends (netlab/views, netlab/notebook,
netlab/docker, netlab/cli) read and write the model. Front ends may read the kernel to show it
(the trace behind ``--explain``, links and rulesets in pictures); they never import each other
except through the model's hooks (netlab.model.frontends).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

import netlab

ROOT = pathlib.Path(netlab.__file__).parent
FRONT_ENDS = ("views", "notebook", "docker", "cli")
# Imports inside functions that load a heavy optional package only when it is used (the CLI
# starts in milliseconds for `netlab ls`; matplotlib, networkx and ipywidgets load with the
# first picture or widget), or that must run late on purpose.
LAZY_OK = {
    "netlab/cli/main.py",  # each command imports what it needs: a fast `netlab ls`
    "netlab/views/__init__.py",  # networkx and matplotlib, with the first picture
    "netlab/notebook/__init__.py",  # ipywidgets, with the first explorer
    "netlab/__init__.py",  # the magics, when %load_ext netlab asks
}
STDLIB_LAZY_OK = {"matplotlib", "ipywidgets", "networkx", "IPython", "pyroute2"}


def modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent)
        name = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        out[name] = ast.parse(path.read_text(), str(rel))
    return out


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(tree: ast.Module, names: set[str], *, top_only: bool) -> set[str]:
    """The netlab modules a module imports (outside TYPE_CHECKING blocks; with ``top_only``,
    not inside functions either); ``from package import submodule`` counts as the submodule."""
    found: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not (top_only and in_function):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("netlab"))
            elif (node.module or "").startswith("netlab"):
                mod = node.module or ""
                subs = {f"{mod}.{a.name}" for a in node.names} & names
                found.update(subs or {mod})
        nested = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for child in ast.iter_child_nodes(node):
            visit(child, nested)

    visit(tree, False)
    return found


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_model_imports_no_front_end_and_the_kernel_nothing_above() -> None:
    mods = modules()
    names = set(mods)
    bad = []
    for name, tree in mods.items():
        for dep in imports(tree, names, top_only=False):
            if layer(name) == "model" and layer(dep) in FRONT_ENDS:
                bad.append(f"{name} -> {dep}")
            if layer(name) == "kernel" and layer(dep) in ("model", *FRONT_ENDS):
                bad.append(f"{name} -> {dep}")
            if layer(name) in FRONT_ENDS and layer(dep) in FRONT_ENDS and layer(dep) != layer(name):
                allowed = {("notebook", "docker"), ("notebook", "views"), ("cli", "docker")}
                allowed |= {("cli", "views"), ("docker", "views")}
                if (layer(name), layer(dep)) not in allowed:
                    bad.append(f"{name} -> {dep}")
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_no_import_cycle() -> None:
    mods = modules()
    names = set(mods)
    graph = {n: imports(t, names, top_only=True) & names for n, t in mods.items()}
    # A package's __init__ is always imported before its submodules: not an edge of its own.
    for n, deps in graph.items():
        graph[n] = {d for d in deps if not n.startswith(d + ".")}
    seen: dict[str, int] = {}
    path: list[str] = []
    cycles: list[list[str]] = []

    def walk(n: str) -> None:
        seen[n] = 1
        path.append(n)
        for d in sorted(graph[n]):
            if seen.get(d) == 1:
                cycles.append([*path[path.index(d) :], d])
            elif d not in seen:
                walk(d)
        path.pop()
        seen[n] = 2

    for n in sorted(graph):
        if n not in seen:
            walk(n)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("layer_name", ["kernel", "model", "views", "docker", "notebook"])
def test_imports_are_at_the_top(layer_name: str) -> None:
    """Imports inside functions only where a heavy optional package justifies it."""
    late = []
    for path in sorted((ROOT / layer_name).rglob("*.py")):
        rel = str(path.relative_to(ROOT.parent))
        if rel in LAZY_OK:
            continue
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                    if (mod or "").split(".")[0] not in STDLIB_LAZY_OK:
                        late.append(f"{rel}:{node.lineno} imports {mod} inside {fn.name}()")
    assert not late, "imports inside functions:\n" + "\n".join(late)
