"""The HTML report in a real browser: Debian's Chromium driven by Playwright for Python (no browser
download: ``executable_path``). On the bundled example (with its multiverse) and the synthetic
hostile context:

* no horizontal scroll at 800 px and 1400 px (nothing wider than the window, no table scrolling);
* no console message, no page error, no request beyond the file itself;
* the print stylesheet gives a PDF (``page.pdf``), table rows are never cut (``break-inside``);
* a right-to-left override in one study name does not reverse the next study's name, in a joined
  cell and in figure labels (positions of the characters as laid out);
* a study called ``<script>alert(1)</script>`` is shown as text, never run;
* every specification curve opens without JavaScript (``<details>``);
* issue 12's views in a real layout (a copy of the example rated with GRADE for NMA, two trials
  recast as non-randomised studies, two panel overrides): traffic lights drawn as coloured
  symbols, certainty tables as cards where their domain columns no longer fit, no overflow at
  800, 1100 (the certainty tables' breakpoint) and 1400 px, and a print PDF.
"""
from __future__ import annotations

import json
import re
import warnings
from importlib import resources

import pytest

pytestmark = pytest.mark.browser

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
EVIL = "Kleef\u202e 1999"          # van Kleef 1999 renamed with a RIGHT-TO-LEFT OVERRIDE inside
NEXT = "van Wijk 2005"


@pytest.fixture(scope="module")
def browser(chromium):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the 'test' extra")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=ARGS)
        yield b
        b.close()


def _variant_project(folder):
    """The example rated with GRADE for NMA, with a non-randomised layer and panel overrides (a
    test fixture, not a claim about the trials)."""
    from .test_data_support import copy_example, recode_designs
    p = copy_example(folder)
    recode_designs(p, ("van Kleef 1999", "van Wijk 2005"), "NRS_comparative")
    with open(p / "netstrata.toml", "a", encoding="utf-8") as f:
        f.write('\n[certainty]\nframework = "grade_nma"\n')
    lumbar = "lumbar / facet_joint_pain / success"
    (p / "certainty-overrides.csv").write_text(
        "stratum,layer,comparison,domain,judgement,reason,decided_by\n"
        f"{lumbar},,RFN_FACET vs exercise_program,imprecision,some,panel threshold,guideline panel\n"
        f"{lumbar},nonrandomised,RFN_FACET:sham_procedure,rating,Very low,sparse observational data,\n",
        encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """report.html of the bundled example (with an RLO in one study name), of the hostile
    synthetic context and of the GRADE-for-NMA variant with layers and overrides."""
    from netstrata.data import load_review
    from netstrata.present import write_report
    from netstrata.present.build import build_context
    from netstrata.present.example import example_context
    from netstrata.synthesis.pipeline import analyse_review

    folder = tmp_path_factory.mktemp("browser")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyse_review(load_review(resources.files("netstrata").joinpath("examples", "spine-landmark")),
                             progress=False, workers=1)
    data = json.loads(res.to_json().replace("van Kleef 1999", EVIL))
    example = write_report(build_context(data), folder / "example.html")
    hostile = write_report(example_context(hostile=True), folder / "hostile.html")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        varied = analyse_review(load_review(_variant_project(folder / "variant")), multiverse=False, progress=False,
                                workers=1)
    variant = write_report(build_context(varied), folder / "variant.html")
    return {"example": example, "hostile": hostile, "variant": variant}


def _open(browser, path, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    log = {"console": [], "errors": [], "requests": []}
    page.on("console", lambda m: log["console"].append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("request", lambda r: log["requests"].append(r.url))
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page, log


_OVERFLOW = """() => {
  const w = window.innerWidth, out = [];
  if (document.documentElement.scrollWidth > w) out.push('document ' + document.documentElement.scrollWidth);
  for (const e of document.querySelectorAll('body *')) {
    const s = getComputedStyle(e);
    if (s.display === 'none' || s.clip !== 'auto' && s.position === 'absolute') continue;
    if (e.closest('details:not([open])') && !e.matches('summary') && e.tagName !== 'DETAILS') continue;
    const r = e.getBoundingClientRect();
    if (r.width && r.right > w + 0.5) out.push(e.tagName + '.' + e.className + ' right=' + Math.round(r.right));
    if (['auto', 'scroll'].includes(s.overflowX) && e.scrollWidth > e.clientWidth + 1)
      out.push(e.tagName + '.' + e.className + ' scrolls');
  }
  return out.slice(0, 10);
}"""


@pytest.mark.parametrize("name", ["example", "hostile", "variant"])
@pytest.mark.parametrize("width", [800, 1100, 1400])
def test_no_horizontal_scroll(browser, pages, name, width):
    page, log = _open(browser, pages[name], width)
    try:
        assert page.evaluate(_OVERFLOW) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        page.close()


@pytest.mark.parametrize("name", ["example", "hostile", "variant"])
def test_no_console_output_errors_or_external_requests(browser, pages, name):
    page, log = _open(browser, pages[name], 1400)
    try:
        for summary in page.locator("details > summary").all()[:5]:   # opening a curve needs no script
            summary.click()
    finally:
        page.close()
    assert log["console"] == [] and log["errors"] == []
    assert log["requests"] == [pages[name].resolve().as_uri()]


def test_console_check_catches_errors(browser, tmp_path):
    """Negative control: the listeners above do see a page's error and an external request."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><img src='http://192.0.2.1/x.png'><script>undefined_function();</script>"
                   "</body></html>", encoding="utf-8")
    page, log = _open(browser, bad, 800)
    page.close()
    assert log["errors"] and any(u.startswith("http://192.0.2.1") for u in log["requests"])


@pytest.mark.parametrize("name", ["example", "variant"])
def test_print_pdf_renders_and_rows_are_not_cut(browser, pages, name):
    page, _ = _open(browser, pages[name], 1400)
    try:
        pdf = page.pdf(format="A4", print_background=True)
        page.emulate_media(media="print")
        styles = page.evaluate("""() => [getComputedStyle(document.querySelector('tbody tr')).breakInside,
                                         getComputedStyle(document.querySelector('figure')).breakInside,
                                         getComputedStyle(document.querySelector('nav.toc')).display]""")
    finally:
        page.close()
    assert pdf[:5] == b"%PDF-" and len(pdf) > 50_000
    pages_in_pdf = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages_in_pdf >= 5
    assert styles == ["avoid", "avoid", "none"]


_HTML_POSITIONS = """(needle) => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const n = walk.currentNode, i = n.data.indexOf(needle);
    if (i < 0 || n.parentElement.closest('svg')) continue;
    const xs = [];
    for (let k = 0; k < needle.length; k++) {
      if (needle[k] === ' ') continue;
      const r = document.createRange(); r.setStart(n, i + k); r.setEnd(n, i + k + 1);
      const b = r.getBoundingClientRect();
      if (b.width) xs.push([b.left, Math.round(b.top)]);
    }
    out.push({text: n.data, xs});
  }
  return out;
}"""
_SVG_POSITIONS = """(needle) => {
  const out = [];
  for (const t of document.querySelectorAll('svg text')) {
    const s = t.textContent, i = s.indexOf(needle);
    if (i < 0 || t.closest('details:not([open])')) continue;
    const xs = [];
    for (let k = 0; k < needle.length; k++)
      if (needle[k] !== ' ') xs.push([t.getStartPositionOfChar(i + k).x, Math.round(t.getStartPositionOfChar(i + k).y)]);
    out.push({text: s, xs});
  }
  return out;
}"""


def _ltr(xs) -> bool:
    """Characters (x, line top) in reading order: left to right within each line, lines top down
    (a name wrapped over two lines is still read left to right)."""
    pairs = list(zip(xs, xs[1:]))
    return len(xs) > 3 and all(b[0] > a[0] if b[1] == a[1] else b[1] > a[1] for a, b in pairs)


def test_rtl_override_does_not_reverse_the_next_name(browser, pages):
    page, _ = _open(browser, pages["example"], 1400)
    try:
        cells = page.evaluate(_HTML_POSITIONS, NEXT)
        figures = page.evaluate(_SVG_POSITIONS, NEXT)
    finally:
        page.close()
    joined = [c for c in cells if EVIL in c["text"]]
    assert joined, "the joined cells holding both names"
    assert all(_ltr(c["xs"]) for c in cells), [c["text"] for c in cells if not _ltr(c["xs"])]
    assert figures and all(_ltr(f["xs"]) for f in figures)


def test_rtl_check_catches_an_unisolated_override(browser, tmp_path):
    """Negative control: without isolation the override does reverse the next name."""
    bad = tmp_path / "rtl.html"
    bad.write_text(f"<html><body><p>{EVIL}; {NEXT}</p><svg width='600' height='40'><text x='10' y='20'>"
                   f"{EVIL}; {NEXT}</text></svg></body></html>", encoding="utf-8")
    page, _ = _open(browser, bad, 800)
    try:
        cells, figures = page.evaluate(_HTML_POSITIONS, NEXT), page.evaluate(_SVG_POSITIONS, NEXT)
    finally:
        page.close()
    assert not _ltr(cells[0]["xs"]) and not _ltr(figures[0]["xs"])


def test_hostile_study_is_text_not_script(browser, pages):
    page, log = _open(browser, pages["hostile"], 1400)
    try:
        scripts = page.evaluate("document.querySelectorAll('script').length")
        text = page.evaluate("document.body.innerText")
    finally:
        page.close()
    assert scripts == 0 and "<script>alert(1)</script>" in text and not log["errors"]


def test_sections_and_strata_in_the_dom(browser, pages):
    page, _ = _open(browser, pages["example"], 1400)
    try:
        h2 = page.evaluate("Array.from(document.querySelectorAll('h2')).map(h => h.innerText.trim())")
        h3 = page.evaluate("Array.from(document.querySelectorAll('h3')).map(h => h.innerText.trim())")
        curves = page.locator("#multiverse details").count()
        summary = page.locator("#multiverse details > summary").first
        summary.click()
        opened = page.locator("#multiverse details").first.locator("svg").is_visible()
    finally:
        page.close()
    for heading in ("At a glance", "Stratified versus lumped", "Summary of findings", "Results by stratum",
                    "Certainty of evidence", "Multiverse", "Known trials and exclusion register", "Methods",
                    "Glossary of codes", "PRISMA-NMA checklist"):
        assert heading in h2, heading
    assert h2.index("Stratified versus lumped") < h2.index("Summary of findings") < h2.index("Methods")
    assert "Lumbar \u00b7 Facet (zygapophysial) joint pain \u00b7 Treatment success" in h3
    assert curves >= 20 and opened


def test_screenshot_is_drawn(browser, pages, tmp_path):
    page, _ = _open(browser, pages["example"], 1400)
    try:
        png = page.screenshot(full_page=False)
    finally:
        page.close()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000


_LIGHTS = """() => Array.from(document.querySelectorAll('#certainty .light')).map(e => {
  const s = getComputedStyle(e), w = e.parentElement.querySelector('.light-word');
  return {cls: e.className, bg: s.backgroundColor, w: e.getBoundingClientRect().width,
          symbol: getComputedStyle(e, '::before').content, word: w.textContent.trim(),
          wordWidth: w.getBoundingClientRect().width};
})"""


@pytest.mark.parametrize("width", [800, 1400])
def test_risk_of_bias_traffic_lights_are_drawn(browser, pages, width):
    """Each judgement is a coloured circle with robvis's symbol; the word is kept for screen
    readers and shown beside the circle in the card layout (800 px)."""
    page, _ = _open(browser, pages["example"], width)
    try:
        lights = page.evaluate(_LIGHTS)
    finally:
        page.close()
    high = [x for x in lights if "tl-high" in x["cls"]]
    some = [x for x in lights if "tl-some" in x["cls"]]
    assert len(high) >= 6 and len(some) >= 10
    assert {x["bg"] for x in high} == {"rgb(214, 39, 40)"} and {x["symbol"] for x in high} == {'"\u00d7"'}
    assert {x["word"] for x in high} == {"High"} and all(abs(x["w"] - 22) < 0.5 for x in lights)
    assert all((x["wordWidth"] > 20) == (width == 800) for x in lights)


_HEADER_SHOWN = """(sel) => Array.from(document.querySelectorAll(sel)).map(
  t => getComputedStyle(t.querySelector('thead')).position !== 'absolute')"""


@pytest.mark.parametrize("width, certainty_rows, other_rows", [(800, False, False), (1100, False, True),
                                                                 (1400, True, True)])
def test_certainty_tables_turn_into_cards_where_their_columns_do_not_fit(browser, pages, width, certainty_rows,
                                                                          other_rows):
    page, _ = _open(browser, pages["variant"], width)
    try:
        cert = page.evaluate(_HEADER_SHOWN, ".tbl.certainty table")
        other = page.evaluate(_HEADER_SHOWN, "#summary-of-findings table")
    finally:
        page.close()
    assert cert and set(cert) == {certainty_rows} and other and set(other) == {other_rows}


def test_variant_shows_grade_domains_overrides_and_layers(browser, pages):
    page, _ = _open(browser, pages["variant"], 1400)
    try:
        text = page.evaluate("document.querySelector('#certainty').innerText")
        sof = page.evaluate("document.querySelector('#summary-of-findings').innerText")
        lead = page.evaluate("document.querySelector('#stratified-vs-lumped svg').textContent")
    finally:
        page.close()
    assert "Certainty (GRADE for NMA)" in text and "Intransitivity" in text and "Publication bias" in text
    assert "Minimally contextualised conclusions" in text and "some concerns (panel)" in text
    assert "panel threshold (decided by guideline panel)" in text and "sparse observational data" in text
    assert "Non-randomised comparative" in sof and "When randomised data are lacking" in sof
    assert "Certainty" in lead and "Very low" in lead
