"""Run many independent jobs on local cores, a user's executor or a Dask cluster, deterministically.

``run_jobs(fn, items, executor=None, workers=None, progress=True)`` returns ``[fn(x) for x in
items]`` in the order of ``items`` whatever order the jobs finish in. :func:`run_batches` is the
streaming form: it yields ``(batch number, results)`` as batches finish, so a caller can write
them to disk instead of holding them (the multiverse does). The executor is pluggable:

* ``None``: serial execution in this process, or a process pool (``fork`` start where the
  platform has it: workers inherit the imported modules and any warm caches) when the measured
  cost of the work pays for it and cores are idle (:func:`choose_workers`); ``workers`` caps the
  processes (``workers=1``: always serial);
* any ``concurrent.futures.Executor`` (process or thread pool);
* a ``dask.distributed.Client`` (jobs are submitted as Dask futures and collected as they
  finish; nothing below this module knows Dask);
* any object with a ``.map(fn, iterable)`` method returning results in order (e.g.
  :class:`SerialExecutor`, ``multiprocessing.Pool``).

``fn`` must be picklable for process-based and distributed executors (a module-level function,
or a ``functools.partial`` of one). A tqdm progress bar goes to stderr when it is a terminal and
``progress`` is true; it counts jobs whose results are back (not jobs sent), so its rate and ETA
stay honest on a cluster.

Threads are not used by default: the jobs are short pure-Python/NumPy computations that hold the
GIL, so threads add overhead without speed (measured on the multiverse).
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from functools import partial

from ..errors import ParameterError

__all__ = ["SerialExecutor", "run_jobs", "run_batches", "default_workers", "choose_workers", "idle_cores",
           "is_dask_client", "batches", "PROCESS_OVERHEAD_S"]

#: Wall time to start a worker process and hand it work, measured on a 2-core Linux machine:
#: a ``fork`` pool of 2 workers runs its first trivial job after about 20 ms; with the IPC of a
#: few dozen batches, about 50 ms. Processes pay off when the serial estimate is several times
#: this (see :func:`choose_workers`).
PROCESS_OVERHEAD_S = 0.05


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


def idle_cores(load: float | None = None) -> int:
    """Cores not busy with other processes: the cores less the 1-minute load average beyond this
    process (at least 1). On a machine other jobs keep busy, extra processes only compete with
    them and repeat the work their caches would have shared (measured: 0.7-0.9x at load 5-8 on
    2 cores)."""
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:  # pragma: no cover - not available
            load = 0.0
    return max(1, min(default_workers(), int(default_workers() + 1 - round(load))))


def choose_workers(n_jobs: int, seconds_per_job: float, workers: int | None = None,
                   load: float | None = None) -> int:
    """Processes worth starting for ``n_jobs`` jobs of ``seconds_per_job`` each (1 = serial).

    Serial when the whole serial run would take less than four times the cost of starting
    processes (:data:`PROCESS_OVERHEAD_S` per worker); otherwise as many workers as idle cores
    (:func:`idle_cores`, given the 1-minute ``load`` average; capped by ``workers``), but no more
    than keep each busy for that long.
    """
    cap = min(workers or default_workers(), idle_cores(load))
    total = n_jobs * max(seconds_per_job, 0.0)
    if cap <= 1 or n_jobs <= 1 or total < 4 * PROCESS_OVERHEAD_S * cap:
        return 1
    return int(max(1, min(cap, n_jobs, total // (4 * PROCESS_OVERHEAD_S))))


def is_dask_client(executor) -> bool:
    """A ``dask.distributed.Client`` (duck-typed: Dask is imported only when one is passed)."""
    return type(executor).__module__.startswith("distributed") and callable(getattr(executor, "submit", None))


def batches(items: list, n_batches: int) -> list[list]:
    """``items`` in at most ``n_batches`` contiguous batches of near-equal size."""
    n_batches = max(1, min(n_batches, len(items)))
    size, extra = divmod(len(items), n_batches)
    out, start = [], 0
    for b in range(n_batches):
        stop = start + size + (b < extra)
        out.append(items[start:stop])
        start = stop
    return [b for b in out if b]


def progress_bar(total: int, enabled: bool, desc: str, initial: int = 0):
    """A tqdm bar on stderr (disabled unless ``enabled`` and stderr is a terminal)."""
    from tqdm import tqdm
    # no monitor thread (it only tunes the refresh of stalled bars): a run forks its report writer
    # only when no other thread is alive (netstrata.synthesis.aside)
    tqdm.monitor_interval = 0
    on = enabled and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    # smoothing=0: the rate is the average since the start, not of the last (bursty) batch
    return tqdm(total=total, initial=initial, disable=not on, file=sys.stderr, desc=desc, unit="spec",
                smoothing=0, dynamic_ncols=True)


def _batch(fn, items):
    return [fn(x) for x in items]


def _check(executor, workers):
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ParameterError(f"The 'workers' parameter of run_jobs must be a positive integer. Got {workers!r} instead.")
    if executor is not None and not (isinstance(executor, Executor) or is_dask_client(executor)
                                     or callable(getattr(executor, "map", None))):
        raise ParameterError("The 'executor' parameter of run_jobs must be a concurrent.futures.Executor, a "
                             "dask.distributed.Client or an object with a .map(fn, iterable) method. "
                             f"Got {type(executor).__name__} instead.")


def local_pool(workers: int):
    """A process pool of ``workers`` (``fork`` start where available: no re-imports)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    try:
        ctx = mp.get_context("fork")
    except ValueError:  # pragma: no cover - no fork on this platform
        ctx = None
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def _executor_batches(executor, fn, todo, in_flight: int):
    """(number, results) from a concurrent.futures executor, at most ``in_flight`` batches pending."""
    pending: dict[Future, int] = {}
    queue = list(reversed(todo))
    while queue or pending:
        while queue and len(pending) < in_flight:
            number, chunk = queue.pop()
            pending[executor.submit(_batch, fn, chunk)] = number
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for fut in sorted(done, key=pending.__getitem__):
            yield pending.pop(fut), fut.result()


def _dask_batches(client, fn, todo):
    """(number, results) from a Dask client, in completion order; each future released when read."""
    from distributed import as_completed
    futures = {client.submit(_batch, fn, chunk, pure=False): number for number, chunk in todo}
    for fut in as_completed(futures):
        result = fut.result()
        number = futures.pop(fut)
        fut.release()
        yield number, result


def run_batches(fn, chunks: Sequence[Sequence], *, executor=None, workers: int = 1, done=(),
                bar=None):
    """Yield ``(batch number, [fn(x) for x in chunks[number]])`` for every batch not in ``done``,
    as batches finish (any order). ``executor=None`` runs serially when ``workers == 1``, else on
    a local process pool of ``workers``. ``bar`` (optional tqdm) is advanced per finished job."""
    _check(executor, workers)
    done = set(done)
    todo = [(i, c) for i, c in enumerate(chunks) if i not in done]
    own = None
    if executor is None and workers > 1 and len(todo) > 1:
        executor = own = local_pool(workers)
    stream: Iterator[tuple[int, list]]
    try:
        if executor is None or isinstance(executor, SerialExecutor):
            stream = ((i, _batch(fn, c)) for i, c in todo)
        elif is_dask_client(executor):
            stream = _dask_batches(executor, fn, todo)
        elif isinstance(executor, Executor):
            cap = getattr(executor, "_max_workers", None) or workers or default_workers()
            stream = _executor_batches(executor, fn, todo, 2 * cap)
        else:
            numbers = [i for i, _ in todo]
            stream = zip(numbers, executor.map(partial(_batch, fn), [c for _, c in todo]))
        for number, res in stream:
            if bar is not None:
                bar.update(len(res))
            yield number, res
    finally:
        if own is not None:
            own.shutdown(cancel_futures=True)


def run_jobs(fn, items, *, executor=None, workers: int | None = None, progress: bool = True,
             desc: str = "multiverse", batches_per_worker: int = 4) -> list:
    """``[fn(x) for x in items]`` on ``executor`` (see the module docstring); with
    ``executor=None`` a process pool of ``workers`` (default: every core) unless ``workers == 1``."""
    items = list(items)
    _check(executor, workers)
    n = workers or default_workers()
    if executor is None and len(items) <= 1:
        n = 1
    chunks = batches(items, n * batches_per_worker)
    out: list = [None] * len(chunks)
    with progress_bar(len(items), progress, desc) as bar:
        for number, res in run_batches(fn, chunks, executor=executor, workers=n, bar=bar):
            out[number] = res
    return [r for res in out for r in res]
