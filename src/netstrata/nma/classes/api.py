"""Public entry point of the class-effect network models: :func:`class_network`."""
from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

from ..._collate import collate_key
from ..._validate import check_level, check_option
from ...errors import DataError, ParameterError, Problem
from .fit import CLASS_MODELS, class_inputs, fit_class_model
from .result import ClassNetworkResult
from ..kernel import connected_components
from ..network import SMALL_VALUES
from ..prepare import Prepared, contrast_input, prepare_contrasts
from ..result import NetworkResult

__all__ = ["class_network", "CLASS_METHODS"]

#: estimators of the variance components (registry data: code -> label, reference)
CLASS_METHODS = {
    "REML": ("restricted maximum likelihood (tau² as netmeta's rma.mv call)", "doi:10.18637/jss.v036.i03"),
    "ML": ("maximum likelihood", "doi:10.1080/01621459.1977.10480998"),
}
SIGMA2_OPTIONS = ("class", "shared")


def _prepared(contrasts, caller: str) -> tuple[Prepared, pd.DataFrame]:
    """Analysis rows from a contrasts table or from a fitted NetworkResult (its rows reused)."""
    if isinstance(contrasts, NetworkResult):
        if not contrasts.is_connected:
            raise DataError(_disconnected(contrasts.components))
        return contrasts.parts[0].prep, contrasts.excluded
    prep, excluded = prepare_contrasts(contrasts, caller)
    labels = connected_components(prep.t1, prep.t2, prep.n)
    if labels.max() > 0:
        raise DataError(_disconnected([tuple(t for t, c in zip(prep.treatments, labels) if c == k)
                                       for k in range(labels.max() + 1)]))
    return prep, excluded


def _disconnected(components) -> Problem:
    shown = "; ".join("{" + ", ".join(c) + "}" for c in components)
    return Problem("class_network needs a connected network of treatments", found=f"sub-networks {shown}",
                   expected="one connected network", hint="analyse each sub-network separately")


def _class_map(classes, treatments: tuple[str, ...]) -> dict[str, str]:
    """Treatment -> class label; every treatment of the network must have one (extra keys, e.g.
    the node map of a whole review, are ignored)."""
    if isinstance(classes, pd.DataFrame):
        if not {"treatment", "class"} <= set(classes.columns):
            raise ParameterError("The 'classes' parameter of class_network must be a mapping treatment -> class "
                                 "or a DataFrame with columns 'treatment' and 'class'. Got columns "
                                 f"{list(classes.columns)} instead.")
        classes = dict(zip(classes["treatment"].astype(str).str.strip(), classes["class"]))
    elif isinstance(classes, pd.Series):
        classes = classes.to_dict()
    if not isinstance(classes, Mapping):
        raise ParameterError("The 'classes' parameter of class_network must be a mapping treatment -> class. "
                             f"Got {type(classes).__name__} instead.")
    lookup = {str(k).strip(): v for k, v in classes.items()}
    problems, out = [], {}
    for t in treatments:
        v = lookup.get(t)
        if v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip():
            problems.append(Problem("treatment has no class", column="classes", found=t,
                                    expected="a class label for every treatment of the network"))
        else:
            out[t] = str(v).strip()
    if problems:
        raise DataError(problems)
    return out


def class_network(contrasts, classes, *, model: str = "exchangeable", method: str = "REML",
                  reference: str | None = None, small_values: str = "desirable",
                  sigma2: str = "class", level: float = 0.95, measure: str | None = None) -> ClassNetworkResult:
    """Network meta-analysis with treatments nested in classes (class-effect models).

    Parameters
    ----------
    contrasts : DataFrame or NetworkResult
        Study comparisons as for :func:`netstrata.network` (``study, treat1, treat2, effect,
        se``), or a fitted (connected) ``NetworkResult`` whose comparisons are reused.
    classes : mapping or DataFrame
        Treatment -> class label (or columns ``treatment``, ``class``); every treatment of the
        network needs one; labels of other treatments are ignored.
    model : {"exchangeable", "independent", "common"}, default="exchangeable"
        ``independent``: each treatment its own effect (``network()``, the split network);
        ``exchangeable``: ``d_k ~ N(mu_class, sigma²_class)``, treatment effects borrow strength
        from their class in proportion to how similar the class members are; ``common``: one
        effect per class (``network()`` on treatments relabelled by class, the lumped network).
    method : {"REML", "ML"}, default="REML"
        Estimator of tau² and the within-class variances.
    reference : str, optional
        Reference treatment (default netmeta's, the first in order).  Its class effect is 0: the
        other members of its class, if any, vary around 0.
    small_values : {"desirable", "undesirable"}
        Direction for P-scores.
    sigma2 : {"class", "shared"}, default="class"
        One within-class variance per class, or one shared by all classes.  A class with one
        member has no within-class variance.
    level : float
        Confidence level.
    measure : str, optional
        Effect measure of the contrasts (taken from them, or from the NetworkResult, when they
        carry one); ``summary(backtransf=True)`` then shows ratios.

    Returns
    -------
    ClassNetworkResult
        ``league(model)``, ``league_se(model)``, ``p_scores(model)``, ``tau2``,
        ``class_effects``, ``sigma2_class`` and ``compare()`` (the three class models side by
        side: log-likelihood, AIC, likelihood-ratio test, shrinkage).

    Notes
    -----
    The data model is netmeta's random-effects NMA: the likelihood is that of netmeta's REML
    data reduction (:func:`netstrata.nma.component.reml_data`), and estimates at the maximum
    come from the graph fit with tau² added (Rücker 2012), so ``model="independent"`` equals
    ``network(method="REML")`` and ``model="common"`` equals ``network()`` on relabelled
    treatments (when no study compares two members of one class, and, for multi-arm studies,
    when the contrasts carry arm-level columns so netmeta's REML uses their covariance).  A
    comparison of two members of one class stays in the data: under the common model it
    informs only the heterogeneity.  The class layer is solved by Henderson's mixed model
    equations; ``sigma² -> 0`` gives the common model and ``sigma² -> inf`` the independent one.
    Standard errors of the exchangeable model are prediction-error standard errors given the
    estimated variances (as metafor's BLUPs).

    Examples
    --------
    >>> import pandas as pd, netstrata
    >>> df = pd.DataFrame({"study": ["s1", "s2", "s3", "s4", "s5"], "treat1": ["A1", "A2", "B", "A1", "A2"],
    ...                    "treat2": ["P", "P", "P", "B", "P"], "effect": [-0.5, -0.3, -0.1, -0.4, -0.6],
    ...                    "se": [0.2, 0.2, 0.2, 0.3, 0.25]})
    >>> fit = netstrata.class_network(df, {"P": "P", "A1": "A", "A2": "A", "B": "B"}, reference="P")
    >>> fit.class_effects.loc["A", "members"]
    'A1; A2'
    >>> list(fit.compare().models["model"])
    ['independent', 'exchangeable', 'common']

    References
    ----------
    Dias S, Welton NJ, Sutton AJ, Ades AE (2011, updated 2016). NICE DSU Technical Support
    Document 2: a generalised linear modelling framework for pairwise and network meta-analysis
    of randomised controlled trials. https://www.sheffield.ac.uk/nice-dsu/tsds
    Perren SJ, Pedder H, Welton NJ, Phillippo DM (2025). Network meta-analysis with class
    effects: a practical guide and model selection algorithm. Med Decis Making.
    doi:10.1177/0272989X251389887
    Phillippo DM (2025). multinma: Bayesian network meta-analysis of individual and aggregate
    data (R package, class effects since 0.8.0). doi:10.5281/zenodo.3904454
    Henderson CR (1975). Best linear unbiased estimation and prediction under a selection model.
    Biometrics 31:423-447. doi:10.2307/2529430
    """
    model = check_option(model, name="model", allowed=tuple(CLASS_MODELS), caller="class_network")
    method = check_option(method, name="method", allowed=tuple(CLASS_METHODS), caller="class_network")
    small_values = check_option(SMALL_VALUES.get(small_values, small_values), name="small_values",
                                allowed=("desirable", "undesirable"), caller="class_network")
    sigma2 = check_option(sigma2, name="sigma2", allowed=SIGMA2_OPTIONS, caller="class_network")
    level = check_level(level, caller="class_network")
    if isinstance(contrasts, NetworkResult):
        measure = measure if measure is not None else contrasts.measure
    else:
        contrasts, measure = contrast_input(contrasts, measure, "class_network")
    prep, excluded = _prepared(contrasts, "class_network")
    if reference is None:
        reference = prep.treatments[0]
    reference = check_option(str(reference), name="reference", allowed=prep.treatments, caller="class_network",
                             ignore_case=False)
    class_of = _class_map(classes, prep.treatments)
    labels = tuple(sorted(set(class_of.values()), key=collate_key))
    codes = np.array([labels.index(class_of[t]) for t in prep.treatments])
    inputs = class_inputs(prep, codes, labels, prep.treatments.index(reference), sigma2 == "shared")
    reml = method == "REML"
    fits = {e: fit_class_model(inputs, model, reml=reml, effects=e) for e in ("common", "random")}
    notes = _notes(inputs, fits, class_of, model)
    return ClassNetworkResult(prep.treatments, labels, MappingProxyType(class_of), reference, model, method,
                              small_values, level, sigma2, MappingProxyType(fits), inputs, excluded, notes,
                              measure)


def _notes(inputs, fits, class_of, model) -> tuple[str, ...]:
    notes = [inputs.note] if inputs.note else []
    if not all(f.converged for f in fits.values()):
        notes.append("the optimiser of the variance components did not report convergence; the best "
                     "likelihood found is used")
    singles = sorted((c for c in inputs.classes if list(class_of.values()).count(c) == 1), key=collate_key)
    if singles and model == "exchangeable":
        notes.append("class(es) with one member have no within-class variance: " + ", ".join(singles))
    within = {(inputs.prep.t1[i], inputs.prep.t2[i]) for i in range(len(inputs.prep.t1))
              if inputs.class_of[inputs.prep.t1[i]] == inputs.class_of[inputs.prep.t2[i]]}
    if within and model == "common":
        notes.append(f"{len(within)} comparison(s) between members of one class inform only the heterogeneity "
                     "under the common class model")
    return tuple(notes)
