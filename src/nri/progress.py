"""Progress of long commands on stderr, switched on by the command line only.

Library code marks its long loops with :func:`batches` and its long steps with
:func:`stage`; both are silent unless the code runs inside :func:`report_to`, which
the CLI enters around every command (so the Python API prints nothing, house rule 7).

On a terminal a step shows ``nri: inferring the graph of big.csv ... 00:12`` and a loop
a tqdm bar; both clear themselves when done, so that what stays on the screen is the
command's result (or its one error line). Elsewhere (a log file, a pipe, CI) nothing is
printed unless ``NRI_PROGRESS=1`` asks for plain lines: one when a step or loop
starts, one at most every ``interval`` seconds and one at the end::

    nri: inferring edges: 8000 windows ...
    nri: inferring edges: 4352/8000 windows (54%), 10 s
    nri: inferring edges: 8000 windows in 17.9 s

``NRI_PROGRESS=0`` turns progress off on a terminal too.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TextIO

from tqdm import tqdm

__all__ = ["report_to", "batches", "stage", "active", "for_command"]


@dataclass(frozen=True)
class _Reporter:
    stream: TextIO
    tty: bool
    interval: float


# The reporter of the command being run (None: silent). A context variable rather than
# an argument threaded through every function, like logging's configuration: the CLI
# sets it, library functions only read it.
_ACTIVE: ContextVar[_Reporter | None] = ContextVar("nri_progress", default=None)


@contextmanager
def report_to(
    stream: TextIO, interval: float = 10.0, enabled: bool | None = None
) -> Iterator[None]:
    """Show the progress of the code run inside on ``stream``.

    Args:
        stream: where to write (the CLI: stderr).
        interval: seconds between the plain lines of a loop.
        enabled: True or False; None (default): ``NRI_PROGRESS`` when it is set (1 or
            0), else only when ``stream`` is a terminal.
    """
    tty = bool(getattr(stream, "isatty", lambda: False)())
    if enabled is None:
        env = os.environ.get("NRI_PROGRESS", "").strip()
        enabled = env != "0" if env else tty
    token = _ACTIVE.set(_Reporter(stream, tty, interval) if enabled else None)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active() -> bool:
    """True inside :func:`report_to`."""
    return _ACTIVE.get() is not None


def _size() -> dict[str, int]:
    """Terminal columns and rows for tqdm (80 x 24 where the terminal reports none:
    tqdm would then print nothing)."""
    size = shutil.get_terminal_size((80, 24))
    return {"ncols": max(40, size.columns), "nrows": max(5, size.lines)}


def _line(rep: _Reporter, text: str) -> None:
    print(f"nri: {text}", file=rep.stream, flush=True)


def batches(n_items: int, batch_size: int, what: str, unit: str) -> Iterator[int]:
    """``range(0, n_items, batch_size)`` that reports ``what: done/n_items unit``.

    Example::

        for i in batches(len(x), 256, "inferring edges", "windows"):
            xb = x[i : i + 256]
    """
    rep = _ACTIVE.get()
    starts = range(0, n_items, batch_size)
    if rep is None:
        yield from starts
        return
    if rep.tty:
        with tqdm(total=n_items, desc=f"nri: {what}", unit=f" {unit}", leave=False,
                  file=rep.stream, delay=0.5, **_size()) as bar:  # fmt: skip
            for i in starts:
                yield i
                bar.update(min(batch_size, n_items - i))
        return
    t0 = last = time.perf_counter()
    _line(rep, f"{what}: {n_items} {unit} ...")
    for i in starts:
        yield i
        now = time.perf_counter()
        done = min(i + batch_size, n_items)
        if now - last >= rep.interval and done < n_items:
            _line(rep, f"{what}: {done}/{n_items} {unit} ({100 * done // n_items}%), "
                       f"{now - t0:.0f} s")  # fmt: skip
            last = now
    _line(rep, f"{what}: {n_items} {unit} in {time.perf_counter() - t0:.1f} s")


class _ClearFirst:
    """stdout that clears the step's line before the command prints its result."""

    def __init__(self, out: TextIO, clear: Callable[[], None]) -> None:
        self._out, self._clear = out, clear

    def write(self, text: str) -> int:
        self._clear()
        return self._out.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._out, name)


@contextmanager
def _ticking(what: str, stream: TextIO) -> Iterator[None]:
    """``nri: what ... 00:03`` on a terminal, its time going on while the step runs,
    cleared when it ends or when the command prints to stdout."""
    bar = tqdm(total=None, desc=f"nri: {what}", bar_format="{desc} ... {elapsed}",
               leave=False, file=stream, **_size())  # fmt: skip
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(0.5):
            bar.refresh()

    def clear() -> None:
        if not stop.is_set():
            stop.set()
            thread.join()
            bar.close()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    out = sys.stdout
    sys.stdout = _ClearFirst(out, clear)  # type: ignore[assignment]
    try:
        yield
    finally:
        if isinstance(sys.stdout, _ClearFirst):
            sys.stdout = out
        clear()


@contextmanager
def stage(what: str) -> Iterator[None]:
    """A step without a count: on a terminal ``nri: what ... 00:03`` while it runs
    (cleared at the end), elsewhere ``nri: what ...`` and ``nri: what: done in
    3.2 s`` (nothing outside :func:`report_to`)."""
    rep = _ACTIVE.get()
    if rep is None:
        yield
        return
    if rep.tty:
        with _ticking(what, rep.stream):
            yield
        return
    t0 = time.perf_counter()
    _line(rep, f"{what} ...")
    yield
    _line(rep, f"{what}: done in {time.perf_counter() - t0:.1f} s")


_STAGES = {  # command -> what its stage line says (commands with a bar of their own:
    # train, simulate, experiment, demo; quick ones: data)
    "import": "importing {file}",
    "infer": "inferring the graph of {data}",
    "forecast": "forecasting {data}",
    "evaluate": "evaluating {run}",
    "report": "writing the report of {run}",
}


def for_command(command: str, /, **args: object) -> AbstractContextManager[None]:
    """The :func:`stage` of a CLI command (``nri infer RUN --data F`` -> "inferring
    the graph of F ..."), or a context that does nothing for commands with their own
    progress. ``args`` are the parsed arguments (``vars(namespace)``)."""
    text = _STAGES.get(command)
    if text is None:
        return nullcontext()
    data = args.get("data")
    fields = {
        "file": args.get("file"),
        "run": args.get("run"),
        "data": data if data is not None else f"the data of {args.get('run')}",
    }
    return stage(text.format(**fields))
