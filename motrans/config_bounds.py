"""Bounds on every config field, checked by `config_from_data` before anything is built or allocated.

A config reaches us from our YAML, the authors' YAML, a safetensors file's metadata, a training checkpoint or the
command line, and any of them may be mistaken or hostile: a `depth` of 10⁹ or a 100000² frame would otherwise be
built until memory runs out, and a NaN would animate an all-black video. Every int and float field has a range in
`BOUNDS`, keyed by its dotted path or by a pattern shared by several sections (the first match wins; a test walks
`Config()` so that no field is left without one). The ranges are generous: several times what any released model
or recipe uses. Strings that pick a network or a recipe must be one of `CHOICES`.
"""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from fnmatch import fnmatchcase
from typing import Any, Iterator

from .errors import ConfigError, InputError
from .validate import finite, whole

SIDE = 2048  # pixels per frame side; the largest released model runs at 384²
WIDTH = 8192  # channels of a conv block; the authors' widest is 1024
EPOCHS = 10**6
STEPS = 10**9
WEIGHT = 1e6  # a loss weight or a gradient-norm limit; the authors' largest is 100
MAX_ITEMS = 64  # of any list field (scales, milestones, loss weights per layer)

# (low, high), inclusive; ints for int fields. Exact paths are looked up first, then the patterns in this order.
BOUNDS: dict[str, tuple[float, float]] = {
    "model.frame_size": (1, SIDE),
    "model.num_channels": (1, 4),
    "model.num_kp": (1, 256),
    "model.estimator.backbone.width": (1, 1024),  # HRNet branches are w, 2w and 4w wide
    "model.estimator.backbone.stem_width": (1, 1024),  # layer1 is 4× as wide
    "model.estimator.patch_size": (1, 64),
    "model.estimator.dim": (1, 4096),
    "model.estimator.depth": (1, 64),
    "model.estimator.heads": (1, 64),
    "model.estimator.mlp_ratio": (1, 64),
    "model.estimator.motion_token_std": (0, 100),
    "model.generator.num_down_blocks": (1, 10),
    "model.generator.num_bottleneck_blocks": (0, 64),
    "model.discriminator.scales": (1 / 64, 1),
    "model.avd.*": (1, WIDTH),
    "model.*.block_expansion": (1, WIDTH),
    "model.*.max_features": (1, WIDTH),
    "model.*.num_blocks": (1, 10),  # each halves the grid: 2¹⁰ is already more than a frame side
    "model.*.scale": (1 / 64, 1),
    "model.*.temperature": (1e-4, 1e4),
    "model.*.pad": (0, 16),
    "model.*.kp_variance": (1e-6, 100),
    "data.augment.rotation": (0, 180),
    "data.augment.resize_ratio": (0.01, 4),
    "data.augment.crop": (1, SIDE),
    "data.augment.jitter.hue": (0, 0.5),
    "data.augment.jitter.*": (0, 10),
    "train.epochs": (1, EPOCHS),
    "train.avd.epochs": (1, EPOCHS),
    "train.*repeats": (1, EPOCHS),
    "train.*milestones": (0, EPOCHS),
    "train.*batch_size": (1, 65536),
    "train.lr_*": (0, 1000),
    "train.avd.lr": (0, 1000),
    "train.scales": (1 / 64, 1),
    "train.clip_norm_type": (1, math.inf),  # TPSMM clips the largest |grad|: norm_type inf
    "train.clip_*": (0, WEIGHT),
    "train.weight_decay": (0, 1),
    "train.background_start": (0, EPOCHS),
    "train.tps_dropout.until_epoch": (0, EPOCHS),
    "train.tps_dropout.ramp_epochs": (1, EPOCHS),
    "train.tps_dropout.*_p": (0, 1),  # probabilities
    "train.checkpoint_every": (1, STEPS),
    "train.transform.points_tps": (1, 32),  # a p×p grid of control points
    "train.transform.sigma_*": (0, 10),
    "train.loss.separation_sigma": (0, 10),
    "train.loss.*": (0, WEIGHT),
    "train.avd.random_scale": (0, 1),  # stretches by U[1 − s, 1 + s], which must stay positive
    "train.avd.lambda_*": (0, WEIGHT),
}
INFINITE = {"train.clip_norm_type"}  # fields where +inf is a meaningful value

CHOICES = {
    "model.estimator.method": ("motrans", "fomm", "mraa", "tpsmm"),
    "model.estimator.backbone.kind": ("hrnet", "stem", "mobilenetv2"),
    "model.estimator.position": ("sine-full", "sine", "none"),
    "model.estimator.keypoint_readout": ("regress", "heatmap"),
    "model.background.kind": ("none", "affine", "shift", "perspective"),
    "train.transform.kind": ("fomm", "tpsmm"),
    "train.perceptual_backbone": ("vgg19", "mobilenetv2", "none"),
    "data.domain": ("", "face", "body", "none"),
}


def check_config(config: Any, source: str) -> None:
    """One ConfigError `source: dotted.field: …` for the first field out of its range, or an inconsistency that
    would fail inside model building."""
    for path, value in leaves(config):
        check_field(path, value, source)
    check_estimator(config.model, source)
    check_frame_size(config.model, source)


def leaves(config: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every scalar field; list items as `path[i]`."""
    for f in fields(config):
        path, value = f"{where}.{f.name}" if where else f.name, getattr(config, f.name)
        if is_dataclass(value):
            yield from leaves(value, path)
        elif isinstance(value, tuple):
            yield path, value
            yield from ((f"{path}[{i}]", item) for i, item in enumerate(value))
        else:
            yield path, value


def check_field(path: str, value: Any, source: str) -> None:
    key = path.split("[", 1)[0]
    if isinstance(value, tuple):
        if len(value) > MAX_ITEMS:
            raise ConfigError(f"{source}: {path}: {len(value)} items, at most {MAX_ITEMS}")
    elif isinstance(value, str):
        if key in CHOICES and value not in CHOICES[key]:
            raise ConfigError(f"{source}: {path}: unknown {value!r} (known: {', '.join(CHOICES[key])})")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _check_number(path, key, value, source)


def _check_number(path: str, key: str, value: int | float, source: str) -> None:
    low, high = bound(key)
    if key in INFINITE and value == math.inf:
        return
    try:
        if isinstance(value, int):
            whole(path, value, int(low), int(high))
        else:
            finite(path, value, low, None if high == math.inf else high)
    except InputError as error:
        raise ConfigError(f"{source}: {error}") from None


def bound(key: str) -> tuple[float, float]:
    """The (low, high) of a dotted field; a field with none is a mistake of ours, caught by the tests."""
    if key in BOUNDS:
        return BOUNDS[key]
    for pattern, limits in BOUNDS.items():
        if "*" in pattern and fnmatchcase(key, pattern):
            return limits
    raise LookupError(f"config field {key} has no bounds in motrans.config_bounds.BOUNDS")


def check_estimator(model: Any, source: str) -> None:
    """What the Motion Transformer's layers need: whole heads, and a sine position of `dim` features."""
    estimator = model.estimator
    if estimator.method != "motrans":
        return
    if estimator.dim % estimator.heads:
        raise ConfigError(f"{source}: model.estimator.heads: {estimator.heads} does not divide "
                          f"model.estimator.dim {estimator.dim}")
    if estimator.position != "none" and estimator.dim % 4:
        raise ConfigError(f"{source}: model.estimator.dim: {estimator.dim} must be a multiple of 4 for the "
                          f"{estimator.position!r} position (sin and cos of x and y)")


def check_frame_size(model: Any, source: str) -> None:
    """The model's own rule (frame sides that every down-sampling path divides), with the config's source."""
    try:
        check_sizes(model)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


# ---------------------------------------------------------------------------------------------------- frame sizes
# The sizes rule is the models', kept here so that a config is checked without importing (or building) them:
# `motrans.models` imports it from this module.
MASKS = 4  # TPSMM's occlusion masks at H/8, H/4, H/2, H: the authors always predict four


def upsamplings(scale: float) -> int:
    """How many ×2 steps lead from the motion grid back to the frame: log2(1/scale)."""
    return round(math.log2(1 / scale))


def check_sizes(config: Any) -> None:
    """A ConfigError unless every down-sampling path of the model (a ModelConfig) divides the frame sides."""
    if config.estimator.method == "tpsmm":
        _check_tpsmm(config)
    h, w = config.frame_size
    # The hourglasses halve their 1/4 grid num_blocks times; the generator halves the frame.
    unit = math.lcm(_estimator_unit(config.estimator),
                    int(round(1 / config.dense_motion.scale)) * 2**config.dense_motion.num_blocks,
                    2**config.generator.num_down_blocks)
    for name, value in (("height", h), ("width", w)):
        if value % unit:
            raise ConfigError(f"model.frame_size {name} {value} must be divisible by {unit}")


def _check_tpsmm(config: Any) -> None:
    """TPSMM's occlusion masks come at H/8, H/4, H/2 and H: the last hourglass levels at the motion grid, then
    log2(1/scale) UpBlocks. They must exist, and meet the inpainting levels, which needs 3 down blocks."""
    scale, blocks = config.dense_motion.scale, config.dense_motion.num_blocks
    ups = upsamplings(scale)
    if not 0 <= ups <= MASKS or scale != 2.0**-ups:
        raise ConfigError(f"model.dense_motion.scale {scale} must be 1, 1/2, 1/4, 1/8 or 1/16 for tpsmm")
    if blocks < MASKS - ups:
        raise ConfigError(f"model.dense_motion.num_blocks {blocks} must be at least {MASKS - ups} for tpsmm at scale "
                          f"{scale}: the occlusion masks are read off that many hourglass levels")
    if config.generator.num_down_blocks != MASKS - 1:
        raise ConfigError(f"model.generator.num_down_blocks {config.generator.num_down_blocks} must be {MASKS - 1} "
                          f"for tpsmm: its {MASKS} occlusion masks meet the inpainting generator's levels")


def _estimator_unit(estimator: Any) -> int:
    if estimator.method == "tpsmm":
        return 1  # the ResNet pools globally, whatever the size
    if estimator.method in ("fomm", "mraa"):
        hourglass = getattr(estimator, estimator.method)
        return int(round(1 / hourglass.scale)) * 2**hourglass.num_blocks
    # HRNet halves the 1/4 map twice more; tokens are patches of it.
    return math.lcm(4 * estimator.patch_size, 16 if estimator.backbone.kind == "hrnet" else 4)
