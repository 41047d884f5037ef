"""End-to-end ``netstrata run`` as a new user runs it: a fresh process, wall time, all outputs.

Two projects:

1. the bundled example ``examples/spine-landmark`` (10 studies, 24-specification multiverse);
   goal < 2 s wall on 2 cores;
2. a generated review (``benchmarks/generate.py review_100``: 100 trials, 8 strata x 2 outcomes,
   24 nodes, 1,000 specifications); goal < 15 s wall on 2 cores.

Each is timed with netstrata's defaults (serial or processes chosen from measured cost, figures
rendered on the cores) next to the same run with ``--workers 1`` (everything in one process),
measured in the same run; the smallest, median and largest of the repeats are printed, with the
CPU time (user + system, worker processes included), which a loaded machine changes far less. The
start-up floor (``python -c "import netstrata.cli.run, ..."``, what every run pays before any
work) is printed beside them. Another process loading the machine slows every figure: the
load average is printed with them.

``--baseline SRC`` (a source folder of another netstrata version, e.g. ``git worktree add
/tmp/main main`` then ``/tmp/main/src``) adds that version's run, on the same command line with
``PYTHONPATH=SRC``, alternating with this version's runs (A B A B ...), so a change is measured
against its baseline in the same run and under the same load.

Run:  .venv/bin/python benchmarks/bench_endtoend.py [--repeat 3] [--skip-generated] [--baseline SRC]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
EXAMPLE = ROOT / "examples" / "spine-landmark"
CLI = [str(Path(sys.executable).parent / "netstrata")]
IMPORTS = ("import netstrata.cli.run, netstrata.synthesis.pipeline, netstrata.nma, netstrata.present, "
           "netstrata.certainty, jinja2")     # what a run imports (python -X importtime; no scipy.stats,
                                              # scipy.optimize or scipy.linalg since issue 18's third pass)


_CPU: list[float] = []


def _wall(cmd: list[str], env: dict | None = None) -> float:
    """Wall time of ``cmd``; its CPU time (user + system, with its worker processes) goes to _CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall


def _runs(project: Path, extra: list[str], repeat: int, tmp: Path) -> list[float]:
    _CPU.clear()
    return [_wall([*CLI, "run", str(project), "--out", str(tmp / f"out{i}"), "--quiet", *extra])
            for i in range(repeat)]


def _fmt(times: list[float]) -> str:
    cpu = f"; CPU {min(_CPU):.2f}-{max(_CPU):.2f} s" if _CPU else ""
    return (f"{min(times):6.2f} s (median {statistics.median(times):.2f}, max {max(times):.2f}, "
            f"{len(times)} runs{cpu})")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def paired(project: Path, repeat: int, tmp: Path, baseline: Path) -> tuple[list, list, list, list]:
    """(this version's walls, CPU; the baseline's walls, CPU), the two run in turn."""
    env = {**os.environ, "PYTHONPATH": str(baseline)}
    runs: dict[str, tuple[list, list]] = {"new": ([], []), "base": ([], [])}
    for i in range(repeat):
        for key, extra_env in (("new", None), ("base", env)):
            _CPU.clear()
            cmd = [*CLI, "run", str(project), "--out", str(tmp / f"{key}{i}"), "--quiet"]
            runs[key][0].append(_wall(cmd, extra_env))
            runs[key][1].append(_CPU[0])
    return (*runs["new"], *runs["base"])


def report_paired(name: str, project: Path, repeat: int, goal: float, tmp: Path, baseline: Path) -> None:
    new, new_cpu, base, base_cpu = paired(project, repeat, tmp, baseline)
    ratios = sorted(b / n for n, b in zip(new, base))
    print(f"{name}")
    _CPU[:] = new_cpu
    print(f"  netstrata run (this version):  {_fmt(new)}   goal < {goal:g} s: "
          f"{'met' if min(new) < goal else 'NOT met'} (best run), {_load()}")
    _CPU[:] = base_cpu
    print(f"  baseline ({baseline}):  {_fmt(base)}   speed-up {min(ratios):.2f}-{max(ratios):.2f}x "
          "(pair by pair)")


def report(name: str, project: Path, repeat: int, goal: float, tmp: Path) -> None:
    best = _runs(project, [], repeat, tmp)
    line = _fmt(best)
    serial = _runs(project, ["--workers", "1"], repeat, tmp)
    print(f"{name}")
    print(f"  netstrata run (defaults):     {line}   goal < {goal:g} s: "
          f"{'met' if min(best) < goal else 'NOT met'} (best run), {_load()}")
    print(f"  baseline: --workers 1:        {_fmt(serial)}   ratio {statistics.median(serial) / statistics.median(best):.2f}x"
          " (medians)")


def _compile(folders) -> None:
    """Bytecode for every module first, as an installed wheel has it: an editable install in an
    environment that sets PYTHONDONTWRITEBYTECODE (this one does) would otherwise compile about
    200 modules in every run (0.3 s of the bundled example's)."""
    import compileall
    for folder in folders:
        compileall.compile_dir(str(folder), quiet=2)
    print("bytecode compiled first (as an installed wheel has it)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-generated", action="store_true")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="source folder of the netstrata version to compare with (run with PYTHONPATH)")
    args, _ = ap.parse_known_args(argv)
    run = report if args.baseline is None else partial(report_paired, baseline=args.baseline.resolve())
    _compile([ROOT / "src", *([args.baseline] if args.baseline is not None else [])])
    _CPU.clear()
    floor = [_wall([sys.executable, "-c", IMPORTS]) for _ in range(args.repeat)]
    print(f"start-up floor (imports of a run in a fresh process): {_fmt(floor)}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run("bundled example (spine-landmark, 24 specifications)", EXAMPLE, args.repeat, 2.0, tmp)
        if not args.skip_generated:
            sys.path.insert(0, str(HERE))
            from generate import review_100
            project = review_100(tmp / "review-100")
            run("generated review (100 trials, 16 strata, 24 nodes, 1,000 specifications)", project,
                max(1, args.repeat - 1), 15.0, tmp)


if __name__ == "__main__":
    main()
