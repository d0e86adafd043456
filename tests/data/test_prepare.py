import shutil

import numpy as np
import pytest
from PIL import Image

from motrans.config import DataConfig
from motrans.data.frames import FramesDataset
from motrans.data.prepare import prepare, split_names
from motrans.errors import InputError

from ..conftest import DATA, make_video


@pytest.fixture
def videos(tmp_path):
    """Four short 80×48 videos of two people, a corrupt one, a one-frame one and a text file."""
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ["ann#1.mp4", "ann#2.mp4", "bob#1.mp4"]:
        make_video(folder / name, [np.full((48, 80, 3), 50 * i, np.uint8) for i in range(3)])
    shutil.copy(DATA / "animals" / "mgif_fomm_horse_driving.gif", folder / "horse.gif")
    make_video(folder / "still.mp4", [np.zeros((48, 80, 3), np.uint8)])
    (folder / "broken.mov").write_bytes(b"\x00\x00\x00\x18ftypqt  " + b"\x01" * 200)
    (folder / "notes.txt").write_text("not a video")
    return folder


def test_videos_become_square_png_frames_split_by_seed(videos, tmp_path):
    calls = []
    result = prepare(videos, tmp_path / "out", size=32, split=0.5, seed=0, progress=lambda *a: calls.append(a))
    out = tmp_path / "out"
    assert sorted(result["train"] + result["test"]) == ["ann#1.mp4", "ann#2.mp4", "bob#1.mp4", "horse.gif"]
    assert len(result["train"]) == len(result["test"]) == 2
    assert result["frames"] == 3 * 3 + 9 and result["ignored"] == ["notes.txt"]
    assert sorted(f.rsplit("/", 1)[-1] for f, _ in result["skipped"]) == ["broken.mov", "still.mp4"]
    assert calls[-1][:2] == (6, 6)
    for split in ("train", "test"):
        assert sorted(p.name for p in (out / split).iterdir()) == sorted(result[split])
    assert sorted(p.name for p in (out / "test" / result["test"][0]).iterdir())[:3] == [
        "00000.png", "00001.png", "00002.png"]
    frames = sorted(out.glob("*/*/*.png"))
    assert len(frames) == 18 and all(Image.open(f).size == (32, 32) for f in frames)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "videos"]  # no temporary folder left


def test_the_split_repeats_and_keeps_both_sides(videos, tmp_path):
    names = [f"clip{i}.mp4" for i in range(10)]
    assert split_names(names, 0.9, 3) == split_names(list(reversed(names)), 0.9, 3)
    train, test = split_names(names, 0.9, 3)
    assert len(train) == 9 and len(test) == 1 and set(train) | set(test) == set(names)
    assert split_names(["a", "b", "c"], 0.9, 0)[1] != []  # at least one test video
    assert split_names(["a", "b"], 1.0, 0) == (["a", "b"], [])
    first = prepare(videos, tmp_path / "one", size=16, seed=5)
    second = prepare(videos, tmp_path / "two", size=16, seed=5)
    assert first["test"] == second["test"] and first["train"] == second["train"]


def test_prepared_folder_trains(videos, tmp_path):
    prepare(videos, tmp_path / "out", size=32, split=0.5)
    data = FramesDataset(DataConfig(root=str(tmp_path / "out")), (32, 32))
    item = data[0]
    assert item["source"].shape == (3, 32, 32) and data.skipped == []


def test_a_non_empty_output_is_refused_and_an_empty_one_is_used(videos, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep me")
    with pytest.raises(InputError, match="taken: already exists and is not empty"):
        prepare(videos, taken)
    assert [p.name for p in taken.iterdir()] == ["mine.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare(videos, empty, size=16)["frames"] == 18 and (empty / "train").is_dir()


def test_an_interrupted_run_leaves_nothing(videos, tmp_path):
    def stop(done, total, name):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        prepare(videos, tmp_path / "out", size=16, progress=stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["videos"]


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="nowhere: no such folder"):
        prepare(tmp_path / "nowhere", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no video files"):
        prepare(tmp_path / "empty", tmp_path / "out")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.mp4").write_bytes(b"nope")
    with pytest.raises(InputError, match="no readable video"):
        prepare(tmp_path / "bad", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "empty"]
    with pytest.raises(InputError, match="split"):
        prepare(tmp_path / "bad", tmp_path / "out", split=0.0)


def test_crop_face_makes_one_clip_per_shot_around_the_face(tmp_path):
    """Two shots in one video (a phone clip, then another face clip padded to its size): two clips, each a steady
    face crop; a shot of a wall is left out; the shots of a video stay on one side of the split."""
    pytest.importorskip("dlib")
    from motrans.data.image import fit
    from motrans.data.video import read_frames

    first = [f for _, f in zip(range(6), read_frames(DATA / "faces" / "liveportrait_s18_landscape.mp4"))]
    child = read_frames(DATA / "faces" / "liveportrait_d11.mp4")
    second = [fit(f, (720, 1280), "pad") for _, f in zip(range(6), child)]
    wall = [np.full((720, 1280, 3), 40, np.uint8)] * 4
    (tmp_path / "in").mkdir()
    make_video(tmp_path / "in" / "talk.mp4", first + second + wall)
    make_video(tmp_path / "in" / "other.mp4", first)
    summary = prepare(tmp_path / "in", tmp_path / "out", size=64, split=0.5, crop="face")
    clips = sorted(summary["train"] + summary["test"])
    assert clips == ["other.mp4#000", "talk.mp4#000", "talk.mp4#001"]
    assert {c.split("#")[0] for c in summary["train"]}.isdisjoint(c.split("#")[0] for c in summary["test"])
    for clip in ("talk.mp4#000", "talk.mp4#001"):
        side = "train" if clip in summary["train"] else "test"
        frames = sorted((tmp_path / "out" / side / clip).glob("*.png"))
        assert len(frames) == 6 and Image.open(frames[0]).size == (64, 64)


def test_crop_body_frames_the_person(tmp_path):
    pytest.importorskip("mediapipe")
    from motrans.data.video import read_frames

    (tmp_path / "in").mkdir()
    frames = [f for _, f in zip(range(5), read_frames(DATA / "bodies" / "fashion_liveportrait_s13.mp4"))]
    make_video(tmp_path / "in" / "walk.mp4", frames)
    summary = prepare(tmp_path / "in", tmp_path / "out", size=64, split=1.0, crop="body")
    assert summary["train"] == ["walk.mp4#000"] and summary["frames"] == 5
