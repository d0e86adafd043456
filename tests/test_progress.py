"""Progress where there is no terminal: tqdm's line every few seconds, and at the end; nothing with --quiet."""

import io
import re

import pytest

from motrans import progress as progress_module
from motrans.progress import Progress

LINE = re.compile(r"motrans: +\d+%\|[#0-9 ]+\| (\d+)/(\d+) \[\d\d:\d\d<\d\d:\d\d, +[\d.]+(frames/s|s/frames)\]")


class Clock:
    """time.monotonic, advanced by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", fake)
    return fake


def test_a_line_every_few_seconds_and_at_the_end(clock):
    stream = io.StringIO()  # not a terminal
    progress = Progress(100, "frames", stream=stream, every=5.0)
    for _ in range(100):
        clock.now += 0.2  # 5 frames a second: a line every 25 frames
        progress.update()
    progress.close()
    lines = stream.getvalue().splitlines()
    assert [LINE.fullmatch(line).group(1) for line in lines] == ["25", "50", "75", "100"]
    assert "\r" not in stream.getvalue()
    assert "5.00frames/s" in lines[0] and "00:05<00:15" in lines[0]  # rate, elapsed and ETA
    assert "00:20<00:00" in lines[-1]
    progress = Progress(10, "frames", stream=stream, every=5.0)
    progress.update(3)
    progress.close()  # a short run still ends with its line
    assert stream.getvalue().splitlines()[-1].startswith("motrans:  30%|###       | 3/10 [00:00<")


def test_unknown_total_counts_without_eta(clock):
    stream = io.StringIO()
    progress = Progress(None, "videos", stream=stream, every=1.0)
    clock.now += 2
    progress.update(3)
    assert re.fullmatch(r"motrans: 3videos \[00:02, +1\.50videos/s\]\n", stream.getvalue())


def test_quiet_and_disabled_print_nothing(clock):
    stream = io.StringIO()
    progress_module.set_quiet(True)
    try:
        progress = Progress(10, stream=stream, every=0.0)
        progress.update(10)
        progress.close()
        progress_module.note("hidden")
    finally:
        progress_module.set_quiet(False)
    silent = Progress(10, stream=stream, enabled=False, every=0.0)
    silent.update(10)
    silent.close()
    assert stream.getvalue() == "" and silent.count == 10


def test_terminal_gets_the_bar_in_place(clock):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = Progress(4, "steps", stream=stream)
    progress.update(4)
    progress.close()
    assert progress.live and "\r" in stream.getvalue() and "4/4" in stream.getvalue()


def test_animate_without_a_terminal_prints_progress_lines(tmp_path, tiny_checkpoint, capfd, monkeypatch):
    """The CLI end to end, stderr a file: the progress line appears (every=0 stands for a long run)."""
    import numpy as np

    from motrans.cli import main

    from .conftest import make_video

    monkeypatch.setattr(progress_module, "EVERY", 0.0)
    driving = make_video(tmp_path / "d.mp4", [np.full((64, 64, 3), 40 * i, np.uint8) for i in range(5)])
    from PIL import Image

    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(tmp_path / "s.png")
    args = ["animate", "--checkpoint", str(tiny_checkpoint), "--source", str(tmp_path / "s.png"), "--driving",
            str(driving), "--output", str(tmp_path / "o.mp4"), "--crop", "none"]
    assert main(args) == 0
    err = capfd.readouterr().err.splitlines()
    assert any(LINE.fullmatch(line) and LINE.fullmatch(line).group(1) == "5" for line in err), err
    assert all(line.startswith("motrans: ") for line in err), err
    assert main(args + ["--quiet", "--output", str(tmp_path / "q.mp4")]) == 0
    assert capfd.readouterr().err == ""
