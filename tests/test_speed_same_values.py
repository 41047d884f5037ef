"""Speed paths of issue 18 (third pass) that must give exactly what the plain code gives."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from netstrata.nma.kernel import pairs
from netstrata.nma.prepare import _pair_projection
from netstrata.present.svg import Svg, circle_markup, fmt, line_markup, line_style, rect_parts
from netstrata.synthesis.jsontext import _column, encode, encode_bytes, jsonable
from netstrata.synthesis.multiverse_store import CurveStore
from netstrata.synthesis.specrun import RowIds
from netstrata.synthesis.stratify import _stratum_codes
from netstrata.synthesis.strata import Stratum


def _mixed_frame() -> pd.DataFrame:
    frame = pd.DataFrame({"x": [1.5, np.nan, -0.0, np.inf], "n": [1, 2, 3, 4], "ok": [True, False, True, True],
                          "s": ["a", None, "b\u2068", "c"], "o": [(1, 2), np.nan, None, "t"]})
    frame["s"] = frame["s"].astype("str")
    frame["t"] = pd.Series(["p", None, "q", "r"], dtype="string")
    return frame


def test_row_ids_number_equal_rows_alike_and_tell_any_cell_apart():
    """RowIds: the same number for rows of equal content (NaN included, in any table with the
    same columns and dtypes), a different one when one cell, its type or the column dtype differs."""
    frame = _mixed_frame()
    ids = RowIds()
    first = ids.of(frame)
    assert len(set(first.tolist())) == len(frame)
    assert ids.of(frame.copy()).tolist() == first.tolist()                  # NaN matches NaN
    assert ids.of(frame.iloc[[3, 1]]).tolist() == first[[3, 1]].tolist()     # a row is its content, not its place
    for col, value in (("x", 1.5000000000000002), ("x", 0.0), ("n", 5), ("ok", False), ("s", "a "),
                       ("o", (1, 2.0)), ("o", (1, True)), ("t", "P")):
        changed = frame.copy()
        changed.at[0, col] = value
        got = ids.of(changed).tolist()
        assert got[0] not in first.tolist() and got[1:] == first.tolist()[1:], (col, value)
    # -0.0 and 0.0 are equal numbers but not the same input (the sign can reach an estimate)
    zero = frame.copy()
    zero.at[2, "x"] = 0.0
    assert ids.of(zero).tolist()[2] != first[2]
    # the same values in another dtype are another row
    as_float = frame.assign(n=frame["n"].astype(float))
    assert not set(ids.of(as_float).tolist()) & set(first.tolist())
    assert ids.table_key(frame.iloc[:0]) != ids.table_key(as_float.iloc[:0])
    assert ids.table_key(frame) == ids.table_key(frame.copy())
    assert ids.of(frame.iloc[:0]).shape == (0,)


def test_text_columns_as_iteration():
    frame = _mixed_frame()
    for c in ("s", "t", "o"):
        want = [v if v is None or type(v) is str else jsonable(v) for v in frame[c]]
        assert _column(frame[c]) == want


def test_encode_bytes_as_json_dumps_indent_2():
    tree = jsonable({"b": [1.0, 1e-05, 1e16, -0.0, None, True, "\u2068x\u2069 \"q\" \\ \x01"],
                     "a": {"z": 2, "y": [], "x": {}}, "c": 123456789012345678901234567890})
    want = json.dumps(tree, sort_keys=True, ensure_ascii=False, allow_nan=False, indent=2) + "\n"
    assert encode_bytes(tree) == want.encode("utf-8")
    assert encode(tree) == want


@pytest.mark.parametrize("k", [2, 3, 4, 7])
def test_pairs_as_triu_indices(k):
    i, j, pos = pairs(k)
    ti, tj = np.triu_indices(k, 1)
    assert np.array_equal(i, ti) and np.array_equal(j, tj)
    assert [pos[a * k + b] for a, b in zip(ti, tj)] == list(range(len(ti)))
    assert not i.flags.writeable and not pos.flags.writeable
    B = np.zeros((len(ti), k))
    B[np.arange(len(ti)), ti] = 1.0
    B[np.arange(len(ti)), tj] = -1.0
    assert np.array_equal(_pair_projection(k), B @ np.linalg.pinv(B))


def test_stratum_codes_as_the_stratum_mask():
    strata = [Stratum("pain", (("region", "lumbar"),)), Stratum("pain", (("region", "cervical"),)), Stratum("success", (("region", "lumbar"),))]
    labels = [strata[i] for i in (2, 0, 0, 1, 2, 1)] + [Stratum("pain", (("region", "cervical"),))]   # an equal, new object
    column = pd.Series(labels, dtype=object)
    codes = _stratum_codes(labels, strata)
    for k, st in enumerate(strata):
        assert np.array_equal(codes == k, (column == st).to_numpy())
    assert _stratum_codes([], strata).shape == (0,)


def test_store_rows_kept_in_memory_as_read_back(tmp_path):
    rows = [[(0, "s : A vs B", "s", "pain", "randomised", "A", "B", "A", "B", "MD", np.int64(3), "network",
              np.float64(-0.5), 0.25, float("nan"), math.inf, None)],
            [], [(1, "s : A vs C", "s", "pain", "randomised", "A", "C", "A", "C", "MD", 2, "study",
                  -0.0, np.float64(1e-300), -1e16, 2.5, np.str_("x"))]]
    cs = CurveStore.open(tmp_path / "mv", {"run": 1})
    cs.write(0, rows)
    kept, back = CurveStore.as_read(rows), cs.read(0)
    assert len(kept) == len(back)
    for a, b in zip(kept, back):
        assert len(a) == len(b)
        for ra, rb in zip(a, b):
            assert [type(v) for v in ra] == [type(v) for v in rb]
            assert all(x == y or (x != x and y != y) for x, y in zip(ra, rb))
            assert all(math.copysign(1, x) == math.copysign(1, y) for x, y in zip(ra, rb) if type(x) is float)


def test_markup_helpers_as_the_svg_primitives():
    a, b = Svg(10, 10), Svg(10, 10)
    a.rect(1.25, 2.0, 4.4, 4.4, fill="#123456")
    head, tail = rect_parts(1.25, 4.4, 4.4, fill="#123456")
    b.raw(f"{head}{fmt(2.0)}{tail}")
    a.line(1.0, -0.04, 3.0, 4.56, stroke="#0072B2", sw=1.2, opacity=0.8)
    b.raw(line_markup(fmt(1.0), fmt(-0.04), fmt(3.0), fmt(4.56), line_style("#0072B2", 1.2, None, 0.8)))
    a.circle(2.0, 3.0, 2.8, fill="#000000")
    b.raw(circle_markup(fmt(2.0), fmt(3.0), fmt(2.8), "#000000"))
    assert a.markup() == b.markup()
