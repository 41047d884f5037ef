"""Evidence layers side by side: randomised and non-randomised studies of one comparison,
separately and combined by a declared approach (never pooled silently).

- :mod:`.approaches`: the combination approaches as data (subgroup, moderator, downweight, separate);
- :mod:`.fit`: the fits of each approach;
- :mod:`.result`: :class:`LayeredResult`, :class:`DesignComparison`;
- :mod:`.combine`: :func:`combine_layers`, :func:`combine_layers_frame`, :func:`layer_spec`.
"""
from __future__ import annotations

from .approaches import DESIGN_CODES, LAYER_APPROACHES, LayerApproach
from .combine import LayerSpec, combine_layers, combine_layers_frame, layer_spec
from .result import DesignComparison, LayeredResult

__all__ = ["LayerApproach", "LAYER_APPROACHES", "LayerSpec", "layer_spec", "combine_layers",
           "combine_layers_frame", "LayeredResult", "DesignComparison", "DESIGN_CODES"]
