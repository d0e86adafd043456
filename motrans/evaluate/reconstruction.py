"""The paper's reconstruction protocol: the first frame of a video is the source, every frame is driven by itself
with absolute motion (and the background motion, where the model predicts one), and the result is compared with the
real frame."""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from ..animate.pipeline import Animator


def reconstruct(animator: Animator, frames: Iterable[np.ndarray],
                batch_size: int = 4) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yields (real, generated) uint8 frame pairs; frame 0 is the source (the authors' reconstruction.py)."""
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        return
    source = animator.encode_source(first, "crop")
    batch = [animator.fitted(first)]
    for frame in frames:
        batch.append(animator.fitted(frame))
        if len(batch) == batch_size:
            yield from zip(batch, animator.reconstruct(source, batch))
            batch = []
    if batch:
        yield from zip(batch, animator.reconstruct(source, batch))


def l1(real: np.ndarray, generated: np.ndarray) -> float:
    """Mean absolute difference in [0, 1], as the authors compute it."""
    return float(np.abs(real.astype(np.float32) / 255 - generated.astype(np.float32) / 255).mean())


def video_l1(animator: Animator, frames: Iterable[np.ndarray], batch_size: int = 4) -> float:
    values = [l1(real, fake) for real, fake in reconstruct(animator, frames, batch_size)]
    return float(np.mean(values)) if values else float("nan")


def no_motion_l1(frames: Iterable[np.ndarray], size: tuple[int, int]) -> float:
    """The baseline that outputs the source (first) frame for every frame."""
    from ..data.image import fit

    frames = [fit(f, size, "crop") for f in frames]
    return float(np.mean([l1(f, frames[0]) for f in frames]))

