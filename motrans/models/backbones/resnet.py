"""ResNet-18 (He et al., CVPR 2016), the encoder of TPSMM's keypoint detector and background predictor.

Written here so that torchvision is no dependency; the state-dict names are torchvision's (`conv1`, `bn1`,
`layer1.0.conv1`, `layer2.0.downsample.0`, ..., `fc`), so the authors' weights load as they are. The input channels
(6 for the background predictor's two frames) and the size of `fc` are configurable. Initialised as torchvision
initialises `resnet18()`: He-normal (fan-out) convolutions, BatchNorm at the identity, `fc` PyTorch's default.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

WIDTHS = (64, 128, 256, 512)  # layer1 ... layer4
BLOCKS_PER_LAYER = 2  # ResNet-18


class BasicBlock(nn.Module):
    """Two 3×3 convs plus a shortcut: (B, Cin, H, W) -> (B, C, H/s, W/s); 1×1 projection when the shape changes."""

    def __init__(self, in_features: int, features: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_features, features, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(features)
        self.conv2 = nn.Conv2d(features, features, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(features)
        self.downsample = None
        if stride != 1 or in_features != features:
            self.downsample = nn.Sequential(nn.Conv2d(in_features, features, 1, stride, bias=False),
                                            nn.BatchNorm2d(features))

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(out + shortcut)


class ResNet18(nn.Module):
    """(B, Cin, H, W) -> (B, outputs): stem (/4), four layers (/32), global average pool, `fc`. Any H, W ≥ 32."""

    def __init__(self, in_channels: int = 3, outputs: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, WIDTHS[0], 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(WIDTHS[0])
        previous = WIDTHS[0]
        for i, width in enumerate(WIDTHS):
            self.add_module(f"layer{i + 1}", self._layer(previous, width, stride=1 if i == 0 else 2))
            previous = width
        self.fc = nn.Linear(WIDTHS[-1], outputs)
        self.reset_parameters()

    @staticmethod
    def _layer(in_features: int, features: int, stride: int) -> nn.Sequential:
        blocks = [BasicBlock(in_features, features, stride)]
        blocks += [BasicBlock(features, features) for _ in range(BLOCKS_PER_LAYER - 1)]
        return nn.Sequential(*blocks)

    def reset_parameters(self) -> None:
        """torchvision's initialisation; `fc` keeps the default it got when it was built."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), kernel_size=3, stride=2, padding=1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))
