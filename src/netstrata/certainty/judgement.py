"""Vocabulary of the certainty layer: study levels, domain judgements, ratings (declared once).

CINeMA (Nikolakopoulou 2020) judges each domain of a network comparison as *no concerns*,
*some concerns* or *major concerns*; netstrata adds *not assessable* (e.g. incoherence in a
network without loops) which never downgrades. Study-level risk of bias and indirectness use
CINeMA's three levels 1/2/3 = low/some (unclear)/high.

References
----------
Nikolakopoulou A, Higgins JPT, Papakonstantinou T, et al. CINeMA: an approach for assessing
confidence in the results of a network meta-analysis. PLoS Med 2020;17:e1003082.
doi:10.1371/journal.pmed.1003082
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from .._validate import check_option
from ..errors import ParameterError

__all__ = ["NO", "SOME", "MAJOR", "NOT_ASSESSABLE", "NOT_APPLICABLE", "rating_after", "lowest", "JUDGEMENTS", "CONCERNS", "RATINGS", "DOMAINS",
           "DOMAIN_LABELS", "provisional_label", "not_assessed_text", "STUDY_LEVELS", "LEVEL_JUDGEMENT", "DOWNGRADE", "DomainJudgement", "study_level",
           "check_judgement", "check_reason"]

NO, SOME, MAJOR, NOT_ASSESSABLE = "no concerns", "some concerns", "major concerns", "not assessable"
#: a domain that cannot arise for this evidence (heterogeneity of a single study): never downgrades
#: and, unlike "not assessable", leaves the rating final rather than provisional
NOT_APPLICABLE = "not applicable"
CONCERNS = (NO, SOME, MAJOR)                         # best -> worst
JUDGEMENTS = CONCERNS + (NOT_ASSESSABLE, NOT_APPLICABLE)
RATINGS = ("High", "Moderate", "Low", "Very low")   # best -> worst
DOMAINS = ("within_study_bias", "reporting_bias", "indirectness", "imprecision", "heterogeneity",
           "incoherence")
DOMAIN_LABELS = MappingProxyType({"within_study_bias": "within-study bias", "reporting_bias": "reporting bias",
                                  "indirectness": "indirectness", "imprecision": "imprecision",
                                  "heterogeneity": "heterogeneity", "incoherence": "incoherence",
                                  # GRADE for NMA (certainty.grade_nma)
                                  "risk_of_bias": "risk of bias", "inconsistency": "inconsistency",
                                  "publication_bias": "publication bias", "intransitivity": "intransitivity"})


def provisional_label(rating: str, not_assessed) -> str:
    """``rating`` as it must be shown: ``"High (provisional: within-study bias not assessed)"`` when
    domains (codes of :data:`DOMAINS`) could not be assessed, else the rating itself. A domain
    that was not assessed does not downgrade, so such a rating is an upper bound."""
    text = not_assessed_text(not_assessed)
    return f"{rating} (provisional: {text})" if text else rating


def not_assessed_text(not_assessed) -> str:
    """``"within-study bias and indirectness not assessed"`` ("" when nothing is missing)."""
    names = [DOMAIN_LABELS.get(d, str(d)) for d in not_assessed]
    if not names:
        return ""
    return (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]) + " not assessed"

# netstrata's default mapping of a domain judgement to levels of downgrading (CINeMA leaves the
# overall rating to the user; see ``overall_rating``).
DOWNGRADE = MappingProxyType({NO: 0, SOME: 1, MAJOR: 2, NOT_ASSESSABLE: 0, NOT_APPLICABLE: 0})


def rating_after(start: str, downgrades: int) -> str:
    """``start`` lowered by ``downgrades`` levels, never below Very low (GRADE)."""
    return RATINGS[min(RATINGS.index(start) + max(int(downgrades), 0), len(RATINGS) - 1)]


def lowest(*ratings: str) -> str:
    """The lowest of some ratings."""
    return RATINGS[max(RATINGS.index(r) for r in ratings)]

# Study level (CINeMA's rob / indirectness column, 1/2/3 or L/U/H) -> comparison judgement.
LEVEL_JUDGEMENT = MappingProxyType({1: NO, 2: SOME, 3: MAJOR})

# Accepted spellings of a study level; RoB 2 and ROBINS-I overall judgements included.
# ROBINS-I "No information" is read as 2 (unclear), "Serious" and "Critical" as 3 (high).
STUDY_LEVELS = MappingProxyType({
    "1": 1, "l": 1, "low": 1,
    "2": 2, "u": 2, "unclear": 2, "some": 2, "some concerns": 2, "moderate": 2, "no information": 2,
    "3": 3, "h": 3, "high": 3, "serious": 3, "critical": 3,
})


def study_level(value, *, name: str, caller: str) -> int:
    """Read a study level (1/2/3, 'L'/'U'/'H', 'Low'/'Some concerns'/'High', ROBINS-I words)."""
    if isinstance(value, bool):
        key = None
    elif isinstance(value, (int, float)) and float(value).is_integer():
        key = str(int(value))
    else:
        key = str(value).strip().lower()
    if key is None or key not in STUDY_LEVELS:
        raise ParameterError(
            f"The '{name}' parameter of {caller} must be a study level 1/2/3 (low/some/high, or "
            f"L/U/H, or a RoB 2 / ROBINS-I judgement). Got {value!r} instead.")
    return STUDY_LEVELS[key]


def check_judgement(value, *, name: str, caller: str) -> str:
    return check_option(value, name=name, allowed=JUDGEMENTS, caller=caller)


def check_reason(value, *, name: str, caller: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"The '{name}' parameter of {caller} needs a non-empty reason. Got {value!r} instead.")
    return value.strip()


@dataclass(frozen=True, slots=True)
class DomainJudgement:
    """One domain judgement for one comparison, with everything that produced it.

    ``algorithm`` is what the rule gave; ``judgement`` is final (differs only under an
    override, whose reason is ``override_reason``). ``inputs`` holds the numbers the rule read.
    """

    domain: str
    judgement: str
    algorithm: str
    rule: str
    inputs: Mapping = field(default_factory=dict)
    note: str = ""
    override_reason: str = ""

    @property
    def overridden(self) -> bool:
        return bool(self.override_reason)

    @property
    def downgrade(self) -> int:
        return DOWNGRADE[self.judgement]

    def override(self, judgement: str, reason: str, *, caller: str = "override") -> "DomainJudgement":
        """A copy with the final judgement replaced and the reason recorded."""
        judgement = check_judgement(judgement, name=f"overrides[{self.domain}]", caller=caller)
        reason = check_reason(reason, name=f"overrides[{self.domain}]", caller=caller)
        return DomainJudgement(self.domain, judgement, self.algorithm, self.rule, self.inputs,
                               self.note, reason)

    def __repr__(self) -> str:
        tail = f", override={self.override_reason!r}" if self.override_reason else ""
        return f"DomainJudgement({self.domain}={self.judgement!r}, rule={self.rule!r}{tail})"
