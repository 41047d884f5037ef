"""component_network parity with netmeta 2.9-0 ``netcomb`` / ``discomb`` on Linde2016.

Reference: tests/data/reference/cnma/linde2016.json (R 4.2.2, netmeta 2.9-0; README.md beside it,
section "Component NMA").  Linde K, Rücker G, Schneider A, et al. (2016) J Clin Epidemiol
71:86-96.  Everything is closed form: rtol 1e-10, with an absolute floor of 1e-12 for cells that
are zero in exact arithmetic (R's and our round-off differ there).  Rows and matrix cells are
matched by label (never by position); a comparison stored the other way round is compared with
its sign flipped.
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import netstrata

from . import reference as ref

TOL = dict(rtol=1e-10, atol=1e-12)
SUBSETS = {"face": ["16", "24", "49", "118"],
           "disconnected": None}
DROPPED = ["16", "24", "43", "49", "58", "82", "124"]
CNMA = {  # analysis -> (subset, interactions)
    "netcomb_face_additive": ("face", None),
    "discomb_face_connected": ("face", None),
    "netcomb_additive": ("full", None),
    "netcomb_interaction": ("full", ("Face-to-face PST*SSRI",)),
    "discomb_disconnected": ("disconnected", None),
}
MODELS = ("common", "random")


def data(subset: str) -> pd.DataFrame:
    dat = pd.read_csv(ref.ROOT / "cnma" / "linde2016.csv", dtype={"study": str, "treat1": str, "treat2": str})
    if subset == "face":
        return dat[dat["study"].isin(SUBSETS["face"])].reset_index(drop=True)
    if subset == "disconnected":
        return dat[~dat["study"].isin(DROPPED)].reset_index(drop=True)
    return dat


def result(analysis: str) -> dict:
    return ref.load("cnma", "linde2016")["analyses"][analysis]["result"]


@lru_cache(maxsize=None)
def fit(analysis: str):
    subset, inter = CNMA[analysis]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return netstrata.component_network(data(subset), inactive="placebo", reference="placebo",
                                           interactions=inter)


def close(actual, desired, **kw):
    tol = dict(TOL); tol.update(kw)
    assert_allclose(np.asarray(actual, float), np.asarray(desired, float), equal_nan=True, **tol)


# ----------------------------------------------------------------------------- structure
@pytest.mark.parametrize("analysis", list(CNMA))
def test_cnma_linde2016_structure(analysis):
    f, r = fit(analysis), result(analysis)
    assert list(f.treatments) == r["trts"]
    assert list(f.components) == r["comps"]
    assert (f.k, f.m, f.n, f.c) == (r["k"], r["m"], r["n"], r["c"])
    assert len(set(f.rows["design"])) == r["d"]
    assert f.reference == r["reference.group"]
    assert f.design.sep == r["sep.comps"]
    assert list(f.unidentifiable) == list(r["comps.unident"] or [])
    assert r["tau.preset"] is None
    # the interaction analysis gives C.matrix (inactive NULL in R) with a zero Placebo row: the same model
    assert f.inactive == (r["inactive"] or "Placebo")
    assert f.kind == ("discomb" if analysis == "discomb_disconnected" else "netcomb")
    assert len(f.subnetworks) == r.get("s", 1)


# ----------------------------------------------------------------------------- components / combinations
COMP = [("effect", "Comp"), ("se", "seComp"), ("ci_low", "lower.Comp"), ("ci_high", "upper.Comp"),
        ("z", "statistic.Comp"), ("pvalue", "pval.Comp")]


@pytest.mark.parametrize("analysis", list(CNMA))
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("col,rname", COMP, ids=[c[1] for c in COMP])
def test_cnma_linde2016_components(analysis, model, col, rname):
    f, r = fit(analysis), result(analysis)["components"]
    got = f.component_effects(model).loc[r["component"], col]
    close(got, ref.num(r[f"{rname}.{model}"]))


@pytest.mark.parametrize("analysis", list(CNMA))
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("col,rname", COMP, ids=[c[1] for c in COMP])
def test_cnma_linde2016_combinations(analysis, model, col, rname):
    f, r = fit(analysis), result(analysis)["combinations"]
    got = f.combination_effects(model).loc[r["treatment"]]
    close(got[col], ref.num(r[f"{rname.replace('Comp', 'Comb')}.{model}"]))
    assert list(got["combination"]) == r["label_has_sep.comps"]


def test_cnma_linde2016_inactive_row_is_zero_with_nan_test():
    """The inactive component's Comb is 0 with se 0, its z and p NaN (R: "NaN")."""
    row = fit("netcomb_additive").combination_effects("random").loc["Placebo"]
    assert row["effect"] == 0 and row["se"] == 0 and np.isnan(row["z"]) and np.isnan(row["pvalue"])


# ----------------------------------------------------------------------------- heterogeneity and tests
SCALARS = [("q", "Q.additive", 1), ("q_df", "df.Q.additive", 1), ("q_pvalue", "pval.Q.additive", 1),
           ("q_standard", "Q.standard", 1), ("q_standard_df", "df.Q.standard", 1),
           ("q_standard_pvalue", "pval.Q.standard", 1), ("q_diff", "Q.diff", 1),
           ("q_diff_df", "df.Q.diff", 1), ("q_diff_pvalue", "pval.Q.diff", 1),
           ("tau", "tau", 1), ("tau2", "tau2", 1),
           ("i2", "I2", 100), ("i2_ci_low", "lower.I2", 100), ("i2_ci_high", "upper.I2", 100)]


@pytest.mark.parametrize("analysis", list(CNMA))
@pytest.mark.parametrize("attr,rname,scale", SCALARS, ids=[s[1] for s in SCALARS])
def test_cnma_linde2016_heterogeneity(analysis, attr, rname, scale):
    f, r = fit(analysis), result(analysis)
    close(getattr(f, attr), scale * ref.scalar(r[rname]))


def test_cnma_linde2016_disconnected_has_no_additivity_test():
    f = fit("discomb_disconnected")
    assert f.standard is None and f.additivity_rejected is None
    assert np.isnan(f.q_diff) and np.isnan(f.q_diff_df) and np.isnan(f.q_standard)


# ----------------------------------------------------------------------------- matrices
LEAGUE = ["TE", "seTE", "lower", "upper", "statistic", "pval"]


def league(f, kind, model):
    lo, hi = f.league_ci(model)
    return {"TE": f.league(model), "seTE": f.league_se(model), "lower": lo, "upper": hi,
            "statistic": f.league_z(model), "pval": f.league_pvalue(model)}[kind]


@pytest.mark.parametrize("analysis", list(CNMA))
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("kind", LEAGUE)
def test_cnma_linde2016_league(analysis, model, kind):
    f, r = fit(analysis), result(analysis)
    want = ref.num(r["matrices"][f"{kind}.{model}"])
    got = league(f, kind, model).loc[want.index, want.columns].to_numpy().copy()
    want = want.to_numpy().copy()
    if kind in ("statistic", "pval"):   # diagonal 0/0: NaN in R, not a comparison
        np.fill_diagonal(want, np.nan)
        np.fill_diagonal(got, np.nan)
    close(got, want)


@pytest.mark.parametrize("analysis", list(CNMA))
def test_cnma_linde2016_c_matrix(analysis):
    f, r = fit(analysis), result(analysis)
    want = ref.num(r["matrices"]["C.matrix"])
    assert (f.c_matrix.loc[want.index, want.columns].to_numpy() == want.to_numpy()).all()


@pytest.mark.parametrize("analysis", list(CNMA))
def test_cnma_linde2016_x_matrix(analysis):
    """X = B C, one row per comparison (rows matched by study and pair; a flipped row negated)."""
    f, r = fit(analysis), result(analysis)
    want = ref.num(r["matrices"]["X.matrix"])
    comp = r["comparisons"]
    idx, sign = align(f, comp)
    got = f.x_matrix[list(want.columns)].to_numpy()[idx] * sign[:, None]
    assert (got == want.to_numpy()).all()
    assert list(want.index) == [str(s) for s in comp["studlab"]]


@pytest.mark.parametrize("analysis", list(CNMA))
@pytest.mark.parametrize("model", MODELS)
def test_cnma_linde2016_laplacian(analysis, model):
    f, r = fit(analysis), result(analysis)
    for rname, got in ((f"L.matrix.{model}", f.laplacian(model)), (f"Lplus.matrix.{model}", f.laplacian_pinv(model))):
        want = ref.num(r["matrices"][rname])
        close(got.loc[want.index, want.columns], want)


# ----------------------------------------------------------------------------- comparisons
def align(f, comp) -> tuple[np.ndarray, np.ndarray]:
    """(row of f.rows, ±1) for every R comparison, matched by study and unordered pair."""
    rows = f.rows
    key = {(s, frozenset((a, b))): i for i, (s, a, b) in enumerate(zip(rows["study"], rows["treat1"], rows["treat2"]))}
    idx, sign = [], []
    for s, a, b in zip(comp["studlab"], comp["treat1"], comp["treat2"]):
        i = key[(str(s), frozenset((a, b)))]
        idx.append(i)
        sign.append(1.0 if rows["treat1"].iloc[i] == a else -1.0)
    return np.array(idx), np.array(sign)


SIGNED = {"TE", "TE.nma.common", "TE.nma.random", "TE.cnma.common", "TE.cnma.random",
          "statistic.cnma.common", "statistic.cnma.random"}


def comparison_column(f, rname):
    rows = f.rows
    if rname in ("TE", "seTE", "design"):
        return rows[{"TE": "effect", "seTE": "se", "design": "design"}[rname]]
    if rname.startswith("seTE.adj."):
        return rows["se_adj_" + rname.rsplit(".", 1)[1]]
    what, kind, model = rname.split(".")
    prefix = {"TE": "", "seTE": "se_", "lower": "ci_low_", "upper": "ci_high_", "statistic": "z_",
              "pval": "pvalue_"}[what]
    return rows[f"{prefix}{kind}_{model}"]


@pytest.mark.parametrize("analysis", list(CNMA))
def test_cnma_linde2016_comparisons(analysis):
    f, r = fit(analysis), result(analysis)
    comp = r["comparisons"]
    idx, sign = align(f, comp)
    assert (sign == 1).all()                      # netmeta's orientation: treat1 sorts first
    checked = 0
    for rname, values in comp.items():
        if rname in ("studlab", "treat1", "treat2"):
            continue
        got = comparison_column(f, rname).to_numpy()[idx]
        if rname == "design":
            # netmeta joins a study's treatments with ':' in its own order; compare as sets
            assert [set(g.split(":")) for g in got] == [set(v.split(":")) for v in values]
            continue
        if rname.startswith(("lower.", "upper.")):   # a flipped row swaps and negates the bounds
            other = comparison_column(f, rname.replace("lower", "#").replace("upper", "lower")
                                      .replace("#", "upper")).to_numpy()[idx]
            got = np.where(sign > 0, got, -other)
        elif rname in SIGNED:
            got = got * sign
        close(got, ref.num(values))
        checked += 1
    assert checked == len(comp) - 4          # every stored column but the labels and design


# ----------------------------------------------------------------------------- R's own checks
@pytest.mark.parametrize("analysis", list(CNMA))
def test_cnma_linde2016_checks(analysis):
    """The identities R verified (``checks``), on our result."""
    f, r = fit(analysis), result(analysis)
    assert all(r["checks"].values())
    C = f.c_matrix.to_numpy()
    for model in MODELS:
        comp = f.component_effects(model)["effect"].to_numpy()
        close(f.combination_effects(model)["effect"].to_numpy(), C @ comp)
        close(f.rows[f"cnma_{model}"].to_numpy(), f.x @ comp)
    rows = f.rows
    pos = {t: i for i, t in enumerate(f.treatments)}
    assert (f.x == C[[pos[t] for t in rows["treat1"]]] - C[[pos[t] for t in rows["treat2"]]]).all()


def test_cnma_linde2016_help_example_uses_netmeta_column_names():
    """help_example_check: the ?netcomb call on netmeta's own Linde2016 (numeric ids, lnOR,
    selnOR as TE / seTE) gives the same model as the text-id CSV subset."""
    checks = result("help_example_check")
    assert all(v for k, v in checks.items() if k != "netcomb_common_flag_of_help_call")
    face = data("face")
    as_r = face.rename(columns={"study": "studlab", "effect": "TE", "se": "seTE"})
    as_r["studlab"] = as_r["studlab"].astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = netstrata.component_network(as_r, inactive="placebo", reference="placebo")
    g = fit("netcomb_face_additive")
    for model in MODELS:
        close(f.component_effects(model)[["effect", "se"]], g.component_effects(model)[["effect", "se"]])
        close(f.league(model), g.league(model))
    close(f.tau2, g.tau2)


# ----------------------------------------------------------------------------- the standard model beside it
NETMETA_SCALARS = [("q", "Q", 1), ("q_df", "df.Q", 1), ("q_pvalue", "pval.Q", 1), ("tau2", "tau2", 1),
                   ("tau", "tau", 1), ("i2", "I2", 100), ("i2_ci_low", "lower.I2", 100),
                   ("i2_ci_high", "upper.I2", 100), ("q_heterogeneity", "Q.heterogeneity", 1),
                   ("q_heterogeneity_df", "df.Q.heterogeneity", 1),
                   ("q_heterogeneity_pvalue", "pval.Q.heterogeneity", 1),
                   ("q_inconsistency", "Q.inconsistency", 1), ("q_inconsistency_df", "df.Q.inconsistency", 1),
                   ("q_inconsistency_pvalue", "pval.Q.inconsistency", 1)]


@pytest.mark.parametrize("attr,rname,scale", NETMETA_SCALARS, ids=[s[1] for s in NETMETA_SCALARS])
def test_cnma_linde2016_face_standard_scalars(attr, rname, scale):
    """netmeta_face: the standard model that component_network fits beside the CNMA."""
    net, r = fit("netcomb_face_additive").standard, result("netmeta_face")
    close(getattr(net, attr), scale * ref.scalar(r[rname]))


def test_cnma_linde2016_face_standard_structure():
    net, r = fit("netcomb_face_additive").standard, result("netmeta_face")
    assert list(net.treatments) == r["trts"] and net.reference == r["reference.group"]
    assert (net.k, net.m, net.n) == (r["k"], r["m"], r["n"])
    assert net.method == r["method.tau"] and net.small_values == r["small.values"]
    assert net.level == r["level"] == r["level.ma"]
    assert sorted(net.studies) == sorted(r["studies"])
    narms = dict(zip(net.rows["study"], net.rows["narms"]))
    assert [narms[s] for s in r["studies"]] == r["narms"]
    assert sorted(set(net.rows["design"])) == sorted(r["designs"]) and len(r["designs"]) == r["d"]


STANDARD_MATRICES = {  # R name -> callable(net)
    **{f"{k}.{m}": (lambda net, k=k, m=m: league(net, k, m)) for k in LEAGUE for m in MODELS},
    **{f"{k}.predict": (lambda net, i=i: net.prediction()[i]) for i, k in enumerate(["seTE", "lower", "upper"])},
    **{f"{k}.direct.{m}": (lambda net, k=k, m=m: net.direct(m)[k == "seTE"]) for k in ("TE", "seTE") for m in MODELS},
    **{f"{k}.indirect.{m}": (lambda net, k=k, m=m: net.indirect(m)[k == "seTE"]) for k in ("TE", "seTE")
       for m in MODELS},
    **{f"{k}.direct": (lambda net, k=k: net.direct_heterogeneity()[k.split(".")[0].lower()])
       for k in ("Q", "tau", "I2")},
}


@pytest.mark.parametrize("rname", sorted(STANDARD_MATRICES))
def test_cnma_linde2016_face_standard_matrices(rname):
    net, r = fit("netcomb_face_additive").standard, result("netmeta_face")
    want = ref.num(r["matrices"][rname])
    got = STANDARD_MATRICES[rname](net).loc[want.index, want.columns].to_numpy().copy()
    want = want.to_numpy().copy()
    if rname.startswith(("statistic", "pval")):
        np.fill_diagonal(want, np.nan)
        np.fill_diagonal(got, np.nan)
    # indirect estimates are back-calculated (TE - P·TE.direct)/(1 - P): cancellation where
    # P ~ 1 leaves ~1e-12 absolute round-off, as in the nma parity tests
    close(got, want, atol=1e-9 if "indirect" in rname else 1e-12)


@pytest.mark.parametrize("model", MODELS)
def test_cnma_linde2016_face_standard_p_and_laplacian(model):
    from netstrata.nma.kernel import laplacian
    net, r = fit("netcomb_face_additive").standard, result("netmeta_face")
    P = ref.num(r["matrices"][f"P.{model}"])
    got = net.prop_direct(model)
    for i in P.index:
        for j in P.columns:
            if i != j:
                close(got[f"{i}:{j}" if f"{i}:{j}" in got.index else f"{j}:{i}"], P.loc[i, j])
    want = ref.num(r[f"prop.direct.{model}"])
    close(got.loc[want.index], want)
    arr = net.model_arrays(model)
    close(laplacian(arr["t1"], arr["t2"], arr["w"], arr["n"]), ref.num(r["matrices"][f"L.matrix.{model}"]))
    close(arr["lplus"], ref.num(r["matrices"][f"Lplus.matrix.{model}"]))


def test_cnma_linde2016_face_standard_a_matrix_and_rows():
    net, r = fit("netcomb_face_additive").standard, result("netmeta_face")
    want = ref.num(r["matrices"]["A.matrix"])
    got = want * 0
    for a, b in zip(net.rows["treat1"], net.rows["treat2"]):
        got.loc[a, b] += 1
        got.loc[b, a] += 1
    assert (got.to_numpy() == want.to_numpy()).all()
    comp, rows = r["comparisons"], net.rows
    assert list(rows["study"]) == comp["studlab"] and list(rows["treat1"]) == comp["treat1"]
    for col, rname in [("se_adj_common", "seTE.adj.common"), ("se_adj_random", "seTE.adj.random"),
                       ("fitted_common", "TE.nma.common"), ("se_fitted_common", "seTE.nma.common"),
                       ("fitted_random", "TE.nma.random"), ("se_fitted_random", "seTE.nma.random"),
                       ("leverage_common", "leverage.common"), ("w_common", "w.common"),
                       ("w_random", "w.random"), ("q_common", "Q.common"), ("effect", "TE"), ("se", "seTE")]:
        close(rows[col], ref.num(comp[rname]))


# ----------------------------------------------------------------------------- netconnection
def test_cnma_linde2016_netconnection_disconnected():
    """Sub-networks as sets (R numbers them through hclust's leaf order; the labels carry no
    meaning), and every comparison's sub-network consistent with R's."""
    f, r = fit("discomb_disconnected"), result("netconnection_disconnected")
    assert (f.k, f.m, f.n, len(f.subnetworks)) == (r["k"], r["m"], r["n"], r["n.subnets"])
    assert len(set(f.rows["design"])) == r["d"]
    sub = r["subnet_of_treatment"]
    want = {frozenset(t for t, s in zip(sub["treatment"], sub["subnet"]) if s == g) for g in set(sub["subnet"])}
    assert {frozenset(s) for s in f.subnetworks} == want
    ours = {t: i for i, s in enumerate(f.subnetworks) for t in s}
    mapping = {}
    for a, s in zip(r["comparisons"]["treat1"], r["comparisons"]["subnet"]):
        assert mapping.setdefault(s, ours[a]) == ours[a]
