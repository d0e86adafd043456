"""Quality bar of the packaged demo model, on puppets it never saw (held-out seeds).

    python benchmarks/demo_quality.py [--checkpoint FILE] [--videos 20] [--frames 32] [--json OUT]

1. Reconstruction: for each of 20 held-out puppet videos, the first frame is the source and every frame is driven
   by itself (the paper's protocol). Mean L1 of the model against the no-motion baseline (output = first frame).
   Target: model <= 0.5 x no-motion.
2. Cross-identity animation: each held-out source puppet is animated (relative mode) by another held-out puppet's
   video. The model's own keypoints are measured on the driving frames and on the results; the results follow the
   driving video when their keypoint displacements from frame 0 match the driving ones. Printed: the mean error of
   those displacements against the error of a result that does not move (output = source), and their correlation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from motrans.animate import Animator  # noqa: E402
from motrans.checkpoints import load_model  # noqa: E402
from motrans.data.synth import render_video, video_seed  # noqa: E402
from motrans.demo import HELD_OUT  # noqa: E402
from motrans.evaluate.reconstruction import l1, reconstruct  # noqa: E402
from motrans.packaged import packaged_model_path  # noqa: E402

FIRST = 100  # held-out indices from here on: the demo itself uses 0 and 1


def held_out(index: int, frames: int, size: int) -> list[np.ndarray]:
    return list(render_video(video_seed(HELD_OUT, FIRST + index), frames=frames, size=size))


def reconstruction(animator: Animator, videos: list[list[np.ndarray]]) -> tuple[float, float]:
    """(model L1, no-motion L1), each the mean over videos of the mean over frames."""
    model = [np.mean([l1(real, fake) for real, fake in reconstruct(animator, video)]) for video in videos]
    still = [np.mean([l1(frame, video[0]) for frame in video]) for video in videos]
    return float(np.mean(model)), float(np.mean(still))


def displacements(animator: Animator, frames: list[np.ndarray]) -> np.ndarray:
    """(T, K, 2) keypoint displacements from frame 0, measured by the model."""
    kp = animator.estimate(frames).kp.numpy()
    return kp - kp[:1]


def cross_identity(animator: Animator, videos: list[list[np.ndarray]]) -> dict[str, float]:
    errors, still_errors, correlations = [], [], []
    for i, driving in enumerate(videos):
        source = videos[(i + 1) % len(videos)][0]
        results = list(animator.animate(source, driving, mode="relative"))
        wanted, got = displacements(animator, driving), displacements(animator, results)
        errors.append(np.abs(got - wanted).mean())
        still_errors.append(np.abs(wanted).mean())
        correlations.append(np.corrcoef(got.ravel(), wanted.ravel())[0, 1])
    return {"keypoint_error": float(np.mean(errors)), "keypoint_error_still": float(np.mean(still_errors)),
            "keypoint_correlation": float(np.nanmean(correlations))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="default: the packaged demo model")
    parser.add_argument("--videos", type=int, default=20)
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.manual_seed(0)
    animator = Animator(load_model(args.checkpoint or packaged_model_path()), "cpu")
    size = animator.frame_size[0]
    videos = [held_out(i, args.frames, size) for i in range(args.videos)]
    model_l1, still_l1 = reconstruction(animator, videos)
    figures = {"videos": args.videos, "l1": model_l1, "no_motion_l1": still_l1, "ratio": model_l1 / still_l1,
               **cross_identity(animator, videos)}
    print(json.dumps(figures, indent=2))
    print(f"reconstruction L1 {model_l1:.4f} vs no motion {still_l1:.4f}: {figures['ratio']:.2f}x (target <= 0.50)")
    print(f"cross-identity keypoint displacement error {figures['keypoint_error']:.4f} vs a still result "
          f"{figures['keypoint_error_still']:.4f}; correlation {figures['keypoint_correlation']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
