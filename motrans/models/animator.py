"""Figure 1 end to end: motion estimator → (background) → dense motion → generator; the AVD network when configured.

The boxes are MoTrans's, FOMM's and MRAA's (heatmap-style dense motion, skip generator, hourglass background), or,
for the estimator method "tpsmm", TPSMM's (thin-plate-spline dense motion, inpainting generator, ResNet-18
background predictor), each with the same interface.
"""

from __future__ import annotations

from torch import Tensor, nn

from ..config import ModelConfig
from .avd import AVDNetwork
from .background import BackgroundMotion, ResNetBackgroundMotion
from .dense_motion import DenseMotion
from .dense_motion_tps import TPSDenseMotion
from .generator import Generator, warp
from .inpainting import InpaintingGenerator
from .motion import Animation, Motion
from .tps import POINTS

# method -> (background, dense motion, generator); any other method gets DEFAULT_BOXES
BOXES = {"tpsmm": (ResNetBackgroundMotion, TPSDenseMotion, InpaintingGenerator)}
DEFAULT_BOXES = (BackgroundMotion, DenseMotion, Generator)


class AnimationModel(nn.Module):
    """source, driving (B, C, H, W) in [0, 1] -> Animation(prediction (B, C, H, W), deformed, flow)."""

    def __init__(self, config: ModelConfig, estimator: nn.Module):
        super().__init__()
        self.config = config
        self.estimator = estimator
        background, dense_motion, generator = BOXES.get(config.estimator.method, DEFAULT_BOXES)
        self.background = background(config.background, config.num_channels) if config.background.kind != "none" \
            else None
        self.dense_motion = dense_motion(config.dense_motion, config.num_kp, config.num_channels)
        self.generator = generator(config.generator, config.num_channels)
        self.avd = build_avd(config) if config.avd.enabled else None  # used by `avd_transfer`

    def forward(self, source: Tensor, driving: Tensor, use_background: bool = True) -> Animation:
        motion_source, motion_driving = self.estimator(source), self.estimator(driving)
        background = self.background(source, driving) if self.background is not None and use_background else None
        return self.animate(source, motion_source, motion_driving, background)

    def animate(self, source: Tensor, motion_source: Motion, motion_driving: Motion,
                background: Tensor | None = None) -> Animation:
        """Generates from already estimated motions (the animate pipeline normalises them first)."""
        flow = self.dense_motion(self.dense_motion.shrink(source), motion_source, motion_driving, background)
        features = self.generator.encode(source)
        prediction = self.generator(source, features, flow)
        deformed = warp(source, flow.deformation, flow.align_corners)
        return Animation(prediction, deformed, flow, features)


def build_avd(config: ModelConfig) -> AVDNetwork:
    """MRAA's AVD embeds K regions with their affines; TPSMM's the 5·K control points alone."""
    if config.estimator.method == "tpsmm":
        return AVDNetwork(config.avd, config.num_kp * POINTS, affine=False)
    return AVDNetwork(config.avd, config.num_kp)
