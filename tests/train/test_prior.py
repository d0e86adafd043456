import pytest
import torch

from motrans.errors import ConfigError
from motrans.losses import Criterion, total
from motrans.losses.prior import separation
from motrans.models import build_model

from .helpers import random_mobilenet, tiny_train_config


@pytest.fixture(scope="module")
def perceptual(tmp_path_factory):
    return random_mobilenet(tmp_path_factory.mktemp("vgg") / "mobilenet.pt")


def test_separation_is_one_when_keypoints_coincide_and_vanishes_when_far_apart():
    together = torch.zeros(3, 5, 2)
    assert separation(together, 0.1).item() == pytest.approx(1.0)
    corners = torch.tensor([[[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]]])
    assert separation(corners, 0.1).item() < 1e-20
    pair = torch.tensor([[[0.0, 0.0], [0.3, 0.4]]])  # distance 0.5
    assert separation(pair, 0.25).item() == pytest.approx(float(torch.exp(torch.tensor(-0.25 / 0.125))))


def test_separation_pushes_close_keypoints_apart():
    kp = torch.tensor([[[0.0, 0.0], [0.05, 0.0]]], requires_grad=True)
    separation(kp, 0.1).backward()
    assert kp.grad[0, 0, 0] > 0 and kp.grad[0, 1, 0] < 0  # descent moves the left one left, the right one right
    assert torch.allclose(kp.grad[..., 1], torch.zeros(1, 2))


def test_separation_term_averages_source_and_driving_and_is_off_by_default(perceptual):
    source, driving = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    off = tiny_train_config(perceptual)
    on = tiny_train_config(perceptual, **{"train.loss.separation": "3", "train.loss.separation_sigma": "0.2"})
    model = build_model(on.model)
    assert "separation" not in Criterion(off.train, off.model)(model, source, driving).terms
    out = Criterion(on.train, on.model)(model, source, driving)
    expected = (separation(out.source.kp, 0.2) + separation(out.driving.kp, 0.2)) / 2
    assert torch.allclose(out.terms["separation"], expected)
    rest = {k: v for k, v in out.terms.items() if k != "separation"}
    assert torch.allclose(total(out.terms, on.train.loss) - total(rest, on.train.loss), 3 * expected)


def test_separation_is_refused_for_control_points(perceptual):
    config = tiny_train_config(perceptual, **{"model.estimator.method": "tpsmm", "model.generator.num_down_blocks": "3",
                                              "train.loss.separation": "1"})
    with pytest.raises(ConfigError, match="separation"):
        Criterion(config.train, config.model)


def test_separation_sigma_must_be_positive(perceptual):
    config = tiny_train_config(perceptual, **{"train.loss.separation": "1", "train.loss.separation_sigma": "0"})
    with pytest.raises(ConfigError, match="separation_sigma must be > 0"):
        Criterion(config.train, config.model)
