"""The bench's data: one synthetic puppet set (`motrans synth`), its held-out split, and the true joints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.synth import video_joints, write_dataset
from ..errors import InputError
from ..progress import Progress


@dataclass(frozen=True)
class Video:
    folder: Path
    seed: int  # its `render_video` seed: the true joints are `video_joints(seed, …)`
    frames: int
    size: int

    def read(self, step: int = 1) -> list[np.ndarray]:
        """Every `step`-th frame, (S, S, 3) uint8."""
        from PIL import Image

        files = sorted(self.folder.glob("*.png"))[::step]
        return [np.asarray(Image.open(f).convert("RGB")) for f in files]

    def joints(self, step: int = 1) -> np.ndarray:
        """(T, J, 2) true joints in [-1, 1] of the same frames."""
        return video_joints(self.seed, self.frames, self.size)[::step]


@dataclass(frozen=True)
class Puppets:
    root: Path
    train: tuple[Video, ...]
    test: tuple[Video, ...]  # new seeds: new textures, proportions, backgrounds and motions


def make_puppets(root: Path, videos: int, frames: int, size: int, seed: int) -> Puppets:
    """The set at `root`, written when missing; an existing one must be the one asked for."""
    wanted = {"videos": videos, "frames": frames, "size": size, "seed": seed}
    if not (root / "synth.json").is_file():
        progress = Progress(videos, "puppet videos")
        write_dataset(root, videos, frames, size, seed, test_fraction=max(0.1, 2 / videos),  # 2 for cross-identity
                      progress=lambda n: progress.update(n - progress.count))
        progress.close()
    summary = json.loads((root / "synth.json").read_text())
    found = {key: summary.get(key) for key in wanted}
    if found != wanted:
        raise InputError(f"{root}: holds another puppet set ({found}, not {wanted}); use another --out")
    split = {name: tuple(Video(root / key, int(s), frames, size) for key, s in sorted(summary["seeds"].items())
                         if key.startswith(f"{name}/")) for name in ("train", "test")}
    return Puppets(root, split["train"], split["test"])
