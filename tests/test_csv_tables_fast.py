"""Numeric columns with repeated values (each distinct value formatted once) are written as
pandas writes them, signed zeros, NaN and infinities included."""
import numpy as np
import pandas as pd
import pytest

from netstrata._text import safe_csv_frame
from netstrata.synthesis.csv_tables import csv_text


def _pandas(frame):
    return safe_csv_frame(frame).to_csv(index=False, float_format="%.17g", lineterminator="\n")


@pytest.mark.parametrize("zeros", [[0.0], [-0.0], [0.0, -0.0], []])
def test_repeated_floats_equal_pandas(zeros):
    rng = np.random.default_rng(len(zeros))
    values = np.array([0.1 + 0.2, 1e-300, np.nan, np.inf, -np.inf, 2.5, -7.0, 1 / 3, *zeros])
    n = 3000
    frame = pd.DataFrame({"f": rng.choice(values, n), "i": rng.integers(-3, 3, n), "b": rng.random(n) > 0.5,
                          "u": rng.integers(0, 4, n).astype(np.uint8), "s": rng.choice(["a", "b,c"], n)})
    assert csv_text(frame) == _pandas(frame)


def test_mostly_distinct_and_mixed_columns_equal_pandas():
    rng = np.random.default_rng(9)
    n = 1000
    f = rng.normal(size=n)
    f[:400] = 0.5                                   # just under half repeated
    frame = pd.DataFrame({"f": f, "g": np.where(rng.random(n) < 0.3, np.nan, 1.25), "k": np.arange(n) % 500})
    assert csv_text(frame) == _pandas(frame)


@pytest.mark.parametrize("values", [["x", None, "=1+1", "a,b"], [None, None], []])
def test_string_dtype_columns_equal_pandas(values):
    frame = pd.DataFrame({"s": pd.array(values, dtype="string"), "f": np.arange(len(values), dtype=float)})
    assert csv_text(frame) == _pandas(frame)
