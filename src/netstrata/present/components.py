"""Report tables of a stratum's component network meta-analysis (plan ``[models] components``).

Reads the stratum's ``components`` entry of ``results.json`` (written by
:mod:`netstrata.synthesis.components`) and shows, beside the standard network: the component
effects of the plan's model (ratio measures back-transformed), the test of additivity (Q of the
additive and of the standard model and their difference) and, in plain words, whether additivity
is rejected.  Components the data do not identify are shown as "not identifiable", never with a
number.  Nothing is computed here.
"""
from __future__ import annotations

import pandas as pd

from .tables import Table

__all__ = ["component_tables"]

_NO_COMBINATION = "no combination node"


def _effects(res: dict, measure: str | None) -> Table:
    model = res.get("model", "random")
    rows = res.get("component_effects", {}).get(model, ())
    frame = pd.DataFrame([{k: r.get(k) for k in ("name", "effect", "ci_low", "ci_high", "pvalue")}
                          for r in rows], columns=["name", "effect", "ci_low", "ci_high", "pvalue"])
    frame = frame.rename(columns={"name": "component"})
    for c in ("effect", "ci_low", "ci_high", "pvalue"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    shown = [bool(r.get("identifiable", True)) for r in rows]
    frame.loc[[not s for s in shown], ["effect", "ci_low", "ci_high", "pvalue"]] = float("nan")
    frame["identified by the data"] = ["yes" if s else "no: not identifiable" for s in shown]
    versus = res.get("inactive") or "no treatment (no inactive component)"
    notes = [str(res.get("additivity") or "")]
    if res.get("kind") == "discomb":
        notes.append("The treatment network is disconnected; the additive model links its sub-networks through "
                     "shared components (netmeta discomb).")
    return Table(frame, title=f"Component effects ({model} effects, additive model) versus {versus}",
                 notes=tuple(n for n in notes if n), measure=measure, digits={"pvalue": 3})


def _additivity(res: dict) -> Table:
    rows = [("Additive (component) model", res.get("q_additive"), res.get("q_additive_df"),
             res.get("q_additive_pvalue")),
            ("Standard network model", res.get("q_standard"), res.get("q_standard_df"), res.get("q_standard_pvalue")),
            ("Difference (test of additivity)", res.get("q_diff"), res.get("q_diff_df"), res.get("q_diff_pvalue"))]
    frame = pd.DataFrame(rows, columns=["model", "q", "df", "q_pvalue"])
    for c in ("q", "df", "q_pvalue"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    verdict = res.get("additivity_rejected")
    head = ("ADDITIVITY IS REJECTED: combinations do not behave as the sum of their components; read the "
            "standard network for them." if verdict else
            "Additivity is not rejected." if verdict is False else "The test of additivity is not available.")
    i2 = _num(res.get("i2"), 1) + ("%" if res.get("i2") is not None else "")
    tau2 = _num(res.get("tau2"))
    notes = (head, f"Additive model: \u03c4\u00b2 = {tau2}, I\u00b2 = {i2}.")
    return Table(frame, title="Test of additivity (Q of the additive model versus the standard network)",
                 notes=notes, digits={"q": 2, "df": 0, "q_pvalue": 3})


def _num(x, digits: int = 3) -> str:
    return "NA" if x is None else f"{float(x):.{digits}f}"


def component_tables(stratum: dict) -> tuple[Table, ...]:
    """Tables of the stratum's component analysis; () when there is none or no combination node."""
    comp = stratum.get("components")
    if not comp:
        return ()
    res = comp.get("result")
    if res is None:
        note = str(comp.get("note") or "")
        if not note or note.startswith(_NO_COMBINATION):
            return ()
        return (Table(pd.DataFrame({"component analysis": [note]}), title="Component network meta-analysis"),)
    return (_effects(res, stratum.get("measure")), _additivity(res))
