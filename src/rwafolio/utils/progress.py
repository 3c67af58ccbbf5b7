"""One progress reporter for every step that can take more than about two seconds.

On a terminal it draws a tqdm bar on stderr; off a terminal (a pipe, a log file, CI) it writes a
one-line update to stderr once the step has run ``delay`` seconds (2 s) and then at most every
``interval`` seconds, and a closing line if it wrote any, so long runs are never silent and short
ones stay quiet. ``enabled=False`` silences it; ``None`` (the default everywhere) means "on".
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import IO, Any

__all__ = ["Progress", "step"]


class Progress:
    """Counts finished units of a step and reports them on stderr.

    Parameters
    ----------
    total : int
        Units expected (dates, tasks, forecasts).
    desc : str
        What is running (printed first on each line).
    unit : str
        Name of one unit.
    enabled : bool or None
        False: report nothing. None or True: report.
    bar : bool or None
        True: a tqdm bar; False: periodic lines; None: a bar when ``stream`` is a terminal.
    delay : float
        Seconds before the first line (lines mode).
    interval : float
        Seconds between two periodic lines (lines mode).
    stream : text stream or None
        Where to report (None: ``sys.stderr`` at the time of each write).
    """

    def __init__(
        self,
        total: int,
        desc: str,
        unit: str = "item",
        *,
        enabled: bool | None = None,
        bar: bool | None = None,
        delay: float = 2.0,
        interval: float = 10.0,
        stream: IO[str] | None = None,
    ) -> None:
        self.total = int(total)
        self.desc = desc
        self.unit = unit
        self.enabled = enabled is not False
        self.delay = float(delay)
        self.interval = float(interval)
        self._wrote = False
        self.stream = stream
        self.done = 0
        self._start = time.monotonic()
        self._next = self._start + self.delay
        self._bar: Any = None
        self._lock = threading.Lock()  # updates may come from worker threads
        out = self._out()
        use_bar = bar if bar is not None else bool(getattr(out, "isatty", lambda: False)())
        if self.enabled and use_bar:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=desc, unit=unit, leave=False, file=out)

    def _out(self) -> IO[str]:
        return self.stream if self.stream is not None else sys.stderr

    def _line(self, text: str) -> None:
        out = self._out()
        out.write(text + "\n")
        out.flush()

    def update(self, n: int = 1) -> None:
        """Record ``n`` more finished units (safe to call from several threads)."""
        with self._lock:
            self._update(n)

    def _update(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if now >= self._next and self.done < self.total:
            self._next = now + self.interval
            self._wrote = True
            self._line(
                f"{self.desc}: {self.done}/{self.total} {self.unit}(s), {now - self._start:.0f} s"
            )

    def close(self) -> None:
        """Finish: close the bar, or write the closing line."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            return
        elapsed = time.monotonic() - self._start
        if self._wrote:
            self._line(f"{self.desc}: done, {self.done} {self.unit}(s) in {elapsed:.1f} s")
        self.enabled = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@contextmanager
def step(
    desc: str, *, enabled: bool | None = None, stream: IO[str] | None = None
) -> Iterator[None]:
    """Report one opaque step (no countable units) on stderr: ``desc ...`` when it starts and
    ``desc: done in X s`` when it ends. ``enabled=False`` silences it."""
    if enabled is False:
        yield
        return
    out = stream if stream is not None else sys.stderr
    out.write(f"{desc} ...\n")
    out.flush()
    start = time.monotonic()
    yield
    out.write(f"{desc}: done in {time.monotonic() - start:.1f} s\n")
    out.flush()
