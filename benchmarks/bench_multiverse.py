"""Benchmark of the multiverse engine: 1,000 refits of an 80-study / 15-node network.

Each refit is one specification of a leave-studies-out multiverse: a seeded subset of the studies
(about 10 % left out, the network kept connected by the spanning chain of studies) is refitted
with ``netstrata.network`` (random effects, DL) and its estimates versus the reference are kept.
The 1,000 refits run through :func:`netstrata.synthesis.parallel.run_jobs` serially and on a
process pool of 2 workers; results must be identical, and the speed-up from parallelism is
printed. Goal: < 5 s with 2 workers on 2 cores.

``netstrata.synthesis.simulate.simulate_contrasts`` draws networks of the spine scenario's five
treatments, so the 15-node network is simulated here (same generator as bench_network.py).

Second part: the multiverse of a generated review (benchmarks/generate.py ``review_100``), per
specification: each specification analysed on its own (the pre-issue-18 path: prepare the records,
analyse every layer of every stratum; baseline), netstrata's SpecRunner serially (shared records,
filters and stratum fits), on 2 local processes, and on a Dask LocalCluster of 2 worker processes
(cluster start-up excluded, each worker loading the project included). Results are compared.

Third part, with ``--baseline SRC`` (a source folder of another netstrata version, e.g. ``git
worktree add /tmp/main main`` then ``/tmp/main/src``): the multiverse phase of ``netstrata run`` on
the generated review (all 1,000 specifications, serial, streamed to its store as the CLI does:
:func:`~netstrata.synthesis.multiverse.run_multiverse` with the checked plan), this
version and the baseline in turn (A B A B ..., fresh processes, ``PYTHONPATH=SRC`` for the
baseline), ``--repeat`` times: wall and CPU seconds of each run and the speed-up pair by pair;
the two curves must be equal.

Run:  .venv/bin/python benchmarks/bench_multiverse.py [--refits 1000] [--workers 2] [--specs 60]
                                                      [--baseline SRC --repeat 3]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from netstrata.synthesis.parallel import SerialExecutor, run_jobs

N_TREAT, N_STUDIES, CHAIN = 15, 80, 14   # studies 0..13 form a chain T00-T01-...-T14


def simulate(n_treat: int = N_TREAT, n_studies: int = N_STUDIES, seed: int = 1) -> pd.DataFrame:
    """Two-arm studies (the first n_treat - 1 a chain, so the network is connected)."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0, 0.5, n_treat)
    labels = [f"T{i:02d}" for i in range(n_treat)]
    pairs = [(i, i + 1) for i in range(n_treat - 1)]
    pairs += [tuple(sorted(rng.choice(n_treat, 2, replace=False).tolist())) for _ in range(n_studies - len(pairs))]
    rows = []
    for s, (a, b) in enumerate(pairs):
        v = rng.uniform(0.02, 0.2)
        rows.append((f"S{s:03d}", labels[a], labels[b], mu[a] - mu[b] + rng.normal(0, 0.2) + rng.normal(0, np.sqrt(v)),
                     np.sqrt(v)))
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])


def refit(data: pd.DataFrame, spec: int) -> tuple:
    """One specification: drop ~10 % of the non-chain studies (seeded by ``spec``) and refit."""
    from netstrata import network
    rng = np.random.default_rng(spec)
    drop = rng.random(len(data)) < 0.1
    drop[:CHAIN] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = network(data[~drop].reset_index(drop=True), method="DL", reference="T00")
    return (spec, float(net.tau2), tuple(net.league("random").loc[:, "T00"].to_numpy().tolist()))


def _one_by_one(review, sens, settings, primary, variables, evidence) -> list:
    """Baseline: every specification prepared and analysed on its own (all layers)."""
    from netstrata.synthesis.choices import node_translation
    from netstrata.synthesis.multiverse import specifications
    from netstrata.synthesis.records import prepare
    from netstrata.synthesis.specrun import curve_rows
    from netstrata.synthesis.stratify import analyse_strata
    rows = []
    for spec in specifications(sens, primary, 0):
        prepared = prepare(review, spec.choices)
        split, lumped = analyse_strata(review, prepared, settings, variables, evidence=evidence)
        tr = None
        if spec.choices.node_level != primary.node_level:
            tr = node_translation(review.node_map(primary.node_level), review.node_map(spec.choices.node_level))
        roles = dict(prepared.roles)
        roles.update({tr[n]: r for n, r in prepared.roles.items() if n in (tr or {})})
        rows += curve_rows(spec.index, split, lumped, tr, roles)
    return rows


def multiverse_per_spec(n_specs: int, workers: int) -> None:
    from dataclasses import replace

    from netstrata.data import load_review
    from netstrata.synthesis.canonical import canonical_review
    from netstrata.synthesis.choices import Choices
    from netstrata.synthesis.config import parse_models, parse_sensitivity
    from netstrata.synthesis.evidence import parse_evidence
    from netstrata.synthesis.multiverse import run_multiverse
    from netstrata.synthesis.parallel import local_pool
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from generate import review_100
    with tempfile.TemporaryDirectory() as tmp:
        review = canonical_review(load_review(review_100(f"{tmp}/review")))
        plan = review.plan
        settings = parse_models(plan.sections.get("models"))
        sens = replace(parse_sensitivity(plan.sections.get("sensitivity"), plan, review.pack),
                       max_specifications=n_specs)
        evidence = parse_evidence(plan.sections.get("evidence"))
        primary = Choices(node_level=plan.node_level)
        for name, alts in sens.dimensions:
            if name != "design":
                primary = replace(primary, **{name: alts[0]})
        kw = dict(primary=primary, seed=0, progress=False, evidence=evidence)
        times = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            _one_by_one(review, sens, settings, primary, tuple(plan.strata), evidence)
            times["each specification on its own (baseline)"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            ref = run_multiverse(review, sens, settings, workers=1, **kw)
            times["SpecRunner, serial"] = time.perf_counter() - t0
            with local_pool(workers) as pool:
                t0 = time.perf_counter()
                pooled = run_multiverse(review, sens, settings, executor=pool, **kw)
                times[f"SpecRunner, {workers} local processes"] = time.perf_counter() - t0
            same = pooled.curve.equals(ref.curve)
            try:
                from distributed import Client, LocalCluster
            except ImportError:
                Client = None
            if Client is not None:
                with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=40) as cluster, Client(cluster) as client:
                    t0 = time.perf_counter()
                    remote = run_multiverse(review, sens, settings, executor=client, **kw)
                    times[f"SpecRunner, Dask LocalCluster ({workers} workers)"] = time.perf_counter() - t0
                same = same and remote.curve.equals(ref.curve)
    n = len(ref.specifications)
    base = times["each specification on its own (baseline)"]
    print(f"multiverse of a generated review (100 trials, 16 strata + 2 lumped, 24 nodes): first {n} of its "
          f"1,000 specifications")
    for name, t in times.items():
        print(f"  {name:<45} {1e3 * t / n:8.1f} ms per specification  ({base / t:5.2f}x the baseline)")
    print(f"  curves identical across executors: {same}")


#: run in a fresh process: the multiverse of a project as ``netstrata run`` runs it (argv: project,
#: out folder, file for the curve); prints "wall cpu" seconds
PHASE = """
import sys, time, warnings
from pathlib import Path
from netstrata.synthesis.adjudicated import load_project
from netstrata.synthesis.canonical import canonical_review
from netstrata.synthesis.checks import check_review
from netstrata.synthesis.multiverse import run_multiverse
project, out, curve_file = sys.argv[1:4]
review = canonical_review(load_project(project)[0])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    c = check_review(review)
    t0, c0 = time.perf_counter(), time.process_time()
    mv = run_multiverse(review, c.sensitivity, c.settings, primary=c.primary, seed=0, workers=1, progress=False,
                        evidence=c.evidence, store=Path(out) / "multiverse", min_store=None)
    t = (time.perf_counter() - t0, time.process_time() - c0)
mv.curve.to_pickle(curve_file)
print(*t)
"""


def multiverse_phase(baseline: Path, repeat: int) -> None:
    """The multiverse phase of ``netstrata run`` on the generated review, this version and the
    baseline in turn (see the module docstring)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from generate import review_100
    runs: dict[str, list[tuple[float, float]]] = {"new": [], "base": []}
    with tempfile.TemporaryDirectory() as tmp:
        project = review_100(Path(tmp) / "review")
        for i in range(repeat):
            for key, env in (("new", None), ("base", {**os.environ, "PYTHONPATH": str(baseline)})):
                out = Path(tmp) / f"{key}{i}"
                out.mkdir()
                text = subprocess.run([sys.executable, "-c", PHASE, str(project), str(out), str(out / "curve.pkl")],
                                      check=True, capture_output=True, text=True, env=env).stdout
                wall, cpu = map(float, text.split()[-2:])
                runs[key].append((wall, cpu))
        same = all(pd.read_pickle(Path(tmp) / f"new{i}" / "curve.pkl").equals(
            pd.read_pickle(Path(tmp) / f"base{i}" / "curve.pkl")) for i in range(repeat))
    load = os.getloadavg()[0]
    print(f"multiverse phase of `netstrata run` on the generated review (1,000 specifications, serial, "
          f"{repeat} runs each, load average {load:.1f} on {os.cpu_count()} cores)")
    for key, name in (("new", "this version"), ("base", f"baseline ({baseline})")):
        w, c = zip(*runs[key])
        print(f"  {name:<40} wall {min(w):6.2f}-{max(w):6.2f} s, CPU {min(c):6.2f}-{max(c):6.2f} s")
    ratios = sorted(b[0] / n[0] for n, b in zip(runs["new"], runs["base"]))
    cpu = sorted(b[1] / n[1] for n, b in zip(runs["new"], runs["base"]))
    print(f"  speed-up pair by pair: wall {ratios[0]:.2f}-{ratios[-1]:.2f}x, CPU {cpu[0]:.2f}-{cpu[-1]:.2f}x; "
          f"curves equal: {same}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refits", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--specs", type=int, default=60)
    ap.add_argument("--baseline", type=Path, default=None,
                    help="source folder of the netstrata version to compare the multiverse phase with")
    ap.add_argument("--repeat", type=int, default=3)
    args, _ = ap.parse_known_args(argv)   # run_all.py passes its own arguments
    if args.baseline is not None:
        multiverse_phase(args.baseline.resolve(), args.repeat)
    multiverse_per_spec(args.specs, args.workers)
    data = simulate()
    fn = partial(refit, data)
    specs = range(args.refits)
    fn(0)   # warm imports in this process
    t0 = time.perf_counter()
    serial = run_jobs(fn, specs, executor=SerialExecutor(), progress=False)
    t_serial = time.perf_counter() - t0
    t0 = time.perf_counter()
    parallel = run_jobs(fn, specs, workers=args.workers, progress=False)
    t_par = time.perf_counter() - t0
    assert parallel == serial, "parallel results differ from serial results"
    print(f"netstrata multiverse benchmark: {args.refits} refits of an {N_STUDIES}-study / {N_TREAT}-node network "
          f"(random effects, DL)")
    print(f"  serial:              {t_serial:7.2f} s  ({args.refits / t_serial:7.1f} refits/s)")
    print(f"  {args.workers} workers (process pool): {t_par:6.2f} s  ({args.refits / t_par:7.1f} refits/s)"
          f"  [pool start-up included]")
    print(f"  speed-up from parallelism: {t_serial / t_par:.2f}x; results identical: {parallel == serial}")
    print(f"  goal < 5 s with {args.workers} workers: {'met' if t_par < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
