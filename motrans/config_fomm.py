"""The authors' FOMM YAML layout (`first-order-model/config/*.yaml`) into ours.

MTIA forked FOMM's code, so FOMM's files use the same `dataset_params`, `generator_params` and `train_params` keys,
read with the same defaults: those translate through `authors_config`, less the keys MTIA added. The keypoint
detector's go to `model.estimator.fomm`. Every key is translated or listed in `IGNORED`; anything else is a
`ConfigError`, so a typo is never silently dropped.
"""

from __future__ import annotations

from typing import Any, Callable

from . import authors_config as mtia
from .config import put
from .errors import ConfigError

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


def matches(data: dict) -> bool:
    """FOMM's layout: `model_params.kp_detector_params` (MTIA keeps its detector under `MODEL`)."""
    params = data.get("model_params")
    return isinstance(params, dict) and "kp_detector_params" in params and "MODEL" not in data


def translate(data: dict, source: str) -> dict:
    """FOMM's nested dict -> our nested dict (still to be type-checked by `config_from_dict`)."""
    out = translate_keys(data, source, "FOMM", TOP, RENAMES, IGNORED, mtia._convert)
    mtia._apply_defaults(data, out)  # the defaults FOMM's code applies are MTIA's: it is their origin
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


def translate_keys(data: dict, source: str, layout: str, top: set[str], renames: dict[str, str | tuple[str, ...]],
                   ignored: set[str], convert: Callable[[str, Any, str], Any]) -> dict:
    """Every leaf of `data` renamed by `renames` (to one path or several) or skipped by `ignored`; anything else
    is a ConfigError."""
    unknown = set(data) - top
    if unknown:
        raise ConfigError(f"{source}: unknown key {sorted(unknown)[0]!r} in an authors' ({layout}) config")
    out: dict = {}
    for path, value in _leaves(data, ignored):
        if _ignored(path, ignored):
            continue
        target = renames.get(path)
        if target is None:
            raise ConfigError(f"{source}: unknown key {path!r} in an authors' ({layout}) config")
        for ours in (target,) if isinstance(target, str) else target:
            put(out, ours, convert(path, value, source))
    return out


def _leaves(data: dict, ignored: set[str], prefix: str = ""):
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value and not _ignored(path, ignored):
            yield from _leaves(value, ignored, path)
        else:
            yield path, value


def _ignored(path: str, ignored: set[str]) -> bool:
    return path in ignored or path.split(".", 1)[0] in ignored
