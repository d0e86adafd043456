"""`motrans synth`, `prepare` and `train` as a user runs them, on each dataset layout."""

import shutil

import numpy as np
import pytest

from motrans.checkpoints import load_model
from motrans.cli import main

from ..conftest import DATA, TINY, make_video
from .helpers import random_mobilenet


@pytest.fixture(scope="module")
def perceptual(tmp_path_factory):
    return random_mobilenet(tmp_path_factory.mktemp("p") / "mobilenet.pt")


def _train(root, out, perceptual, *extra):
    return main(["train", "--config", str(TINY), "--data", str(root), "--out", str(out), "--max-steps", "2",
                 "--workers", "0", "--perceptual-weights", perceptual, "--train.perceptual_backbone", "mobilenetv2",
                 "--train.batch_size", "2", "--train.scales", "[1, 0.5]", "--data.id_sampling", "false", *extra])


def test_synth_then_train_then_animate(tmp_path, perceptual, capsys):
    root = tmp_path / "puppets"
    assert main(["synth", str(root), "--videos", "4", "--frames", "6", "--size", "64", "--seed", "3"]) == 0
    assert sorted(p.name for p in (root / "train").iterdir()) == ["puppet00000", "puppet00001", "puppet00002"]
    assert _train(root, tmp_path / "run", perceptual, "--train.lr_generator", "1e-3") == 0
    model = load_model(tmp_path / "run" / "model.safetensors")
    assert model.config.frame_size == (64, 64)
    out = tmp_path / "anim.mp4"
    assert main(["animate", "--checkpoint", str(tmp_path / "run" / "model.safetensors"), "--source",
                 str(DATA / "faces" / "vox_lia_macron.png"), "--driving", str(root / "test" / "puppet00003"),
                 "--output", str(out), "--device", "cpu"]) == 0
    assert out.is_file()


def test_video_files_and_strip_layouts_train(tmp_path, perceptual):
    videos = tmp_path / "videos"
    (videos / "train").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(2):
        make_video(videos / "train" / f"id{i}#clip.mp4", [rng.integers(0, 255, (64, 64, 3), np.uint8)] * 4)
    shutil.copy(DATA / "animals" / "mgif_aa_cat_driving.gif", videos / "train" / "cat.gif")
    assert _train(videos, tmp_path / "run", perceptual) == 0

    strips = tmp_path / "strips" / "train"
    strips.mkdir(parents=True)
    from PIL import Image

    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (64, 64 * 5, 3), np.uint8)).save(strips / f"s{i}.png")
    assert _train(strips.parent, tmp_path / "run2", perceptual) == 0


def test_bad_data_is_one_clear_error(tmp_path, perceptual, capsys):
    (tmp_path / "empty" / "train").mkdir(parents=True)
    assert _train(tmp_path / "empty", tmp_path / "run", perceptual) != 0
    err = capsys.readouterr().err
    assert err.count("motrans: error: ") == 1 and "empty" in err


def test_prepare_skips_unreadable_videos(tmp_path, capsys):
    source = tmp_path / "mine"
    source.mkdir()
    shutil.copy(DATA / "faces" / "vox_dagan_driving.mp4", source / "anna#1.mp4")
    shutil.copy(DATA / "animals" / "mgif_aa_cat_driving.gif", source / "cat#1.gif")
    (source / "broken.mp4").write_bytes(b"\x00" * 100)
    assert main(["prepare", str(source), str(tmp_path / "out"), "--size", "64", "--split", "0.5"]) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "broken.mp4" in err
    clips = list((tmp_path / "out" / "train").iterdir()) + list((tmp_path / "out" / "test").iterdir())
    assert len(clips) == 2
