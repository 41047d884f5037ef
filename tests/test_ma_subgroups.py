"""Subgroup analysis: per-group fits, Q-between, and the common-tau2 QM test (metafor parity)."""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from netstrata.errors import ParameterError
from netstrata.ma import pairwise, subgroups
from .reference import load, table
from .test_ma_data import effects, ref_value, rtol_for


@pytest.mark.parametrize("ds,column,method", [
    ("bcg", "alloc", "REML"), ("bcg", "alloc", "DL"), ("bcg", "alloc", "FE"), ("bcg", "alloc", "ML"),
    ("curtis1998", "fungrp", "REML"), ("hackshaw1998", "design", "DL"),
])
def test_subgroups_common_tau2_qm_equals_metafor_factor_metareg(ds, column, method):
    y, v = effects(ds)
    res = subgroups(y, v, table("pairwise", ds)[column], method=method)
    ref = load("pairwise", ds)["analyses"][f"metareg_{column}_{method}"]["result"]
    assert_allclose([res.qm, res.qm_pvalue], [ref_value(ref, "QM")[0], ref_value(ref, "QMp")[0]],
                    rtol=rtol_for(method))


def test_subgroups_bcg_alloc_per_group_fits_and_q_between():
    y, v = effects("bcg")
    alloc = table("pairwise", "bcg")["alloc"].to_numpy()
    res = subgroups(y, v, alloc, method="DL")
    assert res.levels == ("alternate", "random", "systematic")
    for lv, fit in zip(res.levels, res.fits):
        alone = pairwise(y[alloc == lv], v[alloc == lv], method="DL")
        assert fit.estimate == alone.estimate and fit.tau2 == alone.tau2
    # Q-between = FE meta-analysis Q of the subgroup estimates
    est = [f.estimate for f in res.fits]
    var = [f.se**2 for f in res.fits]
    fe = pairwise(est, var, method="FE")
    assert_allclose([res.q_between, res.q_between_pvalue], [fe.q, fe.q_pvalue], rtol=1e-12)
    assert res.q_between_df == 2
    assert res["random"] is res.fits[1]
    assert list(res.summary().to_frame().index) == list(res.levels)


def test_subgroups_bad_groups_refused():
    y, v = effects("bcg")
    with pytest.raises(ParameterError, match="at least 2 subgroups"):
        subgroups(y, v, ["a"] * 13)
    with pytest.raises(ParameterError, match="same length"):
        subgroups(y, v, ["a", "b"])
    with pytest.raises(ParameterError, match="missing"):
        subgroups(y, v, ["a"] * 12 + [None])
