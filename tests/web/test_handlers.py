"""The page's handlers without a browser (nor Gradio): uploads, the CLI's words, path safety, jobs, cancel, models."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from motrans.cli import main
from motrans.errors import InputError, MotransError
from motrans.web.handlers import Cancelled, Job, check_driving, check_source, error_line, form_options, received, \
    run_job, Watched
from motrans.web.jobs import Jobs
from motrans.web.models import Models, load_models, model_files
from tests.conftest import DATA, make_video

GIF = DATA / "animals" / "mgif_aa_cat_driving.gif"  # 15 frames at 10 fps
SOURCE = DATA / "animals" / "mgif_fomm_source1.png"
WITH_AUDIO = DATA / "faces" / "tpsmm_driving.mp4"


@pytest.fixture(scope="module")
def models() -> Models:
    return load_models(model_files([], None), "cpu")


@pytest.fixture
def place(tmp_path):
    """(upload folder, job folder): where Gradio puts uploads, and a visitor's folder."""
    uploads, job = tmp_path / "uploads", tmp_path / "jobs" / "visitor"
    uploads.mkdir()
    job.mkdir(parents=True)
    return uploads, job


def upload(uploads, name: str, data: bytes):
    """A file as Gradio stores an upload (a hashed folder) and the payload the page sends for it."""
    folder = uploads / "0123abcd"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    return {"path": str(folder / name), "orig_name": name}


def cli_line(tmp_path, monkeypatch, capsys, source: str, driving: str) -> str:
    """What `motrans animate` prints for these files, run in the folder that holds them."""
    monkeypatch.chdir(tmp_path)
    assert main(["animate", "--source", source, "--driving", driving, "--output", "out.mp4"]) == 1
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_a_text_file_named_png_gets_the_cli_words(place, tmp_path, monkeypatch, capsys):
    uploads, job = place
    path = received(upload(uploads, "notes.png", b"not an image\n"), [uploads], job)
    with pytest.raises(InputError) as refused:
        check_source(path)
    shown = error_line(refused.value, job)
    (tmp_path / "notes.png").write_bytes(b"not an image\n")
    assert shown == cli_line(tmp_path, monkeypatch, capsys, "notes.png", str(GIF))
    assert shown.startswith("motrans: error: notes.png: not a readable image")


def test_a_corrupt_video_gets_the_cli_words(place, tmp_path, monkeypatch, capsys):
    uploads, job = place
    head = WITH_AUDIO.read_bytes()[:4096]
    path = received(upload(uploads, "clip.mp4", head), [uploads], job)
    with pytest.raises(InputError) as refused:
        check_driving(path, 120)
    (tmp_path / "clip.mp4").write_bytes(head)
    assert error_line(refused.value, job) == cli_line(tmp_path, monkeypatch, capsys, str(SOURCE), "clip.mp4")


def test_a_crafted_path_is_refused(place, tmp_path):
    uploads, job = place
    for payload in ({"path": "/etc/passwd", "orig_name": "a.png"}, str(uploads / ".." / ".." / "secret"), None):
        with pytest.raises(InputError):
            received(payload, [uploads], job)
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"x")
    (uploads / "link.png").symlink_to(outside)  # inside by name, outside in fact
    with pytest.raises(InputError, match="not a file uploaded to this page"):
        received(str(uploads / "link.png"), [uploads], job)
    kept = received(upload(uploads, "a.png", b"x") | {"orig_name": "../../../etc/evil.png"}, [uploads], job)
    assert kept == job / "evil.png" and kept.read_bytes() == b"x"


def test_a_video_longer_than_the_limit_is_refused(place):
    uploads, job = place
    path = received(upload(uploads, GIF.name, GIF.read_bytes()), [uploads], job)
    assert check_driving(path, 2.0) == pytest.approx(1.5)
    with pytest.raises(InputError) as refused:
        check_driving(path, 1.0)
    assert error_line(refused.value, job) == ("motrans: error: mgif_aa_cat_driving.gif: the video lasts 1.5 s, more "
                                              "than this page's limit of 1 s (motrans web --max-seconds)")


def test_a_job_writes_h264_with_the_driving_audio_and_reports_each_frame(models, place):
    import av

    _, job = place
    driving = make_video(job / "talk.mp4", _frames(WITH_AUDIO, 3), fps=25, audio_from=WITH_AUDIO)
    reports = []
    out = run_job(Job(SOURCE, driving, models.labels[0]), models, job, threading.Event(),
                  lambda done, total, line: reports.append((done, total, line)))
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.name, video.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert container.streams.audio and sum(1 for _ in container.decode(video)) == 3
    assert [r[:2] for r in reports] == [(1, 3), (2, 3), (3, 3)] and "3/3" in reports[-1][2]


def test_cancel_stops_the_job_and_leaves_no_output(models, place):
    _, job = place
    cancel = threading.Event()
    with pytest.raises(Cancelled):
        run_job(Job(SOURCE, GIF, models.labels[0], options=form_options(batch_size=1)), models, job, cancel,
                lambda *_: cancel.set())
    assert not list(job.glob("*.mp4")) and not list(job.glob(".*"))


def test_keypoints_are_drawn_on_the_result(models):
    from motrans.data.image import read_image

    animator = models.get(models.labels[0])
    source, driving = read_image(SOURCE), _frames(GIF, 1)
    plain = next(animator.animate(source, driving))
    marked = next(Watched(animator, lambda: None, threading.Event(), keypoints=True).animate(source, driving))
    changed = np.abs(plain.astype(int) - marked.astype(int)).max(axis=2) > 40
    assert 0.001 < changed.mean() < 0.2  # small discs, not another picture


def test_form_values_become_the_cli_options():
    options = form_options(mode="absolute", adapt_scale="off", crop="face", crop_scale=None, object=2.0,
                           driving_crop=" ", paste_back="on", fps="", smooth=0, max_side=1024.0, batch_size=None)
    assert (options.mode, options.adapt_scale, options.crop, options.object, options.driving_crop) == \
        ("absolute", False, "face", 2, None)
    assert (options.paste_back, options.fps, options.smooth, options.max_side, options.batch_size) == \
        (True, None, 0.0, 1024, 4)
    assert form_options(object=1.5).object == 1.5  # left for animate_video's check: "--object: must be whole"
    assert (options.start, options.end) == (0.0, None)
    assert (form_options(start="1.5", end=3).start, form_options(start="1.5", end=3).end) == (1.5, 3)
    with pytest.raises(InputError, match="adapt scale 'sometimes'"):
        form_options(adapt_scale="sometimes")


def test_job_folders_go_when_the_visitor_leaves_or_after_an_hour(tmp_path):
    jobs = Jobs(tmp_path, max_age=3600)
    a, b = jobs.folder("alice"), jobs.folder("bob")
    (a / "x.png").write_bytes(b"x")
    switch = jobs.cancel_switch("alice")
    jobs.leave("alice")
    assert not a.exists() and switch.is_set() and b.exists()
    assert jobs.sweep(time.monotonic() + 3000) == [] and b.exists()
    assert jobs.sweep(time.monotonic() + 3700) == ["bob"] and not b.exists()
    for crafted in ("../outside", "a/b", "..", ""):
        with pytest.raises(InputError):
            jobs.folder(crafted)


def test_models_that_fail_to_load_are_reported_and_left_out(models, tmp_path):
    from motrans.packaged import packaged_model_path

    (tmp_path / "good.safetensors").write_bytes(packaged_model_path().read_bytes())
    (tmp_path / "broken.safetensors").write_bytes(b"\x00" * 64)
    (tmp_path / "lonely.pth.tar").write_bytes(b"no yaml beside me")
    found = load_models(model_files(None, str(tmp_path)), "cpu")
    assert found.labels == ["good (motrans, whole frames)"]
    assert len(found.failures) == 1 and "broken.safetensors" in found.failures[0]
    assert models.labels == ["motrans-puppets128 (motrans, whole frames)"]
    with pytest.raises(InputError, match="not one of this page's models"):
        models.get("/etc/passwd")
    half = models.get(models.labels[0], "bfloat16")
    assert half.model is models.get(models.labels[0]).model and str(half.dtype) == "torch.bfloat16"


def test_another_address_than_loopback_is_warned_about(capsys):
    from motrans.web.server import WebOptions, _check

    _check(WebOptions(host="127.0.0.1"))
    assert capsys.readouterr().err == ""
    _check(WebOptions(host="0.0.0.0"))
    assert "anyone who can reach this machine" in capsys.readouterr().err
    with pytest.raises(InputError, match="--port"):
        _check(WebOptions(port=70000))


def _frames(path, count: int) -> list[np.ndarray]:
    from itertools import islice

    from motrans.data.video import read_frames

    return list(islice(read_frames(path), count))


def test_the_second_tab_draws_what_the_model_sees(models, tmp_path, monkeypatch, capsys):
    from motrans.web.handlers import explain_picture

    picture = explain_picture(models, models.labels[0], SOURCE, tokens="0")
    assert picture.dtype == np.uint8 and picture.ndim == 3 and (picture < 200).any()  # panels, not a blank page
    with pytest.raises(MotransError) as refused:
        explain_picture(models, models.labels[0], SOURCE, tokens="0,x")
    monkeypatch.chdir(tmp_path)
    assert main(["explain", "--image", str(SOURCE), "--out", "figures", "--tokens", "0,x"]) == 1
    assert error_line(refused.value) == capsys.readouterr().err.strip().splitlines()[-1]
