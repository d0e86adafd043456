"""models/ imports no I/O, training or CLI code: a reader of the model never meets them."""

import ast
from pathlib import Path

import motrans

PACKAGE = Path(motrans.__file__).parent
FORBIDDEN_IN_MODELS = ("motrans.checkpoints", "motrans.cli", "motrans.train", "motrans.animate", "motrans.data",
                       "motrans.evaluate", "motrans.losses", "safetensors", "av", "PIL", "yaml")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = path.relative_to(PACKAGE.parent).with_suffix("").parts[: -node.level]
                module = ".".join([*parts, module]) if module else ".".join(parts)
            names.add(module)
    return names


def test_models_import_no_io_training_or_cli():
    for path in (PACKAGE / "models").rglob("*.py"):
        for name in _imports(path):
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_MODELS), (path, name)
