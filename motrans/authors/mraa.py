"""The authors' MRAA code, `snap-research/articulated-animation`: its YAML files and checkpoints, in our terms.

YAML (`config/vox256.yaml`, ...): `dataset_params` and most `generator_params` are FOMM's; the region predictor goes
to `model.estimator.mraa`, the pixelwise flow predictor to `model.dense_motion` (with the covariance heatmaps and
the axis-swap fix), the AVD network to `model.avd`. Every key is translated, listed in `IGNORED` (no effect on the
model or on anything we implement), or listed in `FIXED` (an option whose other value no released file uses and we
do not implement); anything else is a `ConfigError`.

Checkpoint (`vox256.pth`, ...): `region_predictor`, `generator` (with `pixelwise_flow_predictor` inside),
`bg_predictor` (empty for mgif's `zero` background), `avd_network` after the AVD stage, optimizer states and
`epoch_*` (`peers.md` §2.4).

Quirks: the region head's padding (3 for vox256, 0 for the others) and the frame size change no shape, so a
checkpoint needs its YAML; the files' frame size is the data's (`frame_shape: null`), read here off the YAML's name.
The code carries Snap's no-licence notice: ours is written from the paper and the shapes, none of theirs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from torch import Tensor

from ..config import BackgroundConfig, Config, RegionPredictorConfig, replace
from ..errors import ConfigError
from . import keymap, mtia
from .fomm import dense_motion_config, downsample_scale, generator_config
from .keymap import compile_rules, hourglass_config
from .release import Release
from .yamlmap import check_fixed, translate_keys

LAYOUT = "MRAA"
REPOSITORY = "snap-research/articulated-animation"
METHOD = "mraa"
ARTICLED = "an MRAA"  # for messages
LOOKS_LIKE = ARTICLED
YAML_NEEDED = "the region head's padding is in no weight: 3 for vox256.yaml, 0 for taichi256, ted384 and mgif256"
_SIZES = {"vox256.pth": "291,747,542 bytes", "taichi256.pth": "273,409,176 bytes", "mgif256.pth": "248,256,308 bytes",
          "ted384.pth": "273,409,224 bytes", "ted-youtube384.pth": "292,943,746 bytes"}  # their Git LFS pointers
RELEASES = tuple(Release(file, dataset, yaml, size=_SIZES[file], shapes=shapes) for file, dataset, yaml, shapes in (
    ("vox256.pth", "VoxCeleb", "vox256.yaml", {"num_kp": 10, "background.kind": "affine"}),
    ("taichi256.pth", "TaiChiHD", "taichi256.yaml", {"num_kp": 10, "background.kind": "affine"}),
    ("ted384.pth", "TED-talks", "ted384.yaml", {"num_kp": 10, "background.kind": "affine"}),
    ("ted-youtube384.pth", "TED-talks (YouTube)", "ted-youtube384.yaml", {"num_kp": 20}),
    ("mgif256.pth", "MGIF", "mgif256.yaml", {"num_kp": 10, "background.kind": "none"}),
))


# ------------------------------------------------------------------------------------------------ YAML
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


def matches_yaml(data: dict) -> bool:
    """MRAA's layout: `model_params.region_predictor_params`."""
    params = data.get("model_params")
    return isinstance(params, dict) and "region_predictor_params" in params and "MODEL" not in data


def translate(data: dict, source: str) -> dict:
    """MRAA's nested dict -> our nested dict (still to be type-checked by `config_from_dict`)."""
    check_fixed(data, source, FIXED)
    out = translate_keys(data, source, LAYOUT, TOP, RENAMES, IGNORED | set(FIXED), convert_value)
    model = out.setdefault("model", {})
    model.setdefault("estimator", {})["method"] = "mraa"
    model.setdefault("avd", {})["enabled"] = "avd_network_params" in data.get("model_params", {})
    _code_defaults(data, out)
    return out


def convert_value(path: str, value: Any, source: str) -> Any:
    if path == "dataset_params.frame_shape" and value is None:
        side = frame_side(source)  # the authors resize nothing and run at the data's size
        return [side, side]
    if path == "animate_params.mode":
        if value not in MODES:
            raise ConfigError(f"{source}: animate_params.mode must be one of {sorted(MODES)}, got {value!r}")
        return dict(zip(("relative", "relative_jacobian", "adapt_scale"), MODES[value]))
    return mtia.convert_value(path, value, source)


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
    mtia.jitter_defaults(data, out)
    mtia.loss_defaults(data, out)


# ------------------------------------------------------------------------------------------------ checkpoint
MODEL_ENTRIES = ("region_predictor", "generator", "bg_predictor", "avd_network")
OTHER_ENTRIES = ("optimizer_reconstruction", "optimizer_avd", "epoch_reconstruction", "epoch_avd")
RULES = compile_rules([
    (r"region_predictor\.predictor\.", "estimator.hourglass."),
    (r"region_predictor\.regions\.", "estimator.heatmap."),
    (r"region_predictor\.down\.", "estimator.downsample."),
    (r"generator\.pixelwise_flow_predictor\.down\.", "dense_motion.downsample."),
    (r"generator\.pixelwise_flow_predictor\.", "dense_motion."),
    (r"generator\.", "generator."),
    (r"bg_predictor\.", "background."),
    (r"avd_network\.", "avd."),
])
BACKGROUNDS = {2: "shift", 6: "affine", 8: "perspective"}


def matches(checkpoint: dict) -> bool:
    """True for MRAA's layout: a top-level `region_predictor`."""
    return isinstance(checkpoint.get("region_predictor"), dict)


def convert(checkpoint: dict) -> dict[str, Tensor]:
    """The authors' checkpoint dict -> our state dict (AnimationModel keys, `avd.*` included when stored)."""
    return keymap.convert(checkpoint, MODEL_ENTRIES, OTHER_ENTRIES, RULES, ARTICLED)


def config_from(state: dict[str, Tensor]) -> dict:
    """What the shapes of a converted state dict say about its config (a partial `model:` dict: no pad)."""
    region = {**hourglass_config(state, "estimator.hourglass.encoder", RegionPredictorConfig.max_features),
              "scale": downsample_scale(state, "estimator.downsample.weight")}
    model = {
        "num_kp": state["estimator.heatmap.weight"].shape[0],
        "num_channels": state["generator.final.weight"].shape[0],
        "estimator": {"method": METHOD, "mraa": region},
        "dense_motion": dense_motion_config(state),
        "generator": generator_config(state),
        "background": {"kind": "none"},
        "avd": avd_config(state),
    }
    if "background.fc.weight" in state:
        model["background"] = {"kind": BACKGROUNDS[state["background.fc.weight"].shape[0]],
                               **hourglass_config(state, "background.encoder", BackgroundConfig.max_features)}
    return model


def avd_config(state: dict[str, Tensor]) -> dict:
    if "avd.id_encoder.0.weight" not in state:
        return {"enabled": False}
    return {"enabled": True, "id_bottleneck": state["avd.id_encoder.9.weight"].shape[0],
            "pose_bottleneck": state["avd.pose_encoder.9.weight"].shape[0]}


def shape_config(state: dict[str, Tensor]) -> dict:
    """The config dict the weights' shapes give, defaults elsewhere: not enough to load (`YAML_NEEDED`)."""
    return {"model": config_from(state)}


def follow_state(config: Config, state: dict[str, Tensor]) -> Config:
    """The config with the AVD network the file holds: it is stored only after the AVD stage, and the authors'
    demo loads it only when present."""
    avd = replace(config.model.avd, **avd_config(state))
    return replace(config, model=replace(config.model, avd=avd))
