"""Fast paths that must give exactly what the plain code gives (speed only, never a result)."""
import random

import numpy as np
import pytest
from scipy.sparse import coo_matrix, csgraph

from netstrata.nma.kernel import connected_components
from netstrata.present.context import _UNSAFE_SVG, _unsafe_svg


def test_connected_components_labels_as_scipy_csgraph():
    rng = np.random.default_rng(1)
    for _ in range(2000):
        n, m = int(rng.integers(1, 25)), int(rng.integers(0, 30))
        t1, t2 = rng.integers(0, n, m), rng.integers(0, n, m)
        keep = t1 != t2
        t1, t2 = t1[keep], t2[keep]
        _, want = csgraph.connected_components(coo_matrix((np.ones(len(t1)), (t1, t2)), shape=(n, n)), directed=False)
        got = connected_components(t1, t2, n)
        assert np.array_equal(got, want) and got.dtype == want.dtype


@pytest.mark.parametrize("seed", range(4))
def test_unsafe_svg_check_as_the_regular_expression(seed):
    rnd = random.Random(seed)
    pieces = ["<", ">", " ", "\t", "\u00a0", "on", "ON", "oN", "click", "=", "href", "HREF", '"', "'",
              "javascript:", "JavaScript:", "script", "a", "x", "\n", "svg", "o", "n", "\u0130", "\u212a", "\u017f", "\u3000"]
    for _ in range(40000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 14)))
        assert bool(_UNSAFE_SVG.search(text)) == _unsafe_svg(text), repr(text)
