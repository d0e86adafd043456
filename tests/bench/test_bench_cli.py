"""`motrans bench` end to end on a tiny budget: tables, figures, per-run JSON, and a resumed suite."""

import json

import pytest
from PIL import Image

from motrans.cli import main

from ..train.helpers import random_mobilenet

TINY = ["--size", "64", "--videos", "6", "--frames", "4", "--steps", "2", "--detector-steps", "3",
        "--curve-points", "2", "--runs", "motrans-puppets"]


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    weights = random_mobilenet(root / "mobilenet.pt")
    args = ["bench", "--out", str(root / "out"), *TINY, "--perceptual-weights", weights]
    assert main(args) == 0
    return root / "out", args


def test_bench_writes_tables_figures_and_runs(bench):
    out, _ = bench
    result = json.loads((out / "runs" / "motrans-puppets.json").read_text())
    assert set(result["figures"]) == {"l1", "akd_px", "mkr", "keypoints_px", "keypoints_untrained_px",
                                      "cross_identity_px"}
    assert all(value is not None and value >= 0 for value in result["figures"].values())  # 2 held-out puppets
    assert [step for step, _ in result["curve"]] == [1, 2] and result["train_cpu_s"] > 0
    assert result["config"]["train"]["batch_size"] == 4 and result["config"]["model"]["frame_size"] == [64, 64]
    table = (out / "table.md").read_text()
    assert "## Table 2: methods" in table and "MoTrans (puppet preset)" in table and "not run yet" in table
    assert "Table 4" not in table  # the ablations were not asked for
    assert Image.open(out / "keypoints" / "motrans-puppets.png").size == (4 * 128, 128)
    assert Image.open(out / "l1_curve.png").size == (640, 400)


def test_resume_keeps_done_runs_and_a_rerun_without_it_is_refused(bench, capsys):
    out, args = bench
    before = (out / "runs" / "motrans-puppets.json").read_text()
    assert main([*args, "--resume"]) == 0
    assert (out / "runs" / "motrans-puppets.json").read_text() == before
    assert "done before, kept" in capsys.readouterr().err
    assert main(args) == 1
    assert "--resume" in capsys.readouterr().err
    other = [*args, "--resume"]
    other[other.index("--steps") + 1] = "3"
    assert main(other) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "other settings (steps)" in err


def test_a_killed_run_continues_from_its_progress(bench):
    """Without its result file, a run is scored again from its last chunk, and trains no step more."""
    out, args = bench
    (out / "runs" / "motrans-puppets.json").unlink()
    progress = (out / "runs" / "motrans-puppets" / "progress.json").read_text()
    assert main([*args, "--resume"]) == 0
    assert (out / "runs" / "motrans-puppets" / "progress.json").read_text() == progress
    assert (out / "runs" / "motrans-puppets.json").is_file()


def test_bad_options_are_one_line_errors(tmp_path, capsys):
    assert main(["bench", "--out", str(tmp_path / "x"), "--runs", "nosuch"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("motrans: error: --runs nosuch") and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_finished_runs_restored_into_a_fresh_folder_are_kept_with_their_curve(bench, tmp_path, capsys):
    """What docs/bench.md's results are: a folder seeded with the settings, the detector and finished runs' JSON
    (no training folders) continues the suite and reports those runs, their L1 curves included."""
    import numpy as np
    import shutil

    out, args = bench
    fresh = tmp_path / "fresh"
    (fresh / "runs").mkdir(parents=True)
    for name in ("bench.json", "detector.pt", "references.json"):
        shutil.copy(out / name, fresh / name)
    shutil.copytree(out / "data", fresh / "data")
    shutil.copy(out / "runs" / "motrans-puppets.json", fresh / "runs")
    restored = [*args, "--resume"]
    restored[restored.index("--out") + 1] = str(fresh)
    assert main(restored) == 0
    assert "done before, kept" in capsys.readouterr().err
    l1 = json.loads((out / "runs" / "motrans-puppets.json").read_text())["figures"]["l1"]
    assert f"{l1:.4f}" in (fresh / "table.md").read_text()
    drawn = lambda path: np.asarray(Image.open(path).convert("RGB"))  # noqa: E731
    assert np.array_equal(drawn(fresh / "l1_curve.png"), drawn(out / "l1_curve.png"))
