"""MRAA's background motion predictor: one global transform from (source, driving), identity at init."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..config import BackgroundConfig
from .backbones.hourglass import Encoder

OUTPUTS = {"shift": 2, "affine": 6, "perspective": 8}
IDENTITY = {"shift": [0.0, 0.0], "affine": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
            "perspective": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]}


class BackgroundMotion(nn.Module):
    """source, driving (B, C, H, W) -> (B, 3, 3) homogeneous transform of the background."""

    def __init__(self, config: BackgroundConfig, num_channels: int = 3):
        super().__init__()
        self.kind = config.kind
        self.encoder = Encoder(config.block_expansion, num_channels * 2, config.num_blocks, config.max_features)
        features = min(config.max_features, config.block_expansion * 2**config.num_blocks)
        self.fc = nn.Linear(features, OUTPUTS[config.kind])
        nn.init.zeros_(self.fc.weight)
        with torch.no_grad():
            self.fc.bias.copy_(torch.tensor(IDENTITY[config.kind]))

    def forward(self, source: Tensor, driving: Tensor) -> Tensor:
        b = len(source)
        params = self.fc(self.encoder(torch.cat([source, driving], dim=1))[-1].mean(dim=(2, 3)))
        out = torch.eye(3, dtype=source.dtype, device=source.device).repeat(b, 1, 1)
        if self.kind == "shift":
            out[:, :2, 2] = params
        elif self.kind == "affine":
            out[:, :2, :] = params.view(b, 2, 3)
        else:
            out[:, :2, :] = params[:, :6].view(b, 2, 3)
            out[:, 2, :2] = params[:, 6:]
        return out
