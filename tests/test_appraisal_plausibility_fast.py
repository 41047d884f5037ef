"""``_complete_arms`` reads the cells a column at a time: the same groups as iterrows gave."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from netstrata.appraisal.plausibility import _complete_arms, _num


def _previous(frame):
    keys = ["study", "outcome"] + (["timepoint_weeks"] if "timepoint_weeks" in frame.columns else [])
    for _, group in frame.groupby(keys, sort=True):
        vals = [(pos, _num(r["mean"]), _num(r["sd"]), _num(r["n"])) for pos, r in group.iterrows()]
        vals = [v for v in vals if None not in v[1:] and v[2] > 0 and v[3] > 1]
        if len(vals) >= 2:
            yield vals


def _frame(seed, string_dtype=False, numeric_keys=False):
    rng = np.random.default_rng(seed)
    k = 40
    frame = pd.DataFrame({
        "study": rng.integers(0, 6, k) if numeric_keys else [f"S{i}" for i in rng.integers(0, 6, k)],
        "outcome": rng.integers(0, 2, k) if numeric_keys else rng.choice(["pain", "function"], k),
        "timepoint_weeks": rng.choice([4.0, 12.0, np.nan], k),
        "mean": np.where(rng.random(k) < 0.1, np.nan, rng.normal(5, 2, k)),
        "sd": np.where(rng.random(k) < 0.1, 0.0, rng.uniform(0.5, 3, k)),
        "n": rng.choice([1.0, 20.0, 35.0, np.nan], k)}, index=rng.permutation(np.arange(100, 100 + k)))
    if string_dtype:
        frame = frame.astype({"study": "string", "outcome": "string"})
        frame["mean"] = frame["mean"].map(lambda x: "NR" if np.isnan(x) else f"{x:.3f}").astype("string")
    return frame


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["object", "string", "numeric_keys"])
def test_complete_arms_equal_iterrows(seed, kind):
    frame = _frame(seed, string_dtype=kind == "string", numeric_keys=kind == "numeric_keys")
    assert list(_complete_arms(frame)) == list(_previous(frame))


def test_duplicate_index_takes_the_iterrows_path():
    frame = _frame(7)
    frame.index = [0] * len(frame)
    assert list(_complete_arms(frame)) == list(_previous(frame))
