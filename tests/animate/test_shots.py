"""Steady driving boxes: scene cuts, following one object, one box per stretch."""

import itertools

import numpy as np
import pytest

from motrans.animate.crop import Box
from motrans.animate.detect import DRIVING_FACES
from motrans.animate.shots import PlanOptions, Stretch, follow, plan, survey
from motrans.data.image import resize
from motrans.data.video import read_frames
from motrans.errors import InputError
from tests.conftest import DATA

FACES = DATA / "faces"
HEAD = Box(100, 100, 50, 50)


@pytest.fixture(scope="module")
def landscape():
    """The first 60 frames of the 1280×720 clip with an off-centre face."""
    return list(itertools.islice(read_frames(FACES / "liveportrait_s18_landscape.mp4"), 60))


@pytest.fixture(scope="module")
def with_cut(landscape):
    """30 frames of the landscape clip, then 30 of a VoxCeleb clip (at 720², left of a 1280×720 black frame): a cut
    at frame 30, and the new face left of the old one."""
    other = itertools.islice(read_frames(FACES / "vox_lia_driving2.mp4"), 30)
    return landscape[:30] + [np.pad(resize(frame, (720, 720)), ((0, 0), (0, 560), (0, 0))) for frame in other]


def test_cuts_are_found_at_the_join_only(with_cut):
    detections, cuts = survey(with_cut, lambda frame: [], every=1)
    assert [i for i, cut in enumerate(cuts) if cut] == [30]
    assert detections == [[]] * 60


def test_a_fast_pan_is_not_a_cut(landscape):
    panned = [np.roll(frame, 40 * i, axis=1) for i, frame in enumerate(landscape[:12])]  # 1000 px/s at 25 fps
    assert survey(panned, lambda frame: [])[1] == [False] * 12


def test_one_steady_box_while_the_object_stays():
    followed = [Box(100 + i % 3, 100, 50, 50) for i in range(20)]  # jitters by a pixel or two
    (stretch,) = plan(followed, [False] * 20)
    assert (stretch.start, stretch.end) == (0, 20)
    assert stretch.box == Box(75, 75, 102, 100).squared()  # the union of the frames' crops (50 grown to 100)


def test_a_new_stretch_where_the_object_leaves_the_box_or_at_a_cut():
    followed = [HEAD] * 5 + [Box(300, 100, 50, 50)] * 5 + [Box(300, 100, 50, 50)] * 5
    cuts = [False] * 10 + [True] + [False] * 4
    stretches = plan(followed, cuts, PlanOptions(scale=1))
    assert [(s.start, s.end) for s in stretches] == [(0, 5), (5, 10), (10, 15)]
    assert stretches[0].box == HEAD and stretches[1].box == Box(300, 100, 50, 50)


def test_missed_frames_reuse_the_current_box():
    followed = [None, None, HEAD, None, HEAD, None]
    assert plan(followed, [False] * 6, PlanOptions(scale=1)) == [Stretch(0, 6, HEAD)]
    cuts = [False, False, False, True, False, False]
    stretches = plan([HEAD, None, None, None, None, None], cuts, PlanOptions(scale=1))
    # a shot with no detection keeps the box, and says it found nothing there
    assert stretches == [Stretch(0, 3, HEAD), Stretch(3, 6, HEAD, detected=False)]


def test_no_detection_anywhere_is_one_error_naming_the_file():
    with pytest.raises(InputError, match=r"^phone.mp4: no object detected in any frame; use --crop none"):
        plan([None] * 4, [False] * 4, name="phone.mp4")


def test_follow_keeps_the_object_chosen_in_the_first_frame():
    left, right = Box(0, 0, 40, 40), Box(200, 0, 60, 60)  # right is larger
    detections = [[right, left]] + [[Box(200 + i, 0, 60, 60), Box(i, 0, 40, 40)] for i in range(1, 5)]
    assert follow(detections, [False] * 5, number=1) == [Box(i, 0, 40, 40) for i in range(5)]
    assert follow(detections, [False] * 5) == [Box(200 + i, 0, 60, 60) for i in range(5)]
    with pytest.raises(InputError, match="face 3 asked for, but 2 found"):
        follow(detections, [False] * 5, number=3)


def test_follow_misses_skips_and_reacquires():
    gone, back = [[]] * 3, [[Box(500, 0, 50, 50)]]
    followed = follow([[HEAD], None] + gone + back, [False] * 6, lost_after=3)
    assert followed == [HEAD, None, None, None, None, Box(500, 0, 50, 50)]  # it left and came back elsewhere
    followed = follow([[HEAD]] + gone + back, [False] * 5, lost_after=10)
    assert followed[-1] is None  # not long enough gone: someone else elsewhere is not it
    assert follow([[HEAD], [Box(500, 0, 50, 50)]], [False, True])[-1] == Box(500, 0, 50, 50)  # a cut: choose again


def test_real_clip_one_stretch_around_the_off_centre_face(landscape):
    pytest.importorskip("dlib", reason="dlib-bin (the crop extra) is not installed")
    detections, cuts = survey(landscape, DRIVING_FACES, every=3)
    followed = follow(detections, cuts)
    assert sum(box is not None for box in followed) == 20  # found in every frame it looked at
    (stretch,) = plan(followed, cuts)
    assert stretch.box.centre[0] > 640 + 100  # the face is right of centre
    for box in filter(None, followed):
        assert stretch.box.union(box) == stretch.box  # every detection inside the steady box


def test_real_subject_leaves_and_comes_back(landscape):
    pytest.importorskip("dlib", reason="dlib-bin (the crop extra) is not installed")
    panned = [np.roll(frame, 40 * i, axis=1) for i, frame in enumerate(landscape[:20])]  # out right, in left
    detections, cuts = survey(panned, DRIVING_FACES)
    followed = follow(detections, cuts, lost_after=2)
    gone = [i for i, box in enumerate(followed) if box is None]
    assert gone and followed[gone[-1] + 1].centre[0] < 300  # found again on the left
    stretches = plan(followed, cuts)
    assert stretches[0].start == 0 and stretches[-1].end == 20
    for stretch in stretches:
        for box in filter(None, followed[stretch.start:stretch.end]):
            assert stretch.box.union(box) == stretch.box


def test_real_cut_starts_a_new_stretch_with_the_new_face(with_cut):
    pytest.importorskip("dlib", reason="dlib-bin (the crop extra) is not installed")
    detections, cuts = survey(with_cut, DRIVING_FACES, every=5)
    stretches = plan(follow(detections, cuts), cuts)
    assert [(s.start, s.end) for s in stretches] == [(0, 30), (30, 60)]
    assert stretches[1].box.centre[0] < 640 < stretches[0].box.centre[0]
