"""netstrata: clinically stratified network meta-analysis.

Layers (import only downward): data, taxonomy → effects → ma (pairwise) → nma (network)
→ appraisal, certainty → synthesis → present → cli. Each is available as an attribute after
``import netstrata`` (``netstrata.ma``, ``netstrata.nma``, ...), imported on first use.

Public entry points::

    netstrata.effect_sizes(measure, data=None, ...)  # metafor's escalc (netstrata's or metafor's names)
    netstrata.pairwise(es)                           # metafor's rma (+ predict, confint)
    netstrata.network(contrasts, ...)                # netmeta's netmeta
    netstrata.network_from_arms(arms, ...)           # pairwise() + netmeta()
    netstrata.component_network(contrasts, ...)      # netmeta's netcomb / discomb
    netstrata.class_network(contrasts, classes, ...) # class models (split, exchangeable, common)
    netstrata.threshold(net, ...)                    # nmathresh's threshold analysis
    netstrata.mantel_haenszel(...), netstrata.peto(...)   # metafor's rma.mh, rma.peto
    netstrata.netmetabin(arms, ...)                  # netmeta's netmetabin
    netstrata.load_review(folder)                    # a review project, validated
"""
import importlib as _importlib

from .errors import ConvergenceWarning, DataError, ParameterError, Problem, StatisticalWarning

__version__ = "0.1.0"

# name -> module that defines it; imported on first use so `import netstrata` stays cheap.
_LAZY = {
    "effect_sizes": "netstrata.effects",
    "pairwise": "netstrata.ma",
    "mantel_haenszel": "netstrata.ma",
    "peto": "netstrata.ma",
    "meta_regression": "netstrata.ma",
    "network": "netstrata.nma",
    "network_from_arms": "netstrata.nma",
    "netmetabin": "netstrata.nma",
    "component_network": "netstrata.nma",
    "class_network": "netstrata.nma",
    "threshold": "netstrata.nma",
    "load_review": "netstrata.data",
}

#: The layers, as subpackages (``netstrata.ma`` ...), imported on first attribute access.
LAYERS = ("data", "taxonomy", "effects", "ma", "nma", "appraisal", "certainty", "synthesis",
          "present", "cli")

__all__ = [
    *_LAZY,
    "ConvergenceWarning", "DataError", "ParameterError", "Problem", "StatisticalWarning",
    *LAYERS,
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name]), name)
    elif name in LAYERS:
        value = _importlib.import_module(f"netstrata.{name}")
    else:
        raise AttributeError(f"module 'netstrata' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*__all__, "__version__", "LAYERS"})
