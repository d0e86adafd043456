"""`animate --backend`: onnxruntime over the same streaming pipeline, the export cache, and what "auto" chooses."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motrans.animate import backend
from motrans.animate.backend import OnnxRuntimeAnimator, check_dtype, load_animator
from motrans.animate.pipeline import Animator
from motrans.checkpoints import load_model_and_config
from motrans.errors import InputError
from motrans.export.quantize import puppet_frames


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One cache folder for this module's tests, in order: the fomm export is made once."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTRANS_CACHE", str(folder))
        yield folder


@pytest.mark.parametrize("method", ["mraa", "tpsmm"])
def test_onnxruntime_frames_equal_torchs(exports, method_checkpoints, method):
    """The whole loop (relative motion, adapt-scale, batches of 2) through both engines: the same uint8 frames
    within one level (TPSMM: a few, see test_export), from the same source and puppet clip."""
    model, _ = load_model_and_config(method_checkpoints[method])
    frames = puppet_frames((64, 64), 6, seed=3)
    onnx = OnnxRuntimeAnimator(model, exports[method][0])
    got = list(onnx.animate(frames[0], frames[1:], batch_size=2))
    expected = list(Animator(model).animate(frames[0], frames[1:], batch_size=2))
    difference = max(np.abs(a.astype(int) - b.astype(int)).max() for a, b in zip(got, expected))
    assert len(got) == 5 and difference <= (4 if method == "tpsmm" else 1)


def test_the_export_is_cached_and_reused(method_checkpoints, cache):
    path = method_checkpoints["fomm"]
    first = load_animator(path, device="cpu", backend="onnxruntime")
    folders = list((cache / "onnx").iterdir())
    assert isinstance(first, OnnxRuntimeAnimator) and len(folders) == 1
    stamp = (folders[0] / "renderer.onnx").stat().st_mtime_ns
    load_animator(path, device="cpu", backend="onnxruntime")
    assert (folders[0] / "renderer.onnx").stat().st_mtime_ns == stamp and list((cache / "onnx").iterdir()) == folders


def test_auto_measures_once_and_remembers(method_checkpoints, cache):
    said = []
    chosen = load_animator(method_checkpoints["fomm"], device="cpu", batch_size=2, say=said.append,
                           frames=backend.MEASURE_FROM)
    choices = json.loads((cache / "backends.json").read_text())
    (entry,) = choices.values()
    assert entry["choice"] in ("torch", "onnxruntime") and entry["torch"] > 0 and entry["onnxruntime"] > 0
    assert isinstance(chosen, OnnxRuntimeAnimator) == (entry["choice"] == "onnxruntime")
    assert "measured now" in said[-1]
    said.clear()
    load_animator(method_checkpoints["fomm"], device="cpu", batch_size=2, say=said.append, frames=3)
    assert "remembered" in said[-1]  # a remembered choice holds for short videos too


def test_auto_does_not_export_for_a_short_video(method_checkpoints, cache):
    said = []
    before = sorted((cache / "onnx").iterdir())
    chosen = load_animator(method_checkpoints["fomm"], device="cpu", batch_size=3, say=said.append, frames=10)
    assert type(chosen) is Animator and "too few" in said[-1] and sorted((cache / "onnx").iterdir()) == before


def test_dtypes_are_refused_in_one_line(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(backend, "cpu_has_native_bfloat16", lambda: False)
    with pytest.raises(InputError, match="no native bfloat16"):
        check_dtype(cpu, "bfloat16", "auto")
    monkeypatch.setattr(backend, "cpu_has_native_bfloat16", lambda: True)
    check_dtype(cpu, "bfloat16", "auto")
    with pytest.raises(InputError, match="int8 runs on onnxruntime"):
        check_dtype(cpu, "int8", "torch")
    with pytest.raises(InputError, match="torch's"):
        check_dtype(cpu, "float16", "onnxruntime")


def _rank(rank: int, init: str, out: str) -> None:
    torch.distributed.init_process_group("gloo", init_method=init, rank=rank, world_size=2)
    try:
        def decide() -> str:
            if rank != 0:
                raise AssertionError("only rank 0 decides")
            return "onnxruntime"
        Path(out, f"rank{rank}").write_text(backend.from_rank_zero(decide))
    finally:
        torch.distributed.destroy_process_group()


def test_under_torchrun_every_rank_takes_rank_zeros_choice(tmp_path):
    torch.multiprocessing.spawn(_rank, args=(f"file://{tmp_path / 'init'}", str(tmp_path)), nprocs=2)
    assert [(tmp_path / f"rank{r}").read_text() for r in (0, 1)] == ["onnxruntime", "onnxruntime"]
    assert backend.from_rank_zero(lambda: "torch") == "torch"  # no process group: decided here
