"""The authors' TPSMM checkpoint layout (`vox.pth.tar`, ...): an exhaustive key map onto our AnimationModel.

Their file holds `kp_detector`, `dense_motion_network`, `inpainting_network`, and, depending on the stage that saved
it (`peers.md` §3.4), `bg_predictor` (from `bg_start` on, never for mgif), `avd_network` (after the AVD stage),
optimizer states and `epoch`. Every shape-bearing choice can be read off the weights; only the frame size cannot
(ted-384's weights have vox-256's shapes), so without its YAML a TPSMM checkpoint is built for 256².
"""

from __future__ import annotations

from torch import Tensor

from ..config import Config, DenseMotionConfig, GeneratorConfig, replace
from ..config_tpsmm import ANIMATE
from ..models.tps import POINTS
from .fomm import downsample_scale
from .keymap import compile_rules, count_blocks, flatten, hourglass_config, max_features, rename
from .mraa import BACKGROUNDS, avd_config

LAYOUT = "TPSMM"
ARTICLED = "a TPSMM"  # for messages
METHOD = "tpsmm"
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
    state = flatten(checkpoint, MODEL_ENTRIES, OTHER_ENTRIES, ARTICLED)
    return {rename(key, RULES, ARTICLED): value for key, value in state.items()}


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
