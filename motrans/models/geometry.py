"""Coordinate grids, Gaussian keypoint heatmaps and first-order part motions (Eq. 1)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from .motion import Motion


def full_precision(x: Tensor):
    """Coordinates, keypoints and warps stay in float32 under mixed precision: in bfloat16 a coordinate in
    [-1, 1] is off by up to half a pixel at 256², which shows. Convolutions still run in the low dtype."""
    if x.device.type not in ("cpu", "cuda", "mps", "xpu"):  # e.g. "meta", where capacity is counted
        return contextlib.nullcontext()
    return torch.autocast(x.device.type, enabled=False)


def coordinate_grid(height: int, width: int, dtype: torch.dtype = torch.float32, device=None) -> Tensor:
    """(h, w, 2) grid of (x, y) in [-1, 1] at pixel centres: x = 2·j/(w−1) − 1, computed in that order."""
    x = torch.arange(width, dtype=dtype, device=device)
    y = torch.arange(height, dtype=dtype, device=device)
    x = 2 * (x / (width - 1)) - 1
    y = 2 * (y / (height - 1)) - 1
    return torch.stack([x.view(1, -1).expand(height, width), y.view(-1, 1).expand(height, width)], dim=2)


def gaussian_heatmaps(kp: Tensor, height: int, width: int, variance: float) -> Tensor:
    """Keypoints (..., K, 2) -> heatmaps (..., K, h, w) = exp(−½‖z − kp‖² / variance)."""
    grid = coordinate_grid(height, width, kp.dtype, kp.device)
    diff = grid - kp[..., None, None, :]  # (..., K, h, w, 2)
    return torch.exp(-0.5 * (diff**2).sum(-1) / variance)


def covariance_heatmaps(kp: Tensor, covariance: Tensor, height: int, width: int) -> Tensor:
    """MRAA's full-covariance Gaussians: kp (..., K, 2), covariance (..., K, 2, 2) -> (..., K, h, w).

    exp(−½ (z − kp)ᵀ Σ⁻¹ (z − kp)), as two matmuls in the authors' order (peers.md §2.1).
    """
    grid = coordinate_grid(height, width, kp.dtype, kp.device)
    diff = grid - kp[..., None, None, :]  # (..., K, h, w, 2)
    inverse = torch.inverse(covariance)[..., None, None, :, :]  # (..., K, 1, 1, 2, 2)
    exponent = torch.matmul(torch.matmul(diff.unsqueeze(-2), inverse), diff.unsqueeze(-1))  # (..., K, h, w, 1, 1)
    return torch.exp(-0.5 * exponent.sum(dim=(-1, -2)))


def relative_affine(source: Tensor, driving: Tensor, revert_axis_swap: bool = False) -> Tensor:
    """A_S·A_Z⁻¹ for (..., 2, 2) affines. Inverse first, then product, as the authors do (mtia.md §3).

    With `revert_axis_swap` (MRAA) the product is multiplied by the sign of its (0, 0) entry: an SVD may flip a
    principal axis between the two frames, which would otherwise mirror the part.
    """
    affine = torch.matmul(source, torch.inverse(driving))
    return affine * torch.sign(affine[..., 0:1, 0:1]) if revert_axis_swap else affine


def region_covariance(motion: Motion) -> Tensor:
    """The covariance that shapes a part's heatmap: MRAA's estimate when carried, else A·Aᵀ (as MRAA's AVD)."""
    if motion.covariance is not None:
        return motion.covariance
    return torch.matmul(motion.jacobian, motion.jacobian.permute(0, 1, 3, 2))


def part_motions(grid: Tensor, source: Motion, driving: Motion, revert_axis_swap: bool = False) -> Tensor:
    """Eq. (1) at every grid point: T_k(z) = t_S + A_S·A_Z⁻¹·(z − t_Z).

    grid (h, w, 2); motions with kp (B, K, 2) and jacobian (B, K, 2, 2) or None. Returns (B, K, h, w, 2).
    """
    b, k = driving.kp.shape[:2]
    z = grid.view(1, 1, *grid.shape) - driving.kp.view(b, k, 1, 1, 2)
    if driving.jacobian is not None:
        affine = relative_affine(source.jacobian, driving.jacobian, revert_axis_swap)  # (B, K, 2, 2)
        z = torch.matmul(affine[:, :, None, None], z.unsqueeze(-1)).squeeze(-1)
    return z + source.kp.view(b, k, 1, 1, 2)


def background_motion(grid: Tensor, batch: int, transform: Tensor | None) -> Tensor:
    """The background part's motion: identity, or a (B, 3, 3) projective map of the grid. Returns (B, 1, h, w, 2)."""
    grid = grid.unsqueeze(0).expand(batch, *grid.shape)
    if transform is None:
        return grid.unsqueeze(1).contiguous()
    ones = torch.ones_like(grid[..., :1])
    mapped = torch.matmul(transform.view(batch, 1, 1, 3, 3), torch.cat([grid, ones], -1).unsqueeze(-1)).squeeze(-1)
    return (mapped[..., :2] / mapped[..., 2:3]).unsqueeze(1)
