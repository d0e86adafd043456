"""`motrans evaluate` under torchrun: two gloo processes share the videos out and give one process's files."""

import json
import os
import subprocess
import sys
from pathlib import Path

from motrans.cli import main

from .clips import write_frames

LAUNCHER = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def test_two_processes_write_the_table_of_one(tmp_path, tiny_checkpoint):
    root = tmp_path / "data"
    for index, frames in enumerate((2, 5, 3, 4)):  # unequal lengths, so that the balancing has work to do
        write_frames(root / "test" / f"clip{index}", frames, seed=index)
    args = ["evaluate", "--checkpoint", str(tiny_checkpoint), "--data", str(root), "--device", "cpu",
            "--batch-size", "2"]
    assert main([*args, "--out", str(tmp_path / "one")]) == 0  # one thread (conftest), as each process below
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER}
    env |= {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    two = subprocess.run([*torchrun, "-m", "motrans", *args, "--out", str(tmp_path / "two")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr
    assert two.stdout.count("| Method | L1 |") == 1  # rank 0 alone prints the table
    one, other = tmp_path / "one", tmp_path / "two"
    for name in ("table.md", "means.json", "tiny/per_video.csv", "tiny/mean.json"):
        assert (other / name).read_bytes() == (one / name).read_bytes(), name
    assert json.loads((one / "means.json").read_text())["tiny"]["videos"] == 4
    assert sorted(p.name for p in (other / "tiny" / "videos").iterdir()) == [f"clip{i}.json" for i in range(4)]
