"""Where a certainty rating starts: the GRADE start level of a body of evidence, by design.

GRADE starts randomised evidence at High and non-randomised evidence at Low (Balshem 2011). When
non-randomised studies are judged with ROBINS-I, which places them on the same risk-of-bias
metric as trials (its "low" means "comparable to a well-performed randomised trial"), the body of
evidence starts at High and ROBINS-I's judgements then rate it down through the risk-of-bias
domain: "moderate" one level, "serious" two, "critical" three (Schünemann 2019, GRADE guidance
18). netstrata applies that start only when *every* contributing non-randomised study has a
ROBINS-I assessment; otherwise the traditional start (Low) applies. Single-arm outcome rates are
not comparative evidence and get no rating.

A layer that pools randomised and non-randomised studies (netstrata's ``comparative``
sensitivity layer) starts at the lower of its designs' start levels (GRADE guidance 24,
Cuello-Garcia 2022: a combined body cannot be more certain than its weakest design's start).

References
----------
Balshem H, Helfand M, Schünemann HJ, et al. GRADE guidelines: 3. Rating the quality of evidence.
J Clin Epidemiol 2011;64:401-406. doi:10.1016/j.jclinepi.2010.07.015
Schünemann HJ, Cuello C, Akl EA, et al. GRADE guidelines: 18. How ROBINS-I and other tools to
assess risk of bias in nonrandomized studies should inform judgments about certainty. J Clin
Epidemiol 2019;111:105-114. doi:10.1016/j.jclinepi.2018.01.012
Cuello-Garcia CA, Santesso N, Morgan RL, et al. GRADE guidance 24: optimizing the integration of
randomized and non-randomized studies of interventions in evidence syntheses and health
guidelines. J Clin Epidemiol 2022;142:200-208. doi:10.1016/j.jclinepi.2021.11.026
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from .._validate import check_option
from ..errors import ParameterError
from .judgement import RATINGS

__all__ = ["StartLevel", "START_LEVELS", "COMPARATIVE_LAYERS", "start_level", "ROBINS_I", "SOURCES"]

ROBINS_I = "ROBINS-I"
COMPARATIVE_LAYERS = ("randomised", "nonrandomised", "comparative")
SOURCES = MappingProxyType({
    "balshem2011": "Balshem 2011 (GRADE 3), doi:10.1016/j.jclinepi.2010.07.015",
    "schunemann2019": "Schünemann 2019 (GRADE 18), doi:10.1016/j.jclinepi.2018.01.012",
    "cuello2022": "Cuello-Garcia 2022 (GRADE 24), doi:10.1016/j.jclinepi.2021.11.026",
})


@dataclass(frozen=True, slots=True)
class StartLevel:
    """The level a rating starts from, why, and the source of the rule."""

    level: str
    reason: str
    source: str
    design: str

    def to_dict(self) -> dict:
        return {"level": self.level, "reason": self.reason, "source": self.source, "design": self.design}


# (design, risk-of-bias basis) -> start level. "traditional": no ROBINS-I for every study.
START_LEVELS = MappingProxyType({
    ("randomised", "any"): StartLevel("High", "randomised trials start at High", SOURCES["balshem2011"],
                                      "randomised"),
    ("nonrandomised", "traditional"): StartLevel(
        "Low", "non-randomised studies start at Low (not every study judged with ROBINS-I)",
        SOURCES["balshem2011"], "nonrandomised"),
    ("nonrandomised", ROBINS_I): StartLevel(
        "High", "non-randomised studies judged with ROBINS-I start at High; ROBINS-I's judgements rate down "
        "through risk of bias", SOURCES["schunemann2019"], "nonrandomised"),
})


def start_level(layer: str, nrs_tools=()) -> StartLevel:
    """Start level of a comparative evidence layer.

    Parameters
    ----------
    layer : {"randomised", "nonrandomised", "comparative"}
        The evidence layer ("comparative" pools randomised and non-randomised studies).
    nrs_tools : iterable of str
        The risk-of-bias tool of each contributing non-randomised study ("" when none); the
        ROBINS-I start applies only when every one is ``"ROBINS-I"``.

    Raises
    ------
    ParameterError
        For ``"single_arm"``: single-arm rates are never rated as comparative evidence.
    """
    if layer == "single_arm":
        raise ParameterError("single-arm outcome rates are not comparative evidence and get no certainty rating "
                             "(GRADE rates comparisons); report them as rates beside the comparative layers")
    layer = check_option(layer, name="layer", allowed=COMPARATIVE_LAYERS, caller="start_level")
    tools = list(nrs_tools)
    basis = ROBINS_I if tools and all(t == ROBINS_I for t in tools) else "traditional"
    if layer == "randomised":
        return START_LEVELS[("randomised", "any")]
    nrs = START_LEVELS[("nonrandomised", basis)]
    if layer == "nonrandomised":
        return nrs
    if nrs.level == "High":
        return StartLevel("High", "randomised trials and non-randomised studies judged with ROBINS-I start at High",
                          f"{SOURCES['schunemann2019']}; {SOURCES['cuello2022']}", "comparative")
    return StartLevel("Low", "randomised and non-randomised studies pooled: the lower start (non-randomised, "
                      "Low) applies", f"{SOURCES['balshem2011']}; {SOURCES['cuello2022']}", "comparative")


def lower(a: str, b: str) -> str:
    """The lower of two ratings."""
    return RATINGS[max(RATINGS.index(a), RATINGS.index(b))]
