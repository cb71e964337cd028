"""gitopslib.interrupts: SIGTERM and SIGHUP raise within the block, and only there."""

from __future__ import annotations

import os
import signal

import pytest
from gitopslib.interrupts import Interrupted, interruptible


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_in_the_block_raises_and_the_handler_before_comes_back(number: signal.Signals) -> None:
    before = signal.getsignal(number)
    with pytest.raises(Interrupted) as raised, interruptible():
        os.kill(os.getpid(), number)
    assert raised.value.signal_name == number.name
    assert signal.getsignal(number) is before
