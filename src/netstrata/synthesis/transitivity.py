"""Transitivity workbench: effect modifiers per direct comparison, imbalance measures and flags.

Transitivity (Cochrane Handbook ch. 11) asks whether the studies of each direct comparison are,
on average, similar in the factors that modify relative effects. For every direct comparison
this module tabulates each declared modifier (categorical: share of studies per level;
continuous: mean, SD, min, max, n), measures how far the comparison sits from the whole network
and flags it against thresholds set in the plan:

- categorical: total-variation distance ``TVD_c = 1/2 * sum_l |p_cl - p_l|`` between the
  comparison's distribution and the network's (every study counted once); flag if TVD > ``tvd``
  (default 0.25). Network level: Cramér's V of the comparison x level table with its chi-square
  p-value (comparison-study rows; a multi-arm study counts in each of its comparisons, so the test
  is approximate); flag if V > ``cramers_v`` (default 0.3);
- continuous: standardised mean difference ``SMD_c = (mean_c - mean) / SD`` against the
  network's mean and SD (every study once); flag if |SMD| > ``smd`` (default 0.5). Network level:
  the largest |SMD|.

The defaults are conventions, not evidence: a survey of 268 GRADE-NMA reviews found that none set
a threshold for a meaningful imbalance (domain brief D1). Set yours in the plan,
``[certainty.transitivity]`` (or a top-level ``[transitivity]`` table if the plan allows it):
``modifiers = [...]``, ``tvd = 0.2``, ``smd = 0.3``, ``cramers_v = 0.25``. Missing cells are left
out (counted in ``n_missing``); ``NR`` and ``unclear`` are kept as levels of a categorical
modifier, because unclear reporting is itself unevenly spread across comparisons.

References
----------
Chaimani A et al. Undertaking network meta-analyses. Cochrane Handbook ch. 11 (2023).
Salanti G (2012). Indirect and mixed-treatment comparison, network, or multiple-treatments
meta-analysis. Res Synth Methods 3:80-97. doi:10.1002/jrsm.1037
Cramér H (1946). Mathematical Methods of Statistics. Princeton University Press.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

from .._dist import chi2_sf
from .._summary import Summary
from .._validate import check_option
from ..data.plan import unknown_keys
from ..errors import DataError, ParameterError, Problem

__all__ = ["TransitivityResult", "transitivity", "transitivity_from_review", "DEFAULT_THRESHOLDS", "KINDS",
           "comparison_key", "NETWORK"]

#: Default imbalance thresholds (see module notes: conventions, to be set in the plan).
DEFAULT_THRESHOLDS = MappingProxyType({"tvd": 0.25, "smd": 0.5, "cramers_v": 0.3})
KINDS = ("categorical", "continuous")
#: Label of the rows describing the whole network.
NETWORK = "(network)"
TABLE_COLUMNS = ["comparison", "modifier", "kind", "statistic", "value", "measure", "imbalance", "flag", "threshold"]
IMBALANCE_COLUMNS = ["comparison", "modifier", "kind", "n", "n_missing", "measure", "imbalance", "threshold", "flag"]
NETWORK_COLUMNS = ["modifier", "kind", "comparisons", "measure", "value", "chi2", "df", "pvalue", "threshold", "flag"]
_MISSING = ("", "nan", "None")


def comparison_key(treat1, treat2) -> str:
    """Order-free label of a comparison, ``"A:B"`` with A <= B (netmeta's ``A:B`` style)."""
    a, b = sorted((str(treat1), str(treat2)))
    return f"{a}:{b}"


# ---------------------------------------------------------------- kernels (arrays in, numbers out)
def tvd(p: np.ndarray, q: np.ndarray) -> float:
    """Total-variation distance 1/2 * sum |p - q| of two distributions over the same levels."""
    return float(0.5 * np.abs(p - q).sum())


def cramers_v(counts: np.ndarray) -> tuple[float, float, int, float]:
    """Cramér's V, chi-square, df, p of an r x c table: V = sqrt(chi2 / (N (min(r, c) - 1)))."""
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    r, c = counts.shape
    if r < 2 or c < 2:
        return 0.0, 0.0, 0, 1.0
    n = counts.sum()
    expected = counts.sum(axis=1, keepdims=True) * counts.sum(axis=0, keepdims=True) / n
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    df = (r - 1) * (c - 1)
    return math.sqrt(chi2 / (n * (min(r, c) - 1))), chi2, df, float(chi2_sf(chi2, df))


def smd(values: np.ndarray, mean: float, sd: float) -> float:
    """Standardised difference of a comparison's mean from the network mean, in network SDs."""
    if values.size == 0:
        return float("nan")
    diff = float(values.mean()) - mean
    return 0.0 if diff == 0 else (diff / sd if sd > 0 else math.copysign(math.inf, diff))


# ---------------------------------------------------------------- result
@dataclass(frozen=True, slots=True, eq=False)
class TransitivityResult:
    """Effect-modifier distributions per comparison, imbalance and flags (thresholds recorded).

    ``table``: tidy rows (comparison, modifier, kind, statistic = level or mean/sd/min/max/n/
    n_missing, value, measure, imbalance, flag, threshold), with ``(network)`` rows for the whole
    network. ``imbalance``: one row per comparison x modifier. ``network``: one row per modifier
    (Cramér's V with chi-square p, or the largest |SMD|).
    """

    table: pd.DataFrame
    imbalance: pd.DataFrame
    network: pd.DataFrame
    modifiers: Mapping[str, str]
    thresholds: Mapping[str, float]
    threshold_source: str

    @property
    def flagged(self) -> pd.DataFrame:
        """Comparison x modifier rows over their threshold."""
        return self.imbalance[self.imbalance["flag"]].reset_index(drop=True)

    @property
    def comparisons(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.imbalance["comparison"]))

    def flags_for(self, comparison: str) -> tuple[str, ...]:
        """Modifiers flagged for one comparison (for the certainty layer's indirectness domain)."""
        f = self.flagged
        return tuple(f.loc[f["comparison"] == comparison, "modifier"])

    def summary(self) -> Summary:
        frame = self.imbalance.pivot(index="comparison", columns="modifier", values="imbalance")
        frame["flagged"] = [", ".join(self.flags_for(c)) for c in frame.index]
        th = ", ".join(f"{k} > {v:g}" for k, v in self.thresholds.items())
        notes = (f"Imbalance: TVD for categorical, SMD for continuous modifiers; flags at {th} "
                 f"({self.threshold_source}).",
                 *(f"{r.modifier}: {r.measure} {r.value:.3f}" + (f", chi2 p = {r.pvalue:.3g}" if r.kind == "categorical"
                                                                  else "") + (" [flag]" if r.flag else "")
                   for r in self.network.itertuples()))
        return Summary("Transitivity: effect-modifier imbalance per comparison", frame, notes)

    def __repr__(self) -> str:
        return (f"TransitivityResult(comparisons={len(self.comparisons)}, modifiers={list(self.modifiers)}, "
                f"flagged={len(self.flagged)}, thresholds={dict(self.thresholds)})")


# ---------------------------------------------------------------- boundary
def _kinds(data: pd.DataFrame, modifiers) -> dict[str, str]:
    if isinstance(modifiers, str):
        modifiers = [modifiers]
    spec = dict(modifiers) if isinstance(modifiers, Mapping) else {m: None for m in modifiers}
    if not spec:
        raise ParameterError("The 'modifiers' parameter of transitivity needs at least one column name.")
    out = {}
    for m, kind in spec.items():
        if m not in data.columns:
            raise ParameterError(f"The 'modifiers' parameter of transitivity names column {m!r}, which the table "
                                 f"does not have (columns: {list(data.columns)}).")
        out[m] = check_option(kind, name="modifiers", allowed=KINDS, caller="transitivity") if kind else (
            "continuous" if pd.api.types.is_numeric_dtype(data[m]) and not pd.api.types.is_bool_dtype(data[m])
            else "categorical")
    return out


def _thresholds(thresholds, plan) -> tuple[dict[str, float], str]:
    out, source = dict(DEFAULT_THRESHOLDS), "defaults"
    section = _plan_section(plan)
    if section:
        given = {k: section[k] for k in DEFAULT_THRESHOLDS if k in section}
        out.update(given)
        source = "plan" if given else source
    if thresholds:
        out.update(thresholds)
        source = "argument"
    for k, v in out.items():
        if k not in DEFAULT_THRESHOLDS or isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ParameterError(f"The 'thresholds' of transitivity must map {list(DEFAULT_THRESHOLDS)} to "
                                 f"non-negative numbers. Got {k}={v!r}.")
    return {k: float(v) for k, v in out.items()}, source


PLAN_KEYS = ("modifiers", *DEFAULT_THRESHOLDS)


def _plan_section(plan) -> Mapping:
    """The plan's transitivity table, checked: unknown keys are reported as plan problems."""
    sections = getattr(plan, "sections", None) or {}
    where = "transitivity" if "transitivity" in sections else "certainty.transitivity"
    section = sections["transitivity"] if "transitivity" in sections else \
        (sections.get("certainty", {}) or {}).get("transitivity", {}) or {}
    file = getattr(plan, "source", "") or "netstrata.toml"
    problems = unknown_keys(section, PLAN_KEYS, where, file)
    mods = section.get("modifiers")
    if mods is not None and not (isinstance(mods, list) and all(isinstance(m, str) for m in mods)
                                 or isinstance(mods, Mapping)):
        problems.append(Problem("expected a list of column names or a table column = kind", file=file,
                                column=f"{where}.modifiers", found=mods))
    if problems:
        raise DataError(problems)
    return section


def transitivity(data: pd.DataFrame, modifiers=None, *, comparison: str | None = None, study: str = "study",
                 treat1: str = "treat1", treat2: str = "treat2", thresholds: Mapping[str, float] | None = None,
                 plan=None) -> TransitivityResult:
    """Effect-modifier distribution and imbalance for every direct comparison of a network.

    Parameters
    ----------
    data : DataFrame or Review
        A loaded review (see :func:`transitivity_from_review`), or one row per study comparison
        (or per arm pair), with a study column, a comparison key
        (``comparison`` column, or ``treat1``/``treat2`` from which ``"A:B"`` is built) and the
        study-level modifier columns. Duplicate study x comparison rows are counted once.
    modifiers : list of str or mapping of str -> {"categorical", "continuous"}, optional
        Modifier columns (kind inferred from the dtype when not given); default: the plan's
        ``modifiers``.
    thresholds : mapping, optional
        ``tvd``, ``smd``, ``cramers_v`` (defaults :data:`DEFAULT_THRESHOLDS`, then the plan's).
    plan : Plan, optional
        Analysis plan with a ``[certainty.transitivity]`` (or ``[transitivity]``) table.
    """
    if hasattr(data, "node_map") and hasattr(data, "studies"):       # a loaded Review
        return transitivity_from_review(data, modifiers, thresholds=thresholds)
    if not isinstance(data, pd.DataFrame):
        raise ParameterError("The 'data' parameter of transitivity must be a DataFrame or a loaded Review. "
                             f"Got {type(data).__name__}.")
    modifiers = modifiers if modifiers is not None else _plan_section(plan).get("modifiers")
    if modifiers is None:
        raise ParameterError("The 'modifiers' parameter of transitivity is required (or set "
                             "[certainty.transitivity] modifiers in the plan).")
    kinds = _kinds(data, modifiers)
    limits, source = _thresholds(thresholds, plan)
    frame = _keyed(data, comparison, study, treat1, treat2)
    tables, imbal, net = [], [], []
    groups = _comparison_positions(frame)          # the same for every modifier
    for m, kind in kinds.items():
        fn = _categorical if kind == "categorical" else _continuous
        t, i, n = fn(frame, m, limits, groups)
        tables += t
        imbal += i
        net.append(n)
    return TransitivityResult(table=pd.DataFrame(tables, columns=TABLE_COLUMNS),
                              imbalance=pd.DataFrame(imbal, columns=IMBALANCE_COLUMNS),
                              network=pd.DataFrame(net, columns=NETWORK_COLUMNS),
                              modifiers=MappingProxyType(kinds), thresholds=MappingProxyType(limits),
                              threshold_source=source)


def _keyed(data, comparison, study, treat1, treat2) -> pd.DataFrame:
    if study not in data.columns:
        raise ParameterError(f"The table passed to transitivity has no study column {study!r}.")
    if comparison is not None:
        if comparison not in data.columns:
            raise ParameterError(f"The 'comparison' parameter of transitivity names a missing column {comparison!r}.")
        key = data[comparison].astype(str)
    elif treat1 in data.columns and treat2 in data.columns:
        key = pd.Series([comparison_key(a, b) for a, b in zip(data[treat1], data[treat2])], index=data.index)
    else:
        raise ParameterError("transitivity needs a 'comparison' column or the treatment columns "
                             f"{treat1!r} and {treat2!r}.")
    out = data.assign(_comparison=key.to_numpy(), _study=data[study].astype(str).to_numpy())
    return out.drop_duplicates(["_comparison", "_study"])


def _level(v) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    s = str(v).strip()
    return None if s in _MISSING else s


def _comparison_positions(frame: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """(comparison, row positions) in sorted comparison order: the rows ``.loc`` selects with the
    labels of ``frame.groupby("_comparison").groups``, as positions (no Series per comparison)."""
    return [(comp, frame.index.get_indexer_for(idx))
            for comp, idx in frame.groupby("_comparison", sort=True).groups.items()]


def _categorical(frame: pd.DataFrame, m: str, limits, groups) -> tuple[list, list, dict]:
    vals = frame[m].map(_level)
    per_study = pd.Series(vals.to_numpy(), index=frame["_study"]).groupby(level=0).first().dropna()
    levels = sorted(set(vals.dropna()))
    pooled = per_study.value_counts(normalize=True).reindex(levels, fill_value=0.0).to_numpy()
    table, imbal, counts = [], [], []
    thr = limits["tvd"]
    values, present = vals.to_numpy(object), vals.notna().to_numpy()
    for comp, pos in groups:
        ok = present[pos]
        n = int(ok.sum())
        miss = len(pos) - n
        found = Counter(values[pos][ok].tolist())     # = value_counts() of the comparison's rows
        cnt = np.array([found.get(lv, 0) for lv in levels], dtype=float)
        counts.append(cnt)
        p = cnt / n if n else np.full(len(levels), np.nan)
        d = tvd(p, pooled) if n else float("nan")
        flag = bool(d > thr)
        table += [_row(comp, m, "categorical", lv, float(x), "tvd", d, flag, thr) for lv, x in zip(levels, p)]
        table += [_row(comp, m, "categorical", s, float(x), "tvd", d, flag, thr)
                  for s, x in (("n", n), ("n_missing", miss))]
        imbal.append(dict(comparison=comp, modifier=m, kind="categorical", n=n, n_missing=miss, measure="tvd",
                          imbalance=d, threshold=thr, flag=flag))
    table += [_row(NETWORK, m, "categorical", lv, float(x), "tvd", float("nan"), False, thr)
              for lv, x in zip(levels, pooled)]
    v, chi2, df, pv = cramers_v(np.array(counts)) if counts and levels else (0.0, 0.0, 0, 1.0)
    net = dict(modifier=m, kind="categorical", comparisons=len(counts), measure="cramers_v", value=v, chi2=chi2,
               df=df, pvalue=pv, threshold=limits["cramers_v"], flag=bool(v > limits["cramers_v"]))
    return table, imbal, net


def _describe(x: np.ndarray) -> dict[str, float]:
    n = x.size
    return {"mean": float(x.mean()) if n else math.nan, "sd": float(x.std(ddof=1)) if n > 1 else math.nan,
            "min": float(x.min()) if n else math.nan, "max": float(x.max()) if n else math.nan, "n": float(n)}


def _continuous(frame: pd.DataFrame, m: str, limits, groups) -> tuple[list, list, dict]:
    vals = pd.to_numeric(frame[m], errors="coerce")
    per_study = pd.Series(vals.to_numpy(), index=frame["_study"]).groupby(level=0).first().dropna().to_numpy()
    pooled = _describe(per_study)
    sd = pooled["sd"] if per_study.size > 1 else 0.0
    table, imbal, thr, worst = [], [], limits["smd"], 0.0
    values = vals.to_numpy(dtype=float, na_value=np.nan)
    for comp, pos in groups:
        v = values[pos]
        x = v[~np.isnan(v)]
        missing = int(v.size - x.size)
        d = smd(x, pooled["mean"], sd)
        flag = bool(abs(d) > thr)
        worst = max(worst, abs(d)) if not math.isnan(d) else worst
        stats_ = {**_describe(x), "n_missing": float(missing)}
        table += [_row(comp, m, "continuous", s, val, "smd", d, flag, thr) for s, val in stats_.items()]
        imbal.append(dict(comparison=comp, modifier=m, kind="continuous", n=int(x.size), n_missing=missing,
                          measure="smd", imbalance=d, threshold=thr, flag=flag))
    table += [_row(NETWORK, m, "continuous", s, val, "smd", float("nan"), False, thr) for s, val in pooled.items()]
    net = dict(modifier=m, kind="continuous", comparisons=len(imbal), measure="max_abs_smd", value=worst,
               chi2=math.nan, df=0, pvalue=math.nan, threshold=thr, flag=bool(worst > thr))
    return table, imbal, net


def _row(comp, m, kind, stat, value, measure, imb, flag, thr) -> dict:
    return dict(comparison=comp, modifier=m, kind=kind, statistic=str(stat), value=value, measure=measure,
                imbalance=imb, flag=flag, threshold=thr)


# ---------------------------------------------------------------- from a loaded review
REVIEW_MODIFIERS = ("region", "diagnosis", "pain_distribution", "duration", "selection_n_blocks",
                    "selection_threshold_pct", "selection_control", "sham_subtype")


def review_comparisons(review, level: str | None = None, outcome: str | None = None) -> pd.DataFrame:
    """One row per study x direct comparison of a loaded review (nodes at ``level``), with the
    study-level columns and ``sham_subtype`` (the comparator code of the study's control arms)."""
    nm = review.node_map(level).to_frame()
    if outcome is not None:   # arms with arm-level rows or in contrast-level rows of the outcome
        con = review.analysis_rows(outcome, level="contrast")
        used = pd.concat([review.analysis_rows(outcome)[["study", "arm"]],
                          *(con[["study", a]].set_axis(["study", "arm"], axis=1) for a in ("arm1", "arm2")
                            if a in con)]).drop_duplicates()
        nm = nm.merge(used, on=["study", "arm"])
    arms = review.arms.set_index(["study", "arm"])
    rows = []
    for s, g in nm.groupby("study", sort=False):
        nodes = sorted(set(g["node"]))
        sham = "|".join(sorted({str(arms.loc[(s, a), "comparator_type"]) for a, r in zip(g["arm"], g["role"])
                                if r == "control" and _level(arms.loc[(s, a), "comparator_type"])}))
        for i in range(len(nodes)):
            for j in range(i + 1, len(nodes)):
                rows.append({"study": s, "comparison": comparison_key(nodes[i], nodes[j]),
                             "sham_subtype": sham or None})
    comp = pd.DataFrame(rows, columns=["study", "comparison", "sham_subtype"])
    return comp.merge(review.studies.drop(columns=[c for c in ("notes",) if c in review.studies]), on="study",
                      how="left")


def transitivity_from_review(review, modifiers=None, *, level: str | None = None, outcome: str | None = None,
                             thresholds: Mapping[str, float] | None = None) -> TransitivityResult:
    """:func:`transitivity` on a loaded review: comparisons from its node map (``level``), modifiers
    from studies.csv (default: the plan's, else those of :data:`REVIEW_MODIFIERS` present)."""
    data = review_comparisons(review, level, outcome)
    if modifiers is None:
        modifiers = _plan_section(review.plan).get("modifiers") or [m for m in REVIEW_MODIFIERS if m in data]
    return transitivity(data, modifiers, comparison="comparison", thresholds=thresholds, plan=review.plan)
