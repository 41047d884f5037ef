"""Figures of netstrata.present: they show the result's numbers (checked against R where R has
them), are deterministic byte for byte, escape user text, and follow the measure's scale.

R references: metafor 3.8-1 ``rma``/``predict`` (bcg, pairwise) and netmeta 2.9-0 ``A.matrix``
(number of studies per comparison, the edge widths of ``netgraph``) and ``TE.random`` /
``lower.random`` / ``upper.random`` (league table). Closed-form quantities: rtol 1e-10.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import netstrata
from netstrata.present import (ContributionDisplay, ForestDisplay, LeagueHeatmapDisplay, NetworkGraphDisplay,
                               RankDisplay, SpecificationCurveDisplay, league_text)
from netstrata.present._figure import svg_size
from netstrata.present.contribution import rob_category
from netstrata.present.network_plot import circular_layout, edges_from_contrasts

from . import reference as ref
from .test_nma_data import FITTED, contrasts, fit, result

HOSTILE = "<script>alert(1)</script>"


def _bcg(method="REML"):
    es = ref.load("pairwise", "bcg")["analyses"]["escalc_RR"]["result"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return netstrata.pairwise(es["yi"], es["vi"], method=method)


def _studies():
    return list(ref.table("pairwise", "bcg")["study"])


@pytest.fixture(scope="module")
def senn():
    return fit("senn2013")


# ----------------------------------------------------------------------------- forest
def test_forest_bcg_reml_pooled_rows_are_metafor_predict():
    res, fe = _bcg(), _bcg("FE")
    d = ForestDisplay.from_result(res, studies=_studies(), common=fe, measure="RR")
    r = ref.load("pairwise", "bcg")["analyses"]
    pred, fe_r = r["predict_REML"]["result"], r["rma_FE"]["result"]
    rows = d.rows.set_index("kind")
    assert_allclose(rows.loc["random", ["effect", "ci_low", "ci_high"]].to_numpy(float),
                    [pred["pred"], pred["ci.lb"], pred["ci.ub"]], rtol=1e-6)  # REML: metafor's Fisher scoring
    assert_allclose(rows.loc["prediction", ["ci_low", "ci_high"]].to_numpy(float), [pred["pi.lb"], pred["pi.ub"]],
                    rtol=1e-6)
    assert_allclose(rows.loc["common", ["effect", "ci_low", "ci_high"]].to_numpy(float),
                    [fe_r["estimate"], fe_r["ci.lb"], fe_r["ci.ub"]], rtol=1e-10)
    assert_allclose(d.rows.loc[d.rows.kind == "study", "weight"], r["rma_REML"]["result"]["weights_percent"],
                    rtol=1e-6)


def test_forest_bcg_study_rows_are_wald_intervals_of_escalc():
    es = ref.load("pairwise", "bcg")["analyses"]["escalc_RR"]["result"]
    d = ForestDisplay.from_result(_bcg(), studies=_studies(), measure="RR")
    s = d.rows[d.rows.kind == "study"]
    half = 1.959963984540054 * np.sqrt(es["vi"])
    assert_allclose(s["effect"], es["yi"], rtol=1e-12)
    assert_allclose(s["ci_low"], np.asarray(es["yi"]) - half, rtol=1e-10)
    assert list(s["label"]) == _studies()


def test_forest_ratio_measure_log_axis_and_back_transformed_text():
    res = _bcg()
    d = ForestDisplay.from_result(res, studies=_studies(), measure="RR", mid_zone=(-0.2, 0.2)).plot()
    assert d.ax_.get_xscale() == "log"
    assert d.ax_.get_xlabel() == "Risk ratio (log scale)"
    texts = [t.get_text() for t in d.ax_.texts]
    want = f"{np.exp(res.estimate):.2f} ({np.exp(res.ci_low):.2f} to {np.exp(res.ci_high):.2f})"
    assert want.replace("-", "\u2212") in texts
    md = ForestDisplay.from_result(res, measure="MD").plot()
    assert md.ax_.get_xscale() == "linear"


def test_forest_hostile_label_escaped_in_svg():
    svg = ForestDisplay.from_result(_bcg(), studies=[HOSTILE] + _studies()[1:], measure="RR").to_svg()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "<script" not in svg


def test_forest_dollar_signs_are_not_mathtext():
    d = ForestDisplay(pd.DataFrame({"label": ["Cost $5 $6"], "effect": [0.1], "ci_low": [0.0], "ci_high": [0.2]}))
    assert "Cost $5 $6" in d.to_svg()


def test_forest_rejects_unknown_kind():
    with pytest.raises(netstrata.errors.ParameterError, match="kind"):
        ForestDisplay(pd.DataFrame({"label": ["a"], "effect": [0.0], "ci_low": [0.0], "ci_high": [0.0],
                                    "kind": ["pooled"]}))


def test_forest_missing_columns_named():
    with pytest.raises(netstrata.errors.ParameterError, match="ci_high"):
        ForestDisplay(pd.DataFrame({"label": ["a"], "effect": [0.0], "ci_low": [0.0]}))


def test_forest_network_rows_are_estimates_and_prediction(senn):
    d = ForestDisplay.from_network(senn, measure="MD")
    r = result("senn2013", "netmeta")["matrices"]
    te, lo_p = ref.num(r["TE.random"]), ref.num(r["lower.predict"])
    rows = d.rows.set_index("label")
    for t in ("metf", "rosi"):
        assert_allclose(rows.loc[f"{t} vs {senn.reference}", "effect"], te.loc[t, senn.reference], rtol=1e-10)
        assert_allclose(rows.loc[f"{t} vs {senn.reference}", "pi_low"], lo_p.loc[t, senn.reference], rtol=1e-10)


# ----------------------------------------------------------------------------- network graph
@pytest.mark.parametrize("name", FITTED)
def test_network_graph_edges_are_netmeta_a_matrix(name):
    a = ref.num(result(name, "netmeta")["matrices"]["A.matrix"])
    edges = NetworkGraphDisplay.from_result(fit(name)).edges
    got = pd.DataFrame(0.0, index=a.index, columns=a.columns)
    for t1, t2, k in zip(edges.treat1, edges.treat2, edges.k):
        got.loc[t1, t2] = got.loc[t2, t1] = k
    assert_allclose(got.to_numpy(), a.to_numpy(float), rtol=0, atol=0)


def test_network_graph_arms_and_participants(senn):
    d = NetworkGraphDisplay.from_result(senn)
    arms = d.nodes.set_index("treatment")["size"]
    assert arms["plac"] == 19 and arms["benf"] == 2 and d.size_label == "arms"
    p = NetworkGraphDisplay.from_result(senn, participants={"plac": 100.0})
    assert p.size_label == "participants" and p.nodes.set_index("treatment").loc["plac", "size"] == 100.0


def test_network_graph_multi_arm_study_counts_once_per_pair():
    con = pd.DataFrame({"study": ["s1", "s1", "s1", "s2"], "treat1": ["A", "A", "B", "B"],
                        "treat2": ["B", "C", "C", "A"]})
    e = edges_from_contrasts(con).set_index(["treat1", "treat2"])["k"]
    assert e[("A", "B")] == 2 and e[("A", "C")] == 1 and e[("B", "C")] == 1


@pytest.mark.parametrize("n", [1, 2, 3, 7, 12])
def test_network_graph_circular_layout_on_unit_circle(n):
    pos = circular_layout(n)
    assert pos.shape == (n, 2)
    if n > 1:
        assert_allclose(np.hypot(pos[:, 0], pos[:, 1]), 1.0, rtol=1e-12)
        assert_allclose(pos[0], [0.0, 1.0], atol=1e-12)              # first treatment at the top
        assert pos[1, 0] > 0                                         # clockwise
        d = np.diff(np.unwrap(np.arctan2(pos[:, 1], pos[:, 0])))
        assert_allclose(d, -2 * np.pi / n, rtol=1e-10)


def test_network_graph_disconnected_coloured_by_subnetwork():
    con = pd.DataFrame({"study": ["s1", "s2", "s3"], "treat1": ["A", "C", "A"], "treat2": ["B", "D", "B"],
                        "effect": [0.1, 0.2, 0.3], "se": [0.1, 0.2, 0.1]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = netstrata.network(con)
    d = NetworkGraphDisplay.from_result(f)
    assert d.nodes["group"].nunique() == 2 and d.group_label == "Sub-network"


def test_network_graph_unknown_edge_treatment_refused():
    with pytest.raises(netstrata.errors.ParameterError, match="'Z'"):
        NetworkGraphDisplay(pd.DataFrame({"treatment": ["A", "B"], "size": [1, 1]}),
                            pd.DataFrame({"treat1": ["A"], "treat2": ["Z"], "k": [1]}))


# ----------------------------------------------------------------------------- league
def test_league_text_is_netmeta_random_rounded(senn):
    r = result("senn2013", "netmeta")["matrices"]
    te, lo, hi = (ref.num(r[k]) for k in ("TE.random", "lower.random", "upper.random"))
    ci = senn.league_ci()
    text = league_text(senn.league(), ci.ci_low, ci.ci_high, measure="MD")
    for i in ("metf", "plac", "sita"):
        for j in ("acar", "rosi"):
            want = f"{te.loc[i, j]:.2f} ({lo.loc[i, j]:.2f} to {hi.loc[i, j]:.2f})".replace("-", "\u2212")
            assert text.loc[i, j] == want.replace("\u22120.00", "0.00")
    assert text.loc["plac", "plac"] == "plac"


def test_league_text_ratio_measure_back_transformed():
    e = pd.DataFrame([[0.0, np.log(2.0)], [-np.log(2.0), 0.0]], index=["A", "B"], columns=["A", "B"])
    text = league_text(e, e - 0.1, e + 0.1, measure="OR")
    assert text.loc["A", "B"].startswith("2.00 (") and text.loc["B", "A"].startswith("0.50 (")


def test_league_heatmap_not_comparable_cells_show_dash():
    e = pd.DataFrame([[0.0, np.nan], [np.nan, 0.0]], index=["A", "B"], columns=["A", "B"])
    assert league_text(e, e, e).loc["A", "B"] == "\u2013"
    LeagueHeatmapDisplay(e, e, e).to_svg()   # draws without error


def test_league_heatmap_direction_sets_colour_map(senn):
    d = LeagueHeatmapDisplay.from_result(senn, measure="MD").plot()
    assert d.ax_.images[0].get_cmap().name == "PRGn_r"       # small values desirable: negative = green
    assert LeagueHeatmapDisplay.from_result(senn, use_direction=False).small_values is None


def test_league_heatmap_non_square_refused(senn):
    with pytest.raises(netstrata.errors.ParameterError, match="square"):
        LeagueHeatmapDisplay(senn.league().iloc[:3], senn.league(), senn.league())


# ----------------------------------------------------------------------------- contribution, rank, spec curve
@pytest.mark.parametrize("value,want", [(1, "low"), ("L", "low"), ("Some concerns", "some concerns"),
                                        (3, "high"), ("serious", "high"), (None, "not assessed"),
                                        (np.nan, "not assessed"), ("whatever", "not assessed")])
def test_contribution_rob_categories(value, want):
    assert rob_category(value) == want


def test_contribution_bars_are_study_shares_by_rob(senn):
    c = senn.contributions() if hasattr(senn, "contributions") else netstrata.nma.contrib.contributions(senn)
    rob = {s: (1 if i % 2 else 3) for i, s in enumerate(senn.studies)}
    d = ContributionDisplay.from_result(c, rob)
    assert_allclose(d.shares.sum(axis=1), 100.0, rtol=1e-10)
    m = c.matrix("random", "study")
    low = [s for s in m.columns if rob[s] == 1]
    assert_allclose(d.shares["low"], 100 * m[low].sum(axis=1), rtol=1e-12)


def test_rank_display_orders_by_score_then_median():
    t = pd.DataFrame({"treatment": ["A", "B", "C"], "median_rank": [2.0, 1.0, 3.0], "rank_ci_low": [1, 1, 2],
                      "rank_ci_high": [3, 2, 3], "sucra": [0.5, 0.9, 0.1]})
    d = RankDisplay(t)
    assert list(d.table.index) == ["B", "A", "C"]
    d.plot()
    ticks = {t.get_text(): y for t, y in zip(d.ax_.get_yticklabels(), d.ax_.get_yticks())}
    assert ticks["B"] > ticks["A"] > ticks["C"]                               # best at the top


def _specs():
    return pd.DataFrame({"effect": [0.3, -0.5, 0.1], "ci_low": [0.1, -0.9, -0.2], "ci_high": [0.5, -0.1, 0.4],
                         "node_map": ["split", "lumped", "split"], "model": ["common", "random", "random"],
                         "primary": [False, False, True]})


def test_specification_curve_sorted_with_choice_rows():
    d = SpecificationCurveDisplay(_specs(), measure="OR")
    assert list(d.specs["effect"]) == [-0.5, 0.1, 0.3]
    assert d.choices == ("node_map", "model")
    assert d._levels() == [("node_map", "lumped"), ("node_map", "split"), ("model", "common"), ("model", "random")]
    d.plot()
    assert d.ax_.get_yscale() == "log"


def test_specification_curve_unknown_choice_refused():
    with pytest.raises(netstrata.errors.ParameterError, match="region"):
        SpecificationCurveDisplay(_specs(), choices=["region"])


# ----------------------------------------------------------------------------- every display
def _all_displays(senn):
    c = netstrata.nma.contrib.contributions(senn)
    rank = pd.DataFrame({"median_rank": [1.0, 2.0], "rank_ci_low": [1, 1], "rank_ci_high": [2, 2]},
                        index=["A", "B"])
    return {
        "forest": ForestDisplay.from_result(_bcg(), studies=_studies(), measure="RR", mid_zone=(-0.1, 0.1)),
        "network": NetworkGraphDisplay.from_result(senn, groups={t: t[0] for t in senn.treatments}),
        "league": LeagueHeatmapDisplay.from_result(senn, measure="MD"),
        "contribution": ContributionDisplay.from_result(c, {s: 2 for s in senn.studies}),
        "rank": RankDisplay(rank),
        "speccurve": SpecificationCurveDisplay(_specs()),
    }


@pytest.fixture(scope="module")
def displays(senn):
    return _all_displays(senn)


@pytest.mark.parametrize("kind", ["forest", "network", "league", "contribution", "rank", "speccurve"])
def test_display_svg_deterministic_and_clean(displays, senn, kind):
    d = displays[kind]
    svg = d.to_svg()
    again = _all_displays(senn)[kind].to_svg()        # a fresh object with the same numbers
    assert svg == again
    assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    w, h = svg_size(svg)
    assert w == 576.0                                      # 8 inches at 72 pt
    assert h == pytest.approx(72 * d._size()[1], abs=0.01)


@pytest.mark.parametrize("kind", ["forest", "network", "league", "contribution", "rank", "speccurve"])
def test_display_png_deterministic(displays, kind):
    import base64

    d = displays[kind]
    b64 = d.to_png_base64()
    assert b64 == d.to_png_base64()
    data = base64.b64decode(b64)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and b"Software" not in data[:200]
    width = int.from_bytes(data[16:20], "big")
    assert width == 800                                    # 8 inches at 100 dpi


@pytest.mark.parametrize("kind", ["forest", "network", "league", "contribution", "rank", "speccurve"])
def test_display_plot_returns_self_with_axes(displays, kind):
    import matplotlib.pyplot as plt

    d = displays[kind]
    out = d.plot()
    assert out is d and d.ax_ is not None and d.figure_ is d.ax_.figure
    plt.close(d.figure_)
    fig, ax = plt.subplots()
    assert d.plot(ax=ax).ax_ is ax
    plt.close(fig)


def test_display_ids_salted_not_random(displays):
    svg = displays["forest"].to_svg()
    ids = re.findall(r'id="([^"]+)"', svg)
    assert ids and ids == re.findall(r'id="([^"]+)"', displays["forest"].to_svg())


def test_importing_present_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, netstrata.present; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_contrasts_helper_matches_fit(senn):
    # the fit's rows are the contrasts R analysed (same study count per pair)
    e1 = edges_from_contrasts(contrasts("senn2013"))
    e2 = edges_from_contrasts(senn.rows)
    pd.testing.assert_frame_equal(e1, e2)


def test_forest_from_frame_of_network_summary(senn):
    frame = senn.summary().to_frame()
    d = ForestDisplay.from_frame(frame, measure="MD")
    assert list(d.rows["label"]) == list(senn.treatments)
    assert_allclose(d.rows["effect"], frame["effect"], rtol=0)
    pooled = pd.DataFrame({"treat1": ["A"], "treat2": ["B"], "estimate": [0.2], "ci_low": [0.1], "ci_high": [0.3],
                           "pi_low": [-0.5], "pi_high": [0.9]})
    d2 = ForestDisplay.from_frame(pooled)
    assert d2.rows["label"].iat[0] == "A vs B" and d2.rows["pi_high"].iat[0] == 0.9


def test_network_geometry_counts(senn):
    from netstrata.present.network_plot import network_geometry
    from netstrata.present.tables import table_view

    t = network_geometry(senn.rows, senn.treatments)
    values = dict(zip(t.frame.index, t.frame["value"]))
    a = ref.num(result("senn2013", "netmeta")["matrices"]["A.matrix"]).to_numpy(float)
    assert values["Treatments"] == 10 and values["Studies"] == 26 and values["Multi-arm studies"] == 1
    assert values["Pairs compared directly"] == f"{int((a[np.triu_indices(10, 1)] > 0).sum())} of 45"
    assert values["Sub-networks"] == 1
    assert table_view(t).header == ("Network", "Value")
    con = pd.DataFrame({"study": ["s1", "s2"], "treat1": ["A", "C"], "treat2": ["B", "D"]})
    assert dict(zip(*[network_geometry(con).frame.index, network_geometry(con).frame["value"]]))["Sub-networks"] == 2


def test_specification_curve_svg_draws_every_interval_dot_and_choice_mark():
    """CI lines and choice marks are drawn as one path per colour (a 1,000-specification curve
    otherwise writes 8,000 elements): each specification still has its interval, its dot and one
    mark in the row of each of its choices, in the colour of its MID classification."""
    import re
    from netstrata.present.svg_figures import CONCLUSION_COLOURS, curve_svg
    concl = ["benefit", "inconclusive", "harm", "inconclusive", "not_estimable"]
    pts = [{"estimate": e, "ci_low": e - 0.5, "ci_high": e + 0.5, "conclusion": c, "spec": i,
            "primary": i == 0, "model": "common" if i % 2 else "random"}
           for i, (e, c) in enumerate(zip([0.1, -0.2, 0.9, 0.3, float("nan")], concl))]
    choices = [("model", "model", [("common", "model: common"), ("random", "model: random")])]
    svg = curve_svg(pts, measure="MD", zone=(-0.2, 0.2), choices=choices, title="A vs B")
    segments = lambda col: sum(len(re.findall(r"M[-\d.]+ [-\d.]+V", d)) for d in  # noqa: E731
                               re.findall(rf'<path d="([^"]*)" fill="none" stroke="{col}"', svg))
    assert [segments(CONCLUSION_COLOURS[c]) for c in ("benefit", "inconclusive", "harm")] == [1, 2, 1]
    marks = {col: sum(d.count("v4.4") for d in re.findall(rf'<path d="([^"]*)" fill="none" stroke="{col}" '
                                                       r'stroke-width="4.4"/>', svg))
             for col in set(CONCLUSION_COLOURS.values()) | {"#9a9a9a"}}
    assert sum(marks.values()) == 5                    # one choice row per specification
    assert marks[CONCLUSION_COLOURS["inconclusive"]] == 2
    assert svg.count('r="2.8"') == 3 and svg.count('r="4.2" fill="#000000"') == 2   # NaN: no dot; legend: one
