import json

import numpy as np
import pytest

from motrans.data.synth import JOINT_NAMES, make_puppet, render_video, video_joints, video_seed, write_dataset
from motrans.data.video import read_frames
from motrans.errors import InputError

SIZE, FRAMES = 64, 12


def video(seed: int, frames: int = FRAMES, size: int = SIZE) -> np.ndarray:
    return np.stack(list(render_video(seed, frames, size)))  # (T, S, S, 3)


def to_pixels(joints: np.ndarray, size: int = SIZE) -> np.ndarray:
    return (joints + 1) / 2 * (size - 1)


def test_same_seed_same_video_and_other_seeds_differ():
    first = video(3)
    assert np.array_equal(first, video(3))
    assert np.array_equal(video_joints(3, FRAMES, SIZE), video_joints(3, FRAMES, SIZE))
    assert not np.array_equal(first, video(4))
    assert video_seed(0, 1) == video_seed(0, 1) != video_seed(0, 2) != video_seed(1, 2)


def test_shapes_dtypes_and_joints_inside_the_frame():
    frames, joints = video(0, 5, 48), video_joints(0, 5, 48)
    assert frames.shape == (5, 48, 48, 3) and frames.dtype == np.uint8
    assert joints.shape == (5, len(JOINT_NAMES), 2) == (5, 15, 2)
    assert np.isfinite(joints).all() and np.abs(joints).max() < 1.0


def test_joints_are_the_puppets_own_in_pixels():
    puppet = make_puppet(np.random.default_rng(7), SIZE)
    assert np.allclose(to_pixels(video_joints(7, 3, SIZE)[2]), puppet.joints(2))


def test_limbs_rotate_about_their_joints():
    joints = video_joints(1, 32, 128)  # (T, J, 2)
    ends = [JOINT_NAMES.index(f"{limb}_end") for limb in ("arm_left", "arm_right", "leg_left", "leg_right")]
    relative = joints[:, ends] - joints[:, :1]  # hands and feet relative to the torso: articulation, not drift
    assert (relative.std(axis=0).max(axis=1) > 0.01).all()
    upper = joints[:, 5] - joints[:, 4]  # arm_left mid − root: the upper arm's direction over time
    angle = np.arctan2(upper[:, 1], upper[:, 0])
    assert np.ptp(angle) > 0.2  # radians
    lengths = np.linalg.norm(joints[:, 4:] - joints[:, 3:-1], axis=-1)[:, [0, 1, 3, 4, 6, 7, 9, 10]]  # segments
    body_scale = np.linalg.norm(joints[:, 1] - joints[:, 0], axis=-1)  # torso centre to neck: rigid, scales with body
    assert np.allclose(lengths / body_scale[:, None], lengths[0] / body_scale[0], rtol=1e-6)  # segments stay rigid


def test_changes_are_near_the_puppet_and_the_background_is_static():
    size = 96
    frames, joints = video(5, 8, size), to_pixels(video_joints(5, 8, size), size)
    y, x = np.mgrid[:size, :size]
    spots = np.stack([x, y], -1).reshape(-1, 1, 2)
    for t in range(1, 8):
        changed = (frames[t] != frames[0]).any(-1).reshape(-1)
        near = np.linalg.norm(spots - np.concatenate([joints[0], joints[t]]), axis=-1).min(-1)
        assert not changed[near > 0.15 * size].any()  # every part lies within ~0.1·S of one of its joints
        assert changed[near < 0.05 * size].mean() > 0.3


def test_parts_are_textured_not_flat():
    for seed in range(4):
        frame = next(render_video(seed, 1, 128)).astype(float)
        joints = to_pixels(video_joints(seed, 1, 128), 128)[0]
        for name, half in (("torso", 6), ("head", 3)):
            x, y = np.round(joints[JOINT_NAMES.index(name)]).astype(int)
            assert frame[y - half: y + half + 1, x - half: x + half + 1].std(axis=(0, 1)).max() > 10, (seed, name)


def test_dataset_layout_split_and_regeneration(tmp_path):
    done = []
    summary = write_dataset(tmp_path / "puppets", videos=3, frames=2, size=32, seed=9, progress=done.append)
    root = tmp_path / "puppets"
    assert done == [1, 2, 3] and (summary["train"], summary["test"]) == (2, 1)
    assert sorted(p.name for p in (root / "train").iterdir()) == ["puppet00000", "puppet00001"]
    assert [p.name for p in (root / "test").iterdir()] == ["puppet00002"]
    assert sorted(p.name for p in (root / "test" / "puppet00002").iterdir()) == ["00000.png", "00001.png"]
    written = np.stack(list(read_frames(root / "test" / "puppet00002")))
    assert np.array_equal(written, video(video_seed(9, 2), 2, 32))
    assert json.loads((root / "synth.json").read_text())["seeds"]["test/puppet00002"] == video_seed(9, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["puppets"]  # no temporary sibling left


@pytest.mark.parametrize("videos, fraction, tests", [(1, 0.1, 0), (2, 0.1, 1), (20, 0.1, 2), (21, 0.1, 3),
                                                     (10, 0.3, 3), (5, 0.0, 0), (3, 0.9, 2)])
def test_split_sizes(tmp_path, videos, fraction, tests):
    summary = write_dataset(tmp_path / "d", videos, 1, 8, 0, test_fraction=fraction)
    assert summary["test"] == tests == len(list((tmp_path / "d" / "test").iterdir()))
    assert summary["train"] == videos - tests


def test_existing_dataset_is_refused_and_untouched(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="old"):
        write_dataset(tmp_path / "old", 2, 1, 16, 0)
    assert [p.name for p in (tmp_path / "old").iterdir()] == ["keep.txt"]
    (tmp_path / "empty").mkdir()
    assert write_dataset(tmp_path / "empty", 2, 1, 16, 0)["videos"] == 2


def test_interrupted_run_leaves_nothing(tmp_path):
    def interrupt(done):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_dataset(tmp_path / "d", 4, 2, 16, 0, progress=interrupt)
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="test-fraction"):
        write_dataset(tmp_path / "d", 4, 2, 16, 0, test_fraction=1.0)
    assert list(tmp_path.iterdir()) == []
