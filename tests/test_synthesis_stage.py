"""Optional stages: what they warn about becomes a run note, never silence (synthesis.stage)."""
from __future__ import annotations

import warnings

import pytest

from netstrata.errors import ConvergenceWarning, DataError, StatisticalWarning
from netstrata.synthesis import pipeline
from netstrata.synthesis.stage import warnings_noted


def test_warnings_become_notes_once_each_in_order():
    notes: list = ["before"]
    with warnings_noted(notes, "stage"):
        warnings.warn("b", StatisticalWarning)
        warnings.warn("a", ConvergenceWarning)
        warnings.warn("b", StatisticalWarning)
    assert notes == ["before", "stage: b", "stage: a"]


def test_warnings_are_noted_when_the_stage_fails_and_the_error_propagates():
    notes: list = []
    with pytest.raises(DataError, match="bad"), warnings_noted(notes, "stage"):
        warnings.warn("on the way", StatisticalWarning)
        raise DataError("bad")
    assert notes == ["stage: on the way"]


def test_nothing_escapes_to_the_caller_as_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # a warning reaching here would raise
        with warnings_noted([], "stage"):
            warnings.warn("kept as a note", ConvergenceWarning)


def test_fidelity_stage_notes_a_convergence_warning(monkeypatch):
    """Before, the fidelity stage ran under simplefilter("ignore"): the panel never saw it."""
    def appraise(review):
        warnings.warn("checklist item C9 is not in the pack", StatisticalWarning)
        return "table"
    monkeypatch.setattr(pipeline, "appraise_fidelity", appraise)
    notes: list = []
    assert pipeline._fidelity(object(), notes) == "table"
    assert notes == ["fidelity: checklist item C9 is not in the pack"]


def test_failed_fidelity_stage_notes_the_error_and_its_warnings(monkeypatch):
    def appraise(review):
        warnings.warn("first", StatisticalWarning)
        raise DataError("fidelity.csv row 3: no such arm")
    monkeypatch.setattr(pipeline, "appraise_fidelity", appraise)
    notes: list = []
    assert pipeline._fidelity(object(), notes) is None
    assert notes == ["fidelity: first", "fidelity: DataError: fidelity.csv row 3: no such arm"]
