"""The bench's own joint detector: one small CNN trained on the training puppets' true joints, then frozen.

It reads the joints of real and generated frames for AKD, MKR and the cross-identity score, the same network for
every method, so that no method grades itself. Heatmaps at 1/4 resolution, read by a soft-argmax; a joint counts as
found when the softmax mass in the 3×3 cells around its peak reaches a threshold set on real held-out frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data.synth import JOINT_NAMES

FOUND_QUANTILE = 0.05  # the threshold: 95% of the joints of real held-out frames count as found


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class JointDetector(nn.Module):
    """frames (B, 3, S, S) in [0, 1] -> heatmap logits (B, J, S/4, S/4). A small U: down to 1/16 for context (which
    limb is which), back up to 1/4 beside the 1/4 features for precision."""

    def __init__(self, width: int = 24, joints: int = len(JOINT_NAMES)):
        super().__init__()
        w = width
        self.fine = nn.Sequential(_conv(3, w, 2), _conv(w, w), _conv(w, 2 * w, 2), _conv(2 * w, 2 * w))
        self.coarse = nn.Sequential(_conv(2 * w, 4 * w, 2), _conv(4 * w, 4 * w), _conv(4 * w, 4 * w, 2),
                                    _conv(4 * w, 4 * w))
        # ~110 M multiply-adds a 128² frame, a third of them in this head
        self.head = nn.Sequential(nn.Conv2d(6 * w, 2 * w, 1), _conv(2 * w, 2 * w), nn.Conv2d(2 * w, joints, 1))

    def forward(self, frames: Tensor) -> Tensor:
        fine = self.fine(frames)
        coarse = F.interpolate(self.coarse(fine), size=fine.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(torch.cat([fine, coarse], dim=1))


def cell_centres(h: int, w: int, size: int) -> Tensor:
    """(h·w, 2) centres (x, y) of the heatmap cells in [-1, 1], pixel j ↦ 2·j/(S − 1) − 1 as `video_joints`."""
    ys, xs = ((torch.arange(n, dtype=torch.float32) + 0.5) * size / n - 0.5 for n in (h, w))
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(-1, 2)
    return 2 * grid / (size - 1) - 1


@dataclass
class Detection:
    joints: Tensor  # (B, J, 2) in [-1, 1]
    confidence: Tensor  # (B, J): softmax mass in the 3×3 cells around the peak


def read_heatmaps(logits: Tensor, size: int) -> Detection:
    """Heatmap logits (B, J, h, w) -> soft-argmax joints and their confidence."""
    b, j, h, w = logits.shape
    probs = logits.flatten(2).softmax(-1)  # (B, J, h·w)
    joints = probs @ cell_centres(h, w, size).to(logits)
    window = F.avg_pool2d(probs.reshape(b * j, 1, h, w), 3, 1, 1, count_include_pad=False) * 9
    return Detection(joints, window.reshape(b, j, -1).amax(-1))


def detector_loss(logits: Tensor, joints: Tensor, size: int) -> Tensor:
    """Soft-argmax L1 in pixels, plus a cross-entropy to a Gaussian (σ = 1 cell) at the true joint that keeps the
    heatmaps peaked, which the confidence relies on."""
    b, j, h, w = logits.shape
    centres = cell_centres(h, w, size).to(logits)
    cell = 2 * size / (w * (size - 1))  # one cell in [-1, 1] units
    distance = ((centres[None, None] - joints[:, :, None]) ** 2).sum(-1) / cell**2  # (B, J, h·w)
    target = torch.softmax(-distance / 2, dim=-1)
    cross_entropy = -(target * logits.flatten(2).log_softmax(-1)).sum(-1).mean()
    found = read_heatmaps(logits, size).joints
    return (found - joints).abs().mean() * (size - 1) / 2 + cross_entropy


def detect(detector: JointDetector, frames: list[np.ndarray], batch_size: int = 32) -> Detection:
    """uint8 (S, S, 3) frames -> their joints and confidences, in batches, without gradients."""
    size = frames[0].shape[0]
    out = []
    detector.eval()
    with torch.inference_mode():
        for start in range(0, len(frames), batch_size):
            batch = torch.from_numpy(np.stack(frames[start: start + batch_size])).permute(0, 3, 1, 2).float() / 255
            out.append(read_heatmaps(detector(batch), size))
    return Detection(torch.cat([d.joints for d in out]), torch.cat([d.confidence for d in out]))
