"""A prior on where keypoints sit: ours, not in any authors' recipe (off by default).

Regressed keypoints (MoTrans reads them off motion tokens, not heatmaps) get a gradient only from the pixels their
Gaussians cover, so once they settle together on the part that moves most (a body's torso), nothing pulls one of
them onto a limb. Pushing them apart lets reconstruction find the parts they are near (docs/demo_model.md).
"""

from __future__ import annotations

import torch
from torch import Tensor


def separation(kp: Tensor, sigma: float) -> Tensor:
    """Mean over ordered pairs j != k of exp(-|kp_j - kp_k|² / (2 sigma²)). kp (B, K, 2) -> scalar in [0, 1].

    1 when all K keypoints coincide; a pair farther apart than ~3 sigma costs nothing, so they are not driven to
    the frame's edges.
    """
    k = kp.shape[1]
    if k < 2:
        return kp.new_zeros(())
    squared = (kp.unsqueeze(2) - kp.unsqueeze(1)).pow(2).sum(-1)  # (B, K, K)
    pairs = torch.exp(-squared / (2 * sigma ** 2))
    off_diagonal = pairs.sum(dim=(1, 2)) - k  # the diagonal is exactly 1
    return (off_diagonal / (k * (k - 1))).mean()
