"""The whole flow of one run: review -> records -> strata -> analyses -> sensitivity -> ProjectResult.

:func:`analyse_review` is pure (a Review in, a frozen ProjectResult out); :func:`run_project`
loads a project folder, runs it and writes ``results.json`` and tables into ``out_dir`` (the
HTML report is written by a ``report_writer`` from a higher layer, see ``netstrata.cli.run``).

Optional stages (certainty, transitivity, extraction QC) are attempted and, if their layer is
not available or fails on this project, recorded in ``ProjectResult.notes`` instead of stopping
the run.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from .._io import OutputSet, atomic_write_bytes, atomic_write_text
from ..appraisal import check_plausibility, compare_project
from ..appraisal.fidelity import appraise_fidelity
from ..data import Review
from ..data.register import ExclusionRegister
from ..errors import ANALYSIS_ERRORS, ParameterError
from .adjudicated import load_project
from .aside import Aside
from .canonical import canonical_review
from .certainty_inputs import risk_of_bias_table, stratum_transitivity
from .checks import check_review
from .choices import SYNTHESIS_REASONS
from .classes_stage import class_models, thresholds
from .components import analyse_components
from .csv_tables import csv_text
from .disagreements import resolve_disagreements
from .facts import report_facts
from .jsontext import encode_bytes
from .multiverse import CURVE_JSON_ROWS, start_multiverse
from .multiverse_store import remove_parts
from .parallel import idle_cores
from .rating import certainty_key, rate_project
from .records import _file_table
from .result import ProjectExtras, ProjectResult
from .stage import warnings_noted
from .stratify import analyse_strata
from .transitivity import transitivity_from_review

if TYPE_CHECKING:
    from ..appraisal import ExtractionComparison, PlausibilityReport

__all__ = ["analyse_review", "run_project", "RunOutputs", "record_counts", "certainty_key", "OUTPUT_ENTRIES"]


def _certainty(review, split, lumped, settings, notes: list, *, fidelity=None, transitivity=None, node_level=None):
    """Ratings of every comparative layer of every stratum (:func:`~netstrata.synthesis.rating.rate_project`)."""
    return rate_project(review, split, lumped, settings, notes, fidelity=fidelity, transitivity=transitivity,
                        node_level=node_level) or None


def _transitivity(review, level, notes: list, strata=()):
    """Per outcome on the whole review (key: outcome id) and per stratum on the comparisons its
    network analyses (key: stratum name)."""
    out = {}
    for res in strata:
        t = stratum_transitivity(review, res, notes)
        if t is not None:
            out[res.name] = t
    for o in review.plan.outcome_ids:
        try:
            with warnings_noted(notes, f"transitivity: {o}"):
                out[o] = transitivity_from_review(review, level=level, outcome=o)
        except ANALYSIS_ERRORS as exc:
            notes.append(f"transitivity: {o}: {type(exc).__name__}: {exc}")
    return out or None


def _qc(review, notes: list):
    out: dict[str, PlausibilityReport | ExtractionComparison] = {}
    try:
        with warnings_noted(notes, "qc: plausibility"):
            out["plausibility"] = check_plausibility(review.outcomes, review.arms, plan=review.plan)
            if review.table("contrasts") is not None and len(review.table("contrasts")):
                out["plausibility_contrasts"] = check_plausibility(review.table("contrasts"))
    except ANALYSIS_ERRORS as exc:
        notes.append(f"qc: plausibility: {type(exc).__name__}: {exc}")
    if review.table("extraction-b") is not None:
        try:
            out["double_extraction"] = compare_project(review)
        except ANALYSIS_ERRORS as exc:
            notes.append(f"qc: double extraction: {type(exc).__name__}: {exc}")
    return out or None


def _fidelity(review, notes: list):
    try:
        with warnings_noted(notes, "fidelity"):
            return appraise_fidelity(review)
    except ANALYSIS_ERRORS as exc:
        notes.append(f"fidelity: {type(exc).__name__}: {exc}")
        return None


def analyse_review(review, *, seed: int | None = 0, multiverse: bool = True, executor=None,
                   workers: int | None = None, progress: bool = True, created: str | None = None,
                   optional_stages: bool = True, node_level: str | None = None,
                   adjudication=None, multiverse_store=None, resume: bool = False, log=None) -> ProjectResult:
    """Run every analysis of ``review`` (a :class:`netstrata.data.Review`) and return a ProjectResult.

    Parameters
    ----------
    seed : int, optional
        Seed for anything random (sampling of specifications above ``max_specifications``).
    multiverse : bool
        Run the plan's ``[sensitivity]`` specifications.
    executor, workers, progress :
        How specifications run (see :func:`netstrata.synthesis.multiverse.run_multiverse`):
        ``executor`` may be a ``dask.distributed.Client``.
    multiverse_store, resume, log :
        Stream the multiverse to this folder and resume it (see ``run_multiverse``; from
        :data:`~netstrata.synthesis.multiverse.STREAM_MIN_SPECIFICATIONS` specifications on).
    created : str, optional
        A timestamp to record (nothing time-dependent is written otherwise).
    node_level : str, optional
        The primary node level (``netstrata run --level``); default the plan's. It becomes the
        first alternative of the multiverse's node-level dimension (the primary specification).
    adjudication : dict, optional
        The adjudication log applied when the review was loaded (from
        :func:`netstrata.synthesis.adjudicated.load_project`), recorded in the result.
    """
    return _analyse(review, seed=seed, multiverse=multiverse, executor=executor, workers=workers, progress=progress,
                    created=created, optional_stages=optional_stages, node_level=node_level,
                    adjudication=adjudication, multiverse_store=multiverse_store, resume=resume, log=log)[0]


def _analyse(review, *, seed, multiverse, executor, workers, progress, created, optional_stages, node_level,
             adjudication, multiverse_store, resume, log, analysis: bool = False):
    """(:func:`analyse_review`'s result, its :meth:`~ProjectResult.analysis_dict` or None): with
    ``analysis`` the parts of results.json that do not depend on the multiverse are converted
    while a background multiverse runs."""
    if not isinstance(review, Review):
        raise ParameterError(f"The 'review' parameter of analyse_review must be a netstrata.data.Review "
                             f"(from load_review). Got {type(review).__name__} instead.")
    review = canonical_review(review)        # results never depend on the order of input rows
    plan = review.plan
    checked = check_review(review, node_level=node_level)   # every check `netstrata validate` makes (DataError)
    settings, sens, evidence, primary = checked.settings, checked.sensitivity, checked.evidence, checked.primary
    panel, prepared = checked.panel, checked.prepared
    split, lumped = analyse_strata(review, prepared, settings, plan.strata, layer_spec=sens.layers,
                                   evidence=evidence)
    if settings.components:              # component NMA beside each primary network (issue 17)
        split, lumped = (analyse_components(x, settings, prepared.roles) for x in (split, lumped))
    prepared = _undeclared(prepared, (*split, *lumped))
    reasons = {**(review.register.reasons or {}), **SYNTHESIS_REASONS}
    register = ExclusionRegister(tuple(prepared.exclusions), reasons)
    pending = None
    if multiverse and sens.dimensions:     # on local processes it runs while the stages below run here
        pending = start_multiverse(review, sens, settings, primary=primary, seed=seed, executor=executor,
                                   workers=workers, progress=progress, evidence=evidence, store=multiverse_store,
                                   resume=resume, log=log, min_store=None)
    try:                       # while a background multiverse runs; an error stops its processes
        extra, notes = _stages(review, split, lumped, settings, prepared, primary, panel, optional_stages)
        result = ProjectResult(name=review.name, fingerprint=review.fingerprint, settings=settings,
                               node_level=prepared.node_level, variables=tuple(plan.strata), strata=split,
                               lumped=lumped, register=register,
                               record_counts=record_counts(review, prepared, register), multiverse=None,
                               notes=tuple(notes), seed=seed, created=created, version=__version__,
                               adjudication=adjudication, **extra)
        converted = result.analysis_dict() if analysis else None     # differs only in the multiverse
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    if pending is not None:
        result = replace(result, multiverse=pending.result())
    return result, converted


def _stages(review, split, lumped, settings, prepared, primary, panel, optional_stages: bool):
    """(extra results, run notes) of the stages after the strata: class models, thresholds,
    fidelity, transitivity, certainty, QC, disagreements and the report's facts."""
    notes: list[str] = []
    extra: ProjectExtras = {"class_models": class_models(review, (*split, *lumped), settings, prepared.node_level, notes),
             "threshold": thresholds(review, (*split, *lumped), settings, notes)}
    fidelity = None
    if optional_stages:
        fidelity = _fidelity(review, notes)
        trans = _transitivity(review, prepared.node_level, notes, (*split, *lumped))
        extra |= {"certainty": _certainty(review, split, lumped, settings, notes, fidelity=fidelity,
                                          transitivity=trans, node_level=prepared.node_level),
                  "transitivity": trans, "qc": _qc(review, notes), "fidelity": fidelity,
                  "risk_of_bias": risk_of_bias_table(review)}
        extra["disagreements"] = resolve_disagreements(review, extra["qc"], primary, settings, base=(split, lumped))
    extra |= report_facts(review, split, lumped, settings, node_level=prepared.node_level, fidelity=fidelity,
                          panel=panel)
    return extra, notes


def _undeclared(prepared, results):
    """``prepared`` with the records of undeclared evidence layers moved from ``analysed`` to the
    exclusions (reason ``layer_not_declared``, see :mod:`~netstrata.synthesis.evidence`)."""
    rows = tuple(e for res in results for e in res.excluded)
    if not rows:
        return prepared
    keys = {(_file_table(e.file), int(e.row)) for e in rows}
    return replace(prepared, exclusions=tuple(prepared.exclusions) + rows, analysed=prepared.analysed - keys)


def record_counts(review, prepared, register) -> dict[str, int]:
    """Records in (outcome and contrast rows), analysed, excluded (a register row for the record
    or its study) and unaccounted (a defect if not 0): records = analysed + excluded + unaccounted."""
    study_of = {("outcomes", int(i)): s for i, s in zip(review.outcomes.index, review.outcomes["study"])}
    c = review.table("contrasts")
    if c is not None:
        study_of.update({("contrasts", int(i)): s for i, s in zip(c.index, c["study"])})
    study_level = {r.study for r in register.rows if r.arm is None and r.outcome is None and r.stage == "screening"}
    keyed = {(_file_table(r.file), int(r.row)) for r in register.rows if r.row is not None and _file_table(r.file)}
    counts = {"records": len(prepared.records), "analysed": 0, "excluded": 0, "unaccounted": 0}
    for key in prepared.records:
        if key in prepared.analysed:
            counts["analysed"] += 1
        elif key in keyed or study_of.get(key) in study_level:
            counts["excluded"] += 1
        else:
            counts["unaccounted"] += 1
    return counts


@dataclass(frozen=True, slots=True)
class RunOutputs:
    """What :func:`run_project` wrote; ``failed`` names outputs that could not be written
    (e.g. ``report.html``), each with the reason."""

    result: ProjectResult
    json_path: Path
    report_path: Path | None
    tables_dir: Path | None
    failed: tuple[str, ...] = ()


#: the entries of an output folder that one run owns (replaced together; others are never touched)
OUTPUT_ENTRIES = ("results.json", "tables", "report.html")


def run_project(path, *, out_dir=None, seed: int | None = 0, workers: int | None = None, executor=None,
                quiet: bool = False, tables: bool = True, created: str | None = None,
                report_writer=None, node_level: str | None = None, resume: bool = False,
                log=None) -> RunOutputs:
    """Load the project at ``path`` (with its adjudication log), analyse it and write the outputs.

    ``out_dir`` defaults to ``<project>/netstrata-output``. Writes ``results.json`` (deterministic)
    and ``tables/*.csv`` (from :meth:`ProjectResult.to_frames`; text cells neutralised for
    spreadsheets); ``report_writer(data, path)`` (e.g. :func:`netstrata.cli.report.write_html`,
    which uses the present layer above this one) writes ``report.html`` from ``data``, the
    results as ``results.json`` holds them (:meth:`ProjectResult.to_dict`, built once for both;
    with ``curve=`` the specification curve when ``results.json`` references it), and returns its path, or None when it could not (then ``RunOutputs.failed`` names it).

    The outputs are written into a staging folder and swapped in as one set
    (:class:`netstrata._io.OutputSet`): an interrupted or failed run leaves the previous run's
    outputs as they were, and a finished run never leaves an earlier report or table beside its
    results.

    A multiverse of 1,000 specifications or more streams its finished batches into
    ``out_dir/multiverse`` (removed once the outputs are committed); ``resume=True`` reuses the
    batches an interrupted run left there.
    """
    review, adjudication = load_project(path)
    out = Path(out_dir) if out_dir is not None else Path(review.path) / "netstrata-output"
    store = out / "multiverse"
    result, analysis = _analyse(review, seed=seed, multiverse=True, executor=executor, workers=workers,
                                progress=not quiet, created=created, optional_stages=True, node_level=node_level,
                                adjudication=adjudication, multiverse_store=store, resume=resume,
                                log=None if quiet else log, analysis=True)
    failed: list[str] = []
    with OutputSet(out, OUTPUT_ENTRIES) as outputs:
        frames = result.to_frames() if tables else {}
        curve, curve_ref = _curve_file(result, frames)
        data = result.to_dict(curve_ref=curve_ref, analysis=analysis)   # once: results.json and the report read it
        report = None
        if report_writer is not None:      # written aside (a forked process) while the rest is written here
            mv = result.multiverse
            extra = {"curve": mv.curve} if curve_ref is not None and mv is not None else {}
            report = Aside(report_writer, data, outputs.path("report.html"), enabled=_aside_pays(workers), **extra)
        try:
            if curve is not None:
                outputs.path("tables").mkdir(exist_ok=True)
                atomic_write_bytes(outputs.path("tables") / "specification_curve.csv", curve)
            atomic_write_bytes(outputs.path("results.json"), encode_bytes(data))
            if tables:
                _write_tables(frames, outputs.path("tables"))
            written = report.result() if report is not None else False
        except BaseException:
            if report is not None:
                report.cancel()
            raise
        if report is not None and not written:
            failed.append("report.html: the report could not be written")
        del data
        outputs.commit()
    remove_parts(store)
    return RunOutputs(result, out / "results.json", out / "report.html" if report is not None and written else None,
                      out / "tables" if tables else None, tuple(failed))


def _aside_pays(workers: int | None) -> bool:
    """The report goes to a second process unless one process was asked for or no core is idle."""
    return (workers is None or workers > 1) and idle_cores() > 1


def _curve_file(result: ProjectResult, frames: dict) -> tuple[bytes | None, dict | None]:
    """A specification curve of more than :data:`~.multiverse.CURVE_JSON_ROWS` rows is written once,
    to ``tables/specification_curve.csv`` (also without the other tables), and ``results.json``
    references it: ``curve_file``, ``curve_rows`` and the SHA-256 of its bytes, so the JSON still
    pins every row. Returns (the file's bytes, that reference), or (None, None): the curve stays in
    ``results.json`` (and in the tables)."""
    mv = result.multiverse
    if mv is None or mv.curve_file or len(mv.curve) <= CURVE_JSON_ROWS:
        return None, None
    frames.pop("specification_curve", None)
    body = csv_text(mv.curve).encode("utf-8")
    return body, {"curve_file": "tables/specification_curve.csv", "curve_rows": len(mv.curve),
                  "curve_sha256": hashlib.sha256(body).hexdigest()}


def _write_tables(frames: dict, folder: Path) -> None:
    """``tables/*.csv`` (:meth:`ProjectResult.to_frames`): text cells that a spreadsheet would run as
    formulas are neutralised."""
    folder.mkdir(exist_ok=True)
    for name, frame in frames.items():
        atomic_write_text(folder / f"{name}.csv", csv_text(frame))
