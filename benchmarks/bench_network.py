"""Benchmark of netstrata.network (one run, prints figures).

1. Random-effects NMA (DL) of a simulated network: 1,000 two-arm + 50 three-arm studies over
   40 treatments (goal < 50 ms end to end, input validation included).
2. Refits per second of an 80-study / 15-treatment network (goal > 200/s on one core).
3. P-scores and node splitting (back-calculation, SIDDE) timed separately.
4. A naive dense implementation (full m × m hat matrix H = B L⁺ Bᵀ W, as netmeta's
   nma.ruecker builds it) of the same fit, for the ratio.

Run:  .venv/bin/python benchmarks/bench_network.py
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

import netstrata
from netstrata.nma.kernel import incidence, multiarm_blocks, reduce_multiarm_variances


def simulate(n_treat: int, n_two: int, n_three: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mu = rng.normal(0, 0.5, n_treat)
    labels = [f"T{i:02d}" for i in range(n_treat)]
    studies = [[i, i + 1] for i in range(n_treat - 1)]
    studies += [sorted(rng.choice(n_treat, 2, replace=False).tolist()) for _ in range(n_two - len(studies))]
    studies += [sorted(rng.choice(n_treat, 3, replace=False).tolist()) for _ in range(n_three)]
    rows = []
    for s, arms in enumerate(studies):
        var = rng.uniform(0.01, 0.1, len(arms))
        val = mu[arms] + rng.normal(0, 0.2, len(arms)) + rng.normal(0, np.sqrt(var))
        for a in range(len(arms)):
            for b in range(a + 1, len(arms)):
                rows.append((f"S{s}", labels[arms[a]], labels[arms[b]], val[a] - val[b], np.sqrt(var[a] + var[b])))
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])


def naive_dense(df: pd.DataFrame) -> tuple[float, np.ndarray]:
    """netmeta-style dense fit: B (m×n), W (m×m), H = B L⁺ Bᵀ W (m×m), E (m×m) for tau²."""
    labels = sorted(set(df.treat1) | set(df.treat2))
    pos = {t: i for i, t in enumerate(labels)}
    t1 = df.treat1.map(pos).to_numpy(); t2 = df.treat2.map(pos).to_numpy()
    study = pd.factorize(df.study)[0]
    n, m = len(labels), len(df)
    var = reduce_multiarm_variances(df.se.to_numpy() ** 2, multiarm_blocks(study, t1, t2))
    te = df.effect.to_numpy()
    B = incidence(t1, t2, n)
    W = np.diag(1 / var)
    L = B.T @ W @ B
    Lp = np.linalg.inv(L - 1 / n) + 1 / n
    H = B @ Lp @ B.T @ W
    v = H @ te
    Q = (te - v) @ W @ (te - v)
    counts = np.bincount(study)
    df_q = np.sum((1 + np.sqrt(8 * counts + 1)) / 2 - 1) - (n - 1)
    E = (study[:, None] == study[None, :]).astype(float)
    tau2 = max(0.0, (Q - df_q) / np.trace((np.eye(m) - H) @ (B @ B.T * E / 2) @ W))
    var_r = reduce_multiarm_variances(df.se.to_numpy() ** 2 + tau2, multiarm_blocks(study, t1, t2))
    Wr = np.diag(1 / var_r)
    Lr = B.T @ Wr @ B
    Lpr = np.linalg.inv(Lr - 1 / n) + 1 / n
    Hr = B @ Lpr @ B.T @ Wr
    return tau2, Hr @ te


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    warnings.simplefilter("ignore")
    big = simulate(40, 1000, 50)
    fit = netstrata.network(big)
    t_big = best_of(lambda: netstrata.network(big), 5)
    t_league = best_of(lambda: (fit.league("random"), fit.league_se("random")), 5)
    t_ps = best_of(lambda: fit.p_scores("random"), 5)
    t_naive = best_of(lambda: naive_dense(big), 2)
    tau2_naive, _ = naive_dense(big)
    print(f"large network: {len(big)} comparisons, {fit.k} studies, {fit.n} treatments")
    print(f"  netstrata.network (DL, common + random, validation incl.): {1e3 * t_big:8.2f} ms  (goal < 50 ms)")
    print(f"  league + se matrices (random):                             {1e3 * t_league:8.2f} ms")
    print(f"  P-scores (random):                                         {1e3 * t_ps:8.2f} ms")
    t_reml = best_of(lambda: netstrata.network(big, method="REML"), 2)
    print(f"  netstrata.network (REML):                                  {1e3 * t_reml:8.2f} ms")
    print(f"  naive dense m x m hat-matrix fit:                          {1e3 * t_naive:8.2f} ms"
          f"  (ratio {t_naive / t_big:.1f}x; tau2 agree: {abs(tau2_naive - fit.tau2) < 1e-10})")
    small = simulate(15, 75, 5, seed=2)
    reps = 200
    t0 = time.perf_counter()
    for _ in range(reps):
        netstrata.network(small)
    rate = reps / (time.perf_counter() - t0)
    print(f"small network: {len(small)} comparisons, 80 studies, 15 treatments")
    print(f"  refits per second (DL, full validation each time): {rate:8.1f} /s  (goal > 200/s)")
    t0 = time.perf_counter()
    for _ in range(50):
        netstrata.network(small, method="REML")
    print(f"  refits per second (REML):                          {50 / (time.perf_counter() - t0):8.1f} /s")
    small_fit = netstrata.network(small)
    t_ps_small = best_of(lambda: small_fit.p_scores("random"), 20)
    t_split = best_of(lambda: small_fit.node_split("random"), 5)
    t_sidde = best_of(lambda: small_fit.node_split("random", method="SIDDE"), 2)
    print(f"  P-scores:                                          {1e3 * t_ps_small:8.2f} ms")
    print(f"  node splitting, back-calculation (both models):    {1e3 * t_split:8.2f} ms")
    print(f"  node splitting, SIDDE (one refit per comparison):  {1e3 * t_sidde:8.2f} ms")


if __name__ == "__main__":
    main()
