"""`motrans animate --pairs`: six jobs (one bad) from shared clips with the packaged model, in one process, in two
gloo processes under torchrun, killed mid-way and resumed; a changed option recomputes its job alone."""

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from motrans.animate import AnimateOptions
from motrans.animate.batch import animate_batch
from motrans.cli import main
from motrans.data.video import read_frames
from motrans.shard import balanced

from ..conftest import DATA, make_video

ANIMALS = DATA / "animals"
LAUNCHER = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def _inputs(folder: Path) -> Path:
    """Short drivers cut from the shared GIFs (4 and 3 frames), a broken "image", and the pairs file."""
    folder.mkdir()
    make_video(folder / "cat.mp4", _first(4, ANIMALS / "mgif_aa_cat_driving.gif"))
    make_video(folder / "horse.gif", _first(3, ANIMALS / "mgif_fomm_horse_driving.gif"))
    (folder / "broken.png").write_text("not an image\n")
    source = {n: str(ANIMALS / f"mgif_fomm_source{n}.png") for n in (1, 2, 6)}
    rows = [["source", "driving", "output", "mode"],
            [source[1], "cat.mp4", "", ""],
            [source[2], "cat.mp4", "", "absolute"],
            [source[1], "horse.gif", "horse1.gif", ""],
            [source[6], "horse.gif", "sub/h6.mp4", ""],
            ["broken.png", "horse.gif", "", ""],
            [source[2], "horse.gif", "frames/", ""]]
    with open(folder / "pairs.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return folder / "pairs.csv"


def _first(count: int, video: Path) -> list:
    return [frame for _, frame in zip(range(count), read_frames(video))]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER}
    return env | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def _command(pairs: Path, out: Path) -> list[str]:
    return ["-m", "motrans", "animate", "--pairs", str(pairs), "--output-dir", str(out), "--device", "cpu",
            "--batch-size", "2"]


def _kill_after_first_job(pairs: Path, out: Path) -> int:
    """Starts a one-process batch and SIGKILLs it as soon as its first job is marked done."""
    process = subprocess.Popen([sys.executable, *_command(pairs, out)], env=_env(), stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((out / ".motrans" / "done").rglob("*.json")) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    return process.wait()


@pytest.fixture(autouse=True)
def one_thread():
    """As each torchrun process has; on a busy 2-core machine a second thread only waits (tests/evaluate)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch")
    pairs = _inputs(tmp / "inputs")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a module fixture starts before `one_thread`
    try:
        one = animate_batch(pairs, tmp / "one", device="cpu", options=AnimateOptions(batch_size=2), quiet=True)
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
        two = subprocess.run([*torchrun, *_command(pairs, tmp / "two")], env=_env(), capture_output=True, text=True,
                             timeout=300)
        killed = _kill_after_first_job(pairs, tmp / "killed")
        resumed = animate_batch(pairs, tmp / "killed", device="cpu", options=AnimateOptions(batch_size=2), quiet=True)
    finally:
        torch.set_num_threads(threads)
    return {"tmp": tmp, "pairs": pairs, "one": one, "two": two, "killed": killed, "resumed": resumed}


def _report(out: Path) -> list[dict]:
    with open(out / "report.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _outputs(out: Path) -> dict[str, bytes]:
    """Every file the batch wrote beside its report and markers, by relative name."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "report.csv" and ".motrans" not in p.relative_to(out).parts}


def test_one_process_runs_every_good_row_and_reports_the_bad_one(runs):
    out, summary = runs["tmp"] / "one", runs["one"]
    assert (summary.done, summary.skipped, summary.failed) == (5, 0, 1)
    assert summary.encoded == 3  # rows 1 and 3 share a source, rows 2 and 6 another: each is encoded once
    report = _report(out)
    assert [row["status"] for row in report] == ["done"] * 4 + ["failed", "done"]
    assert [row["frames"] for row in report] == ["4", "4", "3", "3", "0", "3"]
    assert "broken.png" in report[4]["error"] and "not a readable image" in report[4]["error"]
    names = set(_outputs(out))
    assert {"mgif_fomm_source1_cat.mp4", "mgif_fomm_source2_cat.mp4", "horse1.gif", "sub/h6.mp4",
            "frames/000002.png"} <= names
    assert not any("broken" in name for name in names)
    assert sum(1 for _ in read_frames(out / "sub" / "h6.mp4")) == 3


def test_two_gloo_processes_give_the_same_outputs_and_report(runs):
    two = runs["two"]
    assert two.returncode != 0 and two.stderr.count("motrans: error: ") == 1, two.stderr  # the bad row
    one_out, two_out = runs["tmp"] / "one", runs["tmp"] / "two"
    assert (two_out / "report.csv").read_bytes() == (one_out / "report.csv").read_bytes()
    assert _outputs(two_out) == _outputs(one_out)
    # Each job ran on the rank that longest-first balancing gives it: rows 1-6 drive 4, 4, 3, 3, 3, 3 frames.
    shares = balanced([4, 4, 3, 3, 3, 3], 2)
    assert shares == [[0, 2, 4], [1, 3, 5]]
    outputs = [row["output"] for row in _report(two_out)]
    for rank, share in enumerate(shares):
        for index in share:
            if index != 4:  # the bad row leaves no marker
                marker = two_out / ".motrans" / "done" / (outputs[index].rstrip("/") + ".json")
                assert json.loads(marker.read_text())["rank"] == rank


def test_a_killed_batch_resumes_where_it_stopped(runs):
    assert runs["killed"] == -signal.SIGKILL
    out, summary = runs["tmp"] / "killed", runs["resumed"]
    assert summary.skipped >= 1 and summary.done + summary.skipped == 5 and summary.failed == 1
    assert _outputs(out) == _outputs(runs["tmp"] / "one")  # nothing half-written, nothing missing
    leftovers = [p for p in out.rglob("*") if re.match(r"\..+\.motrans-", p.name)]  # VideoWriter's temporaries
    assert not leftovers


def test_a_changed_option_recomputes_that_job_alone(runs, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(runs["tmp"] / "one", out)
    before = _outputs(out)
    text = runs["pairs"].read_text().splitlines()
    text[1] += "absolute"  # row 1: relative -> absolute
    pairs = runs["pairs"].with_name("changed.csv")
    pairs.write_text("\n".join(text) + "\n")
    summary = animate_batch(pairs, out, device="cpu", options=AnimateOptions(batch_size=3), quiet=True)
    assert (summary.done, summary.skipped, summary.failed) == (1, 4, 1)  # a new batch size changes nothing
    after = _outputs(out)
    changed = [name for name in after if after[name] != before[name]]
    assert changed == ["mgif_fomm_source1_cat.mp4"]


def test_balanced_shares_go_longest_first():
    assert balanced([5, 1, 4, 3, 3], 2) == [[0, 4], [2, 3, 1]]  # 5+3 against 4+3+1
    assert balanced([2, 2], 3) == [[0], [1], []]
    assert sorted(i for share in balanced(list(range(20)), 3) for i in share) == list(range(20))


@pytest.mark.parametrize("args, needle", [
    (["--pairs", "p.csv"], "--pairs PAIRS.csv and --output-dir OUT go together"),
    (["--pairs", "p.csv", "--output-dir", "o", "--source", "s.png"], "--source goes with a single animation"),
    (["--driving", "d.mp4"], "animate needs --source, --output"),
])
def test_flags_that_do_not_go_together(args, needle, capsys):
    assert main(["animate", *args]) == 1
    err = capsys.readouterr().err
    assert err.count("motrans: error: ") == 1 and needle in err, err


@pytest.mark.parametrize("text, needle", [
    ("source,driving,colour\na.png,b.mp4,red\n", "unknown column 'colour'"),
    ("source,output\na.png,x.mp4\n", "no 'driving' column"),
    ("source,driving,output\na.png,b.mp4,x.mp4\nc.png,b.mp4,x.mp4\n", "lines 2 and 3 both write x.mp4"),
    ("source,driving,output\na.png,b.mp4,../x.mp4\n", "must be a path inside the output folder"),
    ("source,driving\n", "no rows under the header"),
])
def test_a_bad_pairs_file_stops_before_any_work(text, needle, tmp_path, capsys):
    pairs = tmp_path / "p.csv"
    pairs.write_text(text)
    assert main(["animate", "--pairs", str(pairs), "--output-dir", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("motrans: error: ") == 1 and needle in err and "p.csv" in err, err
    assert not (tmp_path / "out").exists()


def test_a_bad_cell_fails_its_row_only(tmp_path):
    from motrans.animate.pairs import read_pairs

    pairs = tmp_path / "p.csv"
    pairs.write_text("source,driving,batch-size,paste_back,fps\na.png,b.mp4,two,,\na.png,c.mp4,3,no,12.5\n")
    first, second = read_pairs(pairs, AnimateOptions())
    assert first.error == "batch-size 'two': not a whole number"
    assert not second.error and second.options.batch_size == 3 and second.options.paste_back is False
    assert second.options.fps == 12.5 and second.output == "a_c.mp4"
