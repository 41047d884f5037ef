"""Validation and preparation of contrast-level input for the network fit (public boundary).

Follows netmeta 2.9-0 (netmeta.R sections 2-5, chkmultiarm.R): treatments are ordered as R's
``sort()`` orders labels, every comparison is oriented so that treat1 sorts before treat2 (TE
negated where swapped), comparisons with missing TE / seTE or seTE <= 0 are dropped with a
warning, and multi-arm studies must supply all k(k-1)/2 consistent comparisons.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ..effects.contrasts import Contrasts
from ..effects.registry import get_measure
from ..errors import DataError, ParameterError, Problem
from .kernel import multiarm_blocks, pairs
from .notices import DroppedComparisonWarning
from .._collate import collate_key

__all__ = ["Prepared", "prepare_contrasts", "prepare_rows", "has_arm_level", "arm_level_columns",
           "collate_key", "contrast_input"]

REQUIRED = ("study", "treat1", "treat2", "effect", "se")
ALIASES = {"studlab": "study", "TE": "effect", "seTE": "se", "yi": "effect", "sei": "se"}
TOL_MULTIARM = 0.001  # netmeta tol.multiarm




@dataclass(frozen=True, slots=True)
class Prepared:
    """Analysis rows of one (sub-)network, in input order, oriented treat1 < treat2."""

    treatments: tuple[str, ...]
    studies: tuple[str, ...]      # study labels in order of first appearance
    study: np.ndarray             # int code per row (index into studies)
    t1: np.ndarray
    t2: np.ndarray
    te: np.ndarray
    se: np.ndarray
    source_row: np.ndarray        # position of the row in the caller's table
    #: multi-arm covariance in the REML model (netmeta: only when arm-level columns are given)
    covariance: bool = True

    @property
    def n(self) -> int:
        return len(self.treatments)

    def subset(self, rows: np.ndarray) -> "Prepared":
        """Rows ``rows`` (sorted positions) with treatments and studies re-indexed."""
        used = np.unique(np.r_[self.t1[rows], self.t2[rows]])
        remap = np.full(self.n, -1)
        remap[used] = np.arange(len(used))
        codes, uniq = pd.factorize(self.study[rows])
        return Prepared(tuple(self.treatments[i] for i in used),
                        tuple(self.studies[i] for i in uniq), codes.astype(np.int64),
                        remap[self.t1[rows]], remap[self.t2[rows]], self.te[rows], self.se[rows],
                        self.source_row[rows], self.covariance)


def _frame(contrasts, caller: str) -> pd.DataFrame:
    if not isinstance(contrasts, pd.DataFrame):
        raise ParameterError(f"The 'contrasts' parameter of {caller} must be a pandas DataFrame "
                             f"with columns {list(REQUIRED)}. Got {type(contrasts).__name__} instead.")
    df = contrasts.rename(columns={k: v for k, v in ALIASES.items()
                                   if k in contrasts.columns and v not in contrasts.columns})
    var = next((c for c in ("variance", "vi") if c in df.columns), None)
    if "se" not in df.columns and var is not None:   # effect_sizes output: se = sqrt(variance)
        v = pd.to_numeric(df[var], errors="coerce")
        df = df.assign(se=np.sqrt(v.where(v >= 0)))  # a negative variance is missing, dropped with a warning
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataError([Problem("required column missing", column=c, expected=f"columns {list(REQUIRED)}")
                         for c in missing])
    return df


def _labels(values: pd.Series) -> np.ndarray:
    """Labels as stripped strings (netmeta removes surrounding white space); None if missing."""
    out = np.empty(len(values), dtype=object)
    out[:] = [None if pd.isna(v) else str(v).strip() for v in values.tolist()]
    return out


def _check_pairs(study, t1, t2, after_drop: bool) -> list[Problem]:
    """Every study must give each pair of its k treatments exactly once (netmeta's
    "wrong number of comparisons" and chkmultiarm checks), vectorised over studies."""
    codes, uniq = pd.factorize(pd.Series(study, dtype=object))
    tcode, _ = pd.factorize(pd.Series(np.r_[t1, t2], dtype=object))
    a, b = tcode[: len(t1)], tcode[len(t1):]
    rows = np.bincount(codes, minlength=len(uniq))
    ends = np.unique(np.c_[np.r_[codes, codes], np.r_[a, b]], axis=0)
    arms = np.bincount(ends[:, 0], minlength=len(uniq))
    pairs = np.unique(np.c_[codes, np.minimum(a, b), np.maximum(a, b)], axis=0)
    distinct = np.bincount(pairs[:, 0], minlength=len(uniq))
    bad = np.flatnonzero((rows != arms * (arms - 1) // 2) | (distinct != rows))
    problems = []
    for s in bad:
        sel = codes == s
        found = sorted(tuple(sorted((x, y))) for x, y in zip(t1[sel], t2[sel]))
        what = ("after dropping comparisons with a missing effect or a missing/zero se, "
                if after_drop else "")
        k = int(arms[s])
        problems.append(Problem(
            f"{what}a study with {k} treatments needs all {k * (k - 1) // 2} pairwise comparisons "
            f"exactly once", study=str(uniq[s]), found=f"{int(rows[s])} rows: {found}",
            expected="every pair of the study's treatments once (two-arm: 1; three-arm: 3; four-arm: 6)",
            hint="add the missing comparisons or remove the study"))
    return problems


@lru_cache(maxsize=64)
def _pair_projection(k: int) -> np.ndarray:
    """``B B⁺`` for the pair-difference design B of k arms (row p = pair (i, j): +1 at i, -1 at j):
    the projection onto effects that are differences of arm values (once per k, read-only)."""
    i, j, _ = pairs(k)
    B = np.zeros((len(i), k))
    B[np.arange(len(i)), i] = 1.0
    B[np.arange(len(i)), j] = -1.0
    proj = B @ np.linalg.pinv(B)
    proj.flags.writeable = False
    return proj


def _check_consistency(prep: Prepared, found: list | None = None) -> list[Problem]:
    """Multi-arm effects must be differences of arm values (netmeta chkmultiarm, tol 0.001).
    ``found``: a list that receives the multi-arm blocks (``multiarm_blocks``) checked."""
    problems: list[Problem] = []
    if len(prep.study) == len(prep.studies):     # one row per study: no multi-arm study to check
        return problems
    blocks = multiarm_blocks(prep.study, prep.t1, prep.t2)
    if found is not None:
        found.extend(blocks)
    for blk in blocks:
        proj = _pair_projection(blk.k)
        te = prep.te[blk.rows]                       # (s, p), oriented low arm vs high arm
        resid = te - te @ proj.T
        for s, r in zip(blk.studies, np.abs(resid).max(axis=1)):
            if r > TOL_MULTIARM:
                problems.append(Problem("effects of a multi-arm study are inconsistent "
                                        "(effect A-C must equal A-B plus B-C)",
                                        study=prep.studies[s], found=f"largest residual {r:.6g}",
                                        expected=f"residuals <= {TOL_MULTIARM}"))
    return problems


def _table_of_pairs(con: Contrasts) -> pd.DataFrame:
    """Every pair of an arms_to_contrasts result in netmeta's order; the pairs that could not be
    estimated enter with a missing effect, as netmeta sees them (and are reported as excluded)."""
    table = con.all.copy()
    if "reason" in table.columns:
        table.loc[table["reason"].astype(str) != "", "effect"] = np.nan
        table = table.drop(columns="reason")
    rename = {"events1": "event1", "events2": "event2"}
    return table.rename(columns={k: v for k, v in rename.items() if k in table.columns})


def contrast_input(contrasts, measure, caller: str = "network"):
    """The contrast table and its measure: an explicit ``measure`` must agree with the one the
    table carries (``attrs["measure"]`` of effect_sizes / arms_to_contrasts output, or a Contrasts)."""
    attached: str | None
    if isinstance(contrasts, Contrasts):
        attached, contrasts = contrasts.measure, _table_of_pairs(contrasts)
    else:
        attached = contrasts.attrs.get("measure") if isinstance(contrasts, pd.DataFrame) else None
    if measure is not None and attached is not None and \
            get_measure(measure, caller=caller).code != get_measure(attached, caller=caller).code:
        raise ParameterError(f"{caller}: measure={measure!r} but the contrasts were computed as {attached!r}.")
    chosen = measure if measure is not None else attached
    return contrasts, None if chosen is None else get_measure(chosen, caller=caller).code


def has_arm_level(df: pd.DataFrame) -> bool:
    """netmeta's rule for the REML within-study covariance of multi-arm studies: it is used when
    the contrasts carry arm-level columns -- sample sizes ``n1``, ``n2`` and events, person-time
    or SDs (netmeta's ``event1``/``event2``, netstrata's ``events1``/``events2``, ``time1``/``time2``,
    ``sd1``/``sd2``), as a table from ``pairwise()`` / :func:`arms_to_contrasts` does -- and not
    for contrasts alone (netmeta.R 2.9-0: ``available.n & (available.events | available.times |
    available.sds)``, then ``calcV``; else ``V = seTE^2``)."""
    return arm_level_columns(df.columns)


def arm_level_columns(columns) -> bool:
    """:func:`has_arm_level` of a table with these ``columns``."""
    cols = set(columns)
    pairs = (("event1", "event2"), ("events1", "events2"), ("time1", "time2"), ("sd1", "sd2"))
    return {"n1", "n2"} <= cols and any(set(p) <= cols for p in pairs)


def prepare_contrasts(contrasts, caller: str = "network") -> tuple[Prepared, pd.DataFrame]:
    """Validate ``contrasts`` and return the analysis rows and the register of dropped rows."""
    df = _frame(contrasts, caller)
    study, a, b = _labels(df["study"]), _labels(df["treat1"]), _labels(df["treat2"])
    te = pd.to_numeric(df["effect"], errors="coerce").to_numpy(float)
    se = pd.to_numeric(df["se"], errors="coerce").to_numpy(float)
    problems = [Problem("missing label", row=int(i) + 2, column=c, study=None if c == "study" else study[i])
                for c, v in (("study", study), ("treat1", a), ("treat2", b))
                for i in np.flatnonzero(pd.isna(v))]
    same = np.flatnonzero(a == b)
    problems += [Problem("a comparison must involve two different treatments", row=int(i) + 2,
                         study=study[i], found=a[i]) for i in same]
    if problems:
        raise DataError(problems)
    problems = _check_pairs(study, a, b, False)
    if problems:
        raise DataError(problems)
    bad = ~np.isfinite(te) | ~np.isfinite(se) | ~(se > 0)
    excluded = pd.DataFrame({"row": np.flatnonzero(bad), "study": study[bad], "treat1": a[bad],
                             "treat2": b[bad], "effect": te[bad], "se": se[bad],
                             "reason": "missing effect or missing/zero se (dropped as netmeta does)"})
    if bad.any():
        warnings.warn(f"{int(bad.sum())} comparison(s) with a missing effect or a missing/zero se were "
                      f"left out (studies: {', '.join(sorted(set(study[bad])))}); see .excluded.",
                      DroppedComparisonWarning, stacklevel=3)
    keep = np.flatnonzero(~bad)
    if len(keep) == 0:
        raise DataError(Problem("no comparison has both an effect and a positive se",
                                expected="at least one usable comparison"))
    study, a, b, te, se = study[keep], a[keep], b[keep], te[keep], se[keep]
    problems = _check_pairs(study, a, b, True)
    if problems:
        raise DataError(problems)
    treatments = tuple(sorted(set(a) | set(b), key=collate_key))
    index = pd.Index(treatments, dtype=object)
    i1 = index.get_indexer(pd.Index(a, dtype=object)).astype(np.int64)
    i2 = index.get_indexer(pd.Index(b, dtype=object)).astype(np.int64)
    swap = i1 > i2
    codes, uniq = pd.factorize(pd.Series(study, dtype=object))
    prep = Prepared(treatments, tuple(uniq), codes.astype(np.int64), np.where(swap, i2, i1),
                    np.where(swap, i1, i2), np.where(swap, -te, te), se, keep, has_arm_level(df))
    problems = _check_consistency(prep)
    if problems:
        raise DataError(problems)
    return prep, excluded


def prepare_rows(study, treat1, treat2, effect, se, *, covariance: bool, blocks: list | None = None) -> Prepared | None:
    """:func:`prepare_contrasts` of rows a caller built and checked itself (label lists, float
    arrays), without the DataFrame round trip: the same :class:`Prepared`, field for field.

    Returns None when a row would be dropped (missing effect, se <= 0) or a check would fail
    (missing or identical labels, incomplete or inconsistent multi-arm studies): the caller then
    calls :func:`prepare_contrasts`, which warns or raises with its message. ``blocks``: a list
    that receives the multi-arm blocks of the result (for :func:`~netstrata.nma.network.network_prepared`,
    which then does not search them again).
    """
    te, se = np.asarray(effect, dtype=float), np.asarray(se, dtype=float)
    if not (np.isfinite(te).all() and np.isfinite(se).all() and (se > 0).all()):
        return None
    labels = (study, treat1, treat2)
    if not all(type(v) is str for col in labels for v in col):
        return None
    study, a, b = ([v.strip() for v in col] for col in labels)
    if any(x == y for x, y in zip(a, b)) or not _pairs_complete(study, a, b):
        return None
    treatments = tuple(sorted(set(a) | set(b), key=collate_key))
    pos = {t: i for i, t in enumerate(treatments)}
    i1 = np.array([pos[x] for x in a], dtype=np.int64)
    i2 = np.array([pos[x] for x in b], dtype=np.int64)
    swap = i1 > i2
    first: dict[str, int] = {}
    codes = np.array([first.setdefault(x, len(first)) for x in study], dtype=np.int64)
    prep = Prepared(treatments, tuple(first), codes, np.where(swap, i2, i1), np.where(swap, i1, i2),
                    np.where(swap, -te, te), se, np.arange(len(te), dtype=np.int64), covariance)
    return None if _check_consistency(prep, blocks) else prep


def _pairs_complete(study, a, b) -> bool:
    """What :func:`_check_pairs` checks: every study gives each pair of its k treatments once."""
    rows: dict[str, list] = {}
    for s, x, y in zip(study, a, b):
        rows.setdefault(s, []).append((x, y) if x < y else (y, x))
    for pairs in rows.values():
        k = len({t for p in pairs for t in p})
        if len(pairs) != k * (k - 1) // 2 or len(set(pairs)) != len(pairs):
            return False
    return True
