"""The multiverse: every combination of the plan's sensitivity alternatives, run and summarised.

Each combination is a frozen :class:`Specification` (index 0 = the first alternative of every
dimension = the primary analysis). Each specification re-prepares the records (node map, time
window, filters, design) and re-analyses every stratum and the lumped analysis; per comparison it
keeps the primary layer's estimate (network if available, else the direct estimate or the study).
The specification curve has one row per specification × comparison; :func:`holding` summarises
how often each comparison's primary conclusion holds (definitions in
:mod:`netstrata.synthesis.conclusions`).

Determinism: specifications are enumerated in a fixed order (``itertools.product`` of the
dimensions in :data:`~netstrata.synthesis.config.DIMENSIONS` order), sampled with the run's seed
when there are more than ``max_specifications``, and results are collected in specification order
whatever the executor and completion order.

Execution: :class:`~netstrata.synthesis.specrun.SpecRunner` evaluates specifications, reusing the
records, filters and stratum fits they share. Specifications go out in contiguous batches; the
first batch runs in this process (warming the caches and measuring the cost), the rest serially,
on local processes (:func:`~netstrata.synthesis.parallel.choose_workers`), on a given executor
or on a ``dask.distributed.Client`` (workers load the project from its path: it must be readable
there). With a ``store`` each finished batch is written to disk
(:mod:`~netstrata.synthesis.multiverse_store`), so a large multiverse is never held in memory and
an interrupted run resumes where it stopped.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd

from .. import __version__
from ..data import load_review
from .canonical import canonical_review
from .choices import Choices
from .conclusions import classify_frame, holding, threshold
from .config import ModelSettings, SensitivityPlan
from .multiverse_store import CurveStore, RobustnessAccumulator, batch_size
from .parallel import choose_workers, local_pool, progress_bar, run_batches
from .specrun import SpecRunner

__all__ = ["Specification", "MultiverseResult", "specifications", "run_multiverse", "start_multiverse",
           "PendingMultiverse", "ReviewHandle", "CURVE_COLUMNS"]

CURVE_COLUMNS = ["specification", "comparison", "stratum", "outcome", "layer", "treat1", "treat2", "node1", "node2",
                 "measure", "k", "source", "estimate", "se", "ci_low", "ci_high"]


@dataclass(frozen=True, slots=True, order=True)
class Specification:
    """One combination of analytic choices."""

    index: int
    choices: Choices

    @property
    def label(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.choices.items())

    @property
    def is_primary(self) -> bool:
        return self.index == 0


def specifications(plan: SensitivityPlan, primary: Choices, seed: int | None = 0) -> tuple[Specification, ...]:
    """Every combination (index 0 = primary); sampled with ``seed`` above ``max_specifications``."""
    names = [n for n, _ in plan.dimensions]
    combos = itertools.product(*(alts for _, alts in plan.dimensions))
    base = {k: v for k, v in primary.items()}
    specs = []
    for i, combo in enumerate(combos):
        choices = Choices(**{**base, **dict(zip(names, combo))})
        if choices.node_level == "None":     # Choices.items() writes no node level as "None"
            choices = replace(choices, node_level=None)
        specs.append(Specification(i, choices))
    if not specs:
        specs = [Specification(0, primary)]
    cap = plan.max_specifications
    if cap is not None and len(specs) > cap:
        rng = np.random.default_rng(seed)
        keep = sorted(rng.choice(np.arange(1, len(specs)), size=cap - 1, replace=False).tolist()) if cap > 1 else []
        specs = [specs[0]] + [specs[i] for i in keep]
    return tuple(specs)


class ReviewHandle:
    """A Review that travels to worker processes as (path, fingerprint) and is reloaded there once.

    A Review holds read-only mapping proxies and is not picklable; workers reload it from its
    path (cached per process) and check the fingerprint, so a changed project is never mixed in.
    """

    _cache: dict = {}

    def __init__(self, review):
        self._review, self.path, self.fingerprint = review, review.path, review.fingerprint

    def __getstate__(self):
        return {"path": self.path, "fingerprint": self.fingerprint}

    def __setstate__(self, state):
        self.path, self.fingerprint, self._review = state["path"], state["fingerprint"], None

    def get(self):
        if self._review is None:
            key = (self.path, self.fingerprint)
            if key not in ReviewHandle._cache:
                review = load_review(self.path)
                if review.fingerprint != self.fingerprint:
                    raise RuntimeError(f"the project at {self.path} changed during the run (fingerprint differs)")
                ReviewHandle._cache[key] = canonical_review(review)   # same row order as the parent
            self._review = ReviewHandle._cache[key]
        return self._review


@dataclass(frozen=True, slots=True, eq=False)
class MultiverseResult:
    """Specifications, the specification curve and how often each conclusion holds.

    ``curve_file``: set when the curve was too large to hold in memory (see
    :data:`CURVE_IN_MEMORY_ROWS`); ``curve`` is then empty and the rows are in that CSV file
    (path relative to the run's output folder)."""

    specifications: tuple[Specification, ...]
    curve: pd.DataFrame
    robustness: pd.DataFrame
    dimensions: tuple[tuple[str, tuple[str, ...]], ...]
    n_combinations: int
    seed: int | None
    curve_file: str | None = None

    def specifications_frame(self) -> pd.DataFrame:
        rows = [{"specification": s.index, "primary": s.is_primary, **dict(s.choices.items())}
                for s in self.specifications]
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        return (f"MultiverseResult(specifications={len(self.specifications)} of {self.n_combinations}, "
                f"comparisons={len(self.robustness)})")


def _conclusions(curve: pd.DataFrame, plan) -> pd.DataFrame:
    if not len(curve):
        return curve.assign(mid_threshold=[], small_values=[], conclusion=[])
    spec = {o.id: o for o in plan.outcomes}
    mid = {o: threshold(s.mid, s.measure) for o, s in spec.items()}
    curve = curve.assign(mid_threshold=curve["outcome"].map(mid),
                         small_values=curve["outcome"].map({o: s.small_values for o, s in spec.items()}))
    concl = classify_frame(curve)
    concl[~np.isfinite(curve["estimate"].to_numpy(float))] = "not_estimable"
    return curve.assign(conclusion=concl)


def _curve(rows, plan) -> pd.DataFrame:
    """Curve rows (whole specifications) -> the sorted curve with conclusions."""
    curve = pd.DataFrame(rows, columns=CURVE_COLUMNS).sort_values(["specification", "comparison", "node1", "node2"],
                                                                 kind="stable")
    return _conclusions(curve.reset_index(drop=True), plan)


#: ``netstrata run`` streams a multiverse to disk (resumable) from this many specifications on;
#: a smaller one runs in memory and leaves nothing beside the outputs when interrupted.
STREAM_MIN_SPECIFICATIONS = 1000

#: Above this many curve rows a stored multiverse streams its curve to a CSV file instead of
#: holding it (about 200 MB as a DataFrame); the robustness table is computed batch by batch.
CURVE_IN_MEMORY_ROWS = 1_000_000

#: Above this many curve rows ``netstrata run`` writes the curve once, to
#: ``tables/specification_curve.csv``, and ``results.json`` references it (``curve_file``, with its
#: ``curve_rows`` and ``curve_sha256``) instead of holding it: a 1,000-specification multiverse of
#: a 100-trial review has about 280,000 rows, 185 MB of JSON beside the same rows as CSV.
CURVE_JSON_ROWS = 50_000

#: curve rows of a streamed run's own batches also kept in memory for the assembly (reading the
#: store back costs about 3 s on a 1,000-specification review); beyond this many, the store is read
KEEP_ROWS = 500_000

# SpecRunners of this process, by run token: built once in the parent (and inherited by forked
# workers), or on a worker from the ReviewHandle.
_RUNNERS: dict = {}
_RUNNERS_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class _Job:
    """What a worker needs to evaluate specifications (picklable: the review travels as a handle)."""

    token: str
    handle: ReviewHandle
    settings: ModelSettings
    variables: tuple
    primary_level: object
    evidence: object

    def runner(self):
        with _RUNNERS_LOCK:       # a Dask worker may run several threads
            run = _RUNNERS.get(self.token)
            if run is None:
                _RUNNERS.clear()          # one run at a time per process
                run = _RUNNERS[self.token] = SpecRunner(self.handle.get(), self.settings, self.variables,
                                                        self.primary_level, self.evidence)
        return run


def _rows_of(job: _Job, spec: Specification) -> list[tuple]:
    return job.runner().rows(spec)


def _token(review, settings, variables, primary_level, evidence, specs) -> str:
    import hashlib
    text = repr((review.fingerprint, settings, variables, primary_level, evidence, len(specs),
                 specs[-1] if specs else None))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _manifest(review, settings, sensitivity, specs, seed, evidence, size) -> dict:
    return {"netstrata_version": __version__, "fingerprint": review.fingerprint, "settings": repr(settings),
            "evidence": repr(evidence), "dimensions": repr(sensitivity.dimensions), "seed": seed,
            "specifications": len(specs), "batch_size": size,
            "specifications_digest": _token(review, settings, (), None, None, specs)}


def run_multiverse(review, sensitivity: SensitivityPlan, settings: ModelSettings, *, primary: Choices | None = None,
                   variables=None, seed: int | None = 0, executor=None, workers: int | None = None,
                   progress: bool = True, evidence=None, store=None, resume: bool = False,
                   log=None, min_store: int | None = 0) -> MultiverseResult:
    """Run every specification of ``sensitivity`` on ``review`` (see the module docstring).

    Parameters
    ----------
    evidence : EvidencePlan, optional
        The plan's declared layers per stratum, applied in every specification (default: all).
    executor : optional
        None (serial or a local process pool, chosen from the measured cost of the first
        specification: :func:`~netstrata.synthesis.parallel.choose_workers`), a
        ``concurrent.futures.Executor``, a ``dask.distributed.Client`` or any object with ``.map``.
    workers : int, optional
        Cap on local processes (1 = serial).
    store : path, optional
        Folder to stream finished batches into (:class:`~.multiverse_store.CurveStore`);
        with ``resume=True`` batches already there (same project, settings and seed) are not run
        again. Results are identical with or without a store, resumed or not.
    log : callable, optional
        Receives one-line messages (how the work is run, resumed batches).
    min_store : int or None
        Use ``store`` only from this many specifications on (None: :data:`STREAM_MIN_SPECIFICATIONS`).
    """
    return start_multiverse(review, sensitivity, settings, primary=primary, variables=variables, seed=seed,
                            executor=executor, workers=workers, progress=progress, evidence=evidence, store=store,
                            resume=resume, log=log, min_store=min_store).result()


def start_multiverse(review, sensitivity: SensitivityPlan, settings: ModelSettings, *,
                     primary: Choices | None = None, variables=None, seed: int | None = 0, executor=None,
                     workers: int | None = None, progress: bool = True, evidence=None, store=None,
                     resume: bool = False, log=None, min_store: int | None = 0) -> PendingMultiverse:
    """:func:`run_multiverse` (same parameters and results), started: the first batches run here;
    when the rest go to local processes (forked here, before this returns) they run while the
    caller goes on with other work, and :meth:`PendingMultiverse.result` waits for them.
    Otherwise (serial, a given executor or a Dask client) they run in ``result()``."""
    primary = primary or Choices(node_level=review.plan.node_level)
    variables = tuple(review.plan.strata if variables is None else variables)
    specs = specifications(sensitivity, primary, seed)
    review = canonical_review(review)
    token = _token(review, settings, variables, primary.node_level, evidence, specs)
    job = _Job(token, ReviewHandle(review), settings, variables, primary.node_level, evidence)
    _RUNNERS.clear()
    _RUNNERS[token] = runner = _local_runner(review, settings, variables, primary.node_level, evidence)
    if store is not None and len(specs) < (STREAM_MIN_SPECIFICATIONS if min_store is None else min_store):
        store = None
    size = batch_size(len(specs))
    chunks = [specs[i:i + size] for i in range(0, len(specs), size)]
    cs = None
    if store is not None:
        cs = CurveStore.open(store, _manifest(review, settings, sensitivity, specs, seed, evidence, size),
                             resume=resume)
        if cs.done and log:
            log(f"multiverse: resuming, {sum(len(chunks[i]) for i in cs.done if i < len(chunks))} of "
                f"{len(specs)} specifications already done")
    results: dict[int, list] = {}
    kept = _Kept()
    done = set(cs.done) if cs is not None else set()
    per_spec = 0.0
    # The first pending batch runs here: it warms the caches (node maps, prepared records, fits
    # shared by specifications). Without an executor the second also runs here: it measures what
    # a warm specification costs, which decides whether processes pay (the first overstates it).
    here = 1 if executor is not None else 2
    for number in [i for i in range(len(chunks)) if i not in done][:here]:
        t0 = time.perf_counter()
        results[number] = [runner.rows(s) for s in chunks[number]]
        per_spec = (time.perf_counter() - t0) / len(chunks[number])
        if cs is not None:
            kept.add(number, results.pop(number), cs)
        done.add(number)
    n_left = sum(len(c) for i, c in enumerate(chunks) if i not in done)
    n_workers = workers if executor is not None else choose_workers(n_left, per_spec, workers)
    if log and n_left:
        how = (type(executor).__name__ if executor is not None else
               "serial" if n_workers == 1 else f"{n_workers} local processes")
        log(f"multiverse: {len(specs)} specifications, {n_left} to run ({how}; about {1e3 * per_spec:.0f} ms "
            "each serially)")
    fn = partial(_rows_of, job)
    pool = None
    if executor is None and (n_workers or 1) > 1 and len(done) < len(chunks) - 1:
        pool = local_pool(n_workers or 1)
        pool.submit(int).result()     # the workers fork now, from this thread (no thread of ours runs yet)

    def collect() -> None:
        with progress_bar(len(specs), progress, "multiverse", initial=len(specs) - n_left) as bar:
            for number, res in run_batches(fn, chunks, executor=executor if pool is None else pool,
                                           workers=n_workers or 1, done=done, bar=bar):
                if cs is not None:
                    kept.add(number, res, cs)
                else:
                    results[number] = res

    def assemble() -> MultiverseResult:
        return _assemble(review.plan, specs, chunks, results if cs is None else kept.batches, cs, sensitivity, seed)
    return PendingMultiverse(collect, assemble, pool)


class PendingMultiverse:
    """A multiverse under way (:func:`start_multiverse`). With a local process ``pool`` the batches
    are collected (and streamed to the store) by a background thread while the caller works;
    :meth:`result` waits for them, shuts the pool down and assembles the result. Without one,
    :meth:`result` runs the remaining batches itself. An error of the batches is raised by
    :meth:`result`."""

    def __init__(self, collect, assemble, pool=None):
        self._collect, self._assemble, self._pool = collect, assemble, pool
        self._error: BaseException | None = None
        self._thread = None
        if pool is not None:
            self._thread = threading.Thread(target=self._run, name="netstrata-multiverse", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._collect()
        except BaseException as exc:       # noqa: BLE001 - handed to the caller by result()
            self._error = exc

    def result(self) -> MultiverseResult:
        try:
            if self._thread is None:
                self._collect()
            else:
                self._thread.join()
                if self._error is not None:
                    raise self._error
        finally:
            self.cancel()
        return self._assemble()

    def cancel(self) -> None:
        """Stop the local processes (pending batches are dropped; nothing is assembled)."""
        if self._pool is not None:
            self._pool.shutdown(wait=self._thread is None or not self._thread.is_alive(), cancel_futures=True)
            self._pool = None


def _local_runner(review, settings, variables, primary_level, evidence):
    return SpecRunner(review, settings, variables, primary_level, evidence)


class _Kept:
    """Batches of a streamed run also held in memory, as the store gives them back, while they
    hold at most :data:`KEEP_ROWS` curve rows (then none: the assembly reads the store)."""

    def __init__(self):
        self.batches: dict[int, list] = {}
        self.rows = 0

    def add(self, number: int, res: list, cs: CurveStore) -> None:
        cs.write(number, res)
        self.rows += sum(len(r) for r in res)
        if self.rows > KEEP_ROWS:
            self.batches.clear()
        else:
            self.batches[number] = cs.as_read(res)


def _assemble(plan, specs, chunks, results, cs, sensitivity, seed) -> MultiverseResult:
    """The MultiverseResult from batches in memory or in the store (streamed when large);
    ``results``: the batches in memory (with a store: those kept, :class:`_Kept`)."""
    def batch(i):
        return results[i] if cs is None or i in results else cs.read(i)
    total = None
    if cs is not None:
        total = sum(len(r) for i in range(len(chunks)) for r in batch(i))
    if total is None or total <= CURVE_IN_MEMORY_ROWS:
        rows = [r for i in range(len(chunks)) for res in batch(i) for r in res]
        curve = _curve(rows, plan)
        return MultiverseResult(specs, curve, holding(curve), sensitivity.dimensions, sensitivity.n_combinations,
                                seed)
    acc = RobustnessAccumulator()
    path = cs.folder / "specification_curve.csv"
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        for i in range(len(chunks)):
            part = _curve([r for res in batch(i) for r in res], plan)
            acc.add(part)
            part.to_csv(fh, index=False, header=i == 0, float_format="%.17g")
    os.replace(tmp, path)
    empty = _curve([], plan)
    return MultiverseResult(specs, empty, acc.frame(), sensitivity.dimensions, sensitivity.n_combinations, seed,
                            curve_file=f"{cs.folder.name}/{path.name}")
