"""`--find-best-frame`: the driving frame whose pose is closest to the source's, by the model's own keypoints.

The authors' demo uses a face-landmark network for this, which works for faces only. The model's keypoints exist
for any object, so we compare those, each set centred on its mean and scaled by its convex hull's size.
"""

from __future__ import annotations

import math

import torch

from .normalize import hull_area


def normalized(kp: torch.Tensor) -> torch.Tensor:
    """(K, 2) -> (K, 2): centred, and divided by sqrt(hull area) so that size does not count."""
    centred = kp - kp.mean(dim=0, keepdim=True)
    area = hull_area(kp.cpu().numpy())
    return centred / math.sqrt(area) if area > 0 else centred


def best_frame(source_kp: torch.Tensor, driving_kp: torch.Tensor) -> int:
    """source_kp (K, 2), driving_kp (T, K, 2) -> the index of the closest driving frame."""
    reference = normalized(source_kp.float())
    distances = [((normalized(kp.float()) - reference) ** 2).sum().item() for kp in driving_kp]
    return int(min(range(len(distances)), key=distances.__getitem__))
