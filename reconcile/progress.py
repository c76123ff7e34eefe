"""Progress of a run for the person at the terminal (files read, invoices reconciled, outputs written).

Beside the pipeline, not a stage of it: `batch.run_batch` and
`write.workbooks` call `step(stage, done, total)` as they go, which does
nothing unless someone listens. The `run` command listens with a
`TerminalBar` on stderr, which stays silent when stderr is not a terminal,
with `--quiet`, and for the first two seconds (a small batch never shows
it). No dependency: a few lines of ANSI-free text redrawn with `\\r`.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

Listener = Callable[[str, int, int], None]
_listener: Listener | None = None

LABELS = {"read": "files read", "reconcile": "invoices reconciled", "write": "outputs written"}


def step(stage: str, done: int, total: int) -> None:
    """Report that `done` of `total` units of `stage` are finished."""
    if _listener is not None:
        _listener(stage, done, total)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Route `step` calls to `listener` inside the block."""
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous


class TerminalBar:
    """A one-line bar on a terminal, shown once the run has taken `delay` seconds, redrawn at most 10 times a second."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False, delay: float = 2.0, width: int = 30):
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self.start = time.monotonic()
        self.delay, self.width = delay, width
        self.last_draw = 0.0
        self.drawn = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.delay or (now - self.last_draw < 0.1 and done < total):
            return
        self.last_draw = now
        filled = self.width * done // total if total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{LABELS.get(stage, stage):20} [{bar}] {done}/{total}   ")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """Clear the bar's line, so the run's summary starts on a clean line."""
        if self.drawn:
            self.stream.write("\r" + " " * (self.width + 40) + "\r")
            self.stream.flush()
