"""Hostile and careless input to animate, convert, demo, synth and prepare: outputs that would replace inputs,
folders that are not ours, nonsense numbers, devices, image bombs. Each case: one line, exit 1, folder unchanged."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ..conftest import make_video
from .harness import Case, check

CHECKPOINT: Path  # the tiny model, set by the fixture below (outside the case folders)


@pytest.fixture(autouse=True)
def _checkpoint(tiny_checkpoint):
    global CHECKPOINT
    CHECKPOINT = tiny_checkpoint


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width×height pixels, with almost no data behind it (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def inputs(folder: Path) -> dict[str, Path]:
    """A 64² source (PNG and GIF), a 3-frame driving mp4 and a folder of driving frames, all in `folder`."""
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(3)]
    out = {"png": folder / "photo.png", "gif": folder / "photo.gif", "mp4": folder / "driving.mp4",
           "frames": folder / "driving_frames"}
    if not out["png"].exists():
        Image.fromarray(frames[0]).save(out["png"])
        Image.fromarray(frames[0]).save(out["gif"])
        make_video(out["mp4"], frames)
        out["frames"].mkdir()
        for i, frame in enumerate(frames):
            Image.fromarray(frame).save(out["frames"] / f"{i:03d}.png")
    return out


def animate(source="png", driving="mp4", output="out.mp4", extra=()):
    """A case builder: animate with the given inputs (keys of `inputs`) into `output` (relative to the folder)."""
    def build(folder: Path) -> list[str]:
        given = inputs(folder)
        target = str(given[output]) if output in given else str(folder / output)
        if output == "frames" or output.endswith("/"):  # a folder output is spelt with its slash
            target += "/"
        return ["animate", "--checkpoint", str(CHECKPOINT), "--source", str(given[source]), "--driving",
                str(given[driving]), "--output", target, "--device", "cpu", *extra]
    return build


def with_files(build, files: dict[str, bytes]):
    """`build` after writing `files` (relative path -> bytes) into the folder."""
    def wrapped(folder: Path) -> list[str]:
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        return build(folder)
    return wrapped


def bomb_source(folder: Path, width: int = 30000, height: int = 30000) -> list[str]:
    argv = animate()(folder)
    argv[argv.index("--source") + 1] = str(png_header(folder / "bomb.png", width, height))
    return argv


def bomb_frame(folder: Path) -> list[str]:
    argv = animate(driving="frames")(folder)
    png_header(folder / "driving_frames" / "000.png", 30000, 30000)
    return argv


def convert_to_itself(folder: Path) -> list[str]:
    target = folder / "model.safetensors"
    target.write_bytes(Path(CHECKPOINT).read_bytes())
    return ["convert", str(target), str(target)]


def demo(*extra: str):
    return lambda folder: ["demo", "--checkpoint", str(CHECKPOINT), "--device", "cpu", *extra]


def synth(*extra: str):
    return lambda folder: ["synth", str(folder / "puppets"), *extra]


def prepare(*extra: str):
    def build(folder: Path) -> list[str]:
        (folder / "videos").mkdir(exist_ok=True)
        inputs(folder / "videos")
        return ["prepare", str(folder / "videos"), str(folder / "prepared"), *extra]
    return build


MARKED = {"earlier/.motrans-frames": b"motrans frames output: 1 frames\n", "earlier/000000.png": b"x"}
CASES = [
    # outputs that are inputs
    Case("output-is-the-source-gif", animate(source="gif", output="gif"), "would overwrite the input --source"),
    Case("output-is-the-driving-mp4", animate(output="mp4"), "would overwrite the input --driving"),
    Case("output-is-the-driving-frames", animate(driving="frames", output="frames"),
         "would overwrite the input --driving"),
    Case("output-inside-the-driving-frames", animate(driving="frames", output="driving_frames/result.mp4"),
         "would overwrite the input --driving"),
    Case("frames-output-around-the-source", animate(output="."), "would overwrite the input --source"),
    Case("convert-to-itself", convert_to_itself, "would overwrite the input input"),
    # frames folders that are not ours to replace
    Case("frames-into-a-foreign-folder", with_files(animate(output="mine/"), {"mine/notes.txt": b"mine"}),
         "did not write (e.g. 'notes.txt')"),
    Case("frames-into-a-foreign-folder-overwrite", with_files(animate(output="mine/", extra=["--overwrite"]),
                                                              {"mine/notes.txt": b"mine"}), "did not write"),
    Case("frames-into-unmarked-frames-overwrite", with_files(animate(output="mine/", extra=["--overwrite"]),
                                                             {"mine/000000.png": b"x"}), "no .motrans-frames"),
    Case("frames-into-marked-plus-foreign-overwrite",
         with_files(animate(output="earlier/", extra=["--overwrite"]), {**MARKED, "earlier/keep.jpg": b"x"}),
         "did not write (e.g. 'keep.jpg')"),
    Case("frames-over-earlier-output-without-overwrite", with_files(animate(output="earlier/"), MARKED),
         "give --overwrite"),
    Case("output-file-with-a-slash", with_files(animate(output="plain/"), {"plain": b"a file"}),
         "exists and is not a folder"),
    Case("output-unknown-type", animate(output="out.xyz"), "unknown output type '.xyz'"),
    Case("output-in-a-missing-folder", animate(output="missing/out.mp4"), "does not exist"),
    # numbers and devices
    Case("fps-nan", animate(extra=["--fps", "nan"]), "--fps: must be a finite number"),
    Case("fps-tiny", animate(extra=["--fps", "1e-9"]), "--fps: 1e-09 is out of range"),
    Case("fps-negative", animate(extra=["--fps", "-25"]), "--fps: -25.0 is out of range"),
    Case("batch-size-zero", animate(extra=["--batch-size", "0"]), "--batch-size: 0 is out of range"),
    Case("device-cpu-99", animate(extra=["--device", "cpu:99"]), "--device cpu:99"),
    Case("device-unknown", animate(extra=["--device", "tpu"]), "--device tpu"),
    Case("device-missing-gpu", animate(extra=["--device", "cuda:3"]), "--device cuda:3"),
    # images that claim more than they hold (bounded memory: a child under 2 GB of address space)
    Case("source-claims-900-megapixels", bomb_source, "900 megapixels", subprocess=True, memory_mb=2000),
    Case("source-claims-400-megapixels", lambda f: bomb_source(f, 20000, 20000), "400 megapixels, more than the 300",
         subprocess=True, memory_mb=2000),
    # a 200 MP phone photo is within the limit: this header-only one fails later, as the truncated file it is
    Case("source-claims-200-megapixels", lambda f: bomb_source(f, 16330, 12250), "not a readable image",
         subprocess=True, memory_mb=2000),
    Case("driving-frame-claims-900-megapixels", bomb_frame, "900 megapixels", subprocess=True, memory_mb=2000),
    # other commands
    Case("demo-frames-zero", demo("--frames", "0"), "--frames: 0 is out of range"),
    Case("demo-into-a-foreign-folder", lambda f: with_files(demo("--output", str(f / "mine") + "/"),
                                                            {"mine/a.txt": b"a"})(f), "did not write"),
    Case("synth-size-huge", synth("--size", "1000000"), "--size: 1000000 is out of range"),
    Case("synth-test-fraction-nan", synth("--test-fraction", "nan"), "--test-fraction: must be a finite"),
    Case("prepare-split-nan", prepare("--split", "nan"), "--split: must be a finite number"),
    Case("prepare-size-huge", prepare("--size", "100000"), "--size: 100000 is out of range"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_refused_with_one_line_and_nothing_touched(case, tmp_path, capsys):
    check(case, tmp_path / "case", capsys)
