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
