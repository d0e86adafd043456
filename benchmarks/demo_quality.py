"""Quality bar of the packaged demo model, on puppets it never saw (held-out seeds).

    python benchmarks/demo_quality.py [--checkpoint FILE] [--videos 20] [--frames 32] [--json OUT]

1. Reconstruction: for each of 20 held-out puppet videos, the first frame is the source and every frame is driven
   by itself (the paper's protocol). Mean L1 of the model against the no-motion baseline (output = first frame).
   Target: model <= 0.5 x no-motion.
2. Cross-identity animation: each held-out source puppet is animated (relative mode) by another held-out puppet's
   video. The model's own keypoints are measured on the driving frames and on the results; the results follow the
   driving video when their keypoint displacements from frame 0 match the driving ones. Printed: the mean error of
   those displacements against the error of a result that does not move (output = source), and their correlation.
   The same for the limb keypoints alone, relative to the body: the keypoints that sit, in the driving video's
   first frame, nearer to an elbow, knee, hand or foot of the driving puppet (the synthetic joints) than to any
   other joint; their displacements minus the mean displacement of all K keypoints, so that a keypoint riding the
   body's global motion scores no better than a still result.
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
from motrans.data.synth import LIMB_JOINTS, render_video, video_joints, video_seed  # noqa: E402
from motrans.demo import HELD_OUT  # noqa: E402
from motrans.evaluate.reconstruction import l1, reconstruct  # noqa: E402
from motrans.machine import describe, summary  # noqa: E402
from motrans.packaged import packaged_model_path  # noqa: E402

FIRST = 100  # held-out indices from here on: the demo itself uses 0 and 1


def held_out(index: int, frames: int, size: int) -> list[np.ndarray]:
    return list(render_video(video_seed(HELD_OUT, FIRST + index), frames=frames, size=size))


def held_out_joints(index: int, frames: int, size: int) -> np.ndarray:
    """(T, J, 2) the true joints of held_out(index, …), in [-1, 1] as the keypoints."""
    return video_joints(video_seed(HELD_OUT, FIRST + index), frames, size)


def limb_keypoints(kp: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """Indices of the keypoints (K, 2) whose nearest joint (J, 2) is an elbow/knee or a hand/foot."""
    nearest = np.linalg.norm(kp[:, None] - joints[None], axis=-1).argmin(axis=1)
    return np.flatnonzero(np.isin(nearest, LIMB_JOINTS))


def reconstruction(animator: Animator, videos: list[list[np.ndarray]]) -> tuple[float, float]:
    """(model L1, no-motion L1), each the mean over videos of the mean over frames."""
    model = [np.mean([l1(real, fake) for real, fake in reconstruct(animator, video)]) for video in videos]
    still = [np.mean([l1(frame, video[0]) for frame in video]) for video in videos]
    return float(np.mean(model)), float(np.mean(still))


def keypoints(animator: Animator, frames: list[np.ndarray]) -> np.ndarray:
    """(T, K, 2) the model's keypoints on each frame."""
    return animator.estimate(frames).kp.numpy()


def following(got: np.ndarray, wanted: np.ndarray) -> tuple[float, float, float]:
    """(error, error of a still result, correlation) of displacements `got` against `wanted` (T, K', 2)."""
    return (float(np.abs(got - wanted).mean()), float(np.abs(wanted).mean()),
            float(np.corrcoef(got.ravel(), wanted.ravel())[0, 1]))


def cross_identity(animator: Animator, videos: list[list[np.ndarray]], joints: list[np.ndarray]) -> dict[str, float]:
    """joints[i] (T, J, 2): the true joints of videos[i]."""
    every, limbs, counts = [], [], []
    for i, driving in enumerate(videos):
        source = videos[(i + 1) % len(videos)][0]
        results = list(animator.animate(source, driving, mode="relative"))
        kp_driving, kp_results = keypoints(animator, driving), keypoints(animator, results)
        wanted, got = kp_driving - kp_driving[:1], kp_results - kp_results[:1]  # displacements from frame 0
        every.append(following(got, wanted))
        chosen = limb_keypoints(kp_driving[0], joints[i][0])
        counts.append(len(chosen))
        if len(chosen):
            limbs.append(following((got - got.mean(1, keepdims=True))[:, chosen],
                                   (wanted - wanted.mean(1, keepdims=True))[:, chosen]))
    figures = dict(zip(("keypoint_error", "keypoint_error_still", "keypoint_correlation"), np.nanmean(every, 0)))
    figures["limb_keypoints_per_video"] = float(np.mean(counts))
    if limbs:
        figures.update(zip(("limb_error", "limb_error_still", "limb_correlation"), np.nanmean(limbs, 0)))
    return {k: float(v) for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="default: the packaged demo model")
    parser.add_argument("--videos", type=int, default=20)
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--json")
    args = parser.parse_args()
    machine = describe()
    print(summary(machine), flush=True)
    torch.manual_seed(0)
    animator = Animator(load_model(args.checkpoint or packaged_model_path()), "cpu")
    size = animator.frame_size[0]
    videos = [held_out(i, args.frames, size) for i in range(args.videos)]
    joints = [held_out_joints(i, args.frames, size) for i in range(args.videos)]
    model_l1, still_l1 = reconstruction(animator, videos)
    figures = {"machine": machine, "videos": args.videos, "l1": model_l1, "no_motion_l1": still_l1,
               "ratio": model_l1 / still_l1, **cross_identity(animator, videos, joints)}
    print(json.dumps(figures, indent=2))
    print(f"reconstruction L1 {model_l1:.4f} vs no motion {still_l1:.4f}: {figures['ratio']:.2f}x (target <= 0.50)")
    print(f"cross-identity keypoint displacement error {figures['keypoint_error']:.4f} vs a still result "
          f"{figures['keypoint_error_still']:.4f}; correlation {figures['keypoint_correlation']:.2f}")
    if "limb_error" in figures:
        print(f"limb keypoints ({figures['limb_keypoints_per_video']:.1f} per video), relative to the body: error "
              f"{figures['limb_error']:.4f} vs a still result {figures['limb_error_still']:.4f}; correlation "
              f"{figures['limb_correlation']:.2f}")
    else:
        print("limb keypoints: none of the model's keypoints sits nearest to an elbow, knee, hand or foot")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
