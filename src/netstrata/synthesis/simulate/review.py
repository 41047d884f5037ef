"""Simulated spine-like reviews with KNOWN true effects per stratum.

Two entry points:

- :func:`simulate_review` writes a project folder (studies.csv, arms.csv, outcomes.csv,
  fidelity.csv, netstrata.toml) that :func:`netstrata.load_review` reads like a real one, plus
  ``truth.json``: the true effect of every node versus sham within every stratum
  (region x diagnosis x fidelity tier x selection blocks x threshold) and each study's own truth.
- :func:`simulate_contrasts` returns a contrast-level network (study, treat1, treat2, effect,
  se) with exactly normal estimates and known truth, for benchmarks and statistical tests.

Deterministic: the same seed gives byte-identical files (``numpy.random.Generator`` streams
spawned from one ``SeedSequence``: designs, binary outcomes, continuous outcomes, so a study's
design does not depend on which outcomes are simulated).

Model: study ``i`` with active node ``j`` has true effect ``theta_ij = theta_j(stratum) + u_ij``,
``u ~ N(0, tau^2)`` (correlation 1/2 between the active arms of a 3-arm study, as a consistent
random-effects network model implies); ``theta_j(stratum)`` comes from
:class:`~netstrata.synthesis.simulate_scenario.EffectModel`. Binary: sham responder probability
``p0``, active ``expit(logit(p0) + theta)``, events ~ Binomial(n, p). Continuous: mean VAS change
``sham_change - md_per_unit * theta``, observed mean ~ N(mu, sd^2/n), observed SD from a scaled
chi-square with n-1 df.

References
----------
Higgins JPT, Whitehead A (1996). Borrowing strength from external trials in a meta-analysis.
Stat Med 15:2733-2749. doi:10.1002/(SICI)1097-0258(19961230)15:24<2733::AID-SIM562>3.0.CO;2-0
Morris TP, White IR, Crowther MJ (2019). Using simulation studies to evaluate statistical
methods. Stat Med 38:2074-2102. doi:10.1002/sim.8086
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..._summary import Summary
from ..._validate import check_option
from ...errors import ParameterError
from ...taxonomy.pack import load_pack
from .scenario import (
    OUTCOMES,
    SHAM,
    STRATUM_COLUMNS,
    EffectModel,
    Population,
    Scenario,
    check_scenario,
)
from .write import build_tables, write_project

__all__ = ["simulate_review", "simulate_contrasts", "SimulatedReview", "SimulatedContrasts", "Design",
           "draw_designs", "truth_table"]



@dataclass(frozen=True, slots=True)
class Design:
    """One simulated study: population, stratum, arms (arm 0 = sham) and true effects."""

    study: str
    population: str
    region: str
    diagnosis: str
    block_type: str
    tier: str
    blocks: str
    threshold: str
    nodes: tuple[str, ...]           # active nodes (arms 1..)
    sham: str                        # sham subtype of arm 0
    sizes: tuple[int, ...]           # arm sizes, sham first
    theta: tuple[float, ...]         # stratum truth per active node (analysis scale)
    theta_study: tuple[float, ...]   # this study's true effects (theta + u)

    @property
    def stratum(self) -> tuple[str, ...]:
        return (self.region, self.diagnosis, self.tier, self.blocks, self.threshold)


_CHOL = {k: np.linalg.cholesky(0.5 + 0.5 * np.eye(k)) for k in (1, 2)}


def _pick(rng, weights) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def draw_designs(rng: np.random.Generator, sc: Scenario, studies: int, shams: tuple[str, ...]) -> list[Design]:
    """Draw every study's design and true study effects (one fixed order of draws per study)."""
    pops = {p.name: p for p in sc.populations}
    out = []
    for i in range(studies):
        pop: Population = pops[_pick(rng, {p.name: p.weight for p in sc.populations})]
        tier, blocks = _pick(rng, sc.tiers), _pick(rng, sc.blocks)
        threshold = _pick(rng, sc.thresholds) if blocks != "0" else ""
        nodes = sc.nodes_of(pop)
        k_act = 2 if (len(nodes) > 1 and rng.random() < sc.three_arm) else 1
        chosen = tuple(nodes[j] for j in sorted(rng.choice(len(nodes), size=k_act, replace=False)))
        sham = shams[int(rng.integers(len(shams)))]
        sizes = tuple(int(x) for x in rng.integers(sc.n_min, sc.n_max + 1, size=k_act + 1))
        # random effects of the active arms: u = tau * chol(R) z, R = 1/2 (J + I), so that
        # cov(u) = tau^2 R (consistent random-effects network model; Higgins & Whitehead 1996)
        u = sc.tau * (_CHOL[k_act] @ rng.standard_normal(k_act))
        theta = tuple(sc.effects.theta(n, pop.region, tier, blocks, threshold) for n in chosen)
        out.append(Design(study=f"Sim {i + 1:04d}", population=pop.name, region=pop.region,
                          diagnosis=pop.diagnosis, block_type=pop.block_type, tier=tier, blocks=blocks,
                          threshold=threshold, nodes=chosen, sham=sham, sizes=sizes, theta=theta,
                          theta_study=tuple(float(t + x) for t, x in zip(theta, u))))
    return out


def truth_table(sc: Scenario, outcome: str = "binary") -> pd.DataFrame:
    """True effect of every node versus sham in every stratum the scenario can produce.

    Columns: :data:`STRATUM_COLUMNS`, ``treatment``, ``comparator``, ``effect`` (log OR for
    ``outcome="binary"``, MD for ``"continuous"``), ``theta`` (the model's linear predictor).
    """
    rows = []
    tiers = [t for t, w in sc.tiers.items() if w > 0]
    blocks = [b for b, w in sc.blocks.items() if w > 0]
    thresholds = [t for t, w in sc.thresholds.items() if w > 0]
    for pop in sc.populations:
        for node in sc.nodes_of(pop):
            for tier in tiers:
                for b in blocks:
                    for thr in (thresholds if b != "0" else [""]):
                        th = sc.effects.theta(node, pop.region, tier, b, thr)
                        eff = th if outcome == "binary" else -sc.effects.md_per_unit * th
                        rows.append(dict(zip(STRATUM_COLUMNS, (pop.region, pop.diagnosis, tier, b, thr)),
                                         treatment=node, comparator=SHAM, effect=eff, theta=th))
    cols = [*STRATUM_COLUMNS, "treatment", "comparator", "effect", "theta"]
    return pd.DataFrame(rows, columns=cols).drop_duplicates(ignore_index=True)


def _sham_codes(pack) -> tuple[str, ...]:
    v = pack.vocabulary("comparator_type")
    return tuple(c.code for c in v.codes if c.parent == SHAM)


def _pack_or_none(pack):
    return None if pack is None else load_pack(pack)


def _validate(studies, seed, scenario, caller):
    if isinstance(studies, bool) or not isinstance(studies, (int, np.integer)) or studies < 1:
        raise ParameterError(f"The 'studies' parameter of {caller} must be an integer >= 1. Got {studies!r} instead.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"The 'seed' parameter of {caller} must be a non-negative integer. Got {seed!r} instead.")
    if scenario is not None and not isinstance(scenario, Scenario):
        raise ParameterError(f"The 'scenario' parameter of {caller} must be a Scenario. Got {type(scenario).__name__}.")


def _scenario(scenario, overrides) -> Scenario:
    sc = scenario or Scenario()
    parts = {k: v for k, v in overrides.items() if v is not None}
    return sc.with_(**parts) if parts else sc


def _per_stratum(designs) -> pd.DataFrame:
    d = pd.DataFrame([{"stratum": "/".join(x.stratum), "arms": len(x.sizes)} for x in designs])
    return d.groupby("stratum").agg(studies=("arms", "size"), three_arm=("arms", lambda a: int((a > 2).sum())))


@dataclass(frozen=True, slots=True, eq=False)
class SimulatedContrasts:
    """A simulated contrast-level network with its truth.

    ``contrasts``: study, treat1, treat2, effect, se, true_effect (stratum truth of treat1 vs
    treat2), the :data:`STRATUM_COLUMNS` and ``stratum`` (their values joined by "/").
    ``truth``: :func:`truth_table` of the scenario. ``designs``: the studies drawn.
    """

    contrasts: pd.DataFrame
    truth: pd.DataFrame
    designs: tuple[Design, ...]
    scenario: Scenario
    outcome: str
    seed: int

    def summary(self) -> Summary:
        """Studies and 3-arm studies per stratum."""
        return Summary("Simulated network: studies per stratum", _per_stratum(self.designs),
                       (f"seed {self.seed}; outcome {self.outcome}; tau {self.scenario.tau:g}",))

    def __repr__(self) -> str:
        return (f"SimulatedContrasts(outcome={self.outcome!r}, studies={len(self.designs)}, "
                f"contrasts={len(self.contrasts)}, strata={self.contrasts['stratum'].nunique()}, seed={self.seed})")


def _arm_estimates(rng, d: Design, sc: Scenario, outcome: str):
    """Arm-level estimates on the analysis scale and their variances (sham first)."""
    n = np.asarray(d.sizes, float)
    if outcome == "binary":
        # arm log-odds; var = 1 / (n p (1 - p)) (delta method for the logit of a proportion)
        lo = np.log(sc.sham_rate / (1 - sc.sham_rate)) + np.r_[0.0, d.theta_study]
        p = 1 / (1 + np.exp(-lo))
        var = 1 / (n * p * (1 - p))
    else:
        lo = sc.sham_change - sc.effects.md_per_unit * np.r_[0.0, d.theta_study]
        var = sc.sd ** 2 / n
    return lo + rng.standard_normal(len(n)) * np.sqrt(var), var


def simulate_contrasts(studies: int = 40, *, seed: int = 1, outcome: str = "binary",
                       scenario: Scenario | None = None, effects: EffectModel | None = None,
                       tau: float | None = None, treatments: int | None = None, three_arm: float | None = None,
                       n_min: int | None = None, n_max: int | None = None, sham_rate: float | None = None,
                       sham_change: float | None = None, pack="spine") -> SimulatedContrasts:
    """A contrast-level network with known truth (every pair of arms of every study).

    Arm-level estimates are drawn exactly normal on the analysis scale (log odds with the
    delta-method variance of the true proportion, or mean change with variance ``sd^2/n``);
    a contrast is the difference of two arms, so multi-arm contrasts share their arm's error as in
    real data. ``se`` is the true standard error.

    Parameters
    ----------
    studies : int
        Number of studies.
    seed : int
        Seed of the random streams (same seed -> identical table).
    outcome : {"binary", "continuous"}
        Analysis scale: log odds ratio or mean difference (VAS change, cm).
    scenario : Scenario, optional
        Populations, design weights and effect model (default :class:`Scenario`).
    effects, tau, treatments, three_arm, n_min, n_max, sham_rate, sham_change : optional
        Replace the scenario's values (see :class:`Scenario`).
    pack : str or Pack or None, default="spine"
        Pack whose vocabularies the scenario's codes must come from; None for abstract nodes
        (e.g. :func:`~netstrata.synthesis.simulate_scenario.generic_scenario` networks).
    """
    caller = "simulate_contrasts"
    _validate(studies, seed, scenario, caller)
    outcome = check_option(outcome, name="outcome", allowed=tuple(OUTCOMES), caller=caller)
    sc = _scenario(scenario, dict(effects=effects, tau=tau, treatments=treatments, three_arm=three_arm,
                                  n_min=n_min, n_max=n_max, sham_rate=sham_rate, sham_change=sham_change))
    pack = _pack_or_none(pack)
    check_scenario(sc, pack, caller, arms=False)
    s_design, s_bin, s_con = np.random.SeedSequence(int(seed)).spawn(3)
    shams = _sham_codes(pack) if pack is not None else (SHAM,)
    designs = draw_designs(np.random.default_rng(s_design), sc, int(studies), shams)
    rng = np.random.default_rng(s_bin if outcome == "binary" else s_con)
    sign = 1.0 if outcome == "binary" else -sc.effects.md_per_unit
    rows = []
    for d in designs:
        est, var = _arm_estimates(rng, d, sc, outcome)
        names = (SHAM, *d.nodes)
        truth = (0.0, *(sign * t for t in d.theta))
        strat = dict(zip(STRATUM_COLUMNS, d.stratum))
        for a in range(1, len(names)):
            for b in range(a):
                rows.append({"study": d.study, "treat1": names[a], "treat2": names[b],
                             "effect": float(est[a] - est[b]), "se": float(np.sqrt(var[a] + var[b])),
                             "true_effect": truth[a] - truth[b], **strat, "stratum": "/".join(d.stratum)})
    cols = ["study", "treat1", "treat2", "effect", "se", "true_effect", *STRATUM_COLUMNS, "stratum"]
    return SimulatedContrasts(contrasts=pd.DataFrame(rows, columns=cols), truth=truth_table(sc, outcome),
                              designs=tuple(designs), scenario=sc, outcome=outcome, seed=int(seed))


@dataclass(frozen=True, slots=True, eq=False)
class SimulatedReview:
    """A simulated project: its tables (as written), the truth and where it was written."""

    path: str | None
    tables: Mapping[str, pd.DataFrame]
    truth: pd.DataFrame
    designs: tuple[Design, ...]
    scenario: Scenario
    outcomes: tuple[str, ...]
    seed: int

    def summary(self) -> Summary:
        """Studies and 3-arm studies per stratum."""
        notes = (f"seed {self.seed}; outcomes {', '.join(self.outcomes)}; tau {self.scenario.tau:g}",
                 f"written to {self.path}" if self.path else "not written")
        return Summary("Simulated review: studies per stratum", _per_stratum(self.designs), notes)

    def __repr__(self) -> str:
        arms = sum(len(d.sizes) for d in self.designs)
        return (f"SimulatedReview(studies={len(self.designs)}, arms={arms}, outcomes={list(self.outcomes)}, "
                f"truth_rows={len(self.truth)}, seed={self.seed}, path={self.path!r})")


def simulate_review(out_dir=None, *, studies: int = 40, seed: int = 1, outcome: str = "both",
                    scenario: Scenario | None = None, effects: EffectModel | None = None,
                    tau: float | None = None, treatments: int | None = None, three_arm: float | None = None,
                    n_min: int | None = None, n_max: int | None = None, sham_rate: float | None = None,
                    sham_change: float | None = None, pack="spine", overwrite: bool = False) -> SimulatedReview:
    """Simulate a spine-like review project with known truth and (optionally) write it to ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path, optional
        Folder to write (created; must be empty unless ``overwrite``). None: tables only.
    studies, seed : int
        Number of studies; seed (same seed -> byte-identical files).
    outcome : {"both", "binary", "continuous"}
        Responder outcome ``success`` (events/n, measure OR), VAS change ``pain`` (mean/sd/n, MD), or both.
    scenario : Scenario, optional
        Populations (regions, diagnoses, nodes), tier / block / threshold weights, effect model.
    effects, tau, treatments, three_arm, n_min, n_max, sham_rate, sham_change : optional
        Replace the scenario's values (see :class:`Scenario`).
    pack : str or Pack
        Domain pack whose vocabularies and fidelity checklists are used.
    """
    caller = "simulate_review"
    _validate(studies, seed, scenario, caller)
    outcome = check_option(outcome, name="outcome", allowed=("both", *OUTCOMES), caller=caller)
    kinds = tuple(OUTCOMES) if outcome == "both" else (outcome,)
    sc = _scenario(scenario, dict(effects=effects, tau=tau, treatments=treatments, three_arm=three_arm,
                                  n_min=n_min, n_max=n_max, sham_rate=sham_rate, sham_change=sham_change))
    pack = load_pack(pack)
    check_scenario(sc, pack, caller)
    s_design, s_bin, s_con = np.random.SeedSequence(int(seed)).spawn(3)
    designs = draw_designs(np.random.default_rng(s_design), sc, int(studies), _sham_codes(pack))
    rngs = {"binary": np.random.default_rng(s_bin), "continuous": np.random.default_rng(s_con)}
    tables = build_tables(designs, sc, kinds, rngs, pack, int(seed))
    truth = pd.concat([truth_table(sc, k).assign(outcome=OUTCOMES[k][0], measure=OUTCOMES[k][2]) for k in kinds],
                      ignore_index=True)
    path = None
    if out_dir is not None:
        path = str(write_project(Path(out_dir), tables, truth, designs, sc, kinds, int(seed), overwrite,
                                      pack.name))
    return SimulatedReview(path=path, tables=tables, truth=truth, designs=tuple(designs), scenario=sc,
                           outcomes=tuple(OUTCOMES[k][0] for k in kinds), seed=int(seed))
