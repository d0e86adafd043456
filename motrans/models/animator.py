"""Figure 1 end to end: motion estimator → (background) → dense motion → generator; MRAA's AVD when configured."""

from __future__ import annotations

from torch import Tensor, nn

from ..config import ModelConfig
from .avd import AVDNetwork
from .background import BackgroundMotion
from .dense_motion import DenseMotion
from .generator import Generator, warp
from .motion import Animation, Motion


class AnimationModel(nn.Module):
    """source, driving (B, C, H, W) in [0, 1] -> Animation(prediction (B, C, H, W), deformed, flow)."""

    def __init__(self, config: ModelConfig, estimator: nn.Module):
        super().__init__()
        self.config = config
        self.estimator = estimator
        self.background = BackgroundMotion(config.background, config.num_channels) if config.background.kind != "none" else None
        self.dense_motion = DenseMotion(config.dense_motion, config.num_kp, config.num_channels)
        self.generator = Generator(config.generator, config.num_channels)
        self.avd = AVDNetwork(config.avd, config.num_kp) if config.avd.enabled else None  # used by `avd_transfer`

    def forward(self, source: Tensor, driving: Tensor, use_background: bool = True) -> Animation:
        motion_source, motion_driving = self.estimator(source), self.estimator(driving)
        background = self.background(source, driving) if self.background is not None and use_background else None
        return self.animate(source, motion_source, motion_driving, background)

    def animate(self, source: Tensor, motion_source: Motion, motion_driving: Motion,
                background: Tensor | None = None) -> Animation:
        """Generates from already estimated motions (the animate pipeline normalises them first)."""
        flow = self.dense_motion(self.dense_motion.shrink(source), motion_source, motion_driving, background)
        prediction = self.generator(source, self.generator.encode(source), flow)
        deformed = warp(source, flow.deformation)
        return Animation(prediction, deformed, flow)

