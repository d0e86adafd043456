"""The authors' TPSMM code, `yoyo-nb/Thin-Plate-Spline-Motion-Model`: its YAML files and checkpoints, in our terms.

YAML (`config/vox-256.yaml`, ...): `common_params.num_tps` is our `model.num_kp` (K transforms, 5 points each);
`bg` picks the ResNet-18 affine background predictor; `dense_motion_params`, `generator_params` and
`avd_network_params` go to their namesakes. Every key is translated, listed in `IGNORED` with the reason it changes
nothing we build or run, or listed in `FIXED` (an option whose other value no released file uses and we do not
implement); anything else is a `ConfigError` naming the key and the file. `train_params` becomes TPSMM's training
recipe (loss weights, `bg_start`, the TPS dropout schedule); what their train.py and model.py fix in code instead is
`TRAIN_CODE`.

Checkpoint (`vox.pth.tar`, ...): `kp_detector`, `dense_motion_network`, `inpainting_network`, and, depending on the
stage that saved it (`peers.md` §3.4), `bg_predictor` (from `bg_start` on, never for mgif), `avd_network` (after the
AVD stage), optimizer states and `epoch`. Every shape-bearing choice can be read off the weights; only the frame size
cannot (ted-384's weights have vox-256's shapes), so without its YAML a TPSMM checkpoint is built for 256².
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ..config import Config, DenseMotionConfig, GeneratorConfig, put, replace
from ..errors import ConfigError
from ..models.tps import POINTS
from . import keymap, mraa, mtia
from .fomm import downsample_scale
from .keymap import compile_rules, count_blocks, hourglass_config, max_features
from .mraa import AVD_TRAIN, BACKGROUNDS, avd_config
from .release import Release
from .yamlmap import check_fixed, translate_keys

LAYOUT = "TPSMM"
REPOSITORY = "yoyo-nb/Thin-Plate-Spline-Motion-Model"
METHOD = "tpsmm"
ARTICLED = "a TPSMM"  # for messages
LOOKS_LIKE = ARTICLED
YAML_NEEDED = ""  # the shapes say all but the frame size: ted's 384² needs `--config ted-384.yaml`
RELEASES = (
    Release("vox.pth.tar", "VoxCeleb", "vox-256.yaml", shapes={"num_kp": 10, "background.kind": "affine"}),
    Release("taichi.pth.tar", "TaiChiHD", "taichi-256.yaml", shapes={"num_kp": 10, "background.kind": "affine"}),
    Release("ted.pth.tar", "TED-talks (384², give the YAML)", "ted-384.yaml",
            shapes={"num_kp": 10, "background.kind": "affine"}),
    Release("mgif.pth.tar", "MGIF", "mgif-256.yaml", shapes={"num_kp": 10, "background.kind": "none"}),
)


# ------------------------------------------------------------------------------------------------ YAML
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


def matches_yaml(data: dict) -> bool:
    """TPSMM's layout: `model_params.common_params.num_tps`."""
    params = data.get("model_params")
    common = params.get("common_params") if isinstance(params, dict) else None
    return isinstance(common, dict) and "num_tps" in common and "MODEL" not in data


def translate(data: dict, source: str) -> dict:
    """TPSMM's nested dict -> our nested dict (still to be type-checked by `config_from_dict`)."""
    check_fixed(data, source, FIXED)
    out = translate_keys(data, source, LAYOUT, TOP, RENAMES, IGNORED | set(FIXED), convert_value)
    model = out.setdefault("model", {})
    model.setdefault("estimator", {})["method"] = "tpsmm"
    model["estimate_jacobian"] = False  # TPS control points have no local affine
    model.setdefault("avd", {})["enabled"] = "avd_network_params" in data.get("model_params", {})
    _code_defaults(data, out)
    return out


def convert_value(path: str, value: Any, source: str) -> Any:
    if path == "model_params.common_params.bg":
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {path} must be true or false, got {value!r}")
        return "affine" if value else "none"
    return mraa.convert_value(path, value, source)  # `frame_shape: null` as in MRAA's files: the data's size


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
    mtia.jitter_defaults(data, out)
    mtia.loss_defaults(data, out)
    loss = out["train"].setdefault("loss", {})
    for name in ("warp", "background_cycle"):  # a weight a file leaves out is 0 in their code, as MTIA's
        loss.setdefault(name, 0.0)


# ------------------------------------------------------------------------------------------------ checkpoint
MODEL_ENTRIES = ("kp_detector", "dense_motion_network", "inpainting_network", "bg_predictor", "avd_network")
OTHER_ENTRIES = ("optimizer", "optimizer_bg_predictor", "optimizer_avd", "epoch")
RULES = compile_rules([
    (r"kp_detector\.fg_encoder\.", "estimator.encoder."),
    (r"dense_motion_network\.down\.", "dense_motion.downsample."),
    (r"dense_motion_network\.maps\.", "dense_motion.mask."),
    (r"dense_motion_network\.up\.", "dense_motion.up_blocks."),
    (r"dense_motion_network\.(hourglass|occlusion)\.", r"dense_motion.\1."),
    (r"inpainting_network\.resblock\.", "generator.res_blocks."),
    (r"inpainting_network\.(first|down_blocks|up_blocks|final)\.", r"generator.\1."),
    (r"bg_predictor\.bg_encoder\.", "background.encoder."),
    (r"avd_network\.", "avd."),
])


def matches(checkpoint: dict) -> bool:
    """True for TPSMM's layout: a top-level `inpainting_network`."""
    return isinstance(checkpoint.get("inpainting_network"), dict)


def convert(checkpoint: dict) -> dict[str, Tensor]:
    """The authors' checkpoint dict -> our state dict (AnimationModel keys, `background.*` and `avd.*` when stored)."""
    return keymap.convert(checkpoint, MODEL_ENTRIES, OTHER_ENTRIES, RULES, ARTICLED)


def config_from(state: dict[str, Tensor]) -> dict:
    """The `config` dict of a converted state dict: the model as its shapes say, at 256², and the demo's animation."""
    model = {
        "num_kp": state["estimator.encoder.fc.weight"].shape[0] // (2 * POINTS),
        "num_channels": state["generator.final.weight"].shape[0],
        "estimate_jacobian": False,
        "estimator": {"method": METHOD},
        "dense_motion": {**hourglass_config(state, "dense_motion.hourglass.encoder", DenseMotionConfig.max_features),
                         "scale": downsample_scale(state, "dense_motion.downsample.weight")},
        "generator": generator_config(state),
        **stored_boxes(state),
    }
    return {"model": model, "animate": dict(ANIMATE)}


def generator_config(state: dict[str, Tensor]) -> dict:
    expansion = state["generator.first.conv.weight"].shape[0]
    down = count_blocks(state, "generator.down_blocks.")
    widths = [state[f"generator.down_blocks.{i}.conv.weight"].shape[0] for i in range(down)]
    top = max_features(max([expansion, *widths]), expansion * 2**down, GeneratorConfig.max_features)
    return {"block_expansion": expansion, "max_features": top, "num_down_blocks": down}


def stored_boxes(state: dict[str, Tensor]) -> dict:
    """The background and AVD sections for what the file holds: each is saved only by some training stages."""
    out: dict = {"background": {"kind": "none"}, "avd": avd_config(state)}
    if "background.encoder.fc.weight" in state:
        out["background"] = {"kind": BACKGROUNDS[state["background.encoder.fc.weight"].shape[0]]}
    return out


def follow_state(config: Config, state: dict[str, Tensor]) -> Config:
    """`config` with the background predictor and AVD network the file holds, no more.

    The authors' demo builds both from the YAML and loads the AVD network only when stored, and never uses the
    background; a file saved before `bg_start` or before the AVD stage lacks them. A stored one the config does
    not have still fails the strict load: the config then does not describe this model.
    """
    boxes = stored_boxes(state)
    model = config.model
    if boxes["background"]["kind"] == "none":
        model = replace(model, background=replace(model.background, kind="none"))
    model = replace(model, avd=replace(model.avd, **boxes["avd"]))
    return replace(config, model=model)


def shape_config(state: dict[str, Tensor]) -> dict:
    """The whole config dict the weights' shapes give (at 256²; see the module doc)."""
    return config_from(state)
