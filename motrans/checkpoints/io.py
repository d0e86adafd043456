"""Safe reading and atomic writing of checkpoint files.

Pickles are read with `torch.load(weights_only=True)`: a pickle that carries code is refused, never run. Our own
format is safetensors with the whole config as JSON metadata, so a file rebuilds its model with no YAML.
"""

from __future__ import annotations

import errno
import json
import pickle
import pickletools
import struct
import warnings
import zipfile
from pathlib import Path

import torch
from torch import Tensor

from ..errors import CheckpointError
from ..files import atomic_write  # noqa: F401 - where the checkpoint writers have always found it

SAFETENSORS_MAGIC_MAX_HEADER = 100_000_000
FORMAT = "motrans"
# Version of what our safetensors metadata holds. 1: `format_version`, and the whole config as JSON, where a field the
# file lacks (written before the config gained it) takes its default. Files without a version read as version 1 does.
# A change that old readers would misread (a renamed or re-meant field) raises it, and `config_metadata` migrates.
FORMAT_VERSION = 1


def is_safetensors(path: Path) -> bool:
    """A safetensors file starts with an 8-byte little-endian header length and a JSON header."""
    with open(path, "rb") as handle:
        head = handle.read(9)
    if len(head) < 9:
        return False
    size = int.from_bytes(head[:8], "little")
    return 0 < size < SAFETENSORS_MAGIC_MAX_HEADER and head[8:9] == b"{"


def read_pickle(path: Path, mmap: bool = False) -> dict:
    """torch.load with weights_only=True on CPU; any failure is one CheckpointError naming the file. `mmap`: a zip
    file's tensors are mapped, not read, until used (`motrans info` reads their shapes only)."""
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: empty file, not a checkpoint")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols before refusing anyway
            data = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap and zipfile.is_zipfile(path))
    except pickle.UnpicklingError as error:
        if "GLOBAL" in str(error) or _imports_code(path):  # a class or function the unpickler would import
            raise CheckpointError(f"{path}: refused: not a plain weights file; it may carry code, which a "
                                  "weights-only load never runs") from None
        raise CheckpointError(f"{path}: not a readable checkpoint (not a PyTorch file, or damaged)") from None
    except Exception as error:  # noqa: BLE001 - torch.load's failures (zip, pickle, safetensors, I/O) vary
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            raise
        raise CheckpointError(f"{path}: not a readable checkpoint ({_first_line(error)})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: not a checkpoint (holds a {type(data).__name__}, not a dict)")
    return data


def _imports_code(path: Path, most: int = 1_000_000) -> bool:
    """Whether a plain pickle file names a class or function (its opcodes are read, never run): torch's own
    unpickler stops at the first opcode it does not know, before it sees any such name."""
    try:
        with open(path, "rb") as handle:
            for count, (opcode, _, _) in enumerate(pickletools.genops(handle)):
                if count > most:
                    return False
                if opcode.name in ("GLOBAL", "STACK_GLOBAL", "INST", "OBJ"):
                    return True
    except (ValueError, EOFError, UnicodeDecodeError, struct.error):
        pass  # not a pickle (or a damaged one) from here on: nothing seen names code
    return False


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
    metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "config": json.dumps(config),
                **(extra or {})}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))


def check_finite(state: dict[str, Tensor], path: Path | str) -> None:
    """NaN or Inf weights make every frame garbage: refuse them at load, naming the first bad tensor."""
    for key, value in state.items():
        if value.is_floating_point() and not value.is_meta and not torch.isfinite(value).all():
            raise CheckpointError(f"{path}: weight {key!r} holds NaN or Inf values")


def config_metadata(metadata: dict[str, str], path: Path) -> dict:
    if metadata.get("format") != FORMAT or "config" not in metadata:
        raise CheckpointError(f"{path}: safetensors file without a motrans config in its metadata")
    format_version(metadata, path)
    try:
        return json.loads(metadata["config"])
    except json.JSONDecodeError:
        raise CheckpointError(f"{path}: its config metadata is not valid JSON") from None


def format_version(metadata: dict[str, str], path: Path) -> int:
    """The file's format version (0: written before versions were stored); a newer one than ours is refused rather
    than misread."""
    text = metadata.get("format_version", "0")
    if not text.isdigit():
        raise CheckpointError(f"{path}: format_version {text!r} in its metadata is not a whole number")
    if int(text) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: written by a newer motrans (file format {text}; this one reads up to "
                              f"{FORMAT_VERSION}): upgrade motrans to read it")
    return int(text)
