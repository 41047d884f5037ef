"""Speed of netstrata's REML kernel against a plain reference implementation.

Run: ``python benchmarks/bench_pairwise.py``. Prints, in one run:
1. REML on 10,000 simulated studies (goal < 0.5 s);
2. 1,000 REML refits of a 20-study dataset (goal > 2,000 fits/s);
each next to a straightforward implementation (dense k×k matrices as in metafor's R code, and
scipy.optimize on the REML log-likelihood) for the ratio. Numbers only; tests never assert time.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
from scipy import optimize

from netstrata.ma.batch import rma_batch
from netstrata.ma.fit import rma_fit


def simulate(k: int, rng: np.random.Generator, tau2: float = 0.1):
    v = rng.uniform(0.01, 0.5, size=k)
    y = 0.3 + rng.normal(0, np.sqrt(tau2), k) + rng.normal(0, np.sqrt(v))
    return y, v


def naive_reml_dense(y, v, threshold=1e-5, maxiter=100):
    """metafor's Fisher scoring written the direct way: explicit k×k W and P matrices."""
    k = y.size
    X = np.ones((k, 1))
    ymc = y - y.mean()
    P0 = np.eye(k) - X @ np.linalg.inv(X.T @ X) @ X.T
    tau2 = max(0.0, (ymc @ P0 @ ymc - np.trace(P0 @ np.diag(v))) / (k - 1))
    for _ in range(maxiter):
        W = np.diag(1.0 / (v + tau2))
        P = W - W @ X @ np.linalg.inv(X.T @ W @ X) @ X.T @ W
        PP = P @ P
        adj = (ymc @ PP @ ymc - np.trace(P)) / np.trace(PP)
        while tau2 + adj < 0:
            adj /= 2
        tau2 += adj
        if abs(adj) < threshold:
            break
    w = 1.0 / (v + tau2)
    return tau2, np.sum(w * y) / np.sum(w)


def naive_reml_scipy(y, v):
    """REML by bounded scalar minimisation of the restricted log-likelihood (scipy)."""
    def nll(t):
        w = 1.0 / (v + t)
        mu = np.sum(w * y) / np.sum(w)
        return 0.5 * (np.sum(np.log(v + t)) + np.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))
    t = optimize.minimize_scalar(nll, bounds=(0.0, 100.0), method="bounded",
                                 options={"xatol": 1e-10}).x
    w = 1.0 / (v + t)
    return t, np.sum(w * y) / np.sum(w)


def timed(fn, *args, repeat=1):
    start = time.perf_counter()
    for _ in range(repeat):
        out = fn(*args)
    return (time.perf_counter() - start) / repeat, out


def main() -> None:
    rng = np.random.default_rng(20261125)
    y, v = simulate(10_000, rng)
    rma_fit(y[:50], v[:50])  # warm-up
    t_ours, fit = timed(rma_fit, y, v, None, "REML", False, 0.95, repeat=5)
    t_scipy, (tau2_s, _) = timed(naive_reml_scipy, y, v)
    print("1) REML, one dataset of 10,000 studies")
    print(f"   netstrata rma_fit           {t_ours * 1e3:9.1f} ms   tau2={fit.tau2:.6f}  "
          f"({fit.iterations} Fisher steps)  goal < 500 ms: {'met' if t_ours < 0.5 else 'NOT met'}")
    print(f"   scipy minimize_scalar REML  {t_scipy * 1e3:9.1f} ms   tau2={tau2_s:.6f}  "
          f"ratio {t_scipy / t_ours:5.1f}x")
    print("   dense k×k (metafor-style) REML: not run at k=10,000 (800 MB per matrix)")
    yk, vk = y[:2000], v[:2000]
    t_dense, (tau2_d, _) = timed(naive_reml_dense, yk, vk)
    t_small, fit_k = timed(rma_fit, yk, vk, None, "REML", False, 0.95, repeat=5)
    print(f"   at k=2,000: dense {t_dense * 1e3:.1f} ms vs netstrata {t_small * 1e3:.2f} ms "
          f"(ratio {t_dense / t_small:.0f}x; tau2 {tau2_d:.6f} vs {fit_k.tau2:.6f})")

    data = [simulate(20, rng) for _ in range(1000)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few simulated datasets do not converge, as in metafor
        start = time.perf_counter()
        fits = [rma_fit(yi, vi, None, "REML", False, 0.95) for yi, vi in data]
        t_fits = time.perf_counter() - start
    start = time.perf_counter()
    for yi, vi in data:
        naive_reml_dense(yi, vi)
    t_dense20 = time.perf_counter() - start
    start = time.perf_counter()
    for yi, vi in data:
        naive_reml_scipy(yi, vi)
    t_scipy20 = time.perf_counter() - start
    print("2) 1,000 REML fits of 20-study datasets")
    print(f"   netstrata rma_fit (full result)  {1000 / t_fits:8.0f} fits/s  "
          f"goal > 2,000: {'met' if 1000 / t_fits > 2000 else 'NOT met'}  "
          f"({sum(not f.converged for f in fits)} not converged within 100 steps)")
    print(f"   dense k×k Fisher scoring (tau2 only) {1000 / t_dense20:8.0f} fits/s  ratio {t_dense20 / t_fits:4.1f}x")
    print(f"   scipy minimize_scalar (tau2 only)    {1000 / t_scipy20:8.0f} fits/s  ratio {t_scipy20 / t_fits:4.1f}x")
    Y = np.array([d[0] for d in data])
    V = np.array([d[1] for d in data])
    t_batch, batch = timed(rma_batch, Y, V, "REML", 0.95, repeat=5)
    same = np.allclose(batch.tau2[batch.converged], [f.tau2 for f in fits if f.converged], rtol=1e-9, atol=1e-14)
    print(f"   netstrata rma_batch (all 1,000 at once) {1000 / t_batch:8.0f} fits/s  "
          f"ratio to rma_fit {t_fits / t_batch:5.1f}x  (same tau2: {same})")


if __name__ == "__main__":
    main()
