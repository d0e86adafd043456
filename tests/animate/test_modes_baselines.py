"""Animation modes across methods: MRAA's covariance survives relative transfer, `avd` mode, each method's
scale default, and reconstruction with the background motion."""

import numpy as np
import pytest
import torch

from motrans.animate import Animator
from motrans.animate.normalize import transfer
from motrans.config import replace
from motrans.errors import InputError
from motrans.models import Motion, build_model


def _model(tiny_config, method, avd=False):
    model = tiny_config.model
    config = replace(model, estimator=replace(model.estimator, method=method), avd=replace(model.avd, enabled=avd))
    if method == "tpsmm":  # its four occlusion masks meet three generator levels
        config = replace(config, generator=replace(config.generator, num_down_blocks=3))
    torch.manual_seed(0)
    net = build_model(config)
    with torch.no_grad():  # identity-initialised heads would make every frame's motion alike
        for param in net.parameters():
            param.add_(0.05 * torch.randn_like(param))
    return net.eval()


def _frames(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(n)]


def _motion(b, seed):
    g = torch.Generator().manual_seed(seed)
    covariance = torch.rand(b, 4, 2, 2, generator=g)
    return Motion(torch.rand(b, 4, 2, generator=g), torch.rand(b, 4, 2, 2, generator=g) + torch.eye(2), covariance)


def test_relative_transfer_keeps_the_driving_covariance():
    source, initial, driving = _motion(1, 0), _motion(1, 1), _motion(3, 2)
    out = transfer(source, driving, initial, "relative")
    assert out.covariance is driving.covariance
    assert torch.allclose(out.kp, driving.kp - initial.kp + source.kp)


@pytest.mark.parametrize("method", ["mraa", "tpsmm"])
def test_avd_mode_renders_what_the_avd_network_says(tiny_config, method):
    animator = Animator(_model(tiny_config, method, avd=True), "cpu")
    source, driving = _frames(1)[0], _frames(3, seed=1)
    avd = list(animator.animate(source, driving, mode="avd"))
    state = animator.encode_source(source)
    with torch.inference_mode():
        motion = animator.estimate(driving)
        expected = animator.generate(state, animator.model.avd(_repeat(state.motion, 3), motion))
    assert all(np.array_equal(a, b) for a, b in zip(avd, expected, strict=True))
    relative = list(animator.animate(source, driving, mode="relative"))
    assert any(not np.array_equal(a, b) for a, b in zip(avd, relative))


def _repeat(motion, b):
    return Motion(*(None if t is None else t.repeat(b, *([1] * (t.dim() - 1)))
                    for t in (motion.kp, motion.jacobian, motion.covariance)))


def test_avd_mode_without_an_avd_network_is_refused(tiny_config):
    animator = Animator(_model(tiny_config, "fomm"), "cpu")
    with pytest.raises(InputError, match="AVD network"):
        list(animator.animate(_frames(1)[0], _frames(2), mode="avd"))


@pytest.mark.parametrize("method, adapts", [("fomm", False), ("mraa", True), ("tpsmm", True), ("motrans", False)])
def test_relative_mode_scales_movement_as_each_method_demo(tiny_config, method, adapts):
    animator = Animator(_model(tiny_config, method), "cpu")
    assert animator.adapts_scale_by_default() is adapts
    source, driving = _frames(1, seed=5)[0], _frames(3, seed=6)
    default = list(animator.animate(source, driving))
    chosen = list(animator.animate(source, driving, adapt_scale=adapts))
    assert all(np.array_equal(a, b) for a, b in zip(default, chosen, strict=True))


@pytest.mark.parametrize("background", ["none", "affine"])
def test_reconstruction_is_the_model_forward_with_its_background(tiny_config, background):
    model = tiny_config.model
    config = replace(model, background=replace(model.background, kind=background))
    torch.manual_seed(0)
    net = build_model(config)
    with torch.no_grad():
        for param in net.parameters():
            param.add_(0.05 * torch.randn_like(param))
    animator = Animator(net.eval(), "cpu")
    frames = _frames(3, seed=7)
    state = animator.encode_source(frames[0])
    with torch.inference_mode():
        driving = animator.to_tensor(frames)
        expected = animator.to_frames(net(state.image.expand(3, -1, -1, -1), driving).prediction)
        without = animator.generate(state, animator.estimate(frames))
    got = animator.reconstruct(state, frames)
    # The forward estimates the source in a batch of 3, the animator once: round-off can flip a uint8 level.
    assert all(np.abs(a.astype(int) - b).max() <= 1 for a, b in zip(got, expected, strict=True))
    assert any(not np.array_equal(a, b) for a, b in zip(got, without)) == (background != "none")
