"""Class-effect network models (netstrata.class_network) against the network fit they generalise.

Identities (1e-10): the independent model is ``network(method="REML")`` (the split network), the
common model is ``network()`` on treatments relabelled by class (the lumped network), and
sigma² -> 0 / -> inf of the exchangeable model reproduce them.  The likelihood is checked against
a dense multivariate-normal evaluation of the marginal model.  The identities hold because the
same data reduction and the same tau² estimator (a score equation solved to machine precision)
are used; tolerances of 1e-10 leave room for round-off of the O(1) estimates only.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.linalg import block_diag
from scipy.stats import multivariate_normal

import netstrata
from netstrata.errors import DataError, ParameterError
from netstrata.nma.classes.fit import estimates_at
from netstrata.nma.classes.kernel import loglik
from netstrata.nma.classes.result import mixture_pvalue

from .reference import table
from .test_nma_data import contrasts

TOL = dict(rtol=1e-10, atol=1e-10)

SENN_CLASSES = {"plac": "placebo", "acar": "aGI", "migl": "aGI", "benf": "other", "metf": "biguanide",
                "piog": "TZD", "rosi": "TZD", "sita": "DPP4", "vild": "DPP4", "sulf": "SU"}
# arbitrary classes with no study comparing two members of one class (for the lumping identity)
DOGLIOTTI_CLASSES = {"Placebo/Control": "control", "Aspirin": "antiplatelet", "Aspirin+Clopidogtrel": "dual",
                     "VKAs": "VKA", "Dabigatran 110mg": "NOAC-a", "Apixaban": "NOAC-a",
                     "Dabigatran 150mg": "NOAC-b", "Rivaroxaban": "NOAC-b"}
DOGLIOTTI_NATURAL = {**DOGLIOTTI_CLASSES, "Aspirin+Clopidogtrel": "antiplatelet", "Dabigatran 150mg": "NOAC-a",
                     "Rivaroxaban": "NOAC-a"}


def senn() -> pd.DataFrame:
    return table("nma", "senn2013").rename(columns={"TE": "effect", "seTE": "se"})


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


def relabel(df: pd.DataFrame, classes: dict) -> pd.DataFrame:
    out = df.copy()
    out["treat1"], out["treat2"] = df["treat1"].map(classes), df["treat2"].map(classes)
    return out


def lumped_league(lump, fit, classes, what="league", model="random"):
    """The class network's treatment-level matrix read at class level."""
    rep = {c: next(t for t in fit.treatments if classes[t] == c) for c in lump.treatments}
    mat = getattr(fit, what)(model)
    return mat.loc[[rep[c] for c in lump.treatments], [rep[c] for c in lump.treatments]].to_numpy()


# ------------------------------------------------------------------ identities with network()

@pytest.mark.parametrize("data", ["senn2013", "dogliotti2014", "franchini2012"])
def test_independent_model_is_the_split_network(data):
    df = senn() if data == "senn2013" else contrasts(data)
    classes = SENN_CLASSES if data == "senn2013" else (
        DOGLIOTTI_NATURAL if data == "dogliotti2014" else
        {t: ("ergot" if t in ("Bromocriptine", "Cabergoline") else t) for t in set(df.treat1) | set(df.treat2)})
    net = quiet(netstrata.network, df, method="REML")
    fit = quiet(netstrata.class_network, df, classes, model="independent")
    assert fit.treatments == net.treatments
    assert_allclose(fit.tau2, net.tau2, **TOL)
    for model in ("common", "random"):
        assert_allclose(fit.league(model), net.league(model), **TOL)
        assert_allclose(fit.league_se(model), net.league_se(model), **TOL)
        assert_allclose(fit.p_scores(model), net.p_scores(model), **TOL)
        lo, hi = fit.league_ci(model)
        assert_allclose(lo, net.league_ci(model).ci_low, **TOL)


def test_a_fitted_network_can_be_passed_instead_of_contrasts():
    net = quiet(netstrata.network, contrasts("dogliotti2014"), method="REML")
    a = quiet(netstrata.class_network, net, DOGLIOTTI_NATURAL)
    b = quiet(netstrata.class_network, contrasts("dogliotti2014"), DOGLIOTTI_NATURAL)
    assert_allclose(a.league("random"), b.league("random"), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("data", ["senn2013", "dogliotti2014"])
def test_common_model_is_the_lumped_network(data):
    """network() on treatments relabelled by class (no study compares two members of a class;
    dogliotti2014's multi-arm studies carry arm-level columns, so netmeta's REML uses their
    covariance and the likelihood does not depend on which arm is the baseline)."""
    if data == "senn2013":
        df, classes = senn()[lambda d: d["study"] != "Derosa2004"], SENN_CLASSES    # rosi vs piog
    else:
        df, classes = contrasts(data), DOGLIOTTI_CLASSES
    fit = quiet(netstrata.class_network, df, classes, model="common")
    lump = quiet(netstrata.network, relabel(df, classes), method="REML",
                 reference=classes[fit.reference])
    assert_allclose(fit.tau2, lump.tau2, **TOL)
    for model in ("common", "random"):
        assert_allclose(lumped_league(lump, fit, classes, "league", model), lump.league(model).to_numpy(), **TOL)
        assert_allclose(lumped_league(lump, fit, classes, "league_se", model), lump.league_se(model).to_numpy(),
                        **TOL)
    ce = fit.class_effects
    ref = lump.estimates("random")
    assert_allclose(ce.loc[list(ref.index), "estimate"], ref["effect"], **TOL)
    assert_allclose(ce.loc[list(ref.index), "se"], ref["se"], **TOL)


def test_within_class_comparisons_inform_only_heterogeneity_under_the_common_model():
    fit = quiet(netstrata.class_network, senn(), SENN_CLASSES, model="common")
    assert any("inform only the heterogeneity" in n for n in fit.notes)
    assert fit.league("random").loc["rosi", "piog"] == 0.0


# ------------------------------------------------------------------ limits and likelihood

@pytest.fixture(scope="module")
def dog():
    return quiet(netstrata.class_network, contrasts("dogliotti2014"), DOGLIOTTI_NATURAL, sigma2="shared",
                 reference="Placebo/Control")


def test_sigma2_limits_reproduce_common_and_independent(dog):
    inp = dog.inputs
    tau2 = dog.tau2
    zero = estimates_at(inp, "exchangeable", tau2, 0.0)
    common = estimates_at(inp, "common", tau2, ())
    assert_allclose(zero.effects, common.effects, **TOL)
    assert_allclose(zero.cov, common.cov, **TOL)
    tiny = estimates_at(inp, "exchangeable", tau2, 1e-14)
    assert_allclose(tiny.effects, common.effects, rtol=1e-8, atol=1e-8)
    indep = estimates_at(inp, "independent", tau2, ())
    # the distance to the independent model shrinks like 1/sigma² (variances of the estimates
    # ~0.01-0.1 over sigma²), down to 1e-7 at sigma² = 1e6
    dist = [np.abs(estimates_at(inp, "exchangeable", tau2, s2).effects - indep.effects).max()
            for s2 in (1e2, 1e4, 1e6)]
    assert dist[0] > 50 * dist[1] > 2500 * dist[2] and dist[2] < 1e-7
    huge = estimates_at(inp, "exchangeable", tau2, 1e6)
    assert_allclose(huge.cov, indep.cov, rtol=1e-6, atol=1e-7)
    d = inp.designs
    for reml in (True, False):
        assert_allclose(loglik(inp.data, d["exchangeable"], tau2, [0.0], reml),
                        loglik(inp.data, d["common"], tau2, (), reml), rtol=1e-12)


def _dense_loglik(fit, sigma2: float, reml: bool) -> float:
    """Marginal log-likelihood y ~ N(X M mu, Σ + X Z S Zᵀ Xᵀ) evaluated densely."""
    inp = fit.inputs
    ys, Xs, Ss = [], [], []
    for yb, Xb, Vb, Kb in inp.data.groups:
        for s in range(len(yb)):
            ys.append(yb[s]); Xs.append(Xb[s]); Ss.append(Vb[s] + fit.tau2 * Kb[s])
    y, X, S = np.concatenate(ys), np.vstack(Xs), block_diag(*Ss)
    des = inp.designs["exchangeable"]
    Z = np.diag((des.group >= 0).astype(float))
    Vm = S + sigma2 * X @ Z @ X.T
    Xf = X @ des.M
    Vi = np.linalg.inv(Vm)
    mu = np.linalg.solve(Xf.T @ Vi @ Xf, Xf.T @ Vi @ y)
    ll = multivariate_normal(Xf @ mu, Vm).logpdf(y)
    if reml:
        q = Xf.shape[1]
        ll += 0.5 * q * np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(Xf.T @ Vi @ Xf)[1] \
            + 0.5 * np.linalg.slogdet(Xf.T @ Xf)[1]
    return float(ll)


@pytest.mark.parametrize("reml", [True, False])
def test_likelihood_equals_the_dense_marginal_model(dog, reml):
    des = dog.inputs.designs["exchangeable"]
    for s2 in (0.0, 0.05, 0.7):
        assert_allclose(loglik(dog.inputs.data, des, dog.tau2, [s2], reml), _dense_loglik(dog, s2, reml),
                        rtol=1e-10)


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("model", ["exchangeable", "common", "independent"])
def test_loglik_gradient_equals_finite_differences(dog, model, reml):
    """The analytic score used by the optimiser (central differences, step 1e-6)."""
    from netstrata.nma.classes.kernel import data_terms, loglik_grad
    d = dog.inputs.designs[model]
    x = np.r_[0.03, np.linspace(0.02, 0.2, d.n_sigma)]
    f = lambda v: loglik(dog.inputs.data, d, v[0], v[1:], reml)  # noqa: E731
    grad = loglik_grad(d, x[1:], reml, data_terms(dog.inputs.data, x[0]))
    step = 1e-6 * np.eye(len(x))
    num = np.array([(f(x + step[i]) - f(x - step[i])) / 2e-6 for i in range(len(x))])
    assert_allclose(grad, num, rtol=1e-6, atol=1e-6)


def _two_member(rng, sigma=0.3, head_to_head=True):
    d = {"P": 0.0, "A1": -0.5 + rng.normal(0, sigma), "A2": -0.5 + rng.normal(0, sigma)}
    designs = [("A1", "P")] * 3 + [("A2", "P")] * 3 + [("A1", "A2")] * int(head_to_head) * int(rng.integers(0, 3))
    rows = []
    for s, (a, b) in enumerate(designs):
        se = rng.uniform(0.1, 0.4)
        rows.append((f"S{s}", a, b, d[a] - d[b] + rng.normal(0, se), se))
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])


def test_two_member_class_exchangeable_lies_between_split_and_lumped():
    """A class of two members in a common-effects network: the exchangeable estimates lie between
    the independent (split) and common (lumped) ones; 40 random networks, most with sigma² > 0."""
    rng = np.random.default_rng(2024)
    classes = {"P": "P", "A1": "A", "A2": "A"}
    positive = 0
    for _ in range(40):
        df = _two_member(rng)
        fits = {m: quiet(netstrata.class_network, df, classes, model=m, reference="P")
                for m in ("independent", "exchangeable", "common")}
        est = {m: f.league("common")["P"] for m, f in fits.items()}
        positive += fits["exchangeable"].fits["common"].sigma2[0] > 0
        for t in ("A1", "A2"):
            lo, hi = sorted((est["independent"][t], est["common"][t]))
            assert lo - 1e-10 <= est["exchangeable"][t] <= hi + 1e-10
    assert positive >= 15


def _random_network(rng):
    """Five classes, eleven treatments, two-arm and three-arm studies with arm-level variances."""
    trts = ["P"] + [f"T{i}" for i in range(10)]
    classes = {"P": "ref", **{f"T{i}": f"C{i // 3}" for i in range(10)}}
    mu = {c: rng.normal(-0.5, 0.3) for c in set(classes.values())}
    d = {t: (0.0 if t == "P" else mu[classes[t]] + rng.normal(0, 0.2)) for t in trts}
    rows = []
    for s in range(30):
        arms = list(rng.choice(trts, 3 if s % 5 == 0 else 2, replace=False))
        var = rng.uniform(0.02, 0.1, len(arms))
        val = [d[t] + rng.normal(0, 0.15) + rng.normal(0, np.sqrt(v)) for t, v in zip(arms, var)]
        for i in range(len(arms)):
            for j in range(i + 1, len(arms)):
                rows.append((f"S{s}", arms[i], arms[j], val[i] - val[j], np.sqrt(var[i] + var[j]),
                             100, 100, 1.0, 1.0))
    df = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se", "n1", "n2", "sd1", "sd2"])
    return df, classes


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_exchangeable_loglik_never_below_common(method):
    rng = np.random.default_rng(7)
    for _ in range(8):
        df, classes = _random_network(rng)
        try:
            ex = quiet(netstrata.class_network, df, classes, method=method, reference="P")
        except DataError:       # a disconnected draw
            continue
        fits = ex._fits_of(method == "REML", "random")
        assert fits["exchangeable"].loglik >= fits["common"].loglik - 1e-9
        cmp = ex.compare()
        ll = cmp.models.set_index("model")["loglik"]
        assert ll["exchangeable"] >= ll["common"] - 1e-9
        sizes = pd.Series(classes).value_counts()
        assert cmp.lrt.statistic >= 0 and cmp.lrt.df == int((sizes >= 2).sum())


# ------------------------------------------------------------------ results, comparison, options

def test_compare_reports_models_lrt_and_shrinkage(dog):
    cmp = dog.compare()
    m = cmp.models.set_index("model")
    assert list(m.index) == ["independent", "exchangeable", "common"]
    assert_allclose(m["aic"], -2 * m["loglik"] + 2 * m["n_parameters"], rtol=1e-12)
    assert m.loc["exchangeable", "n_parameters"] == m.loc["common", "n_parameters"] + 1     # shared sigma²
    assert cmp.lrt.df == 1 and 0 <= cmp.lrt.pvalue <= 1
    assert_allclose(cmp.lrt.pvalue, 0.5 * cmp.lrt.pvalue_chi2 if cmp.lrt.statistic > 0 else 1.0, rtol=1e-12)
    sh = cmp.shrinkage.set_index("treatment")
    assert sh.loc["Placebo/Control", "note"].startswith("reference")
    assert sh.loc["VKAs", "note"].startswith("only member")
    assert np.isnan(sh.loc["VKAs", "shrinkage"])
    inside = sh["note"] == ""
    assert ((sh.loc[inside, "shrinkage"] >= -1e-9) & (sh.loc[inside, "shrinkage"] <= 1 + 1e-9)).all()
    assert set(cmp.to_dict()) == {"effects", "method", "models", "lrt", "shrinkage", "sigma2"}


def test_shared_and_per_class_within_class_variances():
    df = contrasts("dogliotti2014")
    shared = quiet(netstrata.class_network, df, DOGLIOTTI_NATURAL, sigma2="shared")
    per = quiet(netstrata.class_network, df, DOGLIOTTI_NATURAL, reference="Placebo/Control")
    s = shared.sigma2_class
    multi = ["antiplatelet", "NOAC-a"]
    assert s[multi].nunique() == 1 and s.drop(multi).isna().all()
    assert per.sigma2_class.drop(multi).isna().all()
    assert per.inputs.designs["exchangeable"].n_sigma == 2
    ce = per.class_effects
    assert ce.loc["control", "estimate"] == 0.0 and ce.loc["control", "se"] == 0.0
    assert "Dabigatran 110mg" in ce.loc["NOAC-a", "members"]


def test_star_network_with_classes():
    """Sham-anchored star: every comparison against sham; classes still borrow strength."""
    rng = np.random.default_rng(5)
    truth = {"RF1": -1.0, "RF2": -0.8, "RF3": -1.2, "INJ1": -0.3, "INJ2": -0.1}
    rows = [(f"S{i}", t, "sham", truth[t] + rng.normal(0, 0.25), 0.25) for i, t in enumerate(list(truth) * 2)]
    df = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])
    classes = {"sham": "sham", "RF1": "RF", "RF2": "RF", "RF3": "RF", "INJ1": "INJ", "INJ2": "INJ"}
    fit = quiet(netstrata.class_network, df, classes, reference="sham")
    assert np.isfinite(fit.league("random").to_numpy()).all()
    cmp = fit.compare()
    assert np.isfinite(cmp.models["loglik"]).all()
    assert fit.class_effects.loc["RF", "estimate"] < fit.class_effects.loc["INJ", "estimate"]


def test_summary_and_repr(dog):
    text = dog.summary().as_text()
    assert "exchangeable" in text and "within-class variance" in text
    assert repr(dog).startswith("ClassNetworkResult(model='exchangeable'")
    assert "Class models compared" in dog.compare().summary().as_text()


def test_mixture_pvalue():
    assert mixture_pvalue(0.0, 1) == 1.0
    assert_allclose(mixture_pvalue(2.706, 1), 0.05, rtol=1e-3)
    # 1/4 chi2_0 + 1/2 chi2_1 + 1/4 chi2_2 at 3: P(chi2_1 > 3) = 0.0832645, P(chi2_2 > 3) = 0.2231302
    assert_allclose(mixture_pvalue(3.0, 2), 0.5 * 0.0832645 + 0.25 * 0.2231302, rtol=1e-5)


# ------------------------------------------------------------------ bad input

def test_bad_input_gets_clear_errors():
    df = senn()
    missing = {k: v for k, v in SENN_CLASSES.items() if k != "rosi"}
    with pytest.raises(DataError, match="treatment has no class.*'rosi'"):
        netstrata.class_network(df, missing)
    with pytest.raises(ParameterError, match="'model' parameter of class_network"):
        netstrata.class_network(df, SENN_CLASSES, model="hierarchical")
    with pytest.raises(ParameterError, match="'method' parameter"):
        netstrata.class_network(df, SENN_CLASSES, method="DL")
    with pytest.raises(ParameterError, match="'sigma2' parameter"):
        netstrata.class_network(df, SENN_CLASSES, sigma2="pooled")
    with pytest.raises(ParameterError, match="mapping treatment -> class"):
        netstrata.class_network(df, ["a", "b"])
    with pytest.raises(ParameterError, match="'reference' parameter"):
        netstrata.class_network(df, SENN_CLASSES, reference="insulin")
    two = pd.DataFrame({"study": ["a", "b"], "treat1": ["A", "C"], "treat2": ["B", "D"], "effect": [0.1, 0.2],
                        "se": [0.1, 0.1]})
    with pytest.raises(DataError, match="connected network"):
        netstrata.class_network(two, {"A": "x", "B": "y", "C": "x", "D": "y"})
    frame = pd.DataFrame({"treatment": list(SENN_CLASSES), "class": list(SENN_CLASSES.values())})
    assert netstrata.class_network(df, frame, model="common").classes == \
        netstrata.class_network(df, SENN_CLASSES, model="common").classes
