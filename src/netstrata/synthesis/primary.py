"""The specification curve's stratum analysis without a DataFrame per stratum or layer.

:func:`analyse_primary` is ``analyse_stratum(..., primary_only=True)`` (see
:mod:`~netstrata.synthesis.analyse`) for records given as :class:`Records`: rows (positions) of
a specification's prepared tables, whose columns are read once per table and shared by all its
strata. The analysis itself is the same code (``_comparative`` on the layer's columns, the same
network fit), so the result is the same, field for field; the rare strata with records in
undeclared layers (register rows) or single-arm rates only go through the DataFrame path.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..nma.prepare import contrast_input
from .analyse import LAYER_ORDER, LayerResult, StratumResult, _comparative, _single_arm, analyse_stratum
from .choices import ARM_COLUMNS, layer_of
from .config import ModelSettings
from .evidence import EVIDENCE_LAYERS
from .layer_fit import _Rows
from .strata import Stratum

__all__ = ["Records", "analyse_primary"]

_BASE_COLUMNS = ["study", "treat1", "treat2", "effect", "se"]


class Records:
    """Rows ``at`` (positions, in order) of ``table``; ``columns`` caches the table's columns
    (``tolist()`` and ``to_numpy()``), so the strata of one table read each column once."""

    __slots__ = ("table", "at", "_columns")

    def __init__(self, table: pd.DataFrame, at: np.ndarray | None = None, columns: dict | None = None):
        self.table = table
        self.at = np.arange(len(table)) if at is None else at
        self._columns = {} if columns is None else columns

    def __len__(self) -> int:
        return len(self.at)

    def _whole(self, name: str, kind: str):
        key = (name, kind)
        got = self._columns.get(key)
        if got is None:
            col = self.table[name]
            got = self._columns[key] = col.tolist() if kind == "list" else col.to_numpy()
        return got

    def labels(self, name: str, sub=None) -> list:
        """Column ``name`` at the rows (``sub``: positions among them) as a list."""
        whole = self._whole(name, "list")
        return [whole[i] for i in (self.at if sub is None else self.at[sub]).tolist()]

    def values(self, name: str, sub=None) -> np.ndarray:
        """Column ``name`` at the rows as ``to_numpy()`` of the column (its own dtype)."""
        return self._whole(name, "array")[self.at if sub is None else self.at[sub]]

    def frame(self, sub=None) -> pd.DataFrame:
        """The rows as a DataFrame (``table.take``: index labels kept)."""
        return self.table.take(self.at if sub is None else self.at[sub])


def analyse_primary(stratum: Stratum, contrasts: Records | pd.DataFrame, rates: Records | pd.DataFrame, spec,
                    settings: ModelSettings, roles: dict, *,
                    layers: tuple[str, ...] = EVIDENCE_LAYERS, networks=None) -> StratumResult:
    """``analyse_stratum(stratum, contrasts, rates, ..., primary_only=True)`` of the records
    (see the module docstring). ``networks``: a cache of network fits shared by calls (an object
    with ``lookup(key)`` and ``store(key, value)``, e.g. a dict-like LRU); the layers then hold no
    NetworkResult (``network=None``), all else equal."""
    contrasts = contrasts if isinstance(contrasts, Records) else Records(contrasts)
    rates = rates if isinstance(rates, Records) else Records(rates)
    declared = tuple(x for x in EVIDENCE_LAYERS if x in layers)
    if not all(layer_of(d) in declared for d in contrasts.labels("design")) or \
            (len(rates) and "single_arm" not in declared):
        return analyse_stratum(stratum, contrasts.frame(), rates.frame(), spec, settings, roles, layers=layers,
                               primary_only=True)
    results: list[LayerResult] = []
    if len(contrasts):
        layer_of_row = contrasts.labels("layer")
        for layer in LAYER_ORDER[:-1]:
            at = [i for i, x in enumerate(layer_of_row) if x == layer]
            if at:
                results.append(_comparative(_layer_rows(contrasts, np.array(at, dtype=np.intp)), layer, spec.measure,
                                            spec.small_values, settings, roles, counts_only=True, networks=networks))
                break
    if len(rates) and not results:
        results.append(_single_arm(rates.frame(), settings))
    return StratumResult(stratum, spec.measure, tuple(results), (), declared, ())


def _layer_rows(records: Records, sub: np.ndarray) -> _Rows:
    """What ``_rows_of(records.frame(sub))`` gives (the rows of one layer), from the columns."""
    table = records.table
    arm = [c for c in ARM_COLUMNS if c in table.columns and not pd.isna(records.values(c, sub)).any()]
    return _Rows(records.labels("study", sub), records.labels("treat1", sub), records.labels("treat2", sub),
                 records.values("effect", sub), records.values("se", sub), _BASE_COLUMNS + arm,
                 contrast_input(table, None, "network")[1], lambda: records.frame(sub))
