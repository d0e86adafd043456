import numpy as np
import pytest

from motrans.animate import AnimateOptions, Animator, animate_video
from motrans.data.image import read_image
from motrans.data.video import probe, read_frames
from motrans.errors import InputError

from ..conftest import DATA, make_video

FACE = DATA / "faces" / "vox_lia_macron.png"
IMAGES = [DATA / "images" / n for n in ("astronaut.png", "chelsea.png", "coffee.png", "camera.png")]


@pytest.fixture(scope="module")
def animator(tiny_checkpoint):
    return Animator.from_checkpoint(tiny_checkpoint, device="cpu")


def _frames(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(n)]


def test_face_clip_keeps_audio_and_fps(tiny_checkpoint, tmp_path):
    driving = DATA / "faces" / "liveportrait_d18.mp4"  # 30 fps, with audio
    out = animate_video(FACE, driving, tmp_path / "out.mp4", tiny_checkpoint, device="cpu", quiet=True)
    info = probe(out)
    assert info.has_audio and info.fps == pytest.approx(30) and info.frames == 216
    assert (info.width, info.height) == (64, 64)
    silent = animate_video(FACE, driving, tmp_path / "silent.mp4", tiny_checkpoint, device="cpu", quiet=True,
                           options=AnimateOptions(audio=False))
    assert not probe(silent).has_audio


def test_frames_directory_equals_the_api(animator, tmp_path):
    driving = DATA / "faces" / "vox_dagan_driving.mp4"
    out = animate_video(FACE, driving, f"{tmp_path / 'frames'}/", animator=animator, quiet=True)
    files = sorted(out.glob("*.png"))
    written = [read_image(p) for p in files]
    in_memory = list(animator.animate(read_image(FACE), read_frames(driving)))
    assert [p.name for p in files][:2] == ["000000.png", "000001.png"]
    assert sorted(p.name for p in out.iterdir()) == [".motrans-frames", *(p.name for p in files)]
    assert len(written) == len(in_memory) == 184
    assert all(np.array_equal(a, b) for a, b in zip(written, in_memory))


def test_relative_and_absolute_differ(animator):
    source, driving = read_image(FACE), [read_image(p) for p in IMAGES]
    relative = list(animator.animate(source, driving, mode="relative"))
    absolute = list(animator.animate(source, driving, mode="absolute"))
    assert len(relative) == len(absolute) == 4
    assert not all(np.array_equal(a, b) for a, b in zip(relative, absolute))


def test_relative_first_frame_keeps_the_source_pose(animator):
    """In relative mode the first driving frame carries no motion: the output equals animating by the source."""
    source = read_image(FACE)
    first = next(animator.animate(source, [read_image(IMAGES[0]), read_image(IMAGES[1])]))
    itself = next(animator.animate(source, [source], mode="absolute"))
    assert np.abs(first.astype(int) - itself.astype(int)).max() <= 1


def test_adapt_scale_changes_relative_motion_only(animator, monkeypatch):
    import motrans.animate.pipeline as pipeline

    monkeypatch.setattr(pipeline, "movement_scale", lambda source, initial: 3.0)  # random weights give ≈ 1
    source, driving = read_image(FACE), [read_image(p) for p in IMAGES]
    plain = list(animator.animate(source, driving))
    scaled = list(animator.animate(source, driving, adapt_scale=True))
    assert not all(np.array_equal(a, b) for a, b in zip(plain, scaled))
    absolute = list(animator.animate(source, driving, mode="absolute"))
    absolute_scaled = list(animator.animate(source, driving, mode="absolute", adapt_scale=True))
    assert all(np.array_equal(a, b) for a, b in zip(absolute, absolute_scaled))


def test_find_best_frame_picks_the_source_pose(animator):
    source = read_image(IMAGES[1])
    driving = [read_image(p) for p in (IMAGES[0], IMAGES[2], IMAGES[1], IMAGES[3], IMAGES[0])]
    picked = []
    frames = list(animator.animate(source, driving, find_best_frame=True, batch_size=2, on_best_frame=picked.append))
    assert picked == [2] and len(frames) == 5
    # Relative to the best frame, that frame itself reproduces the source pose.
    itself = next(animator.animate(source, [source], mode="absolute"))
    assert np.abs(frames[2].astype(int) - itself.astype(int)).max() <= 1


def test_frames_are_read_lazily(animator):
    consumed = []

    def reader():
        for i, frame in enumerate(_frames(12)):
            consumed.append(i)
            yield frame

    stream = animator.animate(read_image(FACE), reader(), batch_size=3)
    next(stream)
    assert len(consumed) == 3  # one batch decoded, not the whole video
    assert len(list(stream)) == 11 and len(consumed) == 12


def test_one_frame_video_and_odd_sources(animator, tmp_path):
    driving = make_video(tmp_path / "one.mp4", _frames(1))
    for source in (DATA / "faces" / "rick_rgba.png", DATA / "faces" / "avatarify_einstein_gray.jpg",
                   DATA / "faces" / "sadtalker_happy1_rgba.png"):
        out = animate_video(source, driving, tmp_path / f"{source.stem}.mp4", animator=animator, quiet=True)
        assert probe(out).frames == 1


def test_batch_size_does_not_change_results_beyond_roundoff(animator):
    source, driving = read_image(FACE), _frames(5)
    one = list(animator.animate(source, driving, batch_size=1))
    four = list(animator.animate(source, driving, batch_size=4))
    assert all(np.abs(a.astype(int) - b.astype(int)).max() <= 1 for a, b in zip(one, four))


def test_side_by_side_and_gif(animator, tmp_path):
    out = animate_video(FACE, DATA / "animals" / "mgif_aa_cat_driving.gif", tmp_path / "cat.gif", animator=animator,
                        quiet=True, options=AnimateOptions(side_by_side=True))
    frames = list(read_frames(out))
    assert len(frames) == 15 and frames[0].shape == (64, 192, 3)


def test_bad_options(animator):
    with pytest.raises(InputError, match="unknown mode"):
        list(animator.animate(read_image(FACE), _frames(2), mode="sideways"))
    with pytest.raises(InputError, match="batch size"):
        list(animator.animate(read_image(FACE), _frames(2), batch_size=0))


def test_movement_scale_is_the_hull_size_ratio():
    import torch

    from motrans.animate.normalize import hull_area, movement_scale, transfer
    from motrans.models import Motion

    square = np.array([[0, 0], [2, 0], [2, 2], [0, 2], [1, 1]], dtype=np.float32)  # inner point ignored
    assert hull_area(square) == 4.0
    small, large = Motion(torch.tensor(square[None]) * 0.1), Motion(torch.tensor(square[None]) * 0.3)
    assert movement_scale(small, large) == pytest.approx(1 / 3)
    moved = Motion(large.kp + 0.3)
    out = transfer(small, moved, large, "relative", scale=1 / 3, relative_jacobian=False)
    assert torch.allclose(out.kp, small.kp + 0.1)
