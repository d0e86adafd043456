"""Progress on stderr, tqdm's: its bar redrawn in place on a terminal; where stderr is a file or a pipe (a batch
job, a log), the same line once every few seconds and at the end, so that a long run shows it is alive. `--quiet`
(`set_quiet`) turns both off, and the notes (`note`) with them; warnings and errors always print.
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

EVERY = 5.0  # seconds between two progress lines where stderr is not a terminal
_quiet = False


def set_quiet(quiet: bool) -> None:
    """`--quiet`: no progress and no notes for the rest of the process."""
    global _quiet
    _quiet = quiet


def quiet() -> bool:
    return _quiet


def note(message: str) -> None:
    """An informational line, `motrans: <message>` on stderr, unless quiet."""
    if not _quiet:
        print(f"motrans: {message}", file=sys.stderr)


class Progress:
    """Counts `label` up to `total` (None: unknown). `live` is True where a bar is redrawn in place, so that a
    message printed meanwhile starts on a new line."""

    def __init__(self, total: int | None, label: str = "frames", stream=None, enabled: bool = True,
                 every: float | None = None):
        self.total, self.label, self.count = total, label, 0
        self.every = EVERY if every is None else every
        self.stream = stream or sys.stderr
        self.enabled = enabled and not _quiet
        self.live = self.enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = self.last = time.monotonic()
        self.printed = 0  # the count of the last line printed where there is no terminal
        self.bar = None
        if self.live:
            self.bar = tqdm(total=total, desc="motrans", unit=label, file=self.stream, dynamic_ncols=True,
                            leave=True)

    def update(self, n: int = 1) -> None:
        self.count += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.enabled and time.monotonic() - self.last >= self.every:
            self._print_line()

    def line(self) -> str:
        """`45%|####5     | 45/100 [00:04<00:05, 10.00frames/s]`: count, rate and ETA as tqdm writes them."""
        elapsed = time.monotonic() - self.start
        return tqdm.format_meter(self.count, self.total, elapsed, unit=self.label, ascii=True)  # logs

    def _print_line(self) -> None:
        self.last, self.printed = time.monotonic(), self.count
        self.stream.write(f"motrans: {self.line()}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.enabled and self.count != self.printed:  # the last count, unless its line is already out
            self._print_line()
