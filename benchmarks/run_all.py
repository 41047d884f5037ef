"""Run every benchmark in this folder, one after another, and print their figures.

Each ``bench_*.py`` prints its own timings next to a baseline measured in the same run, so the
ratios are meaningful on any machine. Tests never assert wall-clock time; this script is for people.
Usage: ``python benchmarks/run_all.py [name ...]``.
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(names: list[str]) -> None:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if any(n in s.stem for n in names)]
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
