"""Exhaustive key maps for the authors' YAML files: rename every leaf, skip the known inert ones, refuse the rest.

Each codebase's module gives its top-level keys, its `(authors' dotted path -> ours)` renames, the paths it knowingly
ignores (with the reason next to them) and a `convert(path, value, source)` for the values whose form differs. A
key that is none of these is a `ConfigError` naming the key and the file, so a typo is never silently dropped.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from ..config import put
from ..errors import ConfigError


def translate_keys(data: dict, source: str, layout: str, top: set[str], renames: dict[str, str | tuple[str, ...]],
                   ignored: set[str], convert: Callable[[str, Any, str], Any]) -> dict:
    """Every leaf of `data` renamed by `renames` (to one path or several) or skipped by `ignored`; anything else
    is a ConfigError."""
    unknown = set(data) - top
    if unknown:
        raise ConfigError(f"{source}: unknown key {sorted(unknown)[0]!r} in an authors' ({layout}) config")
    out: dict = {}
    for path, value in leaves(data, ignored):
        if is_ignored(path, ignored):
            continue
        target = renames.get(path)
        if target is None:
            raise ConfigError(f"{source}: unknown key {path!r} in an authors' ({layout}) config")
        for ours in (target,) if isinstance(target, str) else target:
            put(out, ours, convert(path, value, source))
    return out


def leaves(data: dict, ignored: set[str], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every leaf; an ignored section is one leaf, not walked into."""
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value and not is_ignored(path, ignored):
            yield from leaves(value, ignored, path)
        else:
            yield path, value


def is_ignored(path: str, ignored: set[str]) -> bool:
    return path in ignored or path.split(".", 1)[0] in ignored


def check_fixed(data: dict, source: str, fixed: dict[str, Any]) -> None:
    """A ConfigError when a file sets an option of `fixed` (path -> the one supported value) otherwise."""
    for path, supported in fixed.items():
        node: Any = data
        for key in path.split("."):
            node = node.get(key, supported) if isinstance(node, dict) else supported
        if node != supported:
            raise ConfigError(f"{source}: {path}: {node!r} is not supported (only {supported!r})")
