"""``network_views``' column-wise conversions equal the row-by-row ones they replaced."""
from __future__ import annotations

import numpy as np
import pytest

from netstrata.nma.contrib import contribution_frame
from netstrata.synthesis import network_views as nv
from tests.test_jsontext_fast import _same
from tests.test_nma_split import network_fit


def _reference_split(net):
    table = net.split("random")
    cols = [c for c in nv._SPLIT if c in table.columns]
    return [{c: nv._num(r[c]) if c not in ("comparison", "status", "evidence") else str(r[c]) for c in cols}
            for _, r in table.iterrows()]


def _reference_contributions(net):
    m = contribution_frame(net, "random", "study")
    return {"comparisons": [str(c) for c in m.index], "studies": [str(s) for s in m.columns],
            "matrix": [[nv._num(v) for v in row] for row in m.to_numpy(float)]}


@pytest.mark.parametrize("dataset", ["woods2010", "linde2015", "senn2013", "dogliotti2014", "franchini2012"])
def test_views_equal_row_by_row_conversion(dataset):
    net = network_fit(dataset)
    _same(nv._split(net), _reference_split(net))
    _same(nv._contributions(net), _reference_contributions(net))


def test_split_rows_keep_none_for_missing_values():
    rows = nv._split(network_fit("linde2015"))
    assert any(v is None for r in rows for v in r.values())          # not assessable: no direct estimate
    assert all(type(r["k"]) is float for r in rows)                   # as _num gave them


def test_contribution_cells_non_finite_become_none(monkeypatch):
    net = network_fit("woods2010")
    frame = contribution_frame(net, "random", "study")
    frame.iloc[0, 0], frame.iloc[1, 1] = np.nan, -np.inf
    monkeypatch.setattr(nv, "contribution_frame", lambda *a, **k: frame.copy())
    out = nv._contributions(net)
    assert out["matrix"][0][0] is None and out["matrix"][1][1] is None
    assert out["matrix"][0][1] == nv._num(frame.iloc[0, 1])
