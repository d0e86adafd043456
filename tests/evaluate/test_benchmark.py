"""`motrans evaluate` on a tiny dataset made from two shared clips."""

import json

import pytest

from motrans.cli import main
from motrans.data.video import read_frames

from ..conftest import DATA, make_video


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "data"
    (root / "test").mkdir(parents=True)
    for name in ("vox_dagan_driving.mp4", "vox_lia_driving2.mp4"):
        frames = [f for _, f in zip(range(6), read_frames(DATA / "faces" / name))]
        make_video(root / "test" / name, frames)
    return root


def test_evaluate_writes_the_table_and_resumes(dataset, tmp_path, tiny_checkpoint, capsys):
    out = tmp_path / "eval"
    args = ["evaluate", "--methods", f"a={tiny_checkpoint}", f"b={tiny_checkpoint}", "--data", str(dataset),
            "--out", str(out), "--device", "cpu"]
    assert main(args) == 0
    table = (out / "table.md").read_text()
    assert table.startswith("| Method | L1 |") and "| a | " in table and "| b | " in table
    means = json.loads((out / "means.json").read_text())
    assert means["a"]["videos"] == 2 and 0 < means["a"]["l1"] < 1 and means["a"]["l1"] == means["b"]["l1"]
    rows = (out / "a" / "per_video.csv").read_text().splitlines()
    assert rows[0] == "video,frames,l1" and len(rows) == 3
    done = out / "a" / "videos" / "vox_dagan_driving.mp4.json"
    record = json.loads(done.read_text())
    record["row"]["l1"] = 0.5  # a finished video is not redone: its stored figures are used as they are
    done.write_text(json.dumps(record))
    assert main(args) == 0
    assert json.loads((out / "means.json").read_text())["a"]["l1"] != means["a"]["l1"]


def test_evaluate_faces_with_the_metrics_extra(dataset, tmp_path, tiny_checkpoint):
    pytest.importorskip("dlib")
    pytest.importorskip("face_recognition_models")
    out = tmp_path / "eval"
    assert main(["evaluate", "--checkpoint", str(tiny_checkpoint), "--data", str(dataset), "--out", str(out),
                 "--kind", "face", "--max-videos", "1", "--device", "cpu"]) == 0
    table = (out / "table.md").read_text()
    assert "| Method | L1 | AKD | AED |" in table and "not the paper's" in table


def test_missing_extra_is_one_clear_line(dataset, tmp_path, tiny_checkpoint, monkeypatch, capsys):
    import sys

    from motrans.evaluate import detectors

    detectors.shared.cache_clear()  # detectors built by earlier tests would hide the missing package
    monkeypatch.setitem(sys.modules, "dlib", None)
    try:
        code = main(["evaluate", "--checkpoint", str(tiny_checkpoint), "--data", str(dataset), "--out",
                     str(tmp_path / "e"), "--kind", "face", "--device", "cpu"])
    finally:
        detectors.shared.cache_clear()
    err = capsys.readouterr().err
    assert code != 0 and err.count("motrans: error: ") == 1 and "metrics extra" in err


def test_evaluate_puts_every_method_in_one_table(dataset, tmp_path):
    """Each estimator family (ours and the baselines) evaluated through the same protocol, one row each."""
    import torch

    from motrans.checkpoints.io import write_safetensors
    from motrans.config import config_to_dict, load_config, replace
    from motrans.models import build_model, list_models

    from ..conftest import TINY

    methods = []
    for method in list_models():
        config = load_config(TINY)
        model_config = replace(config.model, estimator=replace(config.model.estimator, method=method))
        if method == "tpsmm":  # its four occlusion masks meet three generator levels
            model_config = replace(model_config, generator=replace(model_config.generator, num_down_blocks=3))
        config = replace(config, model=model_config)
        torch.manual_seed(0)
        model = build_model(config.model)
        with torch.no_grad():
            for param in model.parameters():
                param.add_(0.05 * torch.randn_like(param))
        path = tmp_path / f"{method}.safetensors"
        write_safetensors(path, model.state_dict(), config_to_dict(config))
        methods.append(f"{method}={path}")
    out = tmp_path / "eval"
    assert main(["evaluate", "--methods", *methods, "--data", str(dataset), "--out", str(out), "--device", "cpu",
                 "--max-videos", "1"]) == 0
    table = (out / "table.md").read_text()
    means = json.loads((out / "means.json").read_text())
    assert set(means) == set(list_models()) and all(f"| {m} | " in table for m in means)
    assert all(0 < figures["l1"] < 1 for figures in means.values())
