"""Background losses: the mask losses of Eqs. (11)-(12) (with the background predictor, TaiChiHD), and TPSMM's
cycle loss on the background predictor itself."""

from __future__ import annotations

import torch
from torch import Tensor

from ..models.geometry import coordinate_grid


def background_mask(mask: Tensor, has_background_motion: bool) -> Tensor:
    """Eq. (11): mean|1 − M_0| + (10/K)·mean|M_k|. mask (B, K+1, h, w).

    Without a background predictor the authors count channels 0 and 1 as background (a latent bug of theirs,
    kept: their configs never use it that way).
    """
    k = mask.shape[1] - 1
    if has_background_motion:
        back, fore = mask[:, 0], mask[:, 1:]
    else:
        back, fore = mask[:, 0] + mask[:, 1], mask[:, 2:]
    return torch.abs(back - 1).mean() + torch.abs(fore).mean() * (10.0 / k)


def mask_concentration(mask: Tensor) -> Tensor:
    """Eq. (12): Σ_k spatial variance of the normalised part mask M_k, averaged over the batch."""
    fore = mask[:, 1:]
    weights = fore / (fore.sum(dim=(2, 3), keepdim=True) + 1e-8)  # (B, K, h, w)
    grid = coordinate_grid(*mask.shape[2:], mask.dtype, mask.device)  # (h, w, 2)
    mean = (weights.unsqueeze(-1) * grid).sum(dim=(2, 3), keepdim=True)  # (B, K, 1, 1, 2)
    spread = torch.norm(grid - mean, dim=-1).pow(2) * weights
    return spread.sum(dim=(1, 2, 3)).mean()


def background_cycle(forward: Tensor, backward: Tensor) -> Tensor:
    """TPSMM's `bg` loss: mean|I − A_sd·A_ds| over (B, 3, 3). forward = BG(source, driving), backward =
    BG(driving, source): the two predicted background transforms should undo each other."""
    composed = torch.matmul(forward, backward)
    return torch.abs(torch.eye(3, dtype=composed.dtype, device=composed.device) - composed).mean()
