"""The report built from a run (present.build): every section with real content on the bundled
example, ratio measures back-transformed, one code path for a ProjectResult and its results.json."""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from netstrata.errors import ParameterError
from netstrata.present import render_report
from netstrata.present.build import build_context, report_data
from netstrata.present.tables import table_view

LUMBAR = "lumbar / facet_joint_pain / success"


def _analyse(name: str, multiverse: bool = False):
    from importlib import resources

    from netstrata.data import load_review
    from netstrata.synthesis.pipeline import analyse_review
    path = resources.files("netstrata").joinpath("examples", name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyse_review(load_review(path), multiverse=multiverse, progress=False)


@pytest.fixture(scope="module")
def result():
    return _analyse("spine-landmark")


@pytest.fixture(scope="module")
def ctx(result):
    return build_context(result)


@pytest.fixture(scope="module")
def ctx_json(result):
    return build_context(json.loads(result.to_json()))


@pytest.fixture(scope="module")
def html(ctx):
    return render_report(ctx)


def _stratum(ctx, name):
    return next(s for s in ctx.strata if s.name == name)


def _views(tables):
    return [table_view(t) for t in (tables if isinstance(tables, tuple) else (tables,))]


def _column(view, header):
    i = view.header.index(header)
    return [row[i].text for row in view.rows]


def test_report_spine_every_section_has_content(ctx, html):
    for section in ("summary_of_findings", "certainty", "transitivity", "fidelity", "exclusions", "extraction_qc"):
        views = _views(getattr(ctx, section))
        assert views and all(v.rows for v in views), section
    assert ctx.methods.paragraphs and len(ctx.methods.citations) >= 8
    for absent in ("No summary-of-findings table", "No certainty ratings", "No transitivity assessment",
                   "No technical-fidelity appraisal", "No exclusions were recorded",
                   "No extraction quality-control findings", "No methods description", "no table produced"):
        assert absent not in html


def test_report_spine_network_stratum_has_figures_and_tables(ctx):
    st = _stratum(ctx, LUMBAR)
    assert st.network is not None and st.league is not None and st.geometry is not None
    assert st.estimates is not None and st.heterogeneity is not None
    # one forest per directly compared pair (2) + one of every network estimate
    assert len(st.forests) == 3
    geometry = dict(zip(st.geometry.frame.index, st.geometry.frame["value"]))
    assert geometry["Treatments"] == 3 and geometry["Studies"] == 3 and geometry["Pairs compared directly"] == "2 of 3"


def test_report_spine_lumbar_rr_back_transformed(result, ctx, html):
    """The estimates table shows exp(log RR) of the result, to display rounding (2 decimals)."""
    view = table_view(_stratum(ctx, LUMBAR).estimates)
    header = "Risk ratio (95% CI)"
    assert header in view.header
    shown = _column(view, header)
    comps = result.stratum(LUMBAR).primary.comparisons
    assert len(shown) == len(comps) == 3
    for text, c in zip(shown, comps):
        want = f"{math.exp(c.estimate):.2f} ({math.exp(c.ci_low):.2f} to {math.exp(c.ci_high):.2f})"
        assert text == want
        assert want in html
    assert shown[1] == "1.28 (0.69 to 2.39)"       # RFN_FACET vs sham, as printed by `netstrata run`


def test_report_spine_forest_study_rows_are_the_network_rows(result, ctx):
    """RFN_FACET vs sham: study rows oriented as the comparison, weights sum to 100, pooled rows
    are the network estimates and the prediction interval of the result."""
    net = result.stratum(LUMBAR).primary.network
    forest = next(f for f in _stratum(ctx, LUMBAR).forests if f.title == "RFN_FACET vs sham_procedure")
    rows = forest.rows
    study = rows[rows["kind"] == "study"]
    ref = net.rows[net.rows["treat1"] == "RFN_FACET"].set_index("study")
    np.testing.assert_allclose(study["effect"], ref.loc[study["label"], "effect"], rtol=1e-12)
    assert study["weight"].sum() == pytest.approx(100.0, rel=1e-12)
    comp = next(c for c in result.stratum(LUMBAR).primary.comparisons if c.treat2 == "sham_procedure")
    random = rows[rows["kind"] == "random"].iloc[0]
    assert (random["effect"], random["ci_low"], random["ci_high"]) == (comp.estimate, comp.ci_low, comp.ci_high)
    # one prediction interval (issue 12): the forest shows the network's (netmeta lower.predict), the
    # one the heterogeneity domain judges; this network has df.Q < 2, so there is none to show
    net_pi = net.prediction()[1].loc["RFN_FACET", "sham_procedure"]
    assert math.isnan(net_pi) and math.isnan(comp.pi_low) and rows[rows["kind"] == "prediction"].empty
    assert len(rows[rows["kind"] == "common"]) == 1
    assert forest.mid_zone == pytest.approx((-math.log(1.25), math.log(1.25)), rel=1e-12)


def test_report_spine_summary_of_findings_rows(result, ctx):
    sof = next(t for t in ctx.summary_of_findings if t.title == LUMBAR)
    view = table_view(sof)
    rr = dict(zip(_column(view, "Intervention"), _column(view, "Risk ratio (95% CI)")))
    assert result.stratum(LUMBAR).primary.network.reference == "sham_procedure"   # most-studied control
    c = next(c for c in result.stratum(LUMBAR).primary.comparisons
             if (c.treat1, c.treat2) == ("RFN_FACET", "sham_procedure"))
    assert rr["RFN_FACET"] == f"{math.exp(c.estimate):.2f} ({math.exp(c.ci_low):.2f} to {math.exp(c.ci_high):.2f})"
    assert all(s.startswith("The evidence is very uncertain") for s in _column(view, "What it means (GRADE)"))


def test_report_spine_provisional_certainty_shown(result, ctx, html):
    rating = result.certainty[LUMBAR].ratings[0]
    assert rating.provisional
    view = table_view(_stratum(ctx, LUMBAR).estimates)
    cert = _column(view, "Certainty")
    assert all(t.endswith(f"{rating.rating} (provisional)") for t in cert)
    assert all(cell.css == "b-verylow" for cell in (row[view.header.index("Certainty")] for row in view.rows))
    # the example ships rob.csv (issue 12): within-study bias is assessed; heterogeneity is not (df.Q < 2)
    because = _column(view, "Provisional because")
    assert "heterogeneity not assessed" in because and not any("within-study bias" in t for t in because)
    assert "Very low (provisional)" in html


def test_report_spine_extraction_qc_has_lord_1996(ctx, html):
    dis = table_view(ctx.extraction_qc[0])
    studies = _column(dis, "Study")
    assert "Lord 1996" in studies
    lord = [r for r in dis.rows if r[0].text == "Lord 1996"]
    assert {"selection_control", "selection_threshold_pct"} <= {r[dis.header.index("Column")].text for r in lord}
    assert ctx.extraction_qc[1].title == "Plausibility checks"


def test_report_spine_fidelity_lists_critical_items(ctx):
    view = table_view(ctx.fidelity[0])
    tiers = set(_column(view, "Tier"))
    assert tiers <= {"T1", "T2", "TU"} and "TU" in tiers
    assert any("rf_imaging" in t for t in _column(view, "Critical not reported"))


def test_report_spine_transitivity_flags(ctx):
    titles = [t.title for t in ctx.transitivity]
    assert f"Flagged imbalances: {LUMBAR}" in titles


def test_report_json_and_result_give_the_same_tables(ctx, ctx_json):
    """One code path: the tables from results.json equal those from the ProjectResult; only the
    forests lose their study rows (not stored in results.json)."""
    for a, b in zip(ctx.strata, ctx_json.strata):
        assert a.name == b.name
        for field in ("estimates", "single_study", "geometry", "heterogeneity"):
            ta, tb = getattr(a, field), getattr(b, field)
            assert (ta is None) == (tb is None)
            if ta is not None:
                assert table_view(ta) == table_view(tb)
    for section in ("summary_of_findings", "certainty", "transitivity", "fidelity", "exclusions", "extraction_qc"):
        assert _views(getattr(ctx, section)) == _views(getattr(ctx_json, section))


def test_report_multiverse_simulated_spine():
    res = _analyse("simulated-spine", multiverse=True)
    ctx = build_context(res)
    assert ctx.specification_curve is not None and len(ctx.specification_curve.specs) == 8
    assert ctx.specification_curve.specs["primary"].sum() == 1
    view = table_view(ctx.multiverse[0])
    assert view.rows and "Holds" in view.header
    html = render_report(ctx)
    assert "No multiverse analysis was run" not in html


def test_report_data_refuses_other_objects():
    with pytest.raises(ParameterError, match="ProjectResult"):
        report_data(42)
    with pytest.raises(ParameterError, match="strata"):
        report_data({"name": "x"})


def test_report_json_forests_equal_the_result_forests(ctx, ctx_json):
    """results.json carries each network's study rows: the report built from it has the same
    forest plots (study rows, weights and pooled rows) as the one built from the ProjectResult."""
    a, b = _stratum(ctx, LUMBAR), _stratum(ctx_json, LUMBAR)
    fa = next(f for f in a.forests if f.title == "RFN_FACET vs sham_procedure")
    fb = next(f for f in b.forests if f.title == "RFN_FACET vs sham_procedure")
    assert (fa.rows["kind"] == "study").sum() == 2
    pd.testing.assert_frame_equal(fa.rows.reset_index(drop=True), fb.rows.reset_index(drop=True))


def test_report_hostile_study_name_is_escaped(result):
    """A study called <script>...</script> (tables and forest-plot SVG) shows as text, never as markup."""
    from netstrata.present.example import HOSTILE

    data = json.loads(result.to_json().replace("Lord 1996", HOSTILE))
    html = render_report(build_context(data))
    assert HOSTILE not in html and "<script" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3
