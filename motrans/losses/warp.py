"""TPSMM's warp loss (Zhao & Zhang, CVPR 2022, Sec. 3.5): the flow must carry the source's encoder features onto
the driving frame's.

At every level of the inpainting generator's encoder, the source features warped by the flow should equal the
driving frame's own features, both masked by that level's occlusion mask. The features and masks reach the loss
detached (`InpaintingGenerator.warped_features` / `masked_features`), so it trains the deformation only.
"""

from __future__ import annotations

import torch
from torch import Tensor


def warp_loss(warped: list[Tensor], targets: list[Tensor]) -> Tensor:
    """Σ_levels mean|target − warped|; lists of (B, C_l, H_l, W_l), the same order (finest first)."""
    total = 0
    for prediction, target in zip(warped, targets, strict=True):
        total = total + torch.abs(target - prediction).mean()
    return total
