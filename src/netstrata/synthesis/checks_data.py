"""The checks of :func:`netstrata.synthesis.checks.check_review` that read the plan against the data.

* sensitivity filters (:func:`~netstrata.synthesis.filters.filter_problems`), preferred reference
  nodes, a mean difference's MID against the outcome's SDs and means, ``[certainty.target]``
  fields and ``[certainty.transitivity]`` modifiers (:func:`data_problems`);
* time-window rules, the plan's and the ``[sensitivity]`` alternatives, that choose no time point
  in any study (:func:`window_problems`);
* ``[evidence.by_stratum]`` keys that match none of the strata the run analyses
  (:func:`strata_problems`).
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..data.selection import _families, _usability
from ..data.timewindow import parse_window
from ..errors import DataError, Problem, closest
from .certainty_inputs import check_overrides_used
from .config import FILTER_DIMENSIONS
from .filters import filter_problems
from .strata import Stratum
from .stratify import assign_strata
from .transitivity import KINDS

__all__ = ["data_problems", "window_problems", "strata_problems", "MD_SD_FACTOR"]

MD_SD_FACTOR = 2.0     # an MD MID above 2 SDs (an SMD above 2) or 2 means: the MID and the data differ in scale


def data_problems(review, settings, sens) -> list[Problem]:
    """Sensitivity filters, reference nodes, MIDs of mean differences and [certainty] fields
    against the data (``settings``, ``sens``: the parsed [models] and [sensitivity], or None)."""
    file = review.plan.source or "netstrata.toml"
    problems: list[Problem] = []
    raw = review.plan.sections.get("sensitivity") or {}
    for name in FILTER_DIMENSIONS:      # the raw alternatives: checked even if another key is wrong
        values = [raw[name]] if isinstance(raw.get(name), str) else raw.get(name) or []
        for text in (v for v in values if isinstance(v, str)) if isinstance(values, list) else ():
            problems += filter_problems(review, f"sensitivity.{name}", text, file)
    if settings is not None and (settings.reference or settings.components_inactive):
        named = [("models.reference", r) for r in settings.reference]
        named += [("models.components_inactive", settings.components_inactive)] if settings.components_inactive else []
        problems += _reference_problems(review, named, sens, file)
    problems += _md_problems(review, file)
    problems += _certainty_problems(review, file)
    return problems


def _certainty_problems(review, file) -> list[Problem]:
    """[certainty.target] fields and values, and [certainty.transitivity] modifiers: a name that is no
    column would be ignored (target) or stop the stage with a note (modifiers)."""
    section = review.plan.sections.get("certainty") or {}
    out = []
    target = section.get("target", {})
    if not isinstance(target, dict) and not hasattr(target, "items"):
        return [Problem("expected a table field = value", file=file, column="certainty.target", found=target,
                        expected='e.g. selection_control = "placebo_controlled"')]
    for field, value in target.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            out.append(Problem("expected a code or a list of codes", file=file, column=f"certainty.target.{field}",
                               found=value))
            continue
        for pr in filter_problems(review, f"certainty.target.{field}", f"{field}={'|'.join(values)}", file):
            out.append(Problem(pr.message.replace("filter", "target"), file=file, column=pr.column,
                               found=field if "unknown column" in pr.message else pr.found, expected=pr.expected, hint=pr.hint))
    mods = (section.get("transitivity") or {}).get("modifiers")
    if isinstance(mods, str):
        names = [mods]
    elif isinstance(mods, (list, dict)) or (mods is not None and hasattr(mods, "keys")):
        names = list(mods)
    else:
        names = []
    columns = sorted({*review.studies.columns, "sham_subtype"} - {"row", "notes"})
    for m in names:
        if not isinstance(m, str):
            continue
        where = "certainty.transitivity.modifiers"
        if m not in columns:
            best = closest(m, columns)
            out.append(Problem("effect modifier is not a column of studies.csv", file=file, column=where, found=m,
                               expected="a column of studies.csv or sham_subtype",
                               hint=f"did you mean {best!r}?" if best else None))
        elif mods is not None and hasattr(mods, "get") and mods.get(m) not in KINDS:
            out.append(Problem("unknown kind of effect modifier", file=file, column=f"{where}.{m}", found=mods.get(m),
                               expected="one of " + ", ".join(KINDS)))
    return out


def _reference_problems(review, named, sens, file) -> list[Problem]:
    """Nodes the plan names ((key, name): preferred references, the inactive component) that are a
    node at no lumping level the run uses (a typo: the run would fall back to its default)."""
    levels = {review.plan.node_level, *(sens.alternatives("node_level") if sens is not None else ())}
    nodes = sorted({n.name for lv in levels for n in review.node_map(lv).nodes})
    out = []
    for key, name in named:
        if name not in nodes:
            best = closest(name, nodes)
            out.append(Problem("not a treatment node", file=file, column=key, found=name,
                               expected="a node name at the plan's node levels: " + ", ".join(nodes[:12])
                               + (", ..." if len(nodes) > 12 else ""),
                               hint=f"did you mean {best!r}?" if best else None))
    return out


def _md_problems(review, file) -> list[Problem]:
    """A mean-difference MID more than :data:`MD_SD_FACTOR` times every SD and mean reported for
    the outcome: the MID and the data are on different scales (e.g. mm and cm)."""
    out = []
    for o in review.plan.outcomes:
        if o.mid is None or o.measure != "MD":
            continue
        rows = review.outcomes[review.outcomes["outcome"] == o.id]
        values = np.abs(np.concatenate([rows["sd"].to_numpy(float), rows["mean"].to_numpy(float)]))
        values = values[np.isfinite(values)]
        if values.size and o.mid > MD_SD_FACTOR * values.max():
            out.append(Problem(f"MID implausible for measure MD: more than {MD_SD_FACTOR:g} times every SD and mean "
                               "in outcomes.csv", file=file, column=f"outcomes.{o.id}.mid", found=o.mid,
                               expected=f"at most {MD_SD_FACTOR * values.max():.4g} (largest SD or mean "
                                        f"{values.max():.4g})",
                               hint="the MID and the outcome data must be on the same scale (e.g. cm, not mm)"))
    return out


def window_problems(review, sens) -> list[Problem]:
    """Time-window rules (the plan's, per outcome and per family, and the [sensitivity]
    alternatives) that choose no time point in any study, among the rows with usable numbers."""
    file = review.plan.source or "netstrata.toml"
    timed = _timed_rows(review)
    out = []
    for o in review.plan.outcomes:
        groups: dict[str, list] = {}
        for (oid, _), (fams, weeks) in timed.items():
            key = _window_key(o, fams) if oid == o.id else None
            if key is not None:
                groups.setdefault(key, []).append(weeks)
        for key, studies in groups.items():
            rule = _rule_at(o, key)
            if all(rule.choose(w) is None for w in studies):
                out.append(_window_problem(file, f"outcomes.{o.id}.{key}", rule.text or rule.describe(),
                                           [x for w in studies for x in w]))
    for alt in (sens.alternatives("time_window") if sens is not None else ()):
        window = parse_window(alt)[0] if alt != "plan" else None
        if window is None:
            continue
        for o in review.plan.outcomes:
            studies = [w for (oid, _), (_, w) in timed.items() if oid == o.id]
            rule = replace(window, tolerance_weeks=o.time_window.tolerance_weeks) if o.time_window else None
            if rule is not None and studies and all(rule.choose(w) is None for w in studies):
                out.append(_window_problem(file, "sensitivity.time_window", alt, [x for w in studies for x in w],
                                           outcome=o.id))
    return out


def _timed_rows(review) -> dict:
    """(outcome, study) -> (families of the study's active arms, time points of its rows that have
    the numbers an analysis needs), for studies not in exclusions.csv (as the selection sees them)."""
    families = _families(review.arms)
    excluded = set(review.exclusions["study"])
    kinds = {o.id: o.kind for o in review.plan.outcomes}
    out: dict = {}
    for t in ("outcomes", "contrasts"):
        frame = review.tables.get(t)
        if frame is None:
            continue
        for _, row in frame.iterrows():
            weeks, oid = row["timepoint_weeks"], row["outcome"]
            if row["study"] in excluded or oid not in kinds or not math.isfinite(weeks):
                continue
            if _usability(row, "contrast" if t == "contrasts" else kinds[oid]) is None:
                entry = out.setdefault((oid, row["study"]), (families.get(row["study"], ()), []))
                entry[1].append(float(weeks))
    return out


def _window_key(o, families) -> str | None:
    for fam in families:
        if fam in o.time_window_by_family:
            return f"time_window_by_family.{fam}"
    return "time_window" if o.time_window is not None else None


def _rule_at(o, key: str):
    return o.time_window if key == "time_window" else o.time_window_by_family[key.rsplit(".", 1)[1]]


def _window_problem(file, column, rule, weeks, outcome=None) -> Problem:
    shown = ", ".join(f"{w:g}" for w in sorted(set(weeks))[:12])
    what = f" for outcome '{outcome}'" if outcome else ""
    return Problem(f"the time-window rule selects no outcome row{what}", file=file, column=column, found=rule,
                   expected=f"a rule that selects one of the rows' time points ({shown} weeks)",
                   hint="check the number and the unit: months are 52/12 weeks, e.g. 'closest to but not after "
                        "6 months' takes 26 weeks")


def strata_problems(review, evidence, prepared, overrides=None) -> list[Problem]:
    """[evidence.by_stratum] keys that match none of the strata the run analyses, and rows of
    certainty-overrides.csv naming a stratum and layer the run will not rate (the run's own check,
    :func:`~netstrata.synthesis.certainty_inputs.check_overrides_used`, on the strata and
    comparative layers of the prepared records whose outcome has a MID)."""
    variables = review.plan.strata
    strata, layers = set(), set()
    for frame in (prepared.contrasts, prepared.rates):
        if len(frame):
            own = assign_strata(review, frame, variables) if variables else [None] * len(frame)
            whole = [Stratum(o) for o in frame["outcome"]]
            strata |= {s for s in own if s is not None} | set(whole)
            if "layer" in frame:
                layers |= {(s.name, lay) for st in (own, whole) for s, lay in zip(st, frame["layer"]) if s is not None}
    out = _overrides_problems(review, layers, overrides) if overrides is not None and overrides.rows else []
    if not evidence.by_stratum:
        return out
    file = review.plan.source or "netstrata.toml"
    names = sorted(s.name for s in strata)
    parts = sorted({p for n in names for p in n.split(" / ")} | set(names))
    return out + [Problem("[evidence.by_stratum] key matches no stratum", file=file,
                          column=f"evidence.by_stratum.{k}", found=k,
                          expected="stratum values and/or an outcome of an analysed stratum: " + "; ".join(names[:8])
                          + ("; ..." if len(names) > 8 else ""),
                          hint=(lambda b: f"did you mean {b!r}?" if b else None)(closest(k, parts)))
                  for k in evidence.unused_keys(strata)]


def _overrides_problems(review, layers, overrides) -> list[Problem]:
    mid = {o.id: o.mid is not None for o in review.plan.outcomes}
    rated = {(name, layer): True for name, layer in layers if mid.get(name.rsplit(" / ", 1)[-1], False)}
    try:
        check_overrides_used(overrides, rated)
    except DataError as exc:
        return list(exc.problems)
    return []
