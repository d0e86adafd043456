"""`motrans web` end to end in a real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium).

The server runs as a subprocess on a free port with the packaged model; every name the browser resolves other than
127.0.0.1 is mapped to nowhere, and the performance log must show no request leaving the machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import DATA

pytest.importorskip("gradio", reason="the [web] extra is not installed: pip install -e '.[web]'")
pytest.importorskip("selenium", reason="the [web] extra is not installed: pip install -e '.[web]'")
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("no Chromium here: apt-get install chromium chromium-driver (.ci/run does, as root)",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SOURCE = DATA / "animals" / "mgif_fomm_source1.png"
OTHER_SOURCE = DATA / "animals" / "mgif_fomm_source2.png"
DRIVING = DATA / "animals" / "mgif_aa_cat_driving.gif"  # 15 frames at 10 fps (MANIFEST): 1.5 s
FRAMES, SECONDS = 15, 1.5
LONG = DATA / "faces" / "tpsmm_driving.mp4"  # 169 frames: long enough to cancel
WAIT = 240  # seconds for a job on a loaded 2-core machine; an idle one needs a few


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`motrans web` on a free port, stopped (SIGTERM) after the module's tests."""
    log = tmp_path_factory.mktemp("web") / "server.log"
    port = _free_port()
    with open(log, "w") as handle:
        process = subprocess.Popen([sys.executable, "-m", "motrans", "web", "--port", str(port), "--device", "cpu"],
                                   stdout=handle, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2])
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, log)
        root = Path(re.search(r"uploads and results in (\S+) ", log.read_text())[1])
        yield url, root, log
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert "Traceback" not in log.read_text(), log.read_text()
    assert not root.exists()  # the server's files go with it


@pytest.fixture(scope="module")
def url(server):
    return server[0]


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1700",
                     "--autoplay-policy=no-user-gesture-required",
                     "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",  # a test-card webcam
                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):  # the network, blocked
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


def test_animate_plays_downloads_and_stays_on_this_machine(url, browser, tmp_path):
    browser.get(url)
    _upload(browser, SOURCE, DRIVING)
    browser.find_element(By.ID, "run").click()
    link = _result_link(browser)
    assert _status(browser) == f"motrans: wrote {SOURCE.stem}_by_{DRIVING.stem}.mp4"
    duration, error, advanced = browser.execute_async_script(PLAY)
    assert error is None and advanced and abs(duration - SECONDS) < 0.15, (duration, error, advanced)
    video = _download(link, tmp_path / "result.mp4")
    assert _video_facts(video) == ("h264", "yuv420p", FRAMES)
    browser.save_screenshot(str(Path(os.environ.get("MOTRANS_SCREENSHOTS", tmp_path)) / "web-result.png"))
    outside = [asked for asked in _requested(browser) if not asked.startswith((url, "data:", "blob:"))]
    assert not outside, outside


def test_text_file_named_png_gets_the_cli_words(url, browser, tmp_path, monkeypatch, capsys):
    fake = tmp_path / "notes.png"
    fake.write_text("not an image\n")
    browser.get(url)
    _file_input(browser, "source").send_keys(str(fake))
    shown = _wait(browser, lambda: _status(browser).startswith("motrans: error:") and _status(browser))
    from motrans.cli import main

    monkeypatch.chdir(tmp_path)  # the page names files as the CLI does when run beside them
    assert main(["animate", "--source", "notes.png", "--driving", str(DRIVING), "--output", "out.mp4"]) == 1
    printed = capsys.readouterr().err.strip().splitlines()[-1]
    assert shown == printed and "notes.png: not a readable image" in shown
    assert _status_after_run(browser, DRIVING) == printed  # pressing Animate anyway: the same line, no job


def test_progress_shows_frames_and_eta_and_cancel_writes_nothing(server, browser):
    url, root, _ = server
    browser.get(url)
    _upload(browser, SOURCE, LONG)
    browser.find_element(By.ID, "run").click()
    shown = lambda: browser.execute_script("return document.querySelector('#result').innerText")  # noqa: E731
    progress = _wait(browser, lambda: re.search(r"\d+/169 \[\d\d:\d\d<\d\d:\d\d", shown()))  # done, ETA
    browser.find_element(By.ID, "cancel").click()
    _wait(browser, lambda: _status(browser) == "motrans: cancelled")
    time.sleep(2)  # the job stops at its next frame
    assert not browser.find_elements(By.CSS_SELECTOR, "#download a[href]"), progress
    assert not [p for p in (root / "jobs").rglob(f"*_by_{LONG.stem}*")]  # no result, no temporary file


def test_two_jobs_at_once_each_get_their_result(server, browser, tmp_path):
    url, _, log = server
    first = browser.current_window_handle
    browser.get(url)
    _upload(browser, SOURCE, DRIVING)
    browser.switch_to.new_window("tab")
    second = browser.current_window_handle
    browser.get(url)
    _upload(browser, OTHER_SOURCE, DRIVING)
    for handle in (first, second):  # both queued before either finishes: one job per device runs at a time
        browser.switch_to.window(handle)
        browser.find_element(By.ID, "run").click()
    results = []
    for handle, source in ((first, SOURCE), (second, OTHER_SOURCE)):
        browser.switch_to.window(handle)
        results.append(_download(_result_link(browser), tmp_path / f"{source.stem}.mp4"))
        assert _status(browser) == f"motrans: wrote {source.stem}_by_{DRIVING.stem}.mp4"
    assert [_video_facts(r) for r in results] == [("h264", "yuv420p", FRAMES)] * 2
    assert results[0].read_bytes() != results[1].read_bytes()
    events = re.findall(r"job \w+: (\S+) by \S+: (started|ended)", log.read_text())[-4:]
    assert [e[1] for e in events] == ["started", "ended"] * 2, events  # one after the other, never together
    assert {events[0][0], events[2][0]} == {SOURCE.name, OTHER_SOURCE.name}
    browser.close()
    browser.switch_to.window(first)


def test_a_visitor_s_files_go_when_they_leave(server, browser):
    url, root, _ = server
    visitors = lambda: {p.name for p in (root / "jobs").iterdir()}  # noqa: E731
    before = visitors()
    assert before  # the earlier tests' visitors uploaded files
    browser.get("about:blank")  # every tab so far has left the page
    _wait(browser, lambda: not (visitors() & before), 60)


def test_a_webcam_recording_is_a_driving_video(url, browser):
    browser.get(url)
    _wait(browser, lambda: browser.find_elements(By.XPATH, RECORD_PANEL), 60)[0].click()
    _wait(browser, lambda: browser.find_elements(By.XPATH, "//*[@id='webcam']//button[contains(., 'Webcam')]"))[0] \
        .click()
    live = "const v = document.querySelector('#webcam video'); return !!v && v.readyState >= 2 && v.currentTime > 0.5"
    _wait(browser, lambda: browser.execute_script(live), 60)  # the test card is streaming
    record = browser.find_element(By.CSS_SELECTOR, "#webcam button[aria-label='start recording']")
    record.click()  # the same button then reads Stop
    time.sleep(1.5)
    record.click()
    assert _wait(browser, lambda: _status(browser), 60) == "motrans: sample.webm is ready"  # the CLI's checks passed


def test_a_crafted_file_path_is_refused(url):
    for path in ("/etc/passwd", "../../../../etc/passwd"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}gradio_api/file={path}", timeout=30)
        assert refused.value.code in (403, 404)


# ------------------------------------------------------------------------------------------------- helpers
RECORD_PANEL = "//button[.//*[contains(text(), 'record the driving video')]]"
PLAY = """
const done = arguments[arguments.length - 1];
const video = document.querySelector('#result video');
const report = () => { video.muted = true; video.pause(); video.currentTime = 0;
  video.play().then(() => setTimeout(
      () => done([video.duration, video.error && video.error.message, video.currentTime > 0 && video.videoWidth > 0]),
      500),
    e => done([video.duration, String(e), false])); };
if (video.readyState >= 1) report(); else video.addEventListener('loadedmetadata', report);
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"motrans web exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"motrans web did not answer within {seconds} s:\n{log.read_text()}")


def _wait(browser, condition, seconds: float = WAIT):
    return WebDriverWait(browser, seconds, poll_frequency=0.2).until(lambda _: condition())


def _status(browser) -> str:
    return browser.find_element(By.CSS_SELECTOR, "#status textarea").get_attribute("value") or ""


def _upload(browser, source: Path, driving: Path) -> None:
    """Both files through the page's own file inputs; each upload's check must pass."""
    _file_input(browser, "source").send_keys(str(source))
    _wait(browser, lambda: _status(browser) == f"motrans: {source.name} is ready")
    _file_input(browser, "driving").send_keys(str(driving))
    _wait(browser, lambda: _status(browser) == f"motrans: {driving.name} is ready")


def _result_link(browser) -> str:
    """The download link once the job is done; a failure's status line fails the test at once."""
    def ready():
        status = _status(browser)
        assert not status.startswith("motrans: error"), status
        assert not browser.find_elements(By.CSS_SELECTOR, "#status .error"), "Gradio's bare Error: see the log"
        links = browser.find_elements(By.CSS_SELECTOR, "#download a[href]")
        return links and browser.find_elements(By.CSS_SELECTOR, "#result video") and links[0].get_attribute("href")

    return _wait(browser, ready)


def _file_input(browser, element: str):
    """The hidden file input of the component with id `element`, once the page has drawn it."""
    selector = f"#{element} input[type=file]"
    return _wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, selector), 60)[0]


def _status_after_run(browser, driving: Path) -> str:
    _file_input(browser, "driving").send_keys(str(driving))
    _wait(browser, lambda: _status(browser) == f"motrans: {driving.name} is ready")
    browser.find_element(By.ID, "run").click()
    return _wait(browser, lambda: _status(browser).startswith("motrans: error:") and _status(browser))


def _download(url: str, target: Path) -> Path:
    with urllib.request.urlopen(url, timeout=60) as answer:
        target.write_bytes(answer.read())
    return target


def _video_facts(path: Path) -> tuple[str, str, int]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return stream.codec_context.name, stream.codec_context.pix_fmt, frames


def _requested(browser) -> list[str]:
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls
