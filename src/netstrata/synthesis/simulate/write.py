"""Simulated designs -> the tables of a review project, written byte-for-byte deterministically."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from ... import __version__
from ...appraisal.fidelity import TierRules, load_checklists
from ...errors import ParameterError
from .fidelity import fidelity_rows
from .scenario import ARM_FIELDS, OUTCOMES, SHAM, STRATUM_COLUMNS

__all__ = ["build_tables", "write_project", "PLAN_TEMPLATE"]

STUDY_COLS = ["study", "citation", "year", "design", "region", "diagnosis", "pain_distribution", "duration",
              "selection_block_type", "selection_n_blocks", "selection_control", "selection_threshold_pct",
              "selection_threshold_metric", "selection_reporting", "notes"]
ARM_COLS = ["study", "arm", "n", "family", "approach", "target", "region", "agent", "energy", "comparator_type",
            "electrode_orientation", "label"]
OUTCOME_COLS = ["study", "arm", "outcome", "timepoint_weeks", "events", "n", "mean", "sd", "source", "location",
                "quote", "extractor"]
FIDELITY_COLS = ["study", "arm", "item", "value", "status", "quote", "location", "extractor"]
_CONTROL = {"0": "", "1": "uncontrolled_single", "2": "comparative_LA", "3+": "placebo_controlled"}
_TIMEPOINT = 26  # weeks (6 months) for every simulated outcome row

PLAN_TEMPLATE = """# Analysis plan of a SIMULATED review (netstrata simulate, seed {seed}).
# The true effects are in truth.json; nothing here is real data.

[project]
name = "simulated-{seed}"
pack = "{pack}"
description = "Simulated spine-like review: {studies} studies, known true effects per stratum"
{outcomes}
[nodes]
level = "family"

[strata]
variables = ["region", "diagnosis"]

# The multiverse: the first alternative of each key is the primary analysis.
[sensitivity]
node_level = ["family", "technique"]
fidelity = ["any", "fidelity_tier=T1"]
selection = ["any", "selection_n_blocks=2|3+"]
"""
_OUTCOME_TOML = {
    "binary": '\n[outcomes.success]\nlabel = "Responder (simulated)"\nkind = "binary"\nmeasure = "OR"\n'
              'small_values = "undesirable"\n'
              '# GRADE\'s default threshold of an appreciable relative effect (Guyatt 2011, GRADE 6)\nmid = 1.25\n',
    "continuous": '\n[outcomes.pain]\nlabel = "VAS change, 0-10 cm (simulated)"\nkind = "continuous"\n'
                  'measure = "MD"\nsmall_values = "desirable"\nmid = 1.5\n',
}


def _num(x: float, digits: int = 6) -> str:
    return f"{x:.{digits}g}"


def _study_row(d, i: int) -> dict:
    b = d.blocks
    return {"study": d.study, "citation": "simulated", "year": str(2000 + i % 25), "design": "RCT",
            "region": d.region, "diagnosis": d.diagnosis, "pain_distribution": "axial", "duration": "chronic",
            "selection_block_type": "none_clinical_only" if b == "0" else d.block_type, "selection_n_blocks": b,
            "selection_control": _CONTROL.get(b, ""), "selection_threshold_pct": d.threshold,
            "selection_threshold_metric": "pct_relief" if d.threshold else "",
            "selection_reporting": "explicit", "notes": f"population {d.population}; technique tier {d.tier}"}


def _arm_rows(d) -> list[dict]:
    rows = [{"study": d.study, "arm": "sham", "n": str(d.sizes[0]), "family": "", "approach": "", "target": "",
             "region": d.region, "agent": "", "energy": "", "comparator_type": d.sham, "electrode_orientation": "",
             "label": f"Sham ({d.sham})"}]
    for j, (node, n) in enumerate(zip(d.nodes, d.sizes[1:]), start=1):
        f = ARM_FIELDS[node]
        rows.append({"study": d.study, "arm": f"active{j}", "n": str(n), "family": node,
                     "approach": f.get("approach", ""), "target": f.get("target", ""), "region": d.region,
                     "agent": f.get("agent", ""), "energy": f.get("energy", ""), "comparator_type": "",
                     "electrode_orientation": "", "label": f"{node}, technique tier {d.tier}"})
    return rows


def _outcome_rows(d, kind: str, rng, sc, seed: int) -> list[dict]:
    n = np.asarray(d.sizes, float)
    theta = np.r_[0.0, d.theta_study]
    base = {"timepoint_weeks": str(_TIMEPOINT), "source": f"simulated (seed {seed})", "location": "simulated",
            "quote": "", "extractor": "netstrata.simulate"}
    arms = ["sham", *(f"active{j}" for j in range(1, len(d.sizes)))]
    if kind == "binary":
        lo = np.log(sc.sham_rate / (1 - sc.sham_rate)) + theta
        events = rng.binomial(d.sizes, 1 / (1 + np.exp(-lo)))
        return [{"study": d.study, "arm": a, "outcome": "success", "events": str(int(e)), "n": str(int(m)),
                 "mean": "", "sd": "", **base} for a, e, m in zip(arms, events, d.sizes)]
    mu = sc.sham_change - sc.effects.md_per_unit * theta
    means = mu + rng.standard_normal(len(n)) * sc.sd / np.sqrt(n)
    sds = sc.sd * np.sqrt(rng.chisquare(n - 1) / (n - 1))
    return [{"study": d.study, "arm": a, "outcome": "pain", "events": "", "n": str(int(m)), "mean": _num(x),
             "sd": _num(s), **base} for a, x, s, m in zip(arms, means, sds, d.sizes)]


def build_tables(designs, sc, kinds, rngs, pack, seed: int) -> MappingProxyType:
    """All tables of the project as DataFrames of text cells (what is written)."""
    checklists = load_checklists(pack)
    rules = TierRules.default(checklists)
    studies = [_study_row(d, i) for i, d in enumerate(designs)]
    arms = [r for d in designs for r in _arm_rows(d)]
    outcomes = [r for d in designs for k in kinds for r in _outcome_rows(d, k, rngs[k], sc, seed)]
    fidelity = [r for d in designs for j, node in enumerate(d.nodes, start=1)
                for r in fidelity_rows(d, f"active{j}", node, checklists, rules)]
    # the arm's electrode orientation column agrees with its fidelity item (when it has one)
    orientation = {(r["study"], r["arm"]): r["value"] for r in fidelity
                   if r["item"] == "electrode_orientation" and r["status"] == "reported"}
    for a in arms:
        a["electrode_orientation"] = orientation.get((a["study"], a["arm"]), "")
    return MappingProxyType({
        "studies": pd.DataFrame(studies, columns=STUDY_COLS), "arms": pd.DataFrame(arms, columns=ARM_COLS),
        "outcomes": pd.DataFrame(outcomes, columns=OUTCOME_COLS),
        "fidelity": pd.DataFrame(fidelity, columns=FIDELITY_COLS)})


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(frame.columns)
    w.writerows(frame.itertuples(index=False, name=None))
    return buf.getvalue().encode("utf-8")


def _truth_json(truth, designs, sc, kinds, seed: int) -> bytes:
    per_study = []
    for d in designs:
        for j, node in enumerate(d.nodes, start=1):
            per_study.append({"study": d.study, "arm": f"active{j}", "treatment": node, "comparator": SHAM,
                              **dict(zip(STRATUM_COLUMNS, d.stratum)), "theta": d.theta[j - 1],
                              "theta_study": d.theta_study[j - 1]})
    doc = {"generator": f"netstrata {__version__} simulate", "seed": seed, "scenario": sc.as_dict(),
           "stratum_columns": list(STRATUM_COLUMNS),
           "outcomes": {OUTCOMES[k][0]: {"kind": OUTCOMES[k][1], "measure": OUTCOMES[k][2],
                                         "scale": OUTCOMES[k][3]} for k in kinds},
           "note": "effect = true effect of treatment vs comparator in the stratum (log OR for binary, MD for "
                   "continuous); fidelity_tier is the simulated technique of the study's active arms",
           "truth": truth.to_dict("records"), "studies": per_study}
    return (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def write_project(out: Path, tables, truth, designs, sc, kinds, seed: int, overwrite: bool,
                  pack_name: str = "spine") -> Path:
    """Write the project folder (refuses a non-empty folder unless ``overwrite``)."""
    if out.exists() and not out.is_dir():
        raise ParameterError(f"The 'out_dir' parameter of simulate_review must be a folder; {str(out)!r} is a file.")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ParameterError(f"The folder {str(out)!r} is not empty; choose a new folder or allow overwriting "
                             "(overwrite=True; CLI --overwrite).")
    out.mkdir(parents=True, exist_ok=True)
    files = {f"{name}.csv": _csv_bytes(frame) for name, frame in tables.items()}
    outcomes = "".join(_OUTCOME_TOML[k] for k in kinds)
    files["netstrata.toml"] = PLAN_TEMPLATE.format(seed=seed, pack=pack_name, studies=len(designs),
                                                   outcomes=outcomes).encode("utf-8")
    files["truth.json"] = _truth_json(truth, designs, sc, kinds, seed)
    for name, data in files.items():
        (out / name).write_bytes(data)
    return out
