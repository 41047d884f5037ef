"""Is a parsed ``results.json`` what ``netstrata run`` writes? :func:`check_results` says where not.

The report is rendered from a results file that may have been edited, truncated or written by
something else; a wrong type deep inside must give a message naming the place (``strata[2].layers``),
never a traceback. The structure is declared once, as data (:data:`RESULTS`), for the parts the
report reads.
"""
from __future__ import annotations

from typing import Mapping

from ..errors import DataError, Problem
from .result import SCHEMA_VERSION

__all__ = ["check_results", "RESULTS"]

_NUM = (int, float, type(None))
_OPT_MAP = (dict, type(None))
_OPT_LIST = (list, type(None))


class Optional_:
    """A key that may be absent."""

    __slots__ = ("spec",)

    def __init__(self, spec):
        self.spec = spec


_COMPARISON = {"treat1": str, "treat2": str, "estimate": _NUM, "ci_low": _NUM, "ci_high": _NUM}
_NETWORK = {"treatments": list, "study_rows": Optional_(list), "common": Optional_(list)}
_LAYER = {"layer": str, "comparisons": [_COMPARISON], "rates": Optional_([dict]),
          "network": Optional_((_NETWORK, type(None))), "notes": Optional_(list), "studies": Optional_(list)}
_STRATUM = {"name": Optional_(str), "outcome": Optional_(str), "layers": [_LAYER], "studies": Optional_(list),
            "primary_layer": Optional_((str, type(None))), "evidence_layers": Optional_(_OPT_LIST)}
RESULTS = {
    "schema_version": int, "name": str, "strata": [_STRATUM], "lumped": Optional_([_STRATUM]),
    "fingerprint": Optional_((str, type(None))), "notes": Optional_([str]),
    "record_counts": Optional_(_OPT_MAP), "settings": Optional_(_OPT_MAP),
    "exclusion_register": Optional_((list, type(None))), "strata_variables": Optional_(_OPT_LIST),
    "multiverse": Optional_(({"specifications": list, "curve": list, "robustness": list,
                              "curve_file": Optional_(str), "curve_rows": Optional_(int),
                              "curve_sha256": Optional_(str)}, type(None))),
    "certainty": Optional_(_OPT_MAP), "transitivity": Optional_(_OPT_MAP), "fidelity": Optional_(_OPT_MAP),
    "qc": Optional_(_OPT_MAP), "adjudication": Optional_(_OPT_MAP),
}


def _name(t) -> str:
    return {dict: "an object", list: "a list", str: "text", int: "a whole number", float: "a number",
            type(None): "null"}.get(t, getattr(t, "__name__", str(t)))


def _describe(spec) -> str:
    if isinstance(spec, dict):
        return "an object"
    if isinstance(spec, list):
        return "a list"
    if isinstance(spec, tuple):
        return " or ".join(_describe(s) for s in spec)
    return _name(spec)


def _fits(value, spec) -> bool:
    if isinstance(spec, dict):
        return isinstance(value, dict)
    if isinstance(spec, list):
        return isinstance(value, list)
    if isinstance(spec, tuple):
        return any(_fits(value, s) for s in spec)
    return isinstance(value, spec) and not (spec in (int, float) and isinstance(value, bool))


def _check(value, spec, where: str, out: list[str]) -> None:
    if isinstance(spec, tuple):
        spec = next((s for s in spec if _fits(value, s)), spec)
    if not _fits(value, spec):
        out.append(f"{where or 'the file'}: expected {_describe(spec)}, found {_name(type(value))}")
        return
    if isinstance(spec, list) and spec:
        for i, item in enumerate(value):
            _check(item, spec[0], f"{where}[{i}]", out)
    elif isinstance(spec, dict):
        for key, sub in spec.items():
            if isinstance(sub, Optional_):
                if key in value:
                    _check(value[key], sub.spec, f"{where}.{key}" if where else key, out)
            elif key not in value:
                out.append(f"{where + '.' if where else ''}{key}: missing")
            else:
                _check(value[key], sub, f"{where}.{key}" if where else key, out)


def check_results(doc, file: str = "results.json") -> Mapping:
    """Return ``doc`` if it has the structure of a ``results.json``; else raise DataError naming
    up to ten places where it does not."""
    out: list[str] = []
    _check(doc, RESULTS, "", out)
    if isinstance(doc, dict) and isinstance(doc.get("schema_version"), int) \
            and doc["schema_version"] != SCHEMA_VERSION:
        out.insert(0, f"schema_version: {doc['schema_version']} is not supported (expected {SCHEMA_VERSION})")
    if out:
        shown = [Problem(f"not a results file of `netstrata run`: {m}", file=file) for m in out[:10]]
        raise DataError(shown)
    return doc
