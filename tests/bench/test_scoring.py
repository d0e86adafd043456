"""The bench's scoring: the keypoint→joint regression, the detector's read-out, AKD/MKR, the budget's schedule."""

import numpy as np
import pytest
import torch

from motrans.bench.budget import Budget, bench_config
from motrans.bench.detector import Detection, cell_centres, read_heatmaps
from motrans.bench.recipes import METHODS, suite
from motrans.bench.regression import chance_map, fit_linear, pixel_error
from motrans.bench.run import curve_stops
from motrans.bench.scores import akd_mkr, motion_error
from motrans.config import load_config

from ..conftest import REFERENCE


def test_regression_recovers_a_known_linear_map():
    rng = np.random.default_rng(0)
    matrix, bias = rng.normal(size=(6, 8)), rng.normal(size=8)
    keypoints = rng.uniform(-1, 1, size=(200, 3, 2))
    joints = (keypoints.reshape(200, 6) @ matrix + bias).reshape(200, 4, 2)
    mapping = fit_linear(keypoints, joints)
    new = rng.uniform(-1, 1, size=(50, 3, 2))
    expected = (new.reshape(50, 6) @ matrix + bias).reshape(50, 4, 2)
    assert pixel_error(mapping(new), expected, 128) < 1e-3
    assert pixel_error(chance_map(joints)(np.zeros((50, 0, 2))), expected, 128) > 10  # the mean pose is far off


def test_chance_is_the_mean_pose_and_constant_keypoints_fit_no_better():
    rng = np.random.default_rng(1)
    joints = rng.uniform(-1, 1, size=(100, 5, 2))
    mean = chance_map(joints)(np.zeros((3, 0, 2)))
    assert np.allclose(mean, joints.mean(0), atol=1e-9)
    collapsed = fit_linear(np.full((100, 4, 2), 0.3), joints)  # keypoints that ignore the image
    assert np.allclose(collapsed(np.full((3, 4, 2), 0.3)), mean, atol=1e-6)


def test_pixel_error_is_in_pixels_of_the_frame():
    a, b = np.zeros((1, 1, 2)), np.array([[[2 / 127, 0.0]]])  # one pixel apart in x at 128²
    assert pixel_error(a, b, 128) == pytest.approx(1.0)


def test_cell_centres_follow_the_joint_convention():
    """At full resolution a cell is a pixel, and pixel j sits at 2·j/(S − 1) − 1, as video_joints puts it."""
    centres = cell_centres(4, 4, 4)
    assert torch.allclose(centres[0], torch.tensor([-1.0, -1.0])) and torch.allclose(centres[-1], torch.ones(2))
    assert torch.allclose(centres[1], torch.tensor([2 / 3 - 1, -1.0]))


def test_a_sharp_heatmap_reads_its_peak_with_full_confidence():
    logits = torch.full((1, 2, 8, 8), -30.0)
    logits[0, 0, 5, 2] = 30.0  # row 5, column 2
    found = read_heatmaps(logits, 32)
    assert torch.allclose(found.joints[0, 0], cell_centres(8, 8, 32)[5 * 8 + 2], atol=1e-5)
    assert found.confidence[0, 0] > 0.99 and found.confidence[0, 1] < 0.2  # a flat map is not confident


def test_akd_counts_joints_found_in_both_and_mkr_those_lost():
    real = Detection(torch.zeros(1, 4, 2), torch.tensor([[0.9, 0.9, 0.9, 0.1]]))
    moved = torch.zeros(1, 4, 2)
    moved[0, 0, 0] = 4 / 127  # 2 pixels at 128²
    fake = Detection(moved, torch.tensor([[0.9, 0.9, 0.1, 0.9]]))
    akd, mkr = akd_mkr(real, fake, 0.5, 128)
    assert akd == pytest.approx(1.0)  # (2 + 0) / 2 joints found in both
    assert mkr == pytest.approx(1 / 3)  # of the 3 found in the real frame, one is lost


def test_cross_identity_scores_motion_not_position():
    truth = np.random.default_rng(2).uniform(-0.5, 0.5, size=(6, 3, 2))
    assert motion_error(truth + 0.3, truth, 128) == pytest.approx(0.0, abs=1e-9)  # another place, same motion
    assert motion_error(np.repeat(truth[:1], 6, 0), truth, 128) > 1  # standing still does not follow


def test_curve_stops_end_at_the_budget():
    assert curve_stops(3000, 6) == [500, 1000, 1500, 2000, 2500, 3000]
    assert curve_stops(2, 1) == [2]


def test_budget_keeps_each_recipes_schedule_as_fractions_of_the_run():
    configs = {r.name: bench_config(r, Budget(steps=1000, batch_size=4, train_videos=180), "data")
               for r in suite("all")}
    assert configs["fomm"].train.milestones == (6, 9)  # FOMM: epochs 60 and 90 of 100
    assert configs["tpsmm"].train.milestones == (7, 9) and configs["tpsmm"].train.tps_dropout.until_epoch == 4
    assert configs["motrans-puppets"].train.milestones == (2,)  # its own 10 epochs
    for config in configs.values():
        steps_per_epoch = 180 * config.train.repeats // 4
        assert config.train.epochs * steps_per_epoch >= 1000 and config.model.frame_size == (128, 128)
        assert config.data == configs["fomm"].data and config.train.batch_size == 4
        assert config.train.perceptual_backbone == "mobilenetv2" and not config.model.avd.enabled
    assert configs["motrans"].model.estimator.backbone.pretrained == ""  # no ImageNet HRNet offline


@pytest.mark.parametrize("name, file", [("fomm", "fomm_configs/taichi-256.yaml"),
                                        ("mraa", "mraa_configs/taichi256.yaml"),
                                        ("tpsmm", "tpsmm_configs/taichi-256.yaml")])
def test_baseline_recipes_are_their_authors_taichi_files(name, file):
    path = REFERENCE / file
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    ours = next(r for r in METHODS if r.name == name).config()
    authors = load_config(path)
    assert ours.model.estimator == authors.model.estimator
    for part in ("dense_motion", "generator", "background", "discriminator"):
        assert getattr(ours.model, part) == getattr(authors.model, part), part
    for field in ("loss", "transform", "milestones", "epochs", "clip_estimator", "clip_norm_type", "weight_decay",
                  "tps_dropout", "scales", "lr_generator", "lr_estimator"):
        assert getattr(ours.train, field) == getattr(authors.train, field), field
