"""SIGTERM and SIGHUP raised as an exception while a command writes into the work tree.

Python ends the process at once on these signals (a CI job's timeout, a closed terminal, a
`kill`), without unwinding: promote and release would leave the release files they write,
before checking what the overlay renders, in the user's tree (a dry run too). Raised as
`Interrupted` instead, they reach the `except BaseException` that puts the files back, as
Ctrl-C's KeyboardInterrupt does. SIGKILL cannot be caught: nothing can restore after it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

CAUGHT = (signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """A signal that asks the process to end (not an Exception: no handler mistakes it for a failure)."""

    def __init__(self, signal_number: int) -> None:
        self.signal_name = signal.Signals(signal_number).name
        super().__init__(self.signal_name)


def _raise(signal_number: int, frame: FrameType | None) -> None:
    raise Interrupted(signal_number)


@contextmanager
def interruptible() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise Interrupted; the handlers before it come back after.
    Only the main thread can install handlers: elsewhere (a caller's thread) the block runs as is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _raise) for number in CAUGHT}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
