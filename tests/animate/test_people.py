"""Several people with a one-person detector (people.py): on a stand-in detector with MediaPipe's two limits (one
object a call, and only objects that fill a good part of the picture), and on MediaPipe itself where installed."""

import numpy as np
import pytest

from motrans.animate.crop import Box
from motrans.animate.detect import BodyDetector, choose
from motrans.animate.people import Tracker, _starts, find_all
from motrans.data.image import read_image, resize
from tests.conftest import DATA

BODIES = DATA / "bodies"


class OnePerson:
    """Objects are rectangles of distinct nonzero red values on black; one call returns the largest one whose
    height is at least `least` of the picture's (as MediaPipe misses small people), or nothing. Counts calls."""

    def __init__(self, least: float = 0.4):
        self.least, self.calls = least, 0

    def __call__(self, image: np.ndarray) -> list[Box]:
        self.calls += 1
        boxes = []
        for value in np.unique(image[..., 0]):
            if value == 0:
                continue
            ys, xs = np.nonzero(image[..., 0] == value)
            box = Box(xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min())
            if box.h >= self.least * image.shape[0]:
                boxes.append(box)
        return [max(boxes, key=lambda box: box.area)] if boxes else []


def picture(rectangles: dict[int, tuple[int, int, int, int]], size=(600, 900)) -> np.ndarray:
    """{red value: (x, y, w, h)} -> (H, W, 3) uint8 on black."""
    image = np.zeros((*size, 3), np.uint8)
    for value, (x, y, w, h) in rectangles.items():
        image[y:y + h, x:x + w, 0] = value
    return image


def test_painting_over_finds_every_large_person_and_windows_the_small_one():
    people = {50: (40, 100, 150, 400), 100: (300, 60, 200, 500), 150: (700, 420, 60, 120)}  # the last: 20% tall
    found = find_all(picture(people), OnePerson())
    expected = [Box(*people[value]) for value in (100, 50, 150)]  # largest first, then the one only a window sees
    assert found == expected
    assert choose(found, 1) == Box(*people[50]) and choose(found, 3) == Box(*people[150])  # numbered left to right
    assert find_all(picture(people), OnePerson(), most=2) == expected[:2]
    assert find_all(picture({}), OnePerson()) == []


def test_a_third_of_the_short_side_only_where_halves_find_nobody():
    tiny = {90: (500, 500, 40, 70)}  # 12% tall: half-side windows (300 px) see it at 23%, third-side ones at 35%
    assert find_all(picture(tiny), OnePerson(least=0.3)) == [Box(*tiny[90])]
    with_large = {**tiny, 30: (50, 50, 200, 500)}
    assert find_all(picture(with_large), OnePerson(least=0.3)) == [Box(*with_large[30])]


def test_windows_cover_the_picture_to_its_edge():
    for length, side in [(600, 300), (900, 300), (1000, 300), (301, 300), (300, 300), (250, 300)]:
        starts = _starts(length, side)
        assert starts[0] == 0 and starts[-1] + side >= length and all(b - a <= side // 2 for a, b in
                                                                     zip(starts, starts[1:]))


def test_the_tracker_follows_the_chosen_person_not_the_largest():
    detector = OnePerson(least=0.3)
    tracker = Tracker(detector)
    frames = [picture({50: (100 + 8 * t, 100, 120, 300), 100: (500 - 5 * t, 50, 200, 520)}) for t in range(10)]
    first = tracker(frames[0])
    assert len(first) == 2
    small = choose(first, 1)  # the left, smaller one: a plain one-person detector returns only the larger
    for t, frame in enumerate(frames[1:], 1):
        boxes = tracker(frame)
        assert max(boxes, key=small.iou) == Box(100 + 8 * t, 100, 120, 300)
        small = max(boxes, key=small.iou)
    assert detector.calls < 40  # after the first frame: one call a person a frame


def test_lost_tracks_search_again_and_an_empty_clip_stays_cheap():
    detector = OnePerson()
    tracker = Tracker(detector, idle=5)
    assert tracker(picture({60: (100, 100, 200, 400)})) == [Box(100, 100, 200, 400)]
    assert tracker(picture({60: (600, 100, 200, 400)})) == [Box(600, 100, 200, 400)]  # a cut: searched again
    search = OnePerson()
    find_all(picture({}), search)
    assert search.calls == 1 + 15 + 40  # the whole picture, then 300² and 200² windows
    detector.calls = 0
    for _ in range(12):
        assert tracker(picture({})) == []
    # the lost track's window, a full search on the first empty frame and again after `idle` frames; else one call
    assert detector.calls == 1 + 2 * search.calls + 10


@pytest.fixture
def mediapipe():
    return pytest.importorskip("mediapipe", reason="MediaPipe (scripts/install_metrics.sh) is not installed")


def test_two_real_people_are_both_found_and_numbered(mediapipe):
    taichi = read_image(BODIES / "taichi_lia_subject1.png")  # 256², the person at x 92–171
    maid = resize(read_image(BODIES / "fullbody_sadtalker.png"), (600, 400))
    photo = np.full((800, 1600, 3), 200, np.uint8)
    photo[100:356, 150:406] = taichi
    photo[150:750, 1000:1400] = maid
    boxes = find_all(photo, BodyDetector())
    assert len(boxes) == 2
    left, right = choose(boxes, 1), choose(boxes, 2)
    assert 150 + 60 < left.centre[0] < 150 + 200 and 1000 < right.centre[0] < 1400
    assert choose(boxes) == right  # the largest


def test_a_small_real_person_is_found_in_a_window(mediapipe):
    photo = np.full((1200, 1600, 3), 200, np.uint8)
    photo[700:956, 1200:1456] = read_image(BODIES / "taichi_lia_subject1.png")  # 21% of the height
    assert BodyDetector()(photo) == []  # the whole picture alone misses it
    (box,) = find_all(photo, BodyDetector())
    assert 1200 + 80 < box.centre[0] < 1200 + 180 and 700 < box.centre[1] < 956
