"""Bad input to `motrans animate`: one line `motrans: error: …` naming the file, non-zero exit, no output."""

import os
import pickle
import shutil

import pytest
import torch

from motrans.checkpoints.io import write_safetensors
from motrans.cli import main
from motrans.config import config_to_dict, load_config
from motrans.models import build_model

from ..conftest import DATA, REFERENCE, TINY

SOURCE = DATA / "faces" / "vox_lia_macron.png"
DRIVING = DATA / "faces" / "vox_dagan_driving.mp4"


def run(capsys, tmp_path, checkpoint, source=SOURCE, driving=DRIVING, output=None, extra=()):
    output = output or tmp_path / "out" / "result.mp4"
    os.makedirs(tmp_path / "out", exist_ok=True)
    code = main(["animate", "--checkpoint", str(checkpoint), "--source", str(source), "--driving", str(driving),
                 "--output", str(output), "--device", "cpu", *extra])
    err = capsys.readouterr().err
    return code, err, output


def assert_refused(code, err, output, tmp_path, *needles):
    lines = [line for line in err.splitlines() if line.startswith("motrans: error: ")]
    assert code != 0 and len(lines) == 1, err
    assert all(str(n) in lines[0] for n in needles), lines[0]
    assert not os.path.exists(output)
    assert os.listdir(tmp_path / "out") == []  # no temporary left behind either


def test_missing_source(capsys, tmp_path, tiny_checkpoint):
    code, err, out = run(capsys, tmp_path, tiny_checkpoint, source=tmp_path / "nope.png")
    assert_refused(code, err, out, tmp_path, "nope.png", "no such image")


def test_text_file_named_png(capsys, tmp_path, tiny_checkpoint):
    fake = tmp_path / "fake.png"
    fake.write_text("I am not an image\n")
    code, err, out = run(capsys, tmp_path, tiny_checkpoint, source=fake)
    assert_refused(code, err, out, tmp_path, "fake.png", "not a readable image")


@pytest.mark.parametrize("size", [0, 4096])
def test_truncated_or_empty_video(capsys, tmp_path, tiny_checkpoint, size):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(DRIVING.read_bytes()[:size])
    code, err, out = run(capsys, tmp_path, tiny_checkpoint, driving=broken)
    assert_refused(code, err, out, tmp_path, "broken.mp4")


def test_video_with_no_decodable_frame(capsys, tmp_path, tiny_checkpoint):
    data = bytearray(DRIVING.read_bytes())
    start = data.find(b"mdat") + 8
    data[start:] = bytes(len(data) - start)  # container intact, every frame's bytes zeroed
    broken = tmp_path / "zeros.mp4"
    broken.write_bytes(bytes(data))
    code, err, out = run(capsys, tmp_path, tiny_checkpoint, driving=broken)
    assert_refused(code, err, out, tmp_path, "zeros.mp4")


def test_empty_frames_directory(capsys, tmp_path, tiny_checkpoint):
    (tmp_path / "frames").mkdir()
    code, err, out = run(capsys, tmp_path, tiny_checkpoint, driving=tmp_path / "frames")
    assert_refused(code, err, out, tmp_path, "frames", "no PNG or JPG frames")


def test_checkpoint_problems(capsys, tmp_path, tiny_checkpoint):
    code, err, out = run(capsys, tmp_path, tmp_path / "missing.safetensors")
    assert_refused(code, err, out, tmp_path, "missing.safetensors", "no such checkpoint")

    text = tmp_path / "notes.pth.tar"
    text.write_text("just text")
    assert_refused(*run(capsys, tmp_path, text), tmp_path, "notes.pth.tar")

    evil = tmp_path / "evil.pth.tar"
    with open(evil, "wb") as handle:
        pickle.dump({"kp_detector": Payload()}, handle)
    assert_refused(*run(capsys, tmp_path, evil), tmp_path, "evil.pth.tar", "refused")

    config = load_config(TINY)
    state = build_model(config.model).state_dict()
    state["dense_motion.mask.bias"] = torch.full_like(state["dense_motion.mask.bias"], float("inf"))
    nan = tmp_path / "inf.safetensors"
    write_safetensors(nan, state, config_to_dict(config))
    assert_refused(*run(capsys, tmp_path, nan), tmp_path, "inf.safetensors", "NaN or Inf")


def test_checkpoint_that_does_not_fit_its_config(capsys, tmp_path, tiny_checkpoint):
    config = REFERENCE / "mtia_configs" / "voxceleb1.yaml"
    code, err, out = run(capsys, tmp_path, tiny_checkpoint, extra=("--config", str(config)))
    assert_refused(code, err, out, tmp_path, "tiny.safetensors", "does not fit")


class Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_unknown_output_extension(capsys, tmp_path, tiny_checkpoint):
    code, err, out = run(capsys, tmp_path, tiny_checkpoint, output=tmp_path / "out" / "result.avi")
    assert_refused(code, err, out, tmp_path, "result.avi", "unknown output type")


def test_output_directory_not_writable(capsys, tmp_path, tiny_checkpoint):
    locked = tmp_path / "out" / "locked"
    (tmp_path / "out").mkdir()
    if os.geteuid() == 0:  # root writes through permission bits; a path inside a file cannot be written by anyone
        target = tmp_path / "out" / "a-file"
        target.write_text("")
        code, err, out = run(capsys, tmp_path, tiny_checkpoint, output=target / "result.mp4")
        assert code != 0 and "motrans: error: " in err and str(target) in err
        target.unlink()
        return
    locked.mkdir()
    locked.chmod(0o500)
    code, err, out = run(capsys, tmp_path, tiny_checkpoint, output=locked / "result.mp4")
    locked.chmod(0o700)
    shutil.rmtree(locked)
    assert_refused(code, err, out, tmp_path, "locked", "not writable")


def test_cuda_when_there_is_none(capsys, tmp_path, tiny_checkpoint):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code = main(["animate", "--checkpoint", str(tiny_checkpoint), "--source", str(SOURCE), "--driving", str(DRIVING),
                 "--output", str(tmp_path / "out.mp4"), "--device", "cuda"])
    err = capsys.readouterr().err
    assert code != 0 and err.count("motrans: error: ") == 1 and "CUDA" in err
    assert not (tmp_path / "out.mp4").exists()


def test_authors_flag_spellings(capsys, tmp_path, tiny_checkpoint):
    out = tmp_path / "flags.mp4"
    code = main(["animate", "--checkpoint", str(tiny_checkpoint), "--source_image", str(SOURCE), "--driving_video",
                 str(DATA / "animals" / "mgif_aa_cat_driving.gif"), "--result_video", str(out), "--relative",
                 "--adapt_scale", "--device", "cpu"])
    assert code == 0 and out.is_file()
