"""The effect measures netstrata knows, each declared once (code, label, kind, inputs, scale, back-transform, DOI).

Validation of ``effect_sizes``, axis labels, back-transformation and the report's methods text all
read this registry; nothing else lists the measures. Codes and defaults follow metafor 3.8-1
``escalc`` (e.g. ``default_add`` is 0 for the arcsine-type measures, 1/2 otherwise).

Back-transforms: ``exp`` for log measures; the inverse logit for PLO; ``sin(x)^2`` for PAS (clipped
to [0, 1], metafor's ``transf.iarcsin``); ``tanh`` for ZCOR; Miller's (1978) inverse for PFT, which
needs the (harmonic mean) sample size ``n``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.special import expit

from ..errors import ParameterError, closest
from . import _kernels as k

__all__ = ["Measure", "MEASURES", "get_measure", "INPUT_KINDS"]

METAFOR_DOI = "10.18637/jss.v036.i03"

# Which arguments of effect_sizes each kind of measure reads, in kernel order.
INPUT_KINDS: dict[str, tuple[str, ...]] = {
    "binary": ("events_1", "n_1", "events_2", "n_2"),
    "continuous": ("mean_1", "sd_1", "n_1", "mean_2", "sd_2", "n_2"),
    "proportion": ("events", "n"),
    "correlation": ("r", "n"),
    "rate": ("events_1", "time_1", "events_2", "time_2"),
}


def _identity(x, n=None):
    return np.asarray(x, dtype=float)


def _exp(x, n=None):
    return np.exp(np.asarray(x, dtype=float))


def _expit(x, n=None):
    return expit(np.asarray(x, dtype=float))


def _tanh(x, n=None):
    return np.tanh(np.asarray(x, dtype=float))


def _iarcsin(x, n=None):
    x = np.asarray(x, dtype=float)
    return np.where(x < 0, 0.0, np.where(x > np.arcsin(1.0), 1.0, np.sin(x) ** 2))


def _ipft(x, n=None):
    """Miller (1978) inverse of the double arcsine, p = (1 - sgn(cos 2x) sqrt(1 - (sin 2x + (sin 2x - 1/sin 2x)/n)^2)) / 2."""
    if n is None:
        raise ParameterError("Back-transforming measure 'PFT' needs the sample size 'n' (harmonic mean of the studies' n).")
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sin(2 * x)
        p = 0.5 * (1 - np.sign(np.cos(2 * x)) * np.sqrt(1 - (s + (s - 1 / s) / n) ** 2))
        lo = 0.5 * (np.arcsin(0.0) + np.arcsin(np.sqrt(1 / (n + 1))))
        hi = 0.5 * (np.arcsin(np.sqrt(n / (n + 1))) + np.arcsin(1.0))
    return np.where(x > hi, 1.0, np.where(x < lo, 0.0, p))


@dataclass(frozen=True, slots=True)
class Measure:
    """One effect measure.

    Attributes
    ----------
    code : str            metafor's code, e.g. ``"OR"``.
    label : str           human label on the natural scale, e.g. ``"Odds ratio"``.
    kind : str            one of ``INPUT_KINDS`` (which arguments it needs).
    scale : str           analysis scale: "log", "identity", "logit", "arcsine", "double arcsine", "Fisher z".
    kernel : callable     ``kernel(*cells, vtype=...) -> (effect, variance)``.
    doi : str             primary reference.
    vtypes : tuple        sampling-variance estimators accepted (first is the default).
    default_add : float   metafor's default continuity correction for this measure.
    two_group : bool      effect is group 1 minus group 2 (swapping groups negates it).
    """

    code: str
    label: str
    kind: str
    scale: str
    kernel: Callable = field(repr=False)
    doi: str = METAFOR_DOI
    vtypes: tuple[str, ...] = ("LS",)
    default_add: float = 0.5
    two_group: bool = True
    back: Callable = field(default=_identity, repr=False)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The arguments of ``effect_sizes`` this measure requires."""
        return INPUT_KINDS[self.kind]

    @property
    def is_ratio(self) -> bool:
        """True for measures analysed on the log scale (CI symmetric on that scale)."""
        return self.scale == "log"

    @property
    def null(self) -> float:
        """No-effect value on the analysis scale (two-group measures only)."""
        return 0.0

    @property
    def scale_label(self) -> str:
        """The analysis scale in words, for table notes and CSV columns: "log risk ratio",
        "mean difference", "logit proportion", "correlation (Fisher z scale)"."""
        label = self.label[0].lower() + self.label[1:]
        if self.scale in ("identity", "arcsine difference"):
            return label
        if self.scale in ("log", "logit"):
            return f"{self.scale} {label}"
        return f"{label} ({self.scale} scale)"

    @property
    def axis_label(self) -> str:
        return f"{self.label} (log scale)" if self.is_ratio else self.label

    def back_transform(self, values, n=None) -> np.ndarray:
        """Map values on the analysis scale to the natural scale (``n`` is needed only for PFT)."""
        return self.back(values, n)


def _m(*args, **kw) -> Measure:
    return Measure(*args, **kw)


MEASURES: dict[str, Measure] = {m.code: m for m in (
    _m("OR", "Odds ratio", "binary", "log", k.log_odds_ratio, "10.1111/j.1469-1809.1955.tb01285.x", back=_exp),
    _m("RR", "Risk ratio", "binary", "log", k.log_risk_ratio, "10.2307/2530610", back=_exp),
    _m("RD", "Risk difference", "binary", "identity", k.risk_difference, "10.1002/9780470743386",
       vtypes=("LS", "UB", "AV")),
    _m("PETO", "Odds ratio (Peto)", "binary", "log", k.peto_log_odds_ratio,
       "10.1016/S0033-0620(85)80003-7", back=_exp),
    _m("AS", "Arcsine risk difference", "binary", "arcsine difference", k.arcsine_difference,
       "10.1002/sim.3511", default_add=0.0),
    _m("MD", "Mean difference", "continuous", "identity", k.mean_difference, "10.1002/9780470743386",
       vtypes=("LS", "UB", "HO")),
    _m("SMD", "Standardized mean difference (Hedges' g)", "continuous", "identity",
       k.standardized_mean_difference, "10.3102/10769986006002107", vtypes=("LS", "UB", "LS2", "AV")),
    _m("ROM", "Ratio of means", "continuous", "log", k.log_ratio_of_means,
       "10.1890/0012-9658(1999)080[1150:TMAORR]2.0.CO;2", vtypes=("LS", "HO"), back=_exp),
    _m("PR", "Proportion", "proportion", "identity", k.raw_proportion, vtypes=("LS", "UB", "AV"),
       two_group=False),
    _m("PLN", "Proportion", "proportion", "log", k.log_proportion, two_group=False, back=_exp),
    _m("PLO", "Proportion", "proportion", "logit", k.logit_proportion, vtypes=("LS", "AV"),
       two_group=False, back=_expit),
    _m("PAS", "Proportion", "proportion", "arcsine", k.arcsine_proportion, default_add=0.0,
       two_group=False, back=_iarcsin),
    _m("PFT", "Proportion", "proportion", "double arcsine", k.freeman_tukey_proportion,
       "10.1214/aoms/1177729756", default_add=0.0, two_group=False, back=_ipft),
    _m("COR", "Correlation", "correlation", "identity", k.raw_correlation, vtypes=("LS", "AV"),
       two_group=False),
    _m("ZCOR", "Correlation", "correlation", "Fisher z", k.fisher_z_correlation, two_group=False, back=_tanh),
    _m("IRR", "Incidence rate ratio", "rate", "log", k.log_incidence_rate_ratio, back=_exp),
    _m("IRD", "Incidence rate difference", "rate", "identity", k.incidence_rate_difference),
)}


def get_measure(code, *, caller: str = "effect_sizes") -> Measure:
    """Look up a measure by code (case-insensitive); unknown codes raise ParameterError with the closest match."""
    if isinstance(code, Measure):
        return code
    if isinstance(code, str):
        hit = MEASURES.get(code.upper())
        if hit is not None:
            return hit
    allowed = "{" + ", ".join(repr(c) for c in MEASURES) + "}"
    hint = closest(code, MEASURES) if isinstance(code, str) else None
    tail = f" Did you mean {hint!r}?" if hint else ""
    raise ParameterError(f"The 'measure' parameter of {caller} must be one of {allowed}. Got {code!r} instead.{tail}")
