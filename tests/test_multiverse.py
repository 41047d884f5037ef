"""Multiverse: specifications, determinism across runs and executors, conclusions and how often they hold."""
from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import netstrata
from netstrata.errors import ParameterError
from netstrata.synthesis import (
    SerialExecutor,
    analyse_review,
    classify,
    holding,
    run_jobs,
    threshold,
)
from netstrata.synthesis.choices import Choices
from netstrata.synthesis.config import parse_sensitivity
from netstrata.synthesis.multiverse import specifications

from .test_data_support import copy_example, set_sensitivity

SENSITIVITY = """
[sensitivity]
node_level = ["family", "technique"]
design = ["randomised", "comparative"]
time_window = ["plan", "closest to 3 months"]
selection = ["any", "selection_reporting=explicit"]
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return set_sensitivity(copy_example(tmp_path_factory.mktemp("mv")), SENSITIVITY)


@pytest.fixture(scope="module")
def review(project):
    return netstrata.load_review(project)


@pytest.fixture(scope="module")
def serial(review):
    return analyse_review(review, seed=7, executor=SerialExecutor(), progress=False)


def test_specifications_enumerate_every_combination(serial):
    mv = serial.multiverse
    assert mv.n_combinations == 16 and len(mv.specifications) == 16
    assert mv.specifications[0].is_primary
    frame = mv.specifications_frame()
    assert frame.drop(columns=["specification", "primary"]).drop_duplicates().shape[0] == 16
    assert dict(mv.specifications[0].choices.items())["node_level"] == "family"


def test_same_seed_gives_identical_json_bytes(review, serial):
    again = analyse_review(review, seed=7, executor=SerialExecutor(), progress=False)
    assert again.to_json().encode() == serial.to_json().encode()


def test_serial_and_process_pool_identical(review, serial):
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = analyse_review(review, seed=7, executor=pool, progress=False)
    assert pooled.to_json() == serial.to_json()
    own = analyse_review(review, seed=7, workers=2, progress=False)   # netstrata's own pool
    assert own.to_json() == serial.to_json()


def test_primary_specification_equals_main_analysis(serial):
    curve = serial.multiverse.curve
    prim = curve[curve["specification"] == 0]
    main = {(s.name, c.label): c for s in (*serial.strata, *serial.lumped) for c in s.comparisons}
    assert len(prim) == len(main)
    for r in prim.itertuples():
        c = main[(r.stratum, f"{r.treat1} vs {r.treat2}")]
        assert (r.estimate, r.ci_low, r.ci_high, r.source) == (c.estimate, c.ci_low, c.ci_high, c.source)


def test_selection_filter_changes_lumbar_network(serial):
    curve = serial.multiverse.curve
    key = "lumbar / facet_joint_pain / success : RFN_FACET vs sham_procedure"
    rows = curve[curve["comparison"] == key]
    ks = dict(zip(rows["specification"], rows["k"]))
    specs = serial.multiverse.specifications_frame().set_index("specification")
    explicit = [i for i in ks if specs.loc[i, "selection"] != "any"]
    assert explicit and all(ks[i] == 1 for i in explicit) and ks[0] == 2


def test_sampling_above_cap_is_seeded():
    plan = parse_sensitivity({"node_level": ["a", "b", "c"], "time_window": ["plan", "closest to 3 months"],
                              "mixed_duration": ["exclude", "include"], "max_specifications": 5})
    a = specifications(plan, Choices(), seed=1)
    assert len(a) == 5 and a[0].index == 0 and list(a) == sorted(a)
    assert a == specifications(plan, Choices(), seed=1)
    others = [{s.index for s in specifications(plan, Choices(), seed=k)} for k in range(2, 8)]
    assert any(o != {s.index for s in a} for o in others)    # the seed decides the sample
    assert len({s.index for s in a}) == 5


# ------------------------------------------------------------------ conclusions

@pytest.mark.parametrize("low, high, small, mid, expected", [
    (-3.0, -1.6, "desirable", 1.5, "benefit"),        # pain: whole CI below -MID
    (-3.0, -1.5, "desirable", 1.5, "inconclusive"),   # touches the MID: strict inequality
    (-3.0, -0.2, "desirable", 1.5, "inconclusive"),
    (1.6, 3.0, "desirable", 1.5, "harm"),
    (0.1, 0.4, "undesirable", 0.0, "benefit"),        # success, no MID: CI above the null
    (-0.4, -0.1, "undesirable", 0.0, "harm"),
    (-0.4, 0.1, "undesirable", 0.0, "inconclusive"),
    (float("nan"), 1.0, "desirable", 0.0, "inconclusive"),
])
def test_classify(low, high, small, mid, expected):
    assert classify(low, high, mid_threshold=mid, small_values=small) == expected


def test_ratio_mid_on_log_scale():
    m = threshold(1.25, "RR")
    assert m == math.log(1.25)
    assert classify(math.log(1.3), math.log(2.0), mid_threshold=m, small_values="undesirable") == "benefit"
    assert classify(math.log(1.2), math.log(2.0), mid_threshold=m, small_values="undesirable") == "inconclusive"
    with pytest.raises(ParameterError, match="ratio > 1"):
        threshold(0.8, "OR")
    assert threshold(None, "MD") == 0.0 and threshold(1.5, "MD") == 1.5


def test_holding_fractions_on_constructed_multiverse():
    # comparison X: primary benefit; 10 specifications: 7 benefit, 2 inconclusive, 1 harm
    # comparison Y: primary inconclusive; estimable in 4 of 10 (6 specifications lack it),
    #               3 inconclusive, 1 benefit
    x = ["benefit"] * 7 + ["inconclusive"] * 2 + ["harm"]
    rows = [{"specification": i, "comparison": "X", "conclusion": c, "estimate": float(i)} for i, c in enumerate(x)]
    rows += [{"specification": i, "comparison": "Y", "conclusion": c, "estimate": 1.0}
             for i, c in zip((0, 3, 5, 9), ("inconclusive", "inconclusive", "benefit", "inconclusive"))]
    curve = pd.DataFrame(rows).assign(stratum="s", treat1="a", treat2="b")
    out = holding(curve).set_index("comparison")
    assert out.loc["X", "primary"] == "benefit" and out.loc["X", "holds"] == pytest.approx(0.7)
    assert (out.loc["X", "share_benefit"], out.loc["X", "share_harm"], out.loc["X", "share_inconclusive"]) == \
        pytest.approx((0.7, 0.1, 0.2))
    assert out.loc["X", "n_specifications"] == 10 and out.loc["X", "n_estimable"] == 10
    assert out.loc["Y", "n_estimable"] == 4 and out.loc["Y", "holds"] == pytest.approx(0.75)
    assert out.loc["Y", "share_benefit"] == pytest.approx(0.25)
    assert (out.loc["X", "estimate_min"], out.loc["X", "estimate_max"]) == (0.0, 9.0)


def test_robustness_consistent_with_curve(serial):
    mv = serial.multiverse
    rob = mv.robustness.set_index("comparison")
    for comp, g in mv.curve.groupby("comparison"):
        share = (g["conclusion"] == "benefit").mean()
        assert rob.loc[comp, "share_benefit"] == pytest.approx(share, abs=1e-15)
    shares = rob[[f"share_{c}" for c in ("benefit", "harm", "inconclusive")]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)


# ------------------------------------------------------------------ executors

class _MapOnly:
    """Any object with .map(fn, iterable) (e.g. a Dask client's executor) is accepted."""

    def __init__(self):
        self.calls = 0

    def map(self, fn, iterable):
        self.calls += 1
        return [fn(x) for x in iterable]


def _square(x):
    return x * x


def test_run_jobs_order_and_pluggable_executors():
    items = list(range(37))
    expected = [x * x for x in items]
    ex = _MapOnly()
    assert run_jobs(_square, items, executor=ex, progress=False) == expected and ex.calls == 1
    assert run_jobs(_square, items, workers=1, progress=False) == expected
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert run_jobs(_square, items, executor=pool, progress=False) == expected
    with pytest.raises(ParameterError, match="executor"):
        run_jobs(_square, items, executor=object())
    with pytest.raises(ParameterError, match="workers"):
        run_jobs(_square, items, workers=0)


# ------------------------------------------------------------------ lumping-level sensitivity

def test_finer_node_level_rows_keyed_by_primary_comparison(serial):
    curve, specs = serial.multiverse.curve, serial.multiverse.specifications_frame()
    tech = set(specs.loc[specs["node_level"] == "technique", "specification"])
    rows = curve[curve["specification"].isin(tech)
                 & (curve["comparison"] == "all / success : RFN_FACET vs sham_procedure")]
    lord = rows[rows["node1"] == "RFN_FACET:medial_branch:thermal_conventional"]
    assert len(lord) == len(tech) and set(lord["node2"]) == {"needle_no_current"}
    assert lord["estimate"].to_numpy() == pytest.approx(math.log(7), rel=1e-12)   # no loop: the study
    rob = serial.multiverse.robustness.set_index("comparison").loc["all / success : RFN_FACET vs sham_procedure"]
    assert rob["n_specifications_estimable"] == 16 and rob["n_estimable"] > 16


def test_curve_rows_flip_sign_when_primary_orientation_reverses():
    from netstrata.synthesis.analyse import ComparisonResult, LayerResult, StratumResult
    from netstrata.synthesis.specrun import curve_rows
    from netstrata.synthesis.strata import Stratum
    c = ComparisonResult("B:x", "A:y", "randomised", "MD", 1, ("s",), "study", 0.5, 0.1, 0.3, 0.7)
    res = StratumResult(Stratum("pain"), "MD", (LayerResult("randomised", "single_study", ("s",), ("A:y", "B:x"), (c,)),))
    (row,) = curve_rows(3, (), (res,), {"B:x": "B", "A:y": "A"}, {"A": "active", "B": "active"})
    assert row[1] == "all / pain : A vs B" and row[5:9] == ("A", "B", "B:x", "A:y")
    assert row[-4:] == (-0.5, 0.1, -0.7, -0.3)


_num = st.floats(-50, 50, allow_nan=False)


@given(_num, _num, st.floats(0, 5, allow_nan=False))
def test_classify_mirror_symmetry(a, b, mid):
    lo, hi = min(a, b), max(a, b)
    # reversing the direction of benefit and the sign of the effect gives the same conclusion
    assert classify(lo, hi, mid_threshold=mid, small_values="desirable") == \
        classify(-hi, -lo, mid_threshold=mid, small_values="undesirable")
    # benefit and harm never both hold, and a CI containing 0 is never a benefit or a harm
    if lo <= 0 <= hi:
        assert classify(lo, hi, mid_threshold=mid) == "inconclusive"


@given(st.lists(st.tuples(_num, _num, st.floats(0, 5, allow_nan=False), st.booleans()), min_size=1, max_size=20))
def test_classify_frame_equals_classify(rows):
    from netstrata.synthesis.conclusions import classify_frame
    frame = pd.DataFrame([{"ci_low": min(a, b), "ci_high": max(a, b), "mid_threshold": m,
                           "small_values": "desirable" if d else "undesirable"} for a, b, m, d in rows])
    expected = [classify(r.ci_low, r.ci_high, mid_threshold=r.mid_threshold, small_values=r.small_values)
                for r in frame.itertuples()]
    assert list(classify_frame(frame)) == expected
