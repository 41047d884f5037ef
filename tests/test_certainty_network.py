"""rate_network on real fits: inputs read from netstrata.network match R, rules applied per comparison.

Parity: the numbers the certainty rules read (network, direct and indirect CIs, prediction
intervals, the design-by-treatment p) are compared with netmeta 2.9-0 ``netsplit`` and
``decomp.design`` (tests/data/reference/nma/*.json) at rtol 1e-6; the judgements themselves are
exact functions of those numbers (tested cell by cell in test_certainty_rules.py).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import netstrata
from netstrata.certainty import (CertaintyRating, ComparisonEvidence, NetworkEvidence, derive_indirectness,
                                 network_evidence, rate_network)
from netstrata.certainty.judgement import DOMAINS, MAJOR, NO, NOT_ASSESSABLE
from netstrata.errors import DataError, ParameterError
from tests import reference as ref

DATASETS = ["dietaryfat", "dogliotti2014", "franchini2012", "gurusamy2011", "linde2015", "senn2013", "woods2010"]
RTOL = 1e-6

# most tests here give rob only; the "not assessed" warning is tested on its own
pytestmark = pytest.mark.filterwarnings("ignore:.*not assessed:netstrata.errors.StatisticalWarning")
ARM_COLUMNS = ["n1", "n2", "event1", "event2", "time1", "time2", "sd1", "sd2", "mean1", "mean2"]


def contrasts(name: str) -> pd.DataFrame:
    """The study contrasts R analysed: the CSV (contrast level) or R's pairwise() rows."""
    analyses = ref.load("nma", name)["analyses"]
    if "pairwise" in analyses:
        rows = analyses["pairwise"]["result"]["rows"]
        out = pd.DataFrame({"study": [str(s) for s in rows["studlab"]], "treat1": rows["treat1"],
                            "treat2": rows["treat2"], "effect": ref.num(rows["TE"]), "se": ref.num(rows["seTE"])})
        for col in ARM_COLUMNS:
            if col in rows:
                out[col] = ref.num(rows[col])
        return out
    t = ref.table("nma", name)
    return pd.DataFrame({"study": t["study"].astype(str), "treat1": t["treat1"], "treat2": t["treat2"],
                         "effect": t["TE"], "se": t["seTE"]})


_FITS: dict = {}


def fit_of(name: str):
    if name not in _FITS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _FITS[name] = netstrata.network(contrasts(name))
    return _FITS[name]


def _r_split(name: str, block: str) -> pd.DataFrame:
    res = ref.load("nma", name)["analyses"]["netsplit"]["result"]
    b = res[block]
    return pd.DataFrame({k: (ref.num(v) if k != "comparison" else v) for k, v in b.items()}).set_index("comparison")


def _levels(name: str, level: int = 1) -> dict:
    return {s: level for s in set(contrasts(name)["study"])}


# ----------------------------------------------------------------------------- parity of the inputs
@pytest.mark.parametrize("name", DATASETS)
def test_certainty_inputs_match_netsplit_random(name):
    ev = network_evidence(fit_of(name), "random")
    net, direct, indirect = (_r_split(name, b) for b in ("random", "direct.random", "indirect.random"))
    got = pd.DataFrame([vars_of(c) for c in ev.comparisons]).set_index("comparison")
    assert set(got.index) == set(net.index)
    g = got.loc[net.index]
    np.testing.assert_allclose(g["ci_low"], net["lower"], rtol=RTOL)
    np.testing.assert_allclose(g["ci_high"], net["upper"], rtol=RTOL)
    has_d = g["evidence"].isin(["direct", "mixed"]).to_numpy()
    np.testing.assert_array_equal(has_d, np.isfinite(direct["TE"].to_numpy()))
    np.testing.assert_allclose(g["direct_ci_low"][has_d], direct["lower"][has_d], rtol=RTOL)
    np.testing.assert_allclose(g["direct_ci_high"][has_d], direct["upper"][has_d], rtol=RTOL)
    mixed = (g["evidence"] == "mixed").to_numpy()
    np.testing.assert_allclose(g["indirect_ci_low"][mixed], indirect["lower"][mixed], rtol=RTOL)
    np.testing.assert_allclose(g["indirect_ci_high"][mixed], indirect["upper"][mixed], rtol=RTOL)
    pred = _r_split(name, "predict")
    np.testing.assert_allclose(g["pi_low"], pred["lower"].loc[net.index], rtol=RTOL, equal_nan=True)
    np.testing.assert_allclose(g["pi_high"], pred["upper"].loc[net.index], rtol=RTOL, equal_nan=True)


def vars_of(c: ComparisonEvidence) -> dict:
    return {f: getattr(c, f) for f in c.__dataclass_fields__}


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("model", ["random", "common"])
def test_certainty_dbt_pvalue_matches_decomp_design(name, model):
    res = ref.load("nma", name)["analyses"].get("decomp.design", {}).get("result")
    ev = network_evidence(fit_of(name), model)
    p = set(ev.dbt_pvalue.values())
    if res is None:
        assert all(math.isnan(v) for v in p)
        return
    if model == "random":
        df, expected = ref.scalar(res["Q.inc.random"]["df"]), ref.scalar(res["Q.inc.random"]["pval"])
    else:
        df, expected = res["Q.decomp"]["df"][2], res["Q.decomp"]["pval"][2]
    (got,) = p
    if df == 0:
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("name", DATASETS)
def test_certainty_contribution_rows_sum_to_one(name):
    ev = network_evidence(fit_of(name))
    np.testing.assert_allclose(ev.contributions.sum(axis=1), 1.0, rtol=1e-10)
    assert list(ev.contributions.index) == [c.comparison for c in ev.comparisons]


# ----------------------------------------------------------------------------- rules on whole networks
@pytest.mark.parametrize("name", DATASETS)
def test_certainty_uniform_rob_levels(name):
    fit = fit_of(name)
    low = rate_network(fit, measure="MD", mid=0.5, rob=_levels(name, 1), indirectness=_levels(name, 1))
    high = rate_network(fit, measure="MD", mid=0.5, rob=_levels(name, 3), indirectness=_levels(name, 2))
    n = len(fit.treatments)
    assert len(low) == n * (n - 1) // 2
    for rule in ("majority", "average", "highest"):
        t = rate_network(fit, measure="MD", mid=0.5, rob=_levels(name, 3), rob_rule=rule)
        assert all(r.within_study_bias.judgement == MAJOR for r in t)
    assert all(r.within_study_bias.judgement == NO for r in low)
    assert all(r.indirectness.judgement == "some concerns" for r in high)
    for a, b in zip(low, high):
        assert b.downgrades == a.downgrades + 3
        assert [d.domain for d in a.domains] == list(DOMAINS)


def test_certainty_highest_rule_one_high_risk_study_senn2013():
    name = "senn2013"
    ev = network_evidence(fit_of(name))
    study = ev.contributions.columns[0]
    rob = _levels(name, 1) | {study: 3}
    t = rate_network(ev, measure="MD", mid=0.5, rob=rob, rob_rule="highest")
    touched = ev.contributions[study] > 0
    for r in t:
        assert (r.within_study_bias.judgement == MAJOR) == bool(touched[r.comparison])


def _star() -> pd.DataFrame:
    return pd.DataFrame({"study": ["s1", "s2", "s3", "s4", "s5"], "treat1": ["B", "B", "B", "C", "C"],
                         "treat2": ["A"] * 5, "effect": [-1.0, -1.4, -0.6, -0.3, -0.5],
                         "se": [0.3, 0.4, 0.35, 0.3, 0.25]})


def test_certainty_star_network_incoherence_not_assessable():
    fit = netstrata.network(_star(), reference="A")
    t = rate_network(fit, measure="MD", mid=0.5, rob={"s1": 1, "s2": 2, "s3": 3, "s4": 1, "s5": 1})
    got = {r.comparison: (r.evidence, r.incoherence.judgement) for r in t}
    assert got == {"B:A": ("direct", NO), "C:A": ("direct", NO), "B:C": ("indirect", NOT_ASSESSABLE)}
    # direct-only comparisons draw only on their own studies
    shares = t.evidence.contributions
    assert shares.loc["B:A", ["s4", "s5"]].sum() == 0 and shares.loc["C:A", ["s1", "s2", "s3"]].sum() == 0
    assert "no loops" in t["B:C"].incoherence.note


def test_certainty_triangle_mixed_evidence_uses_shared_areas():
    loop = pd.DataFrame({"study": ["s6", "s7"], "treat1": ["B", "B"], "treat2": ["C", "C"],
                         "effect": [-0.4, 0.3], "se": [0.3, 0.3]})
    fit = netstrata.network(pd.concat([_star(), loop]), reference="A")
    t = rate_network(fit, measure="MD", mid=0.5, rob={f"s{i}": 1 for i in range(1, 8)})
    assert {r.evidence for r in t} == {"mixed"}
    for r in t:
        assert r.incoherence.rule == "shared areas"
        assert r.incoherence.inputs["shared_areas"] in (0, 1, 2, 3)


def test_certainty_overrides_recorded_and_orientation_free():
    fit = fit_of("senn2013")
    t = rate_network(fit, measure="MD", mid=0.5, rob=_levels("senn2013"),
                     overrides={"acar:benf": {"imprecision": ("no concerns", "MID too strict here")}},
                     rating_overrides={"metf:acar": ("High", "panel judgement, minutes 3 May")},
                     reporting_bias={"plac:acar": ("suspected", "industry-funded trials only")})
    r = t["benf:acar"]
    assert r.imprecision.judgement == NO and r.imprecision.algorithm == MAJOR
    assert "MID too strict" in t.to_frame().set_index("comparison").loc["benf:acar", "overrides"]
    m = t["acar:metf"]
    assert (m.rating, m.override_reason) == ("High", "panel judgement, minutes 3 May")
    assert m.rating_algorithm != "High"
    p = t["plac:acar"].reporting_bias
    assert (p.judgement, p.inputs["reporting_bias"], p.note) == ("some concerns", "suspected",
                                                                 "industry-funded trials only")


def test_certainty_refuses_bad_input():
    fit = fit_of("senn2013")
    rob = _levels("senn2013")
    missing = dict(list(rob.items())[1:])
    with pytest.raises(DataError, match="no rob level"):
        rate_network(fit, measure="MD", mid=0.5, rob=missing)
    with pytest.raises(ParameterError, match="unknown comparison"):
        rate_network(fit, measure="MD", mid=0.5, rob=rob, overrides={"x:y": {"imprecision": ("no concerns", "r")}})
    with pytest.raises(ParameterError, match="domains in"):
        rate_network(fit, measure="MD", mid=0.5, rob=rob, overrides={"benf:acar": {"bias": ("no concerns", "r")}})
    with pytest.raises(ParameterError, match="rob_rule"):
        rate_network(fit, measure="MD", mid=0.5, rob=rob, rob_rule="median")
    with pytest.raises(ParameterError, match="non-empty reason"):
        rate_network(fit, measure="MD", mid=0.5, rob=rob, rating_overrides={"benf:acar": ("Low", "")})


def test_certainty_derived_indirectness_reasons_reach_the_rating():
    studies = pd.DataFrame({"study": ["s1", "s2", "s3", "s4", "s5"],
                            "region": ["lumbar", "lumbar", "cervical", "lumbar", "lumbar"],
                            "fidelity_tier": ["T1", "T1", "T1", "TU", "T1"]})
    ind = derive_indirectness(studies, {"region": "lumbar"}, overrides={"s5": (2, "co-interventions differ")})
    fit = netstrata.network(_star(), reference="A")
    t = rate_network(fit, measure="MD", mid=0.5, rob={f"s{i}": 1 for i in range(1, 6)}, indirectness=ind,
                     indirectness_rule="highest")
    j = t["B:A"].indirectness
    assert j.judgement == MAJOR and "spinal region differs" in j.inputs["level_reasons"]["s3"]
    assert t["C:A"].indirectness.judgement == "some concerns"
    assert t["C:A"].indirectness.inputs["level_reasons"]["s5"] == "override: co-interventions differ"


def test_certainty_table_presentation():
    t = rate_network(fit_of("woods2010"), measure="OR", mid=0.8, rob=_levels("woods2010"))
    assert repr(t).startswith("CertaintyTable(comparisons=6")
    frame = t.summary().to_frame()
    assert frame.columns[4] == "start_level" and list(frame.columns[5:11]) == list(DOMAINS)
    assert isinstance(t.ratings[0], CertaintyRating) and "Certainty of" in t.ratings[0].summary().as_text()
    assert t.zone.natural() == pytest.approx((0.8, 1.25), rel=1e-12)


def test_certainty_handmade_evidence_without_a_fit():
    comps = (ComparisonEvidence("B:A", "B", "A", "direct", -1.0, -1.5, -0.5),)
    ev = NetworkEvidence(comps, pd.DataFrame({"s1": [1.0]}, index=["B:A"]), {"B:A": math.nan}, "random", 0.95)
    (r,) = rate_network(ev, measure="MD", mid=0.5, rob={"s1": "H"}).ratings
    assert r.within_study_bias.judgement == MAJOR and r.heterogeneity.judgement == NOT_ASSESSABLE
    assert r.rating == "Low"


def test_certainty_disconnected_network_rates_each_sub_network():
    d = pd.DataFrame({"study": ["s1", "s2", "s3", "s4"], "treat1": ["B", "B", "D", "D"], "treat2": ["A", "A", "C", "C"],
                      "effect": [-1.0, -0.8, 0.2, 0.4], "se": [0.3, 0.3, 0.2, 0.25]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = netstrata.network(d)
    t = rate_network(fit, measure="MD", mid=0.5, rob={f"s{i}": 1 for i in range(1, 5)})
    assert sorted(r.comparison for r in t) == ["B:A", "C:D"]       # no estimate across sub-networks
    assert all(r.evidence == "direct" for r in t)


def test_certainty_cinema_app_settings_recorded():
    fit = fit_of("senn2013")
    zone = rate_network(fit, measure="MD", mid=0.5, rob=_levels("senn2013"))
    app = rate_network(fit, measure="MD", mid=0.5, rob=_levels("senn2013"), limits="cinema_app",
                       difference_p_gate=0.10, p_thresholds=(0.05, 0.10))
    assert app.settings["limits"] == "cinema_app" and app.settings["difference_p_gate"] == 0.10
    assert all(r.imprecision.rule == "CI crossings (cinema_app)" for r in app)
    # the app's limits (null, opposite MID) never give more concerns for a CI excluding the null
    rank = {"no concerns": 0, "some concerns": 1, "major concerns": 2}
    for a, b in zip(zone, app):
        if a.ci_low > 0 or a.ci_high < 0:
            assert rank[b.imprecision.judgement] <= rank[a.imprecision.judgement]
    with pytest.raises(ParameterError, match="limits"):
        rate_network(fit, measure="MD", mid=0.5, rob=_levels("senn2013"), limits="toshi")


def test_certainty_to_dict_is_json_and_complete():
    import json

    t = rate_network(netstrata.network(_star(), reference="A"), measure="MD", mid=0.5,
                     rob={f"s{i}": 1 for i in range(1, 6)},
                     overrides={"B:C": {"incoherence": ("some concerns", "loop-free; clinical doubts")}})
    d = json.loads(json.dumps(t.to_dict(), allow_nan=False))
    assert [r["comparison"] for r in d["ratings"]] == ["B:A", "C:A", "B:C"]
    inc = d["ratings"][2]["domains"][5]
    assert inc["domain"] == "incoherence" and inc["algorithm"] == "not assessable"
    assert inc["judgement"] == "some concerns" and inc["override_reason"] == "loop-free; clinical doubts"
    assert inc["inputs"]["dbt_pvalue"] is None
    assert d["zone"]["low"] == -0.5 and d["settings"]["rob_rule"] == "majority"
    assert json.dumps(t.to_dict()) == json.dumps(t.to_dict())       # deterministic


@pytest.mark.parametrize("model", ["random", "common"])
@pytest.mark.parametrize("name", ["franchini2012", "gurusamy2011"])
def test_certainty_invariant_to_row_order(name, model):
    c = contrasts(name)
    rob = {s: 1 + i % 3 for i, s in enumerate(sorted(set(c["study"])))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = rate_network(netstrata.network(c), measure="OR", mid=0.8, rob=rob, model=model, rob_rule="average")
        shuffled = c.sample(frac=1.0, random_state=7).reset_index(drop=True)
        b = rate_network(netstrata.network(shuffled, reference=fit_of(name).reference), measure="OR", mid=0.8,
                         rob=rob, model=model, rob_rule="average")
    fa = a.to_frame().set_index("comparison").sort_index()
    fb = b.to_frame().set_index("comparison").sort_index()
    pd.testing.assert_frame_equal(fa[list(DOMAINS) + ["rating"]], fb[list(DOMAINS) + ["rating"]])
    np.testing.assert_allclose(fa["effect"], fb["effect"], rtol=1e-10)


def test_certainty_warns_when_study_level_inputs_missing():
    from netstrata.errors import StatisticalWarning

    fit = netstrata.network(_star(), reference="A")
    with pytest.warns(StatisticalWarning, match="within-study bias and indirectness not assessed"):
        t = rate_network(fit, measure="MD", mid=0.5)
    assert t.settings["unassessed"] == ("within-study bias", "indirectness")
    assert any("NOT ASSESSED" in n for n in t.summary().notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = rate_network(fit, measure="MD", mid=0.5, rob=_star_levels(), indirectness=_star_levels())
    assert full.settings["unassessed"] == ()


def _star_levels() -> dict:
    return {f"s{i}": 1 for i in range(1, 6)}


def _colon_table():
    """Senn 2013 with node names that hold colons, as the pack's technique level writes them."""
    data = contrasts("senn2013").copy()
    for col in ("treat1", "treat2"):
        data[col] = data[col].map(lambda t: f"DRUG:{t}:oral" if t != "plac" else "plac")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = netstrata.network(data)
        return rate_network(fit, measure="MD", mid=0.5, rob=_levels("senn2013"))


def test_reversed_comparison_resolves_when_node_names_hold_colons():
    table = _colon_table()
    for r in table.ratings:
        assert table[f"{r.treatment2}:{r.treatment1}"] is r      # before: "unknown comparison"
        assert table[r.comparison] is r


def test_reversal_fitting_two_comparisons_is_refused_and_unknown_names_still_are():
    from netstrata.certainty.network import _resolve
    assert _resolve("c:a:b", ["a:b:c"], "T") == 0                 # ("a:b", "c") reversed
    with pytest.raises(ParameterError, match="ambiguous"):
        _resolve("b:c:a", ["a:b:c", "c:a:b"], "T")               # ("b", "c:a") or ("b:c", "a")
    with pytest.raises(ParameterError, match="unknown comparison"):
        _colon_table()["DRUG:x:oral:plac"]
