"""The authors' FOMM checkpoint layout (`vox-cpk.pth.tar`, ...): an exhaustive key map onto our AnimationModel.

Their file holds `kp_detector`, `generator` (with `dense_motion_network` inside), `discriminator`, three optimizer
states and `epoch` (`peers.md` §1.4). Every shape-bearing choice can be read off the weights, so a FOMM checkpoint
rebuilds its model without a YAML: only the softmax temperature (0.1), the heads' padding (0) and the frame size
(256²) cannot, and every released model uses those.
"""

from __future__ import annotations

from torch import Tensor

from ..config import DenseMotionConfig, DiscriminatorConfig, GeneratorConfig, KeypointDetectorConfig
from .keymap import compile_rules, count_blocks, flatten, hourglass_config, max_features, rename

LAYOUT = "FOMM"
ARTICLED = "a FOMM"  # for messages
METHOD = "fomm"
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
    state = flatten(checkpoint, MODEL_ENTRIES, OTHER_ENTRIES, ARTICLED)
    return {rename(key, RULES, ARTICLED): value for key, value in state.items()}


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
