"""Small convolutional blocks shared by the hourglass, the generator and the background predictor (FOMM's).

The norm is pluggable: BatchNorm (FOMM, MRAA, MTIA) or `instance_norm` (TPSMM); either is named `norm`, so the
authors' keys fit both.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Norm = Callable[[int], nn.Module]  # features -> a normalisation layer


def instance_norm(features: int) -> nn.Module:
    """TPSMM's norm: per-sample statistics and a learned affine (weight and bias only, no running stats)."""
    return nn.InstanceNorm2d(features, affine=True)


class SameBlock(nn.Module):
    """conv → norm → ReLU at the same resolution."""

    def __init__(self, in_features: int, out_features: int, kernel_size: int = 3, norm: Norm = nn.BatchNorm2d):
        super().__init__()
        self.conv = nn.Conv2d(in_features, out_features, kernel_size, padding=kernel_size // 2)
        self.norm = norm(out_features)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.norm(self.conv(x)))


class DownBlock(SameBlock):
    """conv3×3 → norm → ReLU → 2×2 average pool: (B, Cin, H, W) -> (B, Cout, H/2, W/2)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(super().forward(x), 2)


class UpBlock(SameBlock):
    """nearest ×2 → conv3×3 → norm → ReLU: (B, Cin, H, W) -> (B, Cout, 2H, 2W)."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(F.interpolate(x, scale_factor=2))


class ResBlock(nn.Module):
    """Pre-activation residual block: x + conv(ReLU(norm(conv(ReLU(norm(x))))))."""

    def __init__(self, features: int, kernel_size: int = 3, norm: Norm = nn.BatchNorm2d):
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, kernel_size, padding=kernel_size // 2)
        self.conv2 = nn.Conv2d(features, features, kernel_size, padding=kernel_size // 2)
        self.norm1 = norm(features)
        self.norm2 = norm(features)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv1(F.relu(self.norm1(x)))
        return self.conv2(F.relu(self.norm2(out))) + x


class AntiAliasDownsample(nn.Module):
    """Gaussian blur (σ = (1/s − 1)/2) then nearest subsampling by `scale`: band-limited resizing.

    (B, C, H, W) -> (B, C, H·s, W·s). Scale 1 is the identity. The kernel is a buffer named `weight`, as in the
    authors' checkpoints, which carry it.
    """

    def __init__(self, channels: int, scale: float):
        super().__init__()
        sigma = (1 / scale - 1) / 2
        size = 2 * round(sigma * 4) + 1
        self.pad_before = size // 2
        self.pad_after = self.pad_before - 1 if size % 2 == 0 else self.pad_before
        self.scale = scale
        self.register_buffer("weight", gaussian_kernel(size, sigma).repeat(channels, 1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        if self.scale == 1.0:
            return x
        a, b = self.pad_before, self.pad_after
        out = F.conv2d(F.pad(x, (a, b, a, b)), self.weight.to(x.dtype), groups=x.shape[1])
        return F.interpolate(out, scale_factor=(self.scale, self.scale))


def outputs_at_cuts(layers: nn.Sequential, x: Tensor, cuts: tuple[int, ...]) -> list[Tensor]:
    """Runs `layers` in order on x and returns the output after layer cut − 1 for each cut (ascending)."""
    outs, start = [], 0
    for cut in cuts:
        for layer in layers[start:cut]:
            x = layer(x)
        outs.append(x)
        start = cut
    return outs


def gaussian_kernel(size: int, sigma: float) -> Tensor:
    """(1, 1, size, size) normalised Gaussian, built as a product over the two axes in float32."""
    grids = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                           indexing="ij")
    kernel = torch.ones(())
    for grid in grids:
        kernel = kernel * torch.exp(-((grid - (size - 1) / 2) ** 2) / (2 * sigma**2))
    return (kernel / kernel.sum()).view(1, 1, size, size)
