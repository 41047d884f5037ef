"""``strata_flag`` / ``strata_flag_arrays`` give the flag the Series-iterating code gave."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, strategies as st

from netstrata.certainty.intransitivity import Flag, _level, strata_flag, strata_flag_arrays


def _previous(shares, stratum_of, evidence="mixed"):
    level = _level("strata", evidence)
    shares = shares[shares > 0]
    if level is None or shares.empty:
        return None
    by = {}
    for study, w in shares.items():
        label = stratum_of.get(str(study)) or "not recorded"
        by[label] = by.get(label, 0.0) + float(w)
    if len(by) < 2:
        return None
    total = sum(by.values())
    parts = ", ".join(f"{k} ({v / total:.0%})" for k, v in sorted(by.items(), key=lambda kv: (-kv[1], kv[0])))
    return Flag("strata", level, f"the evidence mixes clinical strata: {parts}")


_share = st.one_of(st.floats(0, 1), st.just(0.0), st.just(float("nan")), st.floats(-0.1, 0))


@given(st.lists(_share, max_size=15), st.lists(st.sampled_from(["Lumbar", "Cervical", "", None, "Sacral"]),
                                                min_size=15, max_size=15),
       st.sampled_from(["mixed", "direct", "indirect"]))
def test_strata_flag_equals_previous(values, labels, evidence):
    studies = [f"S{i}" for i in range(len(values))]
    stratum_of = {s: lab for s, lab in zip(studies, labels) if lab is not None}
    shares = pd.Series(values, index=studies, dtype=float)
    expect = _previous(shares, stratum_of, evidence)
    assert strata_flag(shares, stratum_of, evidence) == expect
    row = np.asarray(values, dtype=float)
    positive = row > 0
    cols = np.asarray(studies, dtype=object)
    assert strata_flag_arrays(cols[positive].tolist(), row[positive].tolist(), stratum_of, evidence) == expect


def test_strata_flag_text():
    flag = strata_flag(pd.Series([0.6, 0.3, 0.1, 0.0], index=["a", "b", "c", "d"]), {"a": "Lumbar", "b": "Cervical"})
    assert flag == Flag("strata", 3, "the evidence mixes clinical strata: Lumbar (60%), Cervical (30%), not recorded (10%)")
