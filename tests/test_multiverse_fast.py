"""The multiverse's fast paths give what the plain paths give, value for value (issue 18).

* ``analyse_strata(positions=True)`` hands ``analyse`` the rows the frame path hands it;
* :func:`~netstrata.synthesis.primary.analyse_primary` on :class:`Records` equals
  ``analyse_stratum(..., primary_only=True)`` on frames, for every stratum of every specification
  of the bundled examples (and with the shared network fits, all but the NetworkResult);
* a shared network fit gives each layer the notes of its own fit (warnings raised again);
* the multi-arm blocks ``prepare_rows`` hands the fit are those the fit finds itself;
* the store's column-wise parts read back as written (types and bits).

Every test compares results, never times.
"""
from __future__ import annotations

import math
import struct
from dataclasses import fields, replace

import numpy as np
import pandas as pd
import pytest

import netstrata
from netstrata.data import example_path
from netstrata.nma.kernel import multiarm_blocks
from netstrata.nma.network import network_prepared
from netstrata.nma.prepare import prepare_rows
from netstrata.synthesis.analyse import _comparative, analyse_stratum
from netstrata.synthesis.canonical import canonical_review
from netstrata.synthesis.checks import check_review
from netstrata.synthesis.config import ModelSettings, parse_sensitivity
from netstrata.synthesis.choices import Choices
from netstrata.synthesis.multiverse import specifications
from netstrata.synthesis.multiverse_store import PART_FORMAT, CurveStore, decode_part, encode_part
from netstrata.synthesis.primary import Records, analyse_primary
from netstrata.synthesis.specrun import SpecRunner, _LRU
from netstrata.synthesis.stratify import analyse_strata

from .test_data_support import copy_example, set_sensitivity
from .test_multiverse_scale import SENSITIVITY


def _bits(v):
    """A value with floats by their bits (NaN equals NaN, -0.0 differs from 0.0)."""
    if isinstance(v, float):
        return ("f", struct.pack("<d", v))
    if isinstance(v, tuple):
        return tuple(_bits(x) for x in v)
    return v


def _fields(obj, skip=()) -> dict:
    return {f.name: _bits(getattr(obj, f.name)) for f in fields(obj) if f.name not in skip}


def assert_same_stratum(fast, plain, network: bool = True):
    """Two StratumResults field for field (floats bit for bit); ``network=False``: the fast
    result holds no NetworkResult where the plain one does."""
    assert _fields(fast, ("layers",)) == _fields(plain, ("layers",))
    assert len(fast.layers) == len(plain.layers)
    for a, b in zip(fast.layers, plain.layers):
        assert _fields(a, ("comparisons", "rates", "network", "pairwise")) == \
            _fields(b, ("comparisons", "rates", "network", "pairwise"))
        assert [_fields(c) for c in a.comparisons] == [_fields(c) for c in b.comparisons]
        assert [_fields(r) for r in a.rates] == [_fields(r) for r in b.rates]
        assert len(a.pairwise) == len(b.pairwise)
        if network:
            assert (a.network is None) == (b.network is None)
        else:
            assert a.network is None


def _runs(project):
    """(review, settings, evidence, variables, every specification's prepared records)."""
    review = canonical_review(netstrata.load_review(project))
    checked = check_review(review)
    plan = review.plan
    sens = parse_sensitivity(plan.sections.get("sensitivity"), plan, review.pack)
    specs = specifications(sens, Choices(node_level=plan.node_level), 0)
    runner = SpecRunner(review, checked.settings, tuple(plan.strata), plan.node_level)
    return review, checked.settings, checked.evidence, tuple(plan.strata), [runner.prepared(s.choices) for s in specs]


@pytest.fixture(scope="module")
def landmark(tmp_path_factory):
    return _runs(set_sensitivity(copy_example(tmp_path_factory.mktemp("fast")), SENSITIVITY))


@pytest.fixture(scope="module")
def simulated():
    return _runs(example_path("simulated-spine"))


def _calls(review, prepared, settings, variables, evidence, positions):
    """Every call analyse_strata makes (frames or positions), analysed plainly."""
    calls = []

    def record(stratum, con, rates, spec, settings, roles, *, layer_spec=None, layers=()):
        calls.append((stratum, con, rates, spec, roles, layers))
        if positions:
            con, rates = prepared.contrasts.take(con), prepared.rates.take(rates)
        return analyse_stratum(stratum, con, rates, spec, settings, roles, layers=layers, primary_only=True)
    split, lumped = analyse_strata(review, prepared, settings, variables, evidence=evidence, analyse=record,
                                   positions=positions)
    return calls, split, lumped


@pytest.mark.parametrize("which", ["landmark", "simulated"])
def test_positions_give_the_rows_of_the_frames(which, request):
    review, settings, evidence, variables, preps = request.getfixturevalue(which)
    n = 0
    for prepared in preps:
        frames, split_f, lumped_f = _calls(review, prepared, settings, variables, evidence, positions=False)
        at, split_p, lumped_p = _calls(review, prepared, settings, variables, evidence, positions=True)
        assert [c[0] for c in frames] == [c[0] for c in at]
        for f, p in zip(frames, at):
            assert f[3:] == p[3:]
            for frame, pos, table in ((f[1], p[1], prepared.contrasts), (f[2], p[2], prepared.rates)):
                assert pos.dtype.kind == "i"
                # the frame holds the rows at these positions, with them as its index labels
                assert frame.index.tolist() == pos.tolist()
                pd.testing.assert_frame_equal(frame.drop(columns="_stratum"), table.take(pos))
        for a, b in zip((*split_f, *lumped_f), (*split_p, *lumped_p)):
            assert_same_stratum(a, b)
        n += len(frames)
    assert n > 30


@pytest.mark.parametrize("which", ["landmark", "simulated"])
def test_analyse_primary_equals_the_frame_path(which, request):
    """Every stratum (split and lumped) of every specification: analyse_primary on Records, with
    and without the shared network fits, equals analyse_stratum(primary_only=True) on frames."""
    review, settings, evidence, variables, preps = request.getfixturevalue(which)
    cache = _LRU(10_000)
    statuses, hits = set(), 0
    for prepared in preps:
        calls, _, _ = _calls(review, prepared, settings, variables, evidence, positions=True)
        columns: tuple[dict, dict] = ({}, {})
        for stratum, con, rates, spec, roles, layers in calls:
            plain = analyse_stratum(stratum, prepared.contrasts.take(con), prepared.rates.take(rates), spec,
                                    settings, roles, layers=layers, primary_only=True)
            records = Records(prepared.contrasts, con, columns[0]), Records(prepared.rates, rates, columns[1])
            assert_same_stratum(analyse_primary(stratum, *records, spec, settings, roles, layers=layers), plain)
            before = len(cache)
            shared = analyse_primary(stratum, *records, spec, settings, roles, layers=layers, networks=cache)
            hits += len(cache) == before and any(lay.status == "network" for lay in shared.layers)
            assert_same_stratum(shared, plain, network=False)
            statuses |= {lay.status for lay in plain.layers}
    assert "network" in statuses and (hits > 0 or which == "simulated")   # landmark: all-RCT strata share fits


def test_shared_network_fit_notes_its_warnings_every_time():
    """A disconnected network warns (ComponentNotice): the layer that reuses the fit notes it too."""
    rows = pd.DataFrame({"study": ["s1", "s2", "s3", "s4"], "treat1": ["A", "A", "C", "C"],
                         "treat2": ["B", "B", "D", "D"], "effect": [0.5, 0.7, -0.2, 0.1],
                         "se": [0.2, 0.3, 0.25, 0.2]})
    settings, roles = ModelSettings(), {"A": "active", "C": "active", "B": "control", "D": "control"}
    plain = _comparative(rows, "randomised", "MD", "desirable", settings, roles, counts_only=True)
    assert any("sub-networks" in n for n in plain.notes) and len(plain.notes) >= 2
    cache = _LRU(10)
    first = _comparative(rows, "randomised", "MD", "desirable", settings, roles, counts_only=True, networks=cache)
    again = _comparative(rows, "comparative", "MD", "desirable", settings, roles, counts_only=True, networks=cache)
    assert len(cache) == 1
    assert first.notes == plain.notes == again.notes
    assert [_fields(c) for c in first.comparisons] == [_fields(c) for c in plain.comparisons]
    assert [_fields(replace(c, layer="randomised")) for c in again.comparisons] == \
        [_fields(c) for c in plain.comparisons]


def test_prepare_rows_hands_the_fit_its_multiarm_blocks():
    """Blocks found by the consistency check are the fit's own; the fit with them is the same."""
    study = ["s1", "s1", "s1", "s2", "s3", "s4", "s4", "s4"]
    t1 = ["A", "A", "B", "A", "B", "A", "A", "C"]
    t2 = ["B", "C", "C", "B", "D", "C", "D", "D"]
    arms = {"s1": {"A": 0.0, "B": 0.3, "C": 0.5}, "s4": {"A": 0.0, "C": 0.45, "D": 0.1}}   # consistent
    effect = [arms[s][a] - arms[s][b] if s in arms else 0.2 for s, a, b in zip(study, t1, t2)]
    se = [0.2, 0.25, 0.3, 0.2, 0.3, 0.2, 0.22, 0.25]
    found: list = []
    prep = prepare_rows(study, t1, t2, np.array(effect), np.array(se), covariance=False, blocks=found)
    assert prep is not None and found
    own = multiarm_blocks(prep.study, prep.t1, prep.t2)
    assert len(own) == len(found)
    for a, b in zip(own, found):
        assert a.k == b.k and all(np.array_equal(x, y) for x, y in zip(a[1:], b[1:]))
    with_blocks = network_prepared(prep, blocks=tuple(found))
    without = network_prepared(prep)
    for model in ("common", "random"):
        for x, y in zip(with_blocks.league_arrays(model), without.league_arrays(model)):
            assert np.array_equal(x.view(np.int64), y.view(np.int64))
    assert with_blocks.tau2 == without.tau2
    # one row per study: no block to search (what multiarm_blocks finds)
    found = []
    two_arm = prepare_rows(["a", "b"], ["A", "B"], ["B", "C"], np.array([0.1, 0.2]), np.array([0.1, 0.1]),
                           covariance=False, blocks=found)
    assert two_arm is not None and found == [] and multiarm_blocks(two_arm.study, two_arm.t1, two_arm.t2) == []


def _typed(rows):
    return [[tuple((type(v), _bits(v)) for v in r) for r in spec] for spec in rows]


def test_store_parts_read_back_as_written(tmp_path):
    rows = [[(0, "s : A vs B", "s", "pain", "randomised", "A", "B", "A", "B", "MD", 3, "network",
              -0.5, 0.25, float("nan"), math.inf),
             (0, "s : A vs C", "s", "pain", "randomised", "A", "C", "A", "C", "MD", 2, "study",
              -0.0, 1e-300, -1e16, 2.5)],
            [],
            [(2, "t : \u00e9 vs \U0001f600 \ud800", "t", "pain", "comparative", "A", "C", "A", "C", "OR", 2 ** 40,
              "study", 0.0, 5e-324, 1.7976931348623157e308, -math.inf)]]
    cs = CurveStore.open(tmp_path / "mv", {"run": 1})
    cs.write(0, rows)
    assert cs.path(0).suffix == ".npz"
    assert _typed(cs.read(0)) == _typed(CurveStore.as_read(rows)) == _typed(rows)
    arrays = encode_part(rows)
    assert arrays["c12"].dtype == np.float64 and arrays["c10"].dtype == np.int64 and arrays["c1"].dtype.kind == "u"
    # columns of other kinds (None, bool, big integers, NumPy scalars, mixed) and ragged rows
    odd = [[(None, True, 2 ** 70, np.int64(4), np.float64(0.1), 1), (1.5, False, 3, np.int64(5), 0.2, "x")],
           [(None, None, 1, np.int64(-1), np.float64(-0.0), 2.0)]]
    assert _typed(decode_part(encode_part(odd))) == _typed(CurveStore.as_read(odd))
    ragged = [[(1, "a"), (2, "b", 3.5)], [(None,)]]
    assert _typed(decode_part(encode_part(ragged))) == _typed(CurveStore.as_read(ragged))
    for empty in ([], [[], []]):
        assert decode_part(encode_part(empty)) == empty
    # a store written in another part format is not resumed
    assert CurveStore.open(tmp_path / "mv", {"run": 1}, resume=True).done == {0}
    (tmp_path / "mv" / "manifest.json").write_text(
        (tmp_path / "mv" / "manifest.json").read_text().replace(f'"part_format": {PART_FORMAT}', '"part_format": 1'))
    assert CurveStore.open(tmp_path / "mv", {"run": 1}, resume=True).done == set()
