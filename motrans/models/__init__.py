"""The models of Figure 1. `build_model(config)` builds an `AnimationModel` around the config's motion estimator."""

from __future__ import annotations

import math

from torch import nn

from ..config import EstimatorConfig, ModelConfig
from ..errors import ConfigError
from .animator import AnimationModel
from .avd import AVDNetwork, avd_transfer
from .dense_motion_tps import MASKS, upsamplings
from .discriminator import MultiScaleDiscriminator
from .estimators.fomm import KeypointDetector
from .estimators.motrans import MotionTransformer
from .estimators.mraa import RegionPredictor
from .estimators.tpsmm import TPSKeypointDetector
from .motion import Animation, Flow, Motion

ESTIMATORS = {"motrans": MotionTransformer, "fomm": KeypointDetector, "mraa": RegionPredictor,
              "tpsmm": TPSKeypointDetector}


def list_models() -> list[str]:
    """The motion estimators `build_model` knows."""
    return sorted(ESTIMATORS)


def build_estimator(config: ModelConfig) -> nn.Module:
    method = config.estimator.method
    if method not in ESTIMATORS:
        raise ConfigError(f"unknown estimator method {method!r} (known: {', '.join(list_models())})")
    check_sizes(config)
    return ESTIMATORS[method](config.estimator, config.num_kp, config.frame_size, config.estimate_jacobian)


def build_model(config: ModelConfig) -> AnimationModel:
    """A freshly initialised AnimationModel (estimator, optional background, dense motion, generator)."""
    return AnimationModel(config, build_estimator(config))


def build_discriminator(config: ModelConfig) -> MultiScaleDiscriminator:
    return MultiScaleDiscriminator(config.discriminator, config.num_channels, config.num_kp,
                                   config.dense_motion.kp_variance)


def check_sizes(config: ModelConfig) -> None:
    if config.estimator.method == "tpsmm":
        _check_tpsmm(config)
    h, w = config.frame_size
    # The hourglasses halve their 1/4 grid num_blocks times; the generator halves the frame.
    unit = math.lcm(_estimator_unit(config.estimator),
                    int(round(1 / config.dense_motion.scale)) * 2**config.dense_motion.num_blocks,
                    2**config.generator.num_down_blocks)
    for name, value in (("height", h), ("width", w)):
        if value % unit:
            raise ConfigError(f"model.frame_size {name} {value} must be divisible by {unit}")


def _check_tpsmm(config: ModelConfig) -> None:
    """TPSMM's occlusion masks come at H/8, H/4, H/2 and H: the last hourglass levels at the motion grid, then
    log2(1/scale) UpBlocks. They must exist, and meet the inpainting levels, which needs 3 down blocks."""
    scale, blocks = config.dense_motion.scale, config.dense_motion.num_blocks
    ups = upsamplings(scale)
    if not 0 <= ups <= MASKS or scale != 2.0**-ups:
        raise ConfigError(f"model.dense_motion.scale {scale} must be 1, 1/2, 1/4, 1/8 or 1/16 for tpsmm")
    if blocks < MASKS - ups:
        raise ConfigError(f"model.dense_motion.num_blocks {blocks} must be at least {MASKS - ups} for tpsmm at scale "
                          f"{scale}: the occlusion masks are read off that many hourglass levels")
    if config.generator.num_down_blocks != MASKS - 1:
        raise ConfigError(f"model.generator.num_down_blocks {config.generator.num_down_blocks} must be {MASKS - 1} "
                          f"for tpsmm: its {MASKS} occlusion masks meet the inpainting generator's levels")


def _estimator_unit(estimator: EstimatorConfig) -> int:
    if estimator.method == "tpsmm":
        return 1  # the ResNet pools globally, whatever the size
    if estimator.method in ("fomm", "mraa"):
        hourglass = getattr(estimator, estimator.method)
        return int(round(1 / hourglass.scale)) * 2**hourglass.num_blocks
    # HRNet halves the 1/4 map twice more; tokens are patches of it.
    return math.lcm(4 * estimator.patch_size, 16 if estimator.backbone.kind == "hrnet" else 4)


__all__ = ["AnimationModel", "Animation", "Flow", "Motion", "ESTIMATORS", "build_model", "build_estimator",
           "build_discriminator", "list_models", "AVDNetwork", "avd_transfer"]
