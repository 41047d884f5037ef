"""Making user strings safe to hand to a spreadsheet or a terminal.

Two hazards, both from text that netstrata only passes through (study names, arm labels, notes):

* **CSV injection** (formula injection): a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return is run as a formula by Excel, LibreOffice and Google Sheets. Following
  OWASP's guidance such a *text* cell is written with a leading apostrophe (``'=HYPERLINK(...)``
  reads as text). Plain numbers (``-0.18``, ``+1e-3``) are left alone, so negative values in
  text columns (a double extraction's cells as typed) stay numbers.
* **Bidirectional overrides** (Trojan Source, CVE-2021-42574): the embedding, override and
  isolate controls U+202A..U+202E and U+2066..U+2069 reorder how the rest of a line is displayed.
  In CSV and terminal output each one is replaced by a visible ``<U+202E>`` marker.

The HTML report escapes markup and isolates user strings itself (``netstrata.present``). The
module imports nothing heavy at the top: the CLI's output filter uses it even while an
interrupted import is being reported.

References
----------
OWASP. CSV Injection. https://owasp.org/www-community/attacks/CSV_Injection
Boucher N, Anderson R. Trojan Source: Invisible Vulnerabilities. USENIX Security 2023.
doi:10.48550/arXiv.2111.00169
"""
from __future__ import annotations

import re

__all__ = ["BIDI_CONTROLS", "visible_bidi", "neutralise_cell", "safe_csv_frame", "FORMULA_PREFIXES"]

#: LRE, RLE, PDF, LRO, RLO and LRI, RLI, FSI, PDI
BIDI_CONTROLS = "".join(map(chr, (*range(0x202A, 0x202F), *range(0x2066, 0x206A))))
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
#: characters that make a spreadsheet read a cell as a formula (ASCII and their full-width forms)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def visible_bidi(text: str) -> str:
    """``text`` with every bidirectional embedding/override/isolate control shown as ``<U+XXXX>``."""
    if not isinstance(text, str) or not _BIDI.search(text):
        return text
    return _BIDI.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def neutralise_cell(value):
    """A CSV cell that no spreadsheet runs as a formula and that shows its bidi controls.

    Text starting with one of :data:`FORMULA_PREFIXES` gets a leading apostrophe, unless it is a
    plain number; anything that is not a string is returned unchanged.

    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")"), neutralise_cell("-0.18"), neutralise_cell(-2.5)
    ('\\'=HYPERLINK("http://x")', '-0.18', -2.5)
    """
    if not isinstance(value, str):
        return value
    value = visible_bidi(value)
    if value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_csv_frame(frame):
    """A copy of ``frame`` (a DataFrame) whose text cells and column names are neutralised for CSV
    export. Numeric columns are untouched; in object columns only ``str`` cells change.
    """
    import pandas as pd        # imported here: the CLI's output filter uses this module without pandas
    out = frame.copy()
    out.columns = [neutralise_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    for col in out.columns:
        series = out[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[col] = series.map(neutralise_cell, na_action="ignore").astype(series.dtype)
    return out
