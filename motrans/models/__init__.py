"""The models of Figure 1. `build_model(config)` builds an `AnimationModel` around the config's motion estimator."""

from __future__ import annotations

from torch import nn

from ..config import ModelConfig
from ..config_bounds import check_sizes  # the frame-size rule, checked on configs before any model exists
from ..errors import ConfigError
from .animator import AnimationModel
from .avd import AVDNetwork, avd_transfer
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


__all__ = ["AnimationModel", "Animation", "Flow", "Motion", "ESTIMATORS", "build_model", "build_estimator",
           "build_discriminator", "list_models", "AVDNetwork", "avd_transfer"]
