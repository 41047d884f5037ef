"""Run multiverse specifications fast: shared work is done once per process and reused.

A specification is (node level, design, time window, mixed-duration rule) plus three study
filters. :class:`SpecRunner` splits the work accordingly:

* the *base* records of the first four choices (:func:`~netstrata.synthesis.records.prepare`
  with every filter at ``"any"``) are prepared once per node level, time window and
  mixed-duration rule; the design choice only sets each contrast's evidence ``layer``;
* the filters (and the prospective-only choice) only decide which studies are dropped (as
  :mod:`~netstrata.synthesis.filters` decides, each filter evaluated once); a specification's records are the base records of the studies kept.
  This equals ``prepare(review, choices)`` because every record is built from its own study's
  rows alone (checked for every specification of the bundled examples in the tests);
* specifications whose records are identical (same node level, same base records, same studies
  dropped: e.g. a time-window rule that picks the same time points, or a filter that drops
  nothing more) share their curve rows outright;
* each stratum's primary layer is analysed (``analyse_stratum(..., primary_only=True)``) and
  memoised by the exact content of its input rows, so two specifications that give a stratum the
  same records (a filter that drops studies of other strata only, a time-window rule that picks
  the same time points) share one fit. The memo holds specification-curve inputs only (no
  network objects) and is bounded (least recently used entries are dropped).

Everything is a pure function of its inputs, so results do not depend on which process ran a
specification or in which order: the rows equal those of a plain serial run, bit for bit.
"""
from __future__ import annotations

import struct
import threading
from collections import OrderedDict
from dataclasses import replace

import numpy as np
import pandas as pd

from .primary import Records, analyse_primary
from .choices import Choices, layer_of, node_translation
from .filters import (
    FIDELITY_COLUMNS,
    arms_with_fidelity,
    choice_filter,
    not_prospective,
    passes,
    studies_with_rob,
)
from .records import prepare
from .stratify import analyse_strata

__all__ = ["SpecRunner", "RowIds", "BASE_FIELDS", "FILTER_FIELDS", "curve_rows"]

BASE_FIELDS = ("node_level", "design", "time_window", "mixed_duration")
FILTER_FIELDS = ("selection", "risk_of_bias", "fidelity", "data_collection")
_COLUMN_FILTERS = ("selection", "risk_of_bias", "fidelity")


class _LRU(OrderedDict):
    """A dict that forgets its least recently used entries beyond a total ``size`` (each entry
    weighs ``weight(value)``, by default 1)."""

    def __init__(self, size: int, weight=None):
        super().__init__()
        self.size, self.weight, self.total = size, weight or (lambda v: 1), 0

    def lookup(self, key):
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def store(self, key, value):
        self[key] = value
        self.total += self.weight(value)
        while self.total > self.size and len(self) > 1:
            _, old = self.popitem(last=False)
            self.total -= self.weight(old)
        return value


def _cell_key(v):
    """An exact, hashable form of one cell: equal keys only for equal values of the same type
    (floats by their bits, so NaN matches NaN and -0.0 differs from 0.0; tuples cell by cell)."""
    t = type(v)
    if t is float:
        return (float, _FLOAT_BITS.unpack(_FLOAT.pack(v))[0])
    if t is tuple:
        return (tuple, tuple(_cell_key(x) for x in v))
    if isinstance(v, np.generic):       # a NumPy scalar: its type and bytes
        return (t, v.tobytes())
    return (t, v)


_FLOAT, _FLOAT_BITS = struct.Struct("<d"), struct.Struct("<q")


def _column_cells(col: pd.Series) -> list:
    """:func:`_cell_key` of every cell of ``col``; NumPy numeric columns without a call per cell
    (the column's dtype is part of the table's schema)."""
    dtype = col.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return col.to_numpy().tolist()
    if isinstance(dtype, np.dtype) and dtype.kind == "f":      # bits: NaN matches NaN, -0.0 is not 0.0
        return np.ascontiguousarray(col.to_numpy(), dtype=np.float64).view(np.int64).tolist()
    return [_cell_key(v) for v in col.tolist()]


class RowIds:
    """Interned rows: :meth:`of` numbers each row of a table by its exact content (the table's
    columns and dtypes and the row's cells, :func:`_cell_key`), the same number for equal rows
    of any table. A memo keyed by row numbers never confuses two different rows (rows that are
    equal but built differently only get different numbers: a memo miss, never a wrong hit)."""

    def __init__(self):
        self._ids: dict = {}

    @staticmethod
    def schema(frame: pd.DataFrame) -> tuple:
        """The columns of ``frame`` and their dtypes."""
        return tuple((c, str(frame[c].dtype)) for c in frame.columns)

    def of(self, frame: pd.DataFrame) -> np.ndarray:
        schema = self.schema(frame)
        cells = [_column_cells(frame[c]) for c in frame.columns]
        ids = self._ids
        rows = zip(*cells) if cells else ((),) * len(frame)
        return np.fromiter((ids.setdefault((schema, row), len(ids)) for row in rows), dtype=np.int64,
                           count=len(frame))

    def table_key(self, frame: pd.DataFrame) -> tuple:
        """The exact content of ``frame`` (columns, dtypes and rows in order) as a hashable key."""
        return self.schema(frame), tuple(self.of(frame).tolist())


class SpecRunner:
    """Turns a :class:`~netstrata.synthesis.multiverse.Specification` into its curve rows.

    Parameters
    ----------
    review : Review
        The canonical review (:func:`~netstrata.synthesis.canonical.canonical_review`).
    settings, variables, primary_level, evidence :
        As :func:`~netstrata.synthesis.multiverse.run_multiverse` passes them.
    memo_size, spec_memo_size : int
        Comparisons (stratum memo) and curve rows (specification memo) kept in memory; the least
        recently used entries are dropped beyond that (about 100 MB each when full).
    networks : int
        Network fits kept (their league tables; :func:`~netstrata.synthesis.primary.analyse_primary`).
    """

    def __init__(self, review, settings, variables: tuple, primary_level, evidence=None, *,
                 memo_size: int = 200_000, spec_memo_size: int = 200_000, bases: int = 64, networks: int = 4096):
        self.review, self.settings, self.variables = review, settings, tuple(variables)
        self.primary_level, self.evidence = primary_level, evidence
        self._bases = _LRU(bases)
        self._prepared = _LRU(bases)
        self._selected: dict = {}     # record selection per (time window, mixed-duration rule)
        self._dropped: dict = {}
        self._strata: dict = {}
        self._translate: dict = {}
        self._memo = _LRU(memo_size, lambda res: 1 + sum(len(lay.comparisons) for lay in res.layers))
        self._specs = _LRU(spec_memo_size, len)
        self._failing: dict = {}
        self._derived: dict = {}
        self._contents: dict = {}
        self._row_ids = RowIds()
        self._networks = _LRU(networks)      # network fits by exact input (analyse_primary)
        self.fits = 0            # stratum analyses actually run (memo misses)
        self._lock = threading.Lock()   # one specification at a time (threads of a Dask worker)

    # -- shared pieces ------------------------------------------------------------------
    def _records(self, choices: Choices):
        """prepare() of the node level, time window and mixed-duration rule (design: randomised;
        the design choice only sets the ``layer`` column, see :meth:`base`)."""
        key = (choices.node_level, choices.time_window, choices.mixed_duration)
        hit = self._prepared.lookup(key)
        if hit is None:
            hit = self._prepared.store(key, prepare(self.review, replace(
                choices, design="randomised", **{f: "any" for f in FILTER_FIELDS}), selected=self._selected))
        return hit

    def base(self, choices: Choices):
        key = tuple(getattr(choices, f) for f in BASE_FIELDS)
        hit = self._bases.lookup(key)
        if hit is None:
            prepared = self._records(choices)
            if choices.design != "randomised" and len(prepared.contrasts):
                con = prepared.contrasts.assign(layer=[layer_of(d, choices.design)
                                                       for d in prepared.contrasts["design"]])
                prepared = replace(prepared, choices=choices, contrasts=con)
            ids = (self._row_ids.of(prepared.contrasts), self._row_ids.of(prepared.rates))
            content = (prepared.node_level, *(RowIds.schema(f) for f in (prepared.contrasts, prepared.rates)),
                       *(tuple(i.tolist()) for i in ids))
            ident = self._contents.setdefault(content, len(self._contents))
            studies = frozenset(prepared.contrasts["study"]) | frozenset(prepared.rates["study"])
            hit = self._bases.store(key, (prepared, ident, studies, ids))
        return hit

    def dropped(self, choices: Choices) -> frozenset:
        """Studies the specification leaves out (as :func:`~netstrata.synthesis.filters.filtered_out`
        and :func:`~netstrata.synthesis.filters.not_prospective`: a study is dropped when it fails
        any filter), each filter evaluated once, each derived column (fidelity tiers, overall risk
        of bias) computed once."""
        key = tuple(getattr(choices, f) for f in FILTER_FIELDS)
        if key not in self._dropped:
            fails = [self._fails(getattr(choices, f)) for f in _COLUMN_FILTERS]
            self._dropped[key] = frozenset().union(*fails, not_prospective(self.review, choices))
        return self._dropped[key]

    def _fails(self, text: str) -> frozenset:
        if text not in self._failing:
            f = choice_filter(text)
            arms, studies = self.review.arms, self.review.studies
            if f.column in FIDELITY_COLUMNS and f.column not in arms.columns:
                if self._derived.get("arms") is None:
                    self._derived["arms"] = arms_with_fidelity(self.review)
                arms = self._derived["arms"]
            if f.column == "rob_overall" and f.column not in studies.columns:
                if self._derived.get("studies") is None:
                    self._derived["studies"] = studies_with_rob(self.review)
                studies = self._derived["studies"]
            self._failing[text] = frozenset(s for s, ok in passes(studies, arms, f).items() if not ok)
        return self._failing[text]

    def prepared(self, choices: Choices):
        """``prepare(review, choices)`` for the analysis (records of the kept studies)."""
        return self._kept(choices)[0]

    def _kept(self, choices: Choices):
        """(:meth:`prepared`, row numbers (:class:`RowIds`) of its contrasts and of its rates)."""
        base, _, _, (con_ids, rate_ids) = self.base(choices)
        drop = self.dropped(choices)
        if not drop:
            return replace(base, choices=choices), con_ids, rate_ids
        con, rates = base.contrasts, base.rates
        keep_con, keep_rates = ~con["study"].isin(drop).to_numpy(), ~rates["study"].isin(drop).to_numpy()
        return (replace(base, choices=choices, contrasts=con[keep_con].reset_index(drop=True),
                        rates=rates[keep_rates].reset_index(drop=True)), con_ids[keep_con], rate_ids[keep_rates])

    def translation(self, level) -> dict | None:
        if level == self.primary_level:
            return None
        if level not in self._translate:
            self._translate[level] = node_translation(self.review.node_map(self.primary_level),
                                                      self.review.node_map(level))
        return self._translate[level]

    # -- memoised stratum analysis --------------------------------------------------------
    def _analyse(self, prepared, con_ids: np.ndarray, rate_ids: np.ndarray):
        """The memoised :func:`~netstrata.synthesis.primary.analyse_primary` of one
        specification's ``prepared`` records, whose rows have the numbers ``con_ids`` and
        ``rate_ids`` (:class:`RowIds`): called by :func:`~netstrata.synthesis.stratify.analyse_strata`
        with the positions of a stratum's rows, it is keyed by their numbers (their exact content)."""
        level = prepared.node_level
        con_cols: dict = {}
        rate_cols: dict = {}

        def analyse(stratum, con_at, rate_at, spec, settings, roles, *, layer_spec=None, layers=()):
            key = (level, stratum, spec.id, tuple(layers), layer_spec,
                   tuple(con_ids[con_at].tolist()), tuple(rate_ids[rate_at].tolist()))
            hit = self._memo.lookup(key)
            if hit is None:
                self.fits += 1
                res = analyse_primary(stratum, Records(prepared.contrasts, con_at, con_cols),
                                      Records(prepared.rates, rate_at, rate_cols), spec, settings, roles,
                                      layers=layers, networks=self._networks)
                slim = tuple(replace(lay, network=None, pairwise=()) for lay in res.layers)
                hit = self._memo.store(key, replace(res, layers=slim))
            return hit
        return analyse

    # -- one specification ----------------------------------------------------------------
    def rows(self, spec) -> list[tuple]:
        """The specification-curve rows of ``spec`` (see :func:`curve_rows`)."""
        with self._lock:
            return self._rows(spec)

    def _rows(self, spec) -> list[tuple]:
        _, ident, studies, _ = self.base(spec.choices)
        key = (spec.choices.node_level, ident, self.dropped(spec.choices) & studies)
        rows = self._specs.lookup(key)
        if rows is None:
            rows = self._specs.store(key, self._analyse_spec(spec))
        return [(spec.index, *r[1:]) for r in rows]

    def _analyse_spec(self, spec) -> list[tuple]:
        prepared, con_ids, rate_ids = self._kept(spec.choices)
        split, lumped = analyse_strata(self.review, prepared, self.settings, self.variables,
                                       evidence=self.evidence, strata_cache=self._strata,
                                       analyse=self._analyse(prepared, con_ids, rate_ids), positions=True)
        translate = self.translation(spec.choices.node_level)
        roles = dict(prepared.roles)
        if translate is not None:
            roles.update({translate[n]: r for n, r in prepared.roles.items() if n in translate})
        return curve_rows(spec.index, split, lumped, translate, roles)


def _key(a: str, b: str, roles) -> tuple[str, str, bool]:
    """(treat1, treat2, swapped) in the records' orientation: active first, then by name."""
    ka, kb = (roles.get(a) != "active", a), (roles.get(b) != "active", b)
    return (b, a, True) if ka > kb else (a, b, False)


def curve_rows(spec_index: int, split, lumped, translate=None, roles=None) -> list[tuple]:
    """Specification-curve rows of one specification's results (primary layer of each stratum).

    Comparisons are keyed by primary-level nodes (``translate``) so that a lumping-level
    sensitivity analysis is compared with the primary one: a finer comparison whose nodes map to
    the primary comparison A vs B is a row of A vs B (oriented as A vs B, sign flipped if needed);
    ``node1``/``node2`` keep the specification's own nodes. A comparison within one primary node
    keeps its own names. Counts and estimates are Python int and float (no NumPy scalars).
    """
    translate, roles = translate or {}, roles or {}
    rows = []
    for res in (*split, *lumped):
        lay = res.primary
        if lay is None:
            continue
        name, outcome, layer = res.name, res.stratum.outcome, lay.layer
        for c in lay.comparisons:
            p1, p2 = translate.get(c.treat1, c.treat1), translate.get(c.treat2, c.treat2)
            e, lo, hi, swap = c.estimate, c.ci_low, c.ci_high, False
            if p1 == p2:
                p1, p2 = c.treat1, c.treat2
            else:
                p1, p2, swap = _key(p1, p2, roles)
            if swap:
                e, lo, hi = -e, -hi, -lo
            rows.append((spec_index, f"{name} : {p1} vs {p2}", name, outcome, layer, p1, p2, c.treat1, c.treat2,
                         c.measure, int(c.k), c.source, float(e), float(c.se), float(lo), float(hi)))
    return rows
