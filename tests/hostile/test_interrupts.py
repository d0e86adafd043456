"""Stopped mid-run (SIGTERM, SIGINT), a full disk, and the modes of what motrans writes: never a partial output,
never a temporary left behind, one line, and files that follow the user's umask."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from motrans.cli import main

from ..conftest import DATA
from .harness import assert_one_line

SOURCE = DATA / "bodies" / "taichi_lia_subject1.png"
DRIVING = DATA / "bodies" / "taichi_lia_driving1.mp4"  # 458 frames: several seconds on the packaged model


def animate_argv(output: str) -> list[str]:
    return ["animate", "--source", str(SOURCE), "--driving", str(DRIVING), "--output", output, "--device", "cpu"]


def started(folder: Path, child: subprocess.Popen, timeout: float = 120) -> bool:
    """Waits until the child has begun writing (its temporary exists beside the output)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.poll() is None:
        if any(p.name.startswith(".") for p in folder.iterdir()):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig, status, word",
                         [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
@pytest.mark.parametrize("output", ["out.mp4", "frames/"])
def test_a_signal_mid_run_leaves_nothing(tmp_path, sig, status, word, output):
    env = {k: v for k, v in os.environ.items() if k != "MOTRANS_DEBUG"}
    target = f"{tmp_path}/{output}"
    # A background job (CI's, a script's `&`) inherits SIGINT ignored; a person at a terminal has it on.
    child = subprocess.Popen([sys.executable, "-m", "motrans", *animate_argv(target)], stderr=subprocess.PIPE,
                             text=True, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert started(tmp_path, child), child.communicate()[1]
    child.send_signal(sig)
    _, err = child.communicate(timeout=120)
    assert child.returncode == status, err
    assert_one_line(errors(err), word)
    assert list(tmp_path.iterdir()) == []  # no output, no temporary


@pytest.fixture
def full_disk(tmp_path):
    """A 16 KB tmpfs: where the tests run as root (CI does); skipped elsewhere."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount)], capture_output=True)
    if result.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.parametrize("output", ["out.mp4", "frames/"])
def test_a_full_disk_is_one_line_and_leaves_nothing(full_disk, output, tiny_checkpoint, capsys):
    driving = DATA / "faces" / "vox_dagan_driving.mp4"
    assert main(["animate", "--checkpoint", str(tiny_checkpoint), "--source", str(SOURCE), "--driving", str(driving),
                 "--output", f"{full_disk}/{output}", "--device", "cpu", "--side-by-side"]) == 1
    assert_one_line(errors(capsys.readouterr().err), f"{output.rstrip('/')}: no space left on the device (16 KB free")
    assert list(full_disk.iterdir()) == []


def errors(stderr: str) -> str:
    """The error lines of a run that had begun (its progress lines before them are expected)."""
    return "\n".join(line for line in stderr.splitlines() if "error" in line)


def test_a_full_disk_while_converting(full_disk, tiny_checkpoint, capsys):
    big = full_disk.parent / "big.safetensors"
    assert main(["convert", str(tiny_checkpoint), str(big)]) == 0  # the tiny model: ~1 MB, more than the disk
    capsys.readouterr()
    assert main(["convert", str(big), str(full_disk / "copy.safetensors")]) == 1
    assert_one_line(capsys.readouterr().err, "copy.safetensors: no space left on the device")
    assert list(full_disk.iterdir()) == []


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_outputs_follow_the_umask_and_a_replaced_output_keeps_its_mode(tmp_path, tiny_checkpoint, umask_027):
    target = tmp_path / "model.safetensors"
    assert main(["convert", str(tiny_checkpoint), str(target)]) == 0
    assert mode(target) == 0o640  # not mkstemp's 0600
    target.chmod(0o604)
    assert main(["convert", str(tiny_checkpoint), str(target)]) == 0
    assert mode(target) == 0o604
    assert main(["synth", str(tmp_path / "puppets"), "--videos", "1", "--frames", "2", "--size", "32"]) == 0
    assert mode(tmp_path / "puppets") == 0o750  # not mkdtemp's 0700


def test_frames_output_is_swapped_in_whole(tmp_path, tiny_checkpoint, capsys):
    frames = tmp_path / "frames"
    argv = ["animate", "--checkpoint", str(tiny_checkpoint), "--source", str(SOURCE), "--device", "cpu",
            "--output", f"{frames}/"]
    assert main([*argv, "--driving", str(DATA / "faces" / "vox_dagan_driving.mp4")]) == 0
    assert len(list(frames.glob("*.png"))) == 184 and (frames / ".motrans-frames").is_file()
    frames.chmod(0o751)
    eight = tmp_path / "eight"
    eight.mkdir()
    for i in range(8):
        os.link(frames / f"{i:06d}.png", eight / f"{i:06d}.png")
    assert main([*argv, "--driving", str(eight)]) == 1  # an earlier output: only with --overwrite
    assert "--overwrite" in capsys.readouterr().err
    assert main([*argv, "--driving", str(eight), "--overwrite"]) == 0
    assert sorted(p.name for p in frames.iterdir()) == [".motrans-frames", *(f"{i:06d}.png" for i in range(8))]
    assert mode(frames) == 0o751
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eight", "frames"]  # nothing aside



def test_a_signal_before_the_writer_guards_its_temporary(tmp_path, monkeypatch, capsys):
    """Ctrl-C landing after the writer made its temporary folder and before its `with` block began (a loaded
    machine widens that moment): the command line still removes it."""
    from motrans.data.video import VideoWriter

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(VideoWriter, "__enter__", interrupted)
    assert main(animate_argv(str(tmp_path / "out.mp4"))) == 130
    assert_one_line(errors(capsys.readouterr().err), "interrupted")
    assert list(tmp_path.iterdir()) == []


def test_temporaries_are_removed_until_settled(tmp_path):
    from motrans.files import make_temporary, remove_temporaries, settled

    folder = make_temporary(tmp_path, ".a.motrans-")
    (folder / "inside.png").write_bytes(b"x")
    file = make_temporary(tmp_path, ".b.", ".tmp", folder=False)
    kept = make_temporary(tmp_path, ".c.")
    assert folder.is_dir() and file.is_file() and oct(file.stat().st_mode & 0o777) == "0o600"
    settled(kept)
    remove_temporaries()
    assert list(tmp_path.iterdir()) == [kept]
