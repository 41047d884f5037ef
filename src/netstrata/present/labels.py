"""Labels for display: the run's glossary (``results.json`` ``labels``) looked up with fallbacks.

Codes never reach a reader's eye except in the glossary appendix: a code without a label shows
with underscores as spaces. :meth:`Labels.join` isolates each item for bidirectional text
(FSI ... PDI), so a right-to-left override inside one study name cannot reverse the next one in
a joined cell.
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping

from .svg import iso

_API_REF = re.compile(r"\s*\(see \.?[A-Za-z_]+(\(\))?\)")

__all__ = ["Labels", "humanise"]


def humanise(code) -> str:
    return str(code).replace("_", " ").strip() if code is not None else ""


def _replace_whole(code: str, label: str, text: str) -> str:
    """``text`` with each whole-token ``code`` (not part of a longer code or an ``A:B`` pair)
    replaced by ``label``, taken literally (a function replacement, so ``\\`` in a label stays)."""
    return re.sub(rf"(?<![\w+:]){re.escape(code)}(?![\w+:])", lambda _m: label, text)


class Labels:
    """Display labels of one run (``labels`` of results.json)."""

    def __init__(self, glossary: Mapping | None):
        self.g = {k: dict(v or {}) for k, v in (glossary or {}).items()}

    def _get(self, kind: str, code, field: str = "short") -> str:
        if code is None:
            return ""
        entry = self.g.get(kind, {}).get(str(code))
        return entry.get(field) or entry.get("label") if entry else humanise(code)

    def treatment(self, code, *, full: bool = False) -> str:
        return self._get("treatments", code, "label" if full else "short")

    def stratum(self, name) -> str:
        return self._get("strata", name)

    def where(self, name) -> str:
        """The stratum's values only (e.g. "Cervical · Cervical facet pain after whiplash")."""
        return self._get("strata", name, "values")

    def outcome(self, code, *, full: bool = False) -> str:
        return self._get("outcomes", code, "label" if full else "short")

    def variable(self, code) -> str:
        return self._get("variables", code)

    def value(self, variable, code) -> str:
        entry = self.g.get("values", {}).get(str(variable), {}).get(str(code))
        return (entry or {}).get("short") or humanise(code)

    def level(self, code) -> str:
        return self._get("levels", code)

    def checklist(self, code) -> str:
        return self._get("checklists", code)

    def item(self, code) -> str:
        return self._get("items", code)

    def reason(self, code) -> str:
        return self._get("reasons", code, "label")

    def layer(self, code) -> str:
        return self._get("layers", code)

    def design(self, code) -> str:
        return self._get("designs", code, "label")

    def relabel(self, text) -> str:
        """Free text from a lower layer (a note, a message, a certainty footnote) with treatment
        codes replaced by their labels, comparisons written ``A:B`` (netmeta's style, e.g. in
        GRADE-for-NMA steps) as "label A vs label B", and references to result attributes ("see
        .not_comparable") removed."""
        out = _API_REF.sub("", str(text))
        codes = [c for c in sorted(self.g.get("treatments", {}), key=len, reverse=True) if c in out]
        if ":" in out:
            for a in codes:
                for b in codes:
                    pair = f"{a}:{b}"
                    if a != b and pair in out:
                        out = _replace_whole(pair, self.comparison(a, b), out)
        for code in codes:
            if len(code) >= 4 and code in out:
                out = _replace_whole(code, self.treatment(code), out)
        return out

    def choice(self, dimension: str, value) -> str:
        """A multiverse choice as words: ``fidelity_tier=T1|T2`` -> ``fidelity tier T1 or T2``."""
        value = str(value)
        if dimension == "node_level":
            return self.level(value)
        if "=" in value:
            col, _, vals = value.partition("=")
            return f"{humanise(col)} {' or '.join(vals.split('|'))}"
        return humanise(value)

    def comparison(self, a, b) -> str:
        return f"{self.treatment(a)} vs {self.treatment(b)}"

    def codes(self, codes: str, kind: str = "items", sep: str = ";") -> str:
        """A ``sep``-joined list of codes (e.g. failing checklist items) as labels."""
        parts = [p.strip() for p in str(codes or "").replace("|", sep).split(sep) if p.strip()]
        return "; ".join(self._get(kind, p) for p in parts)

    @staticmethod
    def join(items: Iterable, sep: str = "; ") -> str:
        """User strings joined, each isolated for bidirectional text."""
        return sep.join(iso(x) for x in items if str(x))

    def glossary_rows(self) -> list[dict]:
        """Every code with its label (the glossary appendix)."""
        titles = {"treatments": "Treatment node", "strata": "Stratum", "outcomes": "Outcome",
                  "variables": "Stratification variable", "levels": "Node level", "checklists": "Fidelity checklist",
                  "items": "Checklist item", "reasons": "Exclusion reason", "layers": "Evidence layer",
                  "designs": "Study design"}
        rows = []
        for kind, title in titles.items():
            for code, e in self.g.get(kind, {}).items():
                rows.append({"kind": title, "code": code, "label": e.get("label", "")})
        for var, codes in self.g.get("values", {}).items():
            for code, e in codes.items():
                rows.append({"kind": f"Value of {self.variable(var)}", "code": code, "label": e.get("label", "")})
        return rows
