"""MRAA's region predictor (Siarohin et al., CVPR 2021; `peers.md` §2.1): regions as heatmap moments.

image (B, 3, H, W) → FOMM's hourglass and 7×7 heatmap head (`pad` 3 for the authors' vox256, else 0) →
softmax(·/0.1) → shift t = Σ p·z and covariance Σ = Σ p·(z − t)(z − t)ᵀ → affine A = U·√S from the SVD
Σ = U·S·Uᵀ (the principal axes, scaled by their standard deviations). The affine is always estimated: the
authors' `estimate_affine` only switches a regression head their released models do not have.
Reimplemented from the paper and the shape contract; the order of operations matches the released weights'.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ...config import EstimatorConfig
from ..backbones.hourglass import Hourglass
from ..geometry import coordinate_grid, full_precision
from ..layers import AntiAliasDownsample
from ..motion import Motion
from .fomm import CHANNELS, expected_position, heatmap_head, spatial_softmax


def second_moment(heatmap: Tensor, shift: Tensor) -> Tensor:
    """Σ_z p(z)·(z − t)(z − t)ᵀ: heatmap (B, K, h, w), shift (B, K, 2) -> (B, K, 2, 2)."""
    grid = coordinate_grid(*heatmap.shape[2:], heatmap.dtype, heatmap.device)
    centred = grid - shift[:, :, None, None, :]  # (B, K, h, w, 2)
    outer = torch.matmul(centred.unsqueeze(-1), centred.unsqueeze(-2))  # (B, K, h, w, 2, 2)
    return (outer * heatmap[..., None, None]).sum(dim=(2, 3))


def principal_axes(covariance: Tensor) -> Tensor:
    """(B, K, 2, 2) symmetric -> U·diag(√S), (B, K, 2, 2).

    The SVD runs on the CPU wherever the model runs, as in the authors' code: the sign of each singular vector
    is the backend's choice, and the released weights were trained with CPU LAPACK's.
    """
    flat = covariance.reshape(-1, 2, 2)
    on_cpu = flat.cpu() if flat.device.type not in ("cpu", "meta") else flat
    u, s, _ = torch.linalg.svd(on_cpu)
    u, s = u.to(flat.device), s.to(flat.device)
    return torch.matmul(u, torch.diag_embed(s**0.5)).view(covariance.shape)


class RegionPredictor(nn.Module):
    """image (B, 3, H, W) in [0, 1] -> Motion(shift (B, K, 2), affine (B, K, 2, 2), covariance (B, K, 2, 2))."""

    def __init__(self, config: EstimatorConfig, num_kp: int, frame_size: tuple[int, int], estimate_jacobian: bool):
        super().__init__()
        c = self.config = config.mraa
        self.num_kp = num_kp
        self.downsample = AntiAliasDownsample(CHANNELS, c.scale) if c.scale != 1 else None
        self.hourglass = Hourglass(c.block_expansion, CHANNELS, c.num_blocks, c.max_features)
        self.heatmap = heatmap_head(self.hourglass.out_features, num_kp, c.pad)

    def forward(self, image: Tensor) -> Motion:
        x = image if self.downsample is None else self.downsample(image)
        logits = self.heatmap(self.hourglass(x))  # (B, K, h', w'); 1.06 GMACs at 256²
        with full_precision(logits):
            heatmap = spatial_softmax(logits.float(), self.config.temperature)
            shift = expected_position(heatmap)
            covariance = second_moment(heatmap, shift)
            return Motion(shift, principal_axes(covariance), covariance)
