"""Issue 12 in the report (built by issue 13 before issue 12 landed): every certainty rating of
results.json shown as rated, with its start level and why, the one prediction interval, the
downgrade footnotes, the panel's overrides with their reasons, the lumping caps, the per-study
risk-of-bias traffic lights, the contribution bars coloured by the levels the rating used, and the
GRADE-for-NMA framework with its domains, steps and minimally contextualised conclusions.

Projects: the bundled example (CINeMA); a copy with two trials recast as non-randomised studies
and two panel overrides (a test fixture, not a claim about the trials); a copy rated with
``[certainty] framework = "grade_nma"``; the simulated example (finite prediction intervals).
"""
from __future__ import annotations

import copy
import json
import re
import warnings
from importlib import resources

import pytest

from netstrata.present import render_report
from netstrata.present.build import build_context
from netstrata.present.tables import table_view

from .test_data_support import copy_example, recode_designs
from .test_report_build import _CODE, _column, _sections

LUMBAR = "lumbar / facet_joint_pain / success"
FSI, PDI = "\u2068", "\u2069"
OVR = ["stratum", "layer", "comparison", "domain", "judgement", "reason", "decided_by"]
REASON = "the panel's decision threshold lies above the upper limit"


def _result(path):
    from netstrata.data import load_review
    from netstrata.synthesis.pipeline import analyse_review
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyse_review(load_review(path), multiverse=False, progress=False, workers=1)


def _run(path):
    return json.loads(_result(path).to_json())


def _report(data):
    ctx = build_context(data)
    return ctx, render_report(ctx)


@pytest.fixture(scope="module")
def landmark():
    data = _run(resources.files("netstrata").joinpath("examples", "spine-landmark"))
    return (data, *_report(data))


@pytest.fixture(scope="module")
def variant(tmp_path_factory):
    """Non-randomised layer + panel overrides (one domain, one overall rating)."""
    p = copy_example(tmp_path_factory.mktemp("variant"))
    recode_designs(p, ("van Kleef 1999", "van Wijk 2005"), "NRS_comparative")
    rows = [[LUMBAR, "", "RFN_FACET vs exercise_program", "imprecision", "no", REASON, "guideline panel"],
            [LUMBAR, "nonrandomised", "RFN_FACET:sham_procedure", "rating", "Very low", "sparse observational data", ""]]
    (p / "certainty-overrides.csv").write_text("\n".join(",".join(r) for r in [OVR, *rows]) + "\n", encoding="utf-8")
    result = _result(p)
    data = json.loads(result.to_json())
    return (data, *_report(data), result)


@pytest.fixture(scope="module")
def grade(tmp_path_factory):
    p = copy_example(tmp_path_factory.mktemp("grade"))
    with open(p / "netstrata.toml", "a", encoding="utf-8") as f:
        f.write('\n[certainty]\nframework = "grade_nma"\n')
    data = _run(p)
    return (data, *_report(data))


@pytest.fixture(scope="module")
def simulated():
    data = _run(resources.files("netstrata").joinpath("examples", "simulated-spine"))
    return (data, *_report(data))


def _certainty_tables(ctx):
    return [t for t in ctx.certainty if t.title.startswith("Certainty (")]


def _plain(text: str) -> str:
    return text.replace(FSI, "").replace(PDI, "")


def _nat(measure, lo, hi) -> str:
    from netstrata.present._format import fmt_ci, measure_scale
    sc = measure_scale(measure)
    return fmt_ci(*sc.natural([lo, hi]), ratio=sc.is_ratio)


# ----------------------------------------------------------------- every layer, start level
@pytest.mark.parametrize("which", ["landmark", "variant", "grade"])
def test_every_rated_layer_has_a_certainty_table_with_start_level_and_why(which, request):
    data, ctx = request.getfixturevalue(which)[:2]
    tables = _certainty_tables(ctx)
    assert len(tables) == sum(1 for c in data["certainty"].values() if c["ratings"])
    for key, cert in data["certainty"].items():
        rated = [t for t in tables if t.title.split(": ", 1)[1] == _title_tail(data, key)]
        assert len(rated) == 1, key
        view = table_view(rated[0])
        assert _column(view, "Start") == [r["start"]["level"] for r in cert["ratings"]]
        for r in cert["ratings"]:
            s = r["start"]
            assert f"Start level {s['level']}: {s['reason']} (source: {s['source']})." in rated[0].notes


def _title_tail(data, key):
    """The stratum part of a certainty table's title: the stratum's label, or the lumped analysis
    with its node level; the layer appended for non-primary layers."""
    g = data["labels"]
    name, _, layer = key.partition(" [")
    lumped = next((s for s in data["lumped"] if s["name"] == name), None)
    tail = (f"Lumped (all strata pooled; node level: {g['levels'][data['node_level']]['short']}): "
            f"{g['outcomes'][lumped['outcome']]['short']}" if lumped else g["strata"][name]["label"])
    return tail + (f" \u00b7 {g['layers'][layer[:-1]]['short']}" if layer else "")


def test_nonrandomised_layer_rated_apart_and_starts_low(variant):
    data, ctx, html, _ = variant
    t = next(t for t in _certainty_tables(ctx) if t.title.endswith("\u00b7 Non-randomised comparative")
             and "Facet (zygapophysial)" in t.title)
    assert set(_column(table_view(t), "Start")) == {"Low"}
    assert any(n.startswith("Start level Low: non-randomised studies start at Low") for n in t.notes)
    # the summary of findings: beside the randomised row, its own certainty, called out
    label = data["labels"]["strata"][LUMBAR]["label"]
    sof = next(t for t in ctx.summary_of_findings if t.title == label)
    assert sof.css == "prominent" and "non-randomised comparative evidence is shown here with its own certainty" \
        in sof.lead[0]
    starts = dict(zip(sof.frame["Evidence"].str.split(";").str[0], sof.frame["Starts at"]))
    assert starts["Randomised comparative"].startswith("High:") and starts["Non-randomised comparative"].startswith("Low:")


def test_single_study_strata_are_rated_not_unrated(landmark):
    data, ctx, html = landmark
    assert "not rated in this run" not in html and "no rating stored" not in html
    for s in data["strata"]:
        lay = next(x for x in s["layers"] if x["layer"] == s["primary_layer"])
        if lay["status"] != "single_study":
            continue
        cert = data["certainty"][s["name"]]
        assert cert["ratings"] and all(r["prediction_interval"]["low"] is None for r in cert["ratings"])
        sof = next(t for t in ctx.summary_of_findings if t.title == data["labels"]["strata"][s["name"]]["label"])
        assert set(sof.frame["Certainty"]) == {r["label"] for r in cert["ratings"]}
        dom = {d["domain"]: d["judgement"] for r in cert["ratings"] for d in r["domains"]}
        assert dom["heterogeneity"] == "not applicable"


# ----------------------------------------------------------------- one prediction interval
def test_one_prediction_interval_in_lead_forest_sof_certainty_table_and_forest(simulated):
    data, ctx, html = simulated
    checked = 0
    for c in data["stratified_vs_lumped"]:
        cert = data["certainty"][c["lumped_stratum"]]
        r = next(r for r in cert["ratings"] if {r["treatment1"], r["treatment2"]} == {c["treat1"], c["treat2"]})
        pi = r["prediction_interval"]
        if pi["low"] is None:
            continue
        # the rating's interval is the comparison's netmeta interval (issue 12)
        comp = next(x for s in data["lumped"] if s["name"] == c["lumped_stratum"] for lay in s["layers"]
                    if lay["layer"] == s["primary_layer"] for x in lay["comparisons"]
                    if (x["treat1"], x["treat2"]) == (r["treatment1"], r["treatment2"]))
        assert (comp["pi_low"], comp["pi_high"]) == (pi["low"], pi["high"])
        sign = 1 if (r["treatment1"], r["treatment2"]) == (c["treat1"], c["treat2"]) else -1
        lo, hi = (pi["low"], pi["high"]) if sign > 0 else (-pi["high"], -pi["low"])
        text = _nat(c["measure"], lo, hi)
        block = next(b for b in (*ctx.contrasts, *ctx.contrasts_more) if b.anchor.endswith(
            re.sub(r"[^a-z0-9]+", "-", f"{c['outcome']}-{c['treat1']}-{c['treat2']}".lower()).strip("-")))
        svg = block.figures[0].svg
        assert f"[{text}]" in svg
        pairwise = _nat(c["measure"], c["lumped"]["pi_low"], c["lumped"]["pi_high"])
        if pairwise != text:                           # the lumped pairwise interval is not a second PI
            assert f"[{pairwise}]" not in svg
        table = next(t for t in _certainty_tables(ctx) if t.title.startswith("Certainty (CINeMA): Lumped")
                     and data["labels"]["outcomes"][c["outcome"]]["short"] in t.title)
        view = table_view(table)
        row = _column(view, "Comparison").index(f"{_label(data, r['treatment1'])} vs {_label(data, r['treatment2'])}")
        assert _column(view, "Prediction interval")[row] == _nat(c["measure"], pi["low"], pi["high"])
        checked += 1
    assert checked >= 2
    sof_pis = [p for t in ctx.summary_of_findings if t.title.startswith("Lumped") for p in t.frame["Prediction interval"]]
    assert any(p != "\u2013" for p in sof_pis)


def _label(data, code):
    return data["labels"]["treatments"][code]["short"]


def _sof_of(data, ctx, s):
    if s in data["lumped"]:
        short = data["labels"]["outcomes"][s["outcome"]]["short"]
        return next(t for t in ctx.summary_of_findings if t.title.startswith("Lumped") and t.title.endswith(short))
    return next(t for t in ctx.summary_of_findings if t.title == data["labels"]["strata"][s["name"]]["label"])


def test_sof_prediction_interval_is_the_ratings(simulated):
    data, ctx, _ = simulated
    n = 0
    for s in (*data["strata"], *data["lumped"]):
        t = _sof_of(data, ctx, s)
        cert = data["certainty"].get(s["name"]) or {"ratings": []}
        for comp, pi in zip(t.frame["Comparison"], t.frame["Prediction interval"]):
            r = next((r for r in cert["ratings"] if f"{_label(data, r['treatment1'])} vs {_label(data, r['treatment2'])}"
                      == comp), None)
            if r is None or r["prediction_interval"]["low"] is None:
                continue
            assert pi == _nat(s["measure"], r["prediction_interval"]["low"], r["prediction_interval"]["high"])
            n += 1
    assert n >= 1


def test_prediction_interval_definition_in_methods(landmark, grade):
    for data, _, html in (landmark, grade):
        definition = next(c["settings"]["prediction_interval"] for c in data["certainty"].values())
        methods = _plain(_sections(html)["methods"])
        assert definition.replace("'", "&#39;") in html or definition in methods
        assert "lower.predict" in methods and "Higgins" in methods


# ----------------------------------------------------------------- footnotes, overrides, caps
def test_downgrade_footnotes_under_the_sof(landmark):
    data, ctx, _ = landmark
    from netstrata.present.certainty_text import domain_label
    from netstrata.present.labels import Labels
    L = Labels(data["labels"])
    t = next(t for t in ctx.summary_of_findings if t.title == data["labels"]["strata"][LUMBAR]["label"])
    notes = {int(n[1:n.index("]")]): n[n.index("]") + 2:] for n in t.notes if n.startswith("[")}
    for comp, marks in zip(t.frame["Comparison"], t.frame["Footnotes"]):
        r = next(r for r in data["certainty"][LUMBAR]["ratings"] if {L.treatment(r["treatment1"]), L.treatment(
            r["treatment2"])} == set(comp.split(" vs ")))
        shown = [notes[int(m)] for m in marks.split(", ")]
        assert all(x.startswith(comp + ": ") for x in shown)
        for f in r["footnotes"]:
            assert f"{comp}: {L.relabel(f)}" in shown
        down = [d for d in r["domains"] if d["judgement"] in ("some concerns", "major concerns")]
        assert down and all(any(x.startswith(f"{comp}: {domain_label(d['domain'])}") for x in shown) for d in down)


def test_overrides_shown_with_their_reasons(variant):
    data, ctx, html, _ = variant
    t = next(t for t in _certainty_tables(ctx) if t.title == f"Certainty (CINeMA): {data['labels']['strata'][LUMBAR]['label']}")
    view = table_view(t)
    row = _column(view, "Comparison").index("Facet radiofrequency neurotomy vs Exercise programme")
    assert _column(view, "Imprecision")[row] == "no concerns (panel)"
    assert view.rows[row][view.header.index("Imprecision")].css == "b-good"
    assert any(REASON in n and "guideline panel" in n and "set by the panel" in n for n in t.notes)
    nrs = next(t for t in _certainty_tables(ctx) if t.title.endswith("Non-randomised comparative")
               and "Facet (zygapophysial)" in t.title)
    assert _column(table_view(nrs), "Certainty")[0].endswith("panel)")
    assert any("sparse observational data" in n for n in nrs.notes)
    sof = next(t for t in ctx.summary_of_findings if t.title == data["labels"]["strata"][LUMBAR]["label"])
    assert any(REASON in n for n in sof.notes) and any("sparse observational data" in n for n in sof.notes)


def test_lumping_caps_shown_with_rule_reason_and_source(landmark):
    data, ctx, _ = landmark
    lumped = [t for t in _certainty_tables(ctx) if t.title.startswith("Certainty (CINeMA): Lumped")]
    caps = [c for s in data["lumped"] for r in data["certainty"].get(s["name"], {}).get("ratings", ())
            for c in r["caps"]]
    assert caps
    notes = [n for t in lumped for n in t.notes]
    for c in caps:
        assert any(f"Capped at {c['rating']} (rule: {c['rule']})" in n and c["source"] in n for n in notes)
    assert all("did not change the rating" in n for n in notes if "Capped at" in n)


def test_a_cap_that_lowers_the_rating_is_marked(landmark):
    """A lumped rating lowered by the cap reads "(capped)" in the certainty table, the lead forest
    and the footnote says so (synthetic: the rules' rating raised to High in a copy)."""
    data, _, _ = landmark
    data = copy.deepcopy(data)
    lumped = next(s["name"] for s in data["lumped"] if s["outcome"] == "success")
    r = next(r for r in data["certainty"][lumped]["ratings"] if {r["treatment1"], r["treatment2"]} ==
             {"RFN_FACET", "sham_procedure"})
    r["downgrades"], r["rating"], r["label"], r["not_assessed"], r["provisional"] = 0, "Very low", "Very low", [], False
    ctx, _ = _report(data)
    table = next(t for t in _certainty_tables(ctx) if t.title.startswith("Certainty (CINeMA): Lumped")
                 and "Treatment success" in t.title)
    view = table_view(table)
    row = _column(view, "Comparison").index(f"{_label(data, r['treatment1'])} vs {_label(data, r['treatment2'])}")
    assert _column(view, "Certainty")[row].endswith("Very low (capped)")
    assert any("the rules gave High, so the cap lowered the rating to Very low" in n for n in table.notes)
    assert "Very low (capped)" in ctx.contrasts[0].figures[0].svg


# ----------------------------------------------------------------- GRADE for NMA
def test_grade_nma_tables_show_its_domains_steps_and_categories(grade):
    data, ctx, html = grade
    tables = _certainty_tables(ctx)
    assert tables and all(t.title.startswith("Certainty (GRADE for NMA)") for t in tables)
    heads = ("Risk of bias", "Inconsistency", "Indirectness", "Publication bias", "Intransitivity", "Incoherence",
             "Imprecision")
    for t in tables:
        view = table_view(t)
        assert all(h in view.header for h in heads) and "Within-study bias" not in view.header
        assert all(_column(view, h) and all(_column(view, h)) for h in heads)   # no empty domain cell
        assert any(n.split("] ", 1)[-1].split(": ", 1)[-1].startswith("How the rating was reached (GRADE for NMA)")
                   for n in t.notes)
    cats = [t for t in ctx.certainty if t.title.startswith("Minimally contextualised conclusions")]
    stored = [c for c in data["certainty"].values() if c.get("categories")]
    assert len(cats) == len(stored) and cats
    for t in cats:
        assert set(t.frame.columns) >= {"Intervention", "Category", "Statement", "rating"}
        assert not any(_CODE.search(s) for s in t.frame["Statement"])
    methods = _sections(html)["methods"]
    assert "GRADE for NMA" in methods and "10.1136/bmj.g5630" in methods and "10.1136/bmj.m3900" in methods


def test_grade_nma_report_has_no_codes(grade):
    """Defect: GRADE-for-NMA steps, footnotes and category statements carried codes
    ("direct estimate (exercise_program:RFN_FACET)", "whether RFN_FACET is ...")."""
    data, _, html = grade
    assert any("exercise_program:RFN_FACET" in f or "RFN_FACET" in f for c in data["certainty"].values()
               for r in c["ratings"] for f in r["footnotes"] + r["steps"])   # the stored texts do carry codes
    for sid, text in _sections(html).items():
        if sid in ("glossary", "methods"):
            continue
        assert not _CODE.search(text), (sid, _CODE.search(text).group(0))


def test_relabel_writes_comparison_codes_as_labels():
    from netstrata.present.labels import Labels
    L = Labels({"treatments": {"RFN_FACET": {"short": "Facet RF"}, "sham_procedure": {"short": "Sham"},
                               "RFN_FACET:NR:thermal": {"short": "Facet RF, thermal"}}})
    assert L.relabel("direct estimate (sham_procedure:RFN_FACET): Low") == "direct estimate (Sham vs Facet RF): Low"
    assert L.relabel("path: RFN_FACET:NR:thermal:sham_procedure Low") == "path: Facet RF, thermal vs Sham Low"
    assert L.relabel("whether RFN_FACET is") == "whether Facet RF is"
    assert L.relabel("RFN_FACETS:x") == "RFN_FACETS:x"                        # not a code


# ----------------------------------------------------------------- risk of bias views
def test_rob_traffic_light_table_shows_every_assessment(landmark):
    data, ctx, html = landmark
    t = next(t for t in ctx.certainty if t.title == "Risk of bias per study (traffic light)")
    view = table_view(t)
    lights = {"Low": "tl-low", "Some concerns": "tl-some", "High": "tl-high"}
    for a, row in zip(data["risk_of_bias"]["assessments"], view.rows):
        cells = dict(zip(view.header, row))
        assert cells["Study"].text == a["study"]
        assert cells["Risk of bias"].css == lights[a["overall"]]
        for d in ("D1", "D2", "D3", "D4", "D5"):
            assert cells[d].css == (lights[a[d]] if a[d] else "")
    assert any(n.startswith("RoB 2: D1 Bias arising from the randomization process") for n in t.notes)
    assert html.count('class="light tl-high"') >= 3 and 'class="light-word"' in html


def test_rob_table_says_when_the_project_has_none(landmark):
    data, _, _ = landmark
    data = copy.deepcopy(data)
    data["risk_of_bias"] = None
    t = next(t for t in build_context(data).certainty if t.title.startswith("Risk of bias per study"))
    assert "not assessed" in t.frame.iloc[0, 0]


def test_contribution_bars_use_the_levels_the_rating_judged(landmark):
    from netstrata.present.build.figures import rob_bars
    from netstrata.present.labels import Labels
    data, _, _ = landmark
    L = Labels(data["labels"])
    s = next(s for s in data["lumped"] if s["outcome"] == "success")
    net = next(x for x in s["layers"] if x["layer"] == s["primary_layer"])["network"]
    cert = data["certainty"][s["name"]]
    bars = dict(rob_bars(data, net, cert, L, s["outcome"]))
    levels = {1: "low", 2: "some concerns", 3: "high"}
    for r in cert["ratings"]:
        inputs = next(d for d in r["domains"] if d["domain"] == "within_study_bias")["inputs"]["studies"]
        want = {}
        for share, level in inputs.values():
            want[levels[level]] = want.get(levels[level], 0.0) + share
        got = bars[f"{L.treatment(r['treatment1'])} vs {L.treatment(r['treatment2'])}"]
        assert {k: v for k, v in got.items() if v} == pytest.approx(want)
    # real levels, not "not assessed": the example's rob.csv has High (MINT) and some-concerns trials
    assert any(b.get("high", 0) > 0 for b in bars.values()) and all(b["not assessed"] == 0 for b in bars.values())


def test_contribution_bars_from_the_rob_table_when_no_rating_inputs(landmark):
    """Fallback (e.g. GRADE for NMA rates risk of bias on direct estimates only): the matrix row
    with each study's level from the run's risk_of_bias assessments."""
    from netstrata.present.build.figures import rob_bars
    from netstrata.present.labels import Labels
    data, _, _ = landmark
    s = next(s for s in data["lumped"] if s["outcome"] == "success")
    net = next(x for x in s["layers"] if x["layer"] == s["primary_layer"])["network"]
    bars = dict(rob_bars(data, net, None, Labels(data["labels"]), s["outcome"]))
    assert bars["Exercise programme vs Sham procedure"]["high"] == pytest.approx(0.5)
    assert all(b["not assessed"] == 0 for b in bars.values())


# ----------------------------------------------------------------- lead forest, formatting
def test_lead_forest_shows_certainty_of_each_stratum_and_the_lumped_estimate(landmark):
    data, ctx, _ = landmark
    svg = _plain(ctx.contrasts[0].figures[0].svg)
    assert ">Certainty</text>" in svg
    cervical = data["certainty"]["cervical / whiplash_cervical_facet / success"]["ratings"][0]["rating"]
    assert svg.count(f">{cervical}") + svg.count(f">{cervical} (") >= 2
    lead = ctx.contrasts[0].lead[0]
    assert "Very low certainty" in lead and "lumped network estimate" in lead
    # the pairwise lumped interval (0.48 to 5.39) is not drawn: the one interval is the rated one
    assert "[0.48 to 5.39]" not in svg and "[&lt;0.01 to &gt;1000]" in svg


def test_ratio_bounds_beyond_display_range():
    from netstrata.present._format import fmt_estimate, fmt_num
    assert fmt_num(0.004, ratio=True) == "<0.01" and fmt_num(9446103304.8, ratio=True) == ">1000"
    assert fmt_num(0.004) == "0.00" and fmt_num(296.94, ratio=True) == "296.94"
    assert fmt_estimate(0.06, 0.001, 1.39, ratio=True) == "0.06 (<0.01 to 1.39)"
    assert fmt_num(-0.5, ratio=True) == "\u22120.50"                       # not a ratio: unchanged


def test_forest_estimate_header_leaves_room_for_the_weight():
    """Defect (800 px screenshot): 'Mean difference (95% CI)' ran into 'Weight'."""
    from netstrata.present.svg import char_width
    from netstrata.present.svg_forest import forest_svg
    svg = forest_svg([{"kind": "study", "label": "A", "effect": -0.71, "ci_low": -1.35, "ci_high": -0.06,
                       "weight": 100.0}], measure="MD")
    head = re.search(r'<text x="([\d.]+)"[^>]*>Mean difference \(95% CI\)</text>', svg)
    weight = re.search(r'<text x="([\d.]+)"[^>]*text-anchor="end"[^>]*>Weight</text>', svg)
    end_of_head = float(head.group(1)) + len("Mean difference (95% CI)") * char_width(11.5)
    assert float(weight.group(1)) - len("Weight") * char_width(11.5) > end_of_head


def test_forest_clips_a_huge_prediction_interval_with_arrows():
    from netstrata.present.svg_forest import _limits, forest_svg
    rows = [{"kind": "diamond", "label": "d", "effect": 0.5, "ci_low": 0.0, "ci_high": 1.0},
            {"kind": "prediction", "label": "Prediction interval", "effect": 0.5, "ci_low": -20.0, "ci_high": 21.0}]
    lo, hi = _limits(rows, None)
    assert -2 < lo and hi < 3                               # not stretched to -20 .. 21
    svg = forest_svg(rows, measure="RR")
    assert len(re.findall(r'<polygon[^>]*fill="#c0504d"', svg)) == 2      # the bar's two arrow heads
    small = [{**rows[0]}, {**rows[1], "ci_low": -0.2, "ci_high": 1.2}]
    assert _limits(small, None)[0] < -0.2 and "polygon" not in forest_svg(small, measure="RR").split("[")[0][-300:]


def test_report_from_json_equals_report_from_result_with_layers_and_overrides(variant):
    """run and report give the same bytes (issue 13), here with a non-randomised layer and overrides."""
    data, _, html, result = variant
    assert render_report(build_context(result)) == html


def test_every_view_reads_the_ratings_prediction_interval(simulated):
    """The forest, the SoF, the certainty table and the lead forest show rating["prediction_interval"]
    (the interval judged), not an interval of their own: move it in a copy and every view moves."""
    data, _, _ = simulated
    data = copy.deepcopy(data)
    c = next(c for c in data["stratified_vs_lumped"] if c["lumped_network"] and c["treat2"] == "sham_procedure"
             and len(c["by_stratum"]["diamonds"]) > 1)
    r = next(r for r in data["certainty"][c["lumped_stratum"]]["ratings"]
             if (r["treatment1"], r["treatment2"]) == (c["treat1"], c["treat2"]))
    r["prediction_interval"] = {"low": -1.2345, "high": 0.4321, "used_by": "heterogeneity"}
    text = _nat(c["measure"], -1.2345, 0.4321)
    ctx, html = _report(data)
    lead = next(b for b in ctx.contrasts if b.title == f"{_label(data, c['treat1'])} vs {_label(data, c['treat2'])} "
                f"\u00b7 {data['labels']['outcomes'][c['outcome']]['short']}")
    assert f"[{text}]" in lead.figures[0].svg
    s = next(s for s in data["lumped"] if s["name"] == c["lumped_stratum"])
    sof = _sof_of(data, ctx, s)
    row = list(sof.frame["Comparison"]).index(f"{_label(data, c['treat1'])} vs {_label(data, c['treat2'])}")
    assert sof.frame["Prediction interval"].iloc[row] == text
    table = next(t for t in _certainty_tables(ctx) if t.title.split(": ", 1)[1] == _title_tail(data, s["name"]))
    assert text in _column(table_view(table), "Prediction interval")
    stratum = next(st for st in ctx.strata if st.key == s["name"])
    assert any(f"[{text}]" in f.svg for f in stratum.forests)
    assert html.count(f"[{text}]") >= 2


def test_panel_reasons_are_isolated_for_bidirectional_text(variant):
    """A reason is user text: isolated (FSI ... PDI) inside the footnote sentence."""
    data, ctx, _, _ = variant
    t = next(t for t in _certainty_tables(ctx) if t.title == f"Certainty (CINeMA): {data['labels']['strata'][LUMBAR]['label']}")
    assert any(f"{FSI}{REASON} (decided by guideline panel){PDI}" in n for n in t.notes)
