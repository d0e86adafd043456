"""`motrans info CKPT`: what a checkpoint file is, read off its keys and shapes without building its model.

Which codebase wrote it and which of the authors' releases it can be (files whose weights have the same shapes stay
ambiguous, and say so), the method, frame size and keypoints, whether it needs its YAML and whether the given one
fits (checked against a model on the meta device: no memory, no weights), the weights per part, and what else it
carries: optimizer states, AVD network, background predictor, discriminator.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from .. import authors
from ..authors.release import Release, matching
from ..config import Config, config_from_data, load_config
from ..errors import CheckpointError, MotransError
from ..models import build_model
from . import Checkpoint, checkpoint_from_pickle, is_training_checkpoint, meta, shape_problems
from .io import FORMAT_VERSION, config_metadata, format_version, is_safetensors, read_pickle

PARTS = {"estimator": "motion estimator", "dense_motion": "dense motion", "generator": "generator",
         "background": "background predictor", "avd": "AVD network", "discriminator": "discriminator"}
STATISTICS = ("running_mean", "running_var", "num_batches_tracked", "weight_u", "weight_v")  # buffers, not weights


@dataclass
class Identity:
    file: str
    layout: str  # "MTIA" | "FOMM" | "MRAA" | "TPSMM" | "motrans"
    repository: str  # where the authors publish it; "" for ours
    method: str
    releases: list[str]  # the authors' releases it can be, "file (dataset, yaml)"
    frame_size: str
    keypoints: int
    yaml: str  # whether it needs its YAML, and which
    config_fits: str  # "" without --config
    weights: dict[str, int]  # values stored per part (see `weights`)
    optimizer: bool
    parts: dict[str, bool] = field(default_factory=dict)  # AVD network, background predictor, discriminator
    format_version: int | None = None  # of our safetensors files


def identify(path: str | Path, config: str | Path | None = None) -> Identity:
    """What the checkpoint at `path` is; `config` (a preset or YAML) is checked against it."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    given = load_config(config) if config is not None else None
    if is_safetensors(path):
        return _ours(path, *_shapes_of_safetensors(path), given)
    return identify_pickle(read_pickle(path, mmap=True), path, given)


def _shapes_of_safetensors(path: Path) -> tuple[dict[str, Tensor], dict[str, str]]:
    """Its tensors as meta tensors (their shapes, read from the header: no weight is read) and its metadata."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            shapes = {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path}: not a readable safetensors file ({error})") from None
    return {key: torch.empty(shape, device="meta") for key, shape in shapes.items()}, metadata


def identify_pickle(data: dict, path: Path, given: Config | None = None) -> Identity:
    """`identify` on an unpickled checkpoint dict (its tensors may be on the meta device: only shapes are read)."""
    codebase = authors.checkpoint_codebase(data)
    if codebase is None and not is_training_checkpoint(data):
        keys = ", ".join(sorted(map(str, data))[:20]) or "none"
        raise CheckpointError(f"{path}: none of the known checkpoint layouts (MTIA, FOMM, MRAA, TPSMM, motrans); "
                              f"its top-level keys: {keys}")
    return _authors(path, codebase, data, given) if codebase else _training(path, data, given)


def _authors(path: Path, codebase, data: dict, given: Config | None) -> Identity:
    state = codebase.convert(data)
    shapes = codebase.shape_config(state)
    model = config_from_data(shapes, f"{path} (shapes)").model
    stored = any(k.startswith("discriminator.") for k in state)
    releases = matching(codebase.RELEASES, model, skip=() if stored else ("discriminator.",))
    size = _size(model.frame_size) + ("" if "frame_size" in shapes["model"] else
                                      " unless the YAML says otherwise (no weight holds it)")
    return Identity(
        file=str(path), layout=codebase.LAYOUT, repository=codebase.REPOSITORY, method=codebase.METHOD,
        releases=_named(codebase, releases),
        frame_size=size,
        keypoints=model.num_kp, yaml=_yaml_needed(codebase, releases), config_fits=_fits(data, path, given),
        weights=weights(state), optimizer=any(str(k).startswith("optimizer") for k in data),
        parts=parts(state))


def _training(path: Path, data: dict, given: Config | None) -> Identity:
    checkpoint = checkpoint_from_pickle(data, path)
    discriminator = data.get("discriminator") if isinstance(data.get("discriminator"), dict) else {}
    state = {**checkpoint.state, **{f"discriminator.{k}": v for k, v in discriminator.items()}}
    return _motrans(Checkpoint(checkpoint.config, state, "motrans", path), "motrans (a `motrans train` checkpoint)",
                    any(str(k).startswith("optimizer") for k in data), None, _fits(data, path, given))


def _ours(path: Path, state: dict[str, Tensor], metadata: dict[str, str], given: Config | None) -> Identity:
    config = config_from_data(config_metadata(metadata, path), f"{path} (metadata)")
    fits = _fits_ours(Checkpoint(config, state, "motrans", path), given) if given else ""
    return _motrans(Checkpoint(config, state, "motrans", path), "motrans (safetensors)", False,
                    format_version(metadata, path), fits)


def _motrans(checkpoint: Checkpoint, layout: str, optimizer: bool, version: int | None, fits: str) -> Identity:
    model = checkpoint.config.model
    root = checkpoint.config.data.root
    return Identity(
        file=str(checkpoint.path), layout=layout, repository="", method=model.estimator.method,
        releases=[f"none: trained or converted by motrans (data.root {root!r})" if root else "none"],
        frame_size=_size(model.frame_size), keypoints=model.num_kp, yaml="not needed: the file holds its config",
        config_fits=fits, weights=weights(checkpoint.state), optimizer=optimizer,
        parts=parts(checkpoint.state), format_version=version)


def _named(codebase, releases: list[Release]) -> list[str]:
    if not releases:
        return [f"none of the releases of {codebase.REPOSITORY} (a model trained with its code?)"]
    return [f"{r.file} ({r.dataset}, {r.yaml})" for r in releases]


def _yaml_needed(codebase, releases: list[Release]) -> str:
    if not codebase.YAML_NEEDED:
        return "not needed: the shapes say all (pass one for a frame size other than 256²)"
    files = [f"{r.yaml} (our preset {r.preset})" if r.preset else r.yaml for r in releases]
    which = f": {' or '.join(files)} from {codebase.REPOSITORY}" if files else ""
    return f"needed, as --config{which} ({codebase.YAML_NEEDED})"


def _fits(data: dict, path: Path, given: Config | None) -> str:
    """"" without a config; else "yes" or why not."""
    if given is None:
        return ""
    try:
        checkpoint = checkpoint_from_pickle(data, path, given)
    except MotransError as error:
        return f"no: {str(error).removeprefix(f'{path}: ')}"
    return _shape_fit(checkpoint)


def _fits_ours(checkpoint: Checkpoint, given: Config) -> str:
    if given.model.estimator.method != checkpoint.config.model.estimator.method:
        return (f"no: the file's method is {checkpoint.config.model.estimator.method!r}, the config's "
                f"{given.model.estimator.method!r}")
    return _shape_fit(Checkpoint(given, checkpoint.state, checkpoint.layout, checkpoint.path))


def _shape_fit(checkpoint: Checkpoint) -> str:
    """Every key and shape against the checkpoint's config's model, built on the meta device (no memory)."""
    problems = shape_problems(meta(lambda: build_model(checkpoint.config.model)), checkpoint)
    more = " …" if len(problems) > 3 else ""
    return "yes: every key and shape" if not problems else f"no: {'; '.join(problems[:3])}{more}"


def weights(state: dict[str, Tensor]) -> dict[str, int]:
    """Values stored per part (`estimator.*`, ...), BatchNorm statistics and spectral-norm vectors left out: the
    trainable parameters and the frozen ones (MTIA's sine position, the anti-alias kernels). `motrans info --config`
    counts the trainable ones alone, on the built model."""
    counts: dict[str, int] = {}
    for key, value in state.items():
        if not key.endswith(STATISTICS):
            part = PARTS.get(key.split(".", 1)[0], key.split(".", 1)[0])
            counts[part] = counts.get(part, 0) + value.numel()
    return counts


def parts(state: dict[str, Tensor]) -> dict[str, bool]:
    return {PARTS[p]: any(k.startswith(f"{p}.") for k in state) for p in ("avd", "background", "discriminator")}


def _size(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"


def as_dict(identity: Identity) -> dict:
    return asdict(identity)


def format_text(identity: Identity) -> str:
    """The identity as aligned `name  value` lines."""
    total = sum(identity.weights.values())
    rows = [("file", identity.file), ("layout", identity.layout + (f" ({identity.repository})"
                                                                   if identity.repository else "")),
            ("method", identity.method), ("release", "; or ".join(identity.releases)),
            ("frame size", identity.frame_size), ("keypoints", str(identity.keypoints)), ("YAML", identity.yaml)]
    if identity.config_fits:
        rows.append(("--config fits", identity.config_fits))
    rows += [(f"weights: {part}", f"{count:,}") for part, count in identity.weights.items()]
    rows += [("weights: total", f"{total:,}"), ("optimizer state", _yes(identity.optimizer))]
    rows += [(name, _yes(present)) for name, present in identity.parts.items()]
    if identity.format_version is not None:
        rows.append(("format version", f"{identity.format_version} (this motrans reads up to {FORMAT_VERSION})"))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _yes(present: bool) -> str:
    return "yes" if present else "no"
