"""No import circle inside motrans: every module's `import`s, at the top and inside functions, form a DAG.

A lazy import inside a function hides a circle from Python, not from a reader: `config` importing `authors`, which
imports `config`, is one circle however late the second import runs. So the graph is read with `ast`, not by
importing: an edge A -> B for every import of B in A's source outside `if TYPE_CHECKING:`; importing `a.b.c` also
runs the packages `a.b` and `a` above it, unless A lives inside them (they are already running, so `from .. import x`
counts as importing `x` alone).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

MOTRANS = Path(__file__).resolve().parents[1] / "motrans"


def module_names(root: Path) -> dict[str, Path]:
    """`package.sub.module` -> its file, for every .py file under the package folder `root`."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of `known` that module `name` (file `path`) imports, anywhere in its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            out.add(target)
            out |= {f"{target}.{alias.name}" for alias in node.names}
    targets = {target for target in out if target in known and not name.startswith(target + ".")}
    return targets | {parent for target in targets for parent in _parents(target, name, known)}


def _parents(target: str, importer: str, known: set[str]) -> set[str]:
    """The packages that importing `target` also runs, less those `importer` lives in (already running)."""
    parts = target.split(".")
    above = {".".join(parts[:i]) for i in range(1, len(parts))}
    return {p for p in above if p in known and not (importer == p or importer.startswith(p + "."))}


def _runtime_nodes(tree: ast.AST):
    """Every node, less the bodies of `if TYPE_CHECKING:` (never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def import_graph(root: Path) -> dict[str, set[str]]:
    names = module_names(root)
    return {name: imported(name, path, set(names)) - {name} for name, path in names.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_motrans_has_no_import_circle():
    graph = import_graph(MOTRANS)
    assert len(graph) > 50 and "motrans.authors.mtia" in graph["motrans.authors"]  # the walk sees the package
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_config_imports_none_of_the_authors_layouts():
    graph = import_graph(MOTRANS)
    assert not {m for m in graph["motrans.config"] if m.startswith(("motrans.authors", "motrans.models"))}
    assert "motrans.config" in graph["motrans.authors.mtia"]


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize("files, circle", [
    # a lazy import inside a function still closes the circle
    ({"a.py": "from .b import f\n", "b.py": "def f():\n    from .a import g\n"}, ["pkg.a", "pkg.b", "pkg.a"]),
    # importing a submodule runs its package, whose __init__ imports the importer
    ({"a.py": "from .sub.c import x\n", "sub/__init__.py": "from .. import a\n", "sub/c.py": "x = 1\n"},
     ["pkg.a", "pkg.sub", "pkg.a"]),
    ({"a.py": "import pkg.b\n", "b.py": "from pkg import a\n"}, ["pkg.a", "pkg.b", "pkg.a"]),
])
def test_a_made_circle_is_found(tmp_path, files, circle):
    assert find_cycle(import_graph(_package(tmp_path, files))) == circle


def test_a_tree_without_circle_passes(tmp_path):
    root = _package(tmp_path, {"a.py": "from .b import f\nfrom typing import TYPE_CHECKING\n"
                                       "if TYPE_CHECKING:\n    from .c import T\n",
                               "b.py": "def f():\n    from .sub import c\n", "c.py": "from .a import f\n",
                               "sub/__init__.py": "", "sub/c.py": "x = 1\n"})
    assert find_cycle(import_graph(root)) is None


def test_the_architecture_doc_names_real_files_only():
    """docs/architecture.md stays true: every `motrans/...` or `tests/...` path it names exists."""
    repo = MOTRANS.parent
    text = (repo / "docs" / "architecture.md").read_text()
    paths = set(re.findall(r"`((?:motrans|tests)/[\w/.]+?)`", text))
    assert len(paths) > 20
    assert not sorted(p for p in paths if not (repo / p.rstrip("/")).exists())
    for name in re.findall(r"`(\w+)` in `motrans/models/__init__.py`", text):
        assert name in (repo / "motrans" / "models" / "__init__.py").read_text()
