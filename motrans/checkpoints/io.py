"""Safe reading and atomic writing of checkpoint files.

Pickles are read with `torch.load(weights_only=True)`: a pickle that carries code is refused, never run. Our own
format is safetensors with the whole config as JSON metadata, so a file rebuilds its model with no YAML.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor

from ..errors import CheckpointError

SAFETENSORS_MAGIC_MAX_HEADER = 100_000_000
FORMAT = "motrans"


def atomic_write(path: str | Path, write: Callable[[str], None]) -> None:
    """Calls `write(tmp)` on a temporary file beside `path`, fsyncs it, then renames it into place.

    A kill or an error at any moment leaves either the old file or the new one, never a torn one.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def is_safetensors(path: Path) -> bool:
    """A safetensors file starts with an 8-byte little-endian header length and a JSON header."""
    with open(path, "rb") as handle:
        head = handle.read(9)
    if len(head) < 9:
        return False
    size = int.from_bytes(head[:8], "little")
    return 0 < size < SAFETENSORS_MAGIC_MAX_HEADER and head[8:9] == b"{"


def read_pickle(path: Path) -> dict:
    """torch.load with weights_only=True on CPU; any failure is one CheckpointError naming the file."""
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: empty file, not a checkpoint")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols before refusing anyway
            data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "Weights only load failed" in str(error):
            raise CheckpointError(f"{path}: refused: not a plain weights file; it may carry code, which a "
                                  "weights-only load never runs") from None
        raise CheckpointError(f"{path}: not a readable checkpoint ({_first_line(error)})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError, TypeError, IndexError) as error:
        raise CheckpointError(f"{path}: not a readable checkpoint ({_first_line(error)})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: not a checkpoint (holds a {type(data).__name__}, not a dict)")
    return data


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def read_safetensors(path: Path) -> tuple[dict[str, Tensor], dict[str, str]]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        return load_file(str(path)), metadata
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path}: not a readable safetensors file ({error})") from None


def write_safetensors(path: str | Path, state: dict[str, Tensor], config: dict, extra: dict | None = None) -> None:
    """Writes `state` with `config` (a plain dict) as JSON metadata, atomically."""
    from safetensors.torch import save_file

    tensors = {key: value.detach().contiguous().clone() for key, value in state.items()}
    metadata = {"format": FORMAT, "config": json.dumps(config), **(extra or {})}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))


def check_finite(state: dict[str, Tensor], path: Path | str) -> None:
    """NaN or Inf weights make every frame garbage: refuse them at load, naming the first bad tensor."""
    for key, value in state.items():
        if value.is_floating_point() and not value.is_meta and not torch.isfinite(value).all():
            raise CheckpointError(f"{path}: weight {key!r} holds NaN or Inf values")


def config_metadata(metadata: dict[str, str], path: Path) -> dict:
    if metadata.get("format") != FORMAT or "config" not in metadata:
        raise CheckpointError(f"{path}: safetensors file without a motrans config in its metadata")
    try:
        return json.loads(metadata["config"])
    except json.JSONDecodeError:
        raise CheckpointError(f"{path}: its config metadata is not valid JSON") from None
