"""Thin-plate splines through control points: TPSMM's part motion (Zhao & Zhang, CVPR 2022, Eq. 2-4).

Each of the K transforms is fitted to 5 point pairs and maps driving coordinates to source coordinates:
T(p) = A·[p, 1] + Σᵢ wᵢ·U(‖p − cᵢ‖), with U(r) = r²·log r² and cᵢ the driving points.

The fit is the authors', not the textbook one (`peers.md` Addenda): the ridge 0.01 is added to the whole system
matrix, affine block included, so equal point sets still give a small warp (about 0.6 px on average at 64²), and
the system is solved as inverse(L) @ Y. `torch.linalg.solve` agrees within round-off; the inverse keeps us equal to
the released models' outputs bit for bit.
"""

from __future__ import annotations

import torch
from torch import Tensor

POINTS = 5  # control points per transform, fixed in the authors' code
RIDGE = 0.01  # added to every diagonal entry of the (N+3)×(N+3) system
EPSILON = 1e-9  # inside the log, so that U(0) = 0


def radial_basis(squared_distance: Tensor) -> Tensor:
    """U = r²·log r², given r²."""
    return squared_distance * torch.log(squared_distance + EPSILON)


def fit(driving: Tensor, source: Tensor, ridge: float = RIDGE) -> tuple[Tensor, Tensor]:
    """The K regularised TPS through (driving → source): (B, K, N, 2) each -> affine (B, K, 2, 3), weights (B, K, N, 2).

    Solves [[U(‖cᵢ − cⱼ‖), P], [Pᵀ, 0]] + ridge·I = L for [w; A] with right-hand side [source; 0], P = [c, 1].
    """
    b, k, n, _ = driving.shape
    # ‖·‖ then squared, as the authors: the sum of squares can differ in the last bit.
    squared = torch.linalg.vector_norm(driving.unsqueeze(3) - driving.unsqueeze(2), dim=-1) ** 2  # (B, K, N, N)
    homogeneous = torch.cat([driving, driving.new_ones(b, k, n, 1)], dim=3)  # P, (B, K, N, 3)
    top = torch.cat([radial_basis(squared), homogeneous], dim=3)
    bottom = torch.cat([homogeneous.transpose(2, 3), driving.new_zeros(b, k, 3, 3)], dim=3)
    system = torch.cat([top, bottom], dim=2) + torch.eye(n + 3, dtype=driving.dtype, device=driving.device) * ridge
    targets = torch.cat([source, source.new_zeros(b, k, 3, 2)], dim=2)  # (B, K, N+3, 2)
    solution = torch.matmul(torch.inverse(system), targets)
    return solution[:, :, n:].transpose(2, 3), solution[:, :, :n]


def transform(points: Tensor, control: Tensor, affine: Tensor, weights: Tensor) -> Tensor:
    """The K fitted transforms at shared points: points (P, 2), control (B, K, N, 2) -> (B, K, P, 2)."""
    b, k, n, _ = control.shape
    columns = points.t().unsqueeze(0)  # (1, 2, P)
    linear = torch.matmul(affine[..., :2], columns) + affine[..., 2:]  # (B, K, 2, P)
    offsets = points.view(1, 1, 1, -1, 2) - control.view(b, k, n, 1, 2)  # (B, K, N, P, 2)
    basis = radial_basis((offsets**2).sum(-1))  # (B, K, N, P)
    return linear.transpose(2, 3) + torch.matmul(basis.transpose(2, 3), weights)
