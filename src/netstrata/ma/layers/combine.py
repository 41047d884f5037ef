"""Evidence layers: randomised and non-randomised comparative studies, side by side (issue 9).

Non-randomised comparative studies (NRS) are their own evidence layer. :func:`combine_layers`
always fits the randomised-only (RCT) layer and the NRS-only layer separately and, only when an
explicit, documented approach asks for it, a combined analysis next to them:

========== =================================================================================
approach   what the ``combined`` result is
========== =================================================================================
separate   nothing: the layers are reported side by side (default)
subgroup   all studies pooled ignoring design (the "overall" row of a subgroup forest plot),
           with the between-design test (design as a subgroup)
moderator  the RCT-level estimate of the meta-regression on design (common τ²); the design
           coefficient (NRS − RCT) is in ``comparison``
downweight NRS variances multiplied by ``inflation`` (≥ 1) and ``shift`` subtracted from NRS
           effects, then pooled with the RCTs (bias-adjusted / design-adjusted analysis)
========== =================================================================================

Single-arm studies are refused: their outcome rates are a separate outcome-rate layer
(:func:`~netstrata.ma.pooled_proportion`) and never enter a comparative analysis.

References
----------
Cuello-Garcia, C. A. et al. (2022). GRADE guidance 24: optimizing the integration of randomized
and non-randomized studies of interventions in evidence syntheses and health guidelines.
*J Clin Epidemiol* 142:200-208. doi:10.1016/j.jclinepi.2021.11.026
Borenstein, M. & Higgins, J. P. T. (2013). Meta-analysis and subgroups. *Prev Sci* 14(2):134-143.
doi:10.1007/s11121-013-0377-7
Thompson, S. G. & Higgins, J. P. T. (2002). How should meta-regression analyses be undertaken
and interpreted? *Stat Med* 21(11):1559-1573. doi:10.1002/sim.1187
Turner, R. M., Spiegelhalter, D. J., Smith, G. C. S. & Thompson, S. G. (2009). Bias modelling in
evidence synthesis. *J R Stat Soc A* 172(1):21-47. doi:10.1111/j.1467-985X.2008.00547.x
Efthimiou, O. et al. (2017). Combining randomized and non-randomized evidence in network
meta-analysis. *Stat Med* 36(8):1210-1226. doi:10.1002/sim.7223
Balshem, H. et al. (2011). GRADE guidelines: 3. Rating the quality of evidence.
*J Clin Epidemiol* 64(4):401-406. doi:10.1016/j.jclinepi.2010.07.015
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._validate import check_option
from ...errors import ParameterError
from .fit import fit_layers
from .approaches import DESIGN_CODES, LAYER_APPROACHES, LayerApproach
from .result import LayeredResult
from ..pairwise import validate_inputs

__all__ = ["LayerSpec", "layer_spec", "combine_layers", "combine_layers_frame"]


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """A validated choice of approach and its parameters (``None`` where the approach has none)."""

    approach: str = "separate"
    inflation: float | None = None
    shift: float | None = None
    common_tau2: bool = False

    @property
    def entry(self) -> LayerApproach:
        return LAYER_APPROACHES[self.approach]


def _number(value, name: str, caller: str, minimum: float | None = None) -> float:
    """A finite real number (not a bool), at least ``minimum``."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    x = float(value) if ok else float("nan")
    if not math.isfinite(x) or (minimum is not None and x < minimum):
        bound = f" >= {minimum:g}" if minimum is not None else ""
        raise ParameterError(f"The '{name}' parameter of {caller} must be a finite number{bound}. "
                             f"Got {value!r} instead.")
    return x


def layer_spec(approach: str = "separate", *, inflation=None, shift=None, common_tau2: bool = False,
               caller: str = "layer_spec") -> LayerSpec:
    """Validate an approach and its parameters once (e.g. when a plan is read).

    ``inflation`` is required for ``approach='downweight'`` (there is no default down-weighting)
    and refused for the other approaches, as are ``shift`` and ``common_tau2`` outside the
    approaches that use them, so a parameter is never silently ignored.

    >>> layer_spec("downweight", inflation=2)
    LayerSpec(approach='downweight', inflation=2.0, shift=0.0, common_tau2=False)
    """
    approach = check_option(approach, name="approach", allowed=tuple(LAYER_APPROACHES), caller=caller)
    takes = LAYER_APPROACHES[approach].parameters
    given = {"inflation": inflation, "shift": shift, "common_tau2": common_tau2 or None}
    for name, value in given.items():
        if value is not None and name not in takes:
            users = [a.code for a in LAYER_APPROACHES.values() if name in a.parameters]
            raise ParameterError(f"The '{name}' parameter of {caller} is only used by approach "
                                 f"{users[0]!r}; got {name}={value!r} with approach={approach!r}.")
    if not isinstance(common_tau2, (bool, np.bool_)):
        raise ParameterError(f"The 'common_tau2' parameter of {caller} must be True or False. "
                             f"Got {common_tau2!r} instead.")
    if approach != "downweight":
        return LayerSpec(approach=approach, common_tau2=bool(common_tau2))
    if inflation is None:
        raise ParameterError(f"The 'inflation' parameter of {caller} is required for approach 'downweight': "
                             "the factor (>= 1) multiplying the variances of the non-randomised studies "
                             "(1 = no down-weighting). There is no default; state it in the plan.")
    return LayerSpec(approach=approach, inflation=_number(inflation, "inflation", caller, minimum=1.0),
                     shift=0.0 if shift is None else _number(shift, "shift", caller))


def _designs(design, k: int, caller: str) -> np.ndarray:
    """Design labels as an object array of canonical codes; single-arm and unknown labels refused."""
    labels = pd.Series(design, dtype=object).reset_index(drop=True) if not isinstance(design, str) else None
    if labels is None or len(labels) != k:
        n = 1 if labels is None else len(labels)
        raise ParameterError(f"The arguments of {caller} must have the same length; got effect={k}, design={n}.")
    canon = {c.lower(): c for c in (*DESIGN_CODES, "single_arm")}
    out = []
    for i, lab in enumerate(labels):
        code = canon.get(str(lab).lower()) if isinstance(lab, str) else None
        if code == "single_arm":
            raise ParameterError(
                f"The 'design' parameter of {caller} labels position {i} 'single_arm': single-arm outcome "
                "rates are a separate outcome-rate layer (pooled_proportion) and are never combined with "
                "comparative effects. Leave single-arm studies out of this analysis.")
        if code is None:
            shown = "{" + ", ".join(repr(c) for c in DESIGN_CODES) + "}"
            raise ParameterError(f"The 'design' parameter of {caller} must hold one of {shown} for every "
                                 f"study; position {i} is {lab!r}.")
        out.append(code)
    return np.array(out, dtype=object)


def _studies(study, k: int, caller: str) -> np.ndarray | None:
    if study is None:
        return None
    names = pd.Series(study, dtype=object).reset_index(drop=True) if not isinstance(study, str) else None
    if names is None or len(names) != k:
        n = 1 if names is None else len(names)
        raise ParameterError(f"The arguments of {caller} must have the same length; got effect={k}, study={n}.")
    if names.isna().any():
        raise ParameterError(f"The 'study' parameter of {caller} has missing labels at positions "
                             f"{np.flatnonzero(names.isna().to_numpy()).tolist()}.")
    names = names.astype(str)
    dup = names[names.duplicated()].unique().tolist()
    if dup:
        raise ParameterError(f"The 'study' parameter of {caller} must name each study once; repeated: {dup}.")
    return names.to_numpy(dtype=object)


def canonical_order(y: np.ndarray, v: np.ndarray, design: np.ndarray, study: np.ndarray | None) -> np.ndarray:
    """Analysis order: RCTs first, then by study label (or by effect, then variance, without labels).

    Sorting on the data (not on the input positions) makes every result independent of the
    order in which the studies were given, to the last bit.
    """
    rank = np.array([DESIGN_CODES.index(d) for d in design])
    if study is not None:
        return np.array(sorted(range(y.size), key=lambda i: (rank[i], study[i])), dtype=int)
    return np.lexsort((v, y, rank))


def combine_layers(effect, variance, design, *, approach: str = "separate", method: str = "REML",
                   ci: str = "wald", level: float = 0.95, inflation=None, shift=None,
                   common_tau2: bool = False, study=None) -> LayeredResult:
    """Analyse randomised and non-randomised comparative studies as separate evidence layers.

    Parameters
    ----------
    effect, variance : array-like (k,)
        Study effects (analysis scale, e.g. log odds ratios) and sampling variances (> 0).
    design : array-like of str (k,)
        ``"RCT"`` or ``"NRS_comparative"`` per study (``data.spec.DESIGNS`` codes, any case).
        ``"single_arm"`` is refused: single-arm rates are a separate outcome-rate layer.
    approach : {"separate", "subgroup", "moderator", "downweight"}, default="separate"
        How (if at all) the layers are combined; see :data:`LAYER_APPROACHES` and the module
        docstring. The RCT-only and NRS-only results are always reported.
    method, ci, level
        As in :func:`netstrata.pairwise` (τ² estimator, ``"wald"``/``"hksj"``, confidence level),
        used for every fit.
    inflation : float >= 1, required for ``approach="downweight"``
        Factor multiplying the sampling variances of the NRS (their weight falls roughly by it).
    shift : float, default 0 for ``approach="downweight"``
        Expected bias of the NRS on the analysis scale, subtracted from their effects.
    common_tau2 : bool, default False (``approach="subgroup"`` only)
        False: per-design estimates are the separate fits (separate τ² per design, RevMan's
        default) and the test is Q-between. True: per-design estimates and the test (QM) come
        from the meta-regression on design with one τ² (identical to ``approach="moderator"``).
    study : array-like of str (k,), optional
        Unique study labels, kept in the result; they also fix the analysis order.

    Returns
    -------
    LayeredResult
        ``rct``, ``nrs`` and ``combined`` (each a :class:`PairwiseResult` or None with a reason),
        ``comparison`` (NRS − RCT, for subgroup and moderator), ``fallback`` and ``certainty_note``.

    Notes
    -----
    The combined estimate is never produced without the RCT-only one: with no RCT in the data,
    ``combined`` is None, ``fallback == "nrs"`` and ``certainty_note`` says the evidence is
    observational only (GRADE: start at Low; Balshem 2011). Studies are analysed in a canonical
    order (``order`` gives the input positions) so results do not depend on the input order.

    For ``downweight`` the analysed data are ``y_i − shift`` and ``inflation · v_i`` for NRS
    (Turner 2009 with a proportional bias variance; Efthimiou 2017's design-adjusted analysis
    with weight 1/inflation). ``inflation=1, shift=0`` pools all studies; as ``inflation → ∞``
    the combined estimate tends to the RCT-only one for FE, REML and ML (to metafor's stopping
    rule, since Fisher scoring starts from the HE estimate, which counts the down-weighted
    studies; where the ML likelihood has a boundary and an interior maximum the two fits can
    stop at different ones). Moment estimators of τ² (DL, HE, ...) keep the down-weighted
    studies in their degrees of freedom, so their limit is the RCT-only mean with a smaller τ².

    Examples
    --------
    >>> from netstrata.ma.layers import combine_layers
    >>> y = [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01]
    >>> v = [0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004]
    >>> d = ["RCT", "RCT", "RCT", "RCT", "NRS_comparative", "NRS_comparative", "RCT", "NRS_comparative"]
    >>> res = combine_layers(y, v, d, approach="downweight", inflation=4, method="DL")
    >>> res.layers
    ('rct', 'nrs', 'combined')
    >>> round(res.rct.estimate, 4), round(res.combined.estimate, 4)
    (-1.4358, -0.95)
    >>> combine_layers(y[4:6], v[4:6], d[4:6]).certainty_note
    'observational evidence only: start at Low (GRADE)'
    """
    caller = "combine_layers"
    y, v, method, ci, level = validate_inputs(effect, variance, method, ci, level, caller)
    spec = layer_spec(approach, inflation=inflation, shift=shift, common_tau2=common_tau2, caller=caller)
    labels = _designs(design, y.size, caller)
    names = _studies(study, y.size, caller)
    order = canonical_order(y, v, labels, names)
    names = np.array([str(i + 1) for i in range(y.size)], dtype=object) if names is None else names
    return fit_layers(y[order], v[order], labels[order], names[order], order, spec, method, ci, level)


def combine_layers_frame(frame: pd.DataFrame, spec: LayerSpec | None = None, *, method: str = "REML",
                         ci: str = "wald", level: float = 0.95) -> LayeredResult:
    """:func:`combine_layers` on a table of ONE comparison with glossary columns.

    ``frame`` has ``effect``, ``variance`` or ``se``, ``design`` and optionally ``study`` (e.g. the
    rows of one treat1/treat2 pair of the synthesis contrasts table); ``spec`` comes from
    :func:`layer_spec` (default: ``separate``).
    """
    caller = "combine_layers_frame"
    missing = [c for c in ("effect", "design") if c not in frame.columns]
    if "variance" not in frame.columns and "se" not in frame.columns:
        missing.append("variance (or se)")
    if missing:
        raise ParameterError(f"The 'frame' parameter of {caller} lacks the columns {missing}; "
                             f"got {list(frame.columns)}.")
    spec = spec or LayerSpec()
    variance = frame["variance"] if "variance" in frame.columns else frame["se"].astype(float) ** 2
    return combine_layers(frame["effect"], variance, frame["design"], approach=spec.approach, method=method,
                          ci=ci, level=level, inflation=spec.inflation,
                          shift=spec.shift if spec.approach == "downweight" else None,
                          common_tau2=spec.common_tau2, study=frame["study"] if "study" in frame.columns else None)
