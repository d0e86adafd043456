"""MediaPipe's native log noise, filtered out of stderr at the file descriptor.

Its Pose graph runs TFLite and absl's C++ logging on threads of its own, which print on their first frames
`INFO: Created TensorFlow Lite XNNPACK delegate for CPU.`, `WARNING: All log messages before absl::InitializeLog()
…` and `W0000 00:00:… inference_feedback_manager.cc:114] …` lines. No setting reaches them from Python
(GLOG_minloglevel, TF_CPP_MIN_LOG_LEVEL and ABSL_MIN_LOG_LEVEL change nothing: tried), and they come at moments no
`with` block around a call catches. So descriptor 2 becomes a pipe, read by a thread that passes every line on to
the real stderr except those info and warning lines; absl's errors (`E…`, `F…`) and everything else pass.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading

NOISE = re.compile(rb"(INFO: Created TensorFlow Lite|WARNING: All log messages before absl::InitializeLog"
                   rb"|[IW]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] )")
_installed: list[int] = []  # the real stderr's descriptor, once the filter is in place


def filter_native_logs() -> None:
    """From now on, MediaPipe's info and warning lines are dropped from stderr (once per process)."""
    if _installed:
        return
    sys.stderr.flush()
    real = os.dup(2)
    read, write = os.pipe()
    pipe = os.fstat(write).st_ino
    os.dup2(write, 2)
    os.close(write)
    thread = threading.Thread(target=_pass_on, args=(read, real), daemon=True, name="motrans-stderr-filter")
    thread.start()
    _installed.append(real)
    atexit.register(_restore, real, pipe, thread)


def _pass_on(read: int, real: int) -> None:
    with os.fdopen(read, "rb", buffering=0) as pipe:
        pending = b""
        while chunk := pipe.read(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            _write(real, [line + b"\n" for line in lines if not NOISE.match(line)])
            if pending and not pending.startswith((b"I", b"W")):  # a progress bar redrawn in place: at once
                _write(real, [pending])
                pending = b""
        if pending and not NOISE.match(pending):
            _write(real, [pending])


def _write(fd: int, lines: list[bytes]) -> None:
    for line in lines:
        os.write(fd, line)


def _restore(real: int, pipe: int, thread: threading.Thread) -> None:
    """At exit: stderr is the real one again, and the thread passes on what was left in the pipe. Where descriptor
    2 is no longer the pipe (something else, e.g. a test's capture, replaced it since), it is left as it is."""
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    if os.fstat(2).st_ino == pipe:
        os.dup2(real, 2)  # the pipe's last writer is gone: the thread reads to its end and stops
        thread.join(timeout=5)
