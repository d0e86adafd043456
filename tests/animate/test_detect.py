"""Face detection (dlib HOG from dlib-bin, the `crop` extra) and body detection (MediaPipe Pose, the metrics
extra): tests that need either skip without it."""

import itertools
import sys

import numpy as np
import pytest

from motrans.animate import detect
from motrans.animate.crop import Box
from motrans.animate.detect import DRIVING_BODIES, BodyDetector, FaceDetector, choose, left_to_right, shrunk
from motrans.data.image import read_image, resize
from motrans.data.video import read_frames
from motrans.errors import InputError
from tests.conftest import DATA

FACES, BODIES = DATA / "faces", DATA / "bodies"


@pytest.fixture
def dlib():
    return pytest.importorskip("dlib", reason="dlib-bin (the crop extra) is not installed")


def test_group_photo_six_faces_numbered_left_to_right(dlib):
    boxes = FaceDetector()(read_image(FACES / "group_six_faces.jpg"))
    assert len(boxes) == 6
    xs = [box.centre[0] for box in left_to_right(boxes)]
    assert xs == sorted(xs) and choose(boxes, 1).centre[0] == xs[0] and choose(boxes, 6).centre[0] == xs[-1]
    assert choose(boxes) == max(boxes, key=lambda box: box.area)
    with pytest.raises(InputError, match="group.jpg: face 7 asked for, but 6 found"):
        choose(boxes, 7, name="group.jpg")


def test_face_in_a_large_photo_is_found_at_its_place(dlib):
    face = read_image(FACES / "vox_lia_monroe.png")  # 256²; alone, HOG boxes it at (67, 82, 130, 130)
    photo = resize(read_image(DATA / "images" / "coffee.png"), (1500, 2000)).copy()
    photo[345:601, 1234:1490] = face
    (box,) = FaceDetector()(photo)  # detected at 800×600, mapped back
    alone = FaceDetector()(face)[0]
    assert abs(box.x - 1234 - alone.x) <= 8 and abs(box.y - 345 - alone.y) <= 8
    assert box.w == pytest.approx(alone.w, rel=0.05)


def test_no_face_is_an_empty_list_and_choose_names_the_file(dlib):
    assert FaceDetector()(read_image(DATA / "images" / "coffee.png")) == []
    with pytest.raises(InputError, match=r"^coffee.png: no face found; use --crop none"):
        choose([], name="coffee.png")


def test_a_one_pixel_wide_image_finds_nothing(dlib):
    assert FaceDetector()(np.zeros((50, 1, 3), np.uint8)) == []


def test_without_dlib_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dlib", None)  # import dlib now raises ImportError
    detect._hog.cache_clear()
    try:
        with pytest.raises(InputError, match=r"pip install dlib-bin==20\.0\.1\.post1"):
            FaceDetector()(np.zeros((64, 64, 3), np.uint8))
    finally:
        detect._hog.cache_clear()


def test_shrunk_bounds_the_long_side():
    image = np.zeros((1200, 3000, 3), np.uint8)
    assert shrunk(image, 800).shape == (320, 800, 3)
    small = np.zeros((300, 200, 3), np.uint8)
    assert shrunk(small, 800) is small


def test_choose_without_a_number_takes_the_largest():
    boxes = [Box(0, 0, 10, 10), Box(100, 0, 30, 30), Box(50, 0, 20, 20)]
    assert choose(boxes) == boxes[1] and choose(boxes, 2) == boxes[2]
    with pytest.raises(InputError, match="face 0 asked for"):
        choose(boxes, 0)


@pytest.fixture
def mediapipe():
    return pytest.importorskip("mediapipe", reason="mediapipe (scripts/install_metrics.sh) is not installed")


def contains(box: Box, left: float, top: float, right: float, bottom: float) -> bool:
    return box.x <= left and box.y <= top and box.x + box.w >= right and box.y + box.h >= bottom


# (left, top, right, bottom) of the person, measured by hand: on the fashion clip, the non-white pixels of the
# studio background (saturation > 40 or darker than 120); on the stills, by eye on a ruler overlay.
FASHION = {0: (72, 18, 671, 1056), 50: (162, 33, 613, 1057), 100: (116, 51, 719, 1056)}


def test_the_fashion_clip_body_is_inside_its_box_hands_and_feet_included(mediapipe):
    frames = dict(itertools.islice(enumerate(read_frames(BODIES / "fashion_liveportrait_s13.mp4")), 101))
    for number, person in FASHION.items():
        (box,) = DRIVING_BODIES(frames[number])
        assert contains(box, *person), (number, box)
        assert box.w < 1.5 * (person[2] - person[0]) and box.h < 1.3 * (person[3] - person[1]), (number, box)


def test_stills_body_is_inside_its_box(mediapipe):
    (taichi,) = BodyDetector()(read_image(BODIES / "taichi_lia_subject1.png"))  # 256², TaiChiHD's own crop
    assert contains(taichi, 92, 14, 171, 247) and taichi.w < 130 and taichi.h < 300
    # Cut off at the thighs: hair to the cuffs of both puffed sleeves (the skirt flares wider at the bottom edge).
    (maid,) = BodyDetector()(read_image(BODIES / "fullbody_sadtalker.png"))
    assert contains(maid, 100, 50, 705, 1200) and maid.x > 0 and maid.x + maid.w < 800


def test_a_body_in_a_large_photo_is_found_at_its_place(mediapipe):
    frame = next(read_frames(BODIES / "fashion_liveportrait_s13.mp4"))
    photo = np.empty((3000, 4500, 3), np.uint8)  # past BodyDetector.side: detected on a 4096×2731 copy
    photo[:] = frame[5, 5]  # the studio's white
    photo[400:2560, 2500:3940] = resize(frame, (2160, 1440))  # twice as large, at (2500, 400)
    (box,) = BodyDetector()(photo)
    left, top, right, bottom = FASHION[0]
    assert contains(box, 2500 + 2 * left, 400 + 2 * top, 2500 + 2 * right, 400 + 2 * bottom)
    (alone,) = BodyDetector()(frame)
    assert box.iou(Box(2500 + 2 * alone.x, 400 + 2 * alone.y, 2 * alone.w, 2 * alone.h)) > 0.85


@pytest.mark.parametrize("name", ["uniform", "coffee.png"])
def test_no_person_is_an_empty_list(mediapipe, name):
    image = np.full((720, 1280, 3), 128, np.uint8) if name == "uniform" else read_image(DATA / "images" / name)
    assert BodyDetector()(image) == []


def test_the_pose_model_is_loaded_once_and_quiet(mediapipe, capfd):
    from motrans.evaluate.detectors import shared

    shared.cache_clear()  # a fresh model logs its start-up lines again, which must not reach stderr
    detect._pose.cache_clear()
    try:
        assert BodyDetector()(np.zeros((64, 64, 3), np.uint8)) == []
        assert BodyDetector()(read_image(BODIES / "taichi_lia_subject1.png"))
        assert detect._pose() is detect._pose()
        assert capfd.readouterr().err == ""
    finally:
        shared.cache_clear()
        detect._pose.cache_clear()


def test_without_mediapipe_the_error_says_how_to_install(monkeypatch):
    from motrans.evaluate.detectors import shared

    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import mediapipe now raises ImportError
    shared.cache_clear()
    detect._pose.cache_clear()
    try:
        with pytest.raises(InputError, match=r"body detection needs mediapipe.*bash scripts/install_metrics\.sh"):
            BodyDetector()(np.zeros((64, 64, 3), np.uint8))
    finally:
        shared.cache_clear()
        detect._pose.cache_clear()
