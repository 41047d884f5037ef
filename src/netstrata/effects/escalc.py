"""``effect_sizes``: metafor's ``escalc`` for two-group and single-group data.

One row per study in, one row per study out (``effect``, ``variance``), group 1 versus group 2:
``effect = f(group 1) - f(group 2)`` on the analysis scale of the measure (see ``registry``).

Zero cells (binary, proportion and rate measures), as metafor 3.8-1 does:

* ``drop00=True`` first sets studies with no events in both groups (or only events in both groups,
  for 2x2 tables) to missing;
* ``to="only0"`` (default) adds ``add`` to every cell of a study that has a zero cell;
  ``to="all"`` to every cell of every study; ``to="if0all"`` to every study if any study has a
  zero cell; ``to="none"`` never;
* ``add`` defaults to 1/2, but to 0 for the arcsine measures (AS, PAS) and the Freeman-Tukey
  double arcsine (PFT), so by default nothing is added for them.

Effects or variances that come out infinite (e.g. a zero cell with ``to="none"``) become
missing with a ``StatisticalWarning``, as metafor recodes them to ``NA`` with a warning.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3).
doi:10.18637/jss.v036.i03
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._validate import check_option
from ..errors import ParameterError, StatisticalWarning
from ._numeric import as_numeric
from .columns import resolve_inputs
from .registry import INPUT_KINDS, Measure, get_measure

__all__ = ["effect_sizes", "as_numeric"]

CALLER = "effect_sizes"
_ALL_INPUTS = ("events_1", "n_1", "events_2", "n_2", "mean_1", "sd_1", "mean_2", "sd_2",
               "events", "n", "r", "time_1", "time_2")
_TO = ("only0", "all", "if0all", "none")


# Domain rule per argument name: (predicate that flags bad values, what was expected).
_RULES = {
    "events": (lambda x: x < 0, "a count >= 0"),
    "n": (lambda x: x <= 0, "a sample size > 0"),
    "sd": (lambda x: x < 0, "a standard deviation >= 0"),
    "time": (lambda x: x <= 0, "a person-time > 0"),
    "r": (lambda x: np.abs(x) > 1, "a correlation in [-1, 1]"),
    "mean": (lambda x: np.zeros(x.shape, dtype=bool), ""),
}


def _bad(name: str, pos: int, value: float, expected: str) -> ParameterError:
    return ParameterError(f"The '{name}' parameter of {CALLER} must hold {expected}; "
                          f"position {pos} is {value!r}.")


def _check_values(arrays: dict[str, np.ndarray]) -> None:
    for name, x in arrays.items():
        bad_fn, expected = _RULES[name.split("_")[0]]
        with np.errstate(invalid="ignore"):
            bad = bad_fn(x) & ~np.isnan(x)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _bad(name, i, float(x[i]), expected)
    for ev, nn in (("events_1", "n_1"), ("events_2", "n_2"), ("events", "n")):
        if ev in arrays and nn in arrays:
            over = arrays[ev] > arrays[nn]
            if over.any():
                i = int(np.flatnonzero(over)[0])
                raise ParameterError(
                    f"The '{ev}' parameter of {CALLER} must not exceed '{nn}'; position {i} has "
                    f"{ev}={float(arrays[ev][i])!r} > {nn}={float(arrays[nn][i])!r}.")


def _collect(measure: Measure, given: dict) -> dict[str, np.ndarray]:
    needed = INPUT_KINDS[measure.kind]
    missing = [a for a in needed if given.get(a) is None]
    if missing:
        raise ParameterError(
            f"measure={measure.code!r} ({measure.label}) needs {', '.join(needed)}; "
            f"{CALLER} was called without {', '.join(repr(a) for a in missing)}.")
    unused = [a for a in _ALL_INPUTS if given.get(a) is not None and a not in needed]
    if unused:
        raise ParameterError(
            f"measure={measure.code!r} uses {', '.join(needed)}; {CALLER} got "
            f"{', '.join(repr(a) for a in unused)} as well, which this measure does not use.")
    arrays = {a: as_numeric(given[a], name=a) for a in needed}
    lengths = {a: len(v) for a, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{a}={n}" for a, n in lengths.items())
        raise ParameterError(f"The arguments of {CALLER} must have the same length; got {shown}.")
    _check_values(arrays)
    return arrays


def _continuity(cells: list[np.ndarray], add: float, to: str) -> list[np.ndarray]:
    """Add ``add`` to the cells of studies as ``to`` says (zero detection on the same cells)."""
    if to == "none" or add == 0:
        return cells
    if to == "all":
        return [c + add for c in cells]
    zero = np.zeros(cells[0].shape, dtype=bool)
    for c in cells:
        zero |= c == 0  # NaN compares False, as metafor's id0[is.na(id0)] <- FALSE
    if to == "if0all":
        return [c + add for c in cells] if zero.any() else cells
    return [np.where(zero, c + add, c) for c in cells]


def _cells(measure: Measure, x: dict, add: float, to: str, drop00: bool) -> tuple[np.ndarray, ...]:
    """Kernel inputs for one kind of measure, after drop00 and the continuity correction."""
    if measure.kind == "binary":
        a, c = x["events_1"].copy(), x["events_2"].copy()
        b, d = x["n_1"] - a, x["n_2"] - c
        if drop00:  # no events, or only events, in both groups
            both = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
            for arr in (a, b, c, d):
                arr[both] = np.nan
        return tuple(_continuity([a, b, c, d], add, to))
    if measure.kind == "rate":
        x1, x2 = x["events_1"].copy(), x["events_2"].copy()
        if drop00:
            both = (x1 == 0) & (x2 == 0)
            x1[both] = np.nan
            x2[both] = np.nan
        x1, x2 = _continuity([x1, x2], add, to)
        return x1, x["time_1"], x2, x["time_2"]
    if measure.kind == "proportion":
        return tuple(_continuity([x["events"], x["n"] - x["events"]], add, to))
    return tuple(x[a] for a in INPUT_KINDS[measure.kind])


def _finish(yi: np.ndarray, vi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    yi, vi = np.array(yi, dtype=float), np.array(vi, dtype=float)
    inf = np.isinf(yi) | np.isinf(vi)
    if inf.any():
        rows = ", ".join(str(i) for i in np.flatnonzero(inf)[:10])
        warnings.warn(
            f"{CALLER}: the effect or variance of {int(inf.sum())} stud{'y' if inf.sum() == 1 else 'ies'} "
            f"(positions {rows}) is infinite (a zero cell without continuity correction?); set to missing. "
            "Use to='only0' with add > 0, or drop these studies.", StatisticalWarning, stacklevel=3)
    gone = inf | np.isnan(yi) | np.isnan(vi)
    yi[gone] = np.nan
    vi[gone] = np.nan
    vi[vi < 0] = np.nan
    return yi, vi


def _given_effects(res) -> tuple[np.ndarray, np.ndarray]:
    """Effects computed elsewhere (metafor ``escalc(measure, yi=, vi=)``): checked and passed through."""
    extra = [a for a, v in res.inputs.items() if v is not None]
    if extra:
        raise ParameterError(f"{CALLER} got effects (effect/yi) and data to compute them from "
                             f"({', '.join(repr(a) for a in extra)}); give one or the other.")
    if res.effect is None:
        raise ParameterError(f"{CALLER}: variance/se (vi/sei) were given without the effects; pass effect= (yi=).")
    if (res.variance is None) == (res.se is None):
        raise ParameterError(f"{CALLER}: effects need either variance= (vi=) or se= (sei=), exactly one of them.")
    yi = as_numeric(res.effect, name="effect")
    vi = (as_numeric(res.variance, name="variance") if res.se is None
          else as_numeric(res.se, name="se") ** 2)
    if yi.shape != vi.shape:
        raise ParameterError(f"The arguments of {CALLER} must have the same length; got effect={yi.size}, "
                             f"{'variance' if res.se is None else 'se'}={vi.size}.")
    neg = np.flatnonzero(vi < 0)
    if neg.size:
        raise _bad("variance", int(neg[0]), float(vi[neg[0]]), "a variance >= 0")
    return _finish(yi, vi)


def _frame(m: Measure, yi: np.ndarray, vi: np.ndarray, study, data, append: bool) -> pd.DataFrame:
    """The result frame: effect and variance (appended to a copy of ``data``), ``attrs["measure"]``."""
    if data is not None and append:
        if len(data) != yi.size:
            raise ParameterError(f"{CALLER}: data has {len(data)} rows but the inputs have {yi.size} values.")
        out = data.copy()
        out["effect"], out["variance"] = yi, vi
    else:
        out = pd.DataFrame({"effect": yi, "variance": vi},
                           index=data.index if data is not None and len(data) == yi.size else None)
    if study is not None:
        labels = pd.Series(study).to_numpy(dtype=object) if not isinstance(study, pd.Series) else study.to_numpy()
        if labels.size != yi.size:
            raise ParameterError(f"The 'study' parameter of {CALLER} must have {yi.size} labels (one per row). "
                                 f"Got {labels.size}.")
        if "study" in out.columns:
            out["study"] = labels
        else:
            out.insert(0, "study", labels)
    out.attrs["measure"] = m.code
    return out


def effect_sizes(measure, data=None, *, events_1=None, n_1=None, events_2=None, n_2=None, mean_1=None,
                 sd_1=None, mean_2=None, sd_2=None, events=None, n=None, r=None, time_1=None, time_2=None,
                 add=None, to="only0", drop00=False, vtype="LS", append=True, **columns):
    """Effect sizes and sampling variances per study (metafor's ``escalc``).

    Parameters
    ----------
    measure : str
        A code from ``netstrata.effects.MEASURES``: binary "OR", "RR", "RD", "PETO", "AS"
        (``events_1, n_1, events_2, n_2``); continuous "MD", "SMD", "ROM"
        (``mean_1, sd_1, n_1, mean_2, sd_2, n_2``); single proportions "PR", "PLN", "PLO", "PAS",
        "PFT" (``events, n``); correlations "COR", "ZCOR" (``r, n``); incidence rates "IRR",
        "IRD" (``events_1, time_1, events_2, time_2``).
    data : DataFrame, optional
        Where string arguments are looked up as column names (metafor's ``data=``). The result is
        ``data`` with ``effect`` and ``variance`` appended (``append=True``, metafor's default).
    events_1, n_1, events_2, n_2, mean_1, sd_1, mean_2, sd_2, events, n, r, time_1, time_2 : array-like or str
        Per-study data (or, with ``data``, column names); group 1 is the experimental group.
        Missing values give missing results.
    add : float, default=None
        Continuity correction; None means metafor's default (1/2; 0 for AS, PAS, PFT).
    to : {"only0", "all", "if0all", "none"}, default="only0"
        Which studies get ``add`` (see the module docstring).
    drop00 : bool, default=False
        Set studies with no events (or only events) in both groups to missing.
    vtype : str, default="LS"
        Sampling-variance estimator; the allowed values depend on the measure (``Measure.vtypes``).
    append : bool, default=True
        With ``data``: return ``data`` plus the two columns (False: only ``effect``, ``variance``).
    **columns
        metafor's names instead of netstrata's: ``ai, bi, ci, di, n1i, n2i`` (2x2 tables; ``bi``,
        ``di`` are non-events), ``m1i, m2i, sd1i, sd2i`` (means), ``x1i, x2i, t1i, t2i`` (rates),
        ``xi, mi, ni`` (single proportions; ``mi`` non-events), ``ri`` (correlations);
        ``yi, vi`` / ``sei`` (or ``effect, variance`` / ``se``) for effects computed elsewhere;
        ``slab`` (or ``study``) for study labels, kept in a ``study`` column.

    Returns
    -------
    pandas.DataFrame
        Columns ``effect`` and ``variance`` (one row per study); ``attrs["measure"]`` holds the
        measure code, so that ``netstrata.pairwise(es)`` and ``netstrata.network(es)`` know it.

    Notes
    -----
    ``variance`` is a variance, not a standard error. SMD is Hedges' g with the exact correction
    c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)), m = n_1 + n_2 - 2, and by default the
    large-sample variance 1/n_1 + 1/n_2 + g^2 / (2 (n_1 + n_2)).

    The measure travels in ``DataFrame.attrs`` rather than in a DataFrame subclass: pandas
    carries ``attrs`` through filtering, sorting, copies, ``assign``, ``merge`` and ``concat`` of
    frames with the same measure, where a subclass's metadata is lost at ``merge``/``concat``.

    References
    ----------
    Viechtbauer W (2010). J Stat Softw 36(3). doi:10.18637/jss.v036.i03
    Hedges LV (1981). J Educ Stat 6(2):107-128. doi:10.3102/10769986006002107

    Examples
    --------
    >>> effect_sizes("OR", events_1=[4], n_1=[123], events_2=[11], n_2=[139]).round(4)
       effect  variance
    0 -0.9387    0.3571
    >>> import pandas as pd
    >>> dat = pd.DataFrame({"tpos": [4, 6], "tneg": [119, 300], "cpos": [11, 29], "cneg": [128, 274]})
    >>> es = effect_sizes("RR", ai="tpos", bi="tneg", ci="cpos", di="cneg", data=dat)
    >>> es.round(4)
       tpos  tneg  cpos  cneg  effect  variance
    0     4   119    11   128 -0.8893    0.3256
    1     6   300    29   274 -1.5854    0.1946
    >>> es.attrs["measure"]
    'RR'
    """
    m = get_measure(measure)
    own = dict(events_1=events_1, n_1=n_1, events_2=events_2, n_2=n_2, mean_1=mean_1, sd_1=sd_1,
               mean_2=mean_2, sd_2=sd_2, events=events, n=n, r=r, time_1=time_1, time_2=time_2)
    res = resolve_inputs(data, own, columns)
    if res.given_effects:
        yi, vi = _given_effects(res)
        return _frame(m, yi, vi, res.study, data, append)
    x = _collect(m, res.inputs)
    to = check_option(to, name="to", allowed=_TO, caller=CALLER)
    vtype = check_option(vtype, name="vtype", allowed=m.vtypes, caller=CALLER)
    if not isinstance(drop00, (bool, np.bool_)):
        raise ParameterError(f"The 'drop00' parameter of {CALLER} must be True or False. Got {drop00!r} instead.")
    add = m.default_add if add is None else add
    if isinstance(add, bool) or not isinstance(add, (int, float, np.number)) or not np.isfinite(add) or add < 0:
        raise ParameterError(f"The 'add' parameter of {CALLER} must be a number >= 0. Got {add!r} instead.")
    yi, vi = m.kernel(*_cells(m, x, float(add), to, bool(drop00)), vtype=vtype)
    yi, vi = _finish(yi, vi)
    return _frame(m, yi, vi, res.study, data, append)
