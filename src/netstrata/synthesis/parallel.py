"""Run many independent jobs on local cores or a user's executor, in a deterministic order.

``run_jobs(fn, items, executor=None, workers=None, progress=True)`` returns ``[fn(x) for x in
items]`` in the order of ``items`` whatever order the jobs finish in. Jobs are sent in batches
(fewer round trips). The executor is pluggable:

* ``None``: a ``concurrent.futures.ProcessPoolExecutor`` with ``workers`` processes (default: the
  number of cores), or plain serial execution when ``workers == 1``;
* any ``concurrent.futures.Executor`` (e.g. a Dask ``distributed.Client().get_executor()``);
* any object with a ``.map(fn, iterable)`` method returning results in order (e.g.
  :class:`SerialExecutor`, ``multiprocessing.Pool``).

``fn`` must be picklable for process-based executors (a module-level function, or a
``functools.partial`` of one). A tqdm progress bar goes to stderr; it is disabled when stderr is
not a terminal or ``progress=False``.
"""
from __future__ import annotations

import os
import sys
from concurrent.futures import Executor, ProcessPoolExecutor
from functools import partial

from ..errors import ParameterError

__all__ = ["SerialExecutor", "run_jobs", "default_workers"]


class SerialExecutor:
    """Runs every job in this process, in order (``.map`` like the builtin)."""

    def map(self, fn, iterable):
        return map(fn, iterable)

    def __repr__(self) -> str:
        return "SerialExecutor()"


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _batch(fn, items):
    return [fn(x) for x in items]


def _batches(items: list, n_batches: int) -> list[list]:
    n_batches = max(1, min(n_batches, len(items)))
    size, extra = divmod(len(items), n_batches)
    out, start = [], 0
    for b in range(n_batches):
        stop = start + size + (b < extra)
        out.append(items[start:stop])
        start = stop
    return [b for b in out if b]


def _progress(total: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm
    on = enabled and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    return tqdm(total=total, disable=not on, file=sys.stderr, desc=desc, unit="spec")


def run_jobs(fn, items, *, executor=None, workers: int | None = None, progress: bool = True,
             desc: str = "multiverse", batches_per_worker: int = 4) -> list:
    """``[fn(x) for x in items]`` on ``executor`` (see the module docstring)."""
    items = list(items)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ParameterError(f"The 'workers' parameter of run_jobs must be a positive integer. Got {workers!r} instead.")
    if executor is not None and not (isinstance(executor, Executor) or callable(getattr(executor, "map", None))):
        raise ParameterError("The 'executor' parameter of run_jobs must be a concurrent.futures.Executor or an "
                             f"object with a .map(fn, iterable) method. Got {type(executor).__name__} instead.")
    own = None
    if executor is None:
        workers = workers or default_workers()
        if workers == 1 or len(items) <= 1:
            executor = SerialExecutor()
        else:
            executor = own = ProcessPoolExecutor(max_workers=workers)
    n = workers or default_workers()
    chunks = _batches(items, n * batches_per_worker)
    out: list = []
    try:
        with _progress(len(items), progress, desc) as bar:
            for res in executor.map(partial(_batch, fn), chunks):
                out.extend(res)
                bar.update(len(res))
    finally:
        if own is not None:
            own.shutdown()
    return out
