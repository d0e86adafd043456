"""Equivariance constraints (Eq. 10): keypoints of a randomly warped frame must move with the warp.

The warp is a random affine plus a thin-plate spline on a p×p grid of control points, and the same scalar
displacement is added to x and y (an authors' quirk kept because it shapes training, `mtia.md` §4). FOMM's (also
MRAA's and MTIA's) radial term is r²·log r on the L1 radius; TPSMM's is r²·log r² on the squared Euclidean one, and
it samples the warped frame with align_corners=True (`peers.md` §3.2). The driving frame is warped, with
reflection padding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..config import TransformConfig
from ..errors import ConfigError
from ..models.geometry import coordinate_grid
from ..models.motion import Motion


class RandomTPS:
    """A batch of random warps T (FOMM's), drawn from `generator` so that a training step is reproducible."""

    align_corners = False  # of the frame warp

    def __init__(self, batch: int, config: TransformConfig, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu"):
        noise = torch.randn(batch, 2, 3, generator=generator) * config.sigma_affine
        self.theta = (noise + torch.eye(2, 3).view(1, 2, 3)).to(device)  # (B, 2, 3)
        points = config.points_tps
        self.control_points = coordinate_grid(points, points).view(1, -1, 2).to(device)  # (1, P², 2)
        params = torch.randn(batch, 1, points**2, generator=generator) * config.sigma_tps
        self.control_params = params.to(device)  # (B, 1, P²)

    def warp_coordinates(self, points: Tensor) -> Tensor:
        """(B, N, 2) -> (B, N, 2): affine, then the TPS displacement (same scalar on x and y)."""
        theta = self.theta.to(points.dtype).unsqueeze(1)
        out = (torch.matmul(theta[..., :2], points.unsqueeze(-1)) + theta[..., 2:]).squeeze(-1)
        offsets = points.unsqueeze(2) - self.control_points.unsqueeze(1)  # (B, N, P², 2)
        radial = self.radial_basis(offsets) * self.control_params
        return out + radial.sum(dim=2).view(points.shape[0], points.shape[1], 1)

    @staticmethod
    def radial_basis(offsets: Tensor) -> Tensor:
        """(..., 2) offsets to the control points -> (...): r²·log r with r the L1 radius."""
        distances = torch.abs(offsets).sum(-1)
        return distances**2 * torch.log(distances + 1e-6)

    def warp_frame(self, frame: Tensor) -> Tensor:
        """(B, C, H, W) -> the frame seen through T, sampled with reflection padding."""
        b, _, h, w = frame.shape
        grid = coordinate_grid(h, w, frame.dtype, frame.device).view(1, h * w, 2).expand(b, h * w, 2)
        grid = self.warp_coordinates(grid).view(b, h, w, 2)
        return F.grid_sample(frame, grid, padding_mode="reflection", align_corners=self.align_corners)

    def jacobian(self, points: Tensor) -> Tensor:
        """(B, N, 2) -> (B, N, 2, 2): ∂T/∂z at the points, by autograd (kept in the graph)."""
        if not points.requires_grad:
            points = points.detach().requires_grad_(True)
        warped = self.warp_coordinates(points)
        grad_x = torch.autograd.grad(warped[..., 0].sum(), points, create_graph=True)[0]
        grad_y = torch.autograd.grad(warped[..., 1].sum(), points, create_graph=True)[0]
        return torch.stack([grad_x, grad_y], dim=-2)


class SquaredRandomTPS(RandomTPS):
    """TPSMM's random warps: the same draws, U = r²·log r² on the squared Euclidean radius, align_corners=True."""

    align_corners = True

    @staticmethod
    def radial_basis(offsets: Tensor) -> Tensor:
        squared = (offsets**2).sum(-1)
        return squared * torch.log(squared + 1e-9)


WARPS = {"fomm": RandomTPS, "tpsmm": SquaredRandomTPS}  # by `TransformConfig.kind`


def warp_kind(config: TransformConfig) -> type[RandomTPS]:
    if config.kind not in WARPS:
        raise ConfigError(f"unknown train.transform.kind {config.kind!r} (known: {', '.join(WARPS)})")
    return WARPS[config.kind]


def random_tps(batch: int, config: TransformConfig, generator: torch.Generator | None = None,
               device: torch.device | str = "cpu") -> RandomTPS:
    """`batch` random warps of the kind the config names."""
    return warp_kind(config)(batch, config, generator, device)


def equivariance_value(driving: Motion, transformed: Motion, warp: RandomTPS) -> Tensor:
    """mean |t_Z − T(t_{T(Z)})|."""
    return torch.abs(driving.kp - warp.warp_coordinates(transformed.kp)).mean()


def equivariance_jacobian(driving: Motion, transformed: Motion, warp: RandomTPS,
                          revert_axis_swap: bool = False) -> Tensor:
    """mean |I − A_Z⁻¹ · (J_T(t_{T(Z)}) · A_{T(Z)})|.

    With `revert_axis_swap` (MRAA, whose affines come from an SVD that may flip both axes) the product first takes
    the sign of its (0, 0) entry, as its flow does.
    """
    composed = torch.matmul(warp.jacobian(transformed.kp), transformed.jacobian)
    value = torch.matmul(torch.inverse(driving.jacobian), composed)
    if revert_axis_swap:
        value = value * torch.sign(value[..., 0:1, 0:1])
    return torch.abs(torch.eye(2, dtype=value.dtype, device=value.device) - value).mean()
