"""Checks of user-facing values at the edge of every command, shared by the CLI, the Python API and the web page.

Each check returns the value it accepts or raises one `InputError` whose message names the flag or field and the
value, so that the CLI prints it as one line. Nothing here imports torch at module level.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from .errors import InputError


def finite(name: str, value: float, low: float | None = None, high: float | None = None) -> float:
    """A real number (not NaN or ±inf) within [low, high] where given."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{name}: must be a finite number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise InputError(f"{name}: {value!r} is out of range [{_bound(low)}, {_bound(high)}]")
    return float(value)


def whole(name: str, value: int, low: int = 0, high: int | None = None) -> int:
    """An int within [low, high] (high None: no upper bound)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name}: must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        raise InputError(f"{name}: {value} is out of range [{low}, {_bound(high)}]")
    return value


def _bound(value: float | None) -> str:
    return "…" if value is None else f"{value:g}"


def inside(folder: str | Path, name: str, what: str) -> Path:
    """folder/name, refused when `name` would leave `folder` (absolute, `..`, a separator)."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or os.sep in name or "\x00" in name:
        raise InputError(f"{what} {name!r}: must be a plain name (no path separators, not '.' or '..')")
    return Path(folder) / name


def device(name: str):
    """A torch device that exists on this machine: auto, cpu, cuda, cuda:N (N < the GPU count), mps."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        result = torch.device(name)
    except (RuntimeError, ValueError):
        raise InputError(f"--device {name}: not a device (auto, cpu, cuda, cuda:N or mps)") from None
    if result.type == "cpu" and result.index not in (None, 0):
        raise InputError(f"--device {name}: there is one CPU device: say cpu")
    if result.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise InputError(f"--device {name}: no CUDA device is available on this machine")
        if result.index is not None and result.index >= count:
            raise InputError(f"--device {name}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    if result.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"--device {name}: MPS is not available on this machine")
    if result.type not in ("cpu", "cuda", "mps"):
        raise InputError(f"--device {name}: not supported (auto, cpu, cuda, cuda:N or mps)")
    return result


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def output_apart_from_inputs(output: str | Path, inputs: dict[str, str | Path | None]) -> None:
    """Refuses an output that is, or lies inside, one of the inputs (by resolved path or inode), or that contains
    an input file (a frames output directory around the source). `inputs` maps a flag to its path."""
    out = Path(output).resolve()
    for flag, given in inputs.items():
        if not given:
            continue
        path = Path(given).resolve()
        if out == path or same_file(out, path) or path in out.parents or out in path.parents:
            raise InputError(f"{output}: the output would overwrite the input {flag} {given}; choose another output")
