"""From a run's results to the report's context (presentation only reads results).

- :mod:`.assemble`: :func:`build_context` (a ProjectResult or its ``results.json`` -> ReportContext);
- :mod:`.lead`: the stratified-versus-lumped forests that lead the results;
- :mod:`.sof`: the summary of findings; :mod:`.certainty`: certainty tables per framework;
- :mod:`.sections`, :mod:`.figures`, :mod:`.audit`, :mod:`.extras`: the other sections.
"""
from __future__ import annotations

from .assemble import (
    build_context,
    certainty_cells,
    comparison_frame,
    key_facts,
    report_data,
)

__all__ = ["build_context", "report_data", "comparison_frame", "certainty_cells", "key_facts"]
