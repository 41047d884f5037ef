"""The footnote's first reasons equal the full list's first ones (the footnote shows three and
whether there are more)."""
from __future__ import annotations

from hypothesis import given, strategies as st

from netstrata.certainty.rating import _first_reasons

_reason = st.sampled_from(["no blinding (level 2)", "no blinding (level 3)", "attrition", "", "selection (level 1)",
                           "fidelity tier C", "x; y", "dose (level 2); attrition"])


@given(st.dictionaries(st.text(max_size=3), st.lists(_reason, max_size=4).map("; ".join), max_size=12))
def test_first_reasons_equal_the_previous_full_list(level_reasons):
    full = list(dict.fromkeys(r.split(" (level")[0] for v in level_reasons.values()
                              for r in str(v).split("; ") if r))
    got = _first_reasons(level_reasons, 4)
    assert got == full[:4]
    assert got[:3] == full[:3] and (len(got) > 3) == (len(full) > 3)


# ---------------------------------------------------------------- contribution domains, critical cap
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from netstrata.certainty.rating import contribution_domain, critical_cap  # noqa: E402
from netstrata.certainty.rules import contribution_judgement  # noqa: E402


def _previous_contribution_domain(domain, shares, levels, rule, reasons):
    shares = shares[shares > 0]
    lv = levels.reindex(shares.index.astype(str))
    why = {s: reasons[s] for s in shares.index.astype(str) if reasons and reasons.get(s)} if reasons else None
    shares_a, levels_a = np.asarray(shares.to_numpy(), float), np.asarray(lv.to_numpy(dtype=int), int)
    judgement = contribution_judgement(domain, shares_a, levels_a, rule, studies=shares.index, level_reasons=why)
    total = shares_a.sum()
    judgement.inputs["studies"] = {str(s): (float(w / total), int(v))
                                   for s, w, v in zip(shares.index, shares_a, levels_a)}
    return judgement


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-0.2, 1), st.sampled_from([1, 2, 3]), st.booleans()), min_size=1, max_size=12),
       st.sampled_from(["majority", "highest", "average"]))
def test_contribution_domain_equals_previous(rows, rule):
    if not any(w > 0 for w, _, _ in rows):
        rows = [(0.5, 1, False), *rows]
    studies = [f"S{i}" for i in range(len(rows))]
    shares = pd.Series([w for w, _, _ in rows], index=studies)
    levels = pd.Series({s: lv for s, (_, lv, _) in zip(studies, rows)}, dtype=int)
    reasons = {s: "no blinding (level 2)" for s, (_, _, r) in zip(studies, rows) if r}
    got = contribution_domain("indirectness", shares, levels, rule, reasons)
    expect = _previous_contribution_domain("indirectness", shares, levels, rule, reasons)
    assert got == expect
    assert list(got.inputs["studies"]) == list(expect.inputs["studies"])


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")
def test_contribution_domain_missing_level_takes_the_previous_path():
    """A study without a level (rate_network checks this before) goes through reindex as before."""
    shares = pd.Series([0.5, 0.5], index=["a", "b"])
    levels = pd.Series({"a": 1}, dtype=int)
    assert (contribution_domain("indirectness", shares, levels, "highest", None)
            == _previous_contribution_domain("indirectness", shares, levels, "highest", None))


@pytest.mark.parametrize("critical", [(), ["a"], ["a", "b"], ["z"]])
def test_critical_cap_equals_previous(critical):
    shares = pd.Series([0.6, 0.3, 0.1, 0.0], index=["a", "b", "c", "d"])
    crit = pd.Series(sorted(critical), dtype=object)
    s = shares[shares > 0]
    share = float(s[s.index.astype(str).isin(set(map(str, crit)))].sum() / s.sum())
    assert bool(critical_cap(crit, shares)) == (share >= 0.5)
    assert critical_cap(None, shares) == ()
