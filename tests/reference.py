"""Read the R reference files in tests/data/reference (see PROVENANCE.md there).

``load(kind, name)`` returns the parsed JSON with ``analyses`` turned into a dict by analysis name.
``num(x)`` turns R's encodings ("NA", "Inf", named vectors, matrices) into numpy/pandas objects.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).parent / "data" / "reference"
_SPECIAL = {"NA": np.nan, "NaN": np.nan, "Inf": np.inf, "-Inf": -np.inf}


@lru_cache(maxsize=None)
def _read(kind: str, name: str) -> dict:
    data = json.loads((ROOT / kind / f"{name}.json").read_text())
    data["analyses"] = {a["analysis"]: a for a in data["analyses"]}
    return data


def load(kind: str, name: str) -> dict:
    """The reference file ``kind/name.json`` (kind is 'pairwise' or 'nma')."""
    return _read(kind, name)


def table(kind: str, name: str) -> pd.DataFrame:
    """The input CSV beside the reference file, read as R read it (``NA`` is missing)."""
    return pd.read_csv(ROOT / kind / f"{name}.csv", keep_default_na=True, na_values=["NA"])


def datasets(kind: str) -> list[str]:
    return sorted(p.stem for p in (ROOT / kind).glob("*.json"))


def scalar(x) -> float:
    if isinstance(x, list):
        assert len(x) == 1, x
        x = x[0]
    if isinstance(x, str):
        return _SPECIAL[x]
    return np.nan if x is None else float(x)


def num(x):
    """Decode a reference value: number, vector, named vector or matrix."""
    if isinstance(x, dict) and "rownames" in x:
        values = np.array([[scalar(v) for v in row] for row in x["values"]], dtype=float)
        return pd.DataFrame(values, index=x["rownames"], columns=x["colnames"])
    if isinstance(x, dict) and "names" in x:
        return pd.Series([scalar(v) for v in x["values"]], index=x["names"], dtype=float)
    if isinstance(x, list):
        return np.array([scalar(v) for v in x], dtype=float)
    return scalar(x)
