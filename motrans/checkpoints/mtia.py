"""The authors' MTIA checkpoint layout (`*.pth.tar`): an exhaustive key map onto our AnimationModel.

Their file holds `generator` (with `dense_motion_network` inside), `kp_detector`, optionally `bg_predictor`,
`discriminator`, optimizer states and `epoch`. We flatten the model entries with their name as prefix and rename
every key; a key no rule covers is an error, never dropped.
"""

from __future__ import annotations

import math
import re

from torch import Tensor

from ..errors import CheckpointError

MODEL_ENTRIES = ("kp_detector", "generator", "bg_predictor", "discriminator")
OTHER_ENTRIES = ("optimizer_generator", "optimizer_discriminator", "optimizer_kp_detector", "optimizer_bg_predictor",
                 "epoch")

# HRNet models (pose_tokenpose_b) keep the CNN in `pre_feature` and the tokens in `transformer`; the Stem ablation
# (pose_tokenpose_s) keeps both in `features`.
_TOKENS = r"kp_detector\.(?:transformer|features)\."
_LAYER = r"kp_detector\.(?:transformer\.transformer|features\.transformer)\.layers\.(\d+)\."
# (authors' prefix as a regex, our prefix); the first match wins, the rest of the key is kept.
RENAMES = [
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
]
_COMPILED = [(re.compile(src), dst) for src, dst in RENAMES]


def matches(checkpoint: dict) -> bool:
    """True for the authors' MTIA layout: top-level `kp_detector` with a transformer inside."""
    kp = checkpoint.get("kp_detector")
    return isinstance(kp, dict) and any(str(k).endswith("keypoint_token") for k in kp)


def flatten(checkpoint: dict) -> dict[str, Tensor]:
    """{entry: state_dict} -> {"entry.key": tensor} for the model entries; other known entries are skipped."""
    unknown = set(checkpoint) - set(MODEL_ENTRIES) - set(OTHER_ENTRIES)
    if unknown:
        raise CheckpointError(f"unexpected top-level entry {sorted(unknown)[0]!r}: not an MTIA checkpoint?")
    return {f"{entry}.{key}": value for entry in MODEL_ENTRIES for key, value in checkpoint.get(entry, {}).items()}


def rename(key: str) -> str:
    for pattern, replacement in _COMPILED:
        match = pattern.match(key)
        if match:
            return match.expand(replacement) + key[match.end():]
    raise CheckpointError(f"unexpected key {key!r}: not an MTIA checkpoint?")


def convert(checkpoint: dict) -> dict[str, Tensor]:
    """The authors' checkpoint dict -> our state dict (AnimationModel keys plus `discriminator.*`)."""
    return {rename(key): value for key, value in flatten(checkpoint).items()}


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
