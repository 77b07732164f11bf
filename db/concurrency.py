"""Running C-level work (deflate, image scaling, parsing) beside Python work.

Two threads of one process share the GIL. A helper thread that spends its time in
C code which releases the GIL (zlib, Pillow, calamine) still needs it back for a
moment between calls; while the other thread runs Python code, CPython hands it
over only every *switch interval* (5 ms by default). A save that re-takes the GIL
a few dozen times then waits longer than it works: the month return's deflate
took 0.43 s instead of 0.25 s while the PDF was being drawn beside it.

:func:`quick_handoffs` shortens the interval while such a pair runs;
:class:`InBackground` runs one call on a thread of its own and hands back its result.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")

HANDOFF_INTERVAL = 0.0005  # seconds; CPython's default is 0.005

_lock = threading.Lock()
_users = 0
_saved = 0.0


@contextmanager
def quick_handoffs(interval: float = HANDOFF_INTERVAL) -> Iterator[None]:
    """Hand the GIL between threads every ``interval`` seconds inside the block.

    The interval is process-wide: overlapping blocks (on any threads) share the
    shortened one, and the interval found before the first of them is restored
    when the last one ends. An interval already shorter is kept.
    """
    global _users, _saved  # noqa: PLW0603 - one process-wide setting, counted
    with _lock:
        if _users == 0:
            _saved = sys.getswitchinterval()
            sys.setswitchinterval(min(interval, _saved))
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                sys.setswitchinterval(_saved)


class InBackground(threading.Thread, Generic[T]):
    """``work()`` on a thread of its own, started at once; :meth:`result` waits for it
    and returns what it returned or raises what it raised.

    For work that SQLite or zlib do without the GIL (a verified backup) while this
    thread prepares something else. Used as a context manager, the thread has ended
    when the block is left, however it is left.
    """

    def __init__(self, work: Callable[[], T], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._work = work
        self._value: T | None = None
        self._error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self._value = self._work()
        except BaseException as err:  # noqa: BLE001 - raised again by result()
            self._error = err

    def __enter__(self) -> InBackground[T]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.join()

    def result(self) -> T:
        self.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
