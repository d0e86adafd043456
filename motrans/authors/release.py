"""What the authors published: one `Release` per trained checkpoint file, listed by its codebase's module.

These rows are the README's weights guide and what `motrans info CKPT` names a file as. A row's `shapes` are the
facts a file's weights show about its model (dotted `ModelConfig` paths, read off the shapes by the codebase's
`config_from`), so that a file can be told apart from the other releases of its codebase without building it;
files whose weights have the same shapes (MTIA's vox and mgif, FOMM's vox and taichi) stay ambiguous, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Release:
    file: str  # the authors' file name
    dataset: str
    yaml: str  # the authors' YAML in their repository's `config/`
    preset: str = ""  # our preset that is that YAML, when there is one
    size: str = ""  # as published, where known
    shapes: dict[str, Any] = field(default_factory=dict)  # dotted ModelConfig path -> value its weights show


def model_value(model: Any, dotted: str) -> Any:
    """`model.a.b` for "a.b"; tuples and lists compare alike."""
    for name in dotted.split("."):
        model = getattr(model, name)
    return list(model) if isinstance(model, tuple) else model


def matching(releases: tuple[Release, ...], model: Any, skip: tuple[str, ...] = ()) -> list[Release]:
    """The releases whose shape facts all hold for `model` (a ModelConfig read off a file's weights), less the
    facts under the `skip` prefixes (parts the file does not hold)."""
    return [r for r in releases
            if all(model_value(model, k) == v for k, v in r.shapes.items() if not k.startswith(skip))]
