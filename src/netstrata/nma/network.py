"""Public entry points of the network layer: ``network`` and ``network_from_arms``."""
from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np
import pandas as pd

from .._validate import check_level, check_option
from ..effects.contrasts import arms_to_contrasts
from ..errors import ParameterError
from .component import fit_component
from .kernel import connected_components
from .notices import ComponentNotice
from .prepare import contrast_input, prepare_contrasts
from .result import NetworkResult

__all__ = ["network", "network_from_arms", "network_prepared", "TAU2_METHODS"]

# method.tau of netmeta 2.9-0 supported here (registry data: code -> label, reference)
TAU2_METHODS = {
    "DL": ("generalised DerSimonian-Laird (netmeta default)", "doi:10.1002/sim.5453"),
    "REML": ("restricted maximum likelihood as netmeta's rma.mv call", "doi:10.18637/jss.v036.i03"),
}


# netmeta's setsv() also accepts "good" / "bad"
SMALL_VALUES = {"good": "desirable", "bad": "undesirable"}


def _not_comparable(treatments, labels) -> pd.DataFrame:
    """Pairs of treatments in different sub-networks (a connected network: a copy of an empty
    table built once, the same frame as ``pd.DataFrame([], columns=...)``)."""
    if labels.max(initial=0) == 0:
        return _empty("not_comparable")
    rows = [(treatments[i], treatments[j], f"different sub-networks ({labels[i] + 1} and {labels[j] + 1})")
            for i, j in combinations(range(len(treatments)), 2) if labels[i] != labels[j]]
    return pd.DataFrame(rows, columns=["treat1", "treat2", "reason"])


def network(contrasts: pd.DataFrame, *, method: str = "DL", reference: str | None = None,
            small_values: str = "desirable", level: float = 0.95,
            tau2: float | None = None, measure: str | None = None) -> NetworkResult:
    """Frequentist network meta-analysis, graph-theoretical method (netmeta's ``netmeta``).

    Parameters
    ----------
    contrasts : DataFrame or Contrasts
        One row per study comparison with columns ``study, treat1, treat2, effect, se``
        (``effect`` = treat1 versus treat2; netmeta's TE, seTE).  Multi-arm studies give every
        pair of their arms.  netmeta's names ``studlab, TE, seTE`` are accepted too, and so are
        ``variance`` (or metafor's ``vi``) instead of ``se``: a frame from
        :func:`netstrata.effect_sizes` with ``study``, ``treat1``, ``treat2`` columns works as it
        is, and so does the :class:`~netstrata.effects.Contrasts` of ``arms_to_contrasts``.
    method : {"DL", "REML"}
        Estimator of the between-study variance tau² (netmeta ``method.tau``).
    reference : str, optional
        Reference treatment for ``estimates``; default netmeta's (first treatment in order).
    small_values : {"desirable", "undesirable"}
        Direction for P-scores.
    level : float
        Confidence level.
    tau2 : float, optional
        Fixed between-study variance for the random effects model instead of estimating it
        (netmeta ``tau.preset``, which is on the tau scale).
    measure : str, optional
        Effect measure of the contrasts (netmeta's ``sm``); taken from the contrasts when they
        carry one. Lets the result back-transform (``summary(backtransf=True)``,
        ``league_table(backtransf=True)``) and label its figures.

    Returns
    -------
    NetworkResult

    Notes
    -----
    Rows with a missing effect or a missing / non-positive se are left out with a
    ``DroppedComparisonWarning`` (netmeta does the same); a multi-arm study left incomplete raises
    ``DataError`` naming it.  A disconnected network is analysed per sub-network with a
    ``ComponentNotice`` (netmeta refuses).

    REML follows netmeta's ``rma.mv`` call (baseline comparisons per study, compound symmetry
    with correlation 0.5).  As in netmeta, the within-study covariance of a multi-arm study's
    comparisons enters only when the contrasts carry arm-level columns (``n1``, ``n2`` and
    events, person-time or SDs, as from ``arms_to_contrasts`` or R's ``pairwise()``); it is then
    recovered from the pairwise variances, which equals netmeta's ``calcV``.  Contrasts alone give
    netmeta's diagonal within-study variance.  ``reference`` does not change the REML data reduction (netmeta
    uses its reference group there; we always use netmeta's default, the first treatment).

    References
    ----------
    Rücker G (2012). Res Synth Methods 3:312-324. doi:10.1002/jrsm.1058
    Rücker G, Schwarzer G (2014). Stat Med 33:4353-4369. doi:10.1002/sim.6236
    """
    contrasts, measure = contrast_input(contrasts, measure, "network")
    method = check_option(method, name="method", allowed=tuple(TAU2_METHODS), caller="network")
    small_values = check_option(SMALL_VALUES.get(small_values, small_values), name="small_values",
                                allowed=("desirable", "undesirable"), caller="network")
    level = check_level(level, caller="network")
    if tau2 is not None and not (np.isfinite(float(tau2)) and float(tau2) >= 0):
        raise ParameterError(f"The 'tau2' parameter of network must be a finite number >= 0. Got {tau2!r} instead.")
    prep, excluded = prepare_contrasts(contrasts, "network")
    return network_prepared(prep, excluded, method=method, reference=reference, small_values=small_values,
                            level=level, tau2=tau2, measure=measure)


def network_prepared(prep, excluded: pd.DataFrame | None = None, *, method: str = "DL",
                     reference: str | None = None, small_values: str = "desirable", level: float = 0.95,
                     tau2: float | None = None, measure: str | None = None,
                     blocks: tuple | None = None) -> NetworkResult:
    """:func:`network` from prepared rows (:func:`~netstrata.nma.prepare.prepare_contrasts`, or
    :func:`~netstrata.nma.prepare.prepare_rows` for rows a caller built and checked itself);
    ``method``, ``small_values`` and ``level`` as :func:`network` returns them from its checks.
    ``blocks``: the multi-arm blocks of ``prep`` (``prepare_rows(..., blocks=...)``) if known."""
    if excluded is None:
        excluded = _no_rows()
    if reference is None:
        reference = prep.treatments[0]
    elif str(reference) not in prep.treatments:
        check_option(str(reference), name="reference", allowed=prep.treatments, caller="network",
                     ignore_case=False)
    labels = connected_components(prep.t1, prep.t2, prep.n)
    parts, index = [], []
    for c in range(labels.max() + 1):
        rows = np.flatnonzero(labels[prep.t1] == c)
        sub = prep if labels.max() == 0 else prep.subset(rows)
        parts.append(fit_component(sub, method, tau2, blocks if labels.max() == 0 else None))
        index.append(np.array([prep.treatments.index(t) for t in sub.treatments]))
    not_comp = _not_comparable(prep.treatments, labels)
    if len(parts) > 1:
        warnings.warn(
            f"The network has {len(parts)} sub-networks: "
            + "; ".join("{" + ", ".join(p.prep.treatments) + "}" for p in parts)
            + ". Each is analysed separately; comparisons across them are not estimable "
            "(see .not_comparable).", ComponentNotice, stacklevel=3)
    notes = tuple(p.reml_note for p in parts if p.reml_note)
    return NetworkResult(prep.treatments, str(reference), method, small_values, float(level), tuple(parts),
                         tuple(index), excluded, not_comp, notes, measure)


def _no_rows() -> pd.DataFrame:
    """The ``excluded`` table of prepared rows none of which was dropped (as prepare_contrasts)."""
    return _empty("no_rows")


def _build_empty(name: str) -> pd.DataFrame:
    if name == "not_comparable":
        return pd.DataFrame([], columns=["treat1", "treat2", "reason"])
    empty = np.array([], dtype=object)
    return pd.DataFrame({"row": np.array([], dtype=np.int64), "study": empty, "treat1": empty, "treat2": empty,
                         "effect": np.array([]), "se": np.array([]),
                         "reason": "missing effect or missing/zero se (dropped as netmeta does)"})


_EMPTY: dict[str, pd.DataFrame] = {}


def _empty(name: str) -> pd.DataFrame:
    """A fresh copy of the empty table ``name`` (building a DataFrame costs about 0.4 ms, a
    deep copy of a built one a tenth of that; every result gets its own frame)."""
    template = _EMPTY.get(name)
    if template is None:
        template = _EMPTY[name] = _build_empty(name)
    return template.copy(deep=True)


def network_from_arms(arms: pd.DataFrame, *, measure: str, study: str = "study",
                      treatment: str = "treatment", events: str | None = None, n: str | None = None,
                      mean: str | None = None, sd: str | None = None, time: str | None = None,
                      method: str = "DL", reference: str | None = None,
                      small_values: str = "desirable", level: float = 0.95) -> NetworkResult:
    """Network meta-analysis from one row per arm: netmeta's ``pairwise()`` then ``netmeta()``.

    Arm-level data are turned into study contrasts by
    ``netstrata.effects.contrasts.arms_to_contrasts`` (all pairs of arms per study; pairs that
    cannot be estimated are left out and reported), then passed to :func:`network`.
    """
    cols = {k: v for k, v in dict(events=events, n=n, mean=mean, sd=sd, time=time).items() if v is not None}
    # mypy cannot see that the keys are column-name (str) parameters only, never incr/allstudies
    con = arms_to_contrasts(arms, measure, study=study, treatment=treatment, **cols)  # type: ignore[arg-type]
    return network(con, method=method, reference=reference, small_values=small_values, level=level)
