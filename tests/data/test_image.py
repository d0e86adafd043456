import numpy as np
import pytest
from PIL import Image

from motrans.data.image import fit, read_image
from motrans.errors import InputError

from ..conftest import DATA


def test_modes_all_become_rgb_uint8(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    paths = {}
    Image.fromarray(rgb).convert("P").save(paths.setdefault("palette", tmp_path / "p.png"))
    Image.fromarray(rgb).convert("L").save(paths.setdefault("gray", tmp_path / "g.png"))
    Image.fromarray((rgb[..., 0].astype(np.uint16) * 257)).save(paths.setdefault("16bit", tmp_path / "16.png"))
    rgba = np.dstack([rgb, np.full((20, 30), 255, np.uint8)])
    Image.fromarray(rgba).save(paths.setdefault("rgba", tmp_path / "a.png"))
    for name, path in paths.items():
        image = read_image(path)
        assert image.dtype == np.uint8 and image.shape == (20, 30, 3), name
    assert np.array_equal(read_image(paths["rgba"]), rgb)
    assert np.array_equal(read_image(paths["16bit"])[..., 0], rgb[..., 0])


def test_transparent_pixels_become_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    Image.fromarray(rgba).save(tmp_path / "clear.png")
    assert (read_image(tmp_path / "clear.png") == 255).all()


def test_exif_rotation_is_applied(tmp_path):
    image = Image.fromarray(np.zeros((10, 20, 3), np.uint8))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    image.save(tmp_path / "rot.jpg", exif=exif)
    assert read_image(tmp_path / "rot.jpg").shape == (20, 10, 3)


def test_real_inputs():
    assert read_image(DATA / "faces" / "avatarify_einstein_gray.jpg").shape == (1200, 1200, 3)
    assert read_image(DATA / "faces" / "rick_rgba.png").shape == (256, 256, 3)


def test_unreadable(tmp_path):
    (tmp_path / "x.png").write_text("text")
    with pytest.raises(InputError, match="x.png: not a readable image"):
        read_image(tmp_path / "x.png")
    with pytest.raises(InputError, match="no such image"):
        read_image(tmp_path / "y.png")


def test_fit_modes():
    tall = np.zeros((100, 50, 3), np.uint8)
    tall[:25] = 255  # a white band at the top: cropped away by "crop", kept by "pad" and "stretch"
    assert fit(tall, (64, 64), "crop").max() == 0
    assert fit(tall, (64, 64), "pad").shape == (64, 64, 3) and fit(tall, (64, 64), "pad")[0].min() == 255
    assert fit(tall, (64, 64), "stretch")[:10].min() == 255
    same = np.ones((64, 64, 3), np.uint8)
    assert fit(same, (64, 64), "crop") is same  # already the model's size: untouched
    with pytest.raises(InputError, match="unknown fit"):
        fit(tall, (64, 64), "zoom")
