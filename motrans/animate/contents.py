"""What a checkpoint file holds, read off its keys without building a model: the checks that must come before the
model loads (`animate --mode avd` on a model without an AVD network)."""

from __future__ import annotations

from pathlib import Path

AVD_KEYS = ("avd.", "avd_network")  # ours (safetensors, checkpoint.pt) and the authors' top-level entry


def holds_avd(path: str | Path) -> bool | None:
    """Whether the checkpoint at `path` carries an AVD network; None where its keys cannot be read cheaply (the
    loader then checks, and names any problem with the file)."""
    keys = _keys(Path(path))
    return None if keys is None else any(key.startswith(AVD_KEYS) for key in keys)


def _keys(path: Path) -> list[str] | None:
    from ..checkpoints.io import is_safetensors

    if not path.is_file():
        return None
    if is_safetensors(path):
        return _safetensors_keys(path)
    return _pickle_keys(path)


def _safetensors_keys(path: Path) -> list[str] | None:
    from safetensors import safe_open

    try:
        with safe_open(str(path), "pt") as handle:  # the header only: no tensor is read
            return list(handle.keys())
    except Exception:  # noqa: BLE001 - a damaged file: the loader's error names it
        return None


def _pickle_keys(path: Path) -> list[str] | None:
    """The top-level keys of a torch.save zip, memory-mapped by the loader's own reader (tensors are not read), and
    those of a training checkpoint's `model`; a legacy pickle, which cannot be mapped, says None."""
    import zipfile

    from ..checkpoints.io import read_pickle
    from ..errors import CheckpointError

    if not zipfile.is_zipfile(path):
        return None
    try:
        data = read_pickle(path, mmap=True)
    except CheckpointError:  # refused or unreadable: the loader's error names it
        return None
    model = data.get("model")
    inner = list(model) if data.get("format") == "motrans-train" and isinstance(model, dict) else []
    return [str(key) for key in data] + [str(key) for key in inner]
