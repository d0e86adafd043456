"""The authors' MTIA layout against the released checkpoints' key lists, and the loader's refusals."""

import os
import pickle

import pytest
import torch

from motrans.checkpoints import Checkpoint, check_fits, convert_checkpoint, load_model, read_checkpoint
from motrans.checkpoints.io import read_safetensors, write_safetensors
from motrans.checkpoints import mtia
from motrans.config import config_to_dict, load_config
from motrans.errors import CheckpointError
from motrans.models import build_model

from ..conftest import REFERENCE, authors_checkpoint

CONFIGS = ["voxceleb1", "taichi256", "ted384", "mgif256"]


def _meta_model(config):
    with torch.device("meta"):
        return build_model(config.model)


@pytest.mark.parametrize("name", CONFIGS)
def test_every_released_key_is_mapped_and_fits(name):
    config = load_config(REFERENCE / "mtia_configs" / f"{name}.yaml")
    with torch.device("meta"):
        data = authors_checkpoint(name, fill=lambda shape: torch.empty(shape))
    state = mtia.convert(data)
    model = _meta_model(config)
    assert set(model.state_dict()) == {k for k in state if not k.startswith("discriminator.")}
    check_fits(model, Checkpoint(config, state, "mtia", REFERENCE))


def test_a_released_layout_loads_strictly_and_converts_losslessly(tmp_path):
    source = tmp_path / "00000099-checkpoint.pth.tar"
    data = authors_checkpoint("voxceleb1")
    data["optimizer_generator"] = {"state": {}, "param_groups": [{"lr": 2e-4, "betas": (0.5, 0.999), "params": [0]}]}
    torch.save(data, source)
    yaml = REFERENCE / "mtia_configs" / "voxceleb1.yaml"
    model = load_model(source, yaml)
    assert torch.equal(model.estimator.motion_tokens, data["kp_detector"]["transformer.keypoint_token"])
    assert torch.equal(model.generator.final.weight, data["generator"]["final.weight"])

    target = tmp_path / "vox.safetensors"
    convert_checkpoint(source, target, yaml)
    state, _ = read_safetensors(target)
    original = mtia.convert(data)
    assert state.keys() == original.keys()
    assert all(torch.equal(state[k], original[k]) for k in state)
    again = load_model(target)  # the config travels inside
    assert torch.equal(again.estimator.layers[3].attention.qkv.weight, model.estimator.layers[3].attention.qkv.weight)
    assert again.config == model.config


def test_authors_checkpoint_without_config_names_the_fitting_ones(tmp_path):
    path = tmp_path / "vox.pth.tar"
    torch.save(authors_checkpoint("voxceleb1"), path)
    with pytest.raises(CheckpointError, match=r"pass --config.*voxceleb1\.yaml.*|pass --config.*mgif256\.yaml"):
        read_checkpoint(path)


def test_mismatched_config_lists_keys_and_the_config_that_fits(tmp_path):
    path = tmp_path / "ted.pth.tar"
    with torch.device("meta"):
        data = authors_checkpoint("ted384", fill=lambda shape: torch.empty(shape))
    state = mtia.convert(data)
    vox = load_config(REFERENCE / "mtia_configs" / "voxceleb1.yaml")
    with pytest.raises(CheckpointError) as error:
        check_fits(_meta_model(vox), Checkpoint(vox, state, "mtia", path))
    message = str(error.value)
    assert "estimator.position has shape (1, 576, 192), expected (1, 256, 192)" in message
    assert "motrans-ted384 (ted384.yaml)" in message and "\n" not in message


def test_unexpected_key_is_an_error():
    data = authors_checkpoint("voxceleb1", fill=lambda shape: torch.zeros(()))
    data["kp_detector"]["transformer.extra_head.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match="unexpected key 'kp_detector.transformer.extra_head.weight'"):
        mtia.convert(data)


class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_with_code_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    Payload.marker = marker
    path = tmp_path / "evil.pth.tar"
    with open(path, "wb") as handle:
        pickle.dump({"kp_detector": Payload()}, handle)
    with pytest.raises(CheckpointError, match="evil.pth.tar: refused"):
        read_checkpoint(path)
    assert not marker.exists()
    torch.save({"generator": {"x": torch.zeros(1)}, "kp_detector": Payload()}, path)
    with pytest.raises(CheckpointError, match="refused"):
        read_checkpoint(path)
    assert not marker.exists()


def test_nan_weights_are_refused(tmp_path, tiny_config):
    model = build_model(tiny_config.model)
    state = model.state_dict()
    state["generator.final.weight"] = state["generator.final.weight"].clone().fill_(float("nan"))
    path = tmp_path / "nan.safetensors"
    write_safetensors(path, state, config_to_dict(tiny_config))
    with pytest.raises(CheckpointError, match="'generator.final.weight' holds NaN"):
        load_model(path)


@pytest.mark.parametrize("content", [b"", b"hello, not a checkpoint\n", b"PK\x03\x04broken zip"])
def test_not_a_checkpoint(tmp_path, content):
    path = tmp_path / "model.pth.tar"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="model.pth.tar"):
        read_checkpoint(path)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        load_model(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("readout", ["regress", "heatmap"])
def test_our_safetensors_round_trip(tmp_path, tiny_config, readout):
    from motrans.config import replace

    estimator = replace(tiny_config.model.estimator, keypoint_readout=readout)
    tiny_config = replace(tiny_config, model=replace(tiny_config.model, estimator=estimator))
    model = build_model(tiny_config.model).eval()
    path = tmp_path / "tiny.safetensors"
    write_safetensors(path, model.state_dict(), config_to_dict(tiny_config))
    loaded = load_model(path)
    source, driving = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(loaded(source, driving).prediction, model(source, driving).prediction)
    assert type(loaded.estimator.keypoint_head) is type(model.estimator.keypoint_head)


def test_a_pre_zip_pickle_loads_under_weights_only(tmp_path):
    """Files saved by torch < 1.6 (the released FOMM-era checkpoints) use the legacy, non-zip format."""
    source = tmp_path / "legacy.pth.tar"
    data = authors_checkpoint("voxceleb1")
    data["epoch"] = 99
    data["optimizer_generator"] = {"state": {}, "param_groups": [{"lr": 2e-4, "betas": (0.5, 0.999), "params": [0]}]}
    torch.save(data, source, _use_new_zipfile_serialization=False)
    assert source.read_bytes()[:2] == b"\x80\x02"  # a bare pickle stream, not a zip archive
    model = load_model(source, REFERENCE / "mtia_configs" / "voxceleb1.yaml")
    assert torch.equal(model.generator.final.weight, data["generator"]["final.weight"])
