"""Boxes, the padded square crop and paste-back (no detector needed)."""

import numpy as np
import pytest

from motrans.animate.crop import Box, PasteOptions, canvas, crop, parse_box, paste_back
from motrans.data.image import read_image, resize
from motrans.errors import InputError
from tests.conftest import DATA

GROUP = DATA / "faces" / "group_six_faces.jpg"  # 1280×886


def test_grow_and_square_keep_the_centre():
    box = Box(10, 20, 40, 20)
    assert box.scaled(2).centre == box.centre == box.squared().centre
    assert box.scaled(2) == Box(-10, 10, 80, 40)
    assert box.squared() == Box(10, 10, 40, 40)


def test_iou_and_union():
    a, b = Box(0, 0, 10, 10), Box(5, 0, 10, 10)
    assert a.iou(a) == 1 and a.iou(Box(20, 20, 5, 5)) == 0
    assert a.iou(b) == pytest.approx(50 / 150)
    assert a.union(b) == Box(0, 0, 15, 10)


def test_parse_box():
    assert parse_box("10, 20.5,30,40", 100, 200) == Box(10, 20.5, 30, 40)
    assert parse_box("-50,-50,60,60", 100, 200) == Box(-50, -50, 60, 60)  # partly outside: padded later


@pytest.mark.parametrize("text, says", [("0,0,0,10", "zero or negative"), ("0,0,10,-1", "zero or negative"),
                                        ("200,0,10,10", "entirely outside"), ("-20,0,10,10", "entirely outside"),
                                        ("a,b,c,d", "not X,Y,W,H"), ("1,2,3", "not X,Y,W,H"),
                                        ("1,2,nan,4", "not X,Y,W,H"), ("", "not X,Y,W,H")])
def test_parse_box_errors_are_one_line_naming_the_file(text, says):
    with pytest.raises(InputError, match=says) as error:
        parse_box(text, 100, 200, name="photo.jpg")
    assert str(error.value).startswith("photo.jpg: ") and "\n" not in str(error.value)


def test_crop_inside_is_the_pixels():
    image = read_image(GROUP)
    assert np.array_equal(crop(image, Box(100, 200, 64, 64), 64), image[200:264, 100:164])
    assert np.array_equal(crop(image, Box(100, 200, 128, 128), 64), resize(image[200:328, 100:228], (64, 64)))


def test_crop_pads_by_edge_replication_instead_of_shifting():
    image = read_image(GROUP)
    out = crop(image, Box(-32, -32, 64, 64), 64)  # centred on the top-left corner
    assert np.array_equal(out[32:, 32:], image[:32, :32])  # the object stays where the box put it
    assert np.array_equal(out[:32, 32:], np.broadcast_to(image[0, :32], (32, 32, 3)))  # rows above: row 0
    assert np.array_equal(out[:32, :32], np.broadcast_to(image[0, 0], (32, 32, 3)))


def test_a_one_pixel_wide_image_does_not_crash():
    image = np.arange(30, dtype=np.uint8).reshape(10, 1, 3)
    box = parse_box("0,0,1,10", 10, 1)
    assert crop(image, box.squared(), 8).shape == (8, 8, 3)
    frame = paste_back(canvas(image, box), np.zeros((8, 8, 3), np.uint8))
    assert frame.shape == (10, 2, 3)


def test_a_huge_box_costs_the_output_not_the_box():
    image = read_image(GROUP)
    huge = Box(-100_000, -100_000, 200_000, 200_000)  # 40 gigapixels if it were materialised
    out = crop(image, huge, 64)
    assert out.shape == (64, 64, 3)
    assert (out == out[32, 32]).all()  # the image is under one output pixel, replicated to the edges
    frame = paste_back(canvas(image, huge), np.full((64, 64, 3), 9, np.uint8))
    assert (frame == 9).all()  # the whole image lies deep inside the box
    assert crop(image, Box(5000, 5000, 10, 10), 8).shape == (8, 8, 3)  # wholly outside: the nearest edge


def _outside(shape, window):
    """(H, W) bool: True outside the window (x0, y0, x1, y1)."""
    left, top, right, bottom = window
    mask = np.ones(shape[:2], bool)
    mask[top:bottom, left:right] = False
    return mask


def test_paste_back_leaves_every_pixel_outside_the_box_unchanged():
    source = read_image(DATA / "faces" / "sadtalker_happy1_rgba.png")[:, :, :3]  # 221×226: odd width
    box = Box(150, -20, 100, 100)  # leaves the image top and right
    target = canvas(source, box)
    frame = paste_back(target, np.full((64, 64, 3), 7, np.uint8))
    assert frame.shape == (226, 220, 3)  # even sides for H.264
    assert target.window == (150, 0, 220, 80)
    outside = _outside(frame.shape, target.window)
    assert np.array_equal(frame[outside], source[:226, :220][outside])
    assert (frame[10:70, 160:219] == 7).all()  # inside the box, past the feather: the crop
    assert (frame[:80, 150:] != source[:80, 150:220]).any()


def test_paste_back_without_feather_shows_the_crop_exactly():
    source = read_image(GROUP)
    animated = read_image(DATA / "faces" / "vox_lia_monroe.png")
    frame = paste_back(canvas(source, Box(300, 200, 256, 256), PasteOptions(feather=0)), animated)
    assert np.array_equal(frame[200:456, 300:556], animated)
    assert np.array_equal(frame[:200], source[:200]) and np.array_equal(frame[456:], source[456:])


def test_max_side_scales_the_whole_output_down():
    source = read_image(GROUP)
    target = canvas(source, Box(600, 300, 200, 200), PasteOptions(max_side=640))
    assert target.scale == 0.5 and target.window == (300, 150, 400, 249)  # y: 442/886
    frame = paste_back(target, np.zeros((64, 64, 3), np.uint8))
    assert frame.shape == (442, 640, 3)  # 443 rounded down to even
    outside = _outside(frame.shape, target.window)
    assert np.array_equal(frame[outside], resize(source, (442, 640))[outside])


@pytest.mark.parametrize("box", [Box(300, 200, 600, 600), Box(-100, -50, 500, 500), Box(1000, 700, 400, 400)])
def test_paste_back_blends_by_the_mask_and_copies_where_it_is_one(box):
    """Black and white crops into a mid-grey picture: each output pixel is rint(128 (1 - m) + 255 m) for the
    mask m, whether it lies in the copied middle or in the blended band; and the middle is the crop itself."""
    source = np.full((886, 1280, 3), 128, np.uint8)
    target = canvas(source, box)
    x0, y0, x1, y1 = target.window
    mask = target.mask[..., 0]
    white = paste_back(target, np.full((64, 64, 3), 255, np.uint8))[y0:y1, x0:x1, 0]
    black = paste_back(target, np.zeros((64, 64, 3), np.uint8))[y0:y1, x0:x1, 0]
    assert np.array_equal(white, np.rint(np.float32(128) * (1 - mask) + np.float32(255) * mask).astype(np.uint8))
    assert np.array_equal(black, np.rint(np.float32(128) * (1 - mask)).astype(np.uint8))
    ix0, iy0, ix1, iy1 = target.inner
    assert (mask[iy0:iy1, ix0:ix1] == 1).all() and (mask == 1).sum() == (ix1 - ix0) * (iy1 - iy0) > 0
    assert 0 < (mask < 1).sum() < 0.35 * mask.size  # the band is a thin frame
