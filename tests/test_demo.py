import pytest
import torch

from motrans import packaged
from motrans.animate import Animator
from motrans.checkpoints.io import read_safetensors
from motrans.data.video import probe, read_frames
from motrans.demo import run_demo
from motrans.errors import CheckpointError


def test_packaging_is_float16_and_checked(tiny_checkpoint, tmp_path, monkeypatch):
    target = packaged.package(tiny_checkpoint, "demo", tmp_path)
    state, _ = read_safetensors(target)
    assert all(v.dtype == torch.float16 for v in state.values() if v.is_floating_point())
    monkeypatch.setattr(packaged, "ASSETS", tmp_path)
    monkeypatch.setattr(packaged, "NAME", "demo")
    assert packaged.packaged_model_path() == target
    animator = Animator.from_checkpoint(target, device="cpu")
    assert next(animator.model.parameters()).dtype == torch.float32
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256 mismatch"):
        packaged.packaged_model_path()


def test_missing_packaged_model(tmp_path, monkeypatch):
    monkeypatch.setattr(packaged, "ASSETS", tmp_path)
    with pytest.raises(CheckpointError, match="packaged model is missing"):
        packaged.packaged_model_path()


def test_demo_writes_three_panels(tiny_checkpoint, tmp_path):
    animator = Animator.from_checkpoint(tiny_checkpoint, device="cpu")
    out = run_demo(tmp_path / "demo.mp4", animator, frames=8, show_keypoints=True)
    frames = list(read_frames(out))
    assert len(frames) == 8 and frames[0].shape == (64, 192, 3) and probe(out).fps == 12
