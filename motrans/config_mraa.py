"""The authors' MRAA YAML layout (`articulated-animation/config/*.yaml`) into ours.

MRAA's `dataset_params` and most `generator_params` are FOMM's; its region predictor goes to
`model.estimator.mraa`, its pixelwise flow predictor to `model.dense_motion` (with the covariance heatmaps and the
axis-swap fix), its AVD network to `model.avd`. Every key is translated, listed in `IGNORED` (no effect on the
model or on anything we implement), or listed in `FIXED` (an option whose other value no released file uses and
we do not implement); anything else is a `ConfigError`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import authors_config as mtia
from .config_fomm import translate_keys
from .errors import ConfigError

TOP = {"dataset_params", "model_params", "train_params", "train_avd_params", "reconstruction_params",
       "animate_params", "visualizer_params"}
IGNORED = {
    "dataset_params.pairs_list", "train_params.use_sync_bn", "train_params.dataloader_workers",
    "train_params.checkpoint_freq", "reconstruction_params", "animate_params.num_pairs", "animate_params.format",
    "visualizer_params", "train_avd_params.dataloader_workers", "train_avd_params.checkpoint_freq",
}
FIXED = {
    "model_params.region_predictor_params.pca_based": True,  # False: a FOMM-style regressed affine head
    "model_params.region_predictor_params.fast_svd": False,  # True: torch_batch_svd, another GPU SVD
    "model_params.generator_params.pixelwise_flow_predictor_params.use_deformed_source": True,
}
_FLOW = "model_params.generator_params.pixelwise_flow_predictor_params"
_OURS = {
    "model_params.num_regions": "model.num_kp",
    "model_params.num_channels": "model.num_channels",
    "model_params.estimate_affine": "model.estimate_jacobian",
    "model_params.revert_axis_swap": "model.dense_motion.revert_axis_swap",
    "model_params.avd_network_params.id_bottle_size": "model.avd.id_bottleneck",
    "model_params.avd_network_params.pose_bottle_size": "model.avd.pose_bottleneck",
    f"{_FLOW}.block_expansion": "model.dense_motion.block_expansion",
    f"{_FLOW}.max_features": "model.dense_motion.max_features",
    f"{_FLOW}.num_blocks": "model.dense_motion.num_blocks",
    f"{_FLOW}.scale_factor": "model.dense_motion.scale",
    f"{_FLOW}.region_var": "model.dense_motion.kp_variance",
    f"{_FLOW}.use_covar_heatmap": "model.dense_motion.covariance_heatmaps",
    f"{_FLOW}.estimate_occlusion_map": "model.dense_motion.occlusion",
    "train_params.lr": ("train.lr_generator", "train.lr_estimator", "train.lr_background"),  # one Adam for all
    "train_params.loss_weights.equivariance_shift": "train.loss.equivariance_value",
    "train_params.loss_weights.equivariance_affine": "train.loss.equivariance_jacobian",
    "animate_params.mode": "animate",
}
# The second stage, `motrans train --stage avd` (TPSMM's files use the same keys).
AVD_TRAIN = {f"train_avd_params.{key}": f"train.avd.{ours}" for key, ours in
             {"num_epochs": "epochs", "num_repeats": "repeats", "epoch_milestones": "milestones",
              "batch_size": "batch_size", "lr": "lr", "random_scale": "random_scale",
              "lambda_shift": "lambda_shift", "lambda_affine": "lambda_affine"}.items()}
_OURS.update(AVD_TRAIN)
_SHARED = ("dataset_params.", "model_params.bg_predictor_params.", "model_params.generator_params.",
           "train_params.num_epochs", "train_params.num_repeats", "train_params.epoch_milestones",
           "train_params.batch_size", "train_params.scales", "train_params.transform_params.",
           "train_params.loss_weights.perceptual")
RENAMES = {key: ours for key, ours in mtia.RENAMES.items()
           if key.startswith(_SHARED) and not key.startswith("dataset_params.data_list") and "dense_motion" not in key
           and "estimate_occlusion_map" not in key}
RENAMES.update(_OURS)
RENAMES.update({f"model_params.region_predictor_params.{key}": f"model.estimator.mraa.{ours}" for key, ours in
                {"block_expansion": "block_expansion", "max_features": "max_features", "num_blocks": "num_blocks",
                 "scale_factor": "scale", "temperature": "temperature", "pad": "pad"}.items()})
# `animate_params.mode`: standard = the driving regions as they are; relative always adapts the movement scale;
# avd is absolute too, through the AVD network (`motrans.models.avd_transfer`), which our config cannot select yet.
MODES = {"standard": (False, False, False), "avd": (False, False, False), "relative": (True, True, True)}


def matches(data: dict) -> bool:
    """MRAA's layout: `model_params.region_predictor_params`."""
    params = data.get("model_params")
    return isinstance(params, dict) and "region_predictor_params" in params and "MODEL" not in data


def translate(data: dict, source: str) -> dict:
    """MRAA's nested dict -> our nested dict (still to be type-checked by `config_from_dict`)."""
    check_fixed(data, source)
    out = translate_keys(data, source, "MRAA", TOP, RENAMES, IGNORED | set(FIXED), _convert)
    model = out.setdefault("model", {})
    model.setdefault("estimator", {})["method"] = "mraa"
    model.setdefault("avd", {})["enabled"] = "avd_network_params" in data.get("model_params", {})
    _code_defaults(data, out)
    return out


def check_fixed(data: dict, source: str, fixed: dict[str, Any] = FIXED) -> None:
    """A ConfigError when a file sets an option of `fixed` (path -> the one supported value) otherwise."""
    for path, supported in fixed.items():
        node: Any = data
        for key in path.split("."):
            node = node.get(key, supported) if isinstance(node, dict) else supported
        if node != supported:
            raise ConfigError(f"{source}: {path}: {node!r} is not supported (only {supported!r})")


def _convert(path: str, value: Any, source: str) -> Any:
    if path == "dataset_params.frame_shape" and value is None:
        side = frame_side(source)  # the authors resize nothing and run at the data's size
        return [side, side]
    if path == "animate_params.mode":
        if value not in MODES:
            raise ConfigError(f"{source}: animate_params.mode must be one of {sorted(MODES)}, got {value!r}")
        return dict(zip(("relative", "relative_jacobian", "adapt_scale"), MODES[value]))
    return mtia._convert(path, value, source)


def frame_side(source: str) -> int:
    """The side the released models were trained at, from the file name (`ted384.yaml`: 384); else 256."""
    match = re.search(r"(\d{3,4})$", Path(source).stem)
    return int(match.group(1)) if match else 256


def _code_defaults(data: dict, out: dict) -> None:
    """Values MRAA's code takes from its own defaults when a file leaves them out."""
    model = out["model"]
    model.setdefault("generator", {}).setdefault("skips", False)
    model.setdefault("estimator", {}).setdefault("mraa", {}).setdefault("scale", 1.0)
    flow = model.setdefault("dense_motion", {})
    for key, value in (("scale", 1.0), ("occlusion", False), ("covariance_heatmaps", False),
                       ("revert_axis_swap", True)):
        flow.setdefault(key, value)
    augment = data.get("dataset_params", {}).get("augmentation_params", {})
    if "flip_param" not in augment:
        out.setdefault("data", {}).setdefault("augment", {}).update(horizontal_flip=False, time_flip=False)
    out.setdefault("animate", dict(zip(("relative", "relative_jacobian", "adapt_scale"), MODES["standard"])))
    out.setdefault("train", {})["clip_estimator"] = 0.0  # MRAA clips no gradient
    mtia._jitter_defaults(data, out)
    mtia._loss_defaults(data, out)
