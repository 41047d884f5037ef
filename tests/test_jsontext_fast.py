"""``jsonable``'s exact-type fast paths give what the general conversion gives.

``_reference`` is the conversion before the fast paths (an isinstance chain for every value):
the oracle. Values of every kind the results hold (nested dicts with non-string keys, lists,
tuples, namedtuples, NaN, ±inf, -0.0, numpy scalars and arrays, str subclasses, frames,
dataclasses) must convert to equal trees with equal types (True stays a bool, 1 an int).
"""
from __future__ import annotations

import enum
import math
from collections import namedtuple
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from netstrata.synthesis.jsontext import _float, _frame_records, _sorted, dumps, jsonable


def _reference(obj):
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _float(obj)
    if isinstance(obj, Mapping):
        return _sorted({str(k): _reference(v) for k, v in obj.items()})
    if isinstance(obj, pd.DataFrame):
        return _frame_records(obj)
    if isinstance(obj, (list, tuple, np.ndarray, pd.Series)):
        return [_reference(v) for v in obj]
    if is_dataclass(obj):
        return _sorted({f.name: _reference(getattr(obj, f.name)) for f in fields(obj)})
    if obj is pd.NA or obj is pd.NaT:
        return None
    return str(obj)


def _same(a, b):
    """Equal trees with equal types and equal key order (NaN never survives: it is None)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float):
        assert a == b and math.copysign(1, a) == math.copysign(1, b)
    else:
        assert a == b


class Level(str, enum.Enum):
    HIGH = "high"


Pair = namedtuple("Pair", "a b")


@dataclass(frozen=True)
class Row:
    x: float
    label: str


_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.text(max_size=4),
                  st.floats(allow_nan=True, allow_infinity=True), st.just(-0.0), st.just(0.0),
                  st.sampled_from([np.float64(1.5), np.float64("nan"), np.int64(3), np.bool_(True),
                                   np.float32(-0.0), Level.HIGH, pd.NA, np.array([1.0, np.inf]),
                                   Pair(1.0, "x"), Row(float("nan"), "r")]))
_trees = st.recursive(_leaf, lambda kids: st.one_of(
    st.lists(kids, max_size=5), st.lists(kids, max_size=5).map(tuple),
    st.dictionaries(st.one_of(st.text(max_size=3), st.integers(0, 5), st.booleans()), kids, max_size=5)),
    max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(tree=_trees)
def test_jsonable_equals_reference_conversion(tree):
    _same(jsonable(tree), _reference(tree))


def test_frames_and_key_order():
    frame = pd.DataFrame({"b": [1.0, -0.0, np.nan], "a": ["x", None, "z"]})
    tree = {"z": frame, 2: [(-0.0, np.inf)], "a": {"k": Level.HIGH}}
    _same(jsonable(tree), _reference(tree))
    assert dumps(tree) == dumps(_reference(tree))


def _reference_certainty_plain(x):
    """``netstrata.certainty.network._plain`` before its exact-type fast paths."""
    if isinstance(x, Mapping):
        return {str(k): _reference_certainty_plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_reference_certainty_plain(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not np.isfinite(x) else float(x)
    return x if x is None or isinstance(x, str) else str(x)


@settings(max_examples=300, deadline=None)
@given(tree=_trees)
def test_certainty_plain_equals_reference_conversion(tree):
    from netstrata.certainty.network import _plain
    _same(_plain(tree), _reference_certainty_plain(tree))
