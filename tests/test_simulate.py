"""Simulator: determinism, valid project tables, truth.json, fidelity round trip, CLI."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from netstrata.appraisal.fidelity import appraise_fidelity
from netstrata.cli import main
from netstrata.data import load_review
from netstrata.errors import ParameterError
from netstrata.synthesis.simulate import SHAM, simulate_contrasts, simulate_review, truth_table
from netstrata.synthesis.simulate.scenario import EffectModel, Population, Scenario
from netstrata.taxonomy import load_pack

FILES = ("studies.csv", "arms.csv", "outcomes.csv", "fidelity.csv", "netstrata.toml", "truth.json")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "p"
    res = simulate_review(out, studies=60, seed=7, scenario=Scenario().with_(tiers={"T1": 1, "TU": 1, "T3": 1}))
    return out, res


def test_simulate_review_same_seed_gives_identical_bytes(tmp_path, project):
    out, _ = project
    again = simulate_review(tmp_path / "again", studies=60, seed=7,
                            scenario=Scenario().with_(tiers={"T1": 1, "TU": 1, "T3": 1}))
    for f in FILES:
        assert (out / f).read_bytes() == (tmp_path / "again" / f).read_bytes(), f
    assert again.truth.equals(project[1].truth)


def test_simulate_review_other_seed_gives_other_data(tmp_path, project):
    simulate_review(tmp_path / "other", studies=60, seed=8,
                    scenario=Scenario().with_(tiers={"T1": 1, "TU": 1, "T3": 1}))
    assert (project[0] / "outcomes.csv").read_bytes() != (tmp_path / "other" / "outcomes.csv").read_bytes()


def test_simulate_review_design_does_not_depend_on_outcomes():
    both = simulate_review(studies=30, seed=3, outcome="both")
    binary = simulate_review(studies=30, seed=3, outcome="binary")
    assert both.designs == binary.designs
    b = both.tables["outcomes"]
    assert b[b["outcome"] == "success"].reset_index(drop=True).equals(binary.tables["outcomes"])


def test_simulated_project_loads_as_a_valid_review(project):
    out, res = project
    review = load_review(out)
    assert len(review.studies) == 60
    assert len(review.arms) == sum(len(d.sizes) for d in res.designs)
    assert len(review.register) == 0
    assert set(review.plan.outcome_ids) == {"success", "pain"}
    nodes = {n.name for n in review.node_map("family").nodes}
    assert SHAM in nodes and nodes <= {SHAM, "RFN_FACET", "MBB", "FJ_IA", "RFN_SIJ"}


def test_simulated_codes_come_from_the_pack_vocabularies(project):
    _, res = project
    pack = load_pack("spine")
    arms = res.tables["arms"]
    shams = {c.code for c in pack.vocabulary("comparator_type").codes if c.parent == SHAM}
    used = set(arms.loc[arms["comparator_type"] != "", "comparator_type"])
    assert used <= shams and len(used) > 1
    assert set(arms["region"]) <= set(pack.vocabulary("region").allowed)


def test_simulated_truth_json_follows_the_effect_model(project):
    out, res = project
    doc = json.loads((out / "truth.json").read_text())
    m = EffectModel()
    truth = pd.DataFrame(doc["truth"])
    for r in truth.itertuples():
        theta = m.theta(r.treatment, r.region, r.fidelity_tier, r.selection_n_blocks, r.selection_threshold_pct)
        assert r.theta == pytest.approx(theta, abs=1e-12)
        expected = theta if r.outcome == "success" else -m.md_per_unit * theta
        assert r.effect == pytest.approx(expected, abs=1e-12)
    # lumbar RFN_FACET, T1, 2 blocks, 75 %: 1.0 + 0 + 0 + 0 + 0.1
    row = truth[(truth.region == "lumbar") & (truth.treatment == "RFN_FACET") & (truth.fidelity_tier == "T1")
                & (truth.selection_n_blocks == "2") & (truth.selection_threshold_pct == "75")
                & (truth.outcome == "success")]
    assert row["effect"].item() == pytest.approx(1.1, abs=1e-12)
    assert len(doc["studies"]) == sum(len(d.nodes) for d in res.designs)


def test_simulated_fidelity_items_give_back_the_simulated_tiers(project):
    out, _ = project
    review = load_review(out)
    fid = appraise_fidelity(review)
    doc = json.loads((out / "truth.json").read_text())
    tiers = fid.tiers
    simulated = {(s["study"], s["arm"]): s["fidelity_tier"] for s in doc["studies"]}
    assert {tiers[k] for k in simulated} == {"T1", "TU", "T3"}
    assert all(tiers[k] == v for k, v in simulated.items())
    assert (fid.arms.loc[fid.arms["arm"] == "sham", "tier"] == "NA").all()


def test_simulated_arm_sizes_and_three_arm_trials():
    sc = Scenario().with_(populations=["lumbar_facet"], three_arm=1.0, n_min=30, n_max=31)
    res = simulate_review(studies=20, seed=2, scenario=sc)
    assert all(len(d.sizes) == 3 and len(set(d.nodes)) == 2 for d in res.designs)
    n = res.tables["arms"]["n"].astype(int)
    assert n.between(30, 31).all()
    none = simulate_review(studies=20, seed=2, scenario=sc.with_(three_arm=0.0))
    assert all(len(d.sizes) == 2 for d in none.designs)


def test_simulated_sham_response_matches_its_setting():
    res = simulate_review(studies=400, seed=11, sham_rate=0.3, sham_change=-2.0)
    o = res.tables["outcomes"]
    sham = o[o["arm"] == "sham"]
    b = sham[sham["outcome"] == "success"]
    rate = b["events"].astype(int).sum() / b["n"].astype(int).sum()
    # binomial SE of the pooled rate ~ sqrt(.21/28000) = 0.003: 0.015 is 5 SE
    assert rate == pytest.approx(0.3, abs=0.015)
    c = sham[sham["outcome"] == "pain"]
    w = c["n"].astype(float)
    mean = np.average(c["mean"].astype(float), weights=w)
    assert mean == pytest.approx(-2.0, abs=0.05)  # SE ~ 2.5 / sqrt(28000) = 0.015


def test_simulate_contrasts_is_deterministic_and_complete():
    a = simulate_contrasts(30, seed=5, scenario=Scenario().with_(three_arm=0.5))
    b = simulate_contrasts(30, seed=5, scenario=Scenario().with_(three_arm=0.5))
    pd.testing.assert_frame_equal(a.contrasts, b.contrasts)
    c = a.contrasts
    assert {"study", "treat1", "treat2", "effect", "se", "true_effect", "stratum"} <= set(c.columns)
    pairs = c.groupby("study").size()
    arms = pd.Series({d.study: len(d.sizes) for d in a.designs})
    assert (pairs == arms * (arms - 1) / 2).all()
    sham = c[c["treat2"] == SHAM]
    keyed = a.truth.set_index(["region", "fidelity_tier", "selection_n_blocks", "selection_threshold_pct",
                               "treatment"])["effect"]
    for r in sham.itertuples():
        key = (r.region, r.fidelity_tier, r.selection_n_blocks, r.selection_threshold_pct, r.treat1)
        assert r.true_effect == pytest.approx(keyed[key], abs=1e-12)


def test_simulate_contrasts_continuous_scale():
    sim = simulate_contrasts(10, seed=1, outcome="continuous", effects=EffectModel().with_(md_per_unit=2.0))
    assert (sim.truth["effect"] == -2.0 * sim.truth["theta"]).all()


def test_truth_table_enumerates_every_stratum():
    sc = Scenario().with_(populations=["sacral_sij"], tiers={"T1": 1, "T3": 1}, blocks={"0": 1, "2": 1},
                          thresholds={"50": 1, "100": 1})
    t = truth_table(sc)
    # 1 node x 2 tiers x (0 blocks + 2 blocks x 2 thresholds)
    assert len(t) == 2 * (1 + 2)
    assert set(t.loc[t["selection_n_blocks"] == "0", "selection_threshold_pct"]) == {""}


@pytest.mark.parametrize("kwargs, match", [
    (dict(studies=0), "studies"), (dict(seed=-1), "seed"), (dict(outcome="ordinal"), "outcome"),
    (dict(tau=-0.1), "tau"), (dict(sham_rate=1.0), "sham_rate"), (dict(n_min=50, n_max=10), "n_min"),
    (dict(scenario=Scenario().with_(tiers={"T2": 1})), "tiers"),
])
def test_simulate_review_refuses_bad_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        simulate_review(**kwargs)


def test_simulate_review_refuses_codes_outside_the_pack():
    bad = Population("x", "lumbar", "facet_joint_pain", "MBB", ("RFN_LUMBAR",))
    with pytest.raises(ParameterError, match="RFN_LUMBAR"):
        simulate_review(scenario=Scenario().with_(populations=[bad]))


def test_simulate_review_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x.txt").write_text("keep me")
    with pytest.raises(ParameterError, match="not empty"):
        simulate_review(tmp_path, studies=2)
    assert (tmp_path / "x.txt").read_text() == "keep me"


def test_cli_simulate_writes_a_project(tmp_path):
    out = tmp_path / "cli"
    r = CliRunner().invoke(main, ["simulate", str(out), "--studies", "12", "--seed", "4", "--outcome", "binary",
                                  "--tiers", "T1=1,T3=1", "--population", "lumbar_facet"])
    assert r.exit_code == 0, r.output
    assert "Simulated 12 studies" in r.output
    assert all((out / f).is_file() for f in FILES)
    review = load_review(out)
    assert review.plan.outcome_ids == ("success",)
    assert set(review.studies["region"]) == {"lumbar"}


def test_cli_simulate_rejects_unknown_population(tmp_path):
    r = CliRunner().invoke(main, ["simulate", str(tmp_path / "x"), "--population", "thoracic"])
    assert r.exit_code == 2 and "unknown population" in r.output


def test_simulated_electrodes_follow_the_technique_tier(project):
    _, res = project
    arms = res.tables["arms"]
    lumbar_rf = arms[(arms["family"] == "RFN_FACET") & (arms["region"] == "lumbar")]
    tier = lumbar_rf["label"].str[-2:]
    assert set(lumbar_rf.loc[tier == "T1", "electrode_orientation"]) == {"parallel"}
    assert set(lumbar_rf.loc[tier == "T3", "electrode_orientation"]) == {"perpendicular"}


def test_simulated_project_stratified_by_fidelity_recovers_truth(tmp_path):
    """End to end: simulate -> load_review -> appraise_fidelity -> network per tier (fixed seed)."""
    from netstrata import network_from_arms
    from netstrata.appraisal.fidelity.use import with_fidelity
    sc = Scenario().with_(populations=["lumbar_facet"], treatments=2, three_arm=0.3, blocks={"2": 1},
                          thresholds={"50": 1})
    sim = simulate_review(tmp_path / "p", studies=60, seed=5, scenario=sc, outcome="binary", n_min=80, n_max=200)
    review = load_review(tmp_path / "p")
    arms = with_fidelity(review, appraise_fidelity(review))
    tier = arms[arms["fidelity_tier"] != "NA"].groupby("study")["fidelity_tier"].first()
    rows = review.analysis_rows("success").merge(review.node_map("family").to_frame(), on=["study", "arm"])
    rows = rows.assign(tier=rows["study"].map(tier))
    truth = sim.truth.set_index(["fidelity_tier", "treatment"])["effect"]
    for t, g in rows.groupby("tier"):
        est = network_from_arms(g, measure="OR", treatment="node", events="events", n="n",
                                reference=SHAM).estimates("random")
        for node in ("RFN_FACET", "FJ_IA"):
            assert est.loc[node, "ci_low"] <= truth[(t, node)] <= est.loc[node, "ci_high"], (t, node)


def test_generic_scenario_gives_large_abstract_networks():
    from netstrata.synthesis.simulate.scenario import generic_scenario
    sc = generic_scenario(12, three_arm=0.5, tiers={"T1": 1}, blocks={"2": 1}, thresholds={"50": 1})
    sim = simulate_contrasts(200, seed=1, scenario=sc, pack=None)
    treatments = set(sim.contrasts["treat1"]) | set(sim.contrasts["treat2"])
    assert treatments == {SHAM, *(f"T{i:02d}" for i in range(1, 13))}
    assert sim.truth.set_index("treatment")["effect"].to_numpy() == pytest.approx(np.linspace(0, 1, 12), abs=1e-12)
    assert (sim.contrasts["treat2"] != SHAM).any()            # active-active comparisons from 3-arm trials
    with pytest.raises(ParameterError, match="T01"):
        simulate_contrasts(10, seed=1, scenario=sc)           # abstract nodes are not spine-pack families
    with pytest.raises(ParameterError, match="treatments"):
        generic_scenario(0)


def test_simulate_is_byte_identical_across_processes(tmp_path, project):
    """Another interpreter with another hash seed writes the same bytes (no set/dict-order leaks)."""
    import os
    import subprocess
    import sys
    code = ("from netstrata.synthesis.simulate import simulate_review\n"
            "from netstrata.synthesis.simulate.scenario import Scenario\n"
            f"simulate_review({str(tmp_path / 'sub')!r}, studies=60, seed=7, "
            "scenario=Scenario().with_(tiers={'T1': 1, 'TU': 1, 'T3': 1}))\n")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    for f in FILES:
        assert (project[0] / f).read_bytes() == (tmp_path / "sub" / f).read_bytes(), f


def test_fidelity_score_as_a_meta_regression_covariate(tmp_path):
    """Simulated T3 arms fail exactly one of C1's 17 scored items: the score slope x 1/17 recovers
    the true T1 - T3 difference (0.6 on the log OR scale) within its 95% interval."""
    from netstrata import effect_sizes
    from netstrata.appraisal.fidelity.use import with_fidelity
    from netstrata.ma import meta_regression
    sc = Scenario().with_(populations=["lumbar_facet"], treatments=1, three_arm=0.0, blocks={"2": 1},
                          thresholds={"50": 1}, tau=0.1)
    simulate_review(tmp_path / "p", studies=80, seed=3, scenario=sc, outcome="binary", n_min=100, n_max=300)
    review = load_review(tmp_path / "p")
    arms = with_fidelity(review, appraise_fidelity(review)).set_index(["study", "arm"])
    o = review.analysis_rows("success").set_index(["study", "arm"])["events"].unstack()
    n = review.analysis_rows("success").set_index(["study", "arm"])["n"].unstack()
    es = effect_sizes("OR", events_1=o["active1"], n_1=n["active1"], events_2=o["sham"], n_2=n["sham"])
    score = [arms.loc[(s, "active1"), "fidelity_score"] for s in o.index]
    assert sorted(set(score)) == pytest.approx([16 / 17, 1.0])
    res = meta_regression(es.effect, es.variance, {"score": score})
    lo, hi = res.ci_low[1] / 17, res.ci_high[1] / 17
    assert lo <= 0.6 <= hi


def test_weights_need_an_effect_model_term():
    sc = Scenario().with_(effects=EffectModel().with_(threshold={"50": 0.0}), thresholds={"50": 1, "90": 1})
    with pytest.raises(ParameterError, match="threshold"):
        simulate_contrasts(5, scenario=sc)


def test_no_heterogeneity_gives_study_truth_equal_to_stratum_truth():
    sim = simulate_contrasts(30, seed=2, tau=0.0, three_arm=0.5)
    assert all(d.theta_study == d.theta for d in sim.designs)


def test_three_arm_random_effects_have_correlation_one_half():
    sc = Scenario().with_(populations=["lumbar_facet"], three_arm=1.0, tau=1.0)
    sim = simulate_contrasts(4000, seed=1, scenario=sc)
    u = np.array([np.subtract(d.theta_study, d.theta) for d in sim.designs])
    # SE of a correlation estimate with n = 4000 is ~0.012
    assert np.corrcoef(u.T)[0, 1] == pytest.approx(0.5, abs=0.05)
    assert u.std(axis=0, ddof=1) == pytest.approx([1.0, 1.0], abs=0.05)


def test_simulation_summaries_count_studies_per_stratum(project):
    _, res = project
    frame = res.summary().to_frame()
    assert frame["studies"].sum() == 60
    sim = simulate_contrasts(25, seed=1, three_arm=1.0)
    f2 = sim.summary().to_frame()
    assert f2["studies"].sum() == 25 and f2["three_arm"].sum() > 0
    assert "SimulatedContrasts(outcome='binary', studies=25" in repr(sim)
