"""Exhaustive key maps for foreign checkpoints: flatten the per-module entries, rename every key, refuse leftovers.

Each codebase's module (`authors.mtia`, `fomm`, `mraa`, `tpsmm`) gives its model entries, the entries it knowingly
skips (optimizers, epochs) and its ordered `(authors' prefix regex, our prefix)` rules; the first matching rule wins
and the rest of the key is kept.
"""

from __future__ import annotations

import re

from torch import Tensor

from ..errors import CheckpointError


def compile_rules(rules: list[tuple[str, str]]) -> list[tuple[re.Pattern, str]]:
    return [(re.compile(src), dst) for src, dst in rules]


def flatten(checkpoint: dict, model_entries: tuple[str, ...], other_entries: tuple[str, ...],
            layout: str) -> dict[str, Tensor]:
    """{entry: state_dict} -> {"entry.key": tensor} for the model entries; an unknown entry is an error.

    `layout` names the layout with its article ("a FOMM") for the messages."""
    unknown = set(checkpoint) - set(model_entries) - set(other_entries)
    if unknown:
        raise CheckpointError(f"unexpected top-level entry {sorted(map(str, unknown))[0]!r}: not {layout} checkpoint?")
    return {f"{entry}.{key}": value for entry in model_entries for key, value in (checkpoint.get(entry) or {}).items()}


def rename(key: str, rules: list[tuple[re.Pattern, str]], layout: str) -> str:
    for pattern, replacement in rules:
        match = pattern.match(key)
        if match:
            return match.expand(replacement) + key[match.end():]
    raise CheckpointError(f"unexpected key {key!r}: not {layout} checkpoint?")


def convert(checkpoint: dict, model_entries: tuple[str, ...], other_entries: tuple[str, ...],
            rules: list[tuple[re.Pattern, str]], layout: str) -> dict[str, Tensor]:
    """An authors' checkpoint dict -> our state dict: every key of the model entries renamed by `rules`."""
    state = flatten(checkpoint, model_entries, other_entries, layout)
    return {rename(key, rules, layout): value for key, value in state.items()}


def count_blocks(state: dict[str, Tensor], prefix: str) -> int:
    """How many numbered children `prefix.<i>.` the state has (0 when none)."""
    indices = {int(k[len(prefix):].split(".", 1)[0]) for k in state if k.startswith(prefix)}
    return max(indices) + 1 if indices else 0


def hourglass_config(state: dict[str, Tensor], prefix: str, default_max: int) -> dict:
    """block_expansion, max_features and num_blocks of an hourglass (or encoder) read off its conv shapes."""
    blocks = count_blocks(state, f"{prefix}.down_blocks.")
    widths = [state[f"{prefix}.down_blocks.{i}.conv.weight"].shape[0] for i in range(blocks)]
    expansion = widths[0] // 2
    return {"block_expansion": expansion, "num_blocks": blocks,
            "max_features": max_features(max(widths), expansion * 2**blocks, default_max)}


def max_features(top: int, uncapped: int, default: int) -> int:
    """The width cap: the top width when it caps the doubling; otherwise any cap ≥ the top width builds the same
    model, and the config's default is kept when it is one of them."""
    return top if top < uncapped else max(top, default)
