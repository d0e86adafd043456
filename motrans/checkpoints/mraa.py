"""The authors' MRAA checkpoint layout (`vox256.pth`, ...): an exhaustive key map onto our AnimationModel.

Their file holds `region_predictor`, `generator` (with `pixelwise_flow_predictor` inside), `bg_predictor` (empty
for mgif's `zero` background), `avd_network` after the AVD stage, optimizer states and `epoch_*` (`peers.md`
§2.4). The region head's padding (3 for vox256, 0 for the others) and the frame size change no shape, so an MRAA
checkpoint needs its YAML.
"""

from __future__ import annotations

from torch import Tensor

from ..config import BackgroundConfig, RegionPredictorConfig
from .fomm import dense_motion_config, downsample_scale, generator_config
from .keymap import compile_rules, flatten, hourglass_config, rename

LAYOUT = "MRAA"
ARTICLED = "an MRAA"  # for messages
METHOD = "mraa"
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
    state = flatten(checkpoint, MODEL_ENTRIES, OTHER_ENTRIES, ARTICLED)
    return {rename(key, RULES, ARTICLED): value for key, value in state.items()}


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
