"""TPSMM's keypoint detector (Zhao & Zhang, CVPR 2022; `peers.md` §3.1): K TPS transforms × 5 control points.

image (B, 3, H, W) in [0, 1], not normalised → ResNet-18 on the full frame → fc to K·5·2 numbers → sigmoid·2 − 1:
5·K points in (−1, 1), (x, y) each. They carry no Jacobian: the dense motion fits a thin-plate spline to each
group of 5. K is `num_kp` (the authors' `num_tps`, 10 in every released model).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ...config import EstimatorConfig
from ..backbones.resnet import ResNet18
from ..geometry import full_precision
from ..motion import Motion
from ..tps import POINTS
from .fomm import CHANNELS


class TPSKeypointDetector(nn.Module):
    """image (B, 3, H, W) -> Motion(kp (B, 5·K, 2), no jacobian). `estimate_jacobian` is ignored: TPS has none."""

    def __init__(self, config: EstimatorConfig, num_kp: int, frame_size: tuple[int, int], estimate_jacobian: bool):
        super().__init__()
        self.num_kp = num_kp
        self.encoder = ResNet18(CHANNELS, num_kp * POINTS * 2)

    def forward(self, image: Tensor) -> Motion:
        logits = self.encoder(image)  # (B, 5·K·2); 2.37 GMACs at 256²
        with full_precision(logits):
            kp = torch.sigmoid(logits.float()) * 2 - 1
        return Motion(kp.view(len(image), self.num_kp * POINTS, 2))
