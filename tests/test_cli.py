import json
import subprocess
import sys

import torch

from motrans.cli import main
from motrans.checkpoints.io import read_safetensors

from .conftest import REFERENCE, authors_checkpoint

VOX = str(REFERENCE / "mtia_configs" / "voxceleb1.yaml")


def test_info_prints_the_papers_figures(capsys):
    assert main(["info", "--config", VOX]) == 0
    out = capsys.readouterr().out
    assert "ImageGenerator" in out and "45,575,391" in out and "53.64" in out
    assert "12,234,310" in out and "12,283,462" in out and "7.49" in out


def test_info_json(capsys):
    assert main(["info", "--config", "motrans-taichi256-stem", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["components"][0]["trainable"] == 5_561_862 and data["frame_size"] == [256, 256]


def test_convert_round_trips(tmp_path, capsys):
    source, target = tmp_path / "mgif.pth.tar", tmp_path / "mgif.safetensors"
    data = authors_checkpoint("mgif256")
    torch.save(data, source)
    config = REFERENCE / "mtia_configs" / "mgif256.yaml"
    assert main(["convert", str(source), str(target), "--config", str(config)]) == 0
    state, metadata = read_safetensors(target)
    assert torch.equal(state["estimator.layers.11.mlp.2.weight"],
                       data["kp_detector"]["transformer.transformer.layers.11.1.fn.fn.net.3.weight"])
    assert json.loads(metadata["config"])["model"]["generator"]["skips"] is False


def test_errors_are_one_line_and_nonzero(tmp_path):
    bad = tmp_path / "bad.pth.tar"
    bad.write_text("not a checkpoint")
    result = subprocess.run([sys.executable, "-m", "motrans", "convert", str(bad), str(tmp_path / "o.safetensors"),
                             "--config", VOX], capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.startswith("motrans: error: ") and result.stderr.count("\n") == 1
    assert str(bad) in result.stderr
    assert not (tmp_path / "o.safetensors").exists() and list(tmp_path.iterdir()) == [bad]
