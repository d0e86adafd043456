"""`motrans info CKPT` names every released layout, from files with the released key lists' names and shapes.

The authors' files are built here with meta tensors (shapes, no memory): identifying reads nothing else. One file
per layout is written to disk and read through the command line.
"""

import json
import re
from pathlib import Path

import pytest
import torch

from motrans.checkpoints.identify import identify, identify_pickle
from motrans.checkpoints.io import FORMAT_VERSION, write_safetensors
from motrans.cli import main
from motrans.config import config_to_dict
from motrans.errors import CheckpointError

from ..conftest import REFERENCE, authors_checkpoint
from ..test_tpsmm import released_checkpoint
from .test_baselines import fomm_checkpoint, mraa_checkpoint


def meta(shape):
    return torch.empty(shape, device="meta")


def _mtia(name):
    return {**authors_checkpoint(name, fill=meta), "optimizer_generator": {}, "optimizer_kp_detector": {}}


# (file dict, the releases it may be, yaml needed, AVD network, background predictor, discriminator)
CASES = {
    "mtia-voxceleb1": (lambda: _mtia("voxceleb1"), {"voxceleb1.yaml", "mgif256.yaml"}, True, False, False, True),
    "mtia-mgif256": (lambda: _mtia("mgif256"), {"voxceleb1.yaml", "mgif256.yaml"}, True, False, False, True),
    "mtia-taichi256": (lambda: _mtia("taichi256"), {"taichi256.yaml"}, True, False, True, True),
    "mtia-ted384": (lambda: _mtia("ted384"), {"ted384.yaml"}, True, False, False, True),
    "fomm-vox": (lambda: fomm_checkpoint("vox-256", meta), {"vox-256.yaml"}, False, False, False, True),
    "fomm-taichi": (lambda: fomm_checkpoint("taichi-256", meta), {"taichi-256.yaml"}, False, False, False, True),
    "fomm-mgif": (lambda: fomm_checkpoint("mgif-256", meta), {"mgif-256.yaml"}, False, False, False, True),
    "fomm-vox-adv": (lambda: fomm_checkpoint("vox-adv-256", meta), {"vox-adv-256.yaml", "taichi-adv-256.yaml"},
                     False, False, False, True),
    "mraa-vox": (lambda: mraa_checkpoint("vox256", meta), {"vox256.yaml", "taichi256.yaml", "ted384.yaml"},
                 True, True, True, False),
    "mraa-mgif": (lambda: mraa_checkpoint("mgif256", meta), {"mgif256.yaml"}, True, True, False, False),
    "tpsmm-vox": (lambda: released_checkpoint("vox-256", meta), {"vox-256.yaml", "taichi-256.yaml", "ted-384.yaml"},
                  False, True, True, False),
    "tpsmm-mgif": (lambda: released_checkpoint("mgif-256", meta), {"mgif-256.yaml"}, False, True, False, False),
}


@pytest.mark.parametrize("name", CASES)
def test_every_released_layout_is_named(name):
    build, yamls, yaml_needed, avd, background, discriminator = CASES[name]
    identity = identify_pickle(build(), Path(f"{name}.pth"))
    layout = name.split("-")[0].upper()
    assert identity.layout == layout and identity.method == {"MTIA": "motrans"}.get(layout, layout.lower())
    assert {release.rsplit(", ", 1)[1].rstrip(")") for release in identity.releases} == yamls
    assert identity.yaml.startswith("needed") == yaml_needed
    assert identity.parts == {"AVD network": avd, "background predictor": background, "discriminator": discriminator}
    assert identity.keypoints == 10
    assert identity.optimizer == name.startswith(("mtia", "fomm", "mraa", "tpsmm"))
    assert identity.weights["motion estimator"] > 10**6 and identity.weights["generator"] > 10**6


def test_mtia_counts_are_the_papers_and_the_size_is_read_off_the_position():
    identity = identify_pickle(_mtia("ted384"), Path("ted.pth.tar"))
    assert identity.frame_size == "384×384"
    vox = identify_pickle(_mtia("voxceleb1"), Path("vox.pth.tar"))
    # 12,283,462 stored = 12,234,310 trainable + the frozen sine position (mtia.md §8)
    assert vox.weights["motion estimator"] == 12_283_462
    assert vox.yaml.startswith("needed, as --config: voxceleb1.yaml (our preset motrans-vox256) or mgif256.yaml "
                               "(our preset motrans-mgif256) from JialeTao/MTIA (`skips` is in no weight")


def test_a_given_yaml_is_checked_against_the_file():
    data = fomm_checkpoint("vox-256", meta)
    fits = identify_pickle(data, Path("vox-cpk.pth.tar"), _config("fomm_configs/vox-256.yaml"))
    assert fits.config_fits.startswith("yes")
    adv = identify_pickle(data, Path("vox-cpk.pth.tar"), _config("fomm_configs/vox-adv-256.yaml"))
    assert adv.config_fits.startswith("no: ") and "discriminator" in adv.config_fits
    other = identify_pickle(data, Path("vox-cpk.pth.tar"), _config("mtia_configs/voxceleb1.yaml"))
    assert other.config_fits.startswith("no: looks like a FOMM checkpoint")


def _config(relative):
    from motrans.config import load_config

    return load_config(REFERENCE / relative)


def test_a_training_checkpoint_says_what_it_holds(tiny_config):
    from motrans.models import build_discriminator, build_model

    data = {"format": "motrans-train", "config": config_to_dict(tiny_config), "step": 2,
            "model": build_model(tiny_config.model).state_dict(), "optimizers": {"generator": {}},
            "discriminator": build_discriminator(tiny_config.model).state_dict()}
    identity = identify_pickle(data, Path("checkpoint.pt"), tiny_config)
    assert identity.layout.startswith("motrans") and identity.config_fits.startswith("yes")
    assert identity.optimizer and identity.parts["discriminator"] and identity.keypoints == tiny_config.model.num_kp


def test_an_unknown_file_lists_its_top_level_keys(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "meta": 1}, path)
    with pytest.raises(CheckpointError, match=r"none of the known checkpoint layouts.*keys: meta, state_dict$"):
        identify(path)


def test_info_on_files_on_disk(tmp_path, tiny_config, capsys):
    """Through the command line: a tiny FOMM-layout file and our safetensors, text and JSON."""
    from .test_baselines import _tiny_fomm_file

    fomm_file = _tiny_fomm_file(tmp_path)[0]
    assert main(["info", str(fomm_file)]) == 0
    text = capsys.readouterr().out
    assert "FOMM (AliaksandrSiarohin/first-order-model)" in text and "optimizer state" in text
    ours = tmp_path / "tiny.safetensors"
    from motrans.models import build_model

    write_safetensors(ours, build_model(tiny_config.model).state_dict(), config_to_dict(tiny_config))
    assert main(["info", str(ours), "--config", "tests/tiny.yaml", "--json"]) == 0
    identity = json.loads(capsys.readouterr().out)
    assert identity["layout"] == "motrans (safetensors)" and identity["config_fits"].startswith("yes")
    assert identity["format_version"] == FORMAT_VERSION and identity["optimizer"] is False
    assert main(["info", str(ours), "--config", "motrans-vox256"]) == 0
    assert re.search(r"--config fits +no: ", capsys.readouterr().out)


def test_info_needs_a_checkpoint_or_a_config(capsys):
    assert main(["info"]) == 1
    assert "info needs a checkpoint file or --config" in capsys.readouterr().err
