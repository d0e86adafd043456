"""Coordinate grids, Gaussian keypoint heatmaps and first-order part motions (Eq. 1)."""

from __future__ import annotations

import contextlib

import torch
from torch import Tensor


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


def part_motions(grid: Tensor, source: "Motion", driving: "Motion") -> Tensor:  # noqa: F821
    """Eq. (1) at every grid point: T_k(z) = t_S + A_S·A_Z⁻¹·(z − t_Z).

    grid (h, w, 2); motions with kp (B, K, 2) and jacobian (B, K, 2, 2) or None. Returns (B, K, h, w, 2).
    """
    b, k = driving.kp.shape[:2]
    z = grid.view(1, 1, *grid.shape) - driving.kp.view(b, k, 1, 1, 2)
    if driving.jacobian is not None:
        # Inverse first, then product, as the authors do (mtia.md §3).
        affine = torch.matmul(source.jacobian, torch.inverse(driving.jacobian))  # (B, K, 2, 2)
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
