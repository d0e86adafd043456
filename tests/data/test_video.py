import numpy as np
import pytest

from motrans.data.video import VideoWriter, output_kind, probe, read_frames
from motrans.errors import InputError

from ..conftest import DATA, make_video


def test_containers_read_with_their_counts():
    for name, frames in [("faces/vox_lia_obama_long.mov", 1169), ("faces/sadtalker_ref_mpeg4.mp4", 200),
                         ("animals/mgif_aa_cat_driving.gif", 15)]:
        info = probe(DATA / name)
        assert info.frames == frames
    first = next(read_frames(DATA / "faces" / "tpsmm_driving.mp4"))
    assert first.shape == (412, 410, 3) and first.dtype == np.uint8


def test_frames_directory_in_name_order(tmp_path):
    from PIL import Image

    for i, value in enumerate([30, 10, 20]):
        Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(tmp_path / f"f{[2, 0, 1][i]}.png")
    assert [f[0, 0, 0] for f in read_frames(tmp_path)] == [10, 20, 30]
    assert probe(tmp_path, fps=12).fps == 12


def test_writer_is_atomic(tmp_path):
    target = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(target, 25) as writer:
            writer.write(np.zeros((16, 16, 3), np.uint8))
            raise RuntimeError("killed halfway")
    assert list(tmp_path.iterdir()) == []


def test_audio_is_cut_to_the_video(tmp_path):
    out = make_video(tmp_path / "short.mp4", [np.zeros((16, 16, 3), np.uint8)] * 10, 25,
                     audio_from=DATA / "faces" / "vox_lia_driving2.mp4")
    import av

    with av.open(str(out)) as container:
        assert container.streams.audio and float(container.duration / 1e6) < 1.0


def test_output_kinds(tmp_path):
    assert output_kind(tmp_path / "a.MP4") == "mp4" and output_kind(tmp_path / "a.gif") == "gif"
    assert output_kind(f"{tmp_path}/new/") == "frames" and output_kind(tmp_path) == "frames"
    assert output_kind(tmp_path / "a.webm") == "webm" and output_kind(tmp_path / "new_folder") == "frames"
    with pytest.raises(InputError, match="unknown output type '.avi'"):
        output_kind(tmp_path / "a.avi")
