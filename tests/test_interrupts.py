"""Ctrl-C stops a command even when a library swallows the KeyboardInterrupt on its way up.

numba's compiler calls back into Python from LLVM through ctypes; a Ctrl-C landing in that callback
is printed as "Exception ignored" and dropped, and the compile then fails with a RuntimeError. The
sweep's version of this is in test_sweep_resume.py; the real Ctrl-C of `funnelsim run` is in
test_cli_run.py.
"""

from __future__ import annotations

import gc
import signal
import sys
import time

import pytest

from funnelsim.experiments.interrupts import interrupt_requested, interrupts_stop_the_command


def _swallow_a_ctrl_c() -> None:
    try:
        signal.raise_signal(signal.SIGINT)
        time.sleep(0.1)  # the handler runs here at the latest
    except KeyboardInterrupt:
        raise RuntimeError("no compiled object yet") from None


def test_a_ctrl_c_swallowed_inside_a_run_stops_an_evaluation_in_this_process(monkeypatch):
    # run_task is what evaluate, comparisons, optimization and the ABC fit run in this process.
    from funnelsim.experiments.engine import evaluate
    from funnelsim.model.market import MarketModel

    real_run, started = MarketModel.run, []

    def swallowing_run(model, steps=None):
        started.append(steps)
        if len(started) == 2:
            _swallow_a_ctrl_c()
        return real_run(model, steps)

    monkeypatch.setattr(MarketModel, "run", swallowing_run)
    with pytest.raises(KeyboardInterrupt), interrupts_stop_the_command():
        evaluate("bass", replications=4, steps=3, workers=1)
    assert len(started) == 2  # stopped at the run that swallowed it, not after all four


class _RaisesWhenCollected:
    def __init__(self, error: BaseException):
        self.error = error

    def __del__(self):
        raise self.error


def test_python_s_note_about_a_swallowed_ctrl_c_is_not_printed_but_other_ignored_errors_are(monkeypatch):
    reported: list[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: reported.append(unraisable.exc_value))
    with interrupts_stop_the_command():
        _RaisesWhenCollected(KeyboardInterrupt())
        _RaisesWhenCollected(ValueError("a real problem"))
        gc.collect()
    assert [type(error) for error in reported] == [ValueError]


def test_the_command_s_signal_handlers_and_memory_are_undone_when_it_ends():
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), interrupts_stop_the_command():
        signal.raise_signal(signal.SIGTERM)  # `kill` stops a command as Ctrl-C does
        time.sleep(0.1)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    assert not interrupt_requested()
