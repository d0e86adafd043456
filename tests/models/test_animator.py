"""Contracts every model in list_models() keeps: shapes, gradients, finite outputs, state-dict round trip."""

import pytest
import torch

from motrans.models import build_discriminator, build_model, list_models
from motrans.config import replace


def _model(config, method):
    model = replace(config.model, estimator=replace(config.model.estimator, method=method))
    if method == "tpsmm":  # its four occlusion masks meet three generator levels
        model = replace(model, generator=replace(model.generator, num_down_blocks=3))
    return build_model(model)


@pytest.mark.parametrize("method", list_models())
def test_shapes(tiny_config, method):
    model = _model(tiny_config, method).eval()
    source, driving = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    motion = model.estimator(source)
    tps = method == "tpsmm"  # 5 control points per part, no Jacobian, occlusion at full size
    assert motion.kp.shape == (2, 20 if tps else 4, 2)
    assert motion.jacobian is None if tps else motion.jacobian.shape == (2, 4, 2, 2)
    assert motion.kp.abs().max() < 1
    out = model(source, driving)
    assert out.prediction.shape == (2, 3, 64, 64) and out.deformed.shape == (2, 3, 64, 64)
    assert out.flow.deformation.shape == (2, 16, 16, 2)
    assert out.flow.mask.shape == (2, 5, 16, 16)
    assert out.flow.occlusion.shape == ((2, 1, 64, 64) if tps else (2, 1, 16, 16))
    assert out.flow.sparse_deformed.shape == (2, 5, 3, 16, 16)
    assert torch.allclose(out.flow.mask.sum(1), torch.ones(2, 16, 16), atol=1e-5)
    assert 0 <= out.prediction.min() and out.prediction.max() <= 1


@pytest.mark.parametrize("method", list_models())
def test_every_parameter_gets_a_finite_gradient(tiny_config, method):
    model = _model(tiny_config, method).train()
    with torch.no_grad():  # the identity-initialised heads have zero weights, which would block gradients
        for param in model.parameters():
            param.add_(0.01 * torch.randn_like(param))
    out = model(torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64))
    motion = model.estimator(torch.rand(2, 3, 64, 64))
    jacobian = 0 if motion.jacobian is None else motion.jacobian.sum()
    (out.prediction.mean() + motion.kp.sum() + jacobian).backward()
    for name, param in model.named_parameters():
        if param.requires_grad:
            assert param.grad is not None, name
            assert torch.isfinite(param.grad).all(), name
            assert param.grad.abs().sum() > 0, name


@pytest.mark.parametrize("method", list_models())
def test_state_dict_round_trip(tiny_config, method):
    a, b = _model(tiny_config, method).eval(), _model(tiny_config, method).eval()
    b.load_state_dict(a.state_dict(), strict=True)
    source, driving = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(a(source, driving).prediction, b(source, driving).prediction)


def test_background_is_identity_at_init(tiny_config):
    model = build_model(tiny_config.model)
    transform = model.background(torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64))
    assert torch.equal(transform, torch.eye(3).expand(2, 3, 3))


def test_discriminator_shapes(tiny_config):
    disc = build_discriminator(tiny_config.model)
    out = disc({1.0: torch.rand(2, 3, 64, 64)})
    features, scores = out[1.0]
    assert len(features) == 3 and scores.shape[:2] == (2, 1)


def test_skips_change_the_output_but_no_weight(tiny_config):
    with_skips = build_model(tiny_config.model).eval()
    plain = build_model(replace(tiny_config.model, generator=replace(tiny_config.model.generator, skips=False))).eval()
    plain.load_state_dict(with_skips.state_dict(), strict=True)
    source, driving = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert not torch.allclose(with_skips(source, driving).prediction, plain(source, driving).prediction)
