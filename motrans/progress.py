"""A dependency-free progress bar on stderr: count, rate and ETA; redrawn in place on a terminal only."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int | None, label: str = "frames", stream=None, enabled: bool = True):
        self.total, self.label, self.count = total, label, 0
        self.stream = stream or sys.stderr
        self.start = self.last = time.monotonic()
        self.live = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if self.live and (now - self.last > 0.2 or self.count == self.total):
            self.last = now
            self.stream.write("\r" + self.line(now))
            self.stream.flush()

    def line(self, now: float | None = None) -> str:
        elapsed = (now or time.monotonic()) - self.start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        if self.total:
            width = 30
            done = int(width * min(self.count, self.total) / self.total)
            eta = (self.total - self.count) / rate if rate > 0 else float("inf")
            return (f"[{'#' * done}{'.' * (width - done)}] {self.count}/{self.total} {self.label} "
                    f"{rate:.2f}/s ETA {_clock(eta)}")
        return f"{self.count} {self.label} {rate:.2f}/s"

    def close(self) -> None:
        if self.live:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    if seconds == float("inf"):
        return "--:--"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
