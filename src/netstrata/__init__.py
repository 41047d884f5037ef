"""netstrata: clinically stratified network meta-analysis.

Layers (import only downward): data, taxonomy → effects → ma (pairwise) → nma (network)
→ appraisal, certainty → synthesis → present → cli.

Public entry points::

    netstrata.effect_sizes(measure, ...)          # metafor's escalc
    netstrata.pairwise(effect, variance, ...)     # metafor's rma
    netstrata.network(contrasts, ...)             # netmeta's netmeta
    netstrata.network_from_arms(arms, ...)        # pairwise() + netmeta()
    netstrata.component_network(contrasts, ...)   # netmeta's netcomb / discomb
"""
from __future__ import annotations

from importlib import import_module

from .errors import ConvergenceWarning, DataError, ParameterError, Problem, StatisticalWarning

__version__ = "0.1.0"

# name -> module that defines it; imported on first use so `import netstrata` stays cheap.
_LAZY = {
    "effect_sizes": "netstrata.effects",
    "pairwise": "netstrata.ma",
    "network": "netstrata.nma",
    "network_from_arms": "netstrata.nma",
    "component_network": "netstrata.nma",
    "class_network": "netstrata.nma",
    "threshold": "netstrata.nma",
    "load_review": "netstrata.data",
}

__all__ = [
    "ConvergenceWarning", "DataError", "ParameterError", "Problem", "StatisticalWarning",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'netstrata' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
