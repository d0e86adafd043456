"""`motrans demo`: animate a puppet the model never saw with another unseen puppet's motion, side by side.

The source is a new identity (texture, proportions, background) from a held-out seed; the driving puppet too. The
result shows source | driving | animated source, optionally with the model's keypoints drawn on each.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .animate.pipeline import Animator
from .data.synth import render_video, video_seed
from .data.video import VideoWriter, check_output
from .train.logging import draw_keypoints

HELD_OUT = 90_210  # training data uses video_seed(0, i); these seeds never occur there
FPS = 12


def demo_inputs(size: int, frames: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """(source image, driving frames) of two puppets from held-out seeds, at `size`."""
    source = next(render_video(video_seed(HELD_OUT, 0), frames=1, size=size))
    driving = list(render_video(video_seed(HELD_OUT, 1), frames=frames, size=size))
    return source, driving


def run_demo(output: str | Path, animator: Animator, frames: int = 64, show_keypoints: bool = False,
             mode: str = "relative") -> Path:
    check_output(output)
    size = animator.frame_size[0]
    source, driving = demo_inputs(size, frames)
    results = list(animator.animate(source, driving, mode=mode))
    if show_keypoints:
        source, driving, results = _with_keypoints(animator, source, driving, results)
    else:
        source = [source] * len(driving)
    with VideoWriter(output, FPS) as writer:
        for s, d, r in zip(source, driving, results):
            writer.write(np.concatenate([s, d, r], axis=1))
    print(f"motrans: wrote {output}: source | driving | result, {len(results)} frames", file=sys.stderr)
    return Path(output)


def _with_keypoints(animator: Animator, source, driving, results):
    """Draws the model's own keypoints on every panel (on the result, as measured on the result)."""
    marked = []
    for panel in ([source] * len(driving), driving, results):
        kp = animator.estimate(panel).kp
        marked.append([draw_keypoints(image, kp[i]) for i, image in enumerate(panel)])
    return marked
