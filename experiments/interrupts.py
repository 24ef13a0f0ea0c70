"""Ctrl-C and ``kill`` stop a command, even when the interrupt lands where Python cannot raise it.

Python turns SIGINT into ``KeyboardInterrupt`` wherever the main thread happens to be, and a few
places swallow it. The one that bites: the first call of a compiled loop on a fresh machine
compiles it, and numba's compiler calls back into Python from LLVM through ctypes; an interrupt
raised inside that callback is printed as "Exception ignored" and dropped, and numba then fails
the compile with a ``RuntimeError``. A run in this process would be recorded as a failed run and
the command would go on to the next one, ignoring the Ctrl-C (measured: about one try in three
when Ctrl-C came during the first seconds of a run with numba's cache empty).

So while a command runs, SIGINT and SIGTERM both raise ``KeyboardInterrupt`` (``kill`` stops a
command as Ctrl-C does: finished runs kept, no half-written folder) and are also remembered; the
places that run models call :func:`raise_if_interrupted` after each run and between waits, so a
swallowed interrupt still stops the command there. Python's note about the swallowed one
("Exception ignored ... Traceback ... KeyboardInterrupt") is not printed: the command's own
"interrupted" line says what happened.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_requested = threading.Event()


def interrupt_requested() -> bool:
    """Whether Ctrl-C or SIGTERM reached this process since :func:`interrupts_stop_the_command` began."""
    return _requested.is_set()


def raise_if_interrupted() -> None:
    """Stop here if an interrupt arrived, even one some library swallowed on its way up."""
    if _requested.is_set():
        raise KeyboardInterrupt


@contextmanager
def interrupts_stop_the_command() -> Iterator[None]:
    """While inside, SIGINT and SIGTERM raise ``KeyboardInterrupt`` and are remembered."""

    def interrupt(signum, frame):
        _requested.set()
        raise KeyboardInterrupt

    def quiet_about_interrupts(unraisable):
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous_hook(unraisable)

    _requested.clear()
    previous_hook, sys.unraisablehook = sys.unraisablehook, quiet_about_interrupts
    try:
        previous = {
            number: signal.signal(number, interrupt)
            for number in (signal.SIGINT, signal.SIGTERM)
            if signal.getsignal(number) != signal.SIG_IGN  # a background job started with `&` ignores Ctrl-C
        }
    except ValueError:  # not the main thread (e.g. called from a test thread): leave signals alone
        previous = {}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        sys.unraisablehook = previous_hook
        _requested.clear()
