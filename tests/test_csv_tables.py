"""csv_tables.csv_text writes what pandas writes (safe_csv_frame + to_csv), byte for byte."""
import numpy as np
import pandas as pd
import pytest

from netstrata._text import safe_csv_frame
from netstrata.synthesis.csv_tables import csv_text


def _pandas(frame):
    return safe_csv_frame(frame).to_csv(index=False, float_format="%.17g", lineterminator="\n")


FRAMES = {
    "mixed": pd.DataFrame({
        "specification": [0, 1, 2, 3],
        "comparison": ["A vs B", 'say "hi", then', "=HYPERLINK(1)", "line\nbreak"],
        "estimate": [0.1 + 0.2, -0.0, np.nan, np.inf],
        "se": [1e-300, 123456789.123456789, 2.5, -np.inf],
        "holds": [True, False, True, False],
        "text": ["-0.18", None, "\u202eevil", ""],
        "numbers_as_objects": pd.Series([1, 2.5, None, True], dtype=object),
        "carriage": ["a\rb", "x", "y,z", " lead space"],
    }),
    "string_dtype": pd.DataFrame({"a": pd.array(["x", None, "y,1"], dtype="string"), "b": [1.0, 2.0, 3.0]}),
    "no_rows": pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)}),
    "no_columns": pd.DataFrame(),
    "dates_fall_back": pd.DataFrame({"d": pd.to_datetime(["2024-01-01", "2025-02-03"]), "x": [1, 2]}),
    "numpy_scalars_fall_back": pd.DataFrame({"o": pd.Series([np.float64(1.5), "t"], dtype=object)}),
    "odd_names": pd.DataFrame({"=x": [1], 3: [2.0], "a,b": ["c"]}),
}


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_csv_text_equals_pandas(name):
    frame = FRAMES[name]
    assert csv_text(frame) == _pandas(frame)


def test_csv_text_large_random_frame():
    rng = np.random.default_rng(5)
    n = 2000
    words = np.array(["a", "b,c", 'q"uote', "+1", "-x", "x\ny", "", "\u00e9t\u00e9"], dtype=object)
    frame = pd.DataFrame({"i": rng.integers(-5, 5, n), "f": rng.normal(size=n) * 10.0 ** rng.integers(-20, 20, n),
                          "s": rng.choice(words, n), "b": rng.random(n) > 0.5})
    frame.loc[rng.random(n) < 0.1, "f"] = np.nan
    assert csv_text(frame) == _pandas(frame)
