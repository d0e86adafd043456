"""Closed forms for the small linear algebra of the motion models, in ops every ONNX runtime has.

ONNX has no inverse, solve or SVD. The models need: 2×2 inverses (relative affines, MRAA's covariance heatmaps),
the SVD of MRAA's symmetric 2×2 covariance, and the inverse of TPSMM's (N+3)×(N+3) spline systems times a
right-hand side. These give the same numbers as `torch.linalg` within float32 round-off (tests/export); the torch
path keeps `torch.linalg`, and only the exported graphs use these (`tracing.closed_forms`).
"""

from __future__ import annotations

import torch
from torch import Tensor


def inverse_2x2(matrix: Tensor) -> Tensor:
    """(..., 2, 2) -> (..., 2, 2): [[d, −b], [−c, a]] / (ad − bc)."""
    a, b = matrix[..., 0, 0], matrix[..., 0, 1]
    c, d = matrix[..., 1, 0], matrix[..., 1, 1]
    determinant = a * d - b * c
    rows = [torch.stack([d, -b], -1), torch.stack([-c, a], -1)]
    return torch.stack(rows, -2) / determinant[..., None, None]


def symmetric_svd_2x2(matrix: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """SVD of symmetric positive semi-definite (..., 2, 2) matrices: U (..., 2, 2), S (..., 2) descending, Vᵀ = Uᵀ.

    λ = m ± r with m the mean of the diagonal and r = √(((a − c)/2)² + b²); the first axis is at angle
    ½·atan2(2b, a − c). Signs: U is a reflection (det −1) with U[0, 0] ≤ 0, which is LAPACK's choice for most
    matrices; where LAPACK picks −U instead, A = U·√S changes sign as a whole, which MRAA's `revert_axis_swap`
    undoes. At a near-isotropic Σ (r ≈ 0) any rotation is a valid U: the angle follows the off-isotropic part,
    like LAPACK's. A diagonal Σ (b = 0) gets LAPACK's axes as they are: I, or the swap where c > a.
    """
    a, b, c = matrix[..., 0, 0], matrix[..., 0, 1], matrix[..., 1, 1]
    half_difference = (a - c) / 2
    mean = (a + c) / 2
    radius = torch.sqrt(half_difference * half_difference + b * b)
    angle = torch.atan2(2 * b, a - c) / 2  # in (−π/2, π/2]
    cos, sin = torch.cos(angle), torch.sin(angle)
    cos, sin = -cos, -sin  # the first axis with a non-positive x, as LAPACK's
    u = torch.stack([torch.stack([cos, sin], -1), torch.stack([sin, -cos], -1)], -2)  # columns: axis 1, axis 2
    swap = (c > a).to(matrix.dtype)
    axes = torch.stack([torch.stack([1 - swap, swap], -1), torch.stack([swap, 1 - swap], -1)], -2)
    u = torch.where((b == 0)[..., None, None], axes, u)
    s = torch.stack([mean + radius, (mean - radius).abs()], -1)
    return u, s, u.transpose(-1, -2)


def solve_by_elimination(system: Tensor, rhs: Tensor) -> Tensor:
    """system⁻¹·rhs for small fixed-size systems: (..., n, n), (..., n, m) -> (..., n, m).

    Gauss-Jordan elimination with partial pivoting, unrolled over the n columns (n = 8 for TPSMM): each step
    moves the row with the largest pivot up by a gather, then clears the column everywhere else.
    """
    n = system.shape[-1]
    augmented = torch.cat([system, rhs], -1)  # (..., n, n + m)
    rows = torch.arange(n, device=system.device)
    for k in range(n):
        pivot = torch.argmax(augmented[..., k:, k].abs(), dim=-1, keepdim=True) + k  # (..., 1)
        order = torch.where(rows == k, pivot, torch.where(rows == pivot, k, rows))  # swap rows k and pivot
        augmented = torch.gather(augmented, -2, order.unsqueeze(-1).expand(augmented.shape))
        top = augmented[..., k:k + 1, :] / augmented[..., k:k + 1, k:k + 1]  # (..., 1, n + m)
        cleared = augmented - augmented[..., :, k:k + 1] * top
        augmented = torch.where((rows == k).view(n, 1), top, cleared)
    return augmented[..., n:]
