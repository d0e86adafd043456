"""The authors' FOMM code, `AliaksandrSiarohin/first-order-model`: its YAML files and checkpoints, in our terms.

YAML (`config/vox-256.yaml`, ...): MTIA forked FOMM's code, so FOMM's files use the same `dataset_params`,
`generator_params` and `train_params` keys, read with the same defaults: those translate as MTIA's do, less the keys
MTIA added; the keypoint detector's go to `model.estimator.fomm`. Every key is translated or listed in `IGNORED`;
anything else is a `ConfigError`.

Checkpoint (`vox-cpk.pth.tar`, ...): `kp_detector`, `generator` (with `dense_motion_network` inside),
`discriminator`, three optimizer states and `epoch` (`peers.md` §1.4). Every shape-bearing choice can be read off the
weights, so a FOMM checkpoint rebuilds its model without a YAML: only the softmax temperature (0.1), the heads'
padding (0) and the frame size (256²) cannot, and every released model uses those.

Quirks: FOMM clips no gradient; `single_jacobian_map` (mgif) shares one Jacobian map between keypoints; the `-adv`
files' discriminators take the keypoint heatmaps (13 channels) and have no spectral norm.
"""

from __future__ import annotations

from torch import Tensor

from ..config import Config, DenseMotionConfig, DiscriminatorConfig, GeneratorConfig, KeypointDetectorConfig
from . import keymap, mtia
from .keymap import compile_rules, count_blocks, hourglass_config, max_features
from .release import Release
from .yamlmap import translate_keys

LAYOUT = "FOMM"
REPOSITORY = "AliaksandrSiarohin/first-order-model"
METHOD = "fomm"
ARTICLED = "a FOMM"  # for messages
LOOKS_LIKE = ARTICLED
YAML_NEEDED = ""  # the shapes say all
_TAICHI = {"discriminator.spectral_norm": False, "discriminator.use_kp": False}
_ADV = {"discriminator.spectral_norm": False, "discriminator.use_kp": True}
RELEASES = (
    Release("vox-cpk.pth.tar", "VoxCeleb", "vox-256.yaml", shapes={"discriminator.spectral_norm": True,
                                                                   "estimator.fomm.single_jacobian_map": False}),
    Release("vox-adv-cpk.pth.tar", "VoxCeleb, adversarial", "vox-adv-256.yaml", shapes=_ADV),
    Release("taichi-cpk.pth.tar", "TaiChiHD", "taichi-256.yaml", shapes=_TAICHI),
    Release("taichi-adv-cpk.pth.tar", "TaiChiHD, adversarial", "taichi-adv-256.yaml", shapes=_ADV),
    Release("mgif-cpk.pth.tar", "MGIF", "mgif-256.yaml", shapes={"estimator.fomm.single_jacobian_map": True}),
)


# ------------------------------------------------------------------------------------------------ YAML
TOP = {"dataset_params", "model_params", "train_params", "reconstruction_params", "animate_params",
       "visualizer_params"}
IGNORED = {"dataset_params.pairs_list", "train_params.checkpoint_freq", "reconstruction_params",
           "animate_params.num_pairs", "animate_params.format", "visualizer_params"}
_MTIA_ONLY = ("MODEL.", "dataset_params.data_list", "model_params.use_bg_predictor", "model_params.bg_predictor_params",
              "model_params.generator_params.skips", "train_params.lr_bg_predictor", "train_params.loss_weights.bg_",
              "train_params.loss_weights.fg_")
DETECTOR = {"block_expansion": "block_expansion", "max_features": "max_features", "num_blocks": "num_blocks",
            "scale_factor": "scale", "temperature": "temperature", "pad": "pad",
            "single_jacobian_map": "single_jacobian_map"}
RENAMES = {key: ours for key, ours in mtia.RENAMES.items() if not key.startswith(_MTIA_ONLY)}
RENAMES.update({f"model_params.kp_detector_params.{key}": f"model.estimator.fomm.{ours}"
                for key, ours in DETECTOR.items()})


def matches_yaml(data: dict) -> bool:
    """FOMM's layout: `model_params.kp_detector_params` (MTIA keeps its detector under `MODEL`)."""
    params = data.get("model_params")
    return isinstance(params, dict) and "kp_detector_params" in params and "MODEL" not in data


def translate(data: dict, source: str) -> dict:
    """FOMM's nested dict -> our nested dict (still to be type-checked by `config_from_dict`)."""
    out = translate_keys(data, source, LAYOUT, TOP, RENAMES, IGNORED, mtia.convert_value)
    mtia.apply_defaults(data, out)  # the defaults FOMM's code applies are MTIA's: it is their origin
    model = out.setdefault("model", {})
    model.setdefault("estimator", {})["method"] = "fomm"
    _code_defaults(model)
    out.setdefault("train", {})["clip_estimator"] = 0.0  # FOMM clips no gradient
    return out


def _code_defaults(model: dict) -> None:
    """Values FOMM's code takes from its own defaults when a file leaves them out, where ours differ."""
    model.setdefault("estimate_jacobian", False)
    model.setdefault("estimator", {}).setdefault("fomm", {}).setdefault("scale", 1.0)
    model.setdefault("dense_motion", {}).setdefault("scale", 1.0)
    model["dense_motion"].setdefault("occlusion", False)
    model.setdefault("discriminator", {}).setdefault("spectral_norm", False)


# ------------------------------------------------------------------------------------------------ checkpoint
MODEL_ENTRIES = ("kp_detector", "generator", "discriminator")
OTHER_ENTRIES = ("optimizer_generator", "optimizer_discriminator", "optimizer_kp_detector", "epoch")
RULES = compile_rules([
    (r"kp_detector\.predictor\.", "estimator.hourglass."),
    (r"kp_detector\.kp\.", "estimator.heatmap."),
    (r"kp_detector\.jacobian\.", "estimator.jacobian."),
    (r"kp_detector\.down\.", "estimator.downsample."),
    (r"generator\.dense_motion_network\.down\.", "dense_motion.downsample."),
    (r"generator\.dense_motion_network\.", "dense_motion."),
    (r"generator\.", "generator."),
    (r"discriminator\.", "discriminator."),
])


def matches(checkpoint: dict) -> bool:
    """True for FOMM's layout: a top-level `kp_detector` with a `kp` heatmap head."""
    kp = checkpoint.get("kp_detector")
    return isinstance(kp, dict) and "kp.weight" in kp


def convert(checkpoint: dict) -> dict[str, Tensor]:
    """The authors' checkpoint dict -> our state dict (AnimationModel keys plus `discriminator.*`)."""
    return keymap.convert(checkpoint, MODEL_ENTRIES, OTHER_ENTRIES, RULES, ARTICLED)


def config_from(state: dict[str, Tensor]) -> dict:
    """The `model:` dict of a converted state dict, complete but for what no weight shows (see the module doc)."""
    jacobian = state.get("estimator.jacobian.weight")
    num_kp = state["estimator.heatmap.weight"].shape[0]
    detector = {**hourglass_config(state, "estimator.hourglass.encoder", KeypointDetectorConfig.max_features),
                "scale": downsample_scale(state, "estimator.downsample.weight"),
                "single_jacobian_map": jacobian is not None and jacobian.shape[0] == 4 and num_kp != 1}
    model = {
        "num_kp": num_kp,
        "num_channels": state["generator.final.weight"].shape[0],
        "estimate_jacobian": jacobian is not None,
        "estimator": {"method": METHOD, "fomm": detector},
        "dense_motion": dense_motion_config(state),
        "generator": {**generator_config(state), "skips": False},
        "background": {"kind": "none"},
    }
    if any(k.startswith("discriminator.") for k in state):
        model["discriminator"] = discriminator_config(state, model["num_channels"])
    return model


def downsample_scale(state: dict[str, Tensor], key: str) -> float:
    """The anti-alias kernel has 2·round(4σ) + 1 taps with σ = (1/s − 1)/2; no kernel means scale 1."""
    if key not in state:
        return 1.0
    return 1 / round((state[key].shape[-1] - 1) / 4 + 1)


def dense_motion_config(state: dict[str, Tensor]) -> dict:
    return {**hourglass_config(state, "dense_motion.hourglass.encoder", DenseMotionConfig.max_features),
            "scale": downsample_scale(state, "dense_motion.downsample.weight"),
            "occlusion": "dense_motion.occlusion.weight" in state}


def generator_config(state: dict[str, Tensor]) -> dict:
    expansion = state["generator.first.conv.weight"].shape[0]
    down = count_blocks(state, "generator.down_blocks.")
    widths = [state[f"generator.down_blocks.{i}.conv.weight"].shape[0] for i in range(down)]
    top = max_features(max([expansion, *widths]), expansion * 2**down, GeneratorConfig.max_features)
    return {"block_expansion": expansion, "max_features": top, "num_down_blocks": down,
            "num_bottleneck_blocks": count_blocks(state, "generator.bottleneck.r")}


def discriminator_config(state: dict[str, Tensor], num_channels: int) -> dict:
    scales = sorted({k.split(".")[2] for k in state if k.startswith("discriminator.discs.")})
    prefix = f"discriminator.discs.{scales[0]}.down_blocks."
    spectral = f"{prefix}0.conv.weight_orig" in state
    weight = "weight_orig" if spectral else "weight"
    blocks = count_blocks(state, prefix)
    widths = [state[f"{prefix}{i}.conv.{weight}"].shape for i in range(blocks)]
    expansion = widths[0][0] // 2
    top = max_features(max(w[0] for w in widths), expansion * 2**blocks, DiscriminatorConfig.max_features)
    return {"scales": [float(s.replace("-", ".")) for s in scales], "block_expansion": expansion,
            "max_features": top, "num_blocks": blocks, "spectral_norm": spectral,
            "use_kp": widths[0][1] != num_channels}


def shape_config(state: dict[str, Tensor]) -> dict:
    """The whole config dict the weights' shapes give (see the module doc for what they cannot)."""
    return {"model": config_from(state)}


def follow_state(config: Config, state: dict[str, Tensor]) -> Config:
    """The config as given: every part of the model is always stored."""
    return config
