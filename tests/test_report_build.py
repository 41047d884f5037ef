"""The report built from a run (present.build) on the bundled example: findings first, the
stratified-versus-lumped forest leading the results, a complete summary of findings, labels not
codes, ratio measures back-transformed, one code path for a ProjectResult and its results.json.

Each test names the defect of issue 13 it guards against.
"""
from __future__ import annotations

import json
import math
import re
import warnings
from html.parser import HTMLParser

import pytest

from netstrata.errors import ParameterError
from netstrata.present import render_report
from netstrata.present.build import build_context, report_data
from netstrata.present.tables import table_view

LUMBAR = "lumbar / facet_joint_pain / success"
FSI, PDI = "\u2068", "\u2069"


def _analyse(name: str, multiverse: bool = False, **kw):
    from importlib import resources

    from netstrata.data import load_review
    from netstrata.synthesis.pipeline import analyse_review
    path = resources.files("netstrata").joinpath("examples", name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyse_review(load_review(path), multiverse=multiverse, progress=False, workers=1, **kw)


@pytest.fixture(scope="module")
def result():
    return _analyse("spine-landmark", multiverse=True)


@pytest.fixture(scope="module")
def data(result):
    return json.loads(result.to_json())


@pytest.fixture(scope="module")
def ctx(result):
    return build_context(result)


@pytest.fixture(scope="module")
def html(ctx):
    return render_report(ctx)


class _Text(HTMLParser):
    """Visible text per section id (no <title>, <style>)."""

    def __init__(self):
        super().__init__()
        self.section, self.skip, self.text = None, 0, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and a.get("id") and not a["id"].startswith("stratum-"):
            self.section = a["id"]
        if tag in ("title", "style"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("title", "style"):
            self.skip -= 1

    def handle_data(self, d):
        if not self.skip:
            self.text.setdefault(self.section, []).append(d)


def _sections(html: str) -> dict[str, str]:
    p = _Text()
    p.feed(html)
    return {k: " ".join(v) for k, v in p.text.items()}


def _column(view, header):
    i = view.header.index(header)
    return [row[i].text for row in view.rows]


# ----------------------------------------------------------------- layout: findings first
def test_findings_come_before_configuration(html):
    """Defect: 'the report opens with a configuration dump'."""
    order = [m.group(1) for m in re.finditer(r'<section id="([a-z-]+)">', html)]
    assert order.index("stratified-vs-lumped") < order.index("summary-of-findings") < order.index("strata")
    assert order.index("strata") < order.index("methods")
    sec = _sections(html)
    assert "Analysis settings" in sec["methods"] and "Software versions" in sec["methods"]
    assert "Analysis settings" not in sec["overview"] and "numpy" not in sec["overview"]


def test_stratified_vs_lumped_leads_with_every_study_labelled(ctx, html):
    """Defect: the stratified and lumped estimates 'sit in separate tables pages apart' and the
    lumped forest does not say which region each study comes from."""
    first = ctx.contrasts[0]
    assert first.title == "Facet radiofrequency neurotomy vs Sham procedure \u00b7 Treatment success"
    svg = first.figures[0].svg
    for study, region, tier in (("Lord 1996", "Cervical", "T2"), ("van Kleef 1999", "Lumbar", "TU"),
                                ("van Wijk 2005", "Lumbar", "TU")):
        row = re.search(rf"{FSI}{study}{PDI}</text>(.*?)</text>(.*?)</text>(.*?)</text>", svg)
        assert row is not None, study
        assert region in row.group(1) and tier in row.group(3)
    assert "Lumped (k = 3" in svg and "Lumped network estimate" in svg
    assert "Test for subgroup differences between strata: Q = 2.68, df = 1, p = 0.102; I\u00b2 = 63%." in svg
    assert html.index('id="contrast-') < html.index('id="summary-of-findings"')


def test_contrast_diamonds_are_the_results(result, ctx):
    """The forest draws the stored subgroup results (display rounding only)."""
    c = next(c for c in result.contrasts if (c.treat1, c.treat2, c.outcome) ==
             ("RFN_FACET", "sham_procedure", "success"))
    svg = ctx.contrasts[0].figures[0].svg
    for d in (*c.by_stratum.diamonds, c.lumped):
        text = f"{math.exp(d.estimate):.2f} ({math.exp(d.ci_low):.2f} to {math.exp(d.ci_high):.2f})"
        assert text in svg
    plain = svg.replace(FSI, "").replace(PDI, "")
    assert "favours Facet radiofrequency neurotomy" in plain and "favours Sham procedure" in plain


# ----------------------------------------------------------------- summary of findings
def test_every_stratum_of_the_example_appears_in_the_sof(result, ctx):
    """Defect: 'the summary of findings leaves out every single-study stratum'."""
    titles = [t.title for t in ctx.summary_of_findings]
    labels = result.glossary["strata"]
    for s in result.strata:
        assert labels[s.name]["label"] in titles, s.name
    cervical = next(t for t in ctx.summary_of_findings if t.title.startswith("Cervical \u00b7 Cervical facet pain"))
    view = table_view(cervical)
    assert _column(view, "Effect (95% CI)") == ["7.00 (1.01 to 48.54)"]          # Lord 1996, 7/12 vs 1/12
    assert "Lord 1996" in _column(view, "Evidence")[0]


def test_lumped_rows_come_after_the_strata_and_are_marked(ctx):
    """Defect: the lumped rows were shown 'unmarked as lumped'."""
    titles = [t.title for t in ctx.summary_of_findings]
    lumped = [i for i, t in enumerate(titles) if t.startswith("Lumped")]
    assert lumped and min(lumped) == len(titles) - len(lumped)
    assert all("node level: Procedure family" in titles[i] for i in lumped)


def test_sof_direction_and_statement(result, ctx):
    t = next(t for t in ctx.summary_of_findings if t.title.startswith("Lumbar \u00b7 Facet"))
    view = table_view(t)
    rows = dict(zip(_column(view, "Comparison"), _column(view, "Effect (95% CI)")))
    c = next(c for c in result.stratum(LUMBAR).primary.comparisons if c.treat2 == "sham_procedure"
             and c.treat1 == "RFN_FACET")
    assert rows["Facet radiofrequency neurotomy vs Sham procedure"] == (
        f"{math.exp(c.estimate):.2f} ({math.exp(c.ci_low):.2f} to {math.exp(c.ci_high):.2f})")
    assert all(s.startswith("The evidence is very uncertain") for s in _column(view, "What it means"))
    assert all(s.startswith("High: randomised trials start at High") for s in _column(view, "Starts at"))
    assert any("Heterogeneity" in n or "Indirectness" in n for n in t.notes)     # downgrade footnotes


# ----------------------------------------------------------------- labels, not codes
_CODE = re.compile(r"\b(?:RFN_FACET|RFN_SIJ|PRF_DRG|DISC_PROC|sham_procedure|exercise_program|whiplash_cervical_facet|"
                   r"facet_joint_pain|SIJ_pain|rf_imaging|temperature_C|cramers_v|fidelity_tier|node_level|"
                   # codes the certainty texts of issue 12 carried: effect-modifier columns in intransitivity
                   # flags, domain and framework codes, layer codes
                   r"selection_threshold_pct|selection_control|selection_n_blocks|sham_subtype|within_study_bias|"
                   r"reporting_bias|risk_of_bias|publication_bias|grade_nma|single_arm|nonrandomised)\b")


def test_no_codes_outside_the_glossary(html):
    """Defect: 'Codes everywhere (RFN_FACET, whiplash_cervical_facet, C1, rf_imaging|temperature_C)'
    and API words ('see .not_comparable')."""
    for sid, text in _sections(html).items():
        if sid in ("glossary", "methods"):
            continue
        assert not _CODE.search(text), (sid, _CODE.search(text).group(0))
        assert ".not_comparable" not in text and "see ." not in text
    glossary = _sections(html)["glossary"]
    for code in ("RFN_FACET", "whiplash_cervical_facet", "C1", "rf_imaging"):
        assert code in glossary


def test_fidelity_items_and_checklists_are_labelled(ctx):
    view = table_view(ctx.fidelity[0])
    assert "Lumbar medial branch RF neurotomy" in " ".join(_column(view, "Checklist"))
    assert not any("_" in t for t in _column(view, "Critical items not reported"))


# ----------------------------------------------------------------- counts, multiverse
def test_counts_are_one_source(result, data, html):
    """Defect: 'counts disagree between the CLI and the report (strata 8 vs 11, register rows 17
    vs 19, multiverse 22 of 33 vs 33 of 33)'."""
    from netstrata.cli.run import summary_text
    n = data["counts"]
    assert n == result.counts()
    assert (n["strata"], n["lumped"], n["register_rows"]) == (8, 3, len(data["exclusion_register"]))
    text = summary_text(result)
    facts = _sections(html)["overview"]
    assert f"Strata (region, diagnosis x outcome): {n['strata']} " in text and f"{n['strata']} clinical strata" in facts
    assert f"exclusion register: {n['register_rows']} rows" in text and f"{n['register_rows']} exclusion-register" in facts
    robust = f"{n['multiverse_robust']} of {n['multiverse_comparisons']}"
    assert robust in facts
    assert (f"the primary conclusion holds in every specification for {n['multiverse_robust']} of them" in text)
    assert f"{n['multiverse_robust']} of {n['multiverse_comparisons']} comparisons keep their primary" in html


def test_one_specification_curve_per_comparison_classified_by_the_mid(data, ctx):
    """Defect: 'the multiverse figure classifies by the null, its table by the MID; one
    specification curve is drawn, chosen for the reader'."""
    from netstrata.present.svg_figures import CONCLUSION_COLOURS
    comps = {r["comparison"] for r in data["multiverse"]["curve"]}
    blocks = [b for g in ctx.curves for b in g.blocks]
    assert len(blocks) == len(comps) == data["counts"]["multiverse_comparisons"]
    assert ctx.specification_curve is None                     # no single curve chosen for the reader
    # colours follow the stored MID classification: count dots of each class in one curve
    comp = "all / success : RFN_SIJ vs sham_procedure"
    rows = [r for r in data["multiverse"]["curve"] if r["comparison"] == comp]
    block = next(b for b in blocks if b.title == "SI joint RF vs Sham procedure"
                 and f"({len(rows)} estimates)" in b.lead[0])
    svg = block.figures[0].svg
    for cls in ("benefit", "inconclusive"):
        want = sum(r["conclusion"] == cls and not r["specification"] == 0 for r in rows)
        assert svg.count(f'r="2.8" fill="{CONCLUSION_COLOURS[cls]}"') == want


# ----------------------------------------------------------------- audit, what the letter names
def test_known_trials_and_disagreements_shown(ctx, html):
    known = table_view(ctx.omissions if not isinstance(ctx.omissions, tuple) else ctx.omissions[0])
    assert _column(known, "Study") == ["Lord 1996", "Ghahreman 2010"]
    assert "in the exclusion register" in _column(known, "Status")[1]
    assert "Population mixes acute and chronic pain" in _column(known, "Reasons")[1]
    dis = table_view(ctx.extraction_qc[0])
    rows = {(r[0].text, r[2].text): r for r in dis.rows}
    col = dis.header.index
    lord = rows[("Lord 1996", "selection control")]
    assert (lord[col("Extractor A")].text, lord[col("Extractor B")].text) == ("Placebo-controlled blocks", "unclear")
    assert lord[col("Value used")].text == "Placebo-controlled blocks"
    assert lord[col("Does the estimate change with the other value?")].text.startswith("No")
    kleef = rows[("van Kleef 1999", "events")]          # 6 vs 7 sham events: the estimates move
    assert kleef[col("Does the estimate change with the other value?")].text.startswith("Yes")
    assert set(_column(dis, "Decided by")) == {"not adjudicated"}


def test_rankings_and_contribution_matrix_drawn(ctx):
    lumped = next(s for s in ctx.strata if s.key == "all / success")
    titles = [b.title for b in lumped.blocks]
    assert "Ranking (P-scores, SUCRA and rank intervals)" in titles and "Contribution matrix" in titles
    assert "Contribution of studies by risk of bias" in titles
    assert "Node splitting" not in titles                     # a star-shaped network: no loops


def test_report_from_json_equals_report_from_result(result, html):
    """The report built from results.json is the one run writes, byte for byte."""
    assert render_report(build_context(json.loads(result.to_json()))) == html


def test_report_data_refuses_other_objects():
    with pytest.raises(ParameterError, match="ProjectResult"):
        report_data(42)
    with pytest.raises(ParameterError, match="strata"):
        report_data({"name": "x"})


def test_report_hostile_study_name_is_escaped(data):
    from netstrata.present.example import HOSTILE
    hostile = json.loads(json.dumps(data).replace("Lord 1996", HOSTILE))
    html = render_report(build_context(hostile))
    assert HOSTILE not in html and "<script" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3


def test_joined_user_strings_are_isolated(data):
    """Defect: 'a right-to-left override character in one study name reverses the next study's
    name in a joined cell and in figure labels': every name is wrapped in FSI ... PDI."""
    evil = "Lord\u202e 1996"
    html = render_report(build_context(json.loads(json.dumps(data).replace("van Kleef 1999", evil))))
    assert f"{FSI}{evil}{PDI}" in html
    assert f"{FSI}{evil}{PDI}, {FSI}van Wijk 2005{PDI}" in html or f"{FSI}{evil}{PDI}; {FSI}van Wijk 2005{PDI}" in html
    # every occurrence isolated: FSI ... PDI, or a table cell that is one <bdi> element
    assert "\u202e" not in html.replace(f"{FSI}{evil}{PDI}", "").replace(f"<bdi>{evil}</bdi>", "")


def test_level_is_honoured():
    """Defect: 'netstrata run --level and demo --level' ignored."""
    res = _analyse("spine-landmark", multiverse=False, node_level="wang2025")
    assert res.node_level == "wang2025"
    c = next(c for c in res.contrasts if c.treat1 == "joint_RFA" and c.treat2 == "sham_procedure")
    assert c.n_strata == 3 and c.lumped.k == 4
    with pytest.raises(ParameterError, match="node level"):
        _analyse("spine-landmark", node_level="famly")
