"""The one progress reporter: lines off a terminal (after a delay), a bar on one, silence on False."""

from __future__ import annotations

import io

import pytest

import rwafolio.utils.progress as progress_module
from rwafolio.utils.progress import Progress, step


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    c = FakeClock()
    monkeypatch.setattr(progress_module.time, "monotonic", c)
    return c


def test_lines_off_a_terminal_after_the_delay(clock: FakeClock) -> None:
    out = io.StringIO()
    p = Progress(10, "backtest dynamic", "date", stream=out, delay=2.0, interval=5.0)
    p.update(3)
    assert out.getvalue() == ""  # a short step stays quiet
    clock.now += 2.5
    p.update(1)
    assert out.getvalue() == "backtest dynamic: 4/10 date(s), 2 s\n"
    clock.now += 1.0
    p.update(1)  # within the interval: no new line
    assert out.getvalue().count("\n") == 1
    clock.now += 5.0
    p.update(1)
    assert out.getvalue().splitlines()[-1] == "backtest dynamic: 6/10 date(s), 8 s"
    p.update(4)
    p.close()
    assert out.getvalue().splitlines()[-1] == "backtest dynamic: done, 10 date(s) in 8.5 s"
    p.close()  # idempotent
    assert out.getvalue().count("done") == 1


def test_quick_step_writes_nothing_and_false_silences(clock: FakeClock) -> None:
    out = io.StringIO()
    with Progress(5, "fast", stream=out) as p:
        p.update(5)
    assert out.getvalue() == ""
    silent = Progress(5, "slow", stream=out, enabled=False)
    clock.now += 100
    silent.update(1)
    silent.close()
    assert out.getvalue() == ""


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar() -> None:
    out = Tty()
    p = Progress(4, "tasks", "task", stream=out)
    assert p._bar is not None
    p.update(4)
    p.close()
    text = out.getvalue()
    assert text.startswith("\rtasks:") and "|" in text  # a tqdm bar, redrawn in place
    assert "done" not in text  # no closing line on a terminal


def test_step_reports_start_and_end(clock: FakeClock) -> None:
    out = io.StringIO()
    with step("writing the report", stream=out):
        clock.now += 3.25
    assert out.getvalue() == "writing the report ...\nwriting the report: done in 3.2 s\n"
    quiet = io.StringIO()
    with step("x", enabled=False, stream=quiet):
        pass
    assert quiet.getvalue() == ""
