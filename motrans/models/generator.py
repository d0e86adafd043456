"""The occlusion-aware generator: encode the source, warp its features by the dense flow, decode (Sec. 3.1).

With `skips` (the authors' vox and taichi models) every decoder level blends in the warped encoder feature of its
resolution, `warp(skip)·occ + decoded·(1 − occ)`, and the output is finally composited with the warped source
image the same way. Without skips it is FOMM's generator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import GeneratorConfig
from .geometry import full_precision
from .layers import DownBlock, ResBlock, SameBlock, UpBlock
from .motion import Flow


def warp(features: Tensor, deformation: Tensor, align_corners: bool = False) -> Tensor:
    """Backward-warps (B, C, H', W') by a (B, h, w, 2) deformation, first resized bilinearly to H'×W'.

    `align_corners` applies to both the resize and the sampling: False for FOMM, MRAA and MTIA, True for TPSMM.
    """
    with full_precision(features):
        deformation = resize_deformation(deformation, features.shape[2:], align_corners)
        return F.grid_sample(features.float(), deformation.float(), align_corners=align_corners)


def resize_deformation(deformation: Tensor, size, align_corners: bool = False) -> Tensor:
    """(B, h, w, 2) -> (B, H', W', 2), bilinearly, unless it has that size already."""
    if tuple(deformation.shape[1:3]) == tuple(size):
        return deformation
    deformation = F.interpolate(deformation.permute(0, 3, 1, 2), size=size, mode="bilinear",
                                align_corners=align_corners)
    return deformation.permute(0, 2, 3, 1)


def resize_like(occlusion: Tensor, features: Tensor) -> Tensor:
    if occlusion.shape[2:] == features.shape[2:]:
        return occlusion
    return F.interpolate(occlusion, size=features.shape[2:], mode="bilinear")


def blend(skip: Tensor, flow: Flow, previous: Tensor | None = None) -> Tensor:
    """warp(skip)·occ + previous·(1 − occ); without `previous`, warp(skip)·occ; without occlusion, warp(skip)."""
    warped = warp(skip, flow.deformation, flow.align_corners)
    if flow.occlusion is None:
        return warped
    occlusion = resize_like(flow.occlusion, warped)
    if previous is None:
        return warped * occlusion
    return warped * occlusion + previous * (1 - occlusion)


class LevelEncoder(nn.Module):
    """What the generators share: a `first` block and `down_blocks`, every output of which the decoder uses."""

    first: nn.Module
    down_blocks: nn.ModuleList

    def encode(self, source: Tensor) -> list[Tensor]:
        """(B, C, H, W) -> features at H, H/2, ..., H/2ⁿ; depends on the source only, so it can be cached."""
        features = [self.first(source)]
        for block in self.down_blocks:
            features.append(block(features[-1]))
        return features


class Generator(LevelEncoder):
    """source (B, C, H, W) + Flow -> prediction (B, C, H, W) in [0, 1]."""

    def __init__(self, config: GeneratorConfig, num_channels: int = 3):
        super().__init__()
        self.config = config
        e, m, n = config.block_expansion, config.max_features, config.num_down_blocks
        width = [min(m, e * 2**i) for i in range(n + 1)]
        self.first = SameBlock(num_channels, e, kernel_size=7)
        self.down_blocks = nn.ModuleList(DownBlock(width[i], width[i + 1]) for i in range(n))
        self.up_blocks = nn.ModuleList(UpBlock(width[n - i], width[n - i - 1]) for i in range(n))
        self.bottleneck = nn.Sequential()
        for i in range(config.num_bottleneck_blocks):
            self.bottleneck.add_module(f"r{i}", ResBlock(width[n]))
        self.final = nn.Conv2d(e, num_channels, 7, padding=3)

    def forward(self, source: Tensor, features: list[Tensor], flow: Flow) -> Tensor:
        """source (B, C, H, W), its `encode` features, flow -> prediction (B, C, H, W)."""
        out = self.bottleneck(blend(features[-1], flow))
        for i, block in enumerate(self.up_blocks):
            if self.config.skips:
                out = blend(features[-(i + 1)], flow, out)
            out = block(out)
        if self.config.skips:
            out = blend(features[0], flow, out)
        out = torch.sigmoid(self.final(out))
        if self.config.skips:
            out = blend(source, flow, out)  # final compositing with the warped source image
        return out
