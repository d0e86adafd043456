"""Careless and hostile `motrans train` runs: options out of range, a config field out of range, an --out that is a
file, a weights file that is not one, a corrupt frame read by a data-loader worker. Each is one line naming the
flag, field or file, before any model is built (the option and config cases) and with nothing written to --out."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from motrans.errors import InputError
from motrans.losses.perceptual import VGG19_LAYOUT
from motrans.train.loop import CHECKPOINT, EXPORT, Trainer, TrainOptions

from ..conftest import TINY
from ..train.helpers import ShiftedPairs, tiny_train_config
from .harness import Case, check

NO_PERCEPTUAL = ["--train.perceptual_backbone", "none", "--train.loss.perceptual", "[0, 0, 0, 0, 0]"]


def frames(folder: Path, truncate: bool = False) -> Path:
    """A dataset root with two clips of two 64² PNG frames; `truncate` cuts every frame's file in half."""
    rng = np.random.default_rng(0)
    for clip in ("a", "b"):
        (folder / "data" / "train" / clip).mkdir(parents=True)
        for i in range(2):
            path = folder / "data" / "train" / clip / f"{i:05d}.png"
            Image.fromarray(rng.integers(0, 255, (64, 64, 3), np.uint8)).save(path)
            if truncate:
                path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return folder / "data"


def train(*extra: str, setup=None, truncate: bool = False, perceptual: bool = False):
    """`motrans train` on the tiny config and a tiny dataset into folder/run, with `extra` arguments (`{}` in them
    stands for the folder); `setup(folder)` writes a case's own inputs first. Without `perceptual` the run needs no
    weights file, so that a case fails on its own input and on nothing else."""
    def build(folder: Path) -> list[str]:
        if setup is not None:
            setup(folder)
        root = frames(folder, truncate)
        args = [arg.replace("{}", str(folder)) for arg in ([] if perceptual else NO_PERCEPTUAL) + list(extra)]
        return ["train", "--config", str(TINY), "--data", str(root), "--out", str(folder / "run"), "--device", "cpu",
                "--max-steps", "1", "--workers", "0", "--train.batch_size", "2", *args]
    return build


def text_file(folder: Path) -> None:
    (folder / "weights.pth").write_text("not weights\n")


def wrong_vgg(folder: Path) -> None:
    """Every `features.N.weight/bias` name of torchvision's VGG19, with the shapes of no VGG."""
    state, index = {}, 0
    for item in VGG19_LAYOUT:
        if item != "M":
            state[f"features.{index}.weight"], state[f"features.{index}.bias"] = torch.zeros(1), torch.zeros(1)
        index += 1 if item == "M" else 2
    torch.save(state, folder / "weights.pth")


def code_pickle(folder: Path) -> None:
    """A pickle that would run `print` if loaded unsafely."""
    class Payload:
        def __reduce__(self):
            return print, ("payload ran",)

    (folder / "weights.pth").write_bytes(pickle.dumps({"conv1.weight": Payload()}))


WEIGHTS = "{}/weights.pth"
CASES = [
    Case("workers-negative", train("--workers", "-1"), "--workers: -1 is out of range"),
    Case("max-steps-negative", train("--max-steps", "-1"), "--max-steps: -1 is out of range"),
    Case("max-minutes-nan", train("--max-minutes", "nan"), "--max-minutes: must be a finite number, got nan"),
    Case("max-minutes-negative", train("--max-minutes", "-5"), "--max-minutes: -5.0 is out of range"),
    Case("seed-negative", train("--seed", "-1"), "--seed: -1 is out of range"),
    Case("device-cpu-99", train("--device", "cpu:99"), "--device cpu:99"),
    Case("batch-size-zero", train("--train.batch_size", "0"), "command-line overrides: train.batch_size: 0 is out"),
    Case("lr-nan", train("--train.lr_generator", "nan"), "train.lr_generator: must be a finite number, got nan"),
    Case("out-is-a-file", train("--out", "{}/run.txt", setup=lambda f: (f / "run.txt").write_text("x")),
         "run.txt is a file, not a folder"),
    Case("perceptual-weights-text", train("--perceptual-weights", WEIGHTS, "--train.perceptual_backbone",
                                          "mobilenetv2", setup=text_file, perceptual=True),
         "weights.pth: not a PyTorch weights file"),
    Case("perceptual-weights-wrong-vgg", train("--perceptual-weights", WEIGHTS, setup=wrong_vgg, perceptual=True),
         "weights.pth: not a torchvision VGG19 state dict"),
    Case("hrnet-pretrained-text", train("--model.estimator.backbone.pretrained", WEIGHTS, setup=text_file),
         "weights.pth: not a PyTorch weights file"),
    Case("hrnet-pretrained-code", train("--model.estimator.backbone.pretrained", WEIGHTS, setup=code_pickle),
         "weights.pth: refused"),
    Case("corrupt-frame-in-worker", train("--workers", "2", truncate=True),
         ".png: not a readable image (image file is truncated)", subprocess=True),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hostile_train(case, tmp_path, capsys):
    check(case, tmp_path, capsys)


def test_stale_temporaries_are_removed_at_start_and_resume(tmp_path):
    """`kill -9` inside atomic_write leaves `.checkpoint.pt.*.tmp` (or the export's); each start or resume removes
    ours, and only ours. A deadline already past stops each run before its first step, which keeps this fast."""
    out = tmp_path / "run"
    out.mkdir()
    config = tiny_train_config("unused.pth", **{"train.perceptual_backbone": "none",
                                                "train.loss.perceptual": "[0, 0, 0, 0, 0]"})
    mine = [out / f".{CHECKPOINT}.k1ll3d.tmp", out / f".{EXPORT}.abc123.tmp"]
    theirs = [out / ".notes.txt.abc123.tmp", out / "checkpoint.pt.tmp", out / "notes.txt"]
    for path in mine + theirs:
        path.write_bytes(b"partial")
    options = TrainOptions(out_dir=str(out), max_minutes=1e-9, workers=0, device="cpu")
    trainer = Trainer(config, options, dataset=ShiftedPairs(4))
    trainer.fit()
    assert not any(path.exists() for path in mine)
    assert all(path.read_bytes() == b"partial" for path in theirs)
    trainer.save()

    mine[0].write_bytes(b"partial")
    resumed = dataclasses.replace(options, resume=True)
    Trainer(config, resumed, dataset=ShiftedPairs(4)).fit()
    assert not mine[0].exists() and (out / CHECKPOINT).is_file() and (out / EXPORT).is_file()


@pytest.mark.parametrize("field, value, words", [
    ("workers", -1, "--workers"), ("max_steps", -1, "--max-steps"), ("max_minutes", float("nan"), "--max-minutes"),
    ("seed", -1, "--seed"), ("log_every", 0, "log_every"), ("amp", "float8", "--amp"), ("stage", "gan", "--stage")])
def test_options_are_refused_in_the_python_api_too(field, value, words, tmp_path):
    with pytest.raises(InputError, match=words):
        TrainOptions(out_dir=str(tmp_path), **{field: value})
