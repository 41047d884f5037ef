"""Shared helpers for the tests of netstrata.ma (effects from the reference files, tolerances).

yi/vi are taken exactly as R used them: the input columns ``yi, vi`` or the reference file's own
``escalc_<measure>`` result for the measure named in ``effect_sizes_for_models``. (This keeps the
pairwise tests independent of ``netstrata.effects``, which has its own parity tests.)
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from .reference import datasets, load, num, table

#: Closed-form estimators are compared at 1e-10; iterative ones (ML, REML, EB, PM, Q-profile)
#: at 1e-6, the precision R's own stopping rules give (see tests/data/reference/README.md).
CLOSED = ("FE", "DL", "HE", "HS", "SJ")
RTOL_CLOSED = 1e-10
RTOL_ITER = 1e-6


def rtol_for(method: str) -> float:
    return RTOL_CLOSED if method in CLOSED else RTOL_ITER


def analyses(prefix: str) -> list[tuple[str, str]]:
    """(dataset, analysis) pairs whose analysis name starts with ``prefix``."""
    return [(ds, name) for ds in datasets("pairwise")
            for name in load("pairwise", ds)["analyses"] if name.startswith(prefix)]


def effects(ds: str) -> tuple[np.ndarray, np.ndarray]:
    """The yi, vi that R's ``rma`` calls of dataset ``ds`` used."""
    ref = load("pairwise", ds)
    how = ref["effect_sizes_for_models"].strip()
    if how == "es <- dat":
        t = table("pairwise", ds)
        return t["yi"].to_numpy(float), t["vi"].to_numpy(float)
    measure = re.search(r'measure = "(\w+)"', how).group(1)
    res = ref["analyses"][f"escalc_{measure}"]["result"]
    return np.asarray(num(res["yi"]), float), np.asarray(num(res["vi"]), float)


def moderators(ds: str, formula: str) -> dict[str, pd.Series]:
    """Moderator columns for an R formula such as ``~ ablat + factor(alloc)`` or ``~ I(year - 1970)``."""
    t = table("pairwise", ds)
    cols = {}
    for term in (x.strip() for x in formula.strip().lstrip("~").split("+")):
        if m := re.fullmatch(r"factor\((\w+)\)", term):
            col = t[m.group(1)]
            cols[m.group(1)] = col.astype(str).where(col.notna())
        elif m := re.fullmatch(r"I\((\w+) - ([\d.]+)\)", term):
            cols[term] = t[m.group(1)] - float(m.group(2))
        else:
            cols[term] = t[term]
    return cols


def ref_value(result: dict, key: str):
    """A reference number/vector as float ndarray (None → NaN)."""
    value = num(result[key])
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    return np.atleast_1d(np.asarray(value, dtype=float)).ravel()


@pytest.mark.parametrize("ds", datasets("pairwise"))
def test_reference_effects_are_finite_and_positive_variance(ds):
    y, v = effects(ds)
    assert y.size == v.size > 1
    assert np.all(np.isfinite(y)) and np.all(v > 0)
