"""Reading any still image as RGB uint8, and bringing frames to the model's size.

Accepted: RGB, RGBA (composited on white), grayscale, palette, 16-bit PNG, EXIF-rotated JPEG. `fit` keeps the
aspect ratio by centre crop (default) or padding, or stretches like the authors' resize; a frame already at the
model size is returned untouched, so results match the authors' code where the arithmetic allows.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError

FRAME_EXTENSIONS = (".png", ".jpg", ".jpeg")
FITS = ("crop", "pad", "stretch")
# Above the largest phone photos (200 MP), below a 20000² bomb (400 MP); PIL's own limit (2 × 89.5 MP) is raised
# to this while we open an image.
MAX_PIXELS = 300_000_000


def read_image(path: str | Path) -> np.ndarray:
    """Any image file -> (H, W, 3) uint8 RGB."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such image file")
    try:
        with warnings.catch_warnings(), _bomb_limit(Image, MAX_PIXELS):
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # below our limit: an ordinary photo
            with Image.open(path) as image:
                _check_size(path, image.size)  # from the header, before a byte of pixels is decoded
                image = ImageOps.exif_transpose(image)
                return to_rgb(image)
    except Image.DecompressionBombError as error:  # PIL's own limit, checked inside open()
        claimed = re.search(r"\((\d+) pixels\)", str(error))
        size = f"{int(claimed[1]) / 1e6:.0f} megapixels" if claimed else f"over {MAX_PIXELS // 10**6} megapixels"
        raise InputError(f"{path}: the image claims {size}, more than the {MAX_PIXELS // 10**6}-megapixel "
                         "limit; shrink it first") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else "unknown format"
        raise InputError(f"{path}: not a readable image ({reason})") from None


@contextlib.contextmanager
def _bomb_limit(Image, pixels: int):
    """PIL refuses images over 2 × MAX_IMAGE_PIXELS inside open(): that limit becomes ours while we open one."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = pixels // 2
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _check_size(path: Path, size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise InputError(f"{path}: the image is {width}x{height} ({width * height / 1e6:.0f} megapixels), more than "
                         f"the {MAX_PIXELS // 10**6}-megapixel limit; shrink it first")


def to_rgb(image) -> np.ndarray:
    """A PIL image of any mode -> (H, W, 3) uint8; alpha is composited on white, 16-bit scaled to 8."""
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / peak * 255 + 0.5, 0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def fit(frame: np.ndarray, size: tuple[int, int], mode: str = "crop") -> np.ndarray:
    """(H, W, 3) uint8 -> (h, w, 3) uint8 at `size` = (h, w): centre crop, pad (edge-replicated) or stretch."""
    if mode not in FITS:
        raise InputError(f"unknown fit {mode!r}: use one of {', '.join(FITS)}")
    height, width = frame.shape[:2]
    if (height, width) == tuple(size):
        return frame
    target = size[0] / size[1]
    if mode == "crop":
        frame = _crop(frame, target)
    elif mode == "pad":
        frame = _pad(frame, target)
    return resize(frame, size)


def _crop(frame: np.ndarray, aspect: float) -> np.ndarray:
    height, width = frame.shape[:2]
    if height / width > aspect:
        new = round(width * aspect)
        top = (height - new) // 2
        return frame[top: top + new]
    new = round(height / aspect)
    left = (width - new) // 2
    return frame[:, left: left + new]


def _pad(frame: np.ndarray, aspect: float) -> np.ndarray:
    height, width = frame.shape[:2]
    if height / width > aspect:
        extra = round(height / aspect) - width
        return np.pad(frame, ((0, 0), (extra // 2, extra - extra // 2), (0, 0)), mode="edge")
    extra = round(width * aspect) - height
    return np.pad(frame, ((extra // 2, extra - extra // 2), (0, 0), (0, 0)), mode="edge")


def resize(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Antialiased resize to (h, w); Lanczos when shrinking, bicubic when enlarging."""
    from PIL import Image

    image = Image.fromarray(frame)
    shrinking = size[0] < frame.shape[0] or size[1] < frame.shape[1]
    method = Image.Resampling.LANCZOS if shrinking else Image.Resampling.BICUBIC
    return np.asarray(image.resize((size[1], size[0]), method), dtype=np.uint8)
