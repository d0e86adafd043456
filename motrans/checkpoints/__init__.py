"""`load_model()`: any supported checkpoint file into a ready AnimationModel; conversion to our safetensors format.

Layouts: our safetensors (config inside), our training checkpoints, and the authors' MTIA, FOMM, MRAA and TPSMM
files, recognised and renamed by their codebase's module in `motrans.authors` (which also says whether a file needs
its YAML: MTIA's and MRAA's do, FOMM's and TPSMM's shapes say all but TPSMM ted-384's frame size). A checkpoint
given a config for another method is refused, naming the method it looks like.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch
from torch import Tensor, nn

from .. import authors
from ..authors import fomm, mraa, mtia, tpsmm  # noqa: F401 - `motrans.checkpoints.fomm` etc. before they moved
from ..config import Config, config_from_data, config_to_dict, list_presets, load_config
from ..errors import CheckpointError, ConfigError
from ..models import AnimationModel, build_discriminator, build_model
from .io import check_finite, config_metadata, read_pickle, read_safetensors, write_safetensors, is_safetensors

# our preset -> the authors' YAML file it is
AUTHORS_CONFIGS = {r.preset: r.yaml for codebase in authors.CODEBASES for r in codebase.RELEASES if r.preset}


@dataclass
class Checkpoint:
    """A checkpoint read into our key names, with the config that goes with it."""

    config: Config
    state: dict[str, Tensor]  # AnimationModel keys, plus `discriminator.*` when the file has one
    layout: str  # "motrans" | "mtia" | "fomm" | "mraa" | "tpsmm"
    path: Path


def read_checkpoint(path: str | Path, config: Config | str | Path | None = None) -> Checkpoint:
    """Reads and renames a checkpoint; `config` (a Config, preset or YAML path) overrides a stored one."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if isinstance(config, (str, Path)):
        config = load_config(config)
    if is_safetensors(path):
        state, metadata = read_safetensors(path)
        stored = config_from_data(config_metadata(metadata, path), f"{path} (metadata)")
        return Checkpoint(_same_method(config, stored.model.estimator.method, "a motrans", path) or stored, state,
                          "motrans", path)
    return checkpoint_from_pickle(read_pickle(path), path, config)


def checkpoint_from_pickle(data: dict, path: Path, config: Config | None = None) -> Checkpoint:
    """An unpickled checkpoint dict (an authors' layout or our training checkpoint) read into our key names."""
    codebase = authors.checkpoint_codebase(data)
    if codebase is not None:
        return _read_authors(codebase, data, path, config)
    if is_training_checkpoint(data):
        stored = config_from_data(data["config"], f"{path} (config)")
        return Checkpoint(_same_method(config, stored.model.estimator.method, "a motrans", path) or stored,
                          dict(data["model"]), "motrans", path)
    raise CheckpointError(f"{path}: not a known checkpoint layout (top-level keys: {sorted(map(str, data))[:6]})")


def is_training_checkpoint(data: dict) -> bool:
    """Our `motrans train` checkpoint: `model`, `config`, optimizer states, step, RNG."""
    return "model" in data and "config" in data and isinstance(data.get("model"), dict)


def _read_authors(codebase: ModuleType, data: dict, path: Path, config: Config | None) -> Checkpoint:
    """An authors' checkpoint dict, renamed; without `config`, the one its shapes give, where they say all."""
    state = codebase.convert(data)
    if config is None:
        if codebase.YAML_NEEDED:
            raise CheckpointError(f"{path}: {needs_yaml(codebase, state)}")
        config = config_from_data(codebase.shape_config(state), f"{path} (shapes)")
    config = _same_method(config, codebase.METHOD, codebase.LOOKS_LIKE, path)
    return Checkpoint(codebase.follow_state(config, state), state, codebase.LAYOUT.lower(), path)


def needs_yaml(codebase: ModuleType, state: dict[str, Tensor]) -> str:
    """Why a checkpoint of `codebase` needs its YAML, and which of our presets (each an authors' YAML) fit it."""
    why = codebase.YAML_NEEDED
    if any(release.preset for release in codebase.RELEASES):
        why += f"; {_fitting_hint(state)}"
    return f"{codebase.LOOKS_LIKE} checkpoint needs its YAML: pass --config ({why})"


def _same_method(config: Config | None, method: str, looks_like: str, path: Path) -> Config | None:
    """`config` unchanged, unless its estimator is not the checkpoint's: then a CheckpointError naming both."""
    if config is not None and config.model.estimator.method != method:
        raise CheckpointError(f"{path}: looks like {looks_like} checkpoint (estimator {method!r}), but the config's "
                              f"model.estimator.method is {config.model.estimator.method!r}")
    return config


def load_model(path: str | Path, config: Config | str | Path | None = None, device: str | torch.device = "cpu",
               dtype: torch.dtype = torch.float32) -> AnimationModel:
    """A checkpoint file -> AnimationModel in eval mode, every weight checked (strict keys and shapes, finite)."""
    return load_model_and_config(path, config, device, dtype)[0]


def load_model_and_config(path: str | Path, config: Config | str | Path | None = None,
                          device: str | torch.device = "cpu",
                          dtype: torch.dtype = torch.float32) -> tuple[AnimationModel, Config]:
    """`load_model`, and the whole config it was built from (its data section says what the model animates)."""
    checkpoint = read_checkpoint(path, config)
    model = build_model(checkpoint.config.model)
    load_strict(model, checkpoint)
    return model.to(device=device, dtype=dtype).eval(), checkpoint.config


def split_state(state: dict[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """(AnimationModel state, discriminator state without its prefix)."""
    model = {k: v for k, v in state.items() if not k.startswith("discriminator.")}
    disc = {k[len("discriminator."):]: v for k, v in state.items() if k.startswith("discriminator.")}
    return model, disc


def check_fits(model: AnimationModel, checkpoint: Checkpoint) -> None:
    """Strict key and shape check with one clear error: the first offending keys, and which known config fits."""
    check_finite(checkpoint.state, checkpoint.path)
    problems = shape_problems(model, checkpoint)
    if problems:
        more = " …" if len(problems) > 4 else ""
        raise CheckpointError(f"{checkpoint.path}: does not fit its config: {'; '.join(problems[:4])}{more} "
                              f"({_fitting_hint(checkpoint.state)})")


def shape_problems(model: AnimationModel, checkpoint: Checkpoint) -> list[str]:
    """Key and shape differences between the checkpoint and `model` (built, or on the meta device) and its
    discriminator; [] when it fits."""
    model_state, disc_state = split_state(checkpoint.state)
    problems = mismatches(model.state_dict(), model_state)
    if disc_state:
        discriminator = meta(lambda: build_discriminator(checkpoint.config.model))
        problems += mismatches(discriminator.state_dict(), disc_state, "discriminator.")
    return problems


def load_strict(model: AnimationModel, checkpoint: Checkpoint, discriminator: nn.Module | None = None) -> None:
    """Checks, then loads the AnimationModel (and the discriminator, when given and stored) with strict=True."""
    check_fits(model, checkpoint)
    model_state, disc_state = split_state(checkpoint.state)
    model.load_state_dict(model_state, strict=True)
    if discriminator is not None and disc_state:
        discriminator.load_state_dict(disc_state, strict=True)


def mismatches(expected: dict[str, Tensor], given: dict[str, Tensor], prefix: str = "") -> list[str]:
    """Human-readable key and shape differences, missing keys first."""
    out = [f"missing {prefix}{k}" for k in expected if k not in given]
    out += [f"unexpected {prefix}{k}" for k in given if k not in expected]
    out += [f"{prefix}{k} has shape {tuple(given[k].shape)}, expected {tuple(v.shape)}"
            for k, v in expected.items() if k in given and given[k].shape != v.shape]
    return out


def fitting_presets(state: dict[str, Tensor]) -> list[str]:
    """Our presets whose model has exactly the keys and shapes of `state` (skips cannot be told apart)."""
    shapes = {k: tuple(v.shape) for k, v in state.items() if not k.startswith("discriminator.")}
    fits = []
    for name in list_presets():
        try:
            model = meta(lambda: build_model(load_config(name).model))
        except ConfigError:
            continue
        if {k: tuple(v.shape) for k, v in model.state_dict().items()} == shapes:
            fits.append(name)
    return fits


def _fitting_hint(state: dict[str, Tensor]) -> str:
    fits = fitting_presets(state)
    if not fits:
        return "no known config fits it"
    named = [f"{n} ({AUTHORS_CONFIGS[n]})" if n in AUTHORS_CONFIGS else n for n in fits]
    return "it fits: " + ", ".join(named)


def meta(build):
    with torch.device("meta"):
        return build()


def convert_checkpoint(source: str | Path, target: str | Path, config: Config | str | Path | None = None) -> Checkpoint:
    """Any supported checkpoint -> our safetensors, bit for bit (optimizer states are left out)."""
    checkpoint = read_checkpoint(source, config)
    model = meta(lambda: build_model(checkpoint.config.model))
    check_fits(model, checkpoint)
    write_safetensors(target, checkpoint.state, config_to_dict(checkpoint.config))
    return checkpoint


__all__ = ["Checkpoint", "read_checkpoint", "load_model", "load_strict", "convert_checkpoint", "fitting_presets"]
