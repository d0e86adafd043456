"""A tiny evaluation dataset: frame folders of random 64×64 PNGs (the tiny model's size), fast to write and read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_frames(folder: Path, count: int, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(folder / f"{index:04d}.png")
    return folder


def write_dataset(root: Path, clips: int = 2, frames: int = 2) -> Path:
    """ROOT/test/clipN/0000.png …; returns ROOT."""
    for clip in range(clips):
        write_frames(root / "test" / f"clip{clip}", frames, seed=clip)
    return root
