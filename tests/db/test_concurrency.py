"""The GIL hand-off interval is shortened only inside quick_handoffs, and restored."""

from __future__ import annotations

import sys
import threading

import pytest

from db.concurrency import quick_handoffs


@pytest.fixture(autouse=True)
def _default_interval() -> object:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(before)


def test_interval_is_short_inside_and_restored_after() -> None:
    with quick_handoffs(0.0005):
        assert sys.getswitchinterval() == pytest.approx(0.0005, abs=2e-6)
    assert sys.getswitchinterval() == pytest.approx(0.005, abs=2e-6)


def test_restored_after_an_error() -> None:
    with pytest.raises(RuntimeError), quick_handoffs(0.0005):
        raise RuntimeError
    assert sys.getswitchinterval() == pytest.approx(0.005, abs=2e-6)


def test_overlapping_blocks_on_two_threads_restore_the_original() -> None:
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with quick_handoffs(0.0005):
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with quick_handoffs(0.0005):
        thread.start()
        assert entered.wait(5)
    # this block ended first: the other one still needs the short interval
    assert sys.getswitchinterval() == pytest.approx(0.0005, abs=2e-6)
    release.set()
    thread.join(5)
    assert sys.getswitchinterval() == pytest.approx(0.005, abs=2e-6)


def test_a_shorter_interval_already_set_is_kept() -> None:
    sys.setswitchinterval(0.0001)
    with quick_handoffs(0.0005):
        assert sys.getswitchinterval() == pytest.approx(0.0001, abs=2e-6)
    assert sys.getswitchinterval() == pytest.approx(0.0001, abs=2e-6)
