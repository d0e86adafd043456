"""`motrans animate` on the baselines' own checkpoint layouts (tiny files written as their authors' code saves them)."""

import pytest
import torch
import yaml

from motrans.cli import main
from motrans.config import config_to_dict, replace
from motrans.data.video import probe, read_frames
from motrans.models import build_model

from ..checkpoints.test_baselines import MRAA_BACK, _authors_layout, _tiny, _tiny_fomm_file
from ..conftest import DATA, make_video
from ..test_tpsmm import authors_file, perturbed, tiny_config

FACE = DATA / "faces" / "vox_lia_macron.png"


@pytest.fixture(scope="module")
def driving(tmp_path_factory):
    frames = [f for _, f in zip(range(3), read_frames(DATA / "faces" / "vox_dagan_driving.mp4"))]
    return make_video(tmp_path_factory.mktemp("driving") / "driving.mp4", frames)


def _animate(tmp_path, driving, checkpoint, *extra):
    out = tmp_path / "out.mp4"
    assert main(["animate", "--checkpoint", str(checkpoint), "--source", str(FACE), "--driving", str(driving),
                 "--output", str(out), "--device", "cpu", *extra]) == 0
    return probe(out)


def _yaml(tmp_path, config):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config_to_dict(config)))
    return path


def test_fomm_file_animates_without_a_yaml(tmp_path, driving):
    path, _, _ = _tiny_fomm_file(tmp_path)
    assert _animate(tmp_path, driving, path, "--adapt-scale").frames == 3


@pytest.mark.parametrize("mode", ["relative", "avd"])
def test_mraa_file_animates_with_its_yaml(tmp_path, driving, mode):
    config, _ = _tiny("mraa")
    config = replace(config, model=replace(config.model, avd=replace(config.model.avd, enabled=True)))
    model = perturbed(build_model(config.model))
    path = tmp_path / "tiny.pth"
    torch.save(_authors_layout(model.state_dict(), MRAA_BACK, {"epoch_avd": 29}), path)
    assert _animate(tmp_path, driving, path, "--config", str(_yaml(tmp_path, config)), "--mode", mode).frames == 3


@pytest.mark.parametrize("mode", ["relative", "absolute", "avd"])
def test_tpsmm_file_animates(tmp_path, driving, mode):
    config = tiny_config(avd=True)
    path = authors_file(tmp_path / "tiny.pth.tar", perturbed(build_model(config.model)))
    info = _animate(tmp_path, driving, path, "--config", str(_yaml(tmp_path, config)), "--mode", mode)
    assert info.frames == 3 and (info.width, info.height) == (64, 64)


def test_avd_mode_without_the_network_is_one_clear_error(tmp_path, driving, capsys):
    path, _, _ = _tiny_fomm_file(tmp_path)
    out = tmp_path / "out.mp4"
    assert main(["animate", "--checkpoint", str(path), "--source", str(FACE), "--driving", str(driving),
                 "--output", str(out), "--device", "cpu", "--mode", "avd"]) != 0
    assert "AVD network" in capsys.readouterr().err and not out.exists()
