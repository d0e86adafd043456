"""`motrans animate` on a large photo and a 720p phone clip: the face is found, the driving video gets steady
boxes, and the result is pasted back into the full photo; inputs already at the model size are never cropped."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from motrans.cli import main
from motrans.data.image import read_image
from motrans.data.video import read_frames

from ..conftest import DATA, write_tiny_checkpoint

pytest.importorskip("dlib")

PLACE = (1234, 345)  # where the 256² face goes in the 2000×1500 photo
PHONE = DATA / "faces" / "liveportrait_s18_landscape.mp4"  # 1280×720, the face right of centre


@pytest.fixture(scope="module")
def face_model(tmp_path_factory):
    """The tiny model, perturbed, as a face model (its data.root names VoxCeleb)."""
    return write_tiny_checkpoint(tmp_path_factory.mktemp("face") / "face.safetensors", **{"data.root": "data/vox"})


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    face = read_image(DATA / "faces" / "vox_lia_monroe.png")
    photo = np.full((1500, 2000, 3), 90, np.uint8)
    photo[PLACE[1]: PLACE[1] + 256, PLACE[0]: PLACE[0] + 256] = face
    Image.fromarray(photo).save(folder / "photo.png")
    (folder / "phone").mkdir()
    for i, frame in enumerate(read_frames(PHONE)):
        if i % 20 == 0 and i < 240:  # 12 frames over 8 s: the head turns and nods
            Image.fromarray(frame).save(folder / "phone" / f"{i:03d}.png")
    return folder


def animate(face_model, inputs, output, *extra):
    return main(["animate", "--checkpoint", str(face_model), "--source", str(inputs / "photo.png"), "--driving",
                 str(inputs / "phone"), "--output", f"{output}/", "--device", "cpu", *extra])


def test_the_face_is_animated_and_pasted_back_into_the_full_photo(face_model, inputs, tmp_path, capsys):
    assert animate(face_model, inputs, tmp_path / "out") == 0
    assert "pass 1/2" in capsys.readouterr().err
    photo = read_image(inputs / "photo.png")
    frames = [read_image(p) for p in sorted((tmp_path / "out").glob("*.png"))]
    assert len(frames) == 12 and frames[0].shape == photo.shape
    x, y = PLACE
    far = np.ones(photo.shape[:2], bool)
    far[max(0, y - 300): y + 556, max(0, x - 300): x + 556] = False  # the face, grown 2×, and a margin
    assert all(np.array_equal(frame[far], photo[far]) for frame in frames)  # exactly the photo away from the face
    inside = [frame[y + 64: y + 192, x + 64: x + 192].astype(int) for frame in frames]
    assert np.abs(inside[0] - photo[y + 64: y + 192, x + 64: x + 192]).mean() > 1  # the model's output is there


def test_the_pasted_face_moves_with_the_driving_face(inputs, tmp_path, capsys):
    """The packaged model (trained, so it follows motion) on a face crop: the face region changes over time."""
    assert main(["animate", "--source", str(inputs / "photo.png"), "--driving", str(inputs / "phone"), "--output",
                 f"{tmp_path / 'out'}/", "--device", "cpu", "--crop", "face"]) == 0
    x, y = PLACE
    files = sorted((tmp_path / "out").glob("*.png"))
    inside = [read_image(p)[y + 32: y + 224, x + 32: x + 224].astype(int) for p in files]
    assert max(np.abs(a - inside[0]).mean() for a in inside[1:]) > 2


def test_no_paste_back_and_crop_none_write_the_model_size(face_model, inputs, tmp_path, capsys):
    assert animate(face_model, inputs, tmp_path / "crop", "--no-paste-back") == 0
    assert read_image(tmp_path / "crop" / "000000.png").shape == (64, 64, 3)
    assert "pass 1/2" in capsys.readouterr().err
    assert animate(face_model, inputs, tmp_path / "none", "--crop", "none") == 0
    assert read_image(tmp_path / "none" / "000000.png").shape == (64, 64, 3)
    assert "pass 1/2" not in capsys.readouterr().err


def test_inputs_at_the_model_size_are_never_cropped(face_model, tmp_path, capsys):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), np.uint8)).save(tmp_path / "source.png")
    (tmp_path / "driving").mkdir()
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), np.uint8)).save(tmp_path / "driving" / f"{i}.png")
    outputs = {}
    for crop in ("auto", "none"):
        assert main(["animate", "--checkpoint", str(face_model), "--source", str(tmp_path / "source.png"),
                     "--driving", str(tmp_path / "driving"), "--output", f"{tmp_path / crop}/", "--device", "cpu",
                     "--crop", crop]) == 0
        outputs[crop] = [read_image(p) for p in sorted((tmp_path / crop).glob("*.png"))]
    assert all(np.array_equal(a, b) for a, b in zip(outputs["auto"], outputs["none"]))
    assert "--crop auto" not in capsys.readouterr().err


@pytest.mark.parametrize("extra, expect", [
    (["--crop", "10,10,0,5"], "--crop"),
    (["--crop", "sideways"], "--crop 'sideways'"),
    (["--object", "2"], "face 2 asked for, but 1 found"),
    (["--smooth", "nan"], "--smooth: must be a finite number"),
    (["--crop-scale", "0"], "--crop-scale: 0.0 is out of range"),
])
def test_bad_crop_options_are_one_line(face_model, inputs, tmp_path, capsys, extra, expect):
    assert animate(face_model, inputs, tmp_path / "out", *extra) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("motrans: error: ")]
    assert len(err) == 1 and expect in err[0], err
    assert not (tmp_path / "out").exists()


def test_a_source_without_a_face_names_the_file(face_model, inputs, tmp_path, capsys):
    Image.fromarray(np.full((300, 400, 3), 128, np.uint8)).save(tmp_path / "wall.png")
    code = main(["animate", "--checkpoint", str(face_model), "--source", str(tmp_path / "wall.png"), "--driving",
                 str(inputs / "phone"), "--output", str(tmp_path / "out.mp4"), "--device", "cpu"])
    assert code == 1
    assert "wall.png: no face found; use --crop none" in capsys.readouterr().err


@pytest.mark.parametrize("stored, crops", [({"data.root": "clips", "data.domain": "face"}, True),
                                           ({"data.root": "clips"}, False),
                                           ({"data.root": "data/moving-gif"}, False)])
def test_auto_crops_what_the_model_says_it_animates(inputs, tmp_path, capsys, stored, crops):
    model = write_tiny_checkpoint(tmp_path / "model.safetensors", **stored)
    assert animate(model, inputs, tmp_path / "out") == 0
    err = capsys.readouterr().err
    assert ("pass 1/2" in err) == crops
    unknown = "data.domain" not in stored and "gif" not in stored["data.root"]
    assert ("does not say what it animates" in err) == unknown
    assert read_image(tmp_path / "out" / "000000.png").shape == ((1500, 2000, 3) if crops else (64, 64, 3))


def test_several_faces_take_the_largest_and_say_so(face_model, inputs, tmp_path, capsys):
    group = DATA / "faces" / "group_six_faces.jpg"
    argv = ["animate", "--checkpoint", str(face_model), "--source", str(group), "--driving", str(inputs / "phone"),
            "--device", "cpu", "--no-paste-back"]
    assert main([*argv, "--output", f"{tmp_path / 'largest'}/"]) == 0
    assert "found 6 faces in group_six_faces.jpg: took the largest" in capsys.readouterr().err
    assert main([*argv, "--output", f"{tmp_path / 'second'}/", "--object", "2"]) == 0
    assert "took number 2 from the left" in capsys.readouterr().err
    first, second = (read_image(tmp_path / name / "000000.png") for name in ("largest", "second"))
    assert not np.array_equal(first, second)


def test_a_box_outside_the_photo_is_refused(face_model, inputs, tmp_path, capsys):
    assert animate(face_model, inputs, tmp_path / "out", "--crop", "5000,5000,100,100") == 1
    assert "--crop" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_smoothing_steadies_the_keypoints_of_a_shaken_still_clip():
    """A still face shaken by a few pixels a frame: the driving keypoints tremble; --smooth 2 calms them; 0 is
    the input exactly."""
    from motrans.animate import Animator
    from motrans.animate.smooth import MotionSmoother, SmoothOptions
    from motrans.checkpoints import load_model
    from motrans.packaged import packaged_model_path

    animator = Animator(load_model(packaged_model_path()), "cpu")
    still = read_image(DATA / "faces" / "vox_lia_monroe.png")
    shifts = np.random.default_rng(0).integers(-4, 5, (24, 2))
    frames = [animator.fitted(np.roll(still, tuple(s), axis=(0, 1))) for s in shifts]
    raw = animator.estimate(frames)
    assert MotionSmoother(SmoothOptions(0.0))(raw) is raw
    calm = MotionSmoother(SmoothOptions(2.0, fps=25))(raw)
    tremble = lambda kp: (kp[1:] - kp[:-1]).abs().mean().item()  # noqa: E731 - mean frame-to-frame motion
    assert tremble(calm.kp) < 0.5 * tremble(raw.kp)


def test_a_body_model_crops_the_person_and_pastes_back(tmp_path, capsys):
    """A body model (data.root names TaiChiHD), a full-body photo placed in a wide 2400×1600 picture, a 720×1080
    fashion clip driving it: the person is found in both, the result has the picture's size, and the far left of
    the picture, away from the person, is the picture's own."""
    pytest.importorskip("mediapipe")
    model = write_tiny_checkpoint(tmp_path / "body.safetensors", **{"data.root": "data/taichi"})
    (tmp_path / "driving").mkdir()
    for i, frame in zip(range(40), read_frames(DATA / "bodies" / "fashion_liveportrait_s13.mp4")):
        if i % 10 == 0:
            Image.fromarray(frame).save(tmp_path / "driving" / f"{i:03d}.png")
    picture = np.full((1600, 2400, 3), 90, np.uint8)
    picture[200:1400, 1400:2200] = read_image(DATA / "bodies" / "fullbody_sadtalker.png")  # 1200×800
    Image.fromarray(picture).save(tmp_path / "picture.png")
    assert main(["animate", "--checkpoint", str(model), "--source", str(tmp_path / "picture.png"), "--driving",
                 str(tmp_path / "driving"), "--output", f"{tmp_path / 'out'}/", "--device", "cpu"]) == 0
    assert "pass 1/2: finding the person" in capsys.readouterr().err
    out = [read_image(p) for p in sorted((tmp_path / "out").glob("*.png"))]
    assert len(out) == 4 and out[0].shape == picture.shape
    assert all(np.array_equal(frame[:, :500], picture[:, :500]) for frame in out)
    assert np.abs(out[0][600:1000, 1600:2000].astype(int) - picture[600:1000, 1600:2000]).mean() > 1


def test_a_driving_video_without_a_face_and_a_one_pixel_photo_are_one_line(face_model, inputs, tmp_path, capsys):
    (tmp_path / "walls").mkdir()
    for i in range(3):
        Image.fromarray(np.full((360, 640, 3), 40 * i, np.uint8)).save(tmp_path / "walls" / f"{i}.png")
    assert main(["animate", "--checkpoint", str(face_model), "--source", str(inputs / "photo.png"), "--driving",
                 str(tmp_path / "walls"), "--output", str(tmp_path / "out.mp4"), "--device", "cpu"]) == 1
    assert "walls: no object detected in any frame; use --crop none" in capsys.readouterr().err
    Image.fromarray(np.full((300, 1, 3), 128, np.uint8)).save(tmp_path / "thin.png")
    assert main(["animate", "--checkpoint", str(face_model), "--source", str(tmp_path / "thin.png"), "--driving",
                 str(inputs / "phone"), "--output", str(tmp_path / "out.mp4"), "--device", "cpu"]) == 1
    assert "thin.png: no face found" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thin.png", "walls"]
