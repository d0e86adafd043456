"""Hostile and careless input to `motrans evaluate` and `motrans metrics`: one line each, nothing written.

Every case has a valid tiny checkpoint (tiny.safetensors) and dataset (data/test/clip0, clip1) in its folder, so
that the one wrong value is what fails; --out is eval/ inside the folder, so an output would show.
"""

import shutil

import pytest

from ..evaluate.clips import write_dataset
from .harness import Case, check

CHECKPOINT = "tiny.safetensors"


def evaluate(*extra: str, data: str = "data", out: str = "eval", checkpoint: bool = True):
    """A case's build: the tiny dataset, then `motrans evaluate` with `extra` flags."""
    def build(folder):
        write_dataset(folder / "data")
        model = ["--checkpoint", str(folder / CHECKPOINT)] if checkpoint else []
        return ["evaluate", *model, "--data", str(folder / data), "--out", str(folder / out), "--device", "cpu",
                *[item.replace("{folder}", str(folder)) for item in extra]]
    return build


def with_files(files: dict[str, bytes], build):
    """`build`, then `files` written over what it made."""
    def wrapped(folder):
        argv = build(folder)
        for name, content in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
        return argv
    return wrapped


def empty_split(folder):
    argv = evaluate()(folder)
    shutil.rmtree(folder / "data" / "test")
    (folder / "data" / "test").mkdir()
    return argv


def metrics(*argv: str):
    def build(folder):
        write_dataset(folder / "data")
        return ["metrics", *[item.replace("{folder}", str(folder)) for item in argv]]
    return build


CLIP = "{folder}/data/test/clip0"
CASES = [
    Case("methods-name-leaves-out", evaluate("--methods", "../../x={folder}/tiny.safetensors", checkpoint=False),
         "'../../x': must be a plain name"),
    Case("methods-name-with-separator", evaluate("--methods", "a/b={folder}/tiny.safetensors", checkpoint=False),
         "'a/b': must be a plain name"),
    Case("methods-name-dot-dot", evaluate("--methods", "..={folder}/tiny.safetensors", checkpoint=False),
         "'..': must be a plain name"),
    Case("methods-name-empty", evaluate("--methods", "={folder}/tiny.safetensors", checkpoint=False),
         "use NAME=CHECKPOINT"),
    Case("methods-name-of-an-output-file", evaluate("--methods", "table.md={folder}/tiny.safetensors",
                                                    checkpoint=False), "'table.md'"),
    Case("methods-name-given-twice", evaluate("--methods", "tiny={folder}/tiny.safetensors"),
         "'tiny' is given twice"),
    Case("methods-without-checkpoint", evaluate("--methods", "a=", checkpoint=False), "use NAME=CHECKPOINT"),
    Case("config-without-checkpoint", evaluate("--methods", "a={folder}/tiny.safetensors", "--config",
                                               "motrans-vox256", checkpoint=False), "--config goes with --checkpoint"),
    Case("batch-size-zero", evaluate("--batch-size", "0"), "--batch-size: 0 is out of range"),
    Case("batch-size-negative", evaluate("--batch-size", "-4"), "--batch-size: -4 is out of range"),
    Case("batch-size-huge", evaluate("--batch-size", "1000000000"), "--batch-size: 1000000000 is out of range"),
    Case("max-videos-negative", evaluate("--max-videos", "-1"), "--max-videos: -1 is out of range"),
    Case("data-missing", evaluate(data="nowhere"), "nowhere: dataset root does not exist"),
    Case("data-without-split", evaluate(data="data/test"), "no such folder"),
    Case("split-folder-empty", empty_split, "empty: no frame folders"),
    Case("split-unknown", evaluate("--split", "val"), "unknown split 'val'"),
    Case("device-cpu-99", evaluate("--device", "cpu:99"), "--device cpu:99"),
    Case("device-unknown", evaluate("--device", "tpu"), "--device tpu"),
    Case("out-is-a-file", with_files({"notes.txt": b"mine"}, evaluate(out="notes.txt")),
         "notes.txt: exists and is not a folder"),
    Case("out-inside-data", evaluate(out="data/eval"), "inside --data"),
    Case("checkpoint-missing", evaluate("--methods", "b={folder}/missing.safetensors", checkpoint=False),
         "missing.safetensors: no such checkpoint file"),
    Case("second-checkpoint-missing", evaluate("--methods", "a={folder}/tiny.safetensors",
                                               "b={folder}/missing.safetensors", checkpoint=False),
         "missing.safetensors: no such checkpoint file"),
    Case("checkpoint-not-a-model", with_files({"bad.pth.tar": b"not a model"}, evaluate(
        "--methods", "bad={folder}/bad.pth.tar", checkpoint=False)), "bad.pth.tar: "),
    Case("first-clip-unreadable", with_files({"data/test/clip0/0000.png": b"not a png"}, evaluate(
        "--max-videos", "1")), "clip0"),
    Case("metrics-unknown", metrics(CLIP, CLIP, "--metrics", "l1,speed"), "unknown metric 'speed'"),
    Case("metrics-none", metrics(CLIP, CLIP, "--metrics", ""), "no metric requested"),
    Case("metrics-missing-video", metrics("{folder}/missing.mp4", CLIP, "--metrics", "l1"), "missing.mp4"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_evaluate_case(case, tmp_path, capsys, tiny_checkpoint):
    shutil.copy(tiny_checkpoint, tmp_path / CHECKPOINT)
    check(case, tmp_path, capsys)
