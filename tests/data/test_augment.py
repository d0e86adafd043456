import numpy as np
import pytest

from motrans.config import AugmentConfig, JitterConfig
from motrans.data.augment import augment, color_jitter, random_crop, random_resize, random_rotation

NO_JITTER = JitterConfig(0.0, 0.0, 0.0, 0.0)
OFF = AugmentConfig(horizontal_flip=False, time_flip=False, jitter=NO_JITTER)


class FixedAngle:
    """Stands in for a Generator whose `uniform` draw is known."""

    def __init__(self, value):
        self.value = value

    def uniform(self, low, high):
        return self.value


def clip(seed=0, size=(32, 48), count=2):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (*size, 3), dtype=np.uint8) for _ in range(count)]


def kinds_of_flip(config, seeds=400):
    """How often the pair came back swapped, mirrored or untouched."""
    frames = clip()
    seen = {"time": 0, "horizontal": 0, "none": 0}
    for seed in range(seeds):
        out = augment(frames, config, np.random.default_rng(seed))
        if np.array_equal(out[0], frames[1]) and np.array_equal(out[1], frames[0]):
            seen["time"] += 1
        elif all(np.array_equal(o, f[:, ::-1]) for o, f in zip(out, frames)):
            seen["horizontal"] += 1
        else:
            assert all(np.array_equal(o, f) for o, f in zip(out, frames))
            seen["none"] += 1
    return seen


def test_disabled_config_is_identity():
    for frames in (clip(), [f.astype(np.float32) / 255 for f in clip()]):
        out = augment(frames, OFF, np.random.default_rng(0))
        assert all(o.dtype == f.dtype and np.array_equal(o, f) for o, f in zip(out, frames))


def test_time_flip_returns_early_and_horizontal_flip_mirrors():
    both = kinds_of_flip(AugmentConfig(jitter=NO_JITTER))
    assert 160 < both["time"] < 240 and 60 < both["horizontal"] < 140 and 60 < both["none"] < 140
    only_mirror = kinds_of_flip(AugmentConfig(time_flip=False, jitter=NO_JITTER))
    assert only_mirror["time"] == 0 and 160 < only_mirror["horizontal"] < 240


def test_rotation_keeps_size_and_dtype_and_fills_with_edges():
    for frames in (clip(), [f.astype(np.float32) / 255 for f in clip()]):
        out = random_rotation(frames, 20, np.random.default_rng(0))
        assert all(o.shape == f.shape and o.dtype == f.dtype for o, f in zip(out, frames))
    flat = [np.full((30, 40, 3), 200, np.uint8)]
    assert np.all(random_rotation(flat, 45, np.random.default_rng(1))[0] == 200)  # no black corners


def test_rotation_by_90_degrees_is_rot90_as_in_skimage():
    frame = clip(size=(16, 16))[0]
    out = random_rotation([frame], 90, FixedAngle(90.0))[0]
    assert np.array_equal(out, np.rot90(frame))
    assert np.array_equal(random_rotation([frame], 5, FixedAngle(0.0))[0], frame)


def test_resize_then_crop_comes_back_at_crop_size():
    frames = clip(size=(60, 60))
    for seed in range(5):
        out = random_resize(frames, (0.8, 1.2), np.random.default_rng(seed))
        assert out[0].shape == out[1].shape
        cropped = random_crop(out, (64, 64), np.random.default_rng(seed))
        assert all(c.shape == (64, 64, 3) for c in cropped)
    grown = random_resize(frames, (2.0, 2.0), np.random.default_rng(0))[0]
    assert grown.shape == (120, 120, 3) and np.array_equal(grown[::2, ::2], frames[0])  # nearest when enlarging


def test_crop_takes_the_same_window_from_every_frame():
    frame = clip(size=(40, 50))[0]
    out = random_crop([frame, frame.copy()], (20, 30), np.random.default_rng(3))
    assert np.array_equal(out[0], out[1]) and out[0].shape == (20, 30, 3)
    padded = random_crop([frame], (44, 50), np.random.default_rng(0))[0]
    assert np.array_equal(padded[2:42], frame) and np.array_equal(padded[0], frame[0])  # edge padding, centred


@pytest.mark.parametrize("jitter", [JitterConfig(), JitterConfig(0.5, 0.5, 0.5, 0.5), JitterConfig(0, 0, 0, 0.5)])
def test_jitter_is_quantised_in_range_and_the_same_for_the_clip(jitter):
    frame = clip()[0]
    changed = False
    for seed in range(6):
        out = color_jitter([frame, frame.copy()], jitter, np.random.default_rng(seed))
        assert out[0].dtype == np.uint8 and np.array_equal(out[0], out[1])
        changed |= not np.array_equal(out[0], frame)
        floats = color_jitter([frame.astype(np.float32) / 255], jitter, np.random.default_rng(seed))[0]
        assert floats.dtype == np.float32 and 0 <= floats.min() and floats.max() <= 1
        assert np.allclose(floats * 255, np.rint(floats * 255), atol=1e-3)
        assert np.array_equal(np.rint(floats * 255).astype(np.uint8), out[0])
    assert changed


def test_brightness_scales_and_hue_turns_red_away():
    red = [np.tile(np.array([200, 0, 0], np.uint8), (8, 8, 1))]
    scaled = color_jitter(red, JitterConfig(0.5, 0, 0, 0), np.random.default_rng(0))[0]
    assert scaled[0, 0, 1] == 0 and scaled[0, 0, 0] != 200
    shifted = color_jitter(red, JitterConfig(0, 0, 0, 0.5), np.random.default_rng(0))[0]
    assert not np.array_equal(shifted, red[0]) and shifted.max() <= 255


def test_same_generator_state_gives_the_same_clip():
    config = AugmentConfig(rotation=10.0, resize_ratio=(0.9, 1.1), crop=(32, 48))
    first = augment(clip(), config, np.random.default_rng(7))
    again = augment(clip(), config, np.random.default_rng(7))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert all(f.shape == (32, 48, 3) for f in first)
