"""Inputs of the NMA parity tests: the contrasts R analysed, read from tests/data/reference/nma.

Contrast-level datasets are read from their CSV; arm-level datasets from the JSON ``pairwise``
rows (TE, seTE, treat1, treat2, studlab and the arm columns exactly as R computed them), so the
network layer is tested on R's own input.
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from . import reference as ref

NMA_DATASETS = [d for d in ref.datasets("nma")]
FITTED = [d for d in NMA_DATASETS if "error" not in ref.load("nma", d)["analyses"]["netmeta"]["result"]]
REFUSED = [d for d in NMA_DATASETS if d not in FITTED]
ARM_KEEP = ["event1", "n1", "event2", "n2", "time1", "time2", "sd1", "sd2", "mean1", "mean2", "incr"]


def contrasts(name: str) -> pd.DataFrame:
    data = ref.load("nma", name)
    if "pairwise" not in data["analyses"]:
        t = ref.table("nma", name)
        return t.rename(columns={"TE": "effect", "seTE": "se"})[["study", "treat1", "treat2", "effect", "se"]]
    rows = pd.DataFrame(data["analyses"]["pairwise"]["result"]["rows"])
    out = pd.DataFrame({"study": rows["studlab"].astype(str), "treat1": rows["treat1"].astype(str),
                        "treat2": rows["treat2"].astype(str),
                        "effect": pd.to_numeric(rows["TE"].replace("NA", np.nan)),
                        "se": pd.to_numeric(rows["seTE"].replace("NA", np.nan))})
    for c in ARM_KEEP:
        if c in rows.columns:
            out[c] = pd.to_numeric(rows[c].replace("NA", np.nan))
    return out


@lru_cache(maxsize=None)
def fit(name: str, method: str = "DL"):
    """netstrata.network on R's input (cached: results are immutable)."""
    import netstrata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return netstrata.network(contrasts(name), method=method)


def result(name: str, analysis: str) -> dict:
    return ref.load("nma", name)["analyses"][analysis]["result"]


def test_nma_data_every_dataset_is_fitted_or_refused():
    assert set(FITTED) | set(REFUSED) == set(NMA_DATASETS)
    assert REFUSED == ["dong2013"]


def test_nma_data_contrasts_match_r_row_count():
    for name in FITTED:
        data = ref.load("nma", name)["analyses"]
        if "pairwise" in data:
            assert len(contrasts(name)) == data["pairwise"]["result"]["n_rows"]
