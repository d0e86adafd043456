"""The authors' TPSMM YAML layout (`Thin-Plate-Spline-Motion-Model/config/*.yaml`) into ours.

`common_params.num_tps` is our `model.num_kp` (K transforms, 5 points each); `bg` picks the ResNet-18 affine
background predictor; `dense_motion_params`, `generator_params` and `avd_network_params` go to their namesakes.
Every key is translated, listed in `IGNORED` with the reason it changes nothing we build or run, or listed in
`FIXED` (an option whose other value no released file uses and we do not implement); anything else is a
`ConfigError` naming the key and the file. `train_params` becomes TPSMM's training recipe (loss weights, `bg_start`,
the TPS dropout schedule); what their train.py and model.py fix in code instead is `TRAIN_CODE`.
"""

from __future__ import annotations

from typing import Any

from . import authors_config as mtia
from .config import put
from .config_fomm import translate_keys
from .config_mraa import AVD_TRAIN, check_fixed, frame_side
from .errors import ConfigError

TOP = {"dataset_params", "model_params", "train_params", "train_avd_params", "visualizer_params"}
IGNORED = {
    "dataset_params.pairs_list",  # animation pairs for their `animate` mode, which run.py no longer has
    "train_params.dataloader_workers", "visualizer_params",  # no effect on the model or on the results
    "train_params.checkpoint_freq", "train_avd_params.checkpoint_freq",  # epochs; our `checkpoint_every` is steps
    "train_avd_params.dataloader_workers",
}
FIXED = {"model_params.common_params.multi_mask": True}  # False: one occlusion mask, resized to every level
RENAMES = {key: ours for key, ours in mtia.RENAMES.items() if key.startswith("dataset_params.")
           and not key.startswith("dataset_params.data_list")}
RENAMES.update({
    "model_params.common_params.num_tps": "model.num_kp",
    "model_params.common_params.num_channels": "model.num_channels",
    "model_params.common_params.bg": "model.background.kind",
    **{f"model_params.generator_params.{key}": f"model.generator.{key}"
       for key in ("block_expansion", "max_features", "num_down_blocks")},
    **{f"model_params.dense_motion_params.{key}": f"model.dense_motion.{ours}"
       for key, ours in {"block_expansion": "block_expansion", "max_features": "max_features",
                         "num_blocks": "num_blocks", "scale_factor": "scale", "kp_variance": "kp_variance"}.items()},
    "model_params.avd_network_params.id_bottle_size": "model.avd.id_bottleneck",
    "model_params.avd_network_params.pose_bottle_size": "model.avd.pose_bottleneck",
    "train_params.num_epochs": "train.epochs",
    "train_params.num_repeats": "train.repeats",
    "train_params.epoch_milestones": "train.milestones",
    # One Adam over the inpainting, dense motion and keypoint networks, and one for the BG predictor, at this rate.
    "train_params.lr_generator": ("train.lr_generator", "train.lr_estimator", "train.lr_background"),
    "train_params.batch_size": "train.batch_size",
    "train_params.scales": "train.scales",
    **{f"train_params.transform_params.{key}": f"train.transform.{key}"
       for key in ("sigma_affine", "sigma_tps", "points_tps")},
    "train_params.loss_weights.perceptual": "train.loss.perceptual",
    "train_params.loss_weights.equivariance_value": "train.loss.equivariance_value",
    "train_params.loss_weights.warp_loss": "train.loss.warp",
    "train_params.loss_weights.bg": "train.loss.background_cycle",
    "train_params.bg_start": "train.background_start",
    **{f"train_params.dropout_{key}": f"train.tps_dropout.{ours}"
       for key, ours in {"epoch": "until_epoch", "startp": "start_p", "maxp": "max_p",
                         "inc_epoch": "ramp_epochs"}.items()},
    **AVD_TRAIN,  # the AVD stage reads MRAA's keys; mgif's `lambda_affine` weighs nothing here: no affines
})
# The recipe TPSMM's train.py and model.py fix in code rather than in the YAML (`peers.md` §3.2).
TRAIN_CODE = {
    "train.weight_decay": 1e-4,  # of both Adams
    # clip_grad_norm_(max_norm=10, norm_type=inf) on the keypoint, dense motion and BG networks; not the inpainting
    **{f"train.clip_{name}": 10.0 for name in ("estimator", "dense_motion", "background")},
    "train.clip_generator": 0.0,
    "train.clip_norm_type": float("inf"),
    "train.transform.kind": "tpsmm",  # their random TPS: r²·log r², align_corners=True
}
# The demo's default `--mode relative` always adapts the movement scale (hull areas of the 5·K points).
ANIMATE = {"relative": True, "relative_jacobian": False, "adapt_scale": True}


def matches(data: dict) -> bool:
    """TPSMM's layout: `model_params.common_params.num_tps`."""
    params = data.get("model_params")
    common = params.get("common_params") if isinstance(params, dict) else None
    return isinstance(common, dict) and "num_tps" in common and "MODEL" not in data


def translate(data: dict, source: str) -> dict:
    """TPSMM's nested dict -> our nested dict (still to be type-checked by `config_from_dict`)."""
    check_fixed(data, source, FIXED)
    out = translate_keys(data, source, "TPSMM", TOP, RENAMES, IGNORED | set(FIXED), _convert)
    model = out.setdefault("model", {})
    model.setdefault("estimator", {})["method"] = "tpsmm"
    model["estimate_jacobian"] = False  # TPS control points have no local affine
    model.setdefault("avd", {})["enabled"] = "avd_network_params" in data.get("model_params", {})
    _code_defaults(data, out)
    return out


def _convert(path: str, value: Any, source: str) -> Any:
    if path == "dataset_params.frame_shape" and value is None:
        side = frame_side(source)  # the authors resize nothing and run at the data's size
        return [side, side]
    if path == "model_params.common_params.bg":
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {path} must be true or false, got {value!r}")
        return "affine" if value else "none"
    return mtia._convert(path, value, source)


def _code_defaults(data: dict, out: dict) -> None:
    """Values TPSMM's code takes from its own defaults when a file leaves them out, or fixes in code."""
    model = out["model"]
    model.setdefault("background", {}).setdefault("kind", "none")  # the authors build no BG predictor without `bg`
    model.setdefault("dense_motion", {})["occlusion"] = True  # always predicted
    augment = data.get("dataset_params", {}).get("augmentation_params", {})
    if "flip_param" not in augment:
        out.setdefault("data", {}).setdefault("augment", {}).update(horizontal_flip=False, time_flip=False)
    out.setdefault("animate", dict(ANIMATE))
    for dotted, value in TRAIN_CODE.items():
        put(out, dotted, value)
    mtia._jitter_defaults(data, out)
    mtia._loss_defaults(data, out)
    loss = out["train"].setdefault("loss", {})
    for name in ("warp", "background_cycle"):  # a weight a file leaves out is 0 in their code, as MTIA's
        loss.setdefault(name, 0.0)
