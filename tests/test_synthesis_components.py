"""Component NMA in projects: plan validation, results.json (deterministic), tables and report."""
from __future__ import annotations

import json
import shutil
import warnings
from importlib import resources

import numpy as np
import pandas as pd
import pytest

import netstrata
from netstrata.data import load_review
from netstrata.errors import DataError
from netstrata.present.components import component_tables
from netstrata.synthesis import analyse_review
from netstrata.synthesis.config import parse_models

EXAMPLE = resources.files("netstrata").joinpath("examples", "spine-landmark")


def _project(tmp_path, models: str):
    dst = tmp_path / "project"
    shutil.copytree(str(EXAMPLE), dst)
    toml = dst / "netstrata.toml"
    toml.write_text(toml.read_text().replace("[nodes]", f"[models]\n{models}\n\n[nodes]", 1))
    return dst


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = _project(tmp_path_factory.mktemp("cnma"), "components = true")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyse_review(load_review(path), multiverse=False, progress=False, optional_stages=False)


@pytest.mark.parametrize("section,key,found", [
    ({"components": "yes"}, "models.components", "yes"),
    ({"components_inactive": 3}, "models.components_inactive", 3),
    ({"component": True}, "models.component", "component")])
def test_components_plan_keys_are_validated(section, key, found):
    with pytest.raises(DataError) as err:
        parse_models(section)
    p = err.value.problems[0]
    assert (p.file, p.column, p.found) == ("netstrata.toml", key, found) and p.expected
    assert parse_models({"components": True, "components_inactive": " sham_procedure "}).components_inactive \
        == "sham_procedure"
    assert parse_models({}).components is False


def test_components_run_per_stratum_with_combination_nodes(run):
    pain = run.stratum("all / pain")
    comp = pain.components
    assert comp.layer == "randomised" and comp.inactive == "exercise_program"
    res = comp.result
    assert "RFN_FACET+RFN_SIJ+DISC_PROC" in res.treatments
    assert set(res.components) >= {"RFN_FACET", "RFN_SIJ", "DISC_PROC"}
    # the combination trial informs DISC_PROC: combination - facet - SIJ (MINT, Juch 2017)
    eff = res.component_effects("random")
    assert eff.loc["DISC_PROC", "effect"] == pytest.approx(-0.99 - (-0.18) - (-0.71), abs=1e-9)
    assert eff.loc["DISC_PROC", "identifiable"] and not eff.loc["sham_procedure", "identifiable"]
    assert res.kind == "discomb" and res.additivity_rejected is None
    no_combo = run.stratum("all / success").components
    assert no_combo.result is None and no_combo.note.startswith("no combination node")


def test_components_in_results_json_and_tables(run):
    data = json.loads(run.to_json())
    pain = next(s for s in data["lumped"] if s["name"] == "all / pain")["components"]
    assert pain["result"]["kind"] == "discomb" and pain["result"]["model"] == run.settings.model
    rows = {r["name"]: r for r in pain["result"]["component_effects"]["random"]}
    assert rows["sham_procedure"]["identifiable"] is False and rows["DISC_PROC"]["identifiable"] is True
    assert data["settings"]["components"] is True
    frames = run.to_frames()
    table = frames["components"]
    assert set(table["model"]) == {"common", "random"} and (table["stratum"] == "all / pain").any()


def test_components_results_json_is_deterministic(tmp_path, run):
    path = _project(tmp_path, "components = true")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = analyse_review(load_review(path), multiverse=False, progress=False, optional_stages=False)
    assert again.to_json() == run.to_json()


def test_components_inactive_from_plan(tmp_path):
    path = _project(tmp_path, 'components = true\ncomponents_inactive = "RFN_FACET"')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyse_review(load_review(path), multiverse=False, progress=False, optional_stages=False)
    assert res.stratum("all / pain").components.inactive == "RFN_FACET"


def test_components_off_by_default(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyse_review(load_review(str(EXAMPLE)), multiverse=False, progress=False, optional_stages=False)
    assert all(s.components is None for s in (*res.strata, *res.lumped))
    assert "components" not in res.to_frames()


def test_components_report_shows_effects_and_test(run):
    from netstrata.present import build_context, render_report
    html = render_report(build_context(run))
    assert "Component effects (random effects, additive model) versus exercise_program" in html
    assert "Test of additivity" in html and "no: not identifiable" in html
    assert "The test of additivity is not available" in html


def _non_additive(scale: float) -> pd.DataFrame:
    """A connected network where the combination's effect is far from (scale large) or equal to
    (scale 0) the sum of its components'."""
    rows = [("s1", "A", "P", 1.0, 0.1), ("s2", "B", "P", 1.0, 0.1), ("s3", "A + B", "P", 2.0 - scale, 0.1),
            ("s4", "A + B", "A", 1.0 - scale, 0.1), ("s5", "B", "A", 0.0, 0.1)]
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])


@pytest.mark.parametrize("scale,rejected", [(1.5, True), (0.0, False)])
def test_components_report_says_plainly_when_additivity_is_rejected(scale, rejected):
    res = netstrata.component_network(_non_additive(scale), inactive="P")
    assert res.additivity_rejected is rejected
    tables = component_tables({"measure": "MD", "components": {"result": res.to_dict("random"), "note": ""}})
    effects, test = tables
    text = " ".join(effects.notes + test.notes)
    if rejected:
        assert "ADDITIVITY IS REJECTED" in text and "Additivity is rejected at the 5% level" in text
        assert res.q_diff_pvalue < 0.05
    else:
        assert "Additivity is not rejected" in text and "REJECTED" not in text
        assert res.q_diff == 0.0 and res.q == pytest.approx(0.0, abs=1e-20)
    assert list(test.frame["df"]) == [3.0, 2.0, 1.0]
    assert np.isfinite(test.frame["q"]).all()
