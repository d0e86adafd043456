"""docs/bench/ keeps the finished runs across sessions: they must still be what `motrans bench --resume` would keep."""

import json
from pathlib import Path

import pytest
import torch

from motrans.bench.detector_fit import FILE, detector_settings
from motrans.bench.recipes import suite
from motrans.bench.run import BenchOptions

KEPT = Path(__file__).resolve().parents[2] / "docs" / "bench"


def test_kept_settings_are_the_default_budget():
    """A fresh folder seeded from docs/bench resumes with the default options only if they did not change."""
    assert json.loads((KEPT / "bench.json").read_text())["settings"] == BenchOptions().settings()


def test_kept_detector_is_the_one_the_default_bench_would_train():
    options = BenchOptions()
    meta = torch.load(KEPT / FILE, weights_only=True)["meta"]
    wanted = detector_settings(options.detector_steps, options.seed, options.size)
    assert {key: meta.get(key) for key in wanted} == wanted
    assert json.loads((KEPT / "references.json").read_text())["detector"] == meta


@pytest.mark.parametrize("name", ["methods", "ablations"])
def test_kept_runs_belong_to_their_suite_and_budget(name):
    names = {recipe.name for recipe in suite(name)}
    for path in sorted((KEPT / name).glob("*.json")):
        result = json.loads(path.read_text())
        assert result["name"] == path.stem and path.stem in names
        assert result["steps"] == BenchOptions().steps and result["curve"][-1][0] == result["steps"]
        assert set(result["figures"]) == {"l1", "akd_px", "mkr", "keypoints_px", "keypoints_untrained_px",
                                          "cross_identity_px"}
        assert (KEPT / name / f"{path.stem}.png").is_file()  # its keypoint grid
