"""FOMM's multi-scale patch discriminator. Built so the authors' checkpoints load whole; unused by default (all
GAN weights are 0 in the paper's setting)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import DiscriminatorConfig
from .geometry import gaussian_heatmaps


class DiscriminatorBlock(nn.Module):
    """conv4×4 (no padding, spectral norm) → [InstanceNorm] → LeakyReLU(0.2) → [avg pool 2]."""

    def __init__(self, cin: int, cout: int, norm: bool, pool: bool, spectral: bool):
        super().__init__()
        conv = nn.Conv2d(cin, cout, kernel_size=4)
        self.conv = nn.utils.spectral_norm(conv) if spectral else conv
        self.norm = nn.InstanceNorm2d(cout, affine=True) if norm else None
        self.pool = pool

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv(x)
        if self.norm is not None:
            out = self.norm(out)
        out = F.leaky_relu(out, 0.2)
        return F.avg_pool2d(out, 2) if self.pool else out


class Discriminator(nn.Module):
    """(B, C, H, W) -> (feature maps of every block, (B, 1, h', w') patch scores)."""

    def __init__(self, config: DiscriminatorConfig, num_channels: int, num_kp: int, kp_variance: float):
        super().__init__()
        e, m, n = config.block_expansion, config.max_features, config.num_blocks
        cin = [num_channels + num_kp * config.use_kp] + [min(m, e * 2**i) for i in range(1, n)]
        self.down_blocks = nn.ModuleList(
            DiscriminatorBlock(cin[i], min(m, e * 2 ** (i + 1)), i != 0, i != n - 1, config.spectral_norm)
            for i in range(n))
        conv = nn.Conv2d(min(m, e * 2**n), 1, kernel_size=1)
        self.conv = nn.utils.spectral_norm(conv) if config.spectral_norm else conv
        self.use_kp, self.kp_variance = config.use_kp, kp_variance

    def forward(self, x: Tensor, kp: Tensor | None = None) -> tuple[list[Tensor], Tensor]:
        if self.use_kp:
            x = torch.cat([x, gaussian_heatmaps(kp, *x.shape[2:], self.kp_variance)], dim=1)
        features = []
        for block in self.down_blocks:
            x = block(x)
            features.append(x)
        return features, self.conv(x)


class MultiScaleDiscriminator(nn.Module):
    """One Discriminator per pyramid scale; `pyramid` maps the scale (1.0, 0.5, ...) to (B, C, H·s, W·s)."""

    def __init__(self, config: DiscriminatorConfig, num_channels: int, num_kp: int, kp_variance: float = 0.01):
        super().__init__()
        self.discs = nn.ModuleDict({scale_key(s): Discriminator(config, num_channels, num_kp, kp_variance)
                                    for s in config.scales})

    def forward(self, pyramid: dict[float, Tensor],
                kp: Tensor | None = None) -> dict[float, tuple[list[Tensor], Tensor]]:
        return {float(key.replace("-", ".")): disc(pyramid[float(key.replace("-", "."))], kp)
                for key, disc in self.discs.items()}


def scale_key(scale: float) -> str:
    """The authors' module names: 1 -> '1', 0.5 -> '0-5' (their YAML lists integers as `[1]`)."""
    return (str(int(scale)) if float(scale).is_integer() else str(scale)).replace(".", "-")
