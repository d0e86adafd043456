"""The authors' MoTrans code, `JialeTao/MTIA`: its YAML files and its checkpoints, in our terms.

YAML (`config/voxceleb1.yaml`, ...: `dataset_params`, `model_params`, `train_params`, `MODEL`, ...): every key is
translated or listed in `IGNORED` with the reason it has no effect (`../shared/reference/mtia.md` §1); anything
else is a `ConfigError`, so a typo is never silently dropped. The defaults their code applies where a file is silent
are `apply_defaults`; FOMM's and MRAA's files share them, since MTIA forked FOMM.

Checkpoint (`00000099-checkpoint.pth.tar`): `generator` (with `dense_motion_network` inside), `kp_detector`,
optionally `bg_predictor`, `discriminator` (untrained: every GAN weight is 0), optimizer states and `epoch`
(`keys/mtia_checkpoint_structure.txt`). We flatten the model entries with their name as prefix and rename every key;
a key no rule covers is an error, never dropped.

Quirks: `generator.skips` changes no weight, so the vox and mgif files have identical shapes and a checkpoint needs
its YAML; the sine position embedding is in the state dict, so 256² and 384² files are not interchangeable.
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor

from ..config import Config
from ..errors import ConfigError
from . import keymap
from .keymap import compile_rules
from .release import Release
from .yamlmap import translate_keys

LAYOUT = "MTIA"
REPOSITORY = "JialeTao/MTIA"
METHOD = "motrans"
ARTICLED = "an MTIA"  # for messages
LOOKS_LIKE = "an authors' MTIA (MoTrans)"
# Why a checkpoint cannot rebuild its model alone; "" when its shapes say all.
YAML_NEEDED = "`skips` is in no weight: the vox and mgif files have the same shapes"
RELEASES = (
    Release("00000099-checkpoint.pth.tar", "VoxCeleb", "voxceleb1.yaml", "motrans-vox256", "706 MB",
            {"frame_size": [256, 256], "background.kind": "none"}),
    Release("00000099-checkpoint.pth.tar", "TaiChiHD", "taichi256.yaml", "motrans-taichi256", "781 MB",
            {"frame_size": [256, 256], "background.kind": "affine"}),
    Release("00000099-checkpoint.pth.tar", "TED-talks", "ted384.yaml", "motrans-ted384", "706 MB",
            {"frame_size": [384, 384]}),
    Release("00000099-checkpoint.pth.tar", "MGIF", "mgif256.yaml", "motrans-mgif256", "706 MB",
            {"frame_size": [256, 256], "background.kind": "none"}),
)


# ------------------------------------------------------------------------------------------------ YAML
AUTHORS_TOP = {"dataset_params", "model_params", "train_params", "reconstruction_params", "animate_params",
               "visualizer_params", "MODEL"}

# Keys present in the authors' files that change nothing in their code (heatmap head, multi-branch options,
# paths handled by our CLI, visualisation). Values are not checked.
IGNORED = {
    "dataset_params.pairs_list", "model_params.use_bg_predictor",
    "train_params.checkpoint_freq", "train_params.clip_generator_grad", "train_params.clip_bg_predictor_grad",
    "train_params.clip_kp_detector_grad", "train_params.clip", "reconstruction_params", "animate_params.num_pairs",
    "animate_params.format", "visualizer_params",
    "MODEL.TAG_PER_JOINT", "MODEL.HIDDEN_HEATMAP_DIM", "MODEL.MULTI_TRANSFORMER_DEPTH", "MODEL.MULTI_TRANSFORMER_HEADS",
    "MODEL.MULTI_DIM", "MODEL.NUM_BRANCHES", "MODEL.TARGET_TYPE", "MODEL.SIGMA", "MODEL.HEATMAP_SIZE",
    "MODEL.TEMPERATURE", "MODEL.INIT", "MODEL.INIT_WEIGHTS", "MODEL.NAME", "MODEL.NUM_JOINTS", "MODEL.IMAGE_SIZE",
    "MODEL.ESTIMATE_JACOBIAN", "MODEL.EXTRA.FINAL_CONV_KERNEL", "MODEL.EXTRA.PRETRAINED_LAYERS",
    "MODEL.EXTRA.STAGE2", "MODEL.EXTRA.STAGE3",
}

# authors' path -> our path (in `Config` dict layout)
RENAMES = {
    "dataset_params.root_dir": "data.root",
    "dataset_params.data_list": "data.train_list",
    "dataset_params.data_list_test": "data.test_list",
    "dataset_params.frame_shape": "model.frame_size",
    "dataset_params.id_sampling": "data.id_sampling",
    "dataset_params.augmentation_params.flip_param.horizontal_flip": "data.augment.horizontal_flip",
    "dataset_params.augmentation_params.flip_param.time_flip": "data.augment.time_flip",
    "dataset_params.augmentation_params.rotation_param.degrees": "data.augment.rotation",
    "dataset_params.augmentation_params.resize_param.ratio": "data.augment.resize_ratio",
    "dataset_params.augmentation_params.crop_param.size": "data.augment.crop",
    "dataset_params.augmentation_params.jitter_param.brightness": "data.augment.jitter.brightness",
    "dataset_params.augmentation_params.jitter_param.contrast": "data.augment.jitter.contrast",
    "dataset_params.augmentation_params.jitter_param.saturation": "data.augment.jitter.saturation",
    "dataset_params.augmentation_params.jitter_param.hue": "data.augment.jitter.hue",
    "model_params.common_params.num_kp": "model.num_kp",
    "model_params.common_params.num_channels": "model.num_channels",
    "model_params.common_params.estimate_jacobian": "model.estimate_jacobian",
    "model_params.bg_predictor_params.block_expansion": "model.background.block_expansion",
    "model_params.bg_predictor_params.max_features": "model.background.max_features",
    "model_params.bg_predictor_params.num_blocks": "model.background.num_blocks",
    "model_params.bg_predictor_params.bg_type": "model.background.kind",
    "model_params.generator_params.block_expansion": "model.generator.block_expansion",
    "model_params.generator_params.max_features": "model.generator.max_features",
    "model_params.generator_params.num_down_blocks": "model.generator.num_down_blocks",
    "model_params.generator_params.num_bottleneck_blocks": "model.generator.num_bottleneck_blocks",
    "model_params.generator_params.estimate_occlusion_map": "model.dense_motion.occlusion",
    "model_params.generator_params.skips": "model.generator.skips",
    "model_params.generator_params.dense_motion_params.block_expansion": "model.dense_motion.block_expansion",
    "model_params.generator_params.dense_motion_params.max_features": "model.dense_motion.max_features",
    "model_params.generator_params.dense_motion_params.num_blocks": "model.dense_motion.num_blocks",
    "model_params.generator_params.dense_motion_params.scale_factor": "model.dense_motion.scale",
    "model_params.generator_params.dense_motion_params.kp_variance": "model.dense_motion.kp_variance",
    "model_params.discriminator_params.scales": "model.discriminator.scales",
    "model_params.discriminator_params.block_expansion": "model.discriminator.block_expansion",
    "model_params.discriminator_params.max_features": "model.discriminator.max_features",
    "model_params.discriminator_params.num_blocks": "model.discriminator.num_blocks",
    "model_params.discriminator_params.sn": "model.discriminator.spectral_norm",
    "model_params.discriminator_params.use_kp": "model.discriminator.use_kp",
    "train_params.num_epochs": "train.epochs",
    "train_params.num_repeats": "train.repeats",
    "train_params.epoch_milestones": "train.milestones",
    "train_params.lr_generator": "train.lr_generator",
    "train_params.lr_discriminator": "train.lr_discriminator",
    "train_params.lr_kp_detector": "train.lr_estimator",
    "train_params.lr_bg_predictor": "train.lr_background",
    "train_params.batch_size": "train.batch_size",
    "train_params.scales": "train.scales",
    "train_params.transform_params.sigma_affine": "train.transform.sigma_affine",
    "train_params.transform_params.sigma_tps": "train.transform.sigma_tps",
    "train_params.transform_params.points_tps": "train.transform.points_tps",
    "train_params.loss_weights.generator_gan": "train.loss.generator_gan",
    "train_params.loss_weights.discriminator_gan": "train.loss.discriminator_gan",
    "train_params.loss_weights.feature_matching": "train.loss.feature_matching",
    "train_params.loss_weights.perceptual": "train.loss.perceptual",
    "train_params.loss_weights.equivariance_value": "train.loss.equivariance_value",
    "train_params.loss_weights.equivariance_jacobian": "train.loss.equivariance_jacobian",
    "train_params.loss_weights.bg_fg_mask": "train.loss.background_mask",
    "train_params.loss_weights.fg_mask_concentration": "train.loss.mask_concentration",
    "animate_params.normalization_params.adapt_movement_scale": "animate.adapt_scale",
    "animate_params.normalization_params.use_relative_movement": "animate.relative",
    "animate_params.normalization_params.use_relative_jacobian": "animate.relative_jacobian",
    "MODEL.BASE_CHANNEL": "model.estimator.backbone.width",
    "MODEL.PRETRAINED": "model.estimator.backbone.pretrained",
    "MODEL.DIM": "model.estimator.dim",
    "MODEL.TRANSFORMER_DEPTH": "model.estimator.depth",
    "MODEL.TRANSFORMER_HEADS": "model.estimator.heads",
    "MODEL.TRANSFORMER_MLP_RATIO": "model.estimator.mlp_ratio",
    "MODEL.POS_EMBEDDING_TYPE": "model.estimator.position",
    "MODEL.DATA_PREPROCESS": "model.estimator.normalize_input",
    "MODEL.FIX_IMG2MOTION_ATTENTION": "model.estimator.mask_image_to_motion",
    "MODEL.PATCH_SIZE": "model.estimator.patch_size",
}


def matches_yaml(data: dict) -> bool:
    """MTIA's layout: the authors' top-level keys, none of ours (FOMM's, MRAA's and TPSMM's match too: they
    are tried first)."""
    return bool(set(data) & AUTHORS_TOP) and not {"model", "data", "train", "animate"} & set(data)


def translate(data: dict, source: str) -> dict:
    """The authors' nested dict -> our nested dict (still to be type-checked by `config_from_dict`)."""
    out = translate_keys(data, source, LAYOUT, AUTHORS_TOP, RENAMES, IGNORED, convert_value)
    _check_hrnet(data.get("MODEL", {}), source)
    apply_defaults(data, out)
    return out


def convert_value(path: str, value: Any, source: str) -> Any:
    if path == "dataset_params.frame_shape":
        return list(value[:2])
    if path == "MODEL.PATCH_SIZE":
        if len(set(value)) != 1:
            raise ConfigError(f"{source}: MODEL.PATCH_SIZE must be square, got {value}")
        return value[0]
    if path == "MODEL.PRETRAINED":
        return value or ""
    if path == "model_params.bg_predictor_params.bg_type" and value == "zero":
        return "none"
    if value is None:
        raise ConfigError(f"{source}: {path} is empty")
    return value


def _check_hrnet(model: dict, source: str) -> None:
    """Our HRNet is stages 1-3 with branch widths (w, 2w, 4w); refuse other layouts rather than mis-build them."""
    extra = model.get("EXTRA", {})
    width = model.get("BASE_CHANNEL", 32)
    expected = {
        "STAGE2": (1, 2, "BASIC", [4, 4], [width, 2 * width]),
        "STAGE3": (4, 3, "BASIC", [4, 4, 4], [width, 2 * width, 4 * width]),
    }
    for stage, (modules, branches, block, blocks, channels) in expected.items():
        got = extra.get(stage)
        if got is None:
            continue
        seen = (got.get("NUM_MODULES"), got.get("NUM_BRANCHES"), got.get("BLOCK"), list(got.get("NUM_BLOCKS", [])),
                list(got.get("NUM_CHANNELS", [])))
        if seen != (modules, branches, block, blocks, channels):
            raise ConfigError(f"{source}: MODEL.EXTRA.{stage} {seen} is not HRNet-W{width} stages 1-3")
    name = model.get("NAME", "pose_tokenpose_b")
    if name not in ("pose_tokenpose_b", "pose_tokenpose_s"):
        raise ConfigError(f"{source}: MODEL.NAME {name!r} is not supported (pose_tokenpose_b or _s)")


def apply_defaults(data: dict, out: dict) -> None:
    """Values the authors' code takes from its own defaults rather than from the file."""
    params = data.get("model_params", {})
    model = out.setdefault("model", {})
    generator = params.get("generator_params", {})
    model.setdefault("generator", {}).setdefault("skips", bool(generator.get("skips", False)))
    if not params.get("use_bg_predictor", False):
        model["background"] = {"kind": "none"}
    if data.get("MODEL", {}).get("NAME") == "pose_tokenpose_s":
        model.setdefault("estimator", {}).setdefault("backbone", {})["kind"] = "stem"
        model["estimator"]["scale_with_head"] = False  # TokenPose_S_base builds its Transformer without it
    if "flip_param" not in data.get("dataset_params", {}).get("augmentation_params", {}):
        out.setdefault("data", {}).setdefault("augment", {}).update(horizontal_flip=False, time_flip=False)
    animate = data.get("animate_params", {}).get("normalization_params", {})
    out.setdefault("animate", {}).setdefault("relative", bool(animate.get("use_relative_movement", False)))
    out["animate"].setdefault("relative_jacobian", bool(animate.get("use_relative_jacobian", False)))
    jitter_defaults(data, out)
    loss_defaults(data, out)


def jitter_defaults(data: dict, out: dict) -> None:
    """The authors' ColorJitter defaults to 0 for any value a file leaves out (mgif sets only hue)."""
    jitter = data.get("dataset_params", {}).get("augmentation_params", {}).get("jitter_param")
    ours = out.setdefault("data", {}).setdefault("augment", {}).setdefault("jitter", {})
    for name in ("brightness", "contrast", "saturation", "hue"):
        ours.setdefault(name, 0.0 if jitter is None or name not in jitter else jitter[name])


def loss_defaults(data: dict, out: dict) -> None:
    """A weight the file leaves out is 0 in the authors' code (they test `loss_weights[...] != 0`)."""
    weights = data.get("train_params", {}).get("loss_weights")
    if weights is None:
        return
    loss = out.setdefault("train", {}).setdefault("loss", {})
    for name in ("background_mask", "mask_concentration", "generator_gan", "discriminator_gan",
                 "equivariance_value", "equivariance_jacobian"):
        loss.setdefault(name, 0.0)
    loss.setdefault("perceptual", [0.0] * 5)
    loss.setdefault("feature_matching", [0.0] * 4)


# ------------------------------------------------------------------------------------------------ checkpoint
MODEL_ENTRIES = ("kp_detector", "generator", "bg_predictor", "discriminator")
OTHER_ENTRIES = ("optimizer_generator", "optimizer_discriminator", "optimizer_kp_detector", "optimizer_bg_predictor",
                 "epoch")

# HRNet models (pose_tokenpose_b) keep the CNN in `pre_feature` and the tokens in `transformer`; the Stem ablation
# (pose_tokenpose_s) keeps both in `features`.
_TOKENS = r"kp_detector\.(?:transformer|features)\."
_LAYER = r"kp_detector\.(?:transformer\.transformer|features\.transformer)\.layers\.(\d+)\."
# (authors' prefix as a regex, our prefix); the first match wins, the rest of the key is kept.
RULES = compile_rules([
    (r"kp_detector\.pre_feature\.", "estimator.backbone."),
    (r"kp_detector\.features\.(conv1|bn1|conv2|bn2|layer1)\.", r"estimator.backbone.\1."),
    (_TOKENS + r"keypoint_token$", "estimator.motion_tokens"),
    (_TOKENS + r"pos_embedding$", "estimator.position"),
    (_TOKENS + r"patch_to_embedding\.", "estimator.patch_embedding."),
    (_LAYER + r"0\.fn\.norm\.", r"estimator.layers.\1.attention_norm."),
    (_LAYER + r"0\.fn\.fn\.to_qkv\.", r"estimator.layers.\1.attention.qkv."),
    (_LAYER + r"0\.fn\.fn\.to_out\.0\.", r"estimator.layers.\1.attention.out."),
    (_LAYER + r"1\.fn\.norm\.", r"estimator.layers.\1.mlp_norm."),
    (_LAYER + r"1\.fn\.fn\.net\.0\.", r"estimator.layers.\1.mlp.0."),
    (_LAYER + r"1\.fn\.fn\.net\.3\.", r"estimator.layers.\1.mlp.2."),
    (_TOKENS + r"mlp_head\.0\.", "estimator.keypoint_head.norm."),
    (_TOKENS + r"mlp_head\.1\.", "estimator.keypoint_head.linear."),
    (_TOKENS + r"mlp_head_jacobian\.0\.", "estimator.affine_head.norm."),
    (_TOKENS + r"mlp_head_jacobian\.1\.", "estimator.affine_head.linear."),
    (r"generator\.dense_motion_network\.down\.", "dense_motion.downsample."),
    (r"generator\.dense_motion_network\.", "dense_motion."),
    (r"generator\.", "generator."),
    (r"bg_predictor\.", "background."),
    (r"discriminator\.", "discriminator."),
])


def matches(checkpoint: dict) -> bool:
    """True for the authors' MTIA layout: top-level `kp_detector` with a transformer inside."""
    kp = checkpoint.get("kp_detector")
    return isinstance(kp, dict) and any(str(k).endswith("keypoint_token") for k in kp)


def convert(checkpoint: dict) -> dict[str, Tensor]:
    """The authors' checkpoint dict -> our state dict (AnimationModel keys plus `discriminator.*`)."""
    return keymap.convert(checkpoint, MODEL_ENTRIES, OTHER_ENTRIES, RULES, ARTICLED)


def config_from(state: dict[str, Tensor]) -> dict:
    """What the shapes of a converted state dict say about its config (a partial `model:` dict).

    `generator.skips` changes no weight, so it cannot be read off: the authors' vox and mgif files have identical
    shapes and differ only there. The caller must take it from a YAML file.
    """
    tokens = state["estimator.motion_tokens"].shape
    stem = "estimator.backbone.transition1.0.0.weight" not in state
    depth = 1 + max(int(k.split(".")[2]) for k in state if k.startswith("estimator.layers."))
    model: dict = {
        "num_kp": tokens[1] // 2,
        "estimator": {"dim": tokens[2], "depth": depth, "backbone": {"kind": "stem"} if stem else
                      {"width": state["estimator.backbone.transition1.0.0.weight"].shape[0]}},
    }
    if "estimator.position" in state:
        side = math.isqrt(state["estimator.position"].shape[1]) * 16  # square frames, 4×4 patches at 1/4
        model["frame_size"] = [side, side]
    else:
        model["estimator"]["position"] = "none"
    if "background.fc.weight" in state:
        kinds = {2: "shift", 6: "affine", 8: "perspective"}
        model["background"] = {"kind": kinds[state["background.fc.weight"].shape[0]]}
    return model


def shape_config(state: dict[str, Tensor]) -> dict:
    """The config dict the weights' shapes give, defaults elsewhere: not enough to load (`YAML_NEEDED`)."""
    return {"model": config_from(state)}


def follow_state(config: Config, state: dict[str, Tensor]) -> Config:
    """The config as given: every part of the model is always stored."""
    return config
