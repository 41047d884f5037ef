"""Exclusion register and known-trials ("omission") check.

Every candidate study that does not reach an analysis must carry a reason code in the exclusion
register. A plan may list trials the panel expects (e.g. "Ghahreman 2010"); each one must be
found either among the studies or in the register, otherwise it is flagged as missing.
Names are matched fuzzily: "Ghahreman 2010" = "Ghahreman et al. 2010" = "ghahreman, 2010a".
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from .._summary import Summary
from ..errors import DataError, ParameterError, Problem, closest

__all__ = ["normalise_study_name", "match_study", "KnownTrialsCheck", "check_known_trials",
           "check_exclusion_register"]

_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)([a-z]?)\b")
_NOISE = re.compile(r"\b(et al|et alii|and colleagues|and|&)\b")


def normalise_study_name(name: str) -> tuple[str, str]:
    """(author part, year) of a study label; accents, 'et al.', punctuation and case removed."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().casefold()
    years = _YEAR.findall(text)
    year = years[0][0] if years else ""
    text = _YEAR.sub(" ", text)
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    text = _NOISE.sub(" ", text)
    return " ".join(text.split()), year


def _score(a: str, b: str) -> float:
    (na, ya), (nb, yb) = normalise_study_name(a), normalise_study_name(b)
    if ya and yb and ya != yb:
        return 0.0
    if not na or not nb:
        return 0.0
    first_a, first_b = na.split()[0], nb.split()[0]       # first author's surname
    return max(difflib.SequenceMatcher(None, na, nb).ratio(),
               difflib.SequenceMatcher(None, first_a, first_b).ratio())


def match_study(name: str, candidates, *, cutoff: float = 0.85) -> tuple[str | None, float]:
    """Best fuzzy match of ``name`` among ``candidates`` (same year required when both have one)."""
    best, best_score = None, 0.0
    for c in sorted({str(c) for c in candidates}):
        s = _score(name, c)
        if s > best_score:
            best, best_score = c, s
    return (best, best_score) if best_score >= cutoff else (None, best_score)


@dataclass(frozen=True, slots=True, eq=False)
class KnownTrialsCheck:
    """Status of every expected trial: ``included``, ``excluded`` (with reason) or ``missing``."""

    trials: pd.DataFrame      # expected, status, matched, reason_code, message, score

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(self.trials.loc[self.trials["status"] == "missing", "expected"])

    def __repr__(self) -> str:
        counts = self.trials["status"].value_counts()
        parts = ", ".join(f"{k}={int(counts.get(k, 0))}" for k in ("included", "excluded", "missing"))
        return f"KnownTrialsCheck({parts})"

    def summary(self) -> Summary:
        notes = tuple(f"MISSING: {t} is neither in the data nor in the exclusion register" for t in self.missing)
        return Summary("Known-trials check", self.trials, notes)


def check_known_trials(expected, studies, exclusions: pd.DataFrame | None = None, *,
                       cutoff: float = 0.85) -> KnownTrialsCheck:
    """Check that every trial the panel expects is either analysed or excluded with a reason.

    Parameters
    ----------
    expected : iterable of str or of netstrata.data.KnownTrial
        Trial labels from the plan (e.g. ``["Ghahreman 2010", "Lord 1996"]`` or
        ``review.plan.known_trials``).
    studies : iterable of str or DataFrame with a 'study' column
        Studies present in the data.
    exclusions : DataFrame, optional
        The exclusion register (study, reason_code, message).
    cutoff : float, default=0.85
        Smallest name similarity (0-1) accepted as a match.
    """
    if isinstance(expected, str):
        raise ParameterError("The 'expected' parameter of check_known_trials must be a list of trial "
                             f"labels, not one string. Got {expected!r} instead.")
    expected = [getattr(t, "study", t) for t in expected]      # plain labels or the plan's KnownTrial
    names = list(studies["study"]) if isinstance(studies, pd.DataFrame) else list(studies)
    excl = exclusions if exclusions is not None else pd.DataFrame(columns=["study", "reason_code", "message"])
    rows = []
    for trial in expected:
        hit, score = match_study(trial, names, cutoff=cutoff)
        if hit is not None:
            rows.append({"expected": trial, "status": "included", "matched": hit, "reason_code": "",
                         "message": "", "score": score})
            continue
        hit, score = match_study(trial, excl["study"], cutoff=cutoff) if len(excl) else (None, 0.0)
        if hit is not None:
            recs = excl[excl["study"].astype(str) == hit]
            rows.append({"expected": trial, "status": "excluded", "matched": hit,
                         "reason_code": "; ".join(str(c) for c in recs["reason_code"]),
                         "message": " | ".join(str(m) for m in recs.get("message", pd.Series([], dtype=str))),
                         "score": score})
        else:
            rows.append({"expected": trial, "status": "missing", "matched": "", "reason_code": "",
                         "message": "neither in the data nor in the exclusion register", "score": score})
    cols = ["expected", "status", "matched", "reason_code", "message", "score"]
    return KnownTrialsCheck(pd.DataFrame(rows, columns=cols))


def check_exclusion_register(candidates, analysed, exclusions: pd.DataFrame, *, reasons=None,
                             file: str = "exclusions.csv"):
    """Every candidate that is not analysed needs a register entry with a reason code.

    Parameters
    ----------
    candidates, analysed : iterable of str
        Candidate studies (e.g. from screening) and studies that reach an analysis.
    exclusions : DataFrame
        The register (study, reason_code, message); a study may have several rows.
    reasons : iterable of str, optional
        Declared reason codes (e.g. ``netstrata.data.register.all_reasons(pack_reasons)``);
        when given, undeclared codes are problems with a "did you mean" hint.

    Returns a list of :class:`~netstrata.errors.Problem` (empty when the register is complete);
    an entry without a reason code and a study both analysed and excluded are problems too.
    """
    if not {"study", "reason_code"} <= set(exclusions.columns):
        raise DataError(Problem("exclusion register needs columns study and reason_code", file=file,
                                found=list(exclusions.columns)))
    problems = []
    excluded = {}
    for pos, rec in enumerate(exclusions.to_dict(orient="records")):
        study = str(rec["study"]).strip()
        excluded[study.casefold()] = study
        code = str(rec["reason_code"]).strip()
        if not code:
            problems.append(Problem("excluded study without a reason code", file=file, row=pos + 2,
                                    column="reason_code", study=study))
        elif reasons is not None and code not in set(reasons):
            hint = closest(code, list(reasons))
            problems.append(Problem("undeclared exclusion reason code", file=file, row=pos + 2,
                                    column="reason_code", study=study, found=code,
                                    hint=f"did you mean {hint!r}?" if hint else None))
    analysed_set = {str(s).strip().casefold() for s in analysed}
    for study in sorted({str(s).strip() for s in candidates}):
        key = study.casefold()
        if key not in analysed_set and key not in excluded:
            problems.append(Problem("candidate study reaches no analysis and has no exclusion reason",
                                    file=file, study=study, hint="add a row with a reason_code"))
    for key, study in sorted(excluded.items()):
        if key in analysed_set:
            problems.append(Problem("study is both analysed and in the exclusion register", file=file,
                                    study=study))
    return problems
