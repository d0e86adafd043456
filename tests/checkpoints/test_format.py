"""Our safetensors files carry a format version, and a file written today keeps loading when a config gains a field."""

import json
from dataclasses import dataclass

import pytest
import torch
from safetensors.torch import save_file

import motrans.config
from motrans.checkpoints import load_model, read_checkpoint
from motrans.checkpoints.io import FORMAT_VERSION, read_safetensors, write_safetensors
from motrans.config import EstimatorConfig, config_to_dict
from motrans.errors import CheckpointError
from motrans.models import build_model


def _written_today(tmp_path, config):
    model = build_model(config.model).eval()
    path = tmp_path / "today.safetensors"
    write_safetensors(path, model.state_dict(), config_to_dict(config))
    return path, model


def test_the_format_version_is_written(tmp_path, tiny_config):
    path, _ = _written_today(tmp_path, tiny_config)
    assert read_safetensors(path)[1]["format_version"] == str(FORMAT_VERSION)


def test_a_file_written_today_loads_after_the_config_gains_a_field(tmp_path, tiny_config, monkeypatch):
    path, model = _written_today(tmp_path, tiny_config)

    @dataclass(frozen=True)
    class GrownEstimatorConfig(EstimatorConfig):
        added_later: str = "its default"  # a field a later motrans adds, which today's file does not hold

    monkeypatch.setattr(motrans.config, "EstimatorConfig", GrownEstimatorConfig)
    assert read_checkpoint(path).config.model.estimator.added_later == "its default"
    loaded = load_model(path)
    source, driving = torch.rand(2, 1, 3, *tiny_config.model.frame_size)
    with torch.inference_mode():
        assert torch.equal(loaded(source, driving).prediction, model(source, driving).prediction)


def test_a_file_from_before_versions_loads_and_a_newer_one_is_refused(tmp_path, tiny_config):
    path, _ = _written_today(tmp_path, tiny_config)
    state, metadata = read_safetensors(path)
    older, newer = tmp_path / "older.safetensors", tmp_path / "newer.safetensors"
    save_file(state, older, {k: v for k, v in metadata.items() if k != "format_version"})
    assert read_checkpoint(older).config == read_checkpoint(path).config
    save_file(state, newer, {**metadata, "format_version": str(FORMAT_VERSION + 1)})
    with pytest.raises(CheckpointError, match=rf"newer motrans \(file format {FORMAT_VERSION + 1}; this one reads"):
        read_checkpoint(newer)
    assert json.loads(metadata["config"]) == config_to_dict(tiny_config)
