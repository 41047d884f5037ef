"""Like-for-like with R's netmeta: the outputs that ``netmeta()`` computes eagerly, in netstrata.

``netmeta()`` (netmeta 2.9) returns, for the common and the random effects model: every pairwise
network estimate with its standard error, confidence interval, z and p-value; prediction
intervals; Q, tau², I² with its CI; the decomposition of Q into within- and between-design parts;
direct and indirect estimates; the proportion of direct evidence; the covariance matrices and the
leverages (hat matrix). netstrata computes these on demand, so the like-for-like figure is the
fit *plus* every one of them, on the 80-study / 15-node network of bench_multiverse.py.

R is not installed on this machine, so the netmeta figure is the one recorded by the project brief
(date and machine are not given there); when ``Rscript`` with netmeta is on the PATH, the same
network is written to CSV and timed in R in the same run.

Run:  .venv/bin/python benchmarks/bench_netmeta.py
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_multiverse import simulate  # noqa: E402

import netstrata  # noqa: E402

RECORDED = ("netmeta 9 s to refit an 80-study network, 407 s for 1,050 studies, recorded by the project brief "
            "(date and machine not recorded there; R is not installed here)")

R_SCRIPT = """
suppressMessages(library(netmeta))
d <- read.csv(commandArgs(TRUE)[1])
t0 <- proc.time()[["elapsed"]]
for (i in 1:20) m <- netmeta(effect, se, treat1, treat2, study, data = d, sm = "MD")
cat((proc.time()[["elapsed"]] - t0) / 20, "\\n")
"""


def eager_outputs(data):
    """netstrata's fit plus every output netmeta() computes eagerly (both models)."""
    net = netstrata.network(data, method="DL")
    for model in ("common", "random"):
        net.league(model), net.league_se(model), net.league_ci(model), net.league_z(model)
        net.league_pvalue(model), net.direct(model), net.indirect(model), net.prop_direct(model)
        net.covariance(model), net.hat_matrix(model)
    net.prediction()
    (net.q, net.q_pvalue, net.tau2, net.i2, net.i2_ci_low, net.i2_ci_high, net.q_heterogeneity,
     net.q_inconsistency, net.q_heterogeneity_pvalue, net.q_inconsistency_pvalue)
    net.direct_heterogeneity()
    return net


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _r_time(data) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv, script = Path(tmp) / "d.csv", Path(tmp) / "t.R"
        data.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        done = subprocess.run(["Rscript", str(script), str(csv)], capture_output=True, text=True)
        return float(done.stdout.split()[0]) if done.returncode == 0 and done.stdout.strip() else None


def main() -> None:
    warnings.simplefilter("ignore")
    data = simulate()
    eager_outputs(data)   # warm imports
    t_fit = best_of(lambda: netstrata.network(data, method="DL"), 20)
    t_all = best_of(lambda: eager_outputs(data), 10)
    print("80-study / 15-node network, random and common effects (DL)")
    print(f"  netstrata fit only:                                    {1e3 * t_fit:8.1f} ms")
    print(f"  netstrata fit + every output netmeta() computes eagerly: {1e3 * t_all:6.1f} ms  (like for like)")
    r = _r_time(data)
    if r is not None:
        print(f"  netmeta() measured here:                               {1e3 * r:8.1f} ms  ratio {r / t_all:.1f}x")
    else:
        print(f"  {RECORDED}")
        print(f"  ratio to the recorded 9 s: {9.0 / t_all:,.0f}x like for like ({9.0 / t_fit:,.0f}x for the fit alone, "
              "which is not like for like)")


if __name__ == "__main__":
    main()
