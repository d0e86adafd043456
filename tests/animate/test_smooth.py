"""One-Euro smoothing of driving keypoints and jacobians."""

import numpy as np
import torch

from motrans.animate.smooth import MotionSmoother, OneEuro, SmoothOptions
from motrans.models.motion import Motion


def _shaken(frames=250, seed=0):
    """A still (10, 2) keypoint set with 0.02 of per-frame hand shake: (T, 10, 2)."""
    rng = np.random.default_rng(seed)
    still = rng.uniform(-0.5, 0.5, (10, 2))
    return still, still + rng.normal(0, 0.02, (frames, 10, 2))


def test_strength_zero_is_the_input_itself():
    _, shaken = _shaken(20)
    smooth = OneEuro(SmoothOptions(strength=0))
    assert all(smooth(x) is x for x in shaken)
    motion = Motion(torch.randn(3, 10, 2), torch.randn(3, 10, 2, 2))
    assert MotionSmoother()(motion) is motion


def _error(strength):
    still, shaken = _shaken()
    smooth = OneEuro(SmoothOptions(strength=strength))
    out = np.stack([smooth(x) for x in shaken])
    assert np.array_equal(out[0], shaken[0])  # the first sample passes through
    return np.abs(out[50:] - still).mean() / np.abs(shaken[50:] - still).mean()


def test_reduces_jitter_on_a_shaken_still_signal():
    assert _error(0) == 1
    assert _error(2) < _error(1) < 0.4  # measured 0.28 and 0.35


def test_follows_a_real_move():
    smooth = OneEuro(SmoothOptions(strength=1))
    steps = np.concatenate([np.zeros(10), np.linspace(0, 1, 25), np.ones(25)])  # a 1-second move, then still
    out = np.array([smooth(np.array([x]))[0] for x in steps])
    assert abs(out[-1] - 1) < 0.02  # settles on the new position within a second


def test_is_causal():
    _, shaken = _shaken(40)
    a, b = OneEuro(SmoothOptions(strength=2)), OneEuro(SmoothOptions(strength=2))
    first = [a(x) for x in shaken]
    changed = shaken.copy()
    changed[30:] += 1  # the future changes...
    second = [b(x) for x in changed]
    assert all(np.array_equal(p, q) for p, q in zip(first[:30], second[:30]))  # ...the past outputs do not


def test_motion_batches_are_time_and_reset_starts_over():
    kp, jacobian = torch.randn(6, 10, 2), torch.randn(6, 10, 2, 2)
    smoother = MotionSmoother(SmoothOptions(strength=1))
    out = smoother(Motion(kp[:3], jacobian[:3]))
    rest = smoother(Motion(kp[3:], None))
    assert out.kp.shape == (3, 10, 2) and out.jacobian.shape == (3, 10, 2, 2) and rest.jacobian is None
    assert torch.equal(out.kp[0], kp[0]) and not torch.equal(out.kp[1], kp[1])
    whole = MotionSmoother(SmoothOptions(strength=1))(Motion(kp, jacobian))
    assert torch.allclose(torch.cat([out.kp, rest.kp]), whole.kp)  # batching does not change the result
    smoother.reset()
    assert torch.equal(smoother(Motion(kp[3:])).kp[0], kp[3])
