"""The 2x2-table kernel behind the Q tests of ``mantel_haenszel`` and ``peto``.

Per-study effects with metafor's continuity-correction rules are compared with every
``escalc_{OR,RR,RD,PETO}*`` analysis of the binary reference datasets (R 4.2.2, metafor 3.8-1:
add/to/drop00 variants of lau1992, li2007, nielweise2007, plus bcg, cannon2006, dorn2007).
Closed forms: rtol 1e-10; undefined effects (R's NA) must be NaN at the same studies.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from netstrata.errors import StatisticalWarning
from netstrata.ma.mh import mantel_haenszel
from netstrata.ma.mh.tables import DROP_REASONS, ZeroCellRule, table_effects

from .reference import datasets, load, num, table

RTOL = 1e-10

CASES = [(ds, name) for ds in datasets("pairwise") for name, a in load("pairwise", ds)["analyses"].items()
         if name.startswith("escalc_") and a["settings"]["measure"] in ("OR", "RR", "RD", "PETO")]


def counts(ds):
    t = table("pairwise", ds)
    e1, n1 = t["events_1"].to_numpy(float), t["n_1"].to_numpy(float)
    e2, n2 = t["events_2"].to_numpy(float), t["n_2"].to_numpy(float)
    return e1, n1, e2, n2, tuple(t["study"])


def test_reference_cases_found():
    assert len(CASES) == 68


@pytest.mark.parametrize(("ds", "name"), CASES)
def test_escalc_table_effect_and_variance(ds, name):
    ref = load("pairwise", ds)["analyses"][name]
    s = ref["settings"]
    e1, n1, e2, n2, _ = counts(ds)
    yi, vi = table_effects(e1, n1 - e1, e2, n2 - e2, s["measure"], ZeroCellRule(s["add"], s["to"], s["drop00"]))
    want_y, want_v = np.asarray(num(ref["result"]["yi"]), float), np.asarray(num(ref["result"]["vi"]), float)
    assert_allclose(yi, want_y, rtol=RTOL)  # NaN positions must agree too
    assert_allclose(vi, want_v, rtol=RTOL)


@pytest.mark.parametrize("ds", ["lau1992", "li2007", "nielweise2007"])
def test_rma_mh_q_without_correction_drops_zero_cell_studies(ds):
    """to="none": studies with a zero cell have no log OR (R: NA) and leave the Q test, with a reason."""
    e1, n1, e2, n2, study = counts(ds)
    ref = load("pairwise", ds)["analyses"]["escalc_OR_to_none"]["result"]
    y, v = np.asarray(num(ref["yi"]), float), np.asarray(num(ref["vi"]), float)
    with pytest.warns(StatisticalWarning, match="Q test"):
        res = mantel_haenszel(e1, n1, e2, n2, to="none", study=study)
    ok = ~np.isnan(y)
    assert res.k_yi == ok.sum() < res.k
    assert_allclose(res.q, np.sum((y[ok] - res.estimate) ** 2 / v[ok]), rtol=RTOL)
    dropped = {s for s, why in res.dropped if why in (DROP_REASONS["zero_cell"], DROP_REASONS["no_events"])}
    assert dropped == {s for s, keep in zip(study, ok) if not keep}


def test_rma_mh_estimate_does_not_depend_on_q_rule():
    """The MH estimate uses the raw tables (second rule), whatever the first rule is."""
    e1, n1, e2, n2, _ = counts("li2007")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        a = mantel_haenszel(e1, n1, e2, n2, to="all")
        b = mantel_haenszel(e1, n1, e2, n2, to="none")
    assert a.estimate == b.estimate and a.q != b.q
