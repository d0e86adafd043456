"""The models of Figure 1. `build_model(config)` builds an `AnimationModel` around the config's motion estimator."""

from __future__ import annotations

import math

from torch import nn

from ..config import EstimatorConfig, ModelConfig
from ..errors import ConfigError
from .animator import AnimationModel
from .avd import AVDNetwork, avd_transfer
from .discriminator import MultiScaleDiscriminator
from .estimators.fomm import KeypointDetector
from .estimators.motrans import MotionTransformer
from .estimators.mraa import RegionPredictor
from .motion import Animation, Flow, Motion

ESTIMATORS = {"motrans": MotionTransformer, "fomm": KeypointDetector, "mraa": RegionPredictor}


def list_models() -> list[str]:
    """The motion estimators `build_model` knows."""
    return sorted(ESTIMATORS)


def build_estimator(config: ModelConfig) -> nn.Module:
    method = config.estimator.method
    if method not in ESTIMATORS:
        raise ConfigError(f"unknown estimator method {method!r} (known: {', '.join(list_models())})")
    _check_sizes(config)
    return ESTIMATORS[method](config.estimator, config.num_kp, config.frame_size, config.estimate_jacobian)


def build_model(config: ModelConfig) -> AnimationModel:
    """A freshly initialised AnimationModel (estimator, optional background, dense motion, generator)."""
    return AnimationModel(config, build_estimator(config))


def build_discriminator(config: ModelConfig) -> MultiScaleDiscriminator:
    return MultiScaleDiscriminator(config.discriminator, config.num_channels, config.num_kp,
                                   config.dense_motion.kp_variance)


def _check_sizes(config: ModelConfig) -> None:
    h, w = config.frame_size
    # The hourglasses halve their 1/4 grid num_blocks times; the generator halves the frame.
    unit = math.lcm(_estimator_unit(config.estimator),
                    int(round(1 / config.dense_motion.scale)) * 2**config.dense_motion.num_blocks,
                    2**config.generator.num_down_blocks)
    for name, value in (("height", h), ("width", w)):
        if value % unit:
            raise ConfigError(f"model.frame_size {name} {value} must be divisible by {unit}")


def _estimator_unit(estimator: EstimatorConfig) -> int:
    if estimator.method in ("fomm", "mraa"):
        hourglass = getattr(estimator, estimator.method)
        return int(round(1 / hourglass.scale)) * 2**hourglass.num_blocks
    # HRNet halves the 1/4 map twice more; tokens are patches of it.
    return math.lcm(4 * estimator.patch_size, 16 if estimator.backbone.kind == "hrnet" else 4)


__all__ = ["AnimationModel", "Animation", "Flow", "Motion", "ESTIMATORS", "build_model", "build_estimator",
           "build_discriminator", "list_models", "AVDNetwork", "avd_transfer"]
