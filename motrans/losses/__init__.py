"""The training criterion: named, unweighted loss terms; their weights live in `LossConfig`.

A term whose weight is zero is never computed (the paper trains without GAN terms, and the authors' code
keeps an untrained discriminator only to save it).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from ..config import LossConfig, ModelConfig, TrainConfig
from ..errors import ConfigError
from ..models import AnimationModel, Animation, Motion
from .background import background_cycle, background_mask, mask_concentration
from .equivariance import RandomTPS, equivariance_jacobian, equivariance_value, random_tps, warp_kind
from .gan import discriminator_gan, feature_matching, generator_gan
from .perceptual import ImagePyramid, MobileNetV2Features, VGG19Features, perceptual_terms
from .prior import separation
from .warp import warp_loss

LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@dataclass
class Output:
    terms: dict[str, Tensor]  # unweighted
    animation: Animation
    source: Motion
    driving: Motion
    transformed_frame: Tensor | None = None


def weights(loss: LossConfig) -> dict[str, float]:
    """Every term's weight by name; the perceptual and feature-matching lists weight one term per layer."""
    out = {f"perceptual.{name}": w for name, w in zip(LAYERS, loss.perceptual)}
    out.update(equivariance_value=loss.equivariance_value, equivariance_jacobian=loss.equivariance_jacobian,
               background_mask=loss.background_mask, mask_concentration=loss.mask_concentration,
               generator_gan=loss.generator_gan, feature_matching=1.0 if any(loss.feature_matching) else 0.0,
               warp=loss.warp, background_cycle=loss.background_cycle, pixel=loss.pixel,
               separation=loss.separation)
    return out


def total(terms: dict[str, Tensor], loss: LossConfig) -> Tensor:
    w = weights(loss)
    return sum(w[name] * value for name, value in terms.items())


def build_perceptual(config: TrainConfig) -> nn.Module | None:
    if not any(config.loss.perceptual):
        return None
    if config.perceptual_backbone == "vgg19":
        return VGG19Features().load_weights(config.perceptual_weights)
    if config.perceptual_backbone == "mobilenetv2":
        return MobileNetV2Features().load_weights(config.perceptual_weights).folded()
    if config.perceptual_backbone == "none":
        raise ConfigError("train.perceptual_backbone is none but train.loss.perceptual has non-zero weights: "
                          "set them to 0 to train without a perceptual loss")
    raise ConfigError(f"unknown train.perceptual_backbone {config.perceptual_backbone!r} (vgg19, mobilenetv2 or none)")


class Criterion(nn.Module):
    """model, source, driving -> Output(terms, ...). Holds the frozen perceptual network and the pyramid."""

    def __init__(self, config: TrainConfig, model_config: ModelConfig, perceptual: nn.Module | None = None):
        super().__init__()
        self.config, self.loss = config, config.loss
        self.revert_axis_swap = model_config.dense_motion.revert_axis_swap
        warp_kind(config.transform)  # an unknown kind fails here, not at the first step
        if self.loss.warp and model_config.estimator.method != "tpsmm":
            raise ConfigError("train.loss.warp needs TPSMM's inpainting generator (model.estimator.method: tpsmm)")
        if self.loss.separation and model_config.estimator.method == "tpsmm":
            raise ConfigError("train.loss.separation needs keypoints; TPSMM's control points are not")
        if self.loss.separation and self.loss.separation_sigma <= 0:
            raise ConfigError(f"train.loss.separation_sigma must be > 0, not {self.loss.separation_sigma}")
        self.pyramid = ImagePyramid(config.scales, model_config.num_channels)
        self.perceptual = perceptual if perceptual is not None else build_perceptual(config)

    def forward(self, model: AnimationModel, source: Tensor, driving: Tensor, warp: RandomTPS | None = None,
                discriminator: nn.Module | None = None, use_background: bool = True) -> Output:
        """source, driving (B, C, H, W); `warp`: the equivariance transform (drawn here when None);
        `use_background`: False leaves the background predictor out of the step (TPSMM before `bg_start`)."""
        motion_source, motion_driving = model.estimator(source), model.estimator(driving)
        use_background = use_background and model.background is not None
        background = model.background(source, driving) if use_background else None
        animation = model.animate(source, motion_source, motion_driving, background)
        out = Output({}, animation, motion_source, motion_driving)
        real, generated = self.pyramid(driving), self.pyramid(animation.prediction)
        if self.perceptual is not None:
            for name, value in zip(LAYERS, perceptual_terms(self.perceptual, generated, real)):
                out.terms[f"perceptual.{name}"] = value
        if self.loss.pixel:
            out.terms["pixel"] = (animation.prediction - driving).abs().mean()
        if self.loss.separation:
            sigma = self.loss.separation_sigma
            out.terms["separation"] = (separation(motion_source.kp, sigma) + separation(motion_driving.kp, sigma)) / 2
        self._mask_terms(out, model.background is not None)
        self._equivariance_terms(out, model, driving, warp)
        if self.loss.warp:
            self._warp_term(out, model, driving)
        if self.loss.background_cycle and use_background:
            out.terms["background_cycle"] = background_cycle(background, model.background(driving, source))
        if self.loss.generator_gan:
            self._gan_terms(out, discriminator, real, generated)
        return out

    def _mask_terms(self, out: Output, has_background: bool) -> None:
        if self.loss.background_mask:
            out.terms["background_mask"] = background_mask(out.animation.flow.mask, has_background)
        if self.loss.mask_concentration:
            out.terms["mask_concentration"] = mask_concentration(out.animation.flow.mask)

    def _equivariance_terms(self, out: Output, model: AnimationModel, driving: Tensor, warp: RandomTPS | None) -> None:
        if not (self.loss.equivariance_value or self.loss.equivariance_jacobian):
            return
        warp = warp or random_tps(len(driving), self.config.transform, device=driving.device)
        out.transformed_frame = warp.warp_frame(driving)
        transformed = model.estimator(out.transformed_frame)
        if self.loss.equivariance_value:
            out.terms["equivariance_value"] = equivariance_value(out.driving, transformed, warp)
        if self.loss.equivariance_jacobian:
            out.terms["equivariance_jacobian"] = equivariance_jacobian(out.driving, transformed, warp,
                                                                        self.revert_axis_swap)

    def _warp_term(self, out: Output, model: AnimationModel, driving: Tensor) -> None:
        """The source's encoder features, warped by the flow, against the driving frame's (both masked)."""
        flow = out.animation.flow
        warped = model.generator.warped_features(out.animation.features, flow)
        out.terms["warp"] = warp_loss(warped, model.generator.masked_features(driving, flow))

    def _gan_terms(self, out: Output, discriminator: nn.Module, real: dict, generated: dict) -> None:
        kp = out.driving.kp.detach()
        maps_generated = discriminator(generated, kp)
        out.terms["generator_gan"] = generator_gan(maps_generated)
        if any(self.loss.feature_matching):
            out.terms["feature_matching"] = feature_matching(discriminator(real, kp), maps_generated,
                                                             self.loss.feature_matching)

    def discriminator_terms(self, discriminator: nn.Module, driving: Tensor, prediction: Tensor, kp: Tensor) -> Tensor:
        """The LSGAN discriminator loss on real driving frames and detached predictions."""
        real, generated = self.pyramid(driving), self.pyramid(prediction.detach())
        return discriminator_gan(discriminator(real, kp.detach()), discriminator(generated, kp.detach()))
