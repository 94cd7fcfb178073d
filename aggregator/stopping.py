"""Being asked to stop: SIGTERM (`systemctl stop`, a shutdown) or SIGINT (Ctrl+C) during `run` or `crawl`.

Scrapy's own handlers stop the crawl gracefully, but only while its reactor runs: `run` then went
on with the story step and the digests — work after being asked to stop, which systemd's stop
timeout then cut with SIGKILL, mid-send. These handlers cover the whole command instead:

- the first signal is remembered (`asked`); during the crawl it stops the spiders as Scrapy's
  would (the requests on their way are waited for, what was fetched is stored, each source's run
  is recorded), and every step after the crawl (stories, alerts, digests: all done again by the
  next run, digests exactly once) is skipped with one line saying why; the command then exits
  with 128 + the signal's number (143 after SIGTERM, 130 after Ctrl+C), the shell's convention for
  "terminated by this signal", which no other outcome uses (docs/operations.md);
- a second signal ends the process at once, as SIGKILL does (the runs it leaves `running` are
  recovered by the next crawl): it kills the process's children (the crawl's worker processes,
  which would wait for work forever without it) and then the process itself, by that signal.

A handler only records and hands over (`reactor.callFromThread` wakes the reactor): logging from
a signal handler can re-enter a stream write the main thread was in the middle of.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console  # (imported where it is used: not at every CLI start)

SIGNALS = (signal.SIGTERM, signal.SIGINT)
_asked: int | None = None
_on_first: list[Callable[[int], None]] = []


def asked() -> int | None:
    """The signal that asked this process to stop, or None."""
    return _asked


def reason() -> str:
    """`asked to stop (SIGTERM)`: the words of every line about a step skipped for it."""
    return f"asked to stop ({signal.Signals(_asked).name})" if _asked is not None else "not asked to stop"


def say_skipped(step: str, console: Console | None = None) -> None:
    """`skipped <step>: asked to stop (SIGTERM)` on stderr (JSON event `skipped`): the one line each
    step left to the next run gets."""
    from rich.console import Console

    from aggregator.notices import Notice, tell

    tell(console or Console(stderr=True), Notice(f"skipped {step}: {reason()}", "skipped"))


def exit_status() -> int:
    """128 + the signal's number: 143 after SIGTERM, 130 after SIGINT (0 when not asked)."""
    return 128 + _asked if _asked is not None else 0


def _handle(signum: int, frame: FrameType | None) -> None:
    global _asked
    if _asked is not None:  # the second: at once
        import multiprocessing  # loaded by `listening` already: not at every CLI start (2 ms)

        for child in multiprocessing.active_children():
            with contextlib.suppress(OSError):
                child.kill()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    _asked = signum
    for callback in list(_on_first):
        callback(signum)


@contextlib.contextmanager
def listening() -> Iterator[None]:
    """The handlers installed for the block (only in the main thread, where Python runs them), the
    previous ones restored after it."""
    global _asked
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _asked = None
    import multiprocessing  # noqa: F401 (for the handler, which should not be the first to import it)

    previous = {signum: signal.signal(signum, _handle) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def on_first(callback: Callable[[int], None]) -> Iterator[None]:
    """`callback(signum)` is called from the handler of the first signal while the block runs (the
    crawl: it hands the stop to the reactor). Called at once, in the block, if it was asked already."""
    _on_first.append(callback)
    try:
        if _asked is not None:
            callback(_asked)
        yield
    finally:
        _on_first.remove(callback)
