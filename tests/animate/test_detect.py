"""Face detection (dlib HOG from dlib-bin, the `crop` extra): tests that need it skip without it."""

import sys

import numpy as np
import pytest

from motrans.animate import detect
from motrans.animate.crop import Box
from motrans.animate.detect import FaceDetector, choose, left_to_right, shrunk
from motrans.data.image import read_image, resize
from motrans.errors import InputError
from tests.conftest import DATA

FACES = DATA / "faces"


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
