"""The models the page offers: the packaged one, or those the operator named (never an upload), loaded once.

`--checkpoint` (repeatable) names files; `--models DIR` offers every `.safetensors` in DIR, and every `.pth.tar`
or `.pth` whose YAML lies beside it (`vox.pth.tar` with `vox.yaml`). A file that fails to load is reported once at
start and left out of the list; the page then never touches a path outside this list.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from ..animate.pipeline import Animator, resolve_dtype
from ..errors import describe
from ..errors import InputError, MotransError

AUTHORS_SUFFIXES = (".pth.tar", ".pth")
DOMAIN_WORDS = {"face": "faces", "body": "bodies", "none": "whole frames", None: "domain unknown"}


@dataclass
class Models:
    """Loaded animators by label (the drop-down's choices, in order) and the files that failed, with why."""

    animators: dict[str, Animator] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return list(self.animators)

    def get(self, label: str, dtype: str = "float32") -> Animator:
        """The cached animator for `label`, computing in `dtype` (weights stay as loaded; autocast does the rest)."""
        if label not in self.animators:
            raise InputError(f"model {label!r}: not one of this page's models")
        animator = self.animators[label]
        if resolve_dtype(dtype) == animator.dtype:
            return animator
        variant = copy.copy(animator)  # shares the model: only the autocast dtype differs
        variant.dtype = resolve_dtype(dtype)
        return variant


def model_files(checkpoints: list[str] | None, models_dir: str | None) -> list[tuple[Path, Path | None]]:
    """(checkpoint, YAML or None) for every model the operator named; the packaged model when none is named."""
    found = [(Path(c), _yaml_beside(Path(c))) for c in checkpoints or []]
    if models_dir:
        folder = Path(models_dir)
        if not folder.is_dir():
            raise InputError(f"{folder}: --models must be a folder")
        for path in sorted(folder.iterdir()):
            if path.suffix == ".safetensors":
                found.append((path, None))
            elif path.name.endswith(AUTHORS_SUFFIXES) and _yaml_beside(path):
                found.append((path, _yaml_beside(path)))
    if not found:
        from ..packaged import packaged_model_path

        found.append((packaged_model_path(), None))
    return found


def _yaml_beside(path: Path) -> Path | None:
    """`x.pth.tar` or `x.pth` -> `x.yaml` (or `.yml`) in the same folder, where it exists."""
    stem = next((path.name[: -len(s)] for s in AUTHORS_SUFFIXES if path.name.endswith(s)), None)
    if stem is None:
        return None
    return next((y for y in (path.with_name(stem + ".yaml"), path.with_name(stem + ".yml")) if y.is_file()), None)


def load_models(files: list[tuple[Path, Path | None]], device: str = "auto") -> Models:
    """Loads each file once; a failure becomes one line in `failures` and the file is left out."""
    models = Models()
    for path, config in files:
        try:
            animator = Animator.from_checkpoint(path, config, device)
        except (MotransError, OSError, RuntimeError, ValueError) as error:  # one bad file must not stop the page
            text = describe(error)
            models.failures.append(text if str(path) in text else f"{path}: {text}")
            continue
        models.animators[unique(label(path, animator), models.animators)] = animator
    return models


def label(path: Path, animator: Animator) -> str:
    """`vox (motrans, faces)`: the file's name, the method and what it animates."""
    name = next((path.name[: -len(s)] for s in (*AUTHORS_SUFFIXES, ".safetensors") if path.name.endswith(s)),
                path.name)
    return f"{name} ({animator.method}, {DOMAIN_WORDS.get(animator.domain, animator.domain)})"


def unique(text: str, taken) -> str:
    """`text`, or `text #2`, `text #3`… where two files share a name."""
    candidate, n = text, 1
    while candidate in taken:
        n += 1
        candidate = f"{text} #{n}"
    return candidate
