"""The page's bundled examples: puppets drawn by `motrans synth` at start (no media ships with motrans), from the
held-out seeds that `motrans demo` uses, so the packaged model never saw them."""

from __future__ import annotations

from pathlib import Path

from ..data.synth import render_video, video_seed
from ..data.video import VideoWriter
from ..demo import FPS, HELD_OUT
from ..files import atomic_write


def write_examples(folder: Path, count: int = 2, frames: int = 36, size: int = 128) -> list[tuple[Path, Path]]:
    """`count` (source PNG, driving mp4) pairs in `folder`; a pair already there is kept."""
    folder.mkdir(parents=True, exist_ok=True)
    pairs = []
    for i in range(count):
        source, driving = folder / f"puppet-{i + 1}.png", folder / f"puppet-dance-{i + 1}.mp4"
        if not source.is_file():
            _write_png(source, next(render_video(video_seed(HELD_OUT, 2 * i), frames=1, size=size)))
        if not driving.is_file():
            with VideoWriter(driving, FPS) as writer:
                for frame in render_video(video_seed(HELD_OUT, 2 * i + 1), frames=frames, size=size):
                    writer.write(frame)
        pairs.append((source, driving))
    return pairs


def _write_png(path: Path, image) -> None:
    from PIL import Image

    atomic_write(path, lambda tmp: Image.fromarray(image).save(tmp, format="PNG"))
