"""The model that ships inside the package: a small MoTrans trained on synthetic puppets (float16 safetensors,
SHA-256 checked at load). It is what `motrans animate` and `motrans demo` use when no checkpoint is given."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .checkpoints.io import read_safetensors, write_safetensors
from .errors import CheckpointError

ASSETS = Path(__file__).parent / "assets"
NAME = "motrans-puppets128"


def packaged_model_path() -> Path:
    """The packaged weights, after checking their SHA-256 against the recorded one."""
    path, digest = ASSETS / f"{NAME}.safetensors", ASSETS / f"{NAME}.sha256"
    if not path.is_file() or not digest.is_file():
        raise CheckpointError(f"{path}: the packaged model is missing from this installation; pass --checkpoint")
    expected = digest.read_text().split()[0]
    if sha256(path) != expected:
        raise CheckpointError(f"{path}: SHA-256 mismatch (expected {expected[:12]}…): the packaged model is "
                              "corrupted; reinstall motrans")
    return path


def packaged_checkpoint(say) -> Path:
    """The packaged weights for a command given no checkpoint, and one line saying so and what that means."""
    path = packaged_model_path()
    say(f"no --checkpoint: using the packaged demo model {path.name}, trained on synthetic puppets (128x128): it "
        "turns a photo into a caricature; photos need the authors' weights (README, Weights)")
    return path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package(source: str | Path, name: str = NAME, directory: Path = ASSETS) -> Path:
    """Writes a trained safetensors model as float16 into `directory`, with its SHA-256 beside it."""
    import json

    state, metadata = read_safetensors(Path(source))
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items() if not k.startswith("discriminator.")}
    target = directory / f"{name}.safetensors"
    write_safetensors(target, half, json.loads(metadata["config"]))
    (directory / f"{name}.sha256").write_text(f"{sha256(target)}  {target.name}\n")
    return target

