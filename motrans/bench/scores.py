"""The bench's scores of one trained model on held-out puppets (all distances in pixels of the S×S frame).

* L1: the paper's reconstruction protocol (frame 0 is the source, each frame drives itself).
* keypoints → joints: the linear map fitted on training frames, its error on held-out ones (`regression`).
* AKD, MKR: the bench's detector on each real frame and its reconstruction. AKD averages the joints found in
  both; MKR is the share of joints found in the real frame and not in the generated one.
* cross-identity: puppet a animated by puppet b's video (relative motion); error of the result's joint motion,
  Ĵ(t) − Ĵ(0) by the detector, against b's true joint motion J(t) − J(0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..animate.pipeline import Animator
from ..evaluate.reconstruction import l1, reconstruct
from .detector import Detection, JointDetector, detect
from .puppets import Puppets, Video
from .regression import chance_map, fit_linear, pixel_error


@dataclass(frozen=True)
class Judge:
    """What scores every method alike: the held-out set, the detector and its threshold."""

    puppets: Puppets
    detector: JointDetector
    threshold: float
    fit_step: int = 4  # the regression is fitted on every 4th training frame

    @property
    def size(self) -> int:
        return self.puppets.test[0].size


def reconstructions(animator: Animator, videos: tuple[Video, ...]) -> tuple[list, list]:
    """Real and generated frames of every video, in order."""
    real, fake = [], []
    for video in videos:
        for r, g in reconstruct(animator, video.read(), batch_size=8):
            real.append(r)
            fake.append(g)
    return real, fake


def held_out_l1(animator: Animator, videos: tuple[Video, ...]) -> float:
    real, fake = reconstructions(animator, videos)
    return float(np.mean([l1(r, g) for r, g in zip(real, fake)]))


def keypoints(animator: Animator, frames: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
    """(N, K, 2) keypoints of the frames (TPSMM: its 5·K control points)."""
    return torch.cat([animator.estimate(frames[i: i + batch_size]).kp.float()
                      for i in range(0, len(frames), batch_size)]).cpu().numpy()


def keypoint_error(animator: Animator, judge: Judge) -> float:
    train = [(f, j) for v in judge.puppets.train for f, j in zip(v.read(judge.fit_step), v.joints(judge.fit_step))]
    mapping = fit_linear(keypoints(animator, [f for f, _ in train]), np.stack([j for _, j in train]))
    test = [f for v in judge.puppets.test for f in v.read()]
    truth = np.concatenate([v.joints() for v in judge.puppets.test])
    return pixel_error(mapping(keypoints(animator, test)), truth, judge.size)


def akd_mkr(real: Detection, fake: Detection, threshold: float, size: int) -> tuple[float, float]:
    found_real, found_fake = real.confidence >= threshold, fake.confidence >= threshold
    both = found_real & found_fake
    distance = torch.linalg.vector_norm((real.joints - fake.joints) * (size - 1) / 2, dim=-1)
    akd = float(distance[both].mean()) if both.any() else float("nan")
    mkr = float((found_real & ~found_fake).sum() / found_real.sum().clamp(min=1))
    return akd, mkr


def cross_pairs(videos: tuple[Video, ...]) -> list[tuple[Video, Video]]:
    """Each held-out puppet driven by the next one's video."""
    return [(videos[i], videos[(i + 1) % len(videos)]) for i in range(len(videos))] if len(videos) > 1 else []


def motion_error(found: np.ndarray, truth: np.ndarray, size: int) -> float:
    """(T, J, 2) joints of a result against (T, J, 2) true driving joints, both relative to their frame 0."""
    return pixel_error(found - found[:1], truth - truth[:1], size)


def cross_identity(animator: Animator, judge: Judge) -> float:
    errors = []
    for source, driving in cross_pairs(judge.puppets.test):
        frames = list(animator.animate(source.read()[0], driving.read(), mode="relative", batch_size=8))
        errors.append(motion_error(detect(judge.detector, frames).joints.numpy(), driving.joints(), judge.size))
    return float(np.mean(errors)) if errors else float("nan")


def score(animator: Animator, judge: Judge) -> dict:
    """Every figure of a table row for one trained model."""
    real, fake = reconstructions(animator, judge.puppets.test)
    akd, mkr = akd_mkr(detect(judge.detector, real), detect(judge.detector, fake), judge.threshold, judge.size)
    return {"l1": float(np.mean([l1(r, g) for r, g in zip(real, fake)])), "akd_px": akd, "mkr": mkr,
            "keypoints_px": keypoint_error(animator, judge), "cross_identity_px": cross_identity(animator, judge)}


def references(judge: Judge) -> dict:
    """Method-independent rows: 'no motion' (the source frame for every frame) and chance keypoints (mean pose)."""
    test = judge.puppets.test
    real = [f for v in test for f in v.read()]
    still = [v.read()[0] for v in test for _ in range(v.frames)]
    akd, mkr = akd_mkr(detect(judge.detector, real), detect(judge.detector, still), judge.threshold, judge.size)
    train = np.concatenate([v.joints(judge.fit_step) for v in judge.puppets.train])
    truth = np.concatenate([v.joints() for v in test])
    chance = pixel_error(chance_map(train)(np.zeros((len(truth), 0, 2))), truth, judge.size)
    cross = [motion_error(np.repeat(d.joints()[:1], d.frames, 0), d.joints(), judge.size) for _, d in cross_pairs(test)]
    return {"l1": float(np.mean([l1(r, s) for r, s in zip(real, still)])), "akd_px": akd, "mkr": mkr,
            "keypoints_px": chance, "cross_identity_px": float(np.mean(cross)) if cross else float("nan")}
