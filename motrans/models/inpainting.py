"""TPSMM's inpainting generator (Zhao & Zhang, CVPR 2022, Sec. 3.4): encode, warp, mask, decode.

The source is encoded at H, H/2, H/4 and H/8 (InstanceNorm blocks). Decoding starts from the deepest map warped by
the flow and multiplied by its occlusion mask; each level runs two ResBlocks and an UpBlock, then concatenates the
warped, masked encoder map of the next resolution, except at full resolution, where the two are blended:
out·(1 − occ) + warp(f)·occ. The output is finally mixed with the warped source the same way. Every warp uses
align_corners=True, as the authors. Same interface as `Generator`: `encode` (cacheable per source) and `forward`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..config import GeneratorConfig
from .generator import LevelEncoder, warp
from .layers import DownBlock, ResBlock, SameBlock, UpBlock, instance_norm
from .motion import Flow


class InpaintingGenerator(LevelEncoder):
    """source (B, C, H, W) + Flow with 4 occlusion masks (H/8 ... H) -> prediction (B, C, H, W) in [0, 1]."""

    def __init__(self, config: GeneratorConfig, num_channels: int = 3):
        super().__init__()
        self.config = config
        e, m, n = config.block_expansion, config.max_features, config.num_down_blocks
        width = [min(m, e * 2**i) for i in range(n + 1)]  # 64, 128, 256, 512
        self.first = SameBlock(num_channels, e, kernel_size=7, norm=instance_norm)
        self.down_blocks = nn.ModuleList(DownBlock(width[i], width[i + 1], norm=instance_norm) for i in range(n))
        # Decoder level j works at H/2^(n−j): the warped map alone at the bottom, doubled by a skip above it.
        inputs = [width[n]] + [2 * width[n - j] for j in range(1, n)]  # 512, 512, 256
        self.res_blocks = nn.ModuleList(ResBlock(inputs[j], norm=instance_norm) for j in range(n) for _ in range(2))
        self.up_blocks = nn.ModuleList(UpBlock(inputs[j], width[n - j - 1], norm=instance_norm) for j in range(n))
        self.final = nn.Conv2d(e, num_channels, 7, padding=3)

    def forward(self, source: Tensor, features: list[Tensor], flow: Flow) -> Tensor:
        """source (B, C, H, W), its `encode` features, flow -> prediction (B, C, H, W). ≈127 GMACs at 256²."""
        occlusions = flow.occlusions  # coarse to fine, the same resolutions as reversed(features)
        out = warp(features[-1], flow.deformation, True) * occlusions[0]
        for j, block in enumerate(self.up_blocks):
            out = block(self.res_blocks[2 * j + 1](self.res_blocks[2 * j](out)))
            skip = warp(features[-(j + 2)], flow.deformation, True) * occlusions[j + 1]
            if j < len(self.up_blocks) - 1:
                out = torch.cat([out, skip], dim=1)
        out = out * (1 - occlusions[-1]) + skip
        out = torch.sigmoid(self.final(out))
        return out * (1 - occlusions[-1]) + warp(source, flow.deformation, True) * occlusions[-1]

    def warped_features(self, features: list[Tensor], flow: Flow) -> list[Tensor]:
        """The warp loss's predictions: each `encode` level warped by the flow and masked, finest first.

        The features and masks are detached, as the authors do: the warp loss trains the deformation only.
        """
        occlusions = reversed(flow.occlusions)
        return [warp(f.detach(), flow.deformation, True) * o.detach() for f, o in zip(features, occlusions)]

    def masked_features(self, driving: Tensor, flow: Flow) -> list[Tensor]:
        """The warp loss's targets: the driving frame's `encode` levels times the same masks, finest first, with no
        gradient at all (the authors detach every one)."""
        with torch.no_grad():
            return [f * o for f, o in zip(self.encode(driving), reversed(flow.occlusions))]
