"""`motrans explain` end to end on the tiny checkpoint: the files it writes, and what it refuses (one line, nothing
written)."""

import os

import numpy as np
import pytest
from PIL import Image

from motrans.cli import main

from ..conftest import DATA

FACE = DATA / "faces" / "vox_lia_macron.png"


@pytest.fixture
def clip(tmp_path):
    """A 4-frame folder of 64² frames (any frames folder is a driving video)."""
    folder = tmp_path / "clip"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(folder / f"{i:05d}.png")
    return folder


def _run(capsys, checkpoint, out, *args):
    code = main(["explain", "--checkpoint", str(checkpoint), "--out", str(out), "--device", "cpu", *args])
    return code, capsys.readouterr().err


def test_an_image_gives_one_figure_and_its_arrays(capsys, tmp_path, tiny_checkpoint):
    code, err = _run(capsys, tiny_checkpoint, tmp_path / "out", "--image", str(FACE), "--tokens", "0,5",
                     "--layers", "2", "--arrays", "--source", str(FACE))
    assert code == 0, err
    assert sorted(os.listdir(tmp_path / "out")) == ["frame_000000.npz", "frame_000000.png"]
    with np.load(tmp_path / "out" / "frame_000000.npz") as arrays:
        assert arrays["attention"].shape == (2, 4, 24, 24)  # all layers and heads, as computed: not the selection
        assert str(arrays["method"]) == "motrans" and arrays["image"].shape == (64, 64, 3)
    picture = np.asarray(Image.open(tmp_path / "out" / "frame_000000.png"))
    assert picture.ndim == 3 and picture.shape[1] >= 6 * 160  # the summary row: 6 panels with --source
    assert all(line.startswith("motrans: ") for line in err.splitlines())


def test_a_video_gives_a_figure_per_chosen_frame_and_an_mp4(capsys, tmp_path, tiny_checkpoint, clip):
    code, err = _run(capsys, tiny_checkpoint, tmp_path / "out", "--driving", str(clip), "--indices", "1,3",
                     "--tokens", "0")
    assert code == 0, err
    assert sorted(os.listdir(tmp_path / "out")) == ["explain.mp4", "frame_000001.png", "frame_000003.png"]
    from motrans.data.video import probe

    assert probe(tmp_path / "out" / "explain.mp4").frames == 2


@pytest.mark.parametrize("args, needle", [
    (["--tokens", "8"], "--tokens: 8 is out of range"),
    (["--layers", "1,9"], "--layers: 9 is out of range"),
    (["--tokens", "x"], "--tokens: 'x' is not a comma-separated list"),
    (["--indices", "1,7"], "--indices 7 is past the last frame (the video has 4)"),
])
def test_bad_choices_are_one_line_and_write_nothing(capsys, tmp_path, tiny_checkpoint, clip, args, needle):
    (tmp_path / "out").mkdir()
    code, err = _run(capsys, tiny_checkpoint, tmp_path / "out", "--driving", str(clip), *args)
    errors = [line for line in err.splitlines() if line.startswith("motrans: error: ")]
    assert code == 1 and len(errors) == 1 and needle in errors[0], err
    assert os.listdir(tmp_path / "out") == [] and sorted(os.listdir(tmp_path)) == ["clip", "out"]


def test_image_and_driving_are_exclusive(capsys, tmp_path, tiny_checkpoint, clip):
    code, err = _run(capsys, tiny_checkpoint, tmp_path / "out", "--image", str(FACE), "--driving", str(clip))
    assert code == 1 and "exactly one of --image and --driving" in err and not (tmp_path / "out").exists()
