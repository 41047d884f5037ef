"""Known-truth recovery: stratified analyses cover each stratum's truth at about the nominal rate,
and the lumped analysis is biased by the mixture-weighted difference exactly where strata differ.

Replicates use fixed seeds 0..R-1, so every number below is reproducible. Monte-Carlo tolerances
are stated next to each assertion (Morris, White & Crowther 2019, doi:10.1002/sim.8086).
"""
from __future__ import annotations

import numpy as np
import pytest

from netstrata import network, pairwise
from netstrata.synthesis.simulate import SHAM, simulate_contrasts
from netstrata.synthesis.simulate.scenario import EffectModel, Scenario

# One population (lumbar facet), one node, strata = technique tier T1 vs T3, 2 blocks at 50 %:
# truth T1 = 1.0 (log OR), T3 = 1.0 - 0.6 = 0.4.
TWO_TIERS = Scenario().with_(populations=["lumbar_facet"], treatments=1, tiers={"T1": 1, "T3": 1},
                             blocks={"2": 1}, thresholds={"50": 1}, tau=0.2, three_arm=0.0)
REPLICATES = 200
STUDIES = 30


def _replicates(scenario, outcome="binary", reps=REPLICATES):
    """Per replicate: stratified hits, lumped estimate, T3 share, the two stratum truths."""
    hits, lumped, share, truth = [], [], [], None
    for seed in range(reps):
        sim = simulate_contrasts(STUDIES, seed=seed, outcome=outcome, scenario=scenario)
        c = sim.contrasts
        t = sim.truth.set_index("fidelity_tier")["effect"]
        truth = (t["T1"], t["T3"])
        for tier, g in c.groupby("fidelity_tier"):
            if len(g) < 2:
                continue
            res = pairwise(g["effect"], g["se"] ** 2, method="REML", ci="hksj")
            hits.append(res.ci_low <= t[tier] <= res.ci_high)
        lumped.append(pairwise(c["effect"], c["se"] ** 2, method="REML").estimate)
        share.append((c["fidelity_tier"] == "T3").mean())
    return np.array(hits), np.array(lumped), np.array(share), truth


@pytest.fixture(scope="module")
def differing():
    return _replicates(TWO_TIERS)


@pytest.fixture(scope="module")
def shared():
    return _replicates(TWO_TIERS.with_(effects=EffectModel.uniform()))


def test_stratified_pairwise_covers_each_stratum_truth_binary(differing):
    hits = differing[0]
    # 400 intervals: MC SE of the coverage ~ 0.011; the brief's band [0.90, 0.99]
    assert len(hits) >= 390
    assert 0.90 <= hits.mean() <= 0.99


def test_stratified_pairwise_covers_each_stratum_truth_continuous():
    hits = _replicates(TWO_TIERS, outcome="continuous", reps=100)[0]
    assert 0.90 <= hits.mean() <= 0.99


def test_lumped_bias_is_the_mixture_weighted_difference(differing):
    _, lumped, share, (t1, t3) = differing
    bias = lumped - t1
    expected = share * (t3 - t1)                       # mixture-weighted difference per replicate
    mcse = (bias - expected).std(ddof=1) / np.sqrt(len(bias))
    assert abs(bias.mean()) > 0.2                      # lumping is clearly biased for T1 (about -0.3)
    # random-effects weights are not exactly study shares: allow 4 MC SE + 0.02
    assert abs((bias - expected).mean()) < 4 * mcse + 0.02
    # ... and symmetrically biased for the T3 stratum
    assert np.mean(lumped - t3) == pytest.approx(np.mean((1 - share) * (t1 - t3)), abs=4 * mcse + 0.02)


def test_lumped_bias_vanishes_when_strata_share_the_effect(shared):
    hits, lumped, _, (t1, t3) = shared
    assert t1 == t3
    bias = lumped - t1
    assert abs(bias.mean()) < 4 * bias.std(ddof=1) / np.sqrt(len(bias))
    assert 0.90 <= hits.mean() <= 0.99


def test_stratified_network_covers_each_node_truth():
    """netstrata.network per stratum on a 3-node network with 3-arm trials (truth vs sham)."""
    sc = TWO_TIERS.with_(treatments=2, three_arm=0.3)
    hits = []
    for seed in range(100):
        sim = simulate_contrasts(40, seed=seed, scenario=sc)
        truth = sim.truth.set_index(["fidelity_tier", "treatment"])["effect"]
        for tier, g in sim.contrasts.groupby("fidelity_tier"):
            est = network(g[["study", "treat1", "treat2", "effect", "se"]], method="DL",
                          reference=SHAM).estimates("random")
            for node in ("RFN_FACET", "FJ_IA"):
                if node in est.index:
                    hits.append(est.loc[node, "ci_low"] <= truth[(tier, node)] <= est.loc[node, "ci_high"])
    hits = np.array(hits)
    assert len(hits) >= 390
    assert 0.90 <= hits.mean() <= 0.99


def test_project_tables_cover_truth_for_both_outcomes():
    """The written tables themselves (binomial events; sampled means and SDs) -> escalc -> pairwise
    per tier: the OR and MD intervals cover the stratum truths at about the nominal rate."""
    from netstrata import effect_sizes
    from netstrata.synthesis.simulate import simulate_review
    hits = {"success": [], "pain": []}
    for seed in range(REPLICATES):
        sim = simulate_review(studies=STUDIES, seed=seed, scenario=TWO_TIERS)
        o = sim.tables["outcomes"]
        tier = {d.study: d.tier for d in sim.designs}
        truth = sim.truth.set_index(["outcome", "fidelity_tier"])["effect"]
        b = o[o.outcome == "success"].pivot(index="study", columns="arm", values=["events", "n"]).astype(float)
        c = o[o.outcome == "pain"].pivot(index="study", columns="arm", values=["mean", "sd", "n"]).astype(float)
        es = {"success": effect_sizes("OR", events_1=b[("events", "active1")], n_1=b[("n", "active1")],
                                      events_2=b[("events", "sham")], n_2=b[("n", "sham")]).set_index(b.index),
              "pain": effect_sizes("MD", mean_1=c[("mean", "active1")], sd_1=c[("sd", "active1")],
                                   n_1=c[("n", "active1")], mean_2=c[("mean", "sham")], sd_2=c[("sd", "sham")],
                                   n_2=c[("n", "sham")]).set_index(c.index)}
        for t in ("T1", "T3"):
            for outcome, e in es.items():
                rows = e[[tier[s] == t for s in e.index]]
                if len(rows) > 1:
                    r = pairwise(rows["effect"], rows["variance"], method="REML", ci="hksj")
                    hits[outcome].append(r.ci_low <= truth[(outcome, t)] <= r.ci_high)
    for outcome, h in hits.items():
        assert len(h) >= 390, outcome
        assert 0.90 <= np.mean(h) <= 0.99, (outcome, np.mean(h))
