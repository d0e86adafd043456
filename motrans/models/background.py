"""Background motion predictors: one global transform from (source, driving), identity at init.

MRAA's encodes both frames with an hourglass encoder; TPSMM's with a ResNet-18 whose first conv takes 6 channels.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..config import BackgroundConfig
from .backbones.hourglass import Encoder
from .backbones.resnet import ResNet18

OUTPUTS = {"shift": 2, "affine": 6, "perspective": 8}
IDENTITY = {"shift": [0.0, 0.0], "affine": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
            "perspective": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]}


def identity_head(fc: nn.Linear, kind: str) -> nn.Linear:
    """Zero weights and the identity as bias: the predictor starts at the identity transform."""
    nn.init.zeros_(fc.weight)
    with torch.no_grad():
        fc.bias.copy_(torch.tensor(IDENTITY[kind]))
    return fc


def to_matrix(params: Tensor, kind: str, dtype: torch.dtype) -> Tensor:
    """(B, 2 | 6 | 8) parameters -> (B, 3, 3) homogeneous transform in `dtype` (the frames', not autocast's)."""
    b = len(params)
    out = torch.eye(3, dtype=dtype, device=params.device).repeat(b, 1, 1)
    if kind == "shift":
        out[:, :2, 2] = params
    elif kind == "affine":
        out[:, :2, :] = params.view(b, 2, 3)
    else:
        out[:, :2, :] = params[:, :6].view(b, 2, 3)
        out[:, 2, :2] = params[:, 6:]
    return out


class BackgroundMotion(nn.Module):
    """MRAA's: source, driving (B, C, H, W) -> (B, 3, 3) homogeneous transform of the background."""

    def __init__(self, config: BackgroundConfig, num_channels: int = 3):
        super().__init__()
        self.kind = config.kind
        self.encoder = Encoder(config.block_expansion, num_channels * 2, config.num_blocks, config.max_features)
        features = min(config.max_features, config.block_expansion * 2**config.num_blocks)
        self.fc = identity_head(nn.Linear(features, OUTPUTS[config.kind]), config.kind)

    def forward(self, source: Tensor, driving: Tensor) -> Tensor:
        params = self.fc(self.encoder(torch.cat([source, driving], dim=1))[-1].mean(dim=(2, 3)))
        return to_matrix(params, self.kind, source.dtype)


class ResNetBackgroundMotion(nn.Module):
    """TPSMM's BG predictor: source, driving (B, C, H, W) -> (B, 3, 3); 2.5 GMACs at 256²."""

    def __init__(self, config: BackgroundConfig, num_channels: int = 3):
        super().__init__()
        self.kind = config.kind
        self.encoder = ResNet18(2 * num_channels, OUTPUTS[config.kind])
        # The authors swap in a fresh 6-channel conv1 after torchvision's initialisation: PyTorch's default init.
        self.encoder.conv1.reset_parameters()
        identity_head(self.encoder.fc, config.kind)

    def forward(self, source: Tensor, driving: Tensor) -> Tensor:
        return to_matrix(self.encoder(torch.cat([source, driving], dim=1)), self.kind, source.dtype)
