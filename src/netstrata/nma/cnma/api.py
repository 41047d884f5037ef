"""Public entry point of component network meta-analysis: ``component_network``.

netmeta 2.9-0 ``netcomb`` (connected network) and ``discomb`` (disconnected network): a
combination treatment's effect is the sum of its components' effects; the model is fitted by
weighted least squares with the standard model's multi-arm adjusted weights; the random-effects
model adds the additive model's own moment estimate of tau².
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..._validate import check_option
from ...errors import NetstrataWarning, StatisticalWarning
from ..component import fit_component
from ..kernel import connected_components, multiarm_blocks, reduce_multiarm_variances
from ..prepare import Prepared, contrast_input, prepare_contrasts
from ..result import NetworkResult
from .design import component_design
from .kernels import (
    additive_tau2,
    design_x,
    fit_additive,
    rank_and_rowspace,
    unidentified,
)
from .result import ComponentNetworkResult

__all__ = ["component_network", "ComponentIdentifiabilityWarning", "ReconnectedNetworkNotice",
           "CNMA_METHODS"]

#: estimator of tau² of the standard model fitted beside the CNMA (the CNMA's own tau² is always
#: netmeta's moment estimator of the additive model)
CNMA_METHODS = ("DL", "REML")


class ComponentIdentifiabilityWarning(StatisticalWarning):
    """Some components are not identifiable from the data (netmeta warns alike); their effects
    and those of every combination containing one are NaN (see ``.unidentifiable``)."""


class ReconnectedNetworkNotice(NetstrataWarning):
    """The network of treatments is disconnected; the additive model links its sub-networks
    through shared components (netmeta ``discomb``).  The standard model and the additivity test
    need a connected network and are missing."""


def _standard(prep: Prepared, excluded: pd.DataFrame, method: str, reference: str):
    """The standard network model beside the CNMA (netmeta's ``x`` of netcomb), fitted on the
    rows already validated (as :func:`netstrata.network` does after validating; connected)."""
    part = fit_component(prep, method)
    none = pd.DataFrame(columns=["treat1", "treat2", "reason"])
    notes = (part.reml_note,) if part.reml_note else ()
    return NetworkResult(prep.treatments, reference, method, "desirable", 0.95, (part,),
                         (np.arange(prep.n),), excluded, none, notes)


def _weights(prep: Prepared, extra: float, blocks) -> np.ndarray:
    """Multi-arm adjusted variances of se² + extra (netmeta ``prepare``)."""
    return reduce_multiarm_variances(prep.se ** 2 + extra, blocks)


def _identification(design, x, basis, connected: bool):
    """(not identifiable, set to NaN, combinations set to NaN).

    netcomb (connected): components outside the row space of X are NaN, with every treatment
    whose C row uses one.  discomb (disconnected): only components whose X column is zero (never
    contrasted) and the treatments containing them; the others are warned about only, as netmeta.
    """
    comps = np.array(design.components, dtype=object)
    not_ident = unidentified(basis, design.c)
    na_comp = not_ident if connected else ~np.any(x != 0, axis=0)
    na_trt = np.any(design.C[:, na_comp] != 0, axis=1)
    return (tuple(comps[not_ident]), tuple(comps[na_comp]),
            tuple(t for t, b in zip(design.treatments, na_trt) if b))


def component_network(contrasts: pd.DataFrame, *, sep: str = "+", inactive: str | None = None,
                      method: str = "DL", interactions=None,
                      reference: str | None = None, measure: str | None = None) -> ComponentNetworkResult:
    """Additive component network meta-analysis (netmeta's ``netcomb`` and ``discomb``).

    Treatments that are combinations of components (``"A + B"``) are modelled as the sum of
    their components' effects.  On a connected network this is netmeta's ``netcomb`` applied to
    the standard ``netmeta`` fit (whose Q gives the test of additivity); on a disconnected one it
    is ``discomb``, which links the sub-networks through shared components.

    Parameters
    ----------
    contrasts : DataFrame
        One row per study comparison, columns ``study, treat1, treat2, effect, se`` (effect =
        treat1 versus treat2; netmeta's ``studlab, TE, seTE`` accepted), as for
        :func:`netstrata.network`.  Multi-arm studies give every pair of their arms.
    sep : str, default="+"
        The character separating components in a treatment label (netmeta ``sep.comps``);
        spaces around components are ignored (``"A + B"`` = ``"A+B"``).
    inactive : str, optional
        The inactive component (e.g. ``"placebo"``), matched ignoring case when unambiguous: it
        gets no effect of its own, so ``"placebo"`` has effect 0 and ``"A + placebo"`` equals
        ``"A"``.  Without it every component, controls included, gets an effect.
    method : {"DL", "REML"}, default="DL"
        tau² estimator of the standard network model fitted beside the CNMA (its random-effects
        estimates in ``rows``).  The CNMA's own tau² is always netmeta's moment estimator of the
        additive model.
    interactions : iterable or mapping, optional
        Interaction columns added to the C matrix: ``"A*B"`` (or ``("A", "B")``) is 1 for every
        treatment containing both A and B; a mapping ``{"name": ["A + B", ...]}`` gives the
        treatments explicitly (a column of netmeta's user-given ``C.matrix``).
    reference : str, optional
        Reference treatment of :meth:`~ComponentNetworkResult.estimates` (matched ignoring case,
        as netmeta); default the first treatment (netmeta's default).
    measure : str, optional
        Effect measure of the contrasts (taken from them when they carry one, as in
        :func:`netstrata.network`); ``summary(backtransf=True)`` then shows ratios.

    Returns
    -------
    ComponentNetworkResult
        Component effects, combination effects (every treatment; any new combination through
        ``.combination("A + B")``), league tables (``league(model)``, ``league_se(model)``), Q of
        the additive model, Q of the standard model and their difference (the test of
        additivity), tau², I².

    Raises
    ------
    DataError
        The inactive treatment is not a component of the network; an interaction names an
        unknown component or one never observed; the C matrix is rank-deficient (components
        that always occur together: the error names them); any problem of the contrasts (as
        :func:`netstrata.network`).
    ParameterError
        A bad ``sep``, ``method``, ``reference`` or ``interactions`` argument.

    Warns
    -----
    ComponentIdentifiabilityWarning
        Components not identifiable from the data (netmeta's warning); see ``.unidentifiable``.
    ReconnectedNetworkNotice
        The treatment network is disconnected (``discomb``).

    Notes
    -----
    With X = B C (m × c) and W the multi-arm adjusted weights (Rücker 2012), the component
    effects are ``beta = (Xᵀ W X)⁺ Xᵀ W y``, combinations ``theta = C beta``, and
    ``Q_additive = (y - X beta)ᵀ W (y - X beta)`` with df = Σ(arms - 1) - rank(X).  The test of
    additivity is ``Q_diff = Q_additive - Q_standard`` on ``n - 1 - rank(X)`` df (netmeta sets
    |Q_diff| < eps^0.75 to 0).  tau² = max(0, (Q_additive - df) / tr((I - H) M W)) (the
    generalised DerSimonian-Laird estimator with the additive model's hat matrix H); the
    random-effects model refits with the weights of se² + tau².

    References
    ----------
    Rücker G, Petropoulou M, Schwarzer G (2020). Network meta-analysis of multicomponent
    interventions. Biom J 62:808-821. doi:10.1002/bimj.201800167
    Rücker G, Schmitz S, Schwarzer G (2021). Component network meta-analysis compared to a
    matching method in a disconnected network: a case study. Biom J 63:447-461.
    doi:10.1002/bimj.201900339
    Rücker G (2012). Network meta-analysis, electrical networks and graph theory. Res Synth
    Methods 3:312-324. doi:10.1002/jrsm.1058

    Examples
    --------
    >>> import pandas as pd, netstrata
    >>> data = pd.DataFrame({"study": ["s1", "s2", "s3", "s4"],
    ...                      "treat1": ["A", "B", "A + B", "A + B"],
    ...                      "treat2": ["placebo", "placebo", "placebo", "A"],
    ...                      "effect": [0.5, 0.3, 0.9, 0.35], "se": [0.2, 0.2, 0.25, 0.3]})
    >>> res = netstrata.component_network(data, inactive="placebo")
    >>> res.component_effects("common").index.tolist()
    ['A', 'B']
    >>> round(float(res.combination_effects("common").loc["A + B", "effect"]), 6) == round(
    ...     float(res.component_effects("common")["effect"].sum()), 6)
    True
    """
    method = check_option(method, name="method", allowed=CNMA_METHODS, caller="component_network")
    contrasts, measure = contrast_input(contrasts, measure, "component_network")
    prep, excluded = prepare_contrasts(contrasts, "component_network")
    # netmeta setref: exact, else ignoring case ("placebo" -> "Placebo")
    reference = prep.treatments[0] if reference is None else check_option(
        str(reference), name="reference", allowed=prep.treatments, caller="component_network")
    design = component_design(prep.treatments, sep, inactive, interactions)
    blocks = multiarm_blocks(prep.study, prep.t1, prep.t2)
    counts = np.bincount(prep.study, minlength=len(prep.studies))
    narms = np.rint((1 + np.sqrt(8 * counts + 1)) / 2).astype(int)
    single = np.flatnonzero(counts[prep.study] == 1)
    x = design_x(design.C, prep.t1, prep.t2)
    rank, basis = rank_and_rowspace(x)
    labels = connected_components(prep.t1, prep.t2, prep.n)
    subnets = tuple(tuple(t for t, lab in zip(prep.treatments, labels) if lab == g)
                    for g in range(labels.max() + 1))
    connected = len(subnets) == 1
    df = int(np.sum(narms - 1) - rank)
    var_c = _weights(prep, 0.0, blocks)
    common = fit_additive(prep.te, 1.0 / var_c, prep.t1, prep.t2, design.C)
    tau2 = additive_tau2(common, df, 1.0 / var_c, prep.t1, prep.t2, single, blocks)
    var_r = _weights(prep, tau2 if np.isfinite(tau2) else 0.0, blocks)
    random = fit_additive(prep.te, 1.0 / var_r, prep.t1, prep.t2, design.C)
    standard = _standard(prep, excluded, method, str(reference)) if connected else None
    if not connected:
        warnings.warn(f"The network has {len(subnets)} sub-networks: "
                      + "; ".join("{" + ", ".join(s) + "}" for s in subnets)
                      + ". The additive model links them through shared components (netmeta discomb); "
                      "the standard model and the test of additivity are not available.",
                      ReconnectedNetworkNotice, stacklevel=2)
    not_ident, na_comp, na_trt = _identification(design, x, basis, connected)
    if not_ident:
        tail = (" They are set to NaN, with every combination containing one." if connected else
                " Components never contrasted are set to NaN; netmeta reports minimum-norm values for the "
                "others, kept for parity: read only comparisons marked in .estimable().")
        warnings.warn("Not identifiable from the data: component(s) " + ", ".join(map(repr, not_ident))
                      + "." + tail, ComponentIdentifiabilityWarning, stacklevel=2)
    return ComponentNetworkResult(design, prep, method, str(reference), 0.95, var_c, var_r, common, random,
                                  x, rank, basis, tau2, df, standard, subnets, not_ident, na_comp, na_trt,
                                  excluded, measure)
