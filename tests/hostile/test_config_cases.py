"""Hostile and mistaken configs, from a YAML (`motrans info --config`), a safetensors file's metadata and a training
checkpoint (`motrans animate --checkpoint`): each is one line naming the source and the dotted field, refused
before anything is built. The ones that would otherwise allocate without limit, and the metadata ones, run in a
child process under an address-space limit, so that a regression shows as a failure rather than a swapping
machine; the rest run in this process (a child costs seconds of imports)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from motrans.checkpoints.io import write_safetensors
from motrans.config import config_to_dict, load_config, put

from ..conftest import REFERENCE, TINY
from .harness import Case, check

LIMIT_MB = 2000  # far below what any of these configs would allocate


def tampered(changes: dict) -> dict:
    """The tiny config as a plain dict, with dotted `changes` applied."""
    data = config_to_dict(load_config(TINY))
    for dotted, value in changes.items():
        put(data, dotted, value)
    return data


def info_yaml(changes: dict):
    """`motrans info --config bad.yaml`, the file holding the tiny config with `changes`."""
    def build(folder: Path) -> list[str]:
        (folder / "bad.yaml").write_text(yaml.safe_dump(tampered(changes)))
        return ["info", "--config", str(folder / "bad.yaml")]
    return build


def animate_inputs(folder: Path) -> list[str]:
    """A source image and a two-frame driving folder, so that only the checkpoint is wrong."""
    frame = np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
    Image.fromarray(frame).save(folder / "source.png")
    (folder / "driving").mkdir()
    for i in range(2):
        Image.fromarray(frame).save(folder / "driving" / f"{i:05d}.png")
    return ["--source", str(folder / "source.png"), "--driving", str(folder / "driving"), "--output",
            str(folder / "out.mp4"), "--device", "cpu"]


def animate_safetensors(changes: dict):
    """`motrans animate --checkpoint bad.safetensors`, its metadata holding the tiny config with `changes`."""
    def build(folder: Path) -> list[str]:
        write_safetensors(folder / "bad.safetensors", {"w": torch.zeros(1)}, tampered(changes))
        return ["animate", "--checkpoint", str(folder / "bad.safetensors"), *animate_inputs(folder)]
    return build


def animate_training_checkpoint(changes: dict):
    """`motrans animate --checkpoint checkpoint.pt`: a training checkpoint's stored config, tampered."""
    def build(folder: Path) -> list[str]:
        torch.save({"format": "motrans-train", "model": {}, "config": tampered(changes)}, folder / "checkpoint.pt")
        return ["animate", "--checkpoint", str(folder / "checkpoint.pt"), *animate_inputs(folder)]
    return build


def info_authors_yaml(folder: Path) -> list[str]:
    """FOMM's vox-256.yaml with 1000 keypoints: the authors' layout goes through the same bounds."""
    data = yaml.safe_load((REFERENCE / "fomm_configs" / "vox-256.yaml").read_text())
    data["model_params"]["common_params"]["num_kp"] = 1000
    (folder / "vox-256.yaml").write_text(yaml.safe_dump(data))
    return ["info", "--config", str(folder / "vox-256.yaml")]


def info_base_cycle(folder: Path) -> list[str]:
    """Two YAML files whose `base:` names each other: one line, not a RecursionError."""
    (folder / "a.yaml").write_text("base: b.yaml\n")
    (folder / "b.yaml").write_text("base: a.yaml\n")
    return ["info", "--config", str(folder / "a.yaml")]


def bounded(name, build, expect) -> Case:
    return Case(name, build, expect, subprocess=True, memory_mb=LIMIT_MB)


CASES = [
    bounded("yaml-frame-100000", info_yaml({"model.frame_size": [100000, 100000]}),
            "bad.yaml: model.frame_size[0]: 100000 is out of range [1, 2048]"),
    bounded("yaml-depth-1e9", info_yaml({"model.estimator.depth": 10**9}),
            "bad.yaml: model.estimator.depth: 1000000000 is out of range [1, 64]"),
    Case("yaml-num-kp-negative", info_yaml({"model.num_kp": -1}), "model.num_kp: -1 is out of range"),
    Case("yaml-heads-not-dividing-dim", info_yaml({"model.estimator.heads": 3}),
            "model.estimator.heads: 3 does not divide model.estimator.dim 32"),
    Case("yaml-nan-kp-variance", info_yaml({"model.dense_motion.kp_variance": math.nan}),
            "model.dense_motion.kp_variance: must be a finite number, got nan"),
    bounded("metadata-frame-100000", animate_safetensors({"model.frame_size": [100000, 100000]}),
            "bad.safetensors (metadata): model.frame_size[0]: 100000 is out of range"),
    bounded("metadata-depth-1e9", animate_safetensors({"model.estimator.depth": 10**9}),
            "bad.safetensors (metadata): model.estimator.depth: 1000000000 is out of range [1, 64]"),
    bounded("metadata-num-kp-negative", animate_safetensors({"model.num_kp": -1}),
            "bad.safetensors (metadata): model.num_kp: -1 is out of range"),
    bounded("metadata-heads-not-dividing-dim", animate_safetensors({"model.estimator.heads": 5}),
            "bad.safetensors (metadata): model.estimator.heads: 5 does not divide"),
    bounded("metadata-nan-kp-variance", animate_safetensors({"model.dense_motion.kp_variance": math.nan}),
            "bad.safetensors (metadata): model.dense_motion.kp_variance: must be a finite number"),
    Case("metadata-width-1e6", animate_safetensors({"model.generator.max_features": 10**6}),
            "model.generator.max_features: 1000000 is out of range [1, 8192]"),
    Case("training-checkpoint-frame-100000", animate_training_checkpoint({"model.frame_size": [100000, 64]}),
            "checkpoint.pt (config): model.frame_size[0]: 100000 is out of range"),
    Case("authors-yaml-1000-keypoints", info_authors_yaml, "vox-256.yaml: model.num_kp: 1000 is out of range"),
    Case("yaml-inf-motion-token-std", info_yaml({"model.estimator.motion_token_std": math.inf}),
         "model.estimator.motion_token_std: must be a finite number, got inf"),
    Case("yaml-unknown-position", info_yaml({"model.estimator.position": "sinus"}),
         "model.estimator.position: unknown 'sinus'"),
    Case("yaml-unknown-background", info_yaml({"model.background.kind": "bogus"}),
         "model.background.kind: unknown 'bogus'"),
    Case("yaml-dim-without-sine-features", info_yaml({"model.estimator.dim": 30, "model.estimator.heads": 3}),
         "model.estimator.dim: 30 must be a multiple of 4"),
    Case("yaml-base-cycle", info_base_cycle, "leads back to itself"),
    Case("yaml-zero-scale", info_yaml({"model.dense_motion.scale": 0.0}), "model.dense_motion.scale: 0.0 is out"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hostile_config(case, tmp_path, capsys):
    check(case, tmp_path, capsys)

