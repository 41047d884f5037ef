"""``netstrata simulate OUT_DIR``: write a simulated review project with known true effects."""
from __future__ import annotations

import click

__all__ = ["simulate"]


def _weights(text: str | None, option: str):
    """'T1=0.5,T3=0.5' or 'T1,T3' (equal weights) -> dict; None passes through."""
    if not text:
        return None
    out = {}
    for part in text.split(","):
        key, _, w = part.partition("=")
        try:
            out[key.strip()] = float(w) if w else 1.0
        except ValueError:
            raise click.BadParameter(f"expected CODE=WEIGHT pairs, got {part!r}", param_hint=option) from None
    return out


@click.command("simulate")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--studies", default=40, show_default=True, type=click.IntRange(min=1), help="Number of studies.")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(min=0), help="Random seed.")
@click.option("--outcome", type=click.Choice(["both", "binary", "continuous"]), default="both", show_default=True,
              help="Responder (events/n), VAS change (mean/sd/n), or both.")
@click.option("--tau", type=float, default=None, help="Between-study SD of the true effect [default: 0.2].")
@click.option("--treatments", type=click.IntRange(min=1), default=None,
              help="Active nodes per population [default: 2].")
@click.option("--three-arm", type=click.FloatRange(0, 1), default=None,
              help="Share of 3-arm trials where a population has two nodes [default: 0.15].")
@click.option("--n-min", type=click.IntRange(min=2), default=None, help="Smallest arm size [default: 20].")
@click.option("--n-max", type=click.IntRange(min=2), default=None, help="Largest arm size [default: 120].")
@click.option("--sham-rate", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
              help="Sham responder probability [default: 0.25].")
@click.option("--sham-change", type=float, default=None, help="Sham mean VAS change, cm [default: -1.0].")
@click.option("--population", "populations", multiple=True,
              help="Population(s): cervical_facet, lumbar_facet, sacral_sij, lumbar_radicular, "
                   "lumbar_vertebrogenic [default: the first three].")
@click.option("--tiers", default=None, help="Technique tier weights, e.g. 'T1=0.5,T3=0.5' (T1, TU, T3).")
@click.option("--blocks", default=None, help="Selection-block weights, e.g. '0=0.2,1=0.4,2=0.4'.")
@click.option("--thresholds", default=None, help="Relief-threshold weights, e.g. '50=0.5,75=0.3,100=0.2'.")
@click.option("--overwrite", is_flag=True, help="Write into a non-empty folder.")
def simulate(out_dir, studies, seed, outcome, tau, treatments, three_arm, n_min, n_max, sham_rate, sham_change,
             populations, tiers, blocks, thresholds, overwrite):
    """Write a simulated spine-like review to OUT_DIR (tables + netstrata.toml + truth.json)."""
    from ..errors import DataError, ParameterError
    from ..synthesis.simulate import simulate_review
    from ..synthesis.simulate.scenario import POPULATIONS, Scenario
    parts = {k: v for k, v in (("tiers", _weights(tiers, "--tiers")), ("blocks", _weights(blocks, "--blocks")),
                                ("thresholds", _weights(thresholds, "--thresholds"))) if v}
    bad = [p for p in populations if p not in POPULATIONS]
    if bad:
        raise click.BadParameter(f"unknown population(s) {bad}; choose from {list(POPULATIONS)}",
                                 param_hint="--population")
    if populations:
        parts["populations"] = populations
    try:
        res = simulate_review(out_dir, studies=studies, seed=seed, outcome=outcome,
                              scenario=Scenario().with_(**parts) if parts else None, tau=tau, treatments=treatments,
                              three_arm=three_arm, n_min=n_min, n_max=n_max, sham_rate=sham_rate,
                              sham_change=sham_change, overwrite=overwrite)
    except (ParameterError, DataError) as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(2)
    arms = sum(len(d.sizes) for d in res.designs)
    three = sum(len(d.sizes) > 2 for d in res.designs)
    strata = len({d.stratum for d in res.designs})
    click.echo(f"Simulated {len(res.designs)} studies ({three} with 3 arms), {arms} arms, {strata} strata; "
               f"outcomes {', '.join(res.outcomes)}; seed {seed}")
    click.echo(f"Wrote studies.csv, arms.csv, outcomes.csv, fidelity.csv, netstrata.toml, truth.json to {res.path}")
