"""A new review project: a commented plan and empty tables with their headers (``netstrata init``).

:func:`init_project` writes ``netstrata.toml`` (every section and key, commented, with the pack's
node levels and columns filled in) and one CSV per table with the header the validator expects:
the core columns of :data:`netstrata.data.spec.TABLES` plus the pack's clinical columns
(:func:`~netstrata.data.spec.table_spec`). The same headers and plan text feed the Excel template
(:mod:`netstrata.data.template`).

>>> from netstrata.data.scaffold import table_header
>>> table_header("outcomes", "spine")[:6]
('study', 'arm', 'outcome', 'timepoint_weeks', 'events', 'n')
"""
from __future__ import annotations

import csv
from pathlib import Path
from string import Template

from ..errors import ParameterError
from ..taxonomy.pack import load_pack
from .spec import TABLES, table_spec

__all__ = ["SCAFFOLD_TABLES", "table_header", "plan_text", "init_project", "checklist_items"]

#: tables a new project starts with: the three required ones and the optional ones most reviews fill
SCAFFOLD_TABLES = ("studies", "arms", "outcomes", "exclusions", "contrasts", "fidelity", "rob")
_LAST = ("label", "notes", "note")     # free-text columns shown last
#: columns a new file leaves out: rob.csv starts in its wide layout, one overall judgement per
#: study (what CINeMA asks for); domain columns D1 ... or the long layout (item, answer) can be added
_LEFT_OUT = {"rob": ("item", "answer")}


def table_header(name: str, pack=None) -> tuple[str, ...]:
    """Column names of table ``name`` as a new file should have them (core + the pack's columns;
    free-text notes last)."""
    spec = table_spec(name, load_pack(pack) if pack is not None else None)
    names = [c.name for c in spec.columns if c.name not in _LEFT_OUT.get(name, ())]
    return tuple([n for n in names if n not in _LAST] + [n for n in _LAST if n in names])


_PLAN = Template('''\
# netstrata analysis plan. Lines starting with '#' are comments; remove the '#' before a key to
# use it. Every section and key is described in docs/data-format.md. Check the project with
#     netstrata validate .        (every problem at once: file, row, column, what was expected)
# and analyse it with
#     netstrata run .             (results.json, tables/ and report.html in netstrata-output/)

[project]
name = "$name"
pack = "$pack"                       # domain pack: vocabularies, node levels, fidelity checklists
description = ""
# version = "1.0"
# authors = "A. Author, B. Author"

# One table per outcome. The id after "outcomes." is what outcomes.csv's 'outcome' column holds.
[outcomes.success]
label = "Treatment success (responders)"
kind = "binary"                      # binary: events and n | continuous: mean, sd and n
measure = "RR"                       # binary: RR OR RD (comparative), PR PLO PAS PFT PLN (single-arm rates)
                                     # continuous: MD SMD ROM MN
small_values = "undesirable"         # are small values good? "desirable" (pain) or "undesirable" (success)
mid = 1.25                           # minimal important difference on the measure's scale: a ratio above 1
                                     # for RR/OR (1.25 = GRADE's default), points for MD (1.5 cm on a 10 cm VAS),
                                     # a fraction for RD (0.05); it sets imprecision and "trivial" effects
# time_window = "closest to but not after 6 months"     # which follow-up enters; none: every row
# tolerance_weeks = 1                                    # allowance added to the target
# time_window_by_family = { $family = "closest to but not after 3 months" }   # per procedure family
# description = ""
# scale = "0-10 NRS"

# [outcomes.pain]                    # a continuous outcome
# label = "Pain intensity (0-10)"
# kind = "continuous"
# measure = "MD"
# small_values = "desirable"
# mid = 1.5

[nodes]
level = "$level"                     # how arms become treatment nodes: $levels

[strata]
variables = []                       # analyse subgroups separately, e.g. [$strata]
                                     # (columns of studies.csv or arms.csv, or "time_window")

# Trials the review must account for (omission check): each must be in studies.csv or exclusions.csv.
# [[known_trials]]
# study = "Lord 1996"
# citation = "N Engl J Med 1996;335:1721-6"
# note = "why it is listed"

# ---------------------------------------------------------------- optional sections
# [models]
# pairwise = "REML"                  # tau2 of each direct comparison: REML DL PM ML HE SJ HS EB FE
# network = "DL"                     # tau2 of the network: DL REML
# ci = "wald"                        # wald | hksj (pairwise)
# model = "random"                   # random | common: the model conclusions read
# proportion = "PLO"                 # single-arm rates: PLO PFT GLMM
# level = 0.95
# reference = ["$control"]           # preferred reference node(s); default: the most-studied control
# components = false                 # also analyse combination nodes ("A+B") by their components
# components_inactive = "$control"
# classes = "$level"                 # class-effect models over this coarser node level
# threshold = true                   # threshold analysis of each network

# [evidence]                         # which evidence layers each stratum analyses
# layers = ["randomised", "nonrandomised", "single_arm"]
# data_collection = "any"            # "prospective": non-randomised studies only if prospective
# [evidence.by_stratum]              # per-stratum overrides: stratum values and/or outcome joined by " / "
# "$stratum_value" = ["randomised", "single_arm"]

# [sensitivity]                      # the multiverse: the FIRST alternative of each key is the primary analysis
# node_level = ["$level", "$level2"]
# design = ["randomised", "comparative"]
# time_window = ["plan", "closest to but not after 3 months"]
# mixed_duration = ["exclude", "include"]
# selection = ["any", "selection_reporting=explicit"]
# risk_of_bias = ["any", "rob_overall=low|some_concerns"]
# fidelity = ["any", "fidelity_tier=T1|T2"]
# data_collection = ["any", "prospective"]
# max_specifications = 5000
# layers = "subgroup"                # subgroup | moderator | separate | { approach = "downweight", inflation = 2 }

# [report]
# baseline_risk = { success = 0.25 } # control-group risk of a binary outcome: absolute effects per 1000

# [certainty]
# framework = "cinema"               # cinema | grade_nma
# imprecision_threshold = "null"     # grade_nma: "null" or "mid"
# rob_rule = "majority"              # majority | average | highest
# indirectness_rule = "majority"
# p_thresholds = [0.01, 0.10]
# limits = "zone"                    # zone | cinema_app
# [certainty.target]                 # fields the guideline question fixes (indirectness)
# selection_control = "placebo_controlled"
# [certainty.transitivity]
# modifiers = [$strata]
# tvd = 0.25
# smd = 0.5
# cramers_v = 0.3

# [panel]                            # the guideline panel (balanced authorship)
# roles = ["methodologist", "clinician_performing", "patient_partner"]
# [[panel.members]]
# name = "A. Author"
# role = "methodologist"
# conflicts = "none declared"
# specialty = "epidemiology"

# [appraisal.fidelity]               # technical-fidelity tiers (pack checklists $checklists)
# critical = { $checklist = [$critical] }
# min_reported_share = 0.5
# noncritical_fail_demotes = false
# inclusion = "exclude_T3"           # for netstrata.appraisal.fidelity_subset; run filters by [sensitivity] fidelity
''')


def plan_text(pack="spine", name: str = "my-review") -> str:
    """The commented plan of a new project for ``pack`` (valid as it is once tables are filled)."""
    p = load_pack(pack)
    levels = list(p.level_names)
    families = p.vocabularies.get("family")
    comparators = p.vocabularies.get("comparator_type")
    study_cols = [b.column for b in p.columns_of("studies")]
    checklists, critical = _checklists(p)
    return _PLAN.substitute(
        name=name, pack=p.name if isinstance(pack, str) and "/" not in pack else str(pack),
        level=p.default_node_level, levels=", ".join(levels),
        level2=next((lv for lv in levels if lv != p.default_node_level), p.default_node_level),
        family=families.codes[0].code if families and families.codes else "FAMILY",
        control=(comparators.parent_of(comparators.codes[0].code) if comparators and comparators.codes else "control"),
        strata=", ".join(f'"{c}"' for c in study_cols[:2]),
        stratum_value=_first_code(p, study_cols[0]) if study_cols else "value",
        checklists=checklists or "none", checklist=checklists.split(", ")[0] if checklists else "C1",
        critical=critical)


def _first_code(pack, column: str) -> str:
    binding = next((b for b in pack.columns if b.column == column), None)
    vocab = pack.vocabularies.get(binding.vocabulary) if binding else None
    return vocab.codes[0].code if vocab and vocab.codes else "value"


def checklist_items(pack) -> dict[str, tuple[tuple[str, bool], ...]]:
    """Checklist id -> ((item field, critical by default), ...) of the pack's ``fidelity.toml``
    (empty without one). A listing for templates and comments; the appraisal layer
    (:func:`netstrata.appraisal.load_checklists`) validates the file."""
    import tomllib
    f = Path(pack.path) / "fidelity.toml"
    if not f.is_file():
        return {}
    raw = tomllib.loads(f.read_text(encoding="utf-8"))
    return {str(c.get("id")): tuple((str(i.get("field")), bool(i.get("critical", False))) for i in c.get("items", []))
            for c in raw.get("checklists", []) if c.get("id")}


def _checklists(pack) -> tuple[str, str]:
    """Checklist ids of the pack and the default critical items of the first ("" without any)."""
    items = checklist_items(pack)
    if not items:
        return "", ""
    first = next(iter(items.values()))
    return ", ".join(items), ", ".join(f'"{f}"' for f, crit in first if crit)


def init_project(path, *, pack="spine", name: str | None = None, overwrite: bool = False) -> Path:
    """Create a project folder: ``netstrata.toml`` (commented) and the empty tables of
    :data:`SCAFFOLD_TABLES` with their headers.

    Parameters
    ----------
    path : str or Path
        The folder to create (it may exist but must not hold a plan or tables, unless ``overwrite``).
    pack : str or Path, default="spine"
        Domain pack (bundled name or folder).
    name : str, optional
        Project name in the plan (default: the folder name).
    overwrite : bool, default=False
        Replace existing files.

    Returns
    -------
    Path
        The project folder.
    """
    root = Path(path).expanduser()
    files = ["netstrata.toml", *(f"{t}.csv" for t in SCAFFOLD_TABLES)]
    clash = [f for f in files if (root / f).exists()]
    if clash and not overwrite:
        raise ParameterError(f"{root} already holds {', '.join(clash)}; choose an empty folder or overwrite=True "
                             "(netstrata init --force).")
    text = plan_text(pack, name or root.resolve().name)
    root.mkdir(parents=True, exist_ok=True)
    (root / "netstrata.toml").write_text(text, encoding="utf-8")
    for t in SCAFFOLD_TABLES:
        with open(root / f"{t}.csv", "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerow(table_header(t, pack))
    return root


assert set(SCAFFOLD_TABLES) <= set(TABLES)
