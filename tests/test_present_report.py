"""The HTML report: self-contained, escaped, deterministic, every section optional, and a
PRISMA-NMA checklist whose links all resolve."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from netstrata.errors import ParameterError
from netstrata.present import (Figure, ForestDisplay, Overview, ReportContext, StratumReport, Table,
                               render_report, write_report)
from netstrata.present.example import HOSTILE, example_context
from netstrata.present.prisma import checklist, checklist_items
from netstrata.present.report import SECTIONS

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.srcs, self.tags = set(), [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.add(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])


def _parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def hostile_html():
    return render_report(example_context(hostile=True))


@pytest.fixture(scope="module")
def minimal():
    return ReportContext(overview=Overview(project="P", software={"netstrata": "x"}))


def test_report_sections_have_ids(hostile_html):
    page = _parse(hostile_html)
    for sid, _ in SECTIONS:
        assert sid in page.ids
    assert any(i.startswith("stratum-") for i in page.ids)


def test_report_internal_links_resolve(hostile_html):
    page = _parse(hostile_html)
    assert page.hrefs and all(h.startswith("#") for h in page.hrefs)
    missing = [h for h in page.hrefs if h[1:] not in page.ids]
    assert not missing


def test_report_self_contained_no_scripts_no_external_resources(hostile_html):
    page = _parse(hostile_html)
    assert "script" not in page.tags
    assert all(s.startswith("data:image/") for s in page.srcs)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", hostile_html, re.I)
    assert "@import" not in hostile_html and "url(http" not in hostile_html
    assert "<link" not in hostile_html and "<iframe" not in hostile_html


def test_report_user_strings_escaped_everywhere(hostile_html):
    assert HOSTILE not in hostile_html
    # project title, study tables (fidelity, exclusions, QC, single study) and the forest plot SVG
    assert hostile_html.count(ESCAPED) >= 6


def test_report_deterministic():
    a, b = render_report(example_context()), render_report(example_context())
    assert a == b


def test_report_png_figures(tmp_path):
    ctx = ReportContext(overview=Overview(project="P", software={}),
                        strata=(StratumReport(name="S", forests=(_forest(),), network=Figure(png_base64="iVBORw0K")),))
    html = render_report(ctx, figure_format="png")
    assert html.count('src="data:image/png;base64,') == 2 and "<svg" not in html
    path = write_report(ctx, tmp_path / "r.html", figure_format="png")
    assert path.read_text(encoding="utf-8") == html


def _forest():
    return ForestDisplay(pd.DataFrame({"label": ["a", "b"], "effect": [0.1, 0.2], "ci_low": [0.0, 0.1],
                                       "ci_high": [0.2, 0.3]}))


def test_report_minimal_context_renders_every_section_as_absent(minimal):
    html = render_report(minimal)
    page = _parse(html)
    for sid, _ in SECTIONS:
        assert sid in page.ids
    assert "No strata were analysed" in html and "No certainty ratings" in html
    # PRISMA pointers only to sections with content
    items = re.findall(r'<a href="#([a-z-]+)">', html.split('id="prisma-nma"')[1])
    assert set(items) <= {"overview", "methods"}   # methods always holds settings and versions


def test_report_stratum_without_network_says_so():
    st = StratumReport(name="Cervical", no_network_reason="one study",
                       single_study=Table(pd.DataFrame({"study": ["Lord 1996"], "effect": [1.2345678]})))
    html = render_report(ReportContext(overview=Overview(project="P", software={}), strata=(st,)))
    assert "No network could be formed." in html and "One study." in html
    assert "1.23" in html and "1.2345678" not in html                       # rounded for display only


def test_report_stratum_anchors_unique():
    sts = (StratumReport(name="a/b"), StratumReport(name="a b"), StratumReport(name="x", key="a-b"))
    page = _parse(render_report(ReportContext(overview=Overview(project="P", software={}), strata=sts)))
    assert {"stratum-a-b", "stratum-a-b-2", "stratum-a-b-3"} <= page.ids


def test_report_certainty_badges(hostile_html):
    cert = hostile_html.split('id="certainty"')[1].split("</section>")[0]
    assert 'class="badge b-bad"><bdi>major concerns' in cert
    assert 'class="badge b-na"><bdi>not assessable' in cert
    assert "b-verylow" in cert and "b-low" in cert


def test_report_methods_citations_listed(hostile_html):
    methods = hostile_html.split('id="methods"')[1].split("</section>")[0]
    assert "doi:10.7326/M14-2385" in methods and "doi:10.1002/sim.5453" in methods


@pytest.mark.parametrize("bad", ['<svg><script>alert(1)</script></svg>', '<svg onload="alert(1)"></svg>',
                                 '<div>not svg</div>', '<svg><a href="javascript:alert(1)">x</a></svg>'])
def test_figure_refuses_unsafe_svg(bad):
    with pytest.raises(ParameterError):
        Figure(svg=bad)


def test_figure_needs_exactly_one_format():
    with pytest.raises(ParameterError):
        Figure()
    with pytest.raises(ParameterError):
        Figure(svg="<svg></svg>", png_base64="AAAA")
    with pytest.raises(ParameterError):
        Figure(png_base64="<img onerror=x>")
    assert Figure(svg='<svg><text>onset = 3 days</text></svg>').svg  # text content is fine


def test_render_report_validates_arguments(minimal):
    with pytest.raises(ParameterError, match="ReportContext"):
        render_report({"overview": None})
    with pytest.raises(ParameterError, match="figure_format"):
        render_report(minimal, figure_format="pdf")
    with pytest.raises(ParameterError, match="StratumReport"):
        render_report(ReportContext(overview=Overview(project="P"), strata=("x",)))


def test_report_overview_software_and_plan():
    ov = Overview(project="P", plan={"MID": 1.5, "model": "random"}, fingerprint="abc123")
    html = render_report(ReportContext(overview=ov))
    assert "abc123" in html and "1.50" in html and "numpy" in html and np.__version__ in html


# ----------------------------------------------------------------------------- PRISMA-NMA
def test_prisma_checklist_has_32_items():
    c = checklist()
    assert len(c) == 32
    assert list(c["item"][c["item"].str.startswith("S")]) == ["S1", "S2", "S3", "S4", "S5"]
    assert sorted(int(i) for i in c["item"] if i.isdigit()) == list(range(1, 28))
    assert set(c["name_status"]) == {"V", "U"}
    assert set(c.loc[c["item"].isin(["S2", "S3", "S4", "S5"]), "name_status"]) == {"U"}   # from memory
    assert c.set_index("item").loc["S1", "topic"] == "Geometry of the network"
    assert c.set_index("item").loc["6", "topic"] == "Eligibility criteria"


def test_prisma_pointers_only_to_known_sections():
    known = {sid for sid, _ in SECTIONS}
    for sections in checklist()["sections"]:
        assert set(sections.split()) <= known


def test_prisma_items_filtered_by_present_sections_and_notes():
    items = {i.item: i for i in checklist_items({"methods"}, {"27": "Funded by nobody"})}
    assert items["14"].sections == ("methods",) and items["S3"].sections == ()
    assert items["27"].addressed and items["27"].note == "Funded by nobody"
    assert not items["1"].addressed


def test_report_prisma_unverified_names_marked(hostile_html):
    prisma = hostile_html.split('id="prisma-nma"')[1]
    assert prisma.count('class="unverified"') == int((checklist()["name_status"] == "U").sum())


# ----------------------------------------------------------------------------- real certainty results
@pytest.fixture(scope="module")
def certainty_table():
    import warnings

    from netstrata.certainty.network import rate_network

    from .test_nma_data import fit

    f = fit("senn2013")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f, rate_network(f, measure="MD", mid=0.5, rob={s: 1 + i % 3 for i, s in enumerate(f.studies)})


def test_report_certainty_table_from_rate_network(certainty_table):
    _, table = certainty_table
    t = Table.of(table)
    assert t.measure == "MD" and t.index
    html = render_report(ReportContext(overview=Overview(project="P", software={}), certainty=t))
    cert = html.split('id="certainty"')[1].split("</section>")[0]
    n_badges = cert.count('class="badge ')
    assert n_badges == 7 * len(table)                  # six domains and the rating, every comparison
    for r in table.ratings[:5]:
        assert r.comparison in cert


def test_forest_accepts_certainty_mid_zone(certainty_table):
    f, table = certainty_table
    d = ForestDisplay.from_network(f, measure="MD", mid_zone=table.zone)
    assert d.mid_zone == (table.zone.low, table.zone.high)
