"""Stored per-video results are keyed by content: a rerun reuses a result only for the same checkpoint bytes, config,
protocol and video bytes, never because a name matches."""

import json
import shutil

import pytest
import torch

from motrans.checkpoints.io import read_safetensors, write_safetensors
from motrans.cli import main
from motrans.evaluate import benchmark, stored
from motrans.evaluate.benchmark import default_name

from .clips import write_dataset, write_frames


@pytest.fixture
def measured(monkeypatch):
    """The names of the videos that `evaluate` measures (rather than reuses), in order."""
    names, real = [], benchmark._measure_and_store

    def counting(animator, video, folder, key, options):
        names.append(video.name)
        return real(animator, video, folder, key, options)

    monkeypatch.setattr(benchmark, "_measure_and_store", counting)
    return names


def evaluate(checkpoint, data, out, *extra):
    assert main(["evaluate", "--checkpoint", str(checkpoint), "--data", str(data), "--out", str(out),
                 "--device", "cpu", *extra]) == 0
    return json.loads((out / "means.json").read_text())


def notes(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("motrans: note:")]


def other_weights(checkpoint, path):
    """The same model with other weights, written to `path`."""
    state, metadata = read_safetensors(checkpoint)
    torch.manual_seed(1)
    state = {k: v + 0.05 * torch.randn_like(v) if v.is_floating_point() else v for k, v in state.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_safetensors(path, state, json.loads(metadata["config"]))
    return path


def test_same_file_name_other_checkpoint_gets_its_own_figures(tmp_path, tiny_checkpoint, measured, capsys):
    data = write_dataset(tmp_path / "data", clips=1)
    other = other_weights(tiny_checkpoint, tmp_path / "retrained" / tiny_checkpoint.name)  # same name: "tiny"
    first = evaluate(tiny_checkpoint, data, tmp_path / "eval")
    second = evaluate(other, data, tmp_path / "eval")
    fresh = evaluate(other, data, tmp_path / "fresh")
    assert second["tiny"]["l1"] == fresh["tiny"]["l1"] != first["tiny"]["l1"]
    assert measured == ["clip0"] * 3
    assert notes(capsys) == ["motrans: note: tiny: recomputing 1 of 1 stored results (1 made with another "
                             "checkpoint file)"]


def test_an_unchanged_rerun_reuses_everything(tmp_path, tiny_checkpoint, measured, capsys):
    data = write_dataset(tmp_path / "data")
    first = evaluate(tiny_checkpoint, data, tmp_path / "eval")
    assert measured == ["clip0", "clip1"]
    table = (tmp_path / "eval" / "table.md").read_text()
    # The batch size changes the speed, not the figures: not part of the key.
    assert evaluate(tiny_checkpoint, data, tmp_path / "eval", "--batch-size", "1") == first
    assert measured == ["clip0", "clip1"] and not notes(capsys)
    assert (tmp_path / "eval" / "table.md").read_text() == table


def test_a_changed_video_is_recomputed_alone(tmp_path, tiny_checkpoint, measured, capsys):
    data = write_dataset(tmp_path / "data")
    evaluate(tiny_checkpoint, data, tmp_path / "eval")
    write_frames(data / "test" / "clip1", 2, seed=7)  # same names, other pixels
    changed = evaluate(tiny_checkpoint, data, tmp_path / "eval")
    assert measured == ["clip0", "clip1", "clip1"]
    assert notes(capsys) == ["motrans: note: tiny: recomputing 1 of 2 stored results (1 whose video has changed)"]
    assert changed == evaluate(tiny_checkpoint, data, tmp_path / "fresh")


@pytest.mark.parametrize("damage", ["truncated", "empty", "binary", "not an object"])
def test_a_corrupt_stored_result_is_recomputed(tmp_path, tiny_checkpoint, measured, capsys, damage):
    data = write_dataset(tmp_path / "data", clips=1)
    first = evaluate(tiny_checkpoint, data, tmp_path / "eval")
    done = tmp_path / "eval" / "tiny" / "videos" / "clip0.json"
    text = done.read_text()
    done.write_bytes({"truncated": text[: len(text) // 2].encode(), "empty": b"", "binary": b"\xff\xfe\x00",
                      "not an object": b"[1, 2]"}[damage])
    assert evaluate(tiny_checkpoint, data, tmp_path / "eval") == first
    assert measured == ["clip0", "clip0"] and json.loads(done.read_text()) == json.loads(text)
    assert notes(capsys) == ["motrans: note: tiny: recomputing 1 of 1 stored results (1 corrupt or truncated)"]


def test_the_note_comes_once_per_method(tmp_path, tiny_checkpoint, measured, capsys):
    data = write_dataset(tmp_path / "data", clips=3)
    evaluate(tiny_checkpoint, data, tmp_path / "eval")
    for clip in range(3):
        (tmp_path / "eval" / "tiny" / "videos" / f"clip{clip}.json").write_text("{")
    evaluate(tiny_checkpoint, data, tmp_path / "eval")
    assert len(measured) == 6 and len(notes(capsys)) == 1


KEY = {"format": stored.FORMAT, "checkpoint": "c" * 64, "config": None, "model": "m" * 64,
       "protocol": {"split": "test", "kind": "none", "metrics": ["l1"], "fit": "crop", "frame_size": [64, 64]},
       "video": "v" * 64}


@pytest.mark.parametrize("field", list(stored.REASONS))
def test_every_part_of_the_key_decides(tmp_path, field):
    path = tmp_path / "clip.json"
    row = {"video": "clip", "frames": 2, "l1": 0.25}
    path.write_text(stored.record(row, KEY))
    assert stored.load(path, KEY) == (row, "")
    other = KEY | {field: "another" if field != "protocol" else KEY["protocol"] | {"kind": "face"}}
    assert stored.load(path, other) == (None, stored.REASONS[field])


def test_a_result_stored_without_key_is_recomputed(tmp_path):
    path = tmp_path / "clip.json"
    path.write_text(json.dumps({"row": {"video": "clip", "frames": 2, "l1": 0.25}}))  # an older layout
    assert stored.load(path, KEY) == (None, "stored without a content key")
    assert stored.load(tmp_path / "absent.json", KEY) == (None, "")


def test_a_frames_folder_hash_covers_names_and_bytes(tmp_path):
    from motrans.data.frames import test_videos

    root = write_dataset(tmp_path / "data", clips=1, frames=3)
    first = stored.video_sha256(test_videos(root)[0])
    folder = root / "test" / "clip0"
    shutil.move(folder / "0002.png", folder / "0003.png")  # the same bytes under another name
    moved = stored.video_sha256(test_videos(root)[0])
    (folder / "0003.png").write_bytes((folder / "0003.png").read_bytes() + b"\0")  # other bytes
    assert len({first, moved, stored.video_sha256(test_videos(root)[0])}) == 3


@pytest.mark.parametrize("checkpoint, name", [("vox.safetensors", "vox"), ("ckpt/vox-cpk.pth.tar", "vox-cpk"),
                                              ("../../x.safetensors", "x"), (".safetensors", "safetensors"),
                                              ("...", "model")])
def test_default_name_stays_a_plain_name(checkpoint, name):
    assert default_name(checkpoint) == name
