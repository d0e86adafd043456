"""The U-Net hourglass of the dense motion network (and of FOMM's and MRAA's estimators).

Its blocks take a pluggable norm: BatchNorm (FOMM, MRAA, MTIA) or InstanceNorm (TPSMM), under the same key names.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..layers import DownBlock, Norm, UpBlock


def _width(expansion: int, level: int, max_features: int) -> int:
    return min(max_features, expansion * 2**level)


class Encoder(nn.Module):
    """`num_blocks` DownBlocks: (B, Cin, H, W) -> [x, (B, c1, H/2, W/2), ..., (B, cn, H/2ⁿ, W/2ⁿ)]."""

    def __init__(self, expansion: int, in_features: int, num_blocks: int, max_features: int,
                 norm: Norm = nn.BatchNorm2d):
        super().__init__()
        widths = [in_features] + [_width(expansion, i + 1, max_features) for i in range(num_blocks)]
        self.down_blocks = nn.ModuleList(DownBlock(widths[i], widths[i + 1], norm=norm) for i in range(num_blocks))

    def forward(self, x: Tensor) -> list[Tensor]:
        outs = [x]
        for block in self.down_blocks:
            outs.append(block(outs[-1]))
        return outs


class Decoder(nn.Module):
    """UpBlocks that concatenate the encoder's skips; ends at `expansion + in_features` channels, full size."""

    def __init__(self, expansion: int, in_features: int, num_blocks: int, max_features: int,
                 norm: Norm = nn.BatchNorm2d):
        super().__init__()
        blocks = []
        for i in reversed(range(num_blocks)):
            factor = 1 if i == num_blocks - 1 else 2  # deeper levels also carry the concatenated skip
            blocks.append(UpBlock(factor * _width(expansion, i + 1, max_features), _width(expansion, i, max_features),
                                  norm=norm))
        self.up_blocks = nn.ModuleList(blocks)
        # Channels of each level's output, coarse to fine: the upsampled map plus its skip (level 0's is the input).
        skips = [in_features] + [_width(expansion, i, max_features) for i in range(1, num_blocks)]
        self.level_features = [_width(expansion, i, max_features) + skips[i] for i in reversed(range(num_blocks))]
        self.out_features = self.level_features[-1]

    def forward(self, skips: list[Tensor]) -> Tensor:
        return self.levels(skips)[-1]

    def levels(self, skips: list[Tensor]) -> list[Tensor]:
        """Every level's output, coarse (H/2ⁿ⁻¹) to fine (H); the last is what `forward` returns."""
        skips = list(skips)
        out = skips.pop()
        outs = []
        for block in self.up_blocks:
            out = torch.cat([block(out), skips.pop()], dim=1)
            outs.append(out)
        return outs


class Hourglass(nn.Module):
    """(B, Cin, H, W) -> (B, expansion + Cin, H, W). H and W must be divisible by 2**num_blocks."""

    def __init__(self, expansion: int, in_features: int, num_blocks: int = 3, max_features: int = 256,
                 norm: Norm = nn.BatchNorm2d):
        super().__init__()
        self.encoder = Encoder(expansion, in_features, num_blocks, max_features, norm)
        self.decoder = Decoder(expansion, in_features, num_blocks, max_features, norm)
        self.out_features = self.decoder.out_features

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.encoder(x))

    def levels(self, x: Tensor) -> list[Tensor]:
        """(B, Cin, H, W) -> the decoder's outputs at H/2ⁿ⁻¹, ..., H (TPSMM reads occlusion off the last ones)."""
        return self.decoder.levels(self.encoder(x))
