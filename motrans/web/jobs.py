"""One folder and one cancel switch per visitor: created on first use, removed when the visitor leaves or after an
hour without use, whichever comes first. Nothing a request names can point outside these folders."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from ..errors import InputError
from ..validate import inside

MAX_AGE = 3600.0  # seconds without use before a visitor's folder goes


class Jobs:
    def __init__(self, root: str | Path, max_age: float = MAX_AGE):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_age = max_age
        self._used: dict[str, float] = {}
        self._cancel: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def folder(self, session: str) -> Path:
        """The visitor's folder (made on first use); using it keeps it alive for another `max_age`."""
        path = inside(self.root, session, "session")
        with self._lock:
            path.mkdir(exist_ok=True)
            self._used[session] = time.monotonic()
            self._cancel.setdefault(session, threading.Event())
        return path

    def cancel_switch(self, session: str) -> threading.Event:
        with self._lock:
            return self._cancel.setdefault(session, threading.Event())

    def leave(self, session: str) -> None:
        """The visitor closed the page: their cancel switch is thrown and their files go."""
        with self._lock:
            self._used.pop(session, None)
            switch = self._cancel.pop(session, None)
        if switch is not None:
            switch.set()
        try:
            shutil.rmtree(inside(self.root, session, "session"), ignore_errors=True)
        except InputError:
            pass

    def sweep(self, now: float | None = None) -> list[str]:
        """Removes the folders unused for `max_age`; returns their sessions."""
        now = time.monotonic() if now is None else now
        with self._lock:
            stale = [s for s, used in self._used.items() if now - used > self.max_age]
        for session in stale:
            self.leave(session)
        return stale

    def sweep_every(self, seconds: float) -> threading.Thread:
        """A daemon thread that sweeps every `seconds` for as long as the server runs."""
        def loop():
            while True:
                time.sleep(seconds)
                self.sweep()

        thread = threading.Thread(target=loop, name="motrans-web-sweep", daemon=True)
        thread.start()
        return thread
