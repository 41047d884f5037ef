"""Ranking by resampling: SUCRA, rank probabilities and rank intervals.

There is no R reference for the resampled numbers (netmeta's ``rankogram`` samples treatments
independently with approximate variances, and R's RNG is not reproduced); instead the tests use
the exact identity of Rücker & Schwarzer (2015, doi:10.1186/s12874-015-0060-8): the P-score is
the expectation of the SUCRA under the normal model, checked within Monte Carlo error with a
fixed seed, and against netmeta's P-scores from the reference files.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import netstrata
from netstrata.errors import ParameterError
from netstrata.nma.ranking_resample import rank_resample, ranks_of
from tests import reference as ref
from tests.test_nma_split import DATASETS, network_fit


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("model", ["common", "random"])
def test_sucra_matches_pscore_within_monte_carlo_error(dataset, model):
    """SUCRA from 100 000 draws (seed 2024) is within 4 Monte Carlo SEs of netmeta's P-score."""
    res = rank_resample(network_fit(dataset), model, n_draws=100_000, seed=2024)
    r = ref.load("nma", dataset)["analyses"]["netrank_desirable"]["result"]
    pscore = ref.num(r[f"ranking.{model}"])
    np.testing.assert_allclose(res.table["pscore"], pscore[list(res.table.index)], rtol=1e-6)
    gap = np.abs(res.table["sucra"] - res.table["pscore"])
    # + 10 / n_draws: a treatment (almost) always last has an estimated MCSE of 0 although
    # its P-score sits 1e-6 above 0 (events of probability ~1e-6 need not occur in 1e5 draws)
    assert (gap <= 4 * res.table["sucra_mcse"] + 10 / 100_000).all(), gap / res.table["sucra_mcse"]


def test_sucra_converges_to_pscore_senn2013():
    """The largest SUCRA - P-score gap shrinks as draws grow (fixed seed, deterministic)."""
    fit = network_fit("senn2013")
    gaps = [np.abs(rank_resample(fit, n_draws=n, seed=7).table.eval("sucra - pscore")).max()
            for n in (500, 200_000)]
    assert gaps[1] < gaps[0] / 4
    assert gaps[1] < 0.005


def test_two_treatments_rank_probability_is_normal_cdf():
    """Two treatments: P(A ranks first) = Φ(−θ_AB / se_AB) when small values are desirable."""
    data = pd.DataFrame({"study": ["a", "b", "c"], "treat1": ["A", "A", "A"],
                         "treat2": ["B", "B", "B"], "effect": [-0.2, 0.1, -0.3],
                         "se": [0.2, 0.3, 0.25]})
    fit = netstrata.network(data)
    res = rank_resample(fit, "common", n_draws=200_000, seed=3)
    te, se = fit.league("common").loc["A", "B"], fit.league_se("common").loc["A", "B"]
    exact = norm.cdf(-te / se)
    mcse = np.sqrt(exact * (1 - exact) / 200_000)
    assert abs(res.probabilities.loc["A", 1] - exact) < 4 * mcse
    assert res.table.loc["A", "pscore"] == pytest.approx(exact, rel=1e-12)


def test_probabilities_and_identities_linde2015():
    res = rank_resample(network_fit("linde2015"), n_draws=20_000, seed=11)
    p = res.probabilities.to_numpy()
    np.testing.assert_allclose(p.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    n = len(res.table)
    # SUCRA = (n - mean rank) / (n - 1) = mean of the cumulative rankogram over ranks 1..n-1
    np.testing.assert_allclose(res.table["sucra"], (n - res.table["mean_rank"]) / (n - 1),
                               rtol=1e-12)
    np.testing.assert_allclose(res.cumulative.iloc[:, :-1].mean(axis=1), res.table["sucra"],
                               rtol=1e-12)
    t = res.table
    assert ((t["rank_ci_low"] <= t["median_rank"]) & (t["median_rank"] <= t["rank_ci_high"])).all()
    assert t["rank_ci_low"].min() >= 1 and t["rank_ci_high"].max() <= n


def test_seed_reproducible_and_seed_sensitive():
    fit = network_fit("woods2010")
    a = rank_resample(fit, n_draws=5_000, seed=1)
    b = rank_resample(fit, n_draws=5_000, seed=1)
    c = rank_resample(fit, n_draws=5_000, seed=2)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not np.allclose(a.table["sucra"], c.table["sucra"], rtol=0, atol=0)


def test_small_values_undesirable_reverses_ranks():
    fit = network_fit("dogliotti2014")
    good = rank_resample(fit, n_draws=20_000, seed=5, small_values="desirable")
    bad = rank_resample(fit, n_draws=20_000, seed=5, small_values="undesirable")
    # same draws, reversed order: rank r becomes n + 1 - r
    np.testing.assert_allclose(good.table["sucra"] + bad.table["sucra"], 1.0, rtol=1e-12)


def test_ranks_of_rank_one_is_best():
    draws = np.array([[0.3, -1.0, 0.1]])
    assert ranks_of(draws, True).tolist() == [[3, 1, 2]]
    assert ranks_of(draws, False).tolist() == [[1, 3, 2]]


def test_bootstrap_over_studies_dogliotti2014():
    fit = network_fit("dogliotti2014")
    a = rank_resample(fit, n_draws=40, seed=9, method="bootstrap")
    b = rank_resample(fit, n_draws=40, seed=9, method="bootstrap")
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.n_draws == 40 and a.method == "bootstrap"
    np.testing.assert_allclose(a.probabilities.sum(axis=1), 1.0)


def test_disconnected_network_ranked_within_components():
    data = pd.DataFrame({"study": ["a", "b", "c"], "treat1": ["A", "C", "C"],
                         "treat2": ["B", "D", "E"], "effect": [-0.2, 0.1, -0.3],
                         "se": [0.2, 0.3, 0.25]})
    with pytest.warns(Warning):
        fit = netstrata.network(data)
    res = rank_resample(fit, "common", n_draws=2_000, seed=1)
    assert res.table.loc[["A", "B"], "rank_ci_high"].max() <= 2
    with pytest.raises(ParameterError, match="connected"):
        rank_resample(fit, method="bootstrap", n_draws=10)


@pytest.mark.parametrize("kwargs,match", [({"n_draws": 1}, "n_draws"), ({"level": 1.5}, "level"),
                                          ({"method": "jackknife"}, "method"),
                                          ({"small_values": "good"}, "small_values")])
def test_rank_resample_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        rank_resample(network_fit("woods2010"), **kwargs)


def test_repr_and_summary():
    res = rank_resample(network_fit("senn2013"), n_draws=1_000, seed=1)
    assert repr(res).startswith("RankResampleResult(method='parametric', model='random'")
    frame = res.summary().to_frame()
    assert frame["sucra"].is_monotonic_decreasing
