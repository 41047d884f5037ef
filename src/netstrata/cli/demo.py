"""``netstrata demo``: load the bundled example project, validate it and print a readable summary."""
from __future__ import annotations

import click

__all__ = ["demo", "review_text", "counts_line"]


def counts_line(review) -> str:
    """One line of counts: studies, arms, outcome rows, register rows."""
    return (f"{len(review.studies)} studies, {len(review.arms)} arms, {len(review.outcomes)} outcome rows, "
            f"{len(review.register)} exclusion-register rows")


def _designs(review) -> list[str]:
    from ..data.spec import DESIGNS
    lines = []
    for code, n in review.designs().items():
        label = DESIGNS[code].label if code in DESIGNS else code
        names = ", ".join(review.studies.loc[review.studies["design"] == code, "study"])
        lines.append(f"  {code:<16} {n:>3}  {label}: {names}")
    return lines


def _arms_line(review) -> str:
    from ..data.spec import DESIGNS
    arms, studies = review.arms, review.studies
    comparative = {s for s, d in zip(studies["study"], studies["design"]) if DESIGNS[d].comparative}
    in_comp = arms["study"].isin(comparative)
    active = arms["family"].notna() if "family" in arms else in_comp
    return (f"Arms: {len(arms)} ({int(in_comp.sum())} in comparative studies: {int((in_comp & active).sum())} "
            f"active, {int((in_comp & ~active).sum())} control; {int((~in_comp).sum())} single-arm cohorts)")


def _outcomes(review) -> list[str]:
    lines = []
    contrasts = review.table("contrasts")
    for o in review.plan.outcomes:
        rows = review.outcomes[review.outcomes["outcome"] == o.id]
        used = rows[rows["selected"]]
        text = (f"  {o.id:<16} {o.kind:<10} {o.measure:<4} rows {len(rows):>2}, used {len(used):>2} "
                f"({used['study'].nunique()} studies)")
        if contrasts is not None:
            c = contrasts[(contrasts["outcome"] == o.id) & contrasts["selected"]]
            text += f"; contrast rows used {len(c)}" if len(c) else ""
        lines.append(text)
        rule = o.time_window.describe() if o.time_window else "none (every usable row)"
        lines.append(f"  {'':<16} {o.label}; time window: {rule}" + (f"; MID {o.mid:g}" if o.mid else ""))
    return lines


def _nodes(review, level) -> list[str]:
    m = review.node_map(level)
    lines = [f"Candidate nodes at level '{m.level}' ({m.label}): {len(m.nodes)}"]
    for n in m.nodes:
        merged = f"; merges {len(n.definitions)} definitions differing in {', '.join(n.differing)}" \
            if n.merged else ""
        lines.append(f"  {n.name:<30} {n.role:<8} {len(n.arms):>2} arms, {len(n.studies):>2} studies{merged}")
    lines.append(f"  Justification: {m.justification}")
    return lines


def _register(review) -> list[str]:
    reg = review.register
    lines = [f"Exclusion register: {len(reg)} rows"]
    for code, n in reg.counts().items():
        lines.append(f"  {code:<32} {n:>3}  {reg.label(code)}")
    lines.append("  By study:")
    for study in reg.studies():
        groups: dict[tuple, list] = {}
        for r in reg.for_study(study):      # one entry per reason and outcome; arms collapsed
            groups.setdefault((r.reason_code, r.outcome), []).append(r.timepoint_weeks)
        parts = []
        for (code, outcome), times in groups.items():
            t = sorted({x for x in times if x is not None})
            at = f" @ {', '.join(f'{x:g}' for x in t)} wk" if t else ""
            parts.append(f"{code} ({outcome}{at})" if outcome else code)
        lines.append(f"    {study}: " + "; ".join(parts))
    return lines


def _known(review) -> list[str]:
    if not len(review.known_trials):
        return []
    lines = ["Known trials (omission check):"]
    for r in review.known_trials.itertuples(index=False):
        why = f" ({r.reasons})" if r.reasons else ""
        lines.append(f"  {r.study:<16} {r.status}{why}" + (f" - {r.note}" if r.note else ""))
    return lines


def review_text(review, level: str | None = None) -> str:
    """A readable multi-section summary of a validated review."""
    pack = review.pack
    head = [f"Review '{review.name}' ({review.path})",
            f"Pack: {pack.name} {pack.version} - {pack.title}",
            f"Fingerprint: {review.fingerprint}",
            "OK: " + counts_line(review), "", "Studies by design:", *_designs(review), "",
            _arms_line(review), "", "Outcomes (plan):", *_outcomes(review), ""]
    tail = ["", f"Node levels of the pack: {', '.join(pack.level_names)} (netstrata demo --level NAME)"]
    return "\n".join(head + _nodes(review, level) + [""] + _register(review) + [""] + _known(review) + tail)


@click.command("demo")
@click.option("--level", default=None, help="Node-map lumping level (default: the plan's).")
@click.option("--out", "out_dir", default="netstrata-demo", show_default=True,
              type=click.Path(file_okay=False), help="Where the results and the report are written.")
@click.option("--validate-only", is_flag=True, help="Only load, validate and summarise the example.")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Processes for the sensitivity analyses (default: all cores; 1 = serial).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def demo(level, out_dir, validate_only, workers, quiet):
    """Run netstrata on the bundled example project (real published numbers): validate it,
    summarise it, then analyse it (strata, pairwise and network MA, certainty, sensitivity) and
    write results.json and report.html to OUT."""
    from ..data import example_path, load_review
    from ..errors import DataError, ParameterError
    path = example_path()
    try:
        review = load_review(path)
        text = review_text(review, level)
    except DataError as exc:
        click.echo(f"The bundled example failed validation:\n{exc}", err=True)
        raise SystemExit(1)
    except ParameterError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(2)
    click.echo("netstrata demo: the bundled example project 'spine-landmark'\n")
    click.echo(text)
    if validate_only:
        return
    from .run import exit_on_failed_outputs, run_project, summary_text
    click.echo("\n" + "=" * 78 + "\n")
    try:
        outputs = run_project(path, out_dir=out_dir, seed=0, workers=workers, quiet=quiet, node_level=level)
    except ParameterError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(2)
    click.echo(summary_text(outputs.result, outputs))
    if outputs.report_path:
        click.echo(f"\nOpen the report in a browser: {outputs.report_path}")
    exit_on_failed_outputs(outputs, "netstrata demo")
