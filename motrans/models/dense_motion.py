"""Dense motion (the "mask estimator" of Fig. 1): sparse part motions -> masks, deformation (Eq. 2), occlusion.

At the h×w motion grid (1/4 of the frame): the source is warped by each of the K part motions (Eq. 1) and the
background motion; an hourglass sees those K+1 warped sources with the driving − source heatmaps, and predicts
K+1 softmax masks that blend the motions into one deformation, plus a sigmoid occlusion map.

MRAA's pixelwise flow predictor is this network with two flags: `covariance_heatmaps` and `revert_axis_swap`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import DenseMotionConfig
from .backbones.hourglass import Hourglass
from .geometry import (background_motion, coordinate_grid, covariance_heatmaps, full_precision, gaussian_heatmaps,
                       part_motions, region_covariance)
from .layers import AntiAliasDownsample
from .motion import Flow, Motion


class MotionGrid(nn.Module):
    """What both dense motion networks share: they work at the motion grid, `config.scale` of the frame."""

    def __init__(self, config: DenseMotionConfig, num_kp: int, num_channels: int = 3):
        super().__init__()
        self.config, self.num_kp = config, num_kp
        self.downsample = AntiAliasDownsample(num_channels, config.scale) if config.scale != 1 else None

    def shrink(self, source: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, h, w): the source at the motion grid; cacheable across driving frames."""
        return source if self.downsample is None else self.downsample(source)


class DenseMotion(MotionGrid):
    def __init__(self, config: DenseMotionConfig, num_kp: int, num_channels: int = 3):
        super().__init__(config, num_kp, num_channels)
        in_features = (num_kp + 1) * (num_channels + 1)  # per part: 1 heatmap + the warped source
        self.hourglass = Hourglass(config.block_expansion, in_features, config.num_blocks, config.max_features)
        self.mask = nn.Conv2d(self.hourglass.out_features, num_kp + 1, 7, padding=3)
        self.occlusion = nn.Conv2d(self.hourglass.out_features, 1, 7, padding=3) if config.occlusion else None

    def forward(self, source_small: Tensor, source: Motion, driving: Motion, background: Tensor | None = None) -> Flow:
        """source_small (B, C, h, w) from `shrink`; background (B, 3, 3) or None -> Flow at h×w."""
        b, _, h, w = source_small.shape
        with full_precision(source_small):
            grid = coordinate_grid(h, w, torch.float32, source_small.device)
            parts = part_motions(grid, source, driving, self.config.revert_axis_swap)
            motions = torch.cat([background_motion(grid, b, background), parts], 1)
            deformed = warp_parts(source_small.float(), motions, self.config.align_corners)  # (B, K+1, C, h, w)
            heatmaps = self.heatmaps(source, driving, h, w)
        features = self.hourglass(torch.cat([heatmaps, deformed], 2).view(b, -1, h, w))
        logits = self.mask(features)
        occlusion = torch.sigmoid(self.occlusion(features)) if self.occlusion is not None else None
        with full_precision(logits):
            mask = F.softmax(logits.float(), dim=1)  # (B, K+1, h, w)
            deformation = blend_motions(motions, mask)
        return Flow(deformation, mask, logits, deformed, None if occlusion is None else occlusion.float(),
                    align_corners=self.config.align_corners)

    def heatmaps(self, source: Motion, driving: Motion, h: int, w: int) -> Tensor:
        """Driving − source Gaussians, with a zero map first for the background: (B, K+1, 1, h, w)."""
        if self.config.covariance_heatmaps:
            maps = (covariance_heatmaps(driving.kp, region_covariance(driving), h, w)
                    - covariance_heatmaps(source.kp, region_covariance(source), h, w))
        else:
            variance = self.config.kp_variance
            maps = gaussian_heatmaps(driving.kp, h, w, variance) - gaussian_heatmaps(source.kp, h, w, variance)
        return torch.cat([torch.zeros_like(maps[:, :1]), maps], dim=1).unsqueeze(2)


def warp_parts(source_small: Tensor, motions: Tensor, align_corners: bool = False) -> Tensor:
    """Source (B, C, h, w) warped by each motion (B, K+1, h, w, 2) -> (B, K+1, C, h, w)."""
    b, parts, h, w, _ = motions.shape
    repeated = source_small.unsqueeze(1).expand(b, parts, *source_small.shape[1:]).reshape(b * parts, -1, h, w)
    warped = F.grid_sample(repeated, motions.reshape(b * parts, h, w, 2), align_corners=align_corners)
    return warped.view(b, parts, -1, h, w)


def blend_motions(motions: Tensor, mask: Tensor) -> Tensor:
    """Eq. (2): Σ_k M_k · T_k. motions (B, K+1, h, w, 2), mask (B, K+1, h, w) -> deformation (B, h, w, 2).

    Summed over parts with the motion's (x, y) as a channel pair, in the authors' order of operations.
    """
    return (motions.permute(0, 1, 4, 2, 3) * mask.unsqueeze(2)).sum(dim=1).permute(0, 2, 3, 1)
