"""Threshold analysis against nmathresh 0.1.6 (tests/data/reference/threshold, see its README).

Thresholds and everything derived from them at rtol 1e-6 (they are closed forms; the reference
was written with full double precision, and netstrata agrees to ~1e-12); H with an absolute
tolerance of 1e-12 as the README asks; U / U* entries whose influence |D H| < 1e-10 are exact
zeros (round-off in both programs) and skipped.  senn2013 is compared with the ``*_clean``
analyses, which set those entries to infinity as netstrata does.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import netstrata
from netstrata.errors import DataError, ParameterError
from netstrata.nma import reconstruct_likelihood, threshold, threshold_analysis
from netstrata.nma.threshold.inputs import contrast_inputs, network_means, study_inputs

from .reference import load, num, table

RTOL = 1e-6
H_ATOL = 1e-12
ZERO = 1e-10


def mat(x) -> np.ndarray:
    """A reference matrix as an array (also when it has no row / column names)."""
    return np.array([[num(v) for v in row] for row in x["values"]], dtype=float)


def _ref(name: str, analysis: str) -> dict:
    return load("threshold", name)["analyses"][analysis]["result"]


def _names(values) -> list:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in values]


def check_thresholds(res, ref: dict, *, y=True):
    """lo / hi / new k* / invariant interval / CI / is.short of every data point."""
    t = res.thresholds
    r = ref["thresholds"]
    assert list(t["data_point"]) == r["data_point"]
    for ours, theirs in (("threshold_low", "lo"), ("threshold_high", "hi")):
        assert_allclose(t[ours].to_numpy(float), num(r[theirs]), rtol=RTOL)
    assert _names(t["new_low"]) == r["lo.newkstar"]
    assert _names(t["new_high"]) == r["hi.newkstar"]
    if y:
        for ours, theirs in (("effect", "y"), ("ii_low", "II.lo"), ("ii_high", "II.hi"), ("ci_low", "CI.lo"),
                             ("ci_high", "CI.hi")):
            assert_allclose(t[ours].to_numpy(float), num(r[theirs]), rtol=RTOL, atol=1e-12)
        assert list(t["is_short"]) == r["is.short"]
    assert list(res.kstar) == ref["kstar"]


def check_matrices(res, ref: dict):
    H = num(ref["H"])
    assert list(res.H.index) == list(H.index)
    assert_allclose(res.H.to_numpy(), H.to_numpy(), atol=H_ATOL, rtol=0)
    dh = pd.DataFrame(res.arrays.DH, index=res.U.index, columns=res.U.columns)
    for key, ours in (("U", res.U), ("Ukstar", res.Ukstar)):
        if key not in ref:
            continue
        theirs = num(ref[key])
        assert list(ours.index) == list(theirs.index)
        keep = np.abs(dh.loc[theirs.index].to_numpy()) >= ZERO
        assert_allclose(ours.loc[theirs.index].to_numpy()[keep], theirs.to_numpy()[keep], rtol=RTOL)


# ------------------------------------------------------------------ thrombo (vignette, study level)

def _thrombo_study(**kwargs):
    post = _ref("thrombo", "posterior")
    data = _ref("thrombo", "study_level_data")
    pts = data["points"]
    return threshold_analysis(num(post["mean.dk"]).to_numpy(), num(post["post"]).to_numpy(),
                              mat(data["X"]), mat(data["V"]), small_values="desirable",
                              labels=pts["label"], effect=pts["lor"], **kwargs)


THROMBO_STUDY = {
    "nma_thresh_study": {},
    "nma_thresh_study_rank2": {"rank": 2},
    "nma_thresh_study_sub": {"subset": [2, 4, 5, 6]},
    "nma_thresh_study_mcid_change": {"decision": "best", "mid": 0.05},
    "nma_thresh_study_mcid_decision": {"decision": "mid", "mid": 0.05},
}


@pytest.mark.parametrize("analysis", list(THROMBO_STUDY))
def test_thrombo_study_level_thresholds(analysis):
    """nmathresh vignette, thrombolytics at study level (Phillippo 2018, section 5.1)."""
    res = _thrombo_study(**THROMBO_STUDY[analysis])
    ref = _ref("thrombo", analysis)
    check_thresholds(res, ref)
    check_matrices(res, ref)


def test_thrombo_contrast_level_via_reconstructed_likelihood():
    """recon_vcov (NNLS, prior precision 1e-4), then contrast-level thresholds with the vignette's
    posterior contrast means and credible intervals."""
    post = _ref("thrombo", "posterior")
    rec_ref = _ref("thrombo", "recon_vcov_contrast")
    X = mat(rec_ref["X"])
    rec = reconstruct_likelihood(num(post["post"]).to_numpy(), X, prior_precision=1e-4)
    assert_allclose(rec.variances, num(rec_ref["variances"]), rtol=RTOL)
    assert_allclose(rec.precisions, num(rec_ref["precisions"]), rtol=RTOL)
    for ours, theirs in (("rss_total", "rss.total"), ("rss_fixed", "rss.fixed"), ("rss_fitted", "rss.fitted"),
                         ("kl_divergence", "kl.divergence")):
        assert_allclose(getattr(rec, ours), num(rec_ref[theirs]), rtol=RTOL)
    plot = _ref("thrombo", "contrast_plot_data")["points"]
    res = threshold_analysis(num(post["mean.dk"]).to_numpy(), num(post["post"]).to_numpy(), X,
                             np.diag(rec.variances), labels=plot["lab"], effect=plot["contr.mean"],
                             ci=(plot["CI2.5"], plot["CI97.5"]))
    ref = _ref("thrombo", "nma_thresh_contrast")
    check_thresholds(res, ref)
    check_matrices(res, ref)


# ------------------------------------------------------------------ social anxiety (41 treatments)

def _socanx():
    data = _ref("socanx", "contrast_level_data")
    post = num(data["post"]).to_numpy()
    X = mat(data["X"])
    prior = np.full(40, 3.9 / 0.35)
    prior[1] = 1e-4
    rec = reconstruct_likelihood(post, X, prior_covariance=np.diag(1 / prior))
    ref = _ref("socanx", "nma_thresh_contrast")["thresholds"]
    res = threshold_analysis(num(data["mean.dk"]).to_numpy(), post, X, np.diag(rec.variances),
                             labels=data["points"]["label"], effect=num(ref["y"]),
                             ci=(num(ref["CI.lo"]), num(ref["CI.hi"])))
    return rec, res


def test_socanx_reconstructed_likelihood():
    """recon_vcov with the class model's prior (one precision 0: an infinite variance)."""
    rec, _ = _socanx()
    ref = _ref("socanx", "recon_vcov_contrast")
    assert_allclose(rec.variances, num(ref["variances"]), rtol=RTOL)
    assert_allclose(rec.precisions, num(ref["precisions"]), rtol=RTOL, atol=1e-12)
    assert_allclose([rec.rss_total, rec.rss_fixed, rec.rss_fitted, rec.kl_divergence],
                    [num(ref[k]) for k in ("rss.total", "rss.fixed", "rss.fitted", "kl.divergence")], rtol=RTOL)


def test_socanx_contrast_level_thresholds():
    _, res = _socanx()
    ref = _ref("socanx", "nma_thresh_contrast")
    check_thresholds(res, ref)
    check_matrices(res, ref)
    assert res.thresholds.loc[2, "note"].startswith("no threshold")      # the contrast with variance inf


@pytest.mark.parametrize("group", ["get.int_drug", "get.int_psych"])
def test_socanx_group_thresholds(group):
    """All contrasts of a treatment group moved together (the vignette's drug / psychological
    groups): U = 1 / rowSums(1 / U*[, group])."""
    _, res = _socanx()
    ref = _ref("socanx", group)
    joint = res.joint([c - 1 for c in ref["columns"]])
    assert list(joint.points) == ref["data_points"]
    assert_allclose([joint.threshold_low, joint.threshold_high], [num(ref["lo"]), num(ref["hi"])], rtol=RTOL)
    assert (joint.new_low, joint.new_high) == (ref["lo.newkstar"], ref["hi.newkstar"])
    y = num(ref["contr.mean"])
    assert_allclose(y + joint.threshold_low, num(ref["II.lo"]), rtol=RTOL)


# ------------------------------------------------------------------ senn2013 through network()

@pytest.fixture(scope="module")
def senn():
    df = table("nma", "senn2013").rename(columns={"TE": "effect", "seTE": "se"})
    return netstrata.network(df, reference="plac")


def test_senn2013_inputs_equal_the_netmeta_construction(senn):
    codes, mean, post = network_means(senn, "common")
    dk = _ref("senn2013", "netmeta_common")
    assert list(codes) == dk["trt"]
    assert_allclose(mean, num(dk["mean.dk"]).to_numpy(), rtol=RTOL)
    assert_allclose(post, num(dk["post"]).to_numpy(), rtol=RTOL, atol=1e-14)
    X, V, pts = study_inputs(senn, "common", codes)
    si = _ref("senn2013", "study_level_inputs")
    assert list(pts["data_point"]) == si["points"]["label"]
    assert_allclose(X, mat(si["X"]), rtol=0, atol=0)
    assert_allclose(V, mat(si["V"]), rtol=1e-10, atol=1e-14)
    assert_allclose(pts["effect"], si["points"]["y"], rtol=1e-10, atol=1e-14)
    X, V, pts = contrast_inputs(senn, "common", codes)
    ci = _ref("senn2013", "contrast_level_inputs")
    assert list(pts["data_point"]) == ci["points"]["label"]
    assert_allclose(X, mat(ci["X"]), rtol=0, atol=0)
    assert_allclose(np.diag(V), ci["points"]["var"], rtol=1e-10)
    assert_allclose(pts["effect"], ci["points"]["y"], rtol=1e-10, atol=1e-14)


def test_senn2013_reconstruction_gives_back_the_netmeta_variances(senn):
    codes, _, post = network_means(senn, "common")
    X, V, _ = contrast_inputs(senn, "common", codes)
    rec = reconstruct_likelihood(post, X, prior_precision=0)
    ref = _ref("senn2013", "recon_vcov_contrast")
    assert_allclose(rec.variances, num(ref["variances"]), rtol=RTOL)
    assert_allclose(rec.variances, np.diag(V), rtol=1e-8)


@pytest.mark.parametrize("level,analysis", [("study", "nma_thresh_study"), ("contrast", "nma_thresh_contrast")])
def test_senn2013_thresholds_from_the_network(senn, level, analysis):
    res = threshold(senn, level=level)
    check_thresholds(res, _ref("senn2013", analysis + "_clean"))
    check_matrices(res, _ref("senn2013", analysis))
    assert res.Ukstar.shape[0] == 9 and res.optimal == "rosi"


def test_senn2013_rank2_through_the_low_level_function(senn):
    codes, mean, post = network_means(senn, "common")
    X, V, pts = study_inputs(senn, "common", codes)
    res = threshold_analysis(mean, post, X, V, treatments=codes, rank=2, labels=pts["data_point"],
                             effect=pts["effect"])
    check_thresholds(res, _ref("senn2013", "nma_thresh_study_rank2_clean"))
    check_matrices(res, _ref("senn2013", "nma_thresh_study_rank2"))


def test_senn2013_raw_thresholds_agree_where_the_influence_is_not_zero(senn):
    """Without the zero rule netstrata is nmathresh itself: the raw analysis's finite
    thresholds below 1e10 (the rest are round-off of exact zeros) are reproduced."""
    codes, mean, post = network_means(senn, "common")
    X, V, pts = study_inputs(senn, "common", codes)
    raw = threshold_analysis(mean, post, X, V, treatments=codes, zero_tol=0.0)
    ref = _ref("senn2013", "nma_thresh_study")["thresholds"]
    for ours, theirs in (("threshold_low", "lo"), ("threshold_high", "hi")):
        r = num(ref[theirs])
        keep = np.abs(r) < 1e10
        assert_allclose(raw.thresholds[ours].to_numpy()[keep], r[keep], rtol=RTOL)


def test_random_effects_thresholds_use_the_random_model(senn):
    res = threshold(senn, level="contrast", model="random")
    codes, mean, post = network_means(senn, "random")
    X, V, _ = contrast_inputs(senn, "random", codes)
    # the influence matrix reproduces the random-effects estimates exactly: H y = d
    y = res.thresholds["effect"].to_numpy()
    assert_allclose(res.H.to_numpy() @ y, mean, rtol=1e-10)


# ------------------------------------------------------------------ decisions, star networks, errors

def test_mid_decision_from_the_network_matches_the_low_level_rule(senn):
    res = threshold(senn, level="contrast", decision="mid", mid=0.2)
    codes, mean, post = network_means(senn, "common")
    X, V, pts = contrast_inputs(senn, "common", codes)
    low = threshold_analysis(mean, post, X, V, treatments=codes, decision="mid", mid=0.2)
    assert_allclose(res.thresholds["threshold_low"], low.thresholds["threshold_low"], rtol=1e-12)
    assert res.kstar == low.kstar and len(res.kstar) >= 1


def _star(seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for i, (t, d) in enumerate([("A", -1.0), ("B", -0.6), ("C", -0.2)] * 2):
        se = rng.uniform(0.1, 0.3)
        rows.append((f"S{i}", t, "sham", d + rng.normal(0, se), se))
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])


def test_star_network_thresholds_say_where_they_do_not_exist():
    net = netstrata.network(_star(), reference="sham")
    res = threshold(net, level="study")
    assert res.optimal == "A"
    assert any("star network" in n for n in res.notes)
    t = res.thresholds
    other = t[t["treatment"] != "A"]
    # a study of B or C can only make its treatment overtake A (lower effect): one side only
    assert np.isinf(other["threshold_high"]).all() and np.isfinite(other["threshold_low"]).all()
    assert other["note"].str.startswith("no upper threshold").all()
    assert (other["new_low"] == other["treatment"]).all()
    assert np.isfinite(t.loc[t["treatment"] == "A", "threshold_high"]).all()


def test_bad_input_gets_clear_errors(senn):
    with pytest.raises(ParameterError, match="needs a minimal important difference"):
        threshold(senn, decision="mid")
    with pytest.raises(ParameterError, match="positive number"):
        threshold(senn, decision="mid", mid=-1)
    with pytest.raises(ParameterError, match="'level' parameter of threshold"):
        threshold(senn, level="arm")
    with pytest.raises(ParameterError, match="NetworkResult"):
        threshold(pd.DataFrame())
    with pytest.raises(DataError, match="at least two treatments"):
        threshold_analysis([], np.zeros((0, 0)), np.zeros((1, 0)), np.ones(1))
    with pytest.raises(ParameterError, match="shape"):
        threshold_analysis([0.1, 0.2], np.eye(3), np.eye(2), np.ones(2))
    with pytest.raises(ParameterError, match="rank"):
        threshold_analysis([0.1], np.eye(1), np.ones((1, 1)), np.ones(1), decision="mid", mid=0.1, rank=2)
    df = pd.DataFrame({"study": ["a", "b"], "treat1": ["A", "C"], "treat2": ["B", "D"], "effect": [0.1, 0.2],
                       "se": [0.1, 0.1]})
    with pytest.warns(netstrata.nma.ComponentNotice):
        net = netstrata.network(df)
    with pytest.raises(DataError, match="connected network"):
        threshold(net)
