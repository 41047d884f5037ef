"""Benchmark of the class-effect models and threshold analysis (one run, prints figures).

On the 80-study / 15-treatment network of bench_network.py (75 two-arm + 5 three-arm studies),
with the 15 treatments in five classes of three, timed next to the plain network fit
(``netstrata.network``, DL and REML) measured in the same run:

1. ``class_network`` for each class model (REML; common- and random-effects fits), and
   ``compare()`` (the three models by ML, plus the estimates for the shrinkage table);
2. ``threshold`` at study and contrast level.

Run:  .venv/bin/python benchmarks/bench_classes.py
"""
from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import netstrata  # noqa: E402
from bench_network import best_of, simulate  # noqa: E402


def main() -> None:
    warnings.simplefilter("ignore")
    data = simulate(15, 75, 5, seed=2)
    trts = sorted(set(data.treat1) | set(data.treat2))
    classes = {t: f"class{i // 3}" for i, t in enumerate(trts)}
    print(f"network: {len(data)} comparisons, 80 studies, {len(trts)} treatments in 5 classes of 3")
    t_dl = best_of(lambda: netstrata.network(data), 20)
    t_reml = best_of(lambda: netstrata.network(data, method="REML"), 5)
    print(f"  netstrata.network (DL):                        {1e3 * t_dl:8.2f} ms  (baseline)")
    print(f"  netstrata.network (REML):                      {1e3 * t_reml:8.2f} ms  (baseline)")
    for model in ("independent", "common", "exchangeable"):
        t = best_of(lambda m=model: netstrata.class_network(data, classes, model=m), 3)
        print(f"  class_network({model!r:15}, REML):       {1e3 * t:8.2f} ms  "
              f"({t / t_reml:5.1f}x REML network, {t / t_dl:6.1f}x DL)")
    fit = netstrata.class_network(data, classes)
    t_cmp = best_of(fit.compare, 3)
    print(f"  compare() (3 models by ML + shrinkage):        {1e3 * t_cmp:8.2f} ms  ({t_cmp / t_reml:5.1f}x REML network)")
    net = netstrata.network(data)
    for level in ("study", "contrast"):
        t = best_of(lambda lv=level: netstrata.threshold(net, level=lv), 10)
        print(f"  threshold(level={level!r:10}):                {1e3 * t:8.2f} ms  ({t / t_dl:5.1f}x DL network)")


if __name__ == "__main__":
    main()
