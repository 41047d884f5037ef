"""Batched REML/ML/EB kernel agrees with rma_fit dataset by dataset (incl. non-convergence)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from netstrata.ma import rma_batch, rma_fit
from .reference import datasets
from .test_ma_data import effects


def _padded(pairs):
    k = max(len(y) for y, _ in pairs)
    Y = np.full((len(pairs), k), np.nan)
    V = np.full((len(pairs), k), np.nan)
    for i, (y, v) in enumerate(pairs):
        Y[i, : len(y)], V[i, : len(v)] = y, v
    return Y, V


@pytest.mark.parametrize("method", ["REML", "ML", "EB"])
def test_batch_equals_single_fits_on_reference_datasets(method):
    pairs = [effects(ds) for ds in datasets("pairwise")]
    Y, V = _padded(pairs)
    batch = rma_batch(Y, V, method=method)
    for i, (y, v) in enumerate(pairs):
        single = rma_fit(y, v, None, method, False, 0.95)
        assert batch.k[i] == y.size and batch.iterations[i] == single.iterations
        assert_allclose([batch.tau2[i], batch.estimate[i], batch.se[i], batch.ci_low[i]],
                        [single.tau2, single.beta[0], single.se[0], single.ci_low[0]], rtol=1e-10, atol=1e-14)


def test_batch_flags_the_same_nonconvergence_as_single_fits():
    rng = np.random.default_rng(20261125)
    v = rng.uniform(0.01, 0.5, size=(300, 20))
    y = 0.3 + rng.normal(0, np.sqrt(0.1), (300, 20)) + rng.normal(0, np.sqrt(v))
    batch = rma_batch(y, v)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = [rma_fit(y[i], v[i]) for i in range(300)]
    assert np.array_equal(batch.converged, [f.converged for f in single])
    ok = batch.converged
    assert_allclose(batch.tau2[ok], [f.tau2 for f in single if f.converged], rtol=1e-9, atol=1e-14)
    assert np.all(np.isnan(batch.tau2[~ok]))
