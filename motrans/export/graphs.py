"""The three graphs a model exports as, each a thin nn.Module over the model's own boxes.

    estimator  image (B, 3, H, W) in [0, 1] -> kp (B, K, 2) [, jacobian (B, K, 2, 2)] [, covariance (B, K, 2, 2)]
    encoder    source (1, 3, H, W) -> small (1, 3, h, w), features feature0 ... featureN (the generator's levels)
    renderer   the encoder's outputs, the source's motion (batch 1) and B transferred driving motions
               -> prediction (B, 3, H, W) in [0, 1]

This is the split of the streaming pipeline (`animate.pipeline.Animator`): the source is estimated and encoded once,
driving frames are estimated in batches, their motion is transferred in torch (K·6 numbers a frame), and the
renderer runs the dense motion and the generator, as `Animator.generate` does.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..models import AnimationModel, Motion
from .subpixel import PhaseGenerator, applies

MOTION_FIELDS = ("kp", "jacobian", "covariance")


def motion_fields(model: AnimationModel) -> list[str]:
    """Which Motion fields the model's estimator fills (kp always; jacobian, covariance where it has them)."""
    size = tuple(model.config.frame_size)
    with torch.no_grad():
        motion = model.estimator(torch.rand(1, 3, *size))
    return [name for name in MOTION_FIELDS if getattr(motion, name) is not None]


def feature_count(model: AnimationModel) -> int:
    return len(model.generator.down_blocks) + 1


class EstimatorGraph(nn.Module):
    def __init__(self, model: AnimationModel):
        super().__init__()
        self.estimator, self.fields = model.estimator, motion_fields(model)

    def forward(self, image: Tensor) -> tuple[Tensor, ...]:
        motion = self.estimator(image)
        return tuple(getattr(motion, name) for name in self.fields)


class EncoderGraph(nn.Module):
    def __init__(self, model: AnimationModel):
        super().__init__()
        self.dense_motion, self.generator = model.dense_motion, model.generator

    def forward(self, source: Tensor) -> tuple[Tensor, ...]:
        return (self.dense_motion.shrink(source), *self.generator.encode(source))


class RendererGraph(nn.Module):
    """With `phases`, the generator's full-resolution tail runs on phases (`subpixel`) where it applies: what is
    exported; without, the torch path's own arithmetic (what the export is checked against)."""

    def __init__(self, model: AnimationModel, phases: bool = False):
        super().__init__()
        self.dense_motion, self.generator = model.dense_motion, model.generator
        if phases and applies(model.generator, tuple(model.config.frame_size)):
            self.generator = PhaseGenerator(model.generator)
        self.fields, self.levels = motion_fields(model), feature_count(model)

    def forward(self, *inputs: Tensor) -> Tensor:
        """source, small, feature0..N, the source's motion fields, the driving motion fields (see `input_names`)."""
        source, small = inputs[:2]
        features = list(inputs[2:2 + self.levels])
        motions = inputs[2 + self.levels:]
        n = len(self.fields)
        driving = Motion(**dict(zip(self.fields, motions[n:])))
        b = driving.kp.shape[0]
        expand = lambda t: t.expand(b, *t.shape[1:])  # noqa: E731 - the cached batch-1 source, seen B times
        source_motion = Motion(**{name: expand(t) for name, t in zip(self.fields, motions[:n])})
        flow = self.dense_motion(expand(small), source_motion, driving, None)
        return self.generator(expand(source), [expand(f) for f in features], flow)


def input_names(graph: str, fields: list[str], levels: int) -> list[str]:
    if graph == "estimator":
        return ["image"]
    if graph == "encoder":
        return ["source"]
    return ["source", "small", *encoder_features(levels), *[f"source_{f}" for f in fields], *fields]


def output_names(graph: str, fields: list[str], levels: int) -> list[str]:
    if graph == "estimator":
        return list(fields)
    if graph == "encoder":
        return ["small", *encoder_features(levels)]
    return ["prediction"]


def encoder_features(levels: int) -> list[str]:
    return [f"feature{i}" for i in range(levels)]


GRAPHS = {"estimator": EstimatorGraph, "encoder": EncoderGraph, "renderer": RendererGraph}
