"""Generated review projects for the end-to-end and scale benchmarks (simulated data only).

``review_100(folder)``: about 100 trials, 8 strata (region x diagnosis), 2 outcomes, about 25
treatment nodes at the primary (anatomy) level, and a multiverse of 1,000 specifications (sampled
from 1,280 combinations: 4 node levels x 4 time windows x 5 selection filters x 4 fidelity
filters x 2 designs x 2 mixed-duration rules).

``network_80(folder)``: an 80-study spine-like network as a project whose plan declares 100,000
specifications (sampled from 102,900 combinations of 7 dimensions).

Both start from :func:`netstrata.synthesis.simulate.simulate_review` (known truth) and add a
second, 13-week time point to a third of the studies, so the time-window alternatives choose
different records for those studies (as in real reviews, where some trials report several visits).
Deterministic: the same seed writes the same bytes.

Run:  .venv/bin/python benchmarks/generate.py review_100 OUT   (or network_80 OUT)
"""
from __future__ import annotations

import shutil
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from netstrata.synthesis.simulate import simulate_review
from netstrata.synthesis.simulate.scenario import POPULATIONS, Population, Scenario

__all__ = ["review_100", "network_80"]

_POPULATIONS_100 = (
    POPULATIONS["cervical_facet"], POPULATIONS["lumbar_facet"], POPULATIONS["sacral_sij"],
    POPULATIONS["lumbar_radicular"], POPULATIONS["lumbar_vertebrogenic"],
    Population("thoracic_facet", "thoracic", "facet_joint_pain", "MBB", ("RFN_FACET", "MBB", "FJ_IA")),
    Population("lumbosacral_facet", "lumbosacral", "facet_joint_pain", "MBB", ("FJ_IA", "RFN_FACET", "MBB")),
    Population("cervical_radicular", "cervical", "radicular_pain_stenosis", "TFESI_test", ("ESI", "PRF_DRG")),
)

_OUTCOMES = """
[outcomes.success]
label = "Responder (simulated)"
kind = "binary"
measure = "OR"
small_values = "undesirable"
time_window = "closest to but not after 6 months"
tolerance_weeks = 1

[outcomes.pain]
label = "VAS change, 0-10 cm (simulated)"
kind = "continuous"
measure = "MD"
small_values = "desirable"
mid = 1.5
time_window = "closest to but not after 6 months"
tolerance_weeks = 1
"""


def _subsets(column: str, values: tuple[str, ...], sizes=None) -> list[str]:
    sizes = sizes or range(1, len(values))
    return [f"{column}=" + "|".join(c) for k in sizes for c in combinations(values, k)]


def _plan(name: str, description: str, level: str, sensitivity: str) -> str:
    return (f'# Generated benchmark project (simulated data only; benchmarks/generate.py).\n\n[project]\n'
            f'name = "{name}"\npack = "spine"\ndescription = "{description}"\n{_OUTCOMES}\n'
            f'[nodes]\nlevel = "{level}"\n\n[strata]\nvariables = ["region", "diagnosis"]\n\n'
            f'[sensitivity]\n{sensitivity}')


def _toml_list(values) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def _second_visit(folder: Path, seed: int, share: float = 1 / 3) -> None:
    """Add a 13-week row beside each 26-week row of a seeded third of the studies (a plausible
    earlier visit: events and mean change drawn around the 26-week values)."""
    path = folder / "outcomes.csv"
    out = pd.read_csv(path, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(seed)
    studies = sorted(set(out["study"]))
    chosen = set(rng.choice(studies, size=int(len(studies) * share), replace=False).tolist())
    early = out[out["study"].isin(chosen)].copy()
    early["timepoint_weeks"] = "13"
    n = early["n"].astype(float)
    ev = pd.to_numeric(early["events"], errors="coerce")
    jitter = rng.integers(-2, 3, size=len(early))
    early["events"] = [("" if np.isnan(e) else str(int(min(max(e + j, 0), k)))) for e, j, k in zip(ev, jitter, n)]
    mean = pd.to_numeric(early["mean"], errors="coerce")
    early["mean"] = [("" if np.isnan(m) else f"{m * 0.9 + d:.4g}")
                     for m, d in zip(mean, rng.normal(0, 0.2, len(early)))]
    both = pd.concat([out, early], ignore_index=True)
    both = both.sort_values(["study", "arm", "outcome", "timepoint_weeks"], kind="stable", key=_natural)
    both.to_csv(path, index=False, lineterminator="\n")


def _natural(col):
    return col.astype(int) if col.name == "timepoint_weeks" else col


def _simulate(folder, studies: int, seed: int, scenario: Scenario) -> Path:
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    simulate_review(folder, studies=studies, seed=seed, scenario=scenario)
    (folder / "truth.json").unlink()
    _second_visit(folder, seed)
    return folder


def review_100(folder, seed: int = 7, specifications: int = 1000) -> Path:
    """The 100-trial, 8-stratum, 2-outcome review with a 1,000-specification multiverse."""
    sc = Scenario().with_(populations=_POPULATIONS_100, treatments=3, three_arm=0.3,
                          blocks={"0": 0.25, "1": 0.25, "2": 0.25, "3+": 0.25}, tiers={"T1": 0.5, "TU": 0.2, "T3": 0.3})
    folder = _simulate(folder, 100, seed, sc)
    sens = "\n".join([
        f'node_level = {_toml_list(["anatomy", "technique", "family", "wang2025"])}',
        'design = ["randomised", "comparative"]',
        f'time_window = {_toml_list(["plan", "closest to 3 months", "closest to 12 months", "closest to 4 months"])}',
        'mixed_duration = ["exclude", "include"]',
        f'selection = {_toml_list(["any", "selection_n_blocks=1|2|3+", "selection_n_blocks=2|3+", "selection_n_blocks=3+", "selection_threshold_pct=75|100"])}',
        f'fidelity = {_toml_list(["any", "fidelity_tier=T1", "fidelity_tier=T1|TU", "fidelity_tier=T1|T3"])}',
        f"max_specifications = {specifications}", ""])
    (folder / "netstrata.toml").write_text(
        _plan(f"generated-review-100-{seed}", "Generated: 100 trials, 8 strata, 2 outcomes", "anatomy", sens),
        encoding="utf-8")
    return folder


def _risk_of_bias(folder: Path, seed: int) -> None:
    """A seeded overall risk-of-bias judgement per study (studies.csv column ``rob_overall``)."""
    path = folder / "studies.csv"
    studies = pd.read_csv(path, dtype=str, keep_default_na=False)
    studies["rob_overall"] = np.random.default_rng(seed).choice(["low", "some_concerns", "high"], len(studies))
    studies.to_csv(path, index=False, lineterminator="\n")


def network_80(folder, seed: int = 1, specifications: int = 100_000) -> Path:
    """The 80-study network with a plan of ``specifications`` specifications (of 102,900)."""
    sc = Scenario().with_(treatments=3, three_arm=0.2, blocks={"0": 0.25, "1": 0.25, "2": 0.25, "3+": 0.25},
                          tiers={"T1": 0.5, "TU": 0.2, "T3": 0.3})
    folder = _simulate(folder, 80, seed, sc)
    _risk_of_bias(folder, seed)
    windows = ["plan", "closest to 3 months", "closest to 12 months", "closest to 4 months",
               "closest to but not after 20 weeks", "closest to 13 weeks", "closest to but not before 8 weeks"]
    sens = "\n".join([
        f'node_level = {_toml_list(["anatomy", "technique", "family", "selection", "wang2025"])}',
        'design = ["randomised", "comparative"]',
        f"time_window = {_toml_list(windows)}",
        'mixed_duration = ["exclude", "include"]',
        f'selection = {_toml_list(["any"] + _subsets("selection_n_blocks", ("0", "1", "2", "3+")))}',
        f'risk_of_bias = {_toml_list(["any"] + _subsets("rob_overall", ("low", "some_concerns", "high")))}',
        f'fidelity = {_toml_list(["any"] + _subsets("fidelity_tier", ("T1", "TU", "T3")))}',
        f"max_specifications = {specifications}", ""])
    (folder / "netstrata.toml").write_text(
        _plan(f"generated-network-80-{seed}", "Generated: the 80-study network", "anatomy", sens), encoding="utf-8")
    return folder


if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    print({"review_100": review_100, "network_80": network_80}[kind](out))
