"""Arm-level data to study contrasts: netmeta's ``pairwise()`` (netmeta 2.9-0 with meta 6.5-0).

One row per arm in; one row per pair of arms within each study out (all k(k-1)/2 pairs of a
k-arm study). Arms keep the order of the data: arm i is the i-th row of the study, and each pair
(i < j) gives ``treat1`` = arm i, ``treat2`` = arm j, ``effect`` = treat1 versus treat2 (netmeta's
``TE``) and its standard error ``se`` (``seTE``). Rows are ordered as netmeta orders them: by the
data row of arm i, ties (pairs sharing arm i) by ``treat2`` in R's locale collation (an artefact of
R's ``merge``: case-insensitive, punctuation before digits before letters).

Per-pair estimates are meta's ``metabin``/``metacont``/``metainc`` study estimates:

* OR: log((a+i)(d+i) / ((b+i)(c+i))), se = sqrt(sum of 1/(cell+i)) (Cooper & Hedges 1994);
* RR: log(((a+i)/(n1+i)) / ((c+i)/(n2+i))), se = sqrt(1/(a+i') - 1/(n1+i) + 1/(c+i') - 1/(n2+i)),
  i' = 0 when both arms have only events (meta's default, not the Cochrane RevMan variant);
* RD: a/n1 - c/n2 (no increment), se from the incremented cells: sum (x+i)(n-x+i)/(n+2i)^3;
* MD: m1 - m2, se = sqrt(sd1^2/n1 + sd2^2/n2);
* SMD: Cohen's d with the pooled SD of the two arms (of all arms in studies with > 2 arms),
  se = sqrt(1/n1 + 1/n2 + d^2 / (2 N)), N = the study's total sample size (Crippa & Orsini 2016, eq. 5);
* IRR: log((x1+i)/t1) - log((x2+i)/t2), se = sqrt(1/(x1+i) + 1/(x2+i)); IRD: x1/t1 - x2/t2.

Continuity correction ``incr`` (binary and rate data) is decided per *study*: with
``method_incr="only0"`` it is added to every arm of a study in which any arm has zero events (or,
for binary data, only events); ``"if0all"`` adds it to all studies if any study has an arm with
zero events; ``"all"`` always adds it. With ``allstudies=False`` pairs with no events in both arms
(OR, RR) or only events in both arms (OR) are not estimable. Pairs that cannot be estimated are
never dropped silently: they are listed in ``Contrasts.dropped`` with the reason.

References
----------
Rücker G, Schwarzer G (2014-). netmeta: Network Meta-Analysis using Frequentist Methods (pairwise).
Crippa A, Orsini N (2016). BMC Med Res Methodol 16:112. doi:10.1186/s12874-016-0189-0
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._summary import Summary
from .._validate import check_option
from ..errors import DataError, ParameterError, Problem
from .escalc import as_numeric
from .._collate import collate_key

__all__ = ["Contrasts", "arms_to_contrasts", "PAIRWISE_MEASURES"]

CALLER = "arms_to_contrasts"
# measure -> kind of arm data (which columns are read)
PAIRWISE_MEASURES = {"OR": "binary", "RR": "binary", "RD": "binary", "MD": "continuous",
                     "SMD": "continuous", "IRR": "rate", "IRD": "rate"}
_ARM_FIELDS = {"binary": ("events", "n"), "continuous": ("mean", "sd", "n"), "rate": ("events", "time")}
_ERR = dict(divide="ignore", invalid="ignore", over="ignore")


@dataclass(frozen=True, slots=True)
class Contrasts:
    """Study contrasts from arm-level data.

    Attributes
    ----------
    contrasts : DataFrame   estimable pairs: study, treat1, treat2, effect, se, arm columns, incr, narms.
    dropped : DataFrame     pairs that could not be estimated, same columns plus ``reason``.
    measure, incr, method_incr, allstudies : the settings used.
    single_arm : tuple      studies with only one arm in the data (no pair to form).
    """

    contrasts: pd.DataFrame
    dropped: pd.DataFrame
    measure: str
    incr: float
    method_incr: str
    allstudies: bool
    single_arm: tuple[str, ...] = ()

    @property
    def all(self) -> pd.DataFrame:
        """Every pair in netmeta's row order (as ``pairwise()`` prints it), with ``reason`` ('' if kept)."""
        kept = self.contrasts.assign(reason="")
        return pd.concat([kept, self.dropped]).sort_index()

    @property
    def n_studies(self) -> int:
        return int(self.contrasts["study"].nunique())

    def summary(self) -> Summary:
        notes = tuple(f"Not estimable: {r.study} {r.treat1} vs {r.treat2} ({r.reason})"
                      for r in self.dropped.itertuples())
        notes += tuple(f"Only one arm, no comparison: {s}" for s in self.single_arm)
        return Summary(title=f"Study contrasts ({self.measure})", frame=self.contrasts.copy(), notes=notes)

    def __repr__(self) -> str:
        return (f"Contrasts(measure={self.measure!r}, studies={self.n_studies}, "
                f"contrasts={len(self.contrasts)}, dropped={len(self.dropped)})")




# ---------------------------------------------------------------- kernels (meta 6.5-0 study estimates)

def _pair_binary(measure, e1, n1, e2, n2, inc):
    with np.errstate(**_ERR):
        a, b, c, d = e1 + inc, n1 - e1 + inc, e2 + inc, n2 - e2 + inc
        if measure == "OR":
            return np.log(a * d / (b * c)), np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        if measure == "RR":  # meta: RR.Cochrane = FALSE
            allev = (e1 == n1) & (e2 == n2)
            te = np.log((a / (n1 + inc)) / (c / (n2 + inc)))
            se = np.sqrt(1 / (e1 + inc * ~allev) - 1 / (n1 + inc) + 1 / (e2 + inc * ~allev) - 1 / (n2 + inc))
            return te, se
        te = e1 / n1 - e2 / n2  # RD
        return te, np.sqrt(a * b / (n1 + 2 * inc) ** 3 + c * d / (n2 + 2 * inc) ** 3)


def _pair_rate(measure, x1, t1, x2, t2, inc):
    with np.errstate(**_ERR):
        if measure == "IRR":
            return np.log(((x1 + inc) / t1) / ((x2 + inc) / t2)), np.sqrt(1 / (x1 + inc) + 1 / (x2 + inc))
        return x1 / t1 - x2 / t2, np.sqrt((x1 + inc) / t1**2 + (x2 + inc) / t2**2)


def _pair_continuous(measure, m1, s1, n1, m2, s2, n2, ntot):
    with np.errstate(**_ERR):
        if measure == "MD":
            te, se = m1 - m2, np.sqrt(s1**2 / n1 + s2**2 / n2)
        else:  # Cohen's d; se of Crippa & Orsini (2016), eq. 5, with the study's total N
            sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
            te = (m1 - m2) / sp
            se = np.sqrt(1 / n1 + 1 / n2 + te**2 / (2 * ntot))
    bad = (s1 <= 0) | (s2 <= 0)
    se = np.where(bad, np.nan, se)
    return (np.where(bad, np.nan, te) if measure == "SMD" else te), se


# ---------------------------------------------------------------- arms -> pairs

def _read_arms(arms, measure, kind, cols) -> pd.DataFrame:
    if not isinstance(arms, pd.DataFrame):
        raise ParameterError(f"The 'arms' parameter of {CALLER} must be a pandas DataFrame "
                             f"(one row per arm). Got {type(arms).__name__} instead.")
    need = {"study": cols["study"], "treatment": cols["treatment"]}
    need.update({f: cols[f] for f in _ARM_FIELDS[kind]})
    absent = [c for c in need.values() if c not in arms.columns]
    if absent:
        raise ParameterError(f"{CALLER}(measure={measure!r}) needs the columns {list(need.values())}; "
                             f"the arms table has no {absent}. Columns found: {list(arms.columns)}.")
    _check_labels(arms, need)
    out = pd.DataFrame({"study": arms[need["study"]].astype(str).to_numpy(),
                        "treatment": arms[need["treatment"]].astype(str).to_numpy()})
    for f in _ARM_FIELDS[kind]:
        out[f] = as_numeric(arms[need[f]], name=need[f], caller=CALLER)
    _check_arms(out, kind, need)
    return out


def _check_labels(arms: pd.DataFrame, need: dict) -> None:
    probs = [Problem("missing label", row=int(i) + 2, column=need[f], expected="a study and a treatment label")
             for f in ("study", "treatment") for i in np.flatnonzero(arms[need[f]].isna().to_numpy())]
    if probs:
        raise DataError(probs)


def _check_arms(df: pd.DataFrame, kind: str, names: dict) -> None:
    """Collect every impossible arm value into one DataError (row = spreadsheet row, header = 1)."""
    rules = {"events": (lambda x: x < 0, "a count >= 0"), "n": (lambda x: x <= 0, "a sample size > 0"),
             "sd": (lambda x: x < 0, "a standard deviation >= 0"), "time": (lambda x: x <= 0, "a person-time > 0")}
    probs = []
    for f, (bad, expected) in rules.items():
        if f not in df:
            continue
        for i in np.flatnonzero(bad(df[f].to_numpy()) & df[f].notna().to_numpy()):
            probs.append(Problem("impossible value", row=int(i) + 2, column=names[f], study=df.study.iat[i],
                                 found=float(df[f].iat[i]), expected=expected))
    if "events" in df and "n" in df:
        for i in np.flatnonzero((df.events > df.n).to_numpy()):
            probs.append(Problem("more events than participants", row=int(i) + 2, column=names["events"],
                                 study=df.study.iat[i], found=float(df.events.iat[i]), expected=f"<= n ({df.n.iat[i]:g})"))
    dup = df.duplicated(["study", "treatment"], keep="first").to_numpy()
    for i in np.flatnonzero(dup):
        probs.append(Problem("treatment listed twice in one study; each arm must be a different treatment",
                             row=int(i) + 2, column=names["treatment"], study=df.study.iat[i],
                             found=df.treatment.iat[i]))
    if probs:
        raise DataError(probs)


def _study_incr(df: pd.DataFrame, kind: str, incr: float, method_incr: str) -> pd.Series:
    """netmeta: increment per study, decided from all its arms (zero events, or only events for binary)."""
    if kind == "continuous":
        return pd.Series(0.0, index=df.study.unique())
    zero = (df.events == 0)
    sparse = zero | (df.events == df.n) if kind == "binary" else zero
    by_study = sparse.groupby(df.study, sort=False).any()
    if method_incr == "all":
        return by_study * 0 + incr
    if method_incr == "if0all":
        return by_study * 0 + (incr if zero.any() else 0.0)
    return by_study.astype(float) * incr


def _pooled_sd_multiarm(df: pd.DataFrame) -> pd.DataFrame:
    """SMD in studies with > 2 usable arms: every arm's SD becomes the study's pooled SD (netmeta)."""
    df = df.copy()
    for _, idx in df.groupby("study", sort=False).groups.items():
        g = df.loc[idx]
        ok_n = (g.n > 0).sum() > 2
        if ok_n and g["mean"].notna().sum() > 2 and (g.sd > 0).sum() > 2:
            use = g.sd.notna() & g.n.notna()
            sp = np.sqrt(((g.n[use] - 1) * g.sd[use] ** 2).sum() / (g.n[use] - 1).sum())
            df.loc[idx, "sd"] = np.where(g.sd.isna(), np.nan, sp)
    return df


def _pairs(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (i, j) of every arm pair within each study, i before j in the data."""
    first, second = [], []
    for _, idx in df.groupby("study", sort=False).indices.items():
        for p in range(len(idx)):
            for q in range(p + 1, len(idx)):
                first.append(idx[p])
                second.append(idx[q])
    return np.asarray(first, dtype=int), np.asarray(second, dtype=int)


def _reasons(kind, measure, allstudies, a1: pd.DataFrame, a2: pd.DataFrame, te, se) -> np.ndarray:
    fields = _ARM_FIELDS[kind]
    missing = np.zeros(len(a1), dtype=bool)
    for f in fields:
        missing |= np.isnan(a1[f].to_numpy()) | np.isnan(a2[f].to_numpy())
    reason = np.where(missing, "missing arm data", "").astype(object)
    if kind == "binary" and not allstudies and measure in ("OR", "RR"):
        e1, e2, n1, n2 = (x.to_numpy() for x in (a1.events, a2.events, a1.n, a2.n))
        reason = np.where((reason == "") & (e1 == 0) & (e2 == 0), "no events in either arm", reason)
        if measure == "OR":
            reason = np.where((reason == "") & (e1 == n1) & (e2 == n2), "only events in both arms", reason)
    if kind == "continuous":
        zero_sd = (a1.sd.to_numpy() <= 0) | (a2.sd.to_numpy() <= 0)
        reason = np.where((reason == "") & zero_sd, "standard deviation of 0", reason)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(te) | ~np.isfinite(se) | (se <= 0)
    return np.where((reason == "") & bad, "effect or standard error not estimable", reason)


def _estimate(kind, measure, a1, a2, inc, ntot):
    if kind == "binary":
        return _pair_binary(measure, a1.events.to_numpy(), a1.n.to_numpy(), a2.events.to_numpy(),
                            a2.n.to_numpy(), inc)
    if kind == "rate":
        return _pair_rate(measure, a1.events.to_numpy(), a1.time.to_numpy(), a2.events.to_numpy(),
                          a2.time.to_numpy(), inc)
    return _pair_continuous(measure, a1["mean"].to_numpy(), a1.sd.to_numpy(), a1.n.to_numpy(),
                            a2["mean"].to_numpy(), a2.sd.to_numpy(), a2.n.to_numpy(), ntot)


def _table(kind, df, i, j, te, se, inc) -> pd.DataFrame:
    a1, a2 = df.iloc[i].reset_index(drop=True), df.iloc[j].reset_index(drop=True)
    out = pd.DataFrame({"study": a1.study, "treat1": a1.treatment, "treat2": a2.treatment,
                        "effect": te, "se": se})
    for f in ("events", "mean", "sd", "n", "time"):
        if f in _ARM_FIELDS[kind]:
            out[f"{f}1"], out[f"{f}2"] = a1[f].to_numpy(), a2[f].to_numpy()
    order = ["study", "treat1", "treat2", "effect", "se"] + [
        f"{f}{g}" for g in "12" for f in ("events", "mean", "sd", "n", "time") if f in _ARM_FIELDS[kind]]
    out = out[order]
    if kind != "continuous":
        out["incr"] = inc
    out["narms"] = df.groupby("study", sort=False).size().reindex(a1.study).to_numpy()
    return out


def arms_to_contrasts(arms: pd.DataFrame, measure: str, *, study: str = "study", treatment: str = "treatment",
                      events: str = "events", n: str = "n", mean: str = "mean", sd: str = "sd",
                      time: str = "time", incr: float = 0.5, method_incr: str = "only0",
                      allstudies: bool = False) -> Contrasts:
    """Turn one row per arm into one row per pair of arms within each study (netmeta's ``pairwise``).

    Parameters
    ----------
    arms : DataFrame
        One row per arm, arms of a study in the order they should be compared (arm 1 first).
    measure : {"OR", "RR", "RD", "MD", "SMD", "IRR", "IRD"}
        Binary measures read ``events`` and ``n``; MD/SMD read ``mean``, ``sd``, ``n``; IRR/IRD read
        ``events`` and ``time``.
    study, treatment, events, n, mean, sd, time : str
        Column names in ``arms``.
    incr : float, default=0.5
        Continuity correction for binary and rate data.
    method_incr : {"only0", "if0all", "all"}, default="only0"
        Which studies get ``incr`` (see the module docstring); decided per study, all arms alike.
    allstudies : bool, default=False
        Keep pairs with no events (or only events) in both arms for OR and RR.

    Returns
    -------
    Contrasts
        ``.contrasts`` (estimable pairs, columns ``study, treat1, treat2, effect, se``, the arm
        columns ``events1, n1, ...``, ``incr`` and ``narms``) and ``.dropped`` (the rest, with
        ``reason``). ``effect`` is treat1 versus treat2 on the analysis scale (log for OR/RR/IRR).

    References
    ----------
    netmeta 2.9-0, R/pairwise.R; meta 6.5-0, R/metabin.R, R/metacont.R, R/metainc.R.
    Crippa A, Orsini N (2016). doi:10.1186/s12874-016-0189-0
    """
    code = check_option(measure, name="measure", allowed=tuple(PAIRWISE_MEASURES), caller=CALLER)
    kind = PAIRWISE_MEASURES[code]
    method_incr = check_option(method_incr, name="method_incr", allowed=("only0", "if0all", "all"), caller=CALLER)
    if isinstance(incr, bool) or not isinstance(incr, (int, float, np.number)) or not np.isfinite(incr) or incr < 0:
        raise ParameterError(f"The 'incr' parameter of {CALLER} must be a number >= 0. Got {incr!r} instead.")
    if not isinstance(allstudies, (bool, np.bool_)):
        raise ParameterError(f"The 'allstudies' parameter of {CALLER} must be True or False. Got {allstudies!r} instead.")
    cols = dict(study=study, treatment=treatment, events=events, n=n, mean=mean, sd=sd, time=time)
    df = _read_arms(arms, code, kind, cols)
    if code == "SMD":
        df = _pooled_sd_multiarm(df)
    i, j = _pairs(df)
    sizes = df.groupby("study", sort=False).size()
    single = tuple(str(s) for s in sizes.index[sizes.to_numpy() == 1])
    if len(i) == 0:
        raise DataError("No study has two or more arms, so there is no contrast to form.")
    a1, a2 = df.iloc[i].reset_index(drop=True), df.iloc[j].reset_index(drop=True)
    inc = _study_incr(df, kind, float(incr), method_incr).reindex(a1.study).to_numpy(dtype=float)
    # SMD: the study's total N; like netmeta, unknown if any arm lacks n
    ntot = (df.groupby("study", sort=False)["n"].sum(skipna=False).reindex(a1.study).to_numpy()
            if kind == "continuous" else None)
    te, se = _estimate(kind, code, a1, a2, inc, ntot)
    reason = _reasons(kind, code, bool(allstudies), a1, a2, te, se)
    if code == "SMD" and ntot is not None:     # SMD is continuous: ntot is set
        reason = np.where((reason == "") & np.isnan(ntot), "study total n unknown (an arm lacks n)", reason)
    te = np.where(reason == "", te, np.nan)
    se = np.where(reason == "", se, np.nan)
    table = _table(kind, df, i, j, te, se, inc)
    # netmeta's row order: data row of arm 1, then treat2 in collation order (R merge + stable order)
    key = sorted(range(len(i)), key=lambda r: (i[r], collate_key(table.treat2.iat[r])))
    table = table.iloc[key].reset_index(drop=True)
    table.attrs["measure"] = code          # network(con.contrasts) knows the measure, as effect_sizes frames
    reason = reason[key]
    kept = table[reason == ""]
    dropped = table[reason != ""].assign(reason=reason[reason != ""])
    return Contrasts(contrasts=kept, dropped=dropped, measure=code, incr=float(incr),
                     method_incr=method_incr, allstudies=bool(allstudies), single_arm=single)
