"""effect_sizes against metafor 3.8-1 escalc: every escalc_* analysis in tests/data/reference/pairwise.

Datasets (metadat 1.2-0): bcg (Colditz 1994), cannon2006, curtis1998, dorn2007, lau1992, li2007,
molloy2014, nielweise2007, normand1999, pritz1997; each JSON's ``input.column_mapping`` gives the
CSV column for each escalc argument and ``r_call`` the exact call.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from netstrata import effect_sizes
from netstrata.errors import StatisticalWarning
from tests.reference import datasets, load, num, table

RTOL = 1e-10  # closed forms: R and numpy agree to the last few bits
R_ARG = {"ai": "events_1", "n1i": "n_1", "ci": "events_2", "n2i": "n_2", "m1i": "mean_1",
         "sd1i": "sd_1", "m2i": "mean_2", "sd2i": "sd_2", "xi": "events", "ni": "n", "ri": "r",
         "x1i": "events_1", "t1i": "time_1", "x2i": "events_2", "t2i": "time_2"}


def _cases():
    out = []
    for ds in datasets("pairwise"):
        for name in load("pairwise", ds)["analyses"]:
            if name.startswith("escalc"):
                out.append(pytest.param(ds, name, id=f"{ds}-{name}"))
    return out


CASES = _cases()


def _run(ds, name):
    """Call effect_sizes exactly as the R call in the reference, return (result, R analysis, warnings)."""
    a = load("pairwise", ds)["analyses"][name]
    dat = table("pairwise", ds)
    call = a["r_call"].split("escalc(", 1)[1]
    mapped = dict(re.findall(r"(\w+) = (\w+)", call))
    kwargs = {R_ARG[k]: dat[v] for k, v in mapped.items() if k in R_ARG}
    s = a["settings"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = effect_sizes(s["measure"], add=s["add"] if "add = " in call else None, to=s["to"],
                           drop00=s["drop00"], vtype=s["vtype"], **kwargs)
    return res, a, caught


def test_reference_has_escalc_cases():
    assert len(CASES) >= 80


@pytest.mark.parametrize("ds,name", CASES)
def test_escalc_yi(ds, name):
    res, a, _ = _run(ds, name)
    np.testing.assert_allclose(res["effect"].to_numpy(), num(a["result"]["yi"]), rtol=RTOL, atol=0)


@pytest.mark.parametrize("ds,name", CASES)
def test_escalc_vi(ds, name):
    res, a, _ = _run(ds, name)
    np.testing.assert_allclose(res["variance"].to_numpy(), num(a["result"]["vi"]), rtol=RTOL, atol=0)


@pytest.mark.parametrize("ds,name", CASES)
def test_escalc_missing_pattern_and_warning(ds, name):
    """Studies R sets to NA are NaN here, and R's 'values equal to +-Inf' warning has a typed twin."""
    res, a, caught = _run(ds, name)
    assert np.array_equal(res["effect"].isna().to_numpy(), np.isnan(num(a["result"]["yi"])))
    r_warned = any("Inf" in w for w in (a.get("warnings") or []))
    ours = any(issubclass(w.category, StatisticalWarning) for w in caught)
    assert ours == r_warned
    assert res.attrs["measure"] == a["settings"]["measure"]
    assert len(res) == num(a["result"]["k"])


# ---------------------------------------------------------------- documented call

def test_documented_signature_is_exact():
    """effect_sizes(measure, data=None, *, events_1, n_1, ..., **columns): netstrata's names stay
    keyword-only with the same order (issue 15 added ``data`` and metafor's names in ``**columns``)."""
    import inspect
    params = list(inspect.signature(effect_sizes).parameters.values())
    names = [p.name for p in params]
    assert names[:12] == ["measure", "data", "events_1", "n_1", "events_2", "n_2", "mean_1", "sd_1", "mean_2",
                          "sd_2", "events", "n"]
    assert params[1].kind is params[1].POSITIONAL_OR_KEYWORD and params[1].default is None
    assert all(p.kind is p.KEYWORD_ONLY and p.default is None for p in params[2:12])
    assert all(p.kind is p.KEYWORD_ONLY for p in params[12:-1])
    assert params[-1].kind is params[-1].VAR_KEYWORD


def test_bcg_first_study_or_by_hand():
    # Aronson 1948: 4/123 vaccinated vs 11/139; log OR = log(4*128 / (119*11)), var = 1/4+1/119+1/11+1/128
    res = effect_sizes("OR", events_1=[4], n_1=[123], events_2=[11], n_2=[139])
    assert res["effect"].iat[0] == pytest.approx(np.log(4 * 128 / (119 * 11)), rel=1e-12)
    assert res["variance"].iat[0] == pytest.approx(1 / 4 + 1 / 119 + 1 / 11 + 1 / 128, rel=1e-12)


def test_smd_uses_exact_gamma_correction():
    # m = 8: c(8) = Gamma(4) / (sqrt(4) Gamma(3.5)) = 6 / (2 * 3.32335097...) ; not 1 - 3/(4m - 1)
    res = effect_sizes("SMD", mean_1=[1.0], sd_1=[1.0], n_1=[5], mean_2=[0.0], sd_2=[1.0], n_2=[5])
    from math import gamma
    c8 = gamma(4) / (2 * gamma(3.5))
    assert res["effect"].iat[0] == pytest.approx(c8, rel=1e-12)
    assert res["effect"].iat[0] != pytest.approx(1 - 3 / 31, rel=1e-6)


def test_missing_values_give_missing_results():
    res = effect_sizes("OR", events_1=[4, np.nan], n_1=[123, 50], events_2=[11, 3], n_2=[139, 60])
    assert np.isfinite(res["effect"].iat[0]) and np.isnan(res["effect"].iat[1])


def test_pas_pft_add_nothing_by_default():
    # metafor sets add = 0 for PAS and PFT unless the user gives add: x = 0 stays 0
    pas = effect_sizes("PAS", events=[0], n=[10])
    assert pas["effect"].iat[0] == 0.0
    assert effect_sizes("PAS", events=[0], n=[10], add=0.5)["effect"].iat[0] > 0


# ---------------------------------------------------------------- cross-method identities

def test_rd_equals_difference_of_proportions():
    e1, n1, e2, n2 = np.array([3, 10, 40]), np.array([20, 50, 90]), np.array([5, 2, 33]), np.array([25, 40, 80])
    rd = effect_sizes("RD", events_1=e1, n_1=n1, events_2=e2, n_2=n2)
    p1, p2 = effect_sizes("PR", events=e1, n=n1), effect_sizes("PR", events=e2, n=n2)
    np.testing.assert_allclose(rd["effect"], p1["effect"] - p2["effect"], rtol=1e-12)
    np.testing.assert_allclose(rd["variance"], p1["variance"] + p2["variance"], rtol=1e-12)


def test_or_equals_difference_of_logits():
    e1, n1, e2, n2 = np.array([3, 10]), np.array([20, 50]), np.array([5, 2]), np.array([25, 40])
    lor = effect_sizes("OR", events_1=e1, n_1=n1, events_2=e2, n_2=n2)
    l1, l2 = effect_sizes("PLO", events=e1, n=n1), effect_sizes("PLO", events=e2, n=n2)
    np.testing.assert_allclose(lor["effect"], l1["effect"] - l2["effect"], rtol=1e-12)
    np.testing.assert_allclose(lor["variance"], l1["variance"] + l2["variance"], rtol=1e-12)


def test_zcor_back_transform_returns_r():
    from netstrata.effects import MEASURES
    r = np.array([-0.5, 0.1, 0.9])
    z = effect_sizes("ZCOR", r=r, n=[20, 30, 40])["effect"]
    np.testing.assert_allclose(MEASURES["ZCOR"].back_transform(z), r, rtol=1e-12)


def test_pr_and_plo_zero_events_get_half_added():
    """metafor 3.8-1 (R/escalc.r): for PR/PLN/PLO a study with x = 0 or x = n gets add = 1/2 on x and n - x,
    so PR of 0/10 is 0.5/11 with variance p(1-p)/11; PAS/PFT keep add = 0 by default."""
    pr = effect_sizes("PR", events=[0, 10], n=[10, 10])
    p = np.array([0.5 / 11, 10.5 / 11])
    np.testing.assert_allclose(pr["effect"], p, rtol=1e-14)
    np.testing.assert_allclose(pr["variance"], p * (1 - p) / 11, rtol=1e-14)
    plo = effect_sizes("PLO", events=[0], n=[10])
    assert plo["effect"].iat[0] == pytest.approx(np.log(0.5 / 10.5), rel=1e-14)
    assert plo["variance"].iat[0] == pytest.approx(1 / 0.5 + 1 / 10.5, rel=1e-14)
    pft = effect_sizes("PFT", events=[0], n=[10])
    assert pft["effect"].iat[0] == pytest.approx(0.5 * np.arcsin(np.sqrt(1 / 11)), rel=1e-14)
