"""The U-Net hourglass of the dense motion network (and of FOMM's and MRAA's estimators)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..layers import DownBlock, UpBlock


def _width(expansion: int, level: int, max_features: int) -> int:
    return min(max_features, expansion * 2**level)


class Encoder(nn.Module):
    """`num_blocks` DownBlocks: (B, Cin, H, W) -> [x, (B, c1, H/2, W/2), ..., (B, cn, H/2ⁿ, W/2ⁿ)]."""

    def __init__(self, expansion: int, in_features: int, num_blocks: int, max_features: int):
        super().__init__()
        widths = [in_features] + [_width(expansion, i + 1, max_features) for i in range(num_blocks)]
        self.down_blocks = nn.ModuleList(DownBlock(widths[i], widths[i + 1]) for i in range(num_blocks))

    def forward(self, x: Tensor) -> list[Tensor]:
        outs = [x]
        for block in self.down_blocks:
            outs.append(block(outs[-1]))
        return outs


class Decoder(nn.Module):
    """UpBlocks that concatenate the encoder's skips; ends at `expansion + in_features` channels, full size."""

    def __init__(self, expansion: int, in_features: int, num_blocks: int, max_features: int):
        super().__init__()
        blocks = []
        for i in reversed(range(num_blocks)):
            factor = 1 if i == num_blocks - 1 else 2  # deeper levels also carry the concatenated skip
            blocks.append(UpBlock(factor * _width(expansion, i + 1, max_features), _width(expansion, i, max_features)))
        self.up_blocks = nn.ModuleList(blocks)
        self.out_features = expansion + in_features

    def forward(self, skips: list[Tensor]) -> Tensor:
        skips = list(skips)
        out = skips.pop()
        for block in self.up_blocks:
            out = torch.cat([block(out), skips.pop()], dim=1)
        return out


class Hourglass(nn.Module):
    """(B, Cin, H, W) -> (B, expansion + Cin, H, W). H and W must be divisible by 2**num_blocks."""

    def __init__(self, expansion: int, in_features: int, num_blocks: int = 3, max_features: int = 256):
        super().__init__()
        self.encoder = Encoder(expansion, in_features, num_blocks, max_features)
        self.decoder = Decoder(expansion, in_features, num_blocks, max_features)
        self.out_features = self.decoder.out_features

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.encoder(x))
