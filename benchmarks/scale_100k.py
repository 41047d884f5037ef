"""A 100,000-specification multiverse of an 80-study network on a Dask LocalCluster (run by hand).

Generates the project (benchmarks/generate.py ``network_80``), starts a LocalCluster of 2
single-threaded worker processes, runs ``netstrata run`` on it and samples the resident memory
of this process and of every worker twice a second. Prints the wall time and the peak RSS.
Interrupt it (Ctrl-C) and start it again with ``--resume`` to continue where it stopped.

Not part of ``make bench`` or the tests (it takes many minutes on 2 cores).

Run:  .venv/bin/python benchmarks/scale_100k.py OUT [--specs 100000] [--resume] [--workers 2]
"""
from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path


def _sampler(stop: threading.Event, peaks: dict) -> None:
    import psutil
    me = psutil.Process()
    while not stop.is_set():
        try:
            procs = [me] + me.children(recursive=True)
            rss = {p.pid: p.memory_info().rss for p in procs}
        except psutil.Error:
            continue
        peaks["parent"] = max(peaks.get("parent", 0), rss.get(me.pid, 0))
        peaks["worker"] = max([peaks.get("worker", 0)] + [v for k, v in rss.items() if k != me.pid])
        peaks["total"] = max(peaks.get("total", 0), sum(rss.values()))
        stop.wait(0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--specs", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()
    from distributed import Client, LocalCluster

    from generate import network_80
    from netstrata.cli.run import run_project

    out = Path(args.out)
    project = out / "project"
    if not args.resume:
        network_80(project, specifications=args.specs)
    peaks: dict = {}
    stop = threading.Event()
    threading.Thread(target=_sampler, args=(stop, peaks), daemon=True).start()
    t0 = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        res = run_project(project, out_dir=out / "run", executor=client, resume=args.resume, log=print)
    wall = time.perf_counter() - t0
    stop.set()
    mv = res.result.multiverse
    gib = 2 ** 30
    print(f"{len(mv.specifications)} specifications ({mv.n_combinations} combinations), "
          f"{len(mv.robustness)} comparisons; curve: {mv.curve_file}")
    print(f"wall {wall:.0f} s; peak RSS: this process {peaks['parent'] / gib:.2f} GiB, largest worker "
          f"{peaks['worker'] / gib:.2f} GiB, all processes together {peaks['total'] / gib:.2f} GiB")


if __name__ == "__main__":
    main()
